r"""A network's Lava process graph, built by hand, and running such a builder from a notebook.

Chapter 8 asks the reader to build the deployed network in Lava with their own hands::

    RingBuffer ──s_out→s_in── Dense(W₁) ──a_out→a_in── LIF ──s_out→s_in── Dense(W₂) ──a_out→a_in── LIF
                                                                                                  │
                                                                                 Monitor.probe(s_out)

and to run it under ``Loihi2SimCfg``. `run_network` is the lab's version of that function
(lava-nc 0.10; numpy and Lava only, so it runs in the Lava sidecar). Its contract, which the
chapter's exercise shares:

    ``run_network(spikes [T, n_in], layers [(W [n_out, n_in], b [n_out]), …], beta, threshold)``
    returns the last layer's spikes ``[T + L, n_out]`` (0/1 floats) for L layers.

Each Dense delivers its synaptic input one step late (Lava buffers it, so that recurrent graphs
cannot deadlock), so row ``t + L`` of the result belongs to input step ``t``: the run lasts T + L
steps. With ``du = 1`` and ``dv = 1 − β`` Lava's LIF is the lab's LIF with reset to zero
(chapter 8, section 8.2), with one difference of timing: a LIF adds its bias from the first step
of the run on, so layer l has integrated its bias for l steps when its first input arrives. With
non-zero biases the record can therefore differ by a few spikes from the torch network, whose
neurons start with their input. (The lab's runner, `labkit.loihi.lava_runner`, resets every layer
at the step its first input arrives, which removes the head start.)

**Running a notebook's function in Lava.** Lava 0.10 imports only in Python 3.10, and the lab's
main environment may be newer; then Lava lives in a sidecar interpreter (`labkit.loihi.lava_runner`
finds it). `in_lava` wraps a graph-building function so that calling it runs it wherever Lava
runs: in this interpreter when Lava imports here, otherwise in the sidecar. A function from an
importable module is imported there by name; a function defined in a notebook cell is shipped as
its source code, written to a module file in a temporary folder and imported from it (Lava's
processes and process models then all come from importable modules, as Lava requires). The
function therefore must be self-contained: it imports what it uses inside its body and gets its
data through its arguments. Arguments and results travel as numpy arrays in ``.npz`` files (never
pickles: the two interpreters need not share a numpy version); nested lists, tuples and dicts
of arrays and numbers are allowed.
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
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ..foundation.paths import REPO_ROOT
from .lava_result import LavaUnavailable
from .sidecar import lava_available, sidecar_python

__all__ = ["LavaFunction", "LavaFunctionError", "in_lava", "run_network", "DEFAULT_TIMEOUT_S"]

#: Seconds a sidecar run may take before it is stopped (start-up of Lava alone is a few seconds).
DEFAULT_TIMEOUT_S = 600.0
_USER_MODULE = "labkit_lava_user_graph"


class LavaFunctionError(RuntimeError):
    """The function raised an error while running in Lava's interpreter (the message carries its traceback)."""


# ----------------------------------------------------------------------------- the lab's graph


def run_network(spikes, layers, beta: float, threshold: float):
    """Build RingBuffer → (Dense → LIF) × L → Monitor by hand and run it under ``Loihi2SimCfg``.

    Args:
        spikes: input spikes of one sample, ``[T, n_in]`` (0/1).
        layers: ``[(W, b), …]``, ``W`` ``[n_out, n_in]`` and ``b`` ``[n_out]`` in float units.
        beta: membrane decay β of every LIF layer (Lava's ``dv = 1 − β``; ``du = 1``).
        threshold: firing threshold θ (Lava's ``vth``).

    Returns:
        the last LIF layer's spikes as a float array ``[T + L, n_out]``, as the Monitor recorded
        them (row ``t + L`` belongs to input step ``t``).
    """
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.dense.process import Dense
    from lava.proc.io.source import RingBuffer
    from lava.proc.lif.process import LIF
    from lava.proc.monitor.process import Monitor

    spikes = np.asarray(spikes, dtype=np.float64)
    steps = spikes.shape[0] + len(layers)                      # one step of delay per Dense
    data = np.zeros((spikes.shape[1], steps))                  # RingBuffer data is [neurons, steps]
    data[:, : spikes.shape[0]] = spikes.T
    source = RingBuffer(data=data)
    port = source.s_out
    for weight, bias in layers:
        dense = Dense(weights=np.asarray(weight, dtype=np.float64))
        lif = LIF(shape=(len(bias),), du=1.0, dv=1.0 - beta, vth=threshold,
                  bias_mant=np.asarray(bias, dtype=np.float64))
        port.connect(dense.s_in)
        dense.a_out.connect(lif.a_in)
        port = lif.s_out
    monitor = Monitor()
    monitor.probe(port, steps)
    try:
        source.run(condition=RunSteps(num_steps=steps), run_cfg=Loihi2SimCfg(select_tag="floating_pt"))
        recorded = monitor.get_data()[lif.name]["s_out"]
    finally:
        source.stop()
    return np.asarray(recorded, dtype=np.float64)


# ----------------------------------------------------------------------------- arguments as arrays


def _pack(value, arrays: dict):
    """A JSON description of ``value`` whose arrays are stored in ``arrays`` under fresh keys."""
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor, without importing torch
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray) or isinstance(value, np.generic):
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
    raise TypeError(
        f"a {type(value).__name__} cannot be passed to Lava's interpreter: pass numpy arrays, tensors, "
        "numbers, strings, or lists, tuples and dicts of them"
    )


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
    np.savez(path, __spec__=np.array(json.dumps(spec)), **arrays)


def _load(path: Path):
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files if k != "__spec__"}
        return _unpack(json.loads(str(z["__spec__"])), arrays)


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
    """How the sidecar finds ``fn``: by module and name when importable, else by its source."""
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


def _import_function(spec: dict, folder: Path, index: int) -> Callable:
    import importlib
    import importlib.util

    if "module" in spec:
        obj = importlib.import_module(spec["module"])
        for part in spec["name"].split("."):
            obj = getattr(obj, part)
        return obj
    name = f"{_USER_MODULE}_{index}"
    path = folder / f"{name}.py"
    path.write_text(spec["source"], encoding="utf-8")
    module_spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module  # importable by name: Lava's runtime may look processes' modules up
    module_spec.loader.exec_module(module)
    return getattr(module, spec["name"])


class LavaFunction:
    """A graph-building function that runs wherever Lava runs (`in_lava`).

    ``f(*args)`` runs one call; ``f.map([args, …])`` runs many calls in one sidecar start
    (Lava's start-up is paid once) and returns their results in order.
    """

    def __init__(self, fn: Callable, *, timeout: float | None = DEFAULT_TIMEOUT_S):
        if not callable(fn):
            raise TypeError(f"in_lava needs a function, got {type(fn).__name__}")
        self.fn, self.timeout = fn, timeout
        self.__name__ = getattr(fn, "__name__", "function")
        self.__doc__ = getattr(fn, "__doc__", None)

    def __repr__(self) -> str:
        return f"in_lava({self.__name__})"

    def __call__(self, *args):
        return self.map([args])[0]

    def map(self, calls: Sequence[Sequence]) -> list:
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
            raise LavaUnavailable(
                "Lava is not available: it does not import in this interpreter and there is no sidecar "
                f"(looked for $LABKIT_LAVA_PYTHON and {REPO_ROOT / '.venv-lava' / 'bin' / 'python'}); run `make setup`"
            )
        return _run_in_sidecar(python, _describe(self.fn), calls, self.timeout)


def in_lava(fn: Callable, *, timeout: float | None = DEFAULT_TIMEOUT_S) -> LavaFunction:
    """Wrap ``fn`` so that calling it runs it in Lava's interpreter (this one, or the sidecar); see the module docstring."""
    return LavaFunction(fn, timeout=timeout)


def _stop(proc: subprocess.Popen) -> None:
    """Stop the sidecar and every process it started (Lava runs each process model in a process of its own)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError):
        proc.kill()
    proc.wait()


def _run_in_sidecar(python: str, function: dict, calls: list[tuple], timeout: float | None) -> list:
    with tempfile.TemporaryDirectory(prefix="labkit-lava-graph-") as tmp:
        folder = Path(tmp)
        _save(folder / "calls.npz", {"function": json.dumps(function), "calls": [list(c) for c in calls]})
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
        command = [python, "-m", "labkit.loihi.graph", str(folder)]
        with open(folder / "stderr.txt", "w+") as err:
            # Files, not pipes: Lava's worker processes inherit them, and a pipe held open by a
            # leftover worker would block the read. The session groups the workers for _stop.
            proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, env=env, cwd=folder,
                                    start_new_session=True)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _stop(proc)
                raise TimeoutError(f"the Lava run did not finish within {timeout:g} s and was stopped") from None
            except BaseException:
                _stop(proc)
                raise
            _stop(proc)  # workers a function left running (no source.stop()) go with the sidecar
            err.seek(0)
            errors = err.read()
        outcome = folder / "outcome.npz"
        if not outcome.is_file():
            raise RuntimeError(f"Lava's interpreter ({python}) stopped with exit code {proc.returncode}:\n{errors[-3000:]}")
        result = _load(outcome)
    if result.get("error") == "NotImplementedError":
        raise NotImplementedError(result["message"])
    if "error" in result:
        hint = ""
        if result["error"] == "NameError":
            hint = ("\nThe function runs in Lava's own Python, where the notebook's variables and imports do not "
                    "exist: import what it uses inside its body and pass data through its arguments.")
        raise LavaFunctionError(f"{function['name']} raised {result['error']} in Lava's interpreter: "
                                f"{result['message']}{hint}\n{result['traceback']}")
    return result["results"]


def _main(argv: list[str] | None = None) -> int:
    """Sidecar entry: ``python -m labkit.loihi.graph FOLDER`` runs FOLDER/calls.npz into FOLDER/outcome.npz."""
    folder = Path((argv if argv is not None else sys.argv[1:])[0])
    request = _load(folder / "calls.npz")
    try:
        fn = _import_function(json.loads(request["function"]), folder, 0)
        results = [fn(*args) for args in request["calls"]]
        _save(folder / "outcome.npz", {"results": results})
    except Exception as exc:  # reported to the caller, who raises it in the notebook
        frames = traceback.extract_tb(exc.__traceback__)
        user = [f for f in frames if _USER_MODULE in f.filename] or frames[-1:]
        text = "".join(traceback.format_list(user))
        _save(folder / "outcome.npz", {"error": type(exc).__name__, "message": str(exc), "traceback": text})
    sys.stdout.flush()
    sys.stderr.flush()
    # Leave at once: a function that did not call source.stop() leaves Lava's runtime waiting for
    # its workers, and a normal exit would wait for ever. The caller stops the whole group.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(_main())
