"""The real-data path: `labkit reproduce --dataset nmnist` on a folder in tonic's N-MNIST layout.

The recordings cannot be downloaded here, so the tests write a miniature N-MNIST with the lab's
binary writer (simulated events of bundled MNIST digits, a few per class) and run the command on
it end to end; damaged or missing files must stop it with a message that names the file."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from labkit import data
from labkit.cli import main
from labkit.data.nmnist_format import read_nmnist_file

tonic = pytest.importorskip("tonic")

SENSOR = data.NMNIST_SENSOR_SIZE[0]
PER_CLASS = {"Train": 3, "Test": 2}


@pytest.fixture(scope="module")
def recordings():
    """Simulated events of bundled MNIST digits, ``PER_CLASS`` of each class and split: {(split, class): [events]}."""
    out = {}
    for folder, split in (("Train", "train"), ("Test", "test")):
        images, labels = data.load_mnist(split, source="bundled", dtype="uint8", limit=200)
        labels = labels.numpy()
        for label in range(10):
            chosen = images.numpy()[labels == label][: PER_CLASS[folder]]
            out[folder, label] = data.simulate_saccades(chosen, rng=np.random.default_rng(label))
    return out


@pytest.fixture()
def nmnist_root(tmp_path, recordings, monkeypatch):
    """A data folder (``$LABKIT_DATA``) with N-MNIST in tonic's layout: nmnist/NMNIST/{Train,Test}/<digit>/NNNNN.bin."""
    folder = tmp_path / "data" / "nmnist" / "NMNIST"
    number = 0
    for (split, label), events in recordings.items():
        for e in events:
            number += 1
            data.write_nmnist_file(folder / split / str(label) / f"{number:05d}.bin", e)
    monkeypatch.setenv("LABKIT_DATA", str(tmp_path / "data"))
    return tmp_path / "data"


def reproduce(tmp_path, capsys):
    """Run ``labkit reproduce --dataset nmnist`` with the smallest settings; returns (exit status, stderr)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the folder is far smaller than N-MNIST: warned, but expected here
        status = main(["reproduce", "--dataset", "nmnist", "--quick", "--rules", "bp", "--out", str(tmp_path / "out")])
    return status, capsys.readouterr().err


def test_reader_decodes_the_writers_files_as_tonic_does(tmp_path, recordings):
    events = recordings["Train", 4][0]
    path = data.write_nmnist_file(tmp_path / "one.bin", events)
    got = read_nmnist_file(path)
    assert np.array_equal(got, events), "what the writer wrote, read back"
    theirs = tonic.io.read_mnist_file(str(path), dtype=tonic.datasets.NMNIST.dtype)
    assert all(np.array_equal(got[f].astype(np.int64), theirs[f].astype(np.int64)) for f in "xytp"), "as tonic reads it"


def test_reproduce_runs_end_to_end_on_a_folder_in_tonics_layout(tmp_path, nmnist_root, capsys):
    status, err = reproduce(tmp_path, capsys)
    assert status == 0, err
    result = json.loads((tmp_path / "out" / "nmnist-quick" / "runs" / "bp_s0" / "eval.json").read_text())
    assert result["rule"] == "bp" and 0 <= result["test_acc"] <= 1
    assert (tmp_path / "out" / "nmnist-quick" / "report.md").is_file(), "the report is written"
    with pytest.warns(UserWarning, match="holds 20 recordings"):
        frames, labels = data.load_nmnist("test", progress=False)
    assert frames.shape == (20, 25, 2, SENSOR, SENSOR) and sorted(labels.tolist()) == sorted(list(range(10)) * 2)


def test_a_folder_smaller_than_n_mnist_is_read_with_a_warning(nmnist_root):
    with pytest.warns(UserWarning, match="holds 20 recordings; N-MNIST's test split has 10,000"):
        data.load_nmnist("test", num_bins=5, progress=False)


def test_a_truncated_recording_is_named_and_the_command_says_what_to_do(tmp_path, nmnist_root, capsys):
    victim = nmnist_root / "nmnist" / "NMNIST" / "Train" / "7" / sorted(
        p.name for p in (nmnist_root / "nmnist" / "NMNIST" / "Train" / "7").iterdir())[1]
    victim.write_bytes(victim.read_bytes()[:-3])
    status, err = reproduce(tmp_path, capsys)
    assert status == 2 and "Traceback" not in err, "a clean error, no traceback"
    assert str(victim) in err and "truncated" in err and "train.zip" in err, err


def test_a_file_of_garbage_is_refused_as_not_an_n_mnist_recording(tmp_path, nmnist_root, capsys):
    victim = nmnist_root / "nmnist" / "NMNIST" / "Test" / "3" / "garbage.bin"
    victim.write_bytes(np.random.default_rng(0).integers(0, 256, 5 * 400, dtype=np.uint8).tobytes())
    status, err = reproduce(tmp_path, capsys)
    assert status == 2 and "Traceback" not in err
    assert str(victim) in err and "not an N-MNIST recording" in err and "test.zip" in err, err


def test_an_empty_recording_is_refused(tmp_path, nmnist_root):
    victim = nmnist_root / "nmnist" / "NMNIST" / "Test" / "0" / "00000.bin"
    victim.write_bytes(b"")
    with pytest.raises(data.DamagedFileError, match="is empty"):
        read_nmnist_file(victim)


def test_a_missing_split_folder_is_named_with_where_to_get_it(tmp_path, nmnist_root, capsys):
    import shutil

    shutil.rmtree(nmnist_root / "nmnist" / "NMNIST" / "Test")
    status, err = reproduce(tmp_path, capsys)
    assert status == 2 and "Traceback" not in err
    assert str(nmnist_root / "nmnist" / "NMNIST" / "Test") in err and "is missing" in err, err
    assert "test.zip" in err and "nmnist_sim_data" in err, "says where to get the files, and offers the stand-in"


def test_a_split_folder_without_recordings_is_refused(tmp_path, nmnist_root):
    import shutil

    test_folder = nmnist_root / "nmnist" / "NMNIST" / "Test"
    shutil.rmtree(test_folder)
    (test_folder / "0").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="holds no recordings"):
        data.load_nmnist("test", progress=False)


def test_a_changed_recording_is_not_served_from_the_cache(nmnist_root, recordings):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first, _ = data.load_nmnist("test", num_bins=5, denoise=False, progress=False)
        target = nmnist_root / "nmnist" / "NMNIST" / "Test" / "0" / sorted(
            p.name for p in (nmnist_root / "nmnist" / "NMNIST" / "Test" / "0").iterdir())[0]
        data.write_nmnist_file(target, recordings["Train", 8][0])  # another digit under the same name
        again, _ = data.load_nmnist("test", num_bins=5, denoise=False, progress=False)
    assert not np.array_equal(first[0].numpy(), again[0].numpy()), "the cache is keyed by the files themselves"


def test_quick_reads_an_evenly_spaced_subset_of_the_recordings(tmp_path, monkeypatch, capsys):
    """--quick promises minutes: on the real recordings it asks for at most 2,000 / 500 of them, not all 70,000."""
    asked = []

    def record(*args, **kwargs):
        asked.append((args, kwargs))
        raise data.DamagedFileError("stop after the request")  # a user error: the command ends cleanly

    monkeypatch.setattr(data, "load_nmnist_data", record)
    status, err = reproduce(tmp_path, capsys)
    assert status == 2 and "stop after the request" in err
    assert asked == [((2000, 500), {})], "the quick run's limits reach the loader"
