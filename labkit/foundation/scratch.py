"""Scratch folders that do not outlive the work they serve.

A download unpacks into a scratch folder beside its destination (same file system, so the
verified files are renamed into place, never copied). The folder is removed when the work ends,
fails, is interrupted (Ctrl-C) or is terminated (SIGTERM, SIGHUP: turned into
`KeyboardInterrupt` for the duration, so ``finally`` blocks run). A ``kill -9`` runs no code at
all, so whatever such a run left behind is removed by the next run, at the latest: each run
holds an exclusive lock on ``.<name>.lock`` in the folder (released by the kernel however the
process ends), and whoever takes the lock knows that any scratch folder or ``.part`` file still
there belongs to a dead run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import threading
from pathlib import Path
from typing import Iterable, Iterator

__all__ = ["scratch_folder", "terminate_as_interrupt"]


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """While inside, SIGTERM and SIGHUP raise `KeyboardInterrupt` (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"terminated by signal {signal.Signals(signum).name}")

    previous = {}
    for name in ("SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is not None:
            previous[sig] = signal.signal(sig, interrupt)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock, the sweep still runs
        yield
        return
    with open(lock_path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _sweep(folder: Path, name: str, stale: Iterable[str]) -> None:
    for pattern in (f".{name}-*", *stale):
        for leftover in folder.glob(pattern):
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)


@contextlib.contextmanager
def scratch_folder(folder: str | os.PathLike, name: str, *, stale: Iterable[str] = ()) -> Iterator[Path]:
    """A fresh folder ``<folder>/.<name>-XXXX/`` for the duration of the ``with`` block.

    Before it is made, leftovers of earlier runs that were killed (``.<name>-*`` folders and the
    files matching the glob patterns in ``stale``, e.g. ``.*.part``) are removed, under the lock
    that also keeps two runs from sharing ``folder``. It is removed on every way out of the block,
    including SIGTERM and SIGHUP.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with terminate_as_interrupt(), _exclusive(folder / f".{name}.lock"):
        _sweep(folder, name, stale)
        scratch = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=folder))
        try:
            yield scratch
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
