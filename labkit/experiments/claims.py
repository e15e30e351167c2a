"""What the report compares with: the paper's figures, the runs in report order and their labels."""

from __future__ import annotations

from ..foundation import paper

__all__ = ["DEFAULT_EPOCHS", "EARLIER_READOUT", "LABELS", "PAPER_ABLATION", "PAPER_NOISE", "PAPER_TABLE1", "RUN_ORDER"]


#: Table I of the paper (test accuracy, %).
PAPER_TABLE1 = paper.TABLE_I


#: Noise robustness at σ = 0.3 (paper: BP 97.5 → 88.4, hybrid → 91.6).
PAPER_NOISE = paper.NOISE_ACCURACY


#: Ablations (points lost by the hybrid): disabling STDP −1.7, disabling BP −5.3.
PAPER_ABLATION = paper.ABLATION_POINTS


RUN_ORDER = ("ann", "bp", "adaptive", "sum", "stdp", "stdp_only")


LABELS = {
    "stdp_only": "STDP only (unsupervised, 500 neurons)",
    "bp": "surrogate BP",
    "sum": "hybrid, paper's literal sum",
    "adaptive": "hybrid A-STDP (adaptive)",
    "stdp": "hybrid with BP disabled (η2 = 0)",
    "ann": "ANN baseline (ReLU 784-500-10)",
}


DEFAULT_EPOCHS = {"mnist": 15, "nmnist-sim": 10, "nmnist": 10}


#: The readout of runs from before eval.json recorded it.
EARLIER_READOUT = {"ann": "argmax", "stdp_only": "labelled-neuron vote"}
