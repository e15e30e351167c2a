"""Several Lava networks side by side, each on a contiguous share of the images (numpy + lava-nc).

Lava runs every process of a network in its own operating-system process and synchronises
them at every time step, so one network leaves much of a multi-core machine idle. With
``workers = W`` the images are cut into W contiguous shares and W copies of the network run at
once, each in a forked worker (`multiprocessing`, "fork"), whose results are joined in image
order. The spikes are those of one network over all images: every image starts from rest.

**Cleaning up.** Each worker leads its own process group (``os.setpgrp``), which its Lava
processes inherit, and watches its parent: if the parent disappears (killed, out of memory),
the worker kills its whole group. On any exit of `run_parallel` (an error, Ctrl-C, a worker
that died) every worker group still alive is killed, so no Lava process outlives the run.
"""

from __future__ import annotations

import os
import signal
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Callable

import numpy as np

from .bundle import Bundle
from .lava_files import load_result, save_result
from .lava_network import run_network
from .lava_result import LavaResult

__all__ = ["kill_group", "run_parallel", "watch_parent"]


def kill_group(pgid: int) -> None:
    """SIGKILL every process of group ``pgid`` (nothing where the group is gone or on Windows)."""
    if hasattr(os, "killpg"):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def watch_parent(interval: float = 0.5) -> None:
    """Start a daemon thread that kills this process's group when its parent process exits."""
    if not hasattr(os, "getppid") or not hasattr(os, "killpg"):
        return
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != parent:  # re-parented: the parent is gone
                kill_group(os.getpgrp())

    threading.Thread(target=watch, name="labkit-parent-watch", daemon=True).start()


def _worker(queue, index: int, bundle: Bundle, spikes: np.ndarray, mode: str, record: str, chunk_size: int,
            copies: int, connection: str, output: str) -> None:
    os.setpgrp()
    watch_parent()
    try:
        def report(done: int, total: int) -> None:
            queue.put(("progress", index, done))

        result = run_network(bundle, spikes, mode, record=record, chunk_size=chunk_size, copies=copies,
                             connection=connection, progress=report)
        save_result(output, result)
        queue.put(("done", index, output))
    except BaseException:  # reported to the parent, which raises it there
        queue.put(("error", index, traceback.format_exc()))


def _join(parts: list[LavaResult], mode: str, seconds: float) -> LavaResult:
    spikes = None
    if parts[0].spikes is not None:
        spikes = [np.concatenate([p.spikes[l] for p in parts], axis=1) for l in range(len(parts[0].spikes))]
    membrane = None
    if parts[0].out_membrane is not None:
        membrane = np.concatenate([p.out_membrane for p in parts], axis=1)
    return LavaResult(
        out_spikes=np.concatenate([p.out_spikes for p in parts], axis=1),
        out_membrane=membrane,
        layer_counts=np.concatenate([p.layer_counts for p in parts], axis=0),
        spikes=spikes,
        mode=mode,
        backend="in-process",
        steps=sum(p.steps for p in parts),
        lava_seconds=seconds,
        total_seconds=seconds,
        workers=len(parts),
        copies=parts[0].copies,
    )


def run_parallel(
    bundle: Bundle,
    spikes: np.ndarray,
    mode: str,
    *,
    record: str = "counts",
    chunk_size: int = 500,
    copies: int = 1,
    connection: str = "copied",
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> LavaResult:
    """`labkit.loihi.lava_network.run_network` (``copies`` per network, connected as ``connection``) on
    ``workers`` shares of the images at once."""
    num = spikes.shape[1]
    workers = max(1, min(int(workers), num))
    if workers == 1:
        return run_network(bundle, spikes, mode, record=record, chunk_size=chunk_size, copies=copies,
                           connection=connection, progress=progress)
    import multiprocessing
    import queue as queues

    started = time.perf_counter()
    bounds = np.linspace(0, num, workers + 1).round().astype(int)
    context = multiprocessing.get_context("fork")
    messages = context.Queue()
    done = [0] * workers
    with tempfile.TemporaryDirectory(prefix="labkit-lava-workers-") as tmp:
        outputs = [str(Path(tmp) / f"part{i}.npz") for i in range(workers)]
        processes = [
            context.Process(target=_worker, name=f"labkit-lava-{i}",
                            args=(messages, i, bundle, spikes[:, bounds[i] : bounds[i + 1]], mode, record,
                                  chunk_size, copies, connection, outputs[i]))
            for i in range(workers)
        ]
        finished: set[int] = set()
        try:
            for process in processes:
                process.start()
            while len(finished) < workers:
                try:
                    kind, index, payload = messages.get(timeout=0.5)
                except queues.Empty:
                    for i, process in enumerate(processes):
                        if i not in finished and not process.is_alive():
                            raise RuntimeError(f"Lava worker {i} exited with code {process.exitcode} "
                                               "before finishing its images (killed, or out of memory?)")
                    continue
                if kind == "error":
                    raise RuntimeError(f"Lava worker {index} failed:\n{payload}")
                if kind == "done":
                    finished.add(index)
                    done[index] = bounds[index + 1] - bounds[index]
                else:
                    done[index] = payload
                if progress is not None:
                    progress(int(sum(done)), num)
            parts = [load_result(path, "in-process", 0.0) for path in outputs]
        finally:
            for process in processes:
                if process.pid is not None:
                    kill_group(process.pid)  # the worker and its Lava processes (a no-op when all are gone)
                    process.join(timeout=5)
    return _join(parts, mode, time.perf_counter() - started)
