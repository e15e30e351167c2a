"""Event frames: the one binning of events into time bins, and the cache of binned datasets.

An event at time t (µs) of a sample lasting D µs falls into bin k = ⌊t · T / D⌋ of T equal bins
(`time_bins`): bin k holds k·D/T <= t < (k+1)·D/T, as ``tonic.transforms.ToFrame(time_window=D/T,
start_time=0, end_time=D)`` slices. `event_counts` counts one sample's events per bin, polarity and
pixel; `bin_to_frames` marks, for a batch of samples, where at least one event fell (the spikes a
network reads).
"""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path

import numpy as np
import torch

from ..foundation.io import write_atomic
from .events import NMNIST_SENSOR_SIZE
from .files import data_dir

__all__ = ["bin_to_frames", "cache_file", "event_counts", "load_cache", "pack", "save_frames_atomic", "time_bins",
           "unpack"]


def time_bins(t, num_bins: int, duration_us: int) -> np.ndarray:
    """The bin k = ⌊t · T / D⌋ of each event time ``t`` (µs, 0 <= t < D) among T = ``num_bins`` equal bins."""
    return (np.asarray(t, dtype=np.int64) * num_bins) // duration_us


def event_counts(events: np.ndarray, num_bins: int, duration_us: int) -> np.ndarray:
    """One sample's events (`EVENT_DTYPE` records) counted per bin, polarity and pixel:
    ``counts[k, p, y, x]`` (int64, ``[T, 2, 34, 34]``), bins as in `time_bins`."""
    sensor = NMNIST_SENSOR_SIZE[0]
    counts = np.zeros((num_bins, 2, sensor, sensor), dtype=np.int64)
    index = (time_bins(events["t"], num_bins, duration_us), np.asarray(events["p"], dtype=np.int64),
             np.asarray(events["y"], dtype=np.int64), np.asarray(events["x"], dtype=np.int64))
    np.add.at(counts, index, 1)
    return counts


def bin_to_frames(b, x, y, t, p, n: int, num_bins: int, duration_us: int) -> np.ndarray:
    """Binary frames ``[n, T, 2, 34, 34]`` (uint8) of the events of n samples (sample ``b``, pixel
    ``x, y``, time ``t``, polarity ``p``, one entry per event): 1 where a pixel emitted an event of
    that polarity within the time bin (`time_bins`), i.e. ``event_counts(...) > 0`` for each sample."""
    sensor = NMNIST_SENSOR_SIZE[0]
    frames = np.zeros((n, num_bins, 2, sensor, sensor), np.uint8)
    if len(t):
        frames[b, time_bins(t, num_bins, duration_us), p.astype(np.int64), y, x] = 1
    return frames


def cache_file(kind: str, key: dict, root: str | os.PathLike | None) -> Path:
    digest = hashlib.sha256(repr(sorted(key.items())).encode()).hexdigest()[:16]
    return data_dir(root) / "cache" / f"{kind}-{digest}.npz"


def save_frames_atomic(path: Path, **arrays: np.ndarray) -> None:
    write_atomic(path, lambda f: np.savez(f, **arrays))


def pack(frames: np.ndarray) -> np.ndarray:
    return np.packbits(frames.reshape(len(frames), int(np.prod(frames.shape[1:]))), axis=1)


def unpack(bits: np.ndarray, shape: tuple[int, ...]) -> torch.Tensor:
    count = int(np.prod(shape[1:]))
    frames = np.unpackbits(bits, axis=1, count=count).reshape(shape)
    return torch.from_numpy(frames).to(torch.float32)


def load_cache(path: Path):
    try:
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError) as exc:
        warnings.warn(f"ignoring unreadable cache file {path} ({exc}); it will be rebuilt", stacklevel=3)
        return None
