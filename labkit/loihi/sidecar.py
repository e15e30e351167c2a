"""Where Lava runs: in this interpreter, or in the Lava sidecar interpreter under a watchdog.

lava-nc 0.10 needs Python 3.10 and numpy < 2. Where ``import lava`` works (e.g. the conda
environment), the lab runs Lava in-process. Otherwise it runs the sidecar interpreter
(``$LABKIT_LAVA_PYTHON`` or the repository's ``.venv-lava/bin/python``) as
``python -m labkit.loihi.sidecar``, passing the bundle and the input spikes as ``.npz`` files.

**The sidecar cannot hang the lab.** It starts in a session (process group) of its own, which
every Lava process it forks inherits, and it reports progress through a file, not a pipe (a
pipe held open by an orphaned Lava process would block its reader for ever). `run_in_sidecar`
polls the sidecar and gives up, with a message saying why, when

* the sidecar exits with an error (its log's tail is in the message), is killed (``kill -9``,
  out of memory) or exits without a result;
* no progress is reported for ``stall_timeout`` seconds (a Lava process died and the others
  wait for it for ever; before the first report `STARTUP_GRACE` more), or the whole run
  exceeds ``timeout``;

and on *every* exit (success, error, Ctrl-C) it kills the sidecar's process group, so no Lava
process outlives the call. The sidecar in turn kills its group if the lab's process dies.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

from ..foundation.errors import LabkitError
from ..foundation.io import write_atomic, write_text
from ..foundation.paths import REPO_ROOT
from .bundle import Bundle, load_bundle, save_bundle
from .lava_files import load_result, load_spikes, save_result, save_spikes
from .lava_result import LavaResult
from .lava_stdp import lava_stdp_inprocess
from .lava_parallel import kill_group, run_parallel, watch_parent

__all__ = ["LavaSidecarError", "lava_available", "lava_backend", "run_in_sidecar", "sidecar_command", "sidecar_python"]


#: Seconds without progress after which a sidecar run is given up (``--lava-stall-timeout``).
DEFAULT_STALL_TIMEOUT = 300.0
#: Extra seconds allowed before the first progress report (the interpreter starts, Lava compiles the network).
STARTUP_GRACE = 120.0


class LavaSidecarError(LabkitError, RuntimeError):
    """The Lava sidecar failed, died, stalled or ran out of time (the message says which, and what to do;
    the command line reports it as ``labkit: error: …``)."""


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
    """``"in-process"``, ``"sidecar"`` or None: where `labkit.loihi.lava_runner.run_lava` would run Lava."""
    if lava_available():
        return "in-process"
    return "sidecar" if sidecar_python() else None


def sidecar_command(python: str, *arguments: str) -> tuple[list[str], dict]:
    """The command line and environment that run ``python -m labkit.loihi.sidecar ARGUMENTS``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    return [python, "-m", "labkit.loihi.sidecar", *arguments], env


def _read_progress(path: Path) -> tuple[int, int] | None:
    try:
        parts = path.read_text().split()
    except OSError:
        return None
    return (int(parts[0]), int(parts[1])) if len(parts) == 2 and all(p.isdigit() for p in parts) else None


def _log_tail(path: Path, limit: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-limit:]
    except OSError:
        return ""


def run_in_sidecar(
    python: str,
    task: str,
    files: dict[str, Path],
    options: list[str],
    output: Path,
    *,
    progress: Callable[[int, int], None] | None = None,
    timeout: float | None = None,
    stall_timeout: float | None = DEFAULT_STALL_TIMEOUT,
    cancel=None,
    poll: float = 0.2,
) -> float:
    """Run ``python -m labkit.loihi.sidecar TASK`` until it writes ``output``; returns the wall seconds.

    ``files`` are passed as ``--NAME PATH``; the sidecar writes progress to a file beside
    ``output``. Raises `LavaSidecarError` (module docstring for when, and when ``cancel``, a
    `threading.Event`, is set by another thread); kills the sidecar's process group on every exit.
    """
    work = output.parent
    progress_file, log_file = work / "progress.txt", work / "sidecar.log"
    arguments = [task, "--output", str(output), "--progress-file", str(progress_file), *options]
    for name, path in files.items():
        arguments += [f"--{name}", str(path)]
    command, env = sidecar_command(python, *arguments)
    started = last_change = time.monotonic()
    seen = None
    with open(log_file, "wb") as log:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                                cwd=work, start_new_session=True)
        try:
            while True:
                code = proc.poll()
                now = time.monotonic()
                state = _read_progress(progress_file)
                if state is not None and state != seen:
                    seen, last_change = state, now
                    if progress is not None:
                        progress(*state)
                if code is not None:
                    break
                if cancel is not None and cancel.is_set():
                    raise LavaSidecarError("the Lava sidecar was stopped because the run was cancelled")
                if timeout is not None and now - started > timeout:
                    raise LavaSidecarError(f"the Lava sidecar did not finish within {timeout:.0f} s; it was stopped "
                                           "(raise the timeout, or run fewer images)")
                allowed = stall_timeout + (STARTUP_GRACE if seen is None else 0.0) if stall_timeout is not None else None
                if allowed is not None and now - last_change > allowed:
                    raise LavaSidecarError(
                        f"the Lava sidecar reported no progress for {allowed:.0f} s and was stopped "
                        "(a Lava process probably died, e.g. out of memory); nothing of this run was kept"
                    )
                time.sleep(poll)
        finally:
            kill_group(proc.pid)  # the sidecar's Lava processes, whatever happened to the sidecar itself
            proc.wait()
    if code != 0:
        how = f"was killed by signal {-code}" if code < 0 else f"failed with exit code {code}"
        raise LavaSidecarError(f"the Lava sidecar ({python}) {how}; nothing of this run was kept. Check that it "
                               "is a Python 3.10 with lava-nc (`make setup` makes .venv-lava; LABKIT_LAVA_PYTHON "
                               f"overrides it), or pass --no-lava. Its output ended with:\n{_log_tail(log_file)}")
    if not output.exists():
        raise LavaSidecarError(f"the Lava sidecar exited without writing its result. Its output:\n{_log_tail(log_file)}")
    return time.monotonic() - started


def run_network_in_sidecar(python: str, bundle: Bundle, spikes: np.ndarray, mode: str, *, record: str,
                           chunk_size: int, workers: int, copies: int = 1, connection: str = "copied",
                           progress=None, timeout=None, stall_timeout=DEFAULT_STALL_TIMEOUT,
                           cancel=None) -> LavaResult:
    """`labkit.loihi.lava_parallel.run_parallel` in the sidecar; the same `LavaResult`."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="labkit-lava-") as tmp:
        tmp = Path(tmp)
        save_bundle(bundle, tmp / "bundle.npz")
        save_spikes(tmp / "inputs.npz", spikes)
        options = ["--mode", mode, "--record", record, "--chunk-size", str(chunk_size), "--workers", str(workers),
                   "--copies", str(copies), "--connection", connection]
        run_in_sidecar(python, "network", {"bundle": tmp / "bundle.npz", "inputs": tmp / "inputs.npz"}, options,
                       tmp / "result.npz", progress=progress, timeout=timeout, stall_timeout=stall_timeout,
                       cancel=cancel)
        return load_result(tmp / "result.npz", "sidecar", time.perf_counter() - started)


# ----------------------------------------------------------------------------- the sidecar's side


def main(argv: list[str] | None = None) -> int:
    """The sidecar's command line (run by `run_in_sidecar`, in the Lava interpreter)."""
    parser = argparse.ArgumentParser(prog="python -m labkit.loihi.sidecar",
                                     description="Run a labkit model bundle in Lava (the lab starts this).")
    parser.add_argument("task", choices=["network", "stdp"])
    parser.add_argument("--bundle")
    parser.add_argument("--inputs", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--progress-file", default=None)
    parser.add_argument("--mode", choices=["float", "fixed"], default="fixed")
    parser.add_argument("--chunk-size", type=int, default=500)
    parser.add_argument("--record", choices=["counts", "spikes"], default="counts")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--copies", type=int, default=1)
    parser.add_argument("--connection", choices=["copied", "dense", "sparse"], default="copied")
    args = parser.parse_args(argv)
    watch_parent()
    if not lava_available():
        print("lava-nc does not import in this interpreter", file=sys.stderr)
        return 3
    output = Path(args.output)
    if args.task == "stdp":
        with np.load(args.inputs, allow_pickle=False) as z:
            out = lava_stdp_inprocess(z["pre"], z["post"], json.loads(str(z["options"])))
        write_atomic(output, lambda f: np.savez(f, **out))
        return 0
    if not args.bundle:
        parser.error("--bundle is required for the network task")
    def report(done: int, total: int) -> None:
        if args.progress_file:
            write_text(args.progress_file, f"{done} {total}")

    result = run_parallel(load_bundle(args.bundle), load_spikes(args.inputs), args.mode, record=args.record,
                          chunk_size=args.chunk_size, copies=args.copies, connection=args.connection,
                          workers=args.workers, progress=report)
    save_result(output, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
