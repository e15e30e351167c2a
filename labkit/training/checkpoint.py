"""Checkpoints of both training loops, and the one rule for resuming them.

**The rule.** A checkpoint path resumes when the file exists and was written with the same
settings; otherwise the run stops with an error that lists what differs. A run never continues
a checkpoint written with another rule, learning rate, seed, batch size, model size, number of
time steps — or other data: the data's identity is its name, the number of training and test
samples, the input shape and a digest of the labels and of a sample of the inputs, so a
checkpoint of ``--train-limit 300`` is not continued on 1,200 digits.

Checkpoints are written atomically and read with the safe loader
(`labkit.foundation.io.load_torch`): a file holding anything but tensors and plain data is
refused, never executed. `read_checkpoint` is the one loader: it also checks the structure
(the model's weights are named tensors of the sizes the run recorded, all finite; the history
and the rule's state have the entries and types this labkit writes), so a damaged but
well-formed file is refused with its name and the remedy, not half-loaded.

**One writer per checkpoint.** `checkpoint_lock` holds an exclusive lock (``fcntl.flock`` on
``<checkpoint>.lock`` beside it) for a whole run: a second run on the same file refuses at once
instead of both writing it and one run's epochs being lost.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import re
import warnings
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import torch

from ..foundation.errors import LabkitError
from ..foundation.io import check_finite, load_torch, save_torch
from .history import History

__all__ = ["DATA_KEYS", "CheckpointBusy", "check_resumable", "checkpoint_lock", "data_identity", "read_checkpoint",
           "write_checkpoint"]

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


class CheckpointBusy(LabkitError):
    """Another run holds the checkpoint's lock."""


_FIELDS = {f.name: f for f in dataclasses.fields(History)}
_LAYER_WEIGHT = re.compile(r"layers\.(\d+)\.weight")


def _damaged(path, what: str) -> LabkitError:
    return LabkitError(f"checkpoint {path} is damaged or from another labkit version ({what}); delete it (or pass "
                       "another --checkpoint) and train again")


def _check_model(path, model: Any, sizes: Any) -> None:
    if not isinstance(model, dict) or not all(isinstance(k, str) and torch.is_tensor(v) for k, v in model.items()):
        raise _damaged(path, "its 'model' entry is not a state_dict of named tensors")
    if isinstance(sizes, list) and all(isinstance(n, int) for n in sizes):
        for key, value in model.items():
            match = _LAYER_WEIGHT.fullmatch(key)
            if match is None or int(match.group(1)) + 1 >= len(sizes):
                continue
            i = int(match.group(1))
            if tuple(value.shape) != (sizes[i + 1], sizes[i]):
                raise _damaged(path, f"{key} has shape {list(value.shape)}, but the run recorded sizes {sizes}, "
                                     f"which need [{sizes[i + 1]}, {sizes[i]}]")
    check_finite(model, f"checkpoint {path}")


def _check_history(path, history: Any) -> None:
    if not isinstance(history, dict):
        raise _damaged(path, "its 'history' entry is not a dict")
    unknown = sorted(set(history) - set(_FIELDS))
    if unknown:
        raise LabkitError(f"checkpoint {path} has history entries this labkit does not know ({', '.join(map(str, unknown))}): "
                          "it was written by a newer labkit; update labkit, or pass another --checkpoint to start afresh")
    for key, value in history.items():
        if key == "config":
            ok = isinstance(value, dict)
        elif key == "stopped_early":
            ok = isinstance(value, bool)
        else:
            ok = isinstance(value, list)
        if not ok:
            raise _damaged(path, f"history entry {key!r} is {type(value).__name__}")
    if not isinstance(history.get("config", {}), dict):
        raise _damaged(path, "its history has no config")
    lengths = {key: len(history[key]) for key in ("loss", "test_acc") if key in history}
    if len(set(lengths.values())) > 1:
        raise _damaged(path, f"its history lists {lengths} values per epoch")


def _check_rule(path, rule: Any) -> None:
    if not isinstance(rule, dict):
        raise _damaged(path, "its 'rule' entry is not a dict")
    if "name" in rule and not isinstance(rule["name"], str):
        raise _damaged(path, "the rule's name is not a string")
    if "epoch" in rule and (isinstance(rule["epoch"], bool) or not isinstance(rule["epoch"], int) or rule["epoch"] < 0):
        raise _damaged(path, f"the rule's epoch is {rule['epoch']!r}")
    if rule.get("optimizer") is not None and not isinstance(rule["optimizer"], dict):
        raise _damaged(path, "the rule's optimizer state is not a dict")
    coefficients = rule.get("coefficients", [])
    if not isinstance(coefficients, list) or not all(torch.is_tensor(c) for c in coefficients):
        raise _damaged(path, "the rule's plasticity coefficients are not a list of tensors")
    check_finite({"coefficients": coefficients, "optimizer": rule.get("optimizer")}, f"checkpoint {path} (rule state)")


def read_checkpoint(path: str | os.PathLike, *, map_location: Any = "cpu", required: Iterable[str] = ()) -> dict:
    """The one loader of a checkpoint: the safe loader, then its structure. `LabkitError` naming the file when it
    is not a dict holding ``required``, when its model weights are not named finite tensors of the recorded
    sizes, or its history or rule state are not what this labkit writes."""
    state = load_torch(path, map_location=map_location, what="checkpoint")
    missing = [k for k in required if not (isinstance(state, dict) and k in state)]
    if missing:
        raise LabkitError(f"checkpoint {path} is not a labkit checkpoint of this kind (it has no "
                          f"{', '.join(missing)}): pass the checkpoint file this training loop wrote")
    if not isinstance(state, dict):
        raise LabkitError(f"checkpoint {path} holds a {type(state).__name__}, not a labkit checkpoint: pass the "
                          "checkpoint file labkit wrote")
    if "history" in state:
        _check_history(path, state["history"])
    if "model" in state:
        config = state["history"].get("config", {}) if isinstance(state.get("history"), dict) else {}
        _check_model(path, state["model"], config.get("sizes"))
    if "rule" in state:
        _check_rule(path, state["rule"])
    if "layer" in state:  # the competitive loop's checkpoint: its layer's weights and thresholds
        check_finite(state["layer"], f"checkpoint {path} (layer)")
    return state


@contextlib.contextmanager
def checkpoint_lock(path: str | os.PathLike | None) -> Iterator[None]:
    """Hold an exclusive lock on ``<path>.lock`` for the block (nothing when ``path`` is None); `CheckpointBusy`
    at once when another run holds it. The lock goes with the process, so a killed run never leaves it held."""
    if path is None:
        yield
        return
    import fcntl

    path = Path(path)
    lock = path.with_name(path.name + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CheckpointBusy(f"checkpoint {path} is in use by another run (it holds {lock}): wait for that run "
                                 "to finish, or pass another --checkpoint") from None
        yield
    finally:
        os.close(fd)


def write_checkpoint(path: str | os.PathLike, state: dict) -> Path:
    """Write ``state`` (tensors and plain data only) atomically."""
    return save_torch(path, state)
