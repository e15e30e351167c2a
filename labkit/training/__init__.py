"""Training: the loop for every update rule, its checkpoints, the competitive layer's loop.

* :mod:`~labkit.training.loop`        `train` (every rule of `labkit.rules`, the ANN baseline)
* :mod:`~labkit.training.evaluation`  `evaluate` (accuracy), `predict_classes`, `evaluate_readouts`
* :mod:`~labkit.training.history`     `History`, the per-epoch record of a run; `TrainingDiverged`
* :mod:`~labkit.training.checkpoint`  the one resume rule, for both loops
* :mod:`~labkit.training.inputs`      the inputs checked at the door (`Data`, images, labels, keywords)
* :mod:`~labkit.training.competitive` `train_competitive`, the unsupervised STDP layer's loop
* :mod:`~labkit.training.live`        `LiveRun`, training in the background for one or several seeds,
  reporting as it goes (what the chapter-5 dashboard drives; no widgets)

`train` is deterministic for a given seed: the batch order and the rate-code spikes of epoch e
come from the named seed streams of `labkit.foundation.seeds`, so a run resumed from the
checkpoint of epoch e continues with exactly the random numbers an uninterrupted run would have
drawn.
"""

from __future__ import annotations

from ..data.record import Data
from ..foundation.runtime import resolve_device
from .checkpoint import CheckpointBusy, checkpoint_lock
from .competitive import CompetitiveResult, train_competitive
from .history import History, TrainingDiverged
from .evaluation import evaluate, evaluate_readouts, predict_classes
from .loop import load_checkpoint, paper_loss, predict, train
from .live import LiveRun, LiveSettings, RecordedRun, runs_csv, summarize

__all__ = [
    "CheckpointBusy",
    "CompetitiveResult",
    "Data",
    "History",
    "LiveRun",
    "LiveSettings",
    "RecordedRun",
    "TrainingDiverged",
    "checkpoint_lock",
    "evaluate",
    "evaluate_readouts",
    "load_checkpoint",
    "paper_loss",
    "predict",
    "predict_classes",
    "resolve_device",
    "runs_csv",
    "summarize",
    "train",
    "train_competitive",
]
