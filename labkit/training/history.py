"""The record of a training run: what every epoch measured, and the error of a run that diverged."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from ..foundation.errors import LabkitError

__all__ = ["History", "TrainingDiverged"]


class TrainingDiverged(LabkitError, RuntimeError):
    """The loss or the weights stopped being finite (a user error: the message names a smaller learning rate)."""


@dataclass
class History:
    """Per-epoch record of a run (lists indexed by epoch)."""

    loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    epoch_time: list[float] = field(default_factory=list)
    spike_rate: list[list[float]] = field(default_factory=list)
    rule_stats: list[dict[str, float]] = field(default_factory=list)
    config: dict = field(default_factory=dict)
    stopped_early: bool = False

    @property
    def epochs(self) -> int:
        return len(self.loss)

    def epochs_to(self, accuracy: float) -> int | None:
        """First epoch (1-based) whose test accuracy reaches ``accuracy``, or None."""
        return next((e + 1 for e, a in enumerate(self.test_acc) if a >= accuracy), None)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str) -> History:
        return cls(**json.loads(text))
