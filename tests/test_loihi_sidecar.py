"""labkit.loihi.sidecar: a Lava sidecar that dies, stalls or is interrupted never hangs the lab or
leaves Lava processes behind (docs/reliability.md, issue #18 item 4).

Each test starts a real sidecar run (a small network over many images, so that it runs for tens of
seconds), waits for its first progress report, then breaks something: kills the sidecar with
SIGKILL, kills one of its Lava processes (as the out-of-memory killer would), raises Ctrl-C in the
caller, or kills the caller. It then checks that the call returns within a bounded time with a
message saying what happened, and that every process of the run (the sidecar and all the Lava
processes it had started) is gone. Before the watchdog, the first and third cases blocked for ever
(orphaned Lava processes held the sidecar's stdout pipe open) and Ctrl-C left the Lava processes
running.

Linux only (processes are found through /proc); skipped where the sidecar is missing or where Lava runs in
this interpreter (then there is no sidecar to break).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from labkit.foundation.errors import LabkitError
from labkit.loihi.bundle import Bundle, LayerBundle
from labkit.loihi.sidecar import LavaSidecarError, lava_available, run_lava, sidecar_python

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds processes through /proc (Linux)"),
    pytest.mark.skipif(sidecar_python() is None, reason="no Lava sidecar (.venv-lava); run `make setup`"),
    pytest.mark.skipif(lava_available(), reason="Lava runs in this interpreter: run_lava starts no sidecar"),
]

ROOT = Path(__file__).resolve().parents[1]
STEPS, IMAGES = 8, 6000  # 48,000 steps: far longer than any test waits


def busy_bundle() -> Bundle:
    """A 30-12-4 network that spikes (numpy only)."""
    rng = np.random.default_rng(0)
    layers = []
    for n_in, n_out in ((30, 12), (12, 4)):
        weight = rng.normal(0.0, 0.6, (n_out, n_in)).astype(np.float32)
        scale = 254 / np.abs(weight).max()
        layers.append(LayerBundle(weight=weight, bias=np.zeros(n_out, np.float32),
                                  weight_mant=(2 * np.round(weight * scale / 2)).astype(np.int16),
                                  bias_mant=np.zeros(n_out, np.int16), weight_exp=0, bias_exp=0,
                                  vth=int(scale), du=4095, dv=410, scale=float(scale)))
    return Bundle(layers=tuple(layers), beta=0.9, threshold=1.0, num_steps=STEPS)


def busy_inputs() -> np.ndarray:
    return np.random.default_rng(1).random((STEPS, IMAGES, 30)) < 0.3


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a live process, None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[0], int(fields[1])


def _alive(pid: int) -> bool:
    state = _stat(pid)
    return state is not None and state[0] not in ("Z", "X")


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid``."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            state = _stat(int(entry.name))
            if state is not None and state[0] not in ("Z", "X"):
                parents[int(entry.name)] = state[1]
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def sidecar_of(pid: int) -> int | None:
    """The Lava sidecar started by process ``pid`` (its Lava processes share its command line)."""
    for child in descendants(pid):
        if (_stat(child) or ("", 0))[1] != pid:
            continue
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"labkit.loihi.sidecar" in command:
            return child
    return None


def wait_gone(pids: set[int], seconds: float = 15.0) -> set[int]:
    """The processes of ``pids`` still alive after waiting up to ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = {pid for pid in pids if _alive(pid)}
        if not left:
            return left
        time.sleep(0.2)
    return {pid for pid in pids if _alive(pid)}


def kill_all(pids: set[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


class Run:
    """``run_lava`` in a thread; ``started`` is set at the first progress report."""

    def __init__(self, **options):
        self.started = threading.Event()
        self.error: BaseException | None = None
        self.on_progress = None
        self.thread = threading.Thread(target=self._run, kwargs=options, daemon=True)
        self.thread.start()

    def _run(self, **options) -> None:
        def report(done: int, total: int) -> None:
            self.started.set()
            if self.on_progress is not None:
                self.on_progress()

        try:
            run_lava(busy_bundle(), busy_inputs(), mode="fixed", chunk_size=20, progress=report, **options)
        except BaseException as error:  # handed to the test
            self.error = error

    def processes(self) -> tuple[int, set[int]]:
        """The sidecar and everything below it, once the run reports progress."""
        assert self.started.wait(120), f"the sidecar run reports progress (error: {self.error!r})"
        return lava_processes(os.getpid())


def lava_processes(caller: int, seconds: float = 60.0) -> tuple[int, set[int]]:
    """The sidecar started by ``caller`` and every process below it, at a moment when Lava runs."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sidecar = sidecar_of(caller)
        below = descendants(sidecar) if sidecar else set()
        if len(below) > 3:  # Lava's processes (source, Dense, LIF, …) are running
            return sidecar, {sidecar} | below
        time.sleep(0.05)
    raise AssertionError("the sidecar and its Lava processes are found")


def start_caller(tmp_path) -> subprocess.Popen:
    """A Python process of the lab that runs the sidecar and prints its progress."""
    script = tmp_path / "caller.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_loihi_sidecar import busy_bundle, busy_inputs
        from labkit.loihi.sidecar import run_lava
        run_lava(busy_bundle(), busy_inputs(), mode="fixed", chunk_size=20,
                 progress=lambda done, total: print("progress", done, flush=True))
    """))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
    caller = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env)
    assert caller.stdout.readline().startswith("progress"), "the caller's run reports progress"
    return caller


def test_a_killed_sidecar_ends_the_run_with_a_message_and_no_lava_process_survives():
    run = Run()
    sidecar, processes = run.processes()
    try:
        os.kill(sidecar, signal.SIGKILL)
        run.thread.join(60)
        assert not run.thread.is_alive(), "run_lava returns when the sidecar is killed, instead of blocking for ever"
        assert isinstance(run.error, LavaSidecarError) and "killed by signal 9" in str(run.error), \
            f"the error says the sidecar was killed, got {run.error!r}"
        assert "nothing of this run was kept" in str(run.error), "and says what was saved"
        assert isinstance(run.error, LabkitError), "a labkit error: the command prints it, no traceback"
        assert not wait_gone(processes), "no Lava process of the killed sidecar is left running"
    finally:
        kill_all(processes)


def test_a_dead_lava_process_is_noticed_by_the_stall_watchdog():
    run = Run(stall_timeout=5)
    sidecar, processes = run.processes()
    try:
        victim = max(descendants(sidecar))  # one of Lava's processes, as the out-of-memory killer would pick
        os.kill(victim, signal.SIGKILL)
        run.thread.join(90)
        assert not run.thread.is_alive(), "run_lava gives up when the sidecar stops making progress"
        assert isinstance(run.error, LavaSidecarError) and "no progress for 5 s" in str(run.error), \
            f"the error names the stall, got {run.error!r}"
        assert not wait_gone(processes), "the stalled sidecar and its Lava processes are stopped"
    finally:
        kill_all(processes)


def test_ctrl_c_in_the_lab_stops_every_lava_process(tmp_path):
    caller = start_caller(tmp_path)
    processes: set[int] = set()
    try:
        _, processes = lava_processes(caller.pid)
        caller.send_signal(signal.SIGINT)  # what Ctrl-C delivers to the lab's process
        _, errors = caller.communicate(timeout=60)
        assert "KeyboardInterrupt" in errors, "Ctrl-C reaches the caller as KeyboardInterrupt"
        assert not wait_gone(processes), "no Lava process outlives Ctrl-C"
    finally:
        caller.kill()
        kill_all(processes)


def test_the_sidecar_stops_its_lava_processes_when_the_lab_process_dies(tmp_path):
    caller = start_caller(tmp_path)
    processes: set[int] = set()
    try:
        _, processes = lava_processes(caller.pid)
        caller.kill()
        caller.wait()
        assert not wait_gone(processes), "the sidecar notices that the lab's process died and stops everything"
    finally:
        caller.kill()
        kill_all(processes)
