"""Timing shared by the benchmark scripts (run them as `python benchmarks/<script>.py`).

Each call is timed twice: wall-clock seconds, and the process's CPU seconds (`time.process_time`,
all threads). On a machine shared with other jobs the wall time also counts the waits for a free
core; the CPU time counts only the work (with one thread, the work of that thread).
"""

from __future__ import annotations

import time
from typing import Callable, Hashable

import torch


def timed(step: Callable[[], None], device: torch.device) -> float:
    """Seconds one call of ``step`` takes, synchronising CUDA before and after so queued work counts."""
    return timed_both(step, device)[0]


def timed_both(step: Callable[[], None], device: torch.device) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one call of ``step`` (CUDA synchronised as in `timed`)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start, cpu_start = time.perf_counter(), time.process_time()
    step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start, time.process_time() - cpu_start


def interleave(steps: dict[Hashable, Callable[[], object]], repeats: int, warmup: int,
               device: torch.device, cpu_times: dict[Hashable, list[float]] | None = None
               ) -> dict[Hashable, list[float]]:
    """Run every variant ``warmup`` times untimed, then ``repeats`` rounds of A B C …; wall seconds per call.

    Interleaved rounds let a change in machine load hit every variant alike. ``cpu_times``, when
    given, receives the CPU seconds of the same calls (name → list).
    """
    for _ in range(warmup):
        for step in steps.values():
            step()
    times: dict[Hashable, list[float]] = {name: [] for name in steps}
    if cpu_times is not None:
        cpu_times.update({name: [] for name in steps})
    for _ in range(repeats):
        for name, step in steps.items():
            wall, cpu = timed_both(step, device)
            times[name].append(wall)
            if cpu_times is not None:
                cpu_times[name].append(cpu)
    return times
