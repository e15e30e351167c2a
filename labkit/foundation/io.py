"""The one atomic writer and the safe loaders.

**Writing.** `write_atomic` writes under a temporary name beside the target, flushes and
fsyncs it, gives it the mode an ordinary new file would get (0666 less the umask: 0644 under the
usual umask 022, so a shared data folder stays readable) and renames it over the target. A
reader, or a crash, never sees a half-written file under the final name: it finds the old file
or the new one. `write_bytes`, `write_text`, `write_json` and `save_torch` are the shapes the lab
needs; an optional ``check`` runs on the finished temporary file before the rename (a download's
checksum), so nothing unverified is ever renamed into place.

**Reading.** `load_torch` reads checkpoints and models with ``torch.load(weights_only=True)``:
only tensors and plain data (dicts, lists, numbers, strings) are accepted, so a crafted pickle
is refused instead of executed. `read_json` names the file when it is not valid JSON.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import IO, Any, Callable

from .errors import LabkitError

__all__ = ["file_mode", "load_torch", "read_json", "save_torch", "write_atomic", "write_bytes", "write_json",
           "write_text"]


def _umask() -> int:
    try:  # Linux ≥ 4.7 reports it without changing it
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    current = os.umask(0o022)
    os.umask(current)
    return current


def file_mode() -> int:
    """The permission bits a newly created file gets in this process: 0o666 less the umask."""
    return 0o666 & ~_umask()


def write_atomic(
    path: str | os.PathLike,
    write: Callable[[IO], None],
    *,
    binary: bool = True,
    check: Callable[[Path], None] | None = None,
) -> Path:
    """Call ``write(file)`` on a temporary file beside ``path``, fsync it, then rename it to ``path``.

    ``check(temporary_path)``, if given, runs on the complete temporary file before the rename;
    an exception from it leaves ``path`` as it was. Returns ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, file_mode())  # mkstemp creates 0600; a written file should read like any other
        if check is not None:
            check(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_folder(path.parent)
    return path


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    return write_atomic(path, lambda f: f.write(data))


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return write_atomic(path, lambda f: f.write(text), binary=False)


def write_json(path: str | os.PathLike, obj: Any, *, indent: int = 1) -> Path:
    """Write ``obj`` as JSON to ``path`` atomically."""
    return write_atomic(path, lambda f: json.dump(obj, f, indent=indent), binary=False)


def save_torch(path: str | os.PathLike, obj: Any) -> Path:
    """``torch.save(obj)`` to ``path`` atomically (keep ``obj`` to tensors and plain data: `load_torch`)."""
    import torch

    return write_atomic(path, lambda f: torch.save(obj, f))


def load_torch(path: str | os.PathLike, *, map_location: Any = "cpu", what: str = "checkpoint") -> Any:
    """Read a file written by `save_torch` (or ``torch.save``), accepting only tensors and plain data.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        LabkitError: the file is not a torch file, is damaged, or holds other objects (a pickle
            that would run code when loaded is refused, never executed).
    """
    import pickle

    import torch

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} {path} does not exist: check the path")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        if "GLOBAL" not in str(exc):  # torch names the blocked global of a crafted pickle; anything else is noise
            raise LabkitError(f"{what} {path} is damaged or not a torch file (its bytes are no pickle torch can "
                              "read); pass the file labkit wrote, or write it again") from exc
        raise LabkitError(
            f"{what} {path} holds objects other than tensors and plain data, so it was not loaded (loading it "
            "could run code). Use a file written by labkit, or re-save its tensors with torch.save(state_dict)."
        ) from exc
    except (RuntimeError, EOFError, OSError, ValueError, KeyError, AttributeError) as exc:
        raise LabkitError(f"{what} {path} is damaged or not a torch file ({exc}); write it again") from exc


def read_json(path: str | os.PathLike, *, what: str = "file") -> Any:
    """``json.loads`` of a file; a damaged file raises `LabkitError` naming it."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise LabkitError(f"{what} {path} is not valid JSON ({exc}): it may be truncated; delete it and "
                          "write it again") from exc
