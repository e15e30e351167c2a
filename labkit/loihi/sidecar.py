r"""Where Lava runs, and the one protocol by which the lab runs a function there (`in_lava`, `run_lava`).

lava-nc 0.10 imports only in Python 3.10 with numpy < 2. Where ``import lava`` works (the conda
environment) the lab calls Lava in this interpreter; otherwise in the sidecar interpreter
(``$LABKIT_LAVA_PYTHON`` or the repository's ``.venv-lava/bin/python``), started as
``python -m labkit.loihi.sidecar FOLDER``:

* FOLDER/calls.npz names the function (a ``labkit`` function by module and name; a notebook's
  function by its source, written to a module file there, since Lava needs process models in
  importable modules) and its calls. Arguments and results travel as numpy arrays (never
  pickles: the two interpreters need not share a numpy version); nested lists, tuples and dicts
  of arrays, numbers and strings are allowed.
* The sidecar writes FOLDER/outcome.npz (the results, or the error and its traceback) and, while
  it runs, ``done total`` to FOLDER/progress.txt (`report_progress`).

**The sidecar cannot hang the lab.** It runs in a process group of its own, which every Lava
process it forks inherits, and talks through files, not pipes (a pipe held open by an orphaned
Lava process would block its reader for ever). The caller polls it and stops it, with a message
saying why, when it exits with an error, is killed, reports no progress for ``stall_timeout``
seconds (`STARTUP_GRACE` more before the first report), exceeds ``timeout``, or ``cancel`` (a
`threading.Event`) is set; on every exit it kills the group, so no Lava process outlives the call.
The sidecar in turn kills its group if the lab's process dies.

`run_lava` (a bundle on many images) and `run_lava_stdp` (Lava's learning engine) are such calls
of `labkit.loihi.lava`.
"""

from __future__ import annotations

import ast
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
from .lava import PORTS, lava_stdp, run_bundle

__all__ = ["DEFAULT_STALL_TIMEOUT", "DEFAULT_TIMEOUT_S", "LavaFunction", "LavaFunctionError", "LavaSidecarError",
           "LavaUnavailable", "in_lava", "lava_available", "lava_backend", "report_progress", "run_lava",
           "run_lava_stdp", "sidecar_python"]

#: Seconds a notebook's Lava function may take before it is stopped.
DEFAULT_TIMEOUT_S = 600.0
#: Seconds without progress after which a `run_lava` sidecar is given up (``--lava-stall-timeout``).
DEFAULT_STALL_TIMEOUT = 300.0
#: Extra seconds allowed before the first progress report (the interpreter starts, Lava compiles the network).
STARTUP_GRACE = 120.0
_USER_MODULE = "labkit_lava_user_graph"
_PROGRESS_ENV = "LABKIT_LAVA_PROGRESS_FILE"


class LavaSidecarError(LabkitError, RuntimeError):
    """The Lava sidecar failed, died, stalled or ran out of time (the message says which, and what to do)."""


class LavaFunctionError(RuntimeError):
    """The function raised an error while running in Lava's interpreter (the message carries its traceback)."""


# ----------------------------------------------------------------------------- where Lava runs

_LAVA_OK: bool | None = None


def lava_available() -> bool:
    """True when Lava's simulator imports in this interpreter (lava-nc 0.10 needs Python 3.10)."""
    global _LAVA_OK
    if _LAVA_OK is None:
        try:
            from lava.magma.core.run_configs import Loihi2SimCfg  # noqa: F401
            from lava.proc.lif.process import LIFReset  # noqa: F401

            _LAVA_OK = True
        except Exception:  # lava-nc 0.10 on Python 3.11 fails with a dataclass ValueError, not ImportError
            _LAVA_OK = False
    return _LAVA_OK


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


# ----------------------------------------------------------------------------- arguments as arrays


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
    spec = _pack(value, arrays)
    partial = Path(f"{path}.partial.npz")
    np.savez(partial, __spec__=np.array(json.dumps(spec)), **arrays)
    os.replace(partial, path)


def _load(path: Path):
    with np.load(path, allow_pickle=False) as z:
        return _unpack(json.loads(str(z["__spec__"])), {k: z[k] for k in z.files if k != "__spec__"})


# ----------------------------------------------------------------------------- the function


def _unwritten_stub_message(fn: Callable) -> str | None:
    """The message of an untouched exercise stub (body: one ``raise NotImplementedError("...")``), else None."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return None
    node = tree.body[0] if tree.body else None
    if not isinstance(node, ast.FunctionDef):
        return None
    body = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    if len(body) != 1 or not isinstance(body[0], ast.Raise):
        return None
    exc = body[0].exc
    if isinstance(exc, ast.Call) and isinstance(exc.func, ast.Name) and exc.func.id == "NotImplementedError":
        try:
            return " ".join(str(ast.literal_eval(a)) for a in exc.args)
        except ValueError:
            return ""
    return None


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
    import importlib
    import importlib.util

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
        self.__name__ = getattr(fn, "__name__", "function")
        self.__doc__ = getattr(fn, "__doc__", None)

    def __repr__(self) -> str:
        return f"in_lava({self.__name__})"

    def __call__(self, *args):
        return self.map([args])[0]

    def map(self, calls: Sequence[Sequence], *, progress: Callable[[int, int], None] | None = None,
            cancel: threading.Event | None = None) -> list:
        """Run ``fn(*args)`` for every ``args`` in ``calls``; a stub that is not written raises NotImplementedError."""
        calls = [tuple(args) for args in calls]
        message = _unwritten_stub_message(self.fn)
        if message is not None:  # an untouched stub: no need to start Lava to learn that
            raise NotImplementedError(message)
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
            _watch(python, folder, progress=progress, timeout=self.timeout, stall_timeout=self.stall_timeout,
                   cancel=cancel)
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


# ----------------------------------------------------------------------------- the watchdog


def _kill_group(pgid: int) -> None:
    """SIGKILL every process of group ``pgid`` (nothing where the group is gone or on Windows)."""
    if hasattr(os, "killpg"):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _read_progress(path: Path) -> tuple[int, int] | None:
    try:
        parts = path.read_text().split()
    except OSError:
        return None
    return (int(parts[0]), int(parts[1])) if len(parts) == 2 and all(p.isdigit() for p in parts) else None


def _watch(python: str, folder: Path, *, progress, timeout, stall_timeout, cancel, poll: float = 0.2) -> None:
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
                if cancel is not None and cancel.is_set():
                    raise LavaSidecarError("the Lava sidecar was stopped because the run was cancelled")
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


# ----------------------------------------------------------------------------- the lab's calls


def _bundle_run(bundle_file: str, packed: np.ndarray, shape, mode: str, record: str, chunk_size: int) -> dict:
    """The sidecar's side of `run_lava`: unpack the inputs, run `labkit.loihi.lava.run_bundle`, time it."""
    started = time.perf_counter()
    spikes = np.unpackbits(packed, axis=-1, count=int(shape[-1])).astype(bool).reshape(tuple(int(n) for n in shape))
    out = run_bundle(load_bundle(bundle_file), spikes, mode, record=record, chunk_size=chunk_size,
                     progress=report_progress)
    out["seconds"] = time.perf_counter() - started
    return out


def run_lava(bundle: Bundle | str | os.PathLike, spikes: np.ndarray, *, mode: Literal["float", "fixed"] = "fixed",
             chunk_size: int = 500, record: Literal["counts", "spikes"] = "counts",
             backend: Literal["auto", "in-process", "sidecar"] = "auto",
             progress: Callable[[int, int], None] | None = None, timeout: float | None = None,
             stall_timeout: float | None = DEFAULT_STALL_TIMEOUT, cancel=None) -> LavaResult:
    """Run the bundled network in Lava on input spikes ``[T, N, n_in]`` (0/1), N images of T steps.

    Args:
        bundle: a `Bundle` or the path of a saved one.
        spikes: the encoded inputs, time first, n_in features per step.
        mode: ``"float"`` (``floating_pt``) or ``"fixed"`` (``fixed_pt``, bit-accurate Loihi).
        chunk_size: images between two progress reports (the network persists across them).
        record: ``"counts"`` (per-layer spike counts and output spike trains) or ``"spikes"`` (also every
            layer's spike trains and the output membrane; small runs).
        backend: where to run Lava; ``"auto"`` prefers this interpreter.
        progress: called as ``progress(done, total)`` as images finish.
        timeout, stall_timeout: seconds after which a sidecar run is stopped, in all or without progress.
        cancel: a `threading.Event`; a sidecar run stops (`LavaSidecarError`) once another thread sets it.

    Raises:
        LavaUnavailable: if Lava is neither importable nor installed in a sidecar.
        LavaSidecarError: if the sidecar fails, dies, stalls or runs out of time.
    """
    if not isinstance(bundle, Bundle):
        bundle = load_bundle(bundle)
    if mode not in ("float", "fixed"):
        raise ValueError(f"mode must be 'float' or 'fixed', got {mode!r}")
    if record not in ("counts", "spikes"):
        raise ValueError(f"record must be 'counts' or 'spikes', got {record!r}")
    chunk_size = int(check_int("chunk_size", chunk_size, 1))
    spikes = np.asarray(spikes)
    if spikes.ndim != 3 or spikes.shape[2] != bundle.sizes[0]:
        raise ValueError(f"spikes must be [time, images, {bundle.sizes[0]}] for this bundle, got shape {spikes.shape}")
    if spikes.shape[0] < 1 or spikes.shape[1] < 1:
        raise ValueError(f"spikes must hold at least one step of one image, got shape {spikes.shape}")
    if len(bundle.layers) > PORTS:
        raise ValueError(f"the Lava runner records networks of 1 to {PORTS} layers, this bundle has {len(bundle.layers)}")
    spikes = spikes.astype(bool)
    if backend == "auto":
        backend = lava_backend() or "none"
    started = time.perf_counter()
    if backend == "in-process":
        if not lava_available():
            raise LavaUnavailable("Lava does not import in this interpreter (lava-nc 0.10 needs Python 3.10)")
        out = run_bundle(bundle, spikes, mode, record=record, chunk_size=chunk_size, progress=progress)
        out["seconds"] = time.perf_counter() - started
    elif backend == "sidecar" and sidecar_python():
        with tempfile.TemporaryDirectory(prefix="labkit-lava-bundle-") as tmp:
            save_bundle(bundle, Path(tmp) / "bundle.npz")
            runner = LavaFunction(_bundle_run, timeout=timeout, stall_timeout=stall_timeout)
            try:
                out = runner.map([(str(Path(tmp) / "bundle.npz"), np.packbits(spikes, axis=-1), np.array(spikes.shape),
                                   mode, record, chunk_size)], progress=progress, cancel=cancel)[0]
            except LavaFunctionError as exc:  # the lab's own code failed in the sidecar: a LabkitError, no traceback
                raise LavaSidecarError(f"the Lava run failed in the sidecar: {exc}") from None
    else:
        raise _no_lava()
    steps = spikes.shape[0]
    layers = len(bundle.layers)
    trains = [trains_from_bits(out[f"trains{i}"], steps) if f"trains{i}" in out else None for i in range(layers)]
    membrane = None
    if record == "spikes":
        def images(raw) -> np.ndarray:  # [steps, n] → [T, N, n]: image k's step t at row k·T + t + L
            raw = np.asarray(raw)
            return raw[layers : layers + spikes.shape[1] * steps].reshape(spikes.shape[1], steps, -1).transpose(1, 0, 2)

        membrane = pre_reset_membrane(images(out["u"]), images(out["v"]), bundle, mode)
    return LavaResult(out_spikes=trains[-1], out_membrane=membrane, layer_counts=np.asarray(out["counts"]).T.astype(np.int64),
                      spikes=trains if record == "spikes" else None, mode=mode,
                      backend="in-process" if backend == "in-process" else "sidecar", steps=int(out["steps"]),
                      lava_seconds=float(out["seconds"]), total_seconds=time.perf_counter() - started)


def run_lava_stdp(pre: np.ndarray, post: np.ndarray, *, A_plus: float, A_minus: float, tau_plus: float,
                  tau_minus: float, mode: Literal["float", "fixed"] = "float", impulse: int = 16, seed: int = 0,
                  timeout: float | None = 600.0) -> tuple[np.ndarray, str]:
    """Weight change of Lava's ``LearningDense`` with the ``STDPLoihi`` rule for given spike trains.

    ``pre`` ``[T, n_pre]`` drives the synapses' input, ``post`` ``[T, n_post]`` the back-propagating
    action potential port, so the rule sees exactly these trains. Weights start at zero; one learning
    epoch per step. Traces jump by ``impulse`` per spike and decay by exp(−1/τ) per step (7-bit integers
    with stochastic rounding in ``fixed``). Returns ΔW ``[n_post, n_pre]`` in weight units and the rule
    as Lava prints it.
    """
    pre, post = np.asarray(pre).astype(bool), np.asarray(post).astype(bool)
    if pre.ndim != 2 or post.ndim != 2 or pre.shape[0] != post.shape[0]:
        raise ValueError(f"pre and post must be [time, neurons] with the same T, got {pre.shape} and {post.shape}")
    if mode not in ("float", "fixed"):
        raise ValueError(f"mode must be 'float' or 'fixed', got {mode!r}")
    if lava_backend() is None:
        raise _no_lava()
    options = {"A_plus": float(A_plus), "A_minus": float(A_minus), "tau_plus": float(tau_plus),
               "tau_minus": float(tau_minus), "mode": mode, "impulse": int(impulse), "seed": int(seed)}
    out = LavaFunction(_stdp_run, timeout=timeout)(pre, post, options)
    return np.asarray(out["dw"]), str(out["rule"])


def _stdp_run(pre: np.ndarray, post: np.ndarray, options: dict) -> dict:
    """The sidecar's side of `run_lava_stdp`."""
    return lava_stdp(pre, post, options)


if __name__ == "__main__":
    sys.exit(main())
