"""Real N-MNIST through tonic, for users who have the recordings (they cannot be downloaded everywhere).

`load_nmnist` reads the real recordings through `tonic.datasets.NMNIST` for users who have
them in data/nmnist/ (tonic's layout); they cannot be downloaded everywhere (`fetch_nmnist`).
`simulate_saccades` is the offline stand-in: the same camera model applied to MNIST digits
moved along the same triangle, vectorised over pixels and digits. Its output is tonic's event
format, so tonic's transforms apply unchanged, and `write_nmnist_file` writes N-MNIST's own
binary format. Data made this way is always called "simulated N-MNIST": accuracies on it are
not comparable with published N-MNIST figures.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from ..foundation.validation import check_int
from .record import Data
from .events import NMNIST_SENSOR_SIZE
from .files import data_dir
from .frames import cache_file, load_cache, pack, save_frames_atomic, unpack
from .mnist import Split, check_split

__all__ = ["NMNIST_HOME", "fetch_nmnist", "load_nmnist", "load_nmnist_data", "nmnist_available"]


#: Where the N-MNIST recordings come from (tonic downloads the same archives).
NMNIST_HOME = "https://www.garrickorchard.com/datasets/n-mnist"


def _nmnist_dir(root: str | os.PathLike | None) -> Path:
    """``data/nmnist``: tonic keeps the dataset in its ``NMNIST/`` subfolder."""
    return data_dir(root) / "nmnist"


def _nmnist_instructions(folder: Path) -> str:
    where = folder / "NMNIST"
    return (
        f"N-MNIST is not in {where}. Download train.zip and test.zip from {NMNIST_HOME} "
        f"(Orchard et al. 2015; tonic fetches the same files from data.mendeley.com, dataset 468j46mzdv) "
        f"and put them in {where}/, unzipped in place, so that {where}/train.zip, "
        f"{where}/Train/0/00002.bin, ..., {where}/test.zip and {where}/Test/9/... exist "
        "(tonic's layout; `labkit data fetch nmnist` does this where the web is reachable). "
        "Without N-MNIST, use the simulated stand-in: labkit.data.nmnist_sim_data(...)."
    )


def _tonic_nmnist_class(*, offline: bool):
    """tonic's NMNIST; ``offline`` replaces its download by a FileNotFoundError with instructions."""
    from tonic.datasets import NMNIST

    if not offline:
        return NMNIST

    class OfflineNMNIST(NMNIST):
        def download(self) -> None:
            raise FileNotFoundError(_nmnist_instructions(Path(self.location_on_system).parent))

    OfflineNMNIST.__name__ = "NMNIST"  # tonic names the dataset folder after the class
    return OfflineNMNIST


def nmnist_available(root: str | os.PathLike | None = None) -> bool:
    """True when both N-MNIST splits are in ``data/nmnist/NMNIST/`` (tonic's layout, archives and 10,000+ .bin each)."""
    where = _nmnist_dir(root) / "NMNIST"
    for archive, folder in (("train.zip", "Train"), ("test.zip", "Test")):
        if not (where / archive).is_file() or not (where / folder).is_dir():
            return False
        if sum(1 for _ in zip(range(10_000), (where / folder).glob("**/*.bin"))) < 10_000:
            return False
    return True


def fetch_nmnist(root: str | os.PathLike | None = None, *, quiet: bool = False) -> Path:
    """Download N-MNIST into ``data/nmnist/`` with tonic (the command ``labkit data fetch nmnist``).

    A no-op when both splits are there; ``quiet`` hides tonic's messages and progress bars.
    Where the download fails (no web access, the host moved), raises `FileNotFoundError` that
    says where to get the files and where to put them. Returns the folder given to tonic
    (``data/nmnist``).
    """
    folder = _nmnist_dir(root)
    if nmnist_available(root):
        return folder
    import contextlib
    import io

    nmnist = _tonic_nmnist_class(offline=False)
    folder.mkdir(parents=True, exist_ok=True)
    sink = io.StringIO()  # with quiet, tonic's download messages and progress bars are dropped
    hush = (contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink)) if quiet else ()
    try:
        with contextlib.ExitStack() as stack:
            for context in hush:
                stack.enter_context(context)
            for train in (True, False):
                nmnist(save_to=str(folder), train=train)
    except Exception as exc:  # noqa: BLE001  (urllib, zip and checksum errors all mean the same here)
        raise FileNotFoundError(
            f"could not download N-MNIST ({type(exc).__name__}: {exc}).\n" + _nmnist_instructions(folder)
        ) from exc
    return folder


def load_nmnist(
    split: Split = "train",
    root: str | os.PathLike | None = None,
    num_bins: int = 25,
    denoise: bool = True,
    *,
    filter_time_us: int = 10_000,
    limit: int | None = None,
    cache: bool = True,
    progress: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Real N-MNIST as binary frames ``[N, T, 2, 34, 34]`` (float32 in {0, 1}) and labels ``[N]``.

    Reads ``data/nmnist/NMNIST/`` (tonic's layout) through ``tonic.datasets.NMNIST`` with the
    transforms ``Denoise(filter_time=filter_time_us)`` (drops events with no neighbour within
    1 pixel and ``filter_time_us``; optional) and ``ToFrame(n_time_bins=num_bins)`` (T bins
    spanning each recording, as tonic slices them), then clips counts to {0, 1} as
    `nmnist_sim_data` does. ``limit`` keeps an evenly spaced subset (tonic lists the files class
    by class, so the first files would all be zeros). Converted frames are cached in
    ``data/cache/``: tonic's Denoise is a Python loop over events, so the first full pass
    takes a while.

    Raises:
        FileNotFoundError: N-MNIST is not there; the message says how to get it.
    """
    check_split(split)
    check_int("num_bins", num_bins, 1)
    check_int("limit", limit, 1, allow_none=True)
    folder = _nmnist_dir(root)
    key = {"v": 1, "split": split, "num_bins": num_bins, "denoise": bool(denoise),
           "filter_time_us": filter_time_us, "limit": limit}
    path = cache_file("nmnist", key, root)
    sensor = NMNIST_SENSOR_SIZE[0]
    shape = (num_bins, 2, sensor, sensor)
    stored = load_cache(path) if cache and path.is_file() else None
    if stored is None:
        import tonic.transforms as tt
        from tqdm.auto import tqdm

        steps = [tt.Denoise(filter_time=filter_time_us)] if denoise else []
        steps.append(tt.ToFrame(sensor_size=NMNIST_SENSOR_SIZE, n_time_bins=num_bins))
        dataset = _tonic_nmnist_class(offline=True)(
            save_to=str(folder), train=split == "train", transform=tt.Compose(steps)
        )
        count = len(dataset) if limit is None else min(limit, len(dataset))
        if count == 0:
            raise FileNotFoundError(_nmnist_instructions(folder))
        index = np.linspace(0, len(dataset) - 1, count).round().astype(np.int64)
        bits, labels = [], []
        for i in tqdm(index, desc=f"N-MNIST {split}", disable=not progress):
            frames, label = dataset[int(i)]
            bits.append(pack((np.asarray(frames)[None] > 0).astype(np.uint8)))
            labels.append(label)
        stored = {"bits": np.concatenate(bits), "y": np.asarray(labels, np.int64)}
        if cache:
            save_frames_atomic(path, **stored)
    return unpack(stored["bits"], (len(stored["y"]), *shape)), torch.from_numpy(stored["y"].astype(np.int64))


def load_nmnist_data(
    n_train: int | None = None,
    n_test: int | None = None,
    num_bins: int = 25,
    denoise: bool = True,
    *,
    root: str | os.PathLike | None = None,
    progress: bool = True,
):
    """Real N-MNIST as a `labkit.training.Data` (``temporal=True``, name ``"nmnist"``); see `load_nmnist`."""
    train_x, train_y = load_nmnist("train", root, num_bins, denoise, limit=n_train, progress=progress)
    test_x, test_y = load_nmnist("test", root, num_bins, denoise, limit=n_test, progress=progress)
    return Data(train_x, train_y, test_x, test_y, temporal=True, name="nmnist")
