"""Tests for the cache of simulated N-MNIST (labkit.data.nmnist_sim.nmnist_sim_frames): one verified,
atomically written file per split, reused (and sliced) on later calls, rebuilt when stale or damaged."""

from __future__ import annotations

import json
import shutil
import warnings

import numpy as np
import pytest
import torch

from labkit import data
from labkit.data import nmnist_sim
from labkit.data.nmnist_sim import nmnist_sim_frames

SENSOR = data.NMNIST_SENSOR_SIZE[0]


@pytest.fixture()
def root(tmp_path):
    """A data folder holding only the bundled MNIST subset (so caches land in tmp_path)."""
    shutil.copy(data.bundled_file(), tmp_path / data.MINI_FILE)
    return tmp_path


def frames(root, split="train", count=10, **kw):
    return nmnist_sim_frames(split, count, 5, source="bundled", root=root, **kw)


def no_simulation(monkeypatch):
    """Make any further simulation fail the test: what follows must come from the cache."""
    def refuse(*args, **kwargs):
        raise AssertionError("the simulator ran although the cache holds the digits")
    monkeypatch.setattr(nmnist_sim, "iter_simulated", refuse)


def rewrite(path, **changes):
    """Rewrite a cache file with some arrays (or the identity record, as a dict) replaced."""
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    for name, value in changes.items():
        arrays[name] = np.array(json.dumps(value)) if isinstance(value, dict) else value
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def test_a_split_is_simulated_once_and_reused_from_its_cache_file(root, monkeypatch):
    first = frames(root)
    assert first.path is not None and first.path.is_file() and first.path.name.startswith("nmnist-sim-train-")
    assert first.bits.shape == (10, 5 * 2 * SENSOR * SENSOR // 8) and first.bits.dtype == np.uint8, "bit-packed"
    no_simulation(monkeypatch)
    again = frames(root)
    assert np.array_equal(first.bits, again.bits) and np.array_equal(first.labels, again.labels), "same digits reloaded"
    assert torch.equal(first.frames(), again.frames()) and first.frames().shape == (10, 5, 2, SENSOR, SENSOR)


def test_fewer_digits_are_sliced_from_the_cache_and_equal_a_fresh_simulation(root, monkeypatch):
    frames(root, count=300)  # more than one chunk of 256 digits
    fresh = frames(root, count=270, cache=False)
    no_simulation(monkeypatch)
    sliced = frames(root, count=270)
    assert np.array_equal(sliced.bits, fresh.bits), "the first n of a longer simulation are the n of a shorter one"
    assert np.array_equal(sliced.labels, fresh.labels)


def test_more_digits_than_cached_rebuild_the_file_larger(root):
    frames(root, count=4)
    bigger = frames(root, count=9)
    assert len(bigger) == 9
    record = json.loads(str(np.load(bigger.path)["identity"]))
    assert record["count"] == 9, "the file now holds the larger set"


def test_the_identity_record_names_the_data_and_checksums_its_arrays(root):
    packed = frames(root, split="test", count=6, seed=4)
    record = json.loads(str(np.load(packed.path)["identity"]))
    assert "simulated" in record["data"] and "not the sensor recordings" in record["data"], "labelled simulated"
    assert (record["split"], record["count"], record["seed"], record["num_bins"]) == ("test", 6, 4, 5)
    assert set(record["sha256"]) == {"bits", "y"} and all(len(h) == 64 for h in record["sha256"].values())


def test_a_damaged_cache_is_detected_by_its_checksum_and_rebuilt(root):
    good = frames(root)
    flipped = good.bits.copy()
    flipped[0, 0] ^= 1  # one bit of one frame: a zip file re-written this way is readable, only the checksum knows
    rewrite(good.path, bits=flipped)
    with pytest.warns(UserWarning, match="SHA-256"):
        rebuilt = frames(root)
    assert np.array_equal(rebuilt.bits, good.bits), "rebuilt, not trained on the damaged bits"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frames(root)  # the rebuilt file verifies


def test_a_truncated_cache_file_is_rebuilt_with_a_warning_naming_it(root):
    good = frames(root)
    raw = good.path.read_bytes()
    good.path.write_bytes(raw[: len(raw) // 2])
    with pytest.warns(UserWarning, match=good.path.name):
        rebuilt = frames(root)
    assert np.array_equal(rebuilt.bits, good.bits)


def test_a_cache_file_made_for_other_settings_is_not_used(root):
    good = frames(root)
    record = json.loads(str(np.load(good.path)["identity"]))
    rewrite(good.path, identity=dict(record, seed=7))
    with pytest.warns(UserWarning, match="differs in seed"):
        rebuilt = frames(root)
    assert np.array_equal(rebuilt.bits, good.bits)


def test_nmnist_sim_data_unpacks_the_cached_frames_of_both_splits(root):
    d = data.nmnist_sim_data(7, 3, num_bins=5, source="bundled", root=root)
    train, test = frames(root, count=7), frames(root, split="test", count=3)
    assert torch.equal(d.train_x, train.frames()) and torch.equal(d.test_x, test.frames())
    assert d.train_y.tolist() == train.labels.tolist() and d.test_y.dtype == torch.int64
