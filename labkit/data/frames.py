"""Event frames: binning events into time-first binary frames, and the cache of binned datasets."""

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

__all__ = ["bin_to_frames", "cache_file", "load_cache", "pack", "save_frames_atomic", "unpack"]


def bin_to_frames(b, x, y, t, p, n: int, num_bins: int, duration_us: int) -> np.ndarray:
    """Binary frames ``[n, T, 2, 34, 34]`` (uint8): 1 where a pixel emitted an event of that
    polarity within the time bin. Bin i holds i·D/T <= t < (i+1)·D/T, exactly what
    ``tonic.transforms.ToFrame(time_window=D/T, start_time=0, end_time=D)`` slices."""
    sensor = NMNIST_SENSOR_SIZE[0]
    frames = np.zeros((n, num_bins, 2, sensor, sensor), np.uint8)
    if len(t):
        k = (t * num_bins) // duration_us
        frames[b, k, p.astype(np.int64), y, x] = 1
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
