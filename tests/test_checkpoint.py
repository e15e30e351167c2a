"""Tests for labkit.training.checkpoint: one resume rule for both training loops.

A checkpoint path resumes when the file exists and was written with the same settings —
including the same data, down to its size — and otherwise stops with an error naming what
differs. Before this rule a checkpoint of 300 digits was silently continued on more digits, and a
finished one reported its old accuracy for a larger run.
"""

from __future__ import annotations

import pytest
import torch

from labkit.training.checkpoint import check_resumable, data_identity
from labkit.data import mnist_data
from labkit.foundation.errors import LabkitError
from labkit.models import SpikingMLP
from labkit.training import train_competitive
from labkit.training import Data, train

FAST = dict(batch_size=64, num_steps=3, progress=False, device="cpu")


@pytest.fixture(scope="module")
def digits() -> Data:
    return mnist_data("bundled", train_limit=256, test_limit=64)


def _limit(data: Data, n: int) -> Data:
    return Data(data.train_x[:n], data.train_y[:n], data.test_x, data.test_y, name=data.name)


def test_data_identity_tells_apart_sizes_and_contents_of_the_same_name(digits):
    ident = data_identity(digits.name, *digits[:4])
    assert ident == data_identity(digits.name, *digits[:4]), "the same data has the same identity"
    small = _limit(digits, 128)
    assert data_identity(small.name, *small[:4])["n_train"] == 128
    assert data_identity(small.name, *small[:4])["data_digest"] != ident["data_digest"]
    flipped = digits.train_x.flip(-1)
    assert data_identity(digits.name, flipped, *digits[1:4])["data_digest"] != ident["data_digest"], \
        "other images of the same size and name are other data"


@pytest.mark.parametrize("limit", [64, 192])
def test_train_refuses_a_checkpoint_of_another_train_limit(digits, tmp_path, limit):
    ckpt = tmp_path / "run.pt"
    train(SpikingMLP((784, 8, 10), seed=0), "bp", _limit(digits, 128), 1, checkpoint=ckpt, **FAST)
    saved = ckpt.read_bytes()
    # 2 epochs: continue an unfinished run; the same rule applies to a finished one (1 epoch)
    for epochs in (2, 1):
        with pytest.raises(LabkitError, match=r"n_train: checkpoint 128, now " + str(limit)):
            train(SpikingMLP((784, 8, 10), seed=0), "bp", _limit(digits, limit), epochs, checkpoint=ckpt, **FAST)
    assert ckpt.read_bytes() == saved, "a refused resume leaves the checkpoint alone"


def test_train_resumes_its_own_checkpoint_without_being_asked_and_refuses_to_overwrite_it(digits, tmp_path):
    ckpt = tmp_path / "run.pt"
    data = _limit(digits, 128)
    first = train(SpikingMLP((784, 8, 10), seed=0), "bp", data, 1, checkpoint=ckpt, **FAST)
    again = train(SpikingMLP((784, 8, 10), seed=5), "bp", data, 1, checkpoint=ckpt, **FAST)
    assert again.test_acc == first.test_acc and again.epoch_time == first.epoch_time, \
        "an existing checkpoint of the same settings is continued (here: already finished)"
    with pytest.warns(DeprecationWarning, match="checkpoint=PATH"), pytest.raises(LabkitError, match="resume=False"):
        train(SpikingMLP((784, 8, 10), seed=0), "bp", data, 1, checkpoint=ckpt, resume=False, **FAST)


def test_train_competitive_refuses_a_checkpoint_of_other_data(digits, tmp_path):
    ckpt = tmp_path / "stdp.pt"
    kwargs = dict(n_neurons=4, num_steps=3, progress=False, checkpoint=ckpt)
    _, result = train_competitive(digits, train_limit=64, **kwargs)
    with pytest.raises(LabkitError, match=r"n_train: checkpoint 64, now 128"):
        train_competitive(digits, train_limit=128, **kwargs)
    shuffled = Data(digits.train_x.flip(0), digits.train_y.flip(0), digits.test_x, digits.test_y, name=digits.name)
    with pytest.raises(LabkitError, match="data_digest"):
        train_competitive(shuffled, train_limit=64, **kwargs)
    _, cached = train_competitive(digits, train_limit=64, **kwargs)
    assert cached == result, "the same settings still return the finished run's result"


def test_a_checkpoint_without_the_data_record_is_resumed_on_its_name_with_a_warning(tmp_path):
    saved = {"rule": "bp", "data": "mnist"}  # what checkpoints written before the data record hold
    requested = {"rule": "bp", "data": "mnist", "n_train": 60000, "n_test": 10000, "input_shape": [28, 28],
                 "data_digest": "0" * 16}
    with pytest.warns(UserWarning, match="n_train"):
        check_resumable(tmp_path / "old.pt", saved, requested, requested.keys())
    with pytest.warns(UserWarning), pytest.raises(LabkitError, match="data: checkpoint 'mnist', now 'mnist-mini'"):
        check_resumable(tmp_path / "old.pt", saved, {**requested, "data": "mnist-mini"}, requested.keys())


def test_a_checkpoint_of_another_kind_is_named_and_refused(digits, tmp_path):
    ckpt = tmp_path / "weights.pt"
    torch.save({"layers.0.weight": torch.zeros(2)}, ckpt)
    with pytest.raises(LabkitError, match="not a labkit checkpoint"):
        train(SpikingMLP((784, 8, 10)), "bp", digits, 1, checkpoint=ckpt, **FAST)
    with pytest.raises(LabkitError, match="not a labkit checkpoint"):
        train_competitive(digits, n_neurons=4, num_steps=3, progress=False, checkpoint=ckpt)
