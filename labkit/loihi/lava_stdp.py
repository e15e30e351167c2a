"""STDP in Lava's learning engine on given spike trains, in this interpreter (numpy + lava-nc).

`labkit.loihi.lava_runner.run_lava_stdp` calls it here or in the Lava sidecar; `labkit.loihi.learning`
compares its weight change with the lab's rule.
"""

from __future__ import annotations

import numpy as np

from .lava_network import LAVA_TAGS

__all__ = ["lava_stdp_inprocess"]


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
