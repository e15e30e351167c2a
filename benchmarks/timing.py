"""Wall-clock timing shared by the benchmark scripts (run them as `python benchmarks/<script>.py`)."""

from __future__ import annotations

import time
from typing import Callable, Hashable

import torch


def timed(step: Callable[[], None], device: torch.device) -> float:
    """Seconds one call of ``step`` takes, synchronising CUDA before and after so queued work counts."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start


def interleave(steps: dict[Hashable, Callable[[], object]], repeats: int, warmup: int,
               device: torch.device) -> dict[Hashable, list[float]]:
    """Run every variant ``warmup`` times untimed, then ``repeats`` rounds of A B C …; seconds per call.

    Interleaved rounds let a change in machine load hit every variant alike.
    """
    for _ in range(warmup):
        for step in steps.values():
            step()
    times: dict[Hashable, list[float]] = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            times[name].append(timed(step, device))
    return times
