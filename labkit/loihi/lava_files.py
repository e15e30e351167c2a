"""The files the lab and the Lava sidecar exchange: input spikes and `LavaResult` as ``.npz`` (numpy only).

Spike arrays are packed 8 per byte along their last axis (``numpy.packbits``) with their shape
stored beside them; everything else is a plain array. Files are written atomically
(`labkit.foundation.io.write_atomic`: a reader never sees half a result) and read with
``allow_pickle=False``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..foundation.io import write_atomic
from .lava_result import LavaResult

__all__ = ["load_result", "load_spikes", "save_result", "save_spikes"]


def _pack(arrays: dict, key: str, spikes: np.ndarray) -> None:
    spikes = np.asarray(spikes).astype(bool)
    arrays[key] = np.packbits(spikes, axis=-1)
    arrays[f"{key}_shape"] = np.array(spikes.shape)


def _unpack(z, key: str) -> np.ndarray:
    shape = tuple(int(n) for n in z[f"{key}_shape"])
    return np.unpackbits(z[key], axis=-1, count=shape[-1]).astype(bool).reshape(shape)


def save_spikes(path: str | os.PathLike, spikes: np.ndarray) -> None:
    """Bool spikes of any shape, packed."""
    arrays: dict = {}
    _pack(arrays, "spikes", spikes)
    write_atomic(path, lambda f: np.savez(f, **arrays))


def load_spikes(path: str | os.PathLike) -> np.ndarray:
    with np.load(Path(path), allow_pickle=False) as z:
        return _unpack(z, "spikes")


def save_result(path: str | os.PathLike, result: LavaResult) -> None:
    arrays = {
        "layer_counts": result.layer_counts,
        "meta": np.array([result.steps, result.lava_seconds, result.workers, result.copies], dtype=np.float64),
        "mode": np.array(result.mode),
    }
    _pack(arrays, "out_spikes", result.out_spikes)
    if result.out_membrane is not None:
        arrays["out_membrane"] = result.out_membrane
    for index, train in enumerate(result.spikes or []):
        _pack(arrays, f"spikes{index}", train)
    write_atomic(path, lambda f: np.savez(f, **arrays))


def load_result(path: str | os.PathLike, backend: str, total_seconds: float) -> LavaResult:
    with np.load(Path(path), allow_pickle=False) as z:
        layers = sorted(int(k[6:]) for k in z.files if k.startswith("spikes") and not k.endswith("_shape"))
        steps, lava_seconds, workers, copies = z["meta"]
        return LavaResult(
            out_spikes=_unpack(z, "out_spikes"),
            out_membrane=z["out_membrane"] if "out_membrane" in z.files else None,
            layer_counts=z["layer_counts"].astype(np.int64),
            spikes=[_unpack(z, f"spikes{index}") for index in layers] if layers else None,
            mode=str(z["mode"]),
            backend=backend,
            steps=int(steps),
            lava_seconds=float(lava_seconds),
            total_seconds=total_seconds,
            workers=int(workers),
            copies=int(copies),
        )
