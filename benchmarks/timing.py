"""Timing shared by the benchmark scripts (run them as `python benchmarks/<script>.py`).

Each call is timed twice: wall-clock seconds, and the process's CPU seconds (`time.process_time`,
all threads). On a machine shared with other jobs the wall time also counts the waits for a free
core; the CPU time counts only the work (with one thread, the work of that thread). The scripts'
common options (repeats, warmup, batch, device, threads) are added and checked here too.
"""

from __future__ import annotations

import argparse
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


def add_timing_arguments(parser: argparse.ArgumentParser, *, repeats: int, warmup: int, per: str,
                         batch: bool = False) -> None:
    """``--repeats`` and ``--warmup`` (counted in ``per``, e.g. "steps per rule"), with ``batch`` also
    ``--batch`` and ``--device``, then ``--threads``: the options every timing script takes."""
    parser.add_argument("--repeats", type=int, default=repeats, help=f"timed {per} (default {repeats})")
    parser.add_argument("--warmup", type=int, default=warmup, help=f"untimed {per} first (default {warmup})")
    if batch:
        parser.add_argument("--batch", type=int, default=128, help="batch size (paper: 128)")
        parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")


def apply_timing_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse counts that cannot be timed (argparse's usage error) and set torch's CPU threads."""
    if args.repeats < 1 or args.warmup < 0 or getattr(args, "batch", 1) < 1:
        parser.error(f"--repeats{' and --batch' if hasattr(args, 'batch') else ''} must be >= 1, --warmup >= 0")
    if args.threads is not None:
        torch.set_num_threads(args.threads)
