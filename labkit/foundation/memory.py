"""A memory budget for work whose size a slider or an argument decides.

An interactive view asked for something enormous (a contrast threshold of 10⁻⁶ makes an event
camera emit billions of events; a million time steps of a rate code) would otherwise grow until
the kernel is killed. The view estimates what it will allocate and calls `check_memory` first;
over the budget it raises `MemoryBudgetError` saying how much, and what to change.

The budget: ``$LABKIT_MEMORY_BUDGET_MB`` if set, else a quarter of the memory available now,
at most 2 GiB (a view should answer in seconds; work that needs more is a script's job).
"""

from __future__ import annotations

import os

from .errors import LabkitError

__all__ = ["MemoryBudgetError", "check_memory", "memory_budget"]

_CAP = 2 * 2**30
_FALLBACK_AVAILABLE = 4 * 2**30  # where the available memory cannot be read


class MemoryBudgetError(LabkitError):
    """Work that would allocate more than `memory_budget` bytes (refused before it starts)."""


def _available_bytes() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return _FALLBACK_AVAILABLE


def memory_budget() -> int:
    """Bytes one view may allocate: ``$LABKIT_MEMORY_BUDGET_MB``, else min(2 GiB, available / 4)."""
    setting = os.environ.get("LABKIT_MEMORY_BUDGET_MB")
    if setting:
        try:
            megabytes = float(setting)
        except ValueError:
            raise LabkitError(f"LABKIT_MEMORY_BUDGET_MB must be a number of megabytes, got {setting!r}") from None
        if not megabytes > 0:
            raise LabkitError(f"LABKIT_MEMORY_BUDGET_MB must be > 0, got {setting!r}")
        return int(megabytes * 2**20)
    return min(_CAP, _available_bytes() // 4)


def _size(nbytes: float) -> str:
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if nbytes >= scale:
            return f"{nbytes / scale:.3g} {unit}"
    return f"{nbytes:.0f} B"


def check_memory(nbytes: float, what: str, remedy: str) -> None:
    """Raise `MemoryBudgetError` if ``nbytes`` (an estimate) exceeds the budget.

    ``what`` names the work ("the events of this digit at C = 1e-06"), ``remedy`` the change
    that makes it smaller ("raise the contrast threshold C").
    """
    budget = memory_budget()
    if nbytes > budget:
        raise MemoryBudgetError(
            f"{what} would need about {_size(nbytes)} of memory, more than the {_size(budget)} this view may use: "
            f"{remedy} (or raise LABKIT_MEMORY_BUDGET_MB)"
        )
