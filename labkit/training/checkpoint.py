"""Checkpoints of both training loops, and the one rule for resuming them.

**The rule.** A checkpoint path resumes when the file exists and was written with the same
settings; otherwise the run stops with an error that lists what differs. A run never continues
a checkpoint written with another rule, learning rate, seed, batch size, model size, number of
time steps — or other data: the data's identity is its name, the number of training and test
samples, the input shape and a digest of the labels and of a sample of the inputs, so a
checkpoint of ``--train-limit 300`` is not continued on 1,200 digits.

Checkpoints are written atomically and read with the safe loader
(`labkit.foundation.io.load_torch`): a file holding anything but tensors and plain data is
refused, never executed.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path
from typing import Any, Iterable, Mapping

import torch

from ..foundation.errors import LabkitError
from ..foundation.io import load_torch, save_torch

__all__ = ["DATA_KEYS", "check_resumable", "data_identity", "read_checkpoint", "write_checkpoint"]

#: The entries of a run's settings that name its data (`data_identity`).
DATA_KEYS = ("data", "n_train", "n_test", "input_shape", "data_digest")
_SAMPLES = 64  # inputs per split folded into the digest


def _digest_inputs(h: "hashlib._Hash", x: torch.Tensor) -> None:
    if len(x) == 0:
        return
    index = torch.linspace(0, len(x) - 1, min(_SAMPLES, len(x))).round().long()
    h.update(x[index].detach().cpu().contiguous().numpy().tobytes())


def data_identity(name: str, train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor,
                  test_y: torch.Tensor) -> dict[str, Any]:
    """What identifies a run's data: name, sizes, input shape and a SHA-256 digest (first 16 hex digits)
    of all labels and of up to 64 evenly spaced inputs of each split."""
    h = hashlib.sha256()
    for y in (train_y, test_y):
        h.update(y.detach().cpu().contiguous().numpy().tobytes())
    for x in (train_x, test_x):
        h.update(str((tuple(x.shape), str(x.dtype))).encode())
        _digest_inputs(h, x)
    return {"data": name, "n_train": len(train_x), "n_test": len(test_x), "input_shape": list(train_x.shape[1:]),
            "data_digest": h.hexdigest()[:16]}


def check_resumable(path: str | os.PathLike, saved: Mapping, requested: Mapping, keys: Iterable[str]) -> None:
    """Raise `LabkitError` unless ``saved`` and ``requested`` agree on every one of ``keys``.

    A checkpoint from an older labkit that did not record the data's identity (`DATA_KEYS`
    missing from ``saved``) is resumed on the keys it has, with a warning.
    """
    keys = list(keys)
    missing = [k for k in keys if k in DATA_KEYS and k != "data" and k not in saved]
    if missing:
        warnings.warn(f"checkpoint {path} does not record {', '.join(missing)} (written by an older labkit): its "
                      "data is checked by name only", stacklevel=3)
    different = [f"{k}: checkpoint {saved.get(k)!r}, now {requested.get(k)!r}" for k in keys
                 if k not in missing and saved.get(k) != requested.get(k)]
    if different:
        raise LabkitError(
            f"cannot resume from {path}: it was written with other settings ({'; '.join(different)}). "
            "Resume with the same settings, or pass a new checkpoint path to start afresh."
        )


def read_checkpoint(path: str | os.PathLike, *, map_location: Any = "cpu", required: Iterable[str] = ()) -> dict:
    """Load a checkpoint with the safe loader; `LabkitError` when it is not a dict holding ``required``."""
    state = load_torch(path, map_location=map_location, what="checkpoint")
    missing = [k for k in required if not (isinstance(state, dict) and k in state)]
    if missing:
        raise LabkitError(f"checkpoint {path} is not a labkit checkpoint of this kind (it has no "
                          f"{', '.join(missing)}): pass the checkpoint file this training loop wrote")
    return state


def write_checkpoint(path: str | os.PathLike, state: dict) -> Path:
    """Write ``state`` (tensors and plain data only) atomically."""
    return save_torch(path, state)
