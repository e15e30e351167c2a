"""The record a training run takes: train and test tensors, the data's name and how its inputs become spikes.

Images ``[N, ...]`` in [0, 1] are rate-coded each time they are used (`labkit.encoders.RateEncoder`);
event data is stored as frames ``[N, T, ...]`` and only made time-first
(`labkit.encoders.FrameEncoder`). ``Data.encoder`` is the one place that decides which: pass
``encoding=`` for another encoder, or ``temporal=True`` for stored frames.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from ..encoders import Encoder, FrameEncoder, RateEncoder

__all__ = ["Data"]


class Data(NamedTuple):
    """Train and test tensors. Images ``[N, ...]`` in [0, 1] are rate-coded by the loop;
    with ``temporal=True`` the inputs are already ``[N, T, ...]`` spike/event frames."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    temporal: bool = False
    name: str = "data"
    encoding: Encoder | None = None

    @property
    def encoder(self) -> Encoder:
        """The encoder of this data: ``encoding`` if given, else event frames (``temporal``) or the rate code."""
        if self.encoding is not None:
            return self.encoding
        return FrameEncoder() if self.temporal else RateEncoder()
