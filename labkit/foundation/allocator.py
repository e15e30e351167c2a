"""Keep freed memory in the process instead of returning it to the operating system (opt-in).

labkit never calls this itself: it changes glibc's malloc settings for the whole process (a
Jupyter kernel included), so a script or benchmark that wants it calls it once at its start::

    from labkit.foundation.allocator import keep_freed_memory
    keep_freed_memory()  # True where it took effect (glibc on Linux)

A training step allocates and frees tensors of several megabytes (the T·B × 500 currents,
membranes and spikes). glibc's malloc serves blocks that large with fresh ``mmap`` pages and
hands them back on ``free``, so every step pays a page fault for each 4 KiB it touches. On the
virtual machine of benchmarks/results.md that costs labkit's training step about 5 % and the
snnTorch tutorial step 13 % (``bench_training.py --system-malloc``). Raising glibc's
mmap and trim thresholds (``mallopt``, see ``man 3 mallopt``) keeps the blocks for reuse; the
price is that the process holds on to its peak memory until it exits. The mmap threshold cannot
go above 32 MiB, and inference on a batch of 1,000 digits allocates tensors of 50–80 MB (the
T·B × 500 currents, membranes and spikes, the T·B × 784 input spikes), so ``M_MMAP_MAX = 0``
also serves those from the heap (each fresh 50 MB block otherwise costs some 12,000 page
faults per use; ``bench_training.py --system-malloc`` shows the difference). Intel's guide to
PyTorch on CPUs recommends a caching allocator (jemalloc, tcmalloc) for the same reason.

Elsewhere (macOS, Windows, musl) this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

__all__ = ["keep_freed_memory"]

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_MMAP_MAX = -1, -3, -4
_MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's largest allowed value (64-bit): blocks up to 32 MiB from the heap
_TRIM_THRESHOLD = 1024 * 1024 * 1024  # give memory back only when 1 GiB lies free at the top of the heap
_applied: bool | None = None


def keep_freed_memory() -> bool:
    """Tell glibc to keep freed blocks for reuse (once per process); True when it took effect."""
    global _applied
    if _applied is None:
        _applied = False
        if sys.platform.startswith("linux"):
            try:
                libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
                mallopt = libc.mallopt
            except (OSError, AttributeError):  # not glibc
                return False
            mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
            _applied = (bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD))
                        and bool(mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD))
                        and bool(mallopt(_M_MMAP_MAX, 0)))  # no block from mmap, however large
    return _applied
