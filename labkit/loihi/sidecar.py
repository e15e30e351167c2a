r"""Where Lava runs, and the one protocol by which the lab runs a function there (`in_lava`).

lava-nc 0.10 imports only in Python 3.10 with numpy < 2. Where ``import lava`` works (the conda
environment) the lab calls Lava in this interpreter; otherwise in the sidecar interpreter
(``$LABKIT_LAVA_PYTHON`` or ``.venv-lava/bin/python``) as ``python -m labkit.loihi.sidecar FOLDER``.
FOLDER/calls.npz names the function (a ``labkit`` function by module and name; a notebook's by its
source, written to a module file there, since Lava needs process models in importable modules) and
its calls; the sidecar writes FOLDER/outcome.npz (the results, or the error and its traceback) and,
while it runs, ``done total`` to FOLDER/progress.txt (`report_progress`). Arguments and results
travel as numpy arrays, never pickles (the two interpreters need not share a numpy version).

**The sidecar cannot hang the lab.** It runs in a process group of its own, which every Lava
process it forks inherits, and talks through files, not pipes (a pipe held open by an orphaned
Lava process would block its reader for ever). The caller polls it and stops it, with a message
saying why, when it exits with an error, is killed, reports no progress for ``stall_timeout``
seconds (`STARTUP_GRACE` more before the first report) or exceeds ``timeout``; on every exit it
kills the group, so no Lava process outlives the call. The sidecar in turn kills its group if
the lab's process dies.

`run_lava`, a bundle on many images (`labkit.loihi.lava.run_bundle`), is such a call.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.util
import inspect
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from ..foundation.errors import LabkitError
from ..foundation.io import write_text
from ..foundation.paths import REPO_ROOT
from ..foundation.validation import check_int
from .bundle import Bundle, LavaResult, LavaUnavailable, load_bundle, pre_reset_membrane, save_bundle, trains_from_bits
from .lava import PORTS, run_bundle

__all__ = ["DEFAULT_STALL_TIMEOUT", "DEFAULT_TIMEOUT_S", "LavaFunction", "LavaFunctionError", "LavaSidecarError",
           "LavaUnavailable", "in_lava", "lava_available", "lava_backend", "report_progress", "run_lava",
           "sidecar_python"]

#: Seconds a notebook's Lava function may take before it is stopped.
DEFAULT_TIMEOUT_S = 600.0
#: Seconds without progress after which a `run_lava` sidecar is given up.
DEFAULT_STALL_TIMEOUT = 300.0
#: Extra seconds allowed before the first progress report (the interpreter starts, Lava compiles the network).
STARTUP_GRACE = 120.0
_USER_MODULE = "labkit_lava_user_graph"
_PROGRESS_ENV = "LABKIT_LAVA_PROGRESS_FILE"


class LavaSidecarError(LabkitError, RuntimeError):
    """The Lava sidecar failed, died, stalled or ran out of time (the message says which, and what to do)."""


class LavaFunctionError(RuntimeError):
    """The function raised an error while running in Lava's interpreter (the message carries its traceback)."""


@functools.cache
def lava_available() -> bool:
    """True when Lava's simulator imports in this interpreter (lava-nc 0.10 needs Python 3.10)."""
    try:
        from lava.proc.lif.process import LIFReset  # noqa: F401
    except Exception:  # lava-nc 0.10 on Python 3.11 fails with a dataclass ValueError, not ImportError
        return False
    return True


def sidecar_python() -> str | None:
    """The Lava sidecar interpreter: ``$LABKIT_LAVA_PYTHON``, else ``.venv-lava/bin/python``; None if absent."""
    explicit = os.environ.get("LABKIT_LAVA_PYTHON")
    if explicit:
        return explicit if Path(explicit).exists() else None
    for candidate in (REPO_ROOT / ".venv-lava" / "bin" / "python", REPO_ROOT / ".venv-lava" / "Scripts" / "python.exe"):
        if candidate.exists():
            return str(candidate)
    return None


def lava_backend() -> str | None:
    """``"in-process"``, ``"sidecar"`` or None: where a Lava call would run."""
    if lava_available():
        return "in-process"
    return "sidecar" if sidecar_python() else None


def _no_lava() -> LavaUnavailable:
    return LavaUnavailable(
        "Lava is not available: it does not import in this interpreter, and no sidecar was found (looked for "
        f"$LABKIT_LAVA_PYTHON and {REPO_ROOT / '.venv-lava' / 'bin' / 'python'}). Run `make setup` to create the "
        "sidecar (Python 3.10 with numpy<2 and lava-nc==0.10.0), or set LABKIT_LAVA_PYTHON to such an interpreter."
    )


def report_progress(done: int, total: int) -> None:
    """In the sidecar, tell the caller that ``done`` of ``total`` items are finished (else nothing)."""
    path = os.environ.get(_PROGRESS_ENV)
    if path:
        write_text(path, f"{int(done)} {int(total)}")


def _pack(value, arrays: dict):
    """A JSON description of ``value`` whose arrays are stored in ``arrays`` under fresh keys."""
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor, without importing torch
        value = value.detach().cpu().numpy()
    if isinstance(value, (np.ndarray, np.generic)):
        key = f"a{len(arrays)}"
        arrays[key] = np.asarray(value)
        return {"array": key}
    if value is None or isinstance(value, (bool, int, float, str)):
        return {"value": value}
    if isinstance(value, (list, tuple)):
        return {"list" if isinstance(value, list) else "tuple": [_pack(v, arrays) for v in value]}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("dict arguments for a Lava function need string keys")
        return {"dict": {k: _pack(v, arrays) for k, v in value.items()}}
    raise TypeError(f"a {type(value).__name__} cannot be passed to Lava's interpreter: pass numpy arrays, tensors, "
                    "numbers, strings, or lists, tuples and dicts of them")


def _unpack(spec, arrays):
    if "array" in spec:
        return arrays[spec["array"]]
    if "value" in spec:
        return spec["value"]
    if "list" in spec:
        return [_unpack(v, arrays) for v in spec["list"]]
    if "tuple" in spec:
        return tuple(_unpack(v, arrays) for v in spec["tuple"])
    return {k: _unpack(v, arrays) for k, v in spec["dict"].items()}


def _save(path: Path, value) -> None:
    arrays: dict = {}
    spec = json.dumps(_pack(value, arrays))
    np.savez(f"{path}.partial.npz", __spec__=np.array(spec), **arrays)
    os.replace(f"{path}.partial.npz", path)


def _load(path: Path):
    with np.load(path, allow_pickle=False) as z:
        return _unpack(json.loads(str(z["__spec__"])), {k: z[k] for k in z.files if k != "__spec__"})


def _describe(fn: Callable) -> dict:
    """How the sidecar finds ``fn``: by module and name when it is labkit's, else by its source."""
    module = getattr(fn, "__module__", None) or ""
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    if not name or "<" in name:
        raise TypeError("in_lava needs a function defined with def (not a lambda or a nested function)")
    if module.startswith("labkit."):
        return {"module": module, "name": name}
    try:
        source = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError) as exc:
        raise TypeError(f"the source of {name} cannot be read, so it cannot be sent to Lava's interpreter: {exc}") from None
    return {"source": source, "name": fn.__name__}


def _import_function(spec: dict, folder: Path) -> Callable:
    if "module" in spec:
        obj = importlib.import_module(spec["module"])
        for part in spec["name"].split("."):
            obj = getattr(obj, part)
        return obj
    path = folder / f"{_USER_MODULE}.py"
    path.write_text(spec["source"], encoding="utf-8")
    module_spec = importlib.util.spec_from_file_location(_USER_MODULE, path)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[_USER_MODULE] = module  # importable by name: Lava's runtime may look processes' modules up
    module_spec.loader.exec_module(module)
    return getattr(module, spec["name"])


class LavaFunction:
    """A function that runs wherever Lava runs (`in_lava`): ``f(*args)`` runs one call; ``f.map([args, …])``
    runs many in one sidecar start (Lava's start-up is paid once) and returns their results in order."""

    def __init__(self, fn: Callable, *, timeout: float | None = DEFAULT_TIMEOUT_S,
                 stall_timeout: float | None = None):
        if not callable(fn):
            raise TypeError(f"in_lava needs a function, got {type(fn).__name__}")
        self.fn, self.timeout, self.stall_timeout = fn, timeout, stall_timeout
        self.__name__, self.__doc__ = getattr(fn, "__name__", "function"), getattr(fn, "__doc__", None)

    def __call__(self, *args):
        return self.map([args])[0]

    def map(self, calls: Sequence[Sequence], *, progress: Callable[[int, int], None] | None = None) -> list:
        """Run ``fn(*args)`` for every ``args`` in ``calls``; an exercise stub's NotImplementedError passes through."""
        calls = [tuple(args) for args in calls]
        if not calls:
            return []
        if lava_available():
            return [self.fn(*args) for args in calls]
        python = sidecar_python()
        if python is None:
            raise _no_lava()
        with tempfile.TemporaryDirectory(prefix="labkit-lava-") as tmp:
            folder = Path(tmp)
            function = _describe(self.fn)
            _save(folder / "calls.npz", {"function": json.dumps(function), "calls": [list(c) for c in calls]})
            _watch(python, folder, progress=progress, timeout=self.timeout, stall_timeout=self.stall_timeout)
            result = _load(folder / "outcome.npz")
        if result.get("error") == "NotImplementedError":
            raise NotImplementedError(result["message"])
        if "error" in result:
            hint = ""
            if result["error"] == "NameError" and "source" in function:
                hint = ("\nThe function runs in Lava's own Python, where the notebook's variables and imports do not "
                        "exist: import what it uses inside its body and pass data through its arguments.")
            raise LavaFunctionError(f"{function['name']} raised {result['error']} in Lava's interpreter: "
                                    f"{result['message']}{hint}\n{result['traceback']}")
        return result["results"]


def in_lava(fn: Callable, *, timeout: float | None = DEFAULT_TIMEOUT_S) -> LavaFunction:
    """Wrap ``fn`` so that calling it runs it in Lava's interpreter (this one, or the sidecar); module docstring."""
    return LavaFunction(fn, timeout=timeout)


def _kill_group(pgid: int) -> None:
    """SIGKILL every process of group ``pgid`` (nothing where the group is gone or on Windows)."""
    with contextlib.suppress(ProcessLookupError, PermissionError, AttributeError):
        os.killpg(pgid, signal.SIGKILL)


def _read_progress(path: Path) -> tuple[int, int] | None:
    with contextlib.suppress(OSError, ValueError):
        done, total = map(int, path.read_text().split())
        return done, total
    return None


def _watch(python: str, folder: Path, *, progress, timeout, stall_timeout, poll: float = 0.2) -> None:
    """Run the sidecar on FOLDER until it exits; raise `LavaSidecarError` where it fails (module docstring)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    env[_PROGRESS_ENV] = str(folder / "progress.txt")
    log_file = folder / "sidecar.log"
    started = last_change = time.monotonic()
    seen = None
    with open(log_file, "wb") as log:
        proc = subprocess.Popen([python, "-m", "labkit.loihi.sidecar", str(folder)], stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT, env=env, cwd=folder, start_new_session=True)
        try:
            while (code := proc.poll()) is None:
                now = time.monotonic()
                state = _read_progress(folder / "progress.txt")
                if state is not None and state != seen:
                    seen, last_change = state, now
                    if progress is not None:
                        progress(*state)
                if timeout is not None and now - started > timeout:
                    raise LavaSidecarError(f"the Lava sidecar did not finish within {timeout:.0f} s; it was stopped "
                                           "(raise the timeout, or run fewer images)")
                allowed = None if stall_timeout is None else stall_timeout + (STARTUP_GRACE if seen is None else 0)
                if allowed is not None and now - last_change > allowed:
                    raise LavaSidecarError(f"the Lava sidecar reported no progress for {allowed:.0f} s and was "
                                           "stopped (a Lava process probably died, e.g. out of memory); nothing of "
                                           "this run was kept")
                time.sleep(poll)
        finally:
            _kill_group(proc.pid)  # the sidecar's Lava processes, whatever happened to the sidecar itself
            proc.wait()
    if (folder / "outcome.npz").is_file():
        return
    tail = log_file.read_text(errors="replace")[-3000:]
    how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code} without a result"
    raise LavaSidecarError(f"the Lava sidecar ({python}) {how}; nothing of this run was kept. Check that it is a "
                           "Python 3.10 with lava-nc (`make setup` makes .venv-lava; LABKIT_LAVA_PYTHON overrides "
                           f"it), or pass --no-lava. Its output ended with:\n{tail}")


def _watch_parent(interval: float = 0.5) -> None:
    """Start a daemon thread that kills this process's group when its parent process exits."""
    if not hasattr(os, "getppid") or not hasattr(os, "killpg"):
        return
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != parent:  # re-parented: the parent is gone
                _kill_group(os.getpgrp())

    threading.Thread(target=watch, name="labkit-parent-watch", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    """Sidecar entry: ``python -m labkit.loihi.sidecar FOLDER`` runs FOLDER/calls.npz into FOLDER/outcome.npz."""
    folder = Path((argv if argv is not None else sys.argv[1:])[0])
    _watch_parent()
    request = _load(folder / "calls.npz")
    try:
        fn = _import_function(json.loads(request["function"]), folder)
        _save(folder / "outcome.npz", {"results": [fn(*args) for args in request["calls"]]})
    except Exception as exc:  # reported to the caller, who raises it
        frames = traceback.extract_tb(exc.__traceback__)
        user = [f for f in frames if _USER_MODULE in f.filename] or frames[-1:]
        _save(folder / "outcome.npz", {"error": type(exc).__name__, "message": str(exc),
                                       "traceback": "".join(traceback.format_list(user))})
    sys.stdout.flush()
    sys.stderr.flush()
    # Leave at once: a function that did not call source.stop() leaves Lava's runtime waiting for its
    # workers, and a normal exit would wait for ever. The caller stops the whole group.
    os._exit(0)


def _bundle_run(bundle, packed: np.ndarray, shape, mode: str, record: str, chunk_size: int,
                progress=report_progress) -> dict:
    """`labkit.loihi.lava.run_bundle` on the unpacked inputs, timed (in the sidecar: ``bundle`` is its file)."""
    started = time.perf_counter()
    spikes = np.unpackbits(packed, axis=-1, count=int(shape[-1])).astype(bool).reshape(tuple(int(n) for n in shape))
    bundle = bundle if isinstance(bundle, Bundle) else load_bundle(bundle)
    out = run_bundle(bundle, spikes, mode, record=record, chunk_size=chunk_size, progress=progress)
    return {**out, "seconds": time.perf_counter() - started}


def run_lava(bundle: Bundle | str | os.PathLike, spikes: np.ndarray, *, mode: Literal["float", "fixed"] = "fixed",
             chunk_size: int = 500, record: Literal["counts", "spikes"] = "counts",
             progress: Callable[[int, int], None] | None = None,
             stall_timeout: float | None = DEFAULT_STALL_TIMEOUT) -> LavaResult:
    """Run the bundled network (a `Bundle` or its file) in Lava on input spikes ``[T, N, n_in]`` (0/1), N images
    of T steps, in ``mode`` ``"float"`` (``floating_pt``) or ``"fixed"`` (``fixed_pt``, bit-accurate Loihi).

    Every layer's spike trains come back; ``record="spikes"`` also probes the output layer's membrane with Lava's
    Monitors (small runs). ``progress(done, total)`` is called every ``chunk_size`` images; a sidecar run that
    reports no progress for ``stall_timeout`` seconds is stopped. Raises `LavaUnavailable` where Lava is neither
    importable nor installed in a sidecar, `LavaSidecarError` where the sidecar fails, dies or stalls.
    """
    bundle = bundle if isinstance(bundle, Bundle) else load_bundle(bundle)
    if mode not in ("float", "fixed") or record not in ("counts", "spikes"):
        raise ValueError(f"mode must be 'float' or 'fixed' and record 'counts' or 'spikes', got {mode!r} and "
                         f"{record!r}")
    spikes = np.asarray(spikes)
    if spikes.ndim != 3 or spikes.shape[2] != bundle.sizes[0] or 0 in spikes.shape[:2]:
        raise ValueError(f"spikes must be [time, images, {bundle.sizes[0]}] for this bundle, with at least one step "
                         f"of one image, got shape {spikes.shape}")
    if len(bundle.layers) > PORTS:
        raise ValueError(f"the Lava runner records networks of 1 to {PORTS} layers, this bundle has {len(bundle.layers)}")
    args = (np.packbits(spikes.astype(bool), axis=-1), np.array(spikes.shape), mode, record,
            int(check_int("chunk_size", chunk_size, 1)))
    started = time.perf_counter()
    if lava_available():
        out = _bundle_run(bundle, *args, progress=progress)
    elif sidecar_python() is None:
        raise _no_lava()
    else:
        with tempfile.TemporaryDirectory(prefix="labkit-lava-bundle-") as tmp:
            try:
                out = LavaFunction(_bundle_run, timeout=None, stall_timeout=stall_timeout).map(
                    [(str(save_bundle(bundle, Path(tmp) / "bundle.npz")), *args)], progress=progress)[0]
            except LavaFunctionError as exc:  # the lab's own code failed in the sidecar: a LabkitError, no traceback
                raise LavaSidecarError(f"the Lava run failed in the sidecar: {exc}") from None
    (steps, num, _), layers = spikes.shape, len(bundle.layers)
    trains = [trains_from_bits(out[f"trains{i}"], steps) for i in range(layers)]
    membrane = None
    if record == "spikes":  # [steps, n] → [T, N, n]: image k's step t is row k·T + t + L
        u, v = (np.asarray(out[k])[layers : layers + num * steps].reshape(num, steps, -1).transpose(1, 0, 2)
                for k in "uv")
        membrane = pre_reset_membrane(u, v, bundle, mode)
    return LavaResult(out_spikes=trains[-1], out_membrane=membrane, spikes=trains, mode=mode,
                      layer_counts=np.stack([t.sum(axis=(0, 2), dtype=np.int64) for t in trains], axis=1),
                      backend=lava_backend(), steps=int(out["steps"]), lava_seconds=float(out["seconds"]),
                      total_seconds=time.perf_counter() - started)


if __name__ == "__main__":
    sys.exit(main())
