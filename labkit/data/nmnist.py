"""Real N-MNIST through tonic, for users who have the recordings (they cannot be downloaded everywhere).

`load_nmnist` reads the real recordings for users who have them in data/nmnist/ (tonic's
layout, checked file by file) and bins them with tonic's transforms; they cannot be downloaded
everywhere (`fetch_nmnist`).
`simulate_saccades` is the offline stand-in: the same camera model applied to MNIST digits
moved along the same triangle, vectorised over pixels and digits. Its output is tonic's event
format, so tonic's transforms apply unchanged, and `write_nmnist_file` writes N-MNIST's own
binary format. Data made this way is always called "simulated N-MNIST": accuracies on it are
not comparable with published N-MNIST figures.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path

import numpy as np
import torch

from ..foundation.validation import check_int
from .record import Data
from .events import NMNIST_SENSOR_SIZE
from .files import data_dir
from .frames import cache_file, load_verified, pack, save_verified, unpack
from .mnist import Split, check_split
from .nmnist_format import read_nmnist_file

__all__ = ["NMNIST_HOME", "NMNIST_SPLIT_SIZES", "fetch_nmnist", "load_nmnist", "load_nmnist_data", "nmnist_available"]


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


#: Recordings per split of the published data set (Orchard et al. 2015).
NMNIST_SPLIT_SIZES = {"train": 60_000, "test": 10_000}


def _recordings(folder: Path, split: Split) -> list[tuple[Path, int]]:
    """(file, label) of every recording of ``split`` in tonic's layout, in tonic's order (class folders
    0 … 9, files sorted by name), with a clear error when the folder or its recordings are missing."""
    where = folder / "NMNIST" / ("Train" if split == "train" else "Test")
    if not where.is_dir():
        raise FileNotFoundError(f"{where} is missing. " + _nmnist_instructions(folder))
    found = [(f, int(d.name)) for d in sorted(where.iterdir()) if d.is_dir() and d.name in tuple("0123456789")
             for f in sorted(d.glob("*.bin"))]
    if not found:
        raise FileNotFoundError(f"{where} holds no recordings (.bin files in class folders 0 … 9). "
                                + _nmnist_instructions(folder))
    full = NMNIST_SPLIT_SIZES[split]
    if len(found) < full:
        warnings.warn(f"{where} holds {len(found):,} recordings; N-MNIST's {split} split has {full:,}. Results on a "
                      f"part are not comparable with published figures: extract {split}.zip in full.", stacklevel=3)
    return found


def _fingerprint(files: list[tuple[Path, int]], folder: Path) -> str:
    """A digest of the recordings' names, labels, sizes and modification times: a changed file changes it."""
    digest = hashlib.sha256()
    for path, label in files:
        stat = path.stat()
        digest.update(f"{path.relative_to(folder)}\t{label}\t{stat.st_size}\t{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


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

    Reads the recordings in ``data/nmnist/NMNIST/Train/<digit>/*.bin`` (``Test/`` for the test
    split; tonic's layout, the label is the class folder) with `read_nmnist_file`, which checks
    each file, then applies tonic's transforms ``Denoise(filter_time=filter_time_us)`` (drops
    events with no neighbour within 1 pixel and ``filter_time_us``; optional) and
    ``ToFrame(n_time_bins=num_bins)`` (T bins spanning each recording, as tonic slices them), and
    clips counts to {0, 1} as `nmnist_sim_data` does. A folder with fewer recordings than the
    published split is read, with a warning. ``limit`` keeps an evenly spaced subset (the files
    are listed class by class, so the first files would all be zeros). Converted frames are
    cached in ``data/cache/`` (verified, keyed by the files' names, sizes and times): tonic's
    Denoise is a Python loop over events, so the first full pass takes a while.

    Raises:
        FileNotFoundError: the split's folder or its recordings are missing; the message says how to get them.
        DamagedFileError: a recording is empty, truncated or not an N-MNIST file; the message names it.
    """
    check_split(split)
    check_int("num_bins", num_bins, 1)
    check_int("limit", limit, 1, allow_none=True)
    folder = _nmnist_dir(root)
    files = _recordings(folder, split)
    count = len(files) if limit is None else min(limit, len(files))
    index = np.linspace(0, len(files) - 1, count).round().astype(np.int64)
    files = [files[i] for i in index]
    identity = {"data": "N-MNIST recordings", "v": 2, "split": split, "num_bins": num_bins, "denoise": bool(denoise),
                "filter_time_us": filter_time_us, "files": _fingerprint(files, folder)}
    path = cache_file(f"nmnist-{split}", identity, root)
    sensor = NMNIST_SENSOR_SIZE[0]
    shape = (num_bins, 2, sensor, sensor)
    found = load_verified(path, identity) if cache and path.is_file() else None
    if found is not None:
        stored = found[0]
    else:
        import tonic.transforms as tt
        from tqdm.auto import tqdm

        clean = tt.Denoise(filter_time=filter_time_us) if denoise else None
        to_frame = tt.ToFrame(sensor_size=NMNIST_SENSOR_SIZE, n_time_bins=num_bins)
        archive = f"{split}.zip"
        bits = []
        for file, _ in tqdm(files, desc=f"N-MNIST {split}", disable=not progress):
            events = read_nmnist_file(file, remedy=f"Extract it again from {archive} ({NMNIST_HOME}) or delete it.")
            if clean is not None and len(events):
                events = clean(events)
            frames = np.asarray(to_frame(events)) if len(events) else np.zeros(shape, np.int64)  # nothing left: silent
            bits.append(pack((frames[None] > 0).astype(np.uint8)))
        stored = {"bits": np.concatenate(bits), "y": np.asarray([label for _, label in files], np.int64)}
        if cache:
            save_verified(path, dict(identity, count=len(files)), **stored)
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
