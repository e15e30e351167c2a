"""Simulated N-MNIST as a `Data` record: saccade events of MNIST digits binned into frames (always labelled "simulated")."""

from __future__ import annotations

import os
import warnings

import numpy as np
import torch

from ..foundation.validation import check_int
from .record import Data
from .events import NMNIST_SENSOR_SIZE
from .files import data_dir
from .frames import bin_to_frames, cache_file, load_cache, pack, save_frames_atomic, unpack
from .mnist import Source, check_full_mnist, load_mnist, mnist_available, mnist_dir
from .saccades import SaccadeParams, iter_simulated

__all__ = ["nmnist_sim_data"]


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
):
    """Simulated N-MNIST as a `labkit.training.Data` (``temporal=True``, name ``"nmnist-sim"``).

    The first ``n_train`` training and ``n_test`` test digits of MNIST (``source`` as in
    `load_mnist`) go through `simulate_saccades` (rng seeded by ``(seed, 0)`` for train and
    ``(seed, 1)`` for test) and are binned into ``num_bins`` equal time bins over the
    sample's duration.

    Inputs are ``[N, T, 2, 34, 34]`` float32 **spikes in {0, 1}**: 1 where a pixel emitted at
    least one event of that polarity in the bin (counts are clipped). The input layer thus
    sees spikes, as with rate-coded MNIST, so the same network, STDP traces and energy
    accounting apply; a count would make one input "spike" worth several. Memory: 4 bytes x
    T x 2312 per digit (231 kB at T = 25), so 10,000 digits take 2.3 GB.

    The result is cached in ``data/cache/`` (bit-packed, written atomically) and reloaded
    when the same arguments are asked for again. This data is *simulated*: accuracies on it
    are not comparable with published N-MNIST results.
    """
    for name, value in (("n_train", n_train), ("n_test", n_test)):
        check_int(name, value, 0)
    check_int("num_bins", num_bins, 1)
    if not isinstance(params, SaccadeParams):
        raise ValueError(f"params must be a SaccadeParams, got {type(params).__name__}")
    if source not in ("auto", "full", "bundled"):
        raise ValueError(f"unknown source {source!r}: use 'auto', 'full' or 'bundled'")
    if source == "auto":
        check_full_mnist(mnist_dir(data_dir(root)))
    full = source == "full" or (source == "auto" and mnist_available(root))
    if source == "auto" and not full:
        warnings.warn(
            "full MNIST not found: simulating from the bundled subset (6,000 train / 1,000 test digits). "
            "Run `labkit data fetch mnist` for the full 60,000 / 10,000.",
            stacklevel=2,
        )
    resolved = "full" if full else "bundled"
    key = {"v": 1, "n_train": n_train, "n_test": n_test, "num_bins": num_bins, "seed": seed,
           "source": resolved, "params": repr(params)}
    path = cache_file("nmnist-sim", key, root)
    stored = load_cache(path) if cache and path.is_file() else None
    sensor = NMNIST_SENSOR_SIZE[0]
    shape = (num_bins, 2, sensor, sensor)
    if stored is None:
        stored = {}
        for split, count, stream in (("train", n_train, 0), ("test", n_test, 1)):
            if count == 0:
                stored[f"{split}_bits"] = pack(np.zeros((0, *shape), np.uint8))
                stored[f"{split}_y"] = np.zeros(0, np.int64)
                continue
            images, labels = load_mnist(split, source=resolved, root=root, dtype="uint8")
            if count > len(images):
                raise ValueError(
                    f"n_{split}={count} but the {resolved} MNIST {split} split has only {len(images)} digits"
                    + (": run `labkit data fetch mnist` for the full set" if resolved == "bundled" else "")
                )
            rng = np.random.default_rng([seed, stream])
            bits = []
            for _, n, b, x, y, t, p in iter_simulated(
                images[:count], rng, params, 256, progress, f"simulating {split} digits"
            ):
                bits.append(pack(bin_to_frames(b, x, y, t, p, n, num_bins, params.duration_us)))
            stored[f"{split}_bits"] = np.concatenate(bits)
            stored[f"{split}_y"] = labels[:count].numpy()
        if cache:
            save_frames_atomic(path, **stored)
    return Data(
        unpack(stored["train_bits"], (n_train, *shape)),
        torch.from_numpy(stored["train_y"].astype(np.int64)),
        unpack(stored["test_bits"], (n_test, *shape)),
        torch.from_numpy(stored["test_y"].astype(np.int64)),
        temporal=True,
        name="nmnist-sim",
    )
