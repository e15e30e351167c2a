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
is refused instead of executed (and no message ever advises ``weights_only=False``).
`read_json` names the file when it is not valid JSON; `read_json_record` also checks that it
is an object with the entries and types a reader needs. `check_finite` refuses tensors with NaN
or infinite values (a diverged network gives plausible-looking numbers otherwise), and
`load_state_dict` is the loader of a saved ``state_dict`` (``model.pt``): names to tensors, all
finite.

**Full disks.** Every write names its target when it fails (``No space left on device`` alone
does not say where), and `check_free_space` refuses before the work starts when the folder
has less than `MIN_FREE_BYTES` left.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import IO, Any, Callable

from .errors import LabkitError

__all__ = ["MIN_FREE_BYTES", "check_finite", "check_free_space", "check_regular_file", "file_mode", "load_state_dict",
           "load_torch", "read_json", "read_json_record", "save_torch", "write_atomic", "write_bytes", "write_json",
           "write_text"]

#: The least free space a folder must have before a command starts writing there (64 MiB: a checkpoint of the
#: paper's network is ~5 MB, a deploy bundle ~1 MB, a run folder ~2 MB).
MIN_FREE_BYTES = 64 * 2**20


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
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    except OSError as exc:
        raise _named(exc, path) from exc
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
    except OSError as exc:
        raise _named(exc, path) from exc
    except LabkitError:  # a failed check (a checksum) says what it found
        raise
    except RuntimeError as exc:  # torch.save wraps the writer's OSError in its own RuntimeError
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, OSError) or "No space left" in str(exc):
            raise _named(cause if isinstance(cause, OSError) else OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)),
                         path) from exc
        raise
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_folder(path.parent)
    return path


def _named(exc: OSError, path: Path) -> OSError:
    """``exc`` with the file it was writing named (an OSError from inside a writer often names none)."""
    if exc.errno == errno.ENOSPC:
        return OSError(errno.ENOSPC, f"no space left on the device of {path.parent} while writing {path.name}; "
                                     "free some space there or pass another output path", str(path))
    if exc.filename:
        return exc
    return type(exc)(exc.errno, exc.strerror or str(exc), str(path)) if exc.errno else OSError(
        errno.EIO, f"{exc} while writing", str(path))


def check_free_space(folder: str | os.PathLike, what: str, minimum: int = MIN_FREE_BYTES) -> None:
    """`LabkitError` when the nearest existing folder of ``folder`` has less than ``minimum`` bytes free, before
    a long run that would fail only when it writes its results (``what`` names the option or file)."""
    folder = Path(folder)
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return
    if free < minimum:
        raise LabkitError(f"{what}: only {free / 2**20:.1f} MiB free in {folder}, less than the "
                          f"{minimum / 2**20:.0f} MiB this command needs to write its results; free some space "
                          "there or pass a path on another disk")


def check_regular_file(path: str | os.PathLike, what: str = "file") -> Path:
    """``path`` if it is a regular file (after following links); `LabkitError` for a FIFO, socket, device or
    folder, which would block or mislead a reader, before anything opens it. A missing file is left to the
    caller (`FileNotFoundError` when it opens it)."""
    import stat

    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return path
    if not stat.S_ISREG(mode):
        kind = ("a folder" if stat.S_ISDIR(mode) else "a FIFO (named pipe)" if stat.S_ISFIFO(mode)
                else "a socket" if stat.S_ISSOCK(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
                else "not a regular file")
        raise LabkitError(f"{what} {path} is {kind}, not a regular file: remove it (or put the real file there) "
                          "and try again")
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
    check_regular_file(path, what)
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
    except (RuntimeError, EOFError, OSError, ValueError, KeyError, AttributeError, IndexError, TypeError) as exc:
        raise LabkitError(f"{what} {path} is damaged or not a torch file ({_torch_reason(exc)}); write it again "
                          "with labkit, or pass another file") from exc


def _torch_reason(exc: BaseException) -> str:
    """torch's reason in one line, without its advice to load with ``weights_only=False`` (which runs the file)."""
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if "weights_only" in first or "weights only" in first.lower() or len(first) > 200:
        return f"{type(exc).__name__}: torch cannot read it as tensors and plain data"
    return first


def check_finite(tensors: Any, source: str) -> None:
    """`LabkitError` naming ``source`` and the entry when a tensor in ``tensors`` (a tensor, or a dict or list
    of them, nested) holds NaN or infinite values: such a network gives plausible-looking but meaningless
    numbers (NaN spikes as class 0), so it is refused wherever it is loaded or evaluated."""
    import torch

    def walk(value, name):
        if torch.is_tensor(value):
            if value.is_floating_point() or value.is_complex():
                bad = int((~torch.isfinite(value)).sum())
                if bad:
                    raise LabkitError(
                        f"{source}: {name or 'the tensor'} holds {bad} NaN or infinite value{'s' if bad > 1 else ''} "
                        f"of {value.numel()}: the network diverged or the file is damaged. Retrain it (with a "
                        "smaller learning rate) or pass another file")
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{name}.{key}" if name else str(key))
        elif isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                walk(item, f"{name}[{i}]")

    walk(tensors, "")


def load_state_dict(path: str | os.PathLike, *, what: str = "model", map_location: Any = "cpu") -> dict:
    """The one loader of a saved ``state_dict`` (``model.pt``): safe (`load_torch`), a dict of names to tensors,
    every tensor finite; `LabkitError` naming the file and what to do otherwise."""
    import torch

    state = load_torch(path, map_location=map_location, what=what)
    if not isinstance(state, dict) or not state:
        raise LabkitError(f"{what} {path} holds {_a_kind(state)}, not a state_dict (names to tensors): save one with "
                          "torch.save(model.state_dict(), path)")
    wrong = [str(k) for k, v in state.items() if not isinstance(k, str) or not torch.is_tensor(v)]
    if wrong:
        raise LabkitError(f"{what} {path} is not a state_dict of tensors (entries {', '.join(wrong[:5])} are not "
                          "named tensors): save one with torch.save(model.state_dict(), path)")
    check_finite(state, f"{what} {path}")
    return state


def _a_kind(value: Any) -> str:
    name = type(value).__name__
    if isinstance(value, dict) and not value:
        return "an empty dict"
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def read_json(path: str | os.PathLike, *, what: str = "file") -> Any:
    """``json.loads`` of a file; a damaged file raises `LabkitError` naming it."""
    path = check_regular_file(path, what)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise LabkitError(f"{what} {path} is not a text file ({exc.reason} at byte {exc.start}): delete it and "
                          "write it again") from exc
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise LabkitError(f"{what} {path} is not valid JSON ({exc}): it may be truncated; delete it and "
                          "write it again") from exc


_JSON_KINDS = {str: "a string", int: "an integer", float: "a number", bool: "true or false", list: "a list",
               dict: "an object"}


def read_json_record(path: str | os.PathLike, *, what: str = "file", required: dict | None = None,
                     optional: dict | None = None) -> dict:
    """The one loader of the lab's JSON records (history, eval, config): `read_json`, then a JSON object whose
    ``required`` entries are present and whose ``required`` and ``optional`` entries have the given types
    (``name → type or tuple of types``; ``float`` admits integers, never true/false; a number must be
    finite). `LabkitError` naming the file, the entry and what to do otherwise."""
    import math

    data = read_json(path, what=what)
    if not isinstance(data, dict):
        raise LabkitError(f"{what} {path} holds {_a_kind(data)}, not a JSON object of named entries: it was not "
                          "written by labkit or is damaged; delete it and write it again")
    for table, must in ((required or {}, True), (optional or {}, False)):
        for key, kinds in table.items():
            if key not in data:
                if must:
                    raise LabkitError(f"{what} {path} has no {key!r} entry: it was not written by this labkit or is "
                                      "damaged; delete it and write it again")
                continue
            kinds = kinds if isinstance(kinds, tuple) else (kinds,)
            value = data[key]
            ok = any(_is_kind(value, k) for k in kinds)
            if ok and isinstance(value, float) and not math.isfinite(value):
                ok = False
            if not ok:
                wanted = " or ".join(_JSON_KINDS.get(k, "null" if k is type(None) else k.__name__) for k in kinds)
                raise LabkitError(f"{what} {path}: entry {key!r} must be {wanted}, got {value!r}: the file is "
                                  "damaged or from another version; delete it and write it again")
    return data


def _is_kind(value: Any, kind: type) -> bool:
    if isinstance(value, bool):
        return kind is bool
    if kind is float:
        return isinstance(value, (int, float))
    return isinstance(value, kind)
