"""Tests for labkit.encoders: one object turns a batch into the network's time-first input."""

from __future__ import annotations

import pytest
import torch

from labkit.data import Data
from labkit.encoders import Encoder, FrameEncoder, RateEncoder, frames_if_temporal
from labkit.encoding import encode_rate


def test_the_rate_encoder_draws_the_networks_rate_code():
    images = torch.rand(3, 4, 5, generator=torch.Generator().manual_seed(0))
    got = RateEncoder()(images, 6, torch.Generator().manual_seed(1))
    want = encode_rate(images, 6, generator=torch.Generator().manual_seed(1), silent_draws=False)
    assert got.shape == (6, 3, 4, 5) and torch.equal(got, want), "encode_rate's code, drawn where p > 0, time first"
    assert torch.equal(RateEncoder().static(images), images), "a model without time reads the image itself"


def test_the_frame_encoder_makes_stored_frames_time_first():
    frames = torch.rand(2, 7, 3)  # [N, T, features]
    assert torch.equal(FrameEncoder()(frames, 25), frames.transpose(0, 1)), "[N, T, ...] -> [T, N, ...]; T is stored"
    assert torch.allclose(FrameEncoder().static(frames), frames.mean(dim=1)), "the ANN reads the frames' average"


def test_data_carries_its_encoder():
    x, y = torch.zeros(2, 4), torch.zeros(2, dtype=torch.long)
    assert isinstance(Data(x, y, x, y).encoder, RateEncoder), "images are rate-coded"
    assert isinstance(Data(x, y, x, y, temporal=True).encoder, FrameEncoder), "stored frames are made time-first"
    custom = RateEncoder(gain=0.5)
    assert Data(x, y, x, y, encoding=custom).encoder is custom, "an explicit encoder wins"
    assert all(isinstance(e, Encoder) for e in (RateEncoder(), FrameEncoder())), "both follow the protocol"


def test_the_deprecated_flag_maps_to_the_frame_encoder():
    assert frames_if_temporal(None, None) is None
    with pytest.warns(DeprecationWarning, match="encoder=FrameEncoder"):
        assert isinstance(frames_if_temporal(None, True), FrameEncoder)
