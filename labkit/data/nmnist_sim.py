"""Simulated N-MNIST as a `Data` record: saccade events of MNIST digits binned into frames (always labelled "simulated").

Each split is simulated once and cached bit-packed in ``data/cache/`` (`nmnist_sim_frames`): one
verified file per split, camera and binning, holding the first N digits. A later call for the
same or fewer digits slices that file: the simulator draws its random numbers digit after digit,
so the first n digits of a longer run are exactly the n digits of a shorter one. The full set
(60,000 + 10,000 digits at T = 25) takes 7,225 bytes per digit, about 506 MB.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from ..foundation.validation import check_int
from ..encoders import FrameEncoder
from .record import Data
from .events import NMNIST_SENSOR_SIZE
from .files import data_dir
from .frames import bin_to_frames, cache_file, load_verified, pack, save_verified, unpack
from .mnist import Source, Split, check_full_mnist, check_split, load_mnist, mnist_available, mnist_dir
from .saccades import SaccadeParams, iter_simulated

__all__ = ["FRAME_STORAGE", "PackedFrames", "nmnist_sim_data", "nmnist_sim_frames"]

#: How `nmnist_sim_data` stores the frames of its `Data`: float32 frames, or the cache's packed bits.
FRAME_STORAGE = ("float", "packed")


#: Version of the simulated-N-MNIST cache: bump it when the simulator or the binning changes its output.
CACHE_VERSION = 2


@dataclass(frozen=True)
class PackedFrames:
    """Binary frames of one split, bit-packed: ``bits`` ``[N, ⌈T·2·34·34 / 8⌉]`` (uint8), ``labels`` ``[N]``,
    ``shape`` = ``(T, 2, 34, 34)`` of one sample; ``path`` is the cache file (None without cache)."""
    bits: np.ndarray
    labels: np.ndarray
    shape: tuple[int, ...]
    path: Path | None = None

    def __len__(self) -> int:
        return len(self.labels)

    def frames(self, index=slice(None)) -> torch.Tensor:
        """The frames of the samples ``index`` (a slice or integer array) as float32 ``[n, T, 2, 34, 34]`` in {0, 1}."""
        bits = self.bits[index]
        return unpack(bits, (len(bits), *self.shape))


def _resolve_source(source: Source, root) -> str:
    if source not in ("auto", "full", "bundled"):
        raise ValueError(f"unknown source {source!r}: use 'auto', 'full' or 'bundled'")
    if source != "auto":
        return source
    check_full_mnist(mnist_dir(data_dir(root)))
    if mnist_available(root):
        return "full"
    warnings.warn(
        "full MNIST not found: simulating from the bundled subset (6,000 train / 1,000 test digits). "
        "Run `labkit data fetch mnist` for the full 60,000 / 10,000.",
        stacklevel=3,
    )
    return "bundled"


def nmnist_sim_frames(
    split: Split,
    count: int,
    num_bins: int = 25,
    seed: int = 0,
    source: Source = "auto",
    *,
    params: SaccadeParams = SaccadeParams(),
    cache: bool = True,
    root: str | os.PathLike | None = None,
    progress: bool = False,
) -> PackedFrames:
    """The first ``count`` digits of one MNIST split as simulated N-MNIST frames, bit-packed (`PackedFrames`).

    The digits go through `simulate_saccades` (rng seeded by ``(seed, 0)`` for train and
    ``(seed, 1)`` for test) and are binned into ``num_bins`` equal time bins over the sample's
    duration; a frame is 1 where a pixel emitted at least one event of that polarity in the bin.

    With ``cache`` the split is kept in ``data/cache/nmnist-sim-<split>-<digest>.npz``, written
    atomically with an identity record (the arguments, the digit count, each array's SHA-256),
    checked on every reuse. A file holding at least ``count`` digits is sliced; a smaller,
    stale or damaged one is rebuilt (with a warning for the last two). Building the full
    training split is a minute or two on one core; use this to build the cache without
    unpacking it (``nmnist_sim_data`` unpacks to float32, 231 kB per digit, unless ``frames="packed"``).
    """
    check_split(split)
    check_int("count", count, 0)
    check_int("num_bins", num_bins, 1)
    if not isinstance(params, SaccadeParams):
        raise ValueError(f"params must be a SaccadeParams, got {type(params).__name__}")
    resolved = _resolve_source(source, root)
    sensor = NMNIST_SENSOR_SIZE[0]
    shape = (num_bins, 2, sensor, sensor)
    identity = {"data": "simulated N-MNIST (events simulated from MNIST digits, not the sensor recordings)",
                "v": CACHE_VERSION, "split": split, "num_bins": num_bins, "seed": seed, "source": resolved,
                "params": repr(params)}
    path = cache_file(f"nmnist-sim-{split}", identity, root)
    if cache and path.is_file():
        found = load_verified(path, identity)
        if found is not None and found[1]["count"] >= count:
            stored = found[0]
            return PackedFrames(stored["bits"][:count], stored["y"][:count], shape, path)
    if count == 0:
        return PackedFrames(pack(np.zeros((0, *shape), np.uint8)), np.zeros(0, np.int64), shape, None)
    images, labels = load_mnist(split, source=resolved, root=root, dtype="uint8")
    if count > len(images):
        raise ValueError(
            f"n_{split}={count} but the {resolved} MNIST {split} split has only {len(images)} digits"
            + (": run `labkit data fetch mnist` for the full set" if resolved == "bundled" else "")
        )
    rng = np.random.default_rng([seed, 0 if split == "train" else 1])
    bits = [pack(bin_to_frames(b, x, y, t, p, n, num_bins, params.duration_us))
            for _, n, b, x, y, t, p in iter_simulated(images[:count], rng, params, 256, progress,
                                                      f"simulating {split} digits")]
    packed = PackedFrames(np.concatenate(bits), labels[:count].numpy().astype(np.int64), shape,
                          path if cache else None)
    if cache:
        save_verified(path, dict(identity, count=count), bits=packed.bits, y=packed.labels)
    return packed


def nmnist_sim_data(
    n_train: int,
    n_test: int,
    num_bins: int = 25,
    seed: int = 0,
    source: Source = "auto",
    *,
    params: SaccadeParams = SaccadeParams(),
    cache: bool = True,
    root: str | os.PathLike | None = None,
    progress: bool = False,
    frames: Literal["float", "packed"] = "float",
):
    """Simulated N-MNIST as a `labkit.training.Data` (``temporal=True``, name ``"nmnist-sim"``).

    The first ``n_train`` training and ``n_test`` test digits of MNIST (``source`` as in
    `load_mnist`), simulated and binned by `nmnist_sim_frames` (cached per split).

    Inputs are ``[N, T, 2, 34, 34]`` float32 **spikes in {0, 1}**: 1 where a pixel emitted at
    least one event of that polarity in the bin (counts are clipped). The input layer thus
    sees spikes, as with rate-coded MNIST, so the same network, STDP traces and energy
    accounting apply; a count would make one input "spike" worth several.

    ``frames``: ``"float"`` (default) stores them as float32 ``[N, T, 2, 34, 34]``: 4 bytes x T x
    2312 per digit (231 kB at T = 25), so 10,000 digits take 2.3 GB and the full 70,000 16 GB.
    ``"packed"`` keeps the cache's bits, ``[N, ⌈T·2312/8⌉]`` uint8 (7,225 bytes per digit at T = 25,
    506 MB for all 70,000), with ``encoding=FrameEncoder(packed=(T, 2, 34, 34))``: training and
    evaluation unpack one batch at a time, with the same numbers as ``"float"``.

    This data is *simulated*: accuracies on it are not comparable with published N-MNIST results.
    """
    for name, value in (("n_train", n_train), ("n_test", n_test)):
        check_int(name, value, 0)
    if frames not in FRAME_STORAGE:
        raise ValueError(f"frames must be one of {', '.join(map(repr, FRAME_STORAGE))}, got {frames!r}")
    resolved = _resolve_source(source, root)
    train, test = (nmnist_sim_frames(split, count, num_bins, seed, resolved, params=params, cache=cache, root=root,
                                     progress=progress)
                   for split, count in (("train", n_train), ("test", n_test)))
    if frames == "packed":
        return Data(torch.from_numpy(train.bits), torch.from_numpy(train.labels), torch.from_numpy(test.bits),
                    torch.from_numpy(test.labels), temporal=True, name="nmnist-sim",
                    encoding=FrameEncoder(packed=train.shape))
    return Data(
        train.frames(),
        torch.from_numpy(train.labels),
        test.frames(),
        torch.from_numpy(test.labels),
        temporal=True,
        name="nmnist-sim",
    )
