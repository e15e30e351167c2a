"""Run a model bundle in Lava's Loihi simulation: `run_lava` (numpy and lava-nc only; no torch here).

The network is built from Lava's own Dense and LIFReset processes (`labkit.loihi.lava_network`)
and run under ``Loihi2SimCfg(select_tag="floating_pt")`` or ``"fixed_pt"`` (bit-accurate). All
images run back to back in one network, each from rest; what comes back by default is what a
spike-count readout needs: every layer's spike count per image and the output layer's spike
trains (no membrane probe). ``record="spikes"`` also returns every layer's spike trains and the
output membrane (small networks, teaching).

The parts, one concept each:

==============================  ==============================================================
`labkit.loihi.lava_network`     the Lava process graph and its run, in this interpreter
`labkit.loihi.lava_io`          the input source and spike recorder processes it uses
`labkit.loihi.lava_parallel`    several networks side by side on shares of the images
`labkit.loihi.sidecar`          where Lava runs; the sidecar interpreter under a watchdog
`labkit.loihi.lava_files`       the files exchanged with the sidecar
`labkit.loihi.lava_result`      `LavaResult`, the record a run returns
`labkit.loihi.spike_readout`    classes and membranes from what Lava recorded
`labkit.loihi.lava_stdp`        STDP in Lava's learning engine (run by `run_lava_stdp`)
==============================  ==============================================================

Names of the earlier single-module runner stay importable from here.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Callable, Literal

import numpy as np

from ..foundation.validation import check_choice, check_int
from .bundle import Bundle, load_bundle
from .lava_network import CONNECTIONS, LAVA_TAGS
from .lava_parallel import run_parallel
from .lava_result import LavaResult, LavaUnavailable
from .lava_stdp import lava_stdp_inprocess
from .sidecar import (DEFAULT_STALL_TIMEOUT, LavaSidecarError, lava_available, lava_backend, run_in_sidecar,
                      run_network_in_sidecar, sidecar_python)
from .spike_readout import pre_reset_membrane, predict_from_spikes

__all__ = [
    "LavaResult",
    "LavaSidecarError",
    "LavaUnavailable",
    "lava_available",
    "lava_backend",
    "pre_reset_membrane",
    "predict_from_spikes",
    "run_lava",
    "run_lava_stdp",
    "sidecar_python",
]

Mode = Literal["float", "fixed"]
Record = Literal["counts", "spikes"]


def run_lava(
    bundle: Bundle | str | os.PathLike,
    spikes: np.ndarray,
    *,
    mode: Mode = "fixed",
    chunk_size: int = 500,
    record: Record = "counts",
    copies: int = 1,
    connection: Literal["copied", "dense", "sparse"] = "copied",
    workers: int = 1,
    backend: Literal["auto", "in-process", "sidecar"] = "auto",
    progress: Callable[[int, int], None] | None = None,
    timeout: float | None = None,
    stall_timeout: float | None = DEFAULT_STALL_TIMEOUT,
    cancel=None,
) -> LavaResult:
    """Run the bundled network in Lava on input spikes ``[T, N, n_in]`` (0/1), N images of T steps.

    Args:
        bundle: a `Bundle` or the path of a saved one.
        spikes: the encoded inputs, time first (e.g. ``labkit.encoding.encode_rate(x).numpy()``,
            flattened to n_in features per step).
        mode: ``"float"`` (``floating_pt``) or ``"fixed"`` (``fixed_pt``, bit-accurate Loihi).
        chunk_size: images between two progress reports (the network persists across them).
        record: ``"counts"`` (per-layer spike counts and output spike trains) or ``"spikes"``
            (also every layer's spike trains and the output membrane).
        copies: copies of the network inside one Lava network, B images at once
            (`labkit.loihi.lava_network`).
        connection: how the copies are connected: ``"copied"`` (one weight matrix for all copies,
            work linear in B; the currents of Lava's Dense), ``"dense"`` (Lava's Dense with
            block-diagonal weights) or ``"sparse"`` (Lava's Sparse with them); the spikes are the same.
        workers: Lava networks run side by side in processes of their own, each on a contiguous
            share of the images.
        backend: where to run Lava; ``"auto"`` prefers this interpreter.
        progress: called as ``progress(done, total)`` as images finish.
        timeout, stall_timeout: seconds after which a sidecar run is stopped, in all or without
            progress (`labkit.loihi.sidecar`; None: no limit).
        cancel: a `threading.Event`; a sidecar run stops (`LavaSidecarError`) once another thread sets it.

    Raises:
        LavaUnavailable: if Lava is neither importable nor installed in a sidecar.
        LavaSidecarError: if the sidecar fails, dies, stalls or runs out of time.
    """
    if not isinstance(bundle, Bundle):
        bundle = load_bundle(bundle)
    if mode not in LAVA_TAGS:
        raise ValueError(f"mode must be 'float' or 'fixed', got {mode!r}")
    if record not in ("counts", "spikes"):
        raise ValueError(f"record must be 'counts' or 'spikes', got {record!r}")
    check_choice("connection", connection, CONNECTIONS)
    chunk_size = int(check_int("chunk_size", chunk_size, 1))
    workers = int(check_int("workers", workers, 1))
    copies = int(check_int("copies", copies, 1))
    spikes = np.asarray(spikes)
    if spikes.ndim != 3 or spikes.shape[2] != bundle.sizes[0]:
        raise ValueError(
            f"spikes must be [time, images, {bundle.sizes[0]}] for this bundle, got shape {spikes.shape}"
        )
    if spikes.shape[0] < 1 or spikes.shape[1] < 1:
        raise ValueError(f"spikes must hold at least one step of one image, got shape {spikes.shape}")
    spikes = spikes.astype(bool)
    if backend == "auto":
        backend = lava_backend() or "none"
    if backend == "in-process":
        if not lava_available():
            raise LavaUnavailable("Lava does not import in this interpreter (lava-nc 0.10 needs Python 3.10)")
        return run_parallel(bundle, spikes, mode, record=record, chunk_size=chunk_size, copies=copies,
                            connection=connection, workers=workers, progress=progress)
    python = sidecar_python()
    if backend == "sidecar" and python:
        return run_network_in_sidecar(python, bundle, spikes, mode, record=record, chunk_size=chunk_size,
                                      workers=workers, copies=copies, connection=connection, progress=progress,
                                      timeout=timeout, stall_timeout=stall_timeout, cancel=cancel)
    raise LavaUnavailable(
        "Lava is not available: it does not import in this interpreter, and no sidecar was found "
        "(looked for $LABKIT_LAVA_PYTHON and .venv-lava/bin/python in the repository). "
        "Run `make setup` to create the sidecar (Python 3.10 with numpy<2 and lava-nc==0.10.0), "
        "or set LABKIT_LAVA_PYTHON to such an interpreter."
    )


def run_lava_stdp(
    pre: np.ndarray,
    post: np.ndarray,
    *,
    A_plus: float,
    A_minus: float,
    tau_plus: float,
    tau_minus: float,
    mode: Literal["float", "fixed"] = "float",
    impulse: int = 16,
    seed: int = 0,
    backend: Literal["auto", "in-process", "sidecar"] = "auto",
    timeout: float | None = 600.0,
) -> tuple[np.ndarray, str]:
    """Weight change of Lava's ``LearningDense`` with the ``STDPLoihi`` rule for given spike trains.

    ``pre`` ``[T, n_pre]`` drives the synapses' input (``s_in``), ``post`` ``[T, n_post]`` is fed
    straight into the back-propagating action potential port (``s_in_bap``), so the rule sees
    exactly these trains. Weights start at zero; one learning epoch per step (``t_epoch = 1``).
    Traces jump by ``impulse`` per spike and decay by exp(−1/τ) per step (7-bit integers with
    stochastic rounding in ``fixed``). Returns ΔW ``[n_post, n_pre]`` in weight units (not
    divided by the impulse) and the rule as Lava prints it.
    """
    pre = np.asarray(pre).astype(bool)
    post = np.asarray(post).astype(bool)
    if pre.ndim != 2 or post.ndim != 2 or pre.shape[0] != post.shape[0]:
        raise ValueError(f"pre and post must be [time, neurons] with the same T, got {pre.shape} and {post.shape}")
    if mode not in LAVA_TAGS:
        raise ValueError(f"mode must be 'float' or 'fixed', got {mode!r}")
    options = {"A_plus": float(A_plus), "A_minus": float(A_minus), "tau_plus": float(tau_plus),
               "tau_minus": float(tau_minus), "mode": mode, "impulse": int(impulse), "seed": int(seed)}
    if backend == "auto":
        backend = lava_backend() or "none"
    if backend == "in-process" and lava_available():
        out = lava_stdp_inprocess(pre, post, options)
        return out["dw"], str(out["rule"])
    python = sidecar_python()
    if backend == "sidecar" and python:
        with tempfile.TemporaryDirectory(prefix="labkit-lava-") as tmp:
            tmp = Path(tmp)
            np.savez(tmp / "stdp_in.npz", pre=pre, post=post, options=np.array(json.dumps(options)))
            run_in_sidecar(python, "stdp", {"inputs": tmp / "stdp_in.npz"}, [], tmp / "stdp_out.npz",
                           timeout=timeout, stall_timeout=None)
            with np.load(tmp / "stdp_out.npz", allow_pickle=False) as z:
                return z["dw"], str(z["rule"])
    raise LavaUnavailable("Lava is not available: run `make setup` (creates .venv-lava) or set LABKIT_LAVA_PYTHON")
