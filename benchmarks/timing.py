"""Wall-clock timing shared by the benchmark scripts (run them as `python benchmarks/<script>.py`)."""

from __future__ import annotations

import time
from typing import Callable

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
