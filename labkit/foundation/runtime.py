"""Where and how a run computes: the device, the CPU thread count and the lab's fast mode.

* `resolve_device`: ``"auto"`` picks CUDA when a GPU is present, else the CPU; any other name
  is checked, so a wrong one fails before the work starts.
* `cpu_threads`: a block run with a given number of CPU threads, restored afterwards.
* `fast_mode`: ``LABKIT_FAST=1`` makes chapters and tests use small subsets.
* `env_flag`: the one reading of a yes/no environment variable (``1/yes/on/true`` or
  ``0/no/off/false/''``, any case); anything else is an error that names the variable.
"""

from __future__ import annotations

import contextlib
import os
from typing import Iterator

import torch

from .errors import LabkitError

__all__ = ["cpu_threads", "env_flag", "fast_mode", "resolve_device"]


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` → CUDA when available, else CPU; otherwise validated ``torch.device``."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise LabkitError(f"unknown device {device!r}: use 'auto', 'cpu' or 'cuda'") from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise LabkitError("device 'cuda' requested but no CUDA GPU is available: use 'auto' or 'cpu'")
    return resolved


@contextlib.contextmanager
def cpu_threads(device: torch.device, threads: int | None = 1) -> Iterator[None]:
    """Run a block with ``threads`` CPU threads (None: unchanged), restoring the count afterwards.

    For work made of many small tensor operations (the competitive layer: a loop over time, one
    update per batch), where on a busy CPU the synchronisation of a thread pool costs more than
    it saves. Measured on a loaded two-core machine: a row-wise max of a 32 × 500 tensor took
    20 ms with two threads and 0.1 ms with one; 3,000 competitive training images took 38 s with
    two threads, 9 s with one.
    """
    before = torch.get_num_threads()
    if device.type != "cpu" or threads is None or threads == before:
        yield
        return
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


#: The spellings of a yes/no environment variable (compared without case and surrounding blanks).
TRUE_WORDS = ("1", "yes", "on", "true")
FALSE_WORDS = ("0", "no", "off", "false", "")


def env_flag(name: str, default: bool = False) -> bool:
    """The yes/no environment variable ``name``: ``default`` when unset; ``1``, ``yes``, ``on``, ``true`` are
    true and ``0``, ``no``, ``off``, ``false`` and the empty string false (any case). Anything else raises
    `LabkitError` naming the variable and the words it takes, rather than guessing."""
    value = os.environ.get(name)
    if value is None:
        return default
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise LabkitError(f"environment variable {name}={value!r} is neither yes nor no: set it to 1, yes, on or true, "
                      "or to 0, no, off or false (or unset it)")


def fast_mode() -> bool:
    """True when ``LABKIT_FAST`` is set to a yes (`env_flag`): chapters and tests then use small subsets so each
    runs in seconds."""
    return env_flag("LABKIT_FAST")
