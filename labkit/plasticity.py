"""The names the chapters import from ``labkit.plasticity``: STDP (`labkit.stdp`), the competitive
layer (`labkit.competitive`) and its training loop (`labkit.training.competitive`)."""

from __future__ import annotations

from .competitive import (
    COMPETITIVE_STDP,
    CompetitiveLayer,
    CompetitiveParams,
    assign_labels,
    classify,
    competitive_forward,
    competitive_update,
    confusion_matrix,
    init_competitive_weights,
    normalize_weights,
)
from .stdp import STDPParams, clip_weights, decay_matrix, stdp_update, stdp_window, traces, window_matrix
from .training.competitive import CompetitiveResult, train_competitive

__all__ = [
    "COMPETITIVE_STDP", "CompetitiveLayer", "CompetitiveParams", "CompetitiveResult", "STDPParams", "assign_labels",
    "classify", "clip_weights", "competitive_forward", "competitive_update", "confusion_matrix", "decay_matrix",
    "init_competitive_weights", "normalize_weights", "stdp_update", "stdp_window", "train_competitive", "traces",
    "window_matrix",
]
