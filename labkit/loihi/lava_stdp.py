"""STDP in Lava's learning engine on given spike trains (numpy + lava-nc; used by `labkit.loihi.learning`)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Literal

import numpy as np

from .lava_network import LAVA_TAGS
from .lava_result import LavaUnavailable
from .sidecar import lava_available, lava_backend, run_in_sidecar, sidecar_python

__all__ = ["lava_stdp_inprocess", "run_lava_stdp"]


def lava_stdp_inprocess(pre: np.ndarray, post: np.ndarray, options: dict) -> dict:
    """ΔW and the rule's text from one run of ``LearningDense`` (in this interpreter)."""
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.dense.process import LearningDense
    from lava.proc.io.sink import RingBuffer as Sink
    from lava.proc.io.source import RingBuffer as Source
    from lava.proc.learning_rules.stdp_learning_rule import STDPLoihi

    steps, n_pre = pre.shape
    n_post = post.shape[1]
    fixed = options["mode"] == "fixed"
    dtype = np.int32 if fixed else np.float64
    rule = STDPLoihi(
        learning_rate=1.0, A_plus=options["A_plus"], A_minus=-options["A_minus"],
        tau_plus=options["tau_plus"], tau_minus=options["tau_minus"],
        x1_impulse=options["impulse"], y1_impulse=options["impulse"], rng_seed=options["seed"],
    )
    weights = np.zeros((n_post, n_pre), dtype=dtype)
    source = Source(data=pre.T.astype(dtype))
    bap = Source(data=post.T.astype(dtype))
    conn = LearningDense(weights=weights, learning_rule=rule)
    sink = Sink(shape=(n_post,), buffer=steps)
    source.s_out.connect(conn.s_in)
    bap.s_out.connect(conn.s_in_bap)
    conn.a_out.connect(sink.a_in)
    try:
        source.run(condition=RunSteps(num_steps=steps), run_cfg=Loihi2SimCfg(select_tag=LAVA_TAGS[options["mode"]]))
        learned = np.asarray(conn.weights.get(), dtype=np.float64)
    finally:
        source.stop()
    return {"dw": learned - weights, "rule": np.array(rule.dw_str)}


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
