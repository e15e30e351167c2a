"""Event frames: the one binning of events into time bins, and the cache of binned datasets.

An event at time t (µs) of a sample lasting D µs falls into bin k = ⌊t · T / D⌋ of T equal bins
(`time_bins`): bin k holds k·D/T <= t < (k+1)·D/T, as ``tonic.transforms.ToFrame(time_window=D/T,
start_time=0, end_time=D)`` slices. `event_counts` counts one sample's events per bin, polarity and
pixel; `bin_to_frames` marks, for a batch of samples, where at least one event fell (the spikes a
network reads).

Binned datasets are cached bit-packed (`pack`: one bit per time bin, polarity and pixel, 7,225
bytes per sample at T = 25) in one ``.npz`` file per data set, written atomically. The file
carries an identity record (`save_verified`): what was asked for, how many samples it holds and
the SHA-256 of every array; `load_verified` refuses a file whose record or checksums disagree,
so a stale or damaged cache is rebuilt rather than trained on.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
import zipfile
from pathlib import Path

import numpy as np
import torch

from ..foundation.io import write_atomic
from .events import NMNIST_SENSOR_SIZE
from .files import data_dir

__all__ = ["bin_to_frames", "cache_file", "event_counts", "load_cache", "load_verified", "pack", "save_frames_atomic",
           "save_verified", "time_bins", "unpack"]


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
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        warnings.warn(f"ignoring unreadable cache file {path} ({exc}); it will be rebuilt", stacklevel=3)
        return None


_IDENTITY = "identity"  # the name of the identity record inside a verified cache file


def _checksums(arrays: dict[str, np.ndarray]) -> dict[str, str]:
    return {name: hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest() for name, a in sorted(arrays.items())}


def save_verified(path: Path, identity: dict, **arrays: np.ndarray) -> None:
    """Write ``arrays`` to ``path`` atomically with an identity record: ``identity`` (JSON-able: what the
    data is) plus each array's shape, dtype and SHA-256, stored as a JSON string inside the file."""
    record = dict(identity, arrays={name: {"shape": list(a.shape), "dtype": str(a.dtype)}
                                    for name, a in sorted(arrays.items())}, sha256=_checksums(arrays))
    save_frames_atomic(path, **arrays, **{_IDENTITY: np.array(json.dumps(record, sort_keys=True))})


def load_verified(path: Path, identity: dict) -> tuple[dict[str, np.ndarray], dict] | None:
    """The arrays and identity record of a cache file written by `save_verified`, or None (with a warning
    naming the file) when it is unreadable, was made for something else than ``identity`` (every key of
    ``identity`` must match the record's), or an array's SHA-256 differs from the record's."""
    stored = load_cache(path)
    if stored is None:
        return None
    try:
        record = json.loads(str(stored.pop(_IDENTITY)))
    except (KeyError, ValueError):
        problem = "it has no identity record (written by an older labkit)"
    else:
        differs = sorted(k for k, v in identity.items() if record.get(k) != json.loads(json.dumps(v)))
        if differs:
            problem = f"its identity record differs in {', '.join(differs)}"
        elif record.get("sha256") != _checksums(stored):
            problem = "its contents do not match the SHA-256 in its identity record (damaged)"
        else:
            return stored, record
    warnings.warn(f"ignoring cache file {path}: {problem}; it will be rebuilt", stacklevel=3)
    return None
