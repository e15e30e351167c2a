"""The checks at the door of the training API: what `train` and `evaluate` accept.

A call with data in a shape the loop does not expect used to fail deep inside torch
("expected target dtype to be Long", "mat1 and mat2 must have the same dtype", "Target 11 is
out of bounds"). Here each input is either converted, when there is only one thing it can
mean, or refused with a message that says what to pass:

=============================  ===========================================================
input                          what happens
=============================  ===========================================================
numpy arrays                   converted to tensors (same values)
float64 / float16 images       converted to float32 (the model's dtype)
bool/uint8 frames (temporal)   kept as they are (1 byte per value, or bit-packed rows for
                               ``FrameEncoder(packed=...)``); each batch becomes float32
                               when the encoder reads it (`labkit.encoders.FrameEncoder`)
uint8 images (not temporal)    refused: grey levels 0-255 must be scaled, ``x.float() / 255``
int32, int16, uint8 labels     converted to int64 (what the loss takes)
float labels holding integers  converted to int64; other floats are refused
labels ``[N, 1]``              flattened to ``[N]``
one-hot labels ``[N, C]``      refused: pass ``y.argmax(1)``
labels outside 0 … C − 1       refused, naming the range the model's C outputs allow
a plain tuple or dict          refused: ``Data(train_x, train_y, test_x, test_y)`` (the order
                               matters, so a tuple is not guessed at)
=============================  ===========================================================

Unknown keyword arguments of `train` are reported as ``train()``'s own, with the closest
name it does take (``batchsize`` → ``batch_size``), not as an unexpected argument of the
rule's parameter class.
"""

from __future__ import annotations

import dataclasses
import difflib
from typing import Any, Iterable

import numpy as np
import torch

from ..foundation.errors import LabkitError

__all__ = ["UnknownKeyword", "as_data", "as_images", "as_labels", "check_keywords", "rule_keywords"]

#: Names people reach for, and what the lab calls them.
_ALIASES = {"lr": "eta2", "learning_rate": "eta2", "stdp_lr": "eta1", "T": "num_steps", "steps": "num_steps",
            "time_steps": "num_steps", "n_epochs": "epochs", "num_epochs": "epochs", "bs": "batch_size"}


_DATA_FIELDS = ("train_x", "train_y", "test_x", "test_y")


class UnknownKeyword(LabkitError, TypeError):
    """A keyword argument the function does not take (a `TypeError`, as Python's own, and a `LabkitError`)."""


def check_keywords(function: str, given: Iterable[str], accepted: Iterable[str]) -> None:
    """`UnknownKeyword` for the first of ``given`` not in ``accepted``, naming the closest accepted name."""
    accepted = sorted(set(accepted))
    for key in given:
        if key in accepted:
            continue
        close = [_ALIASES[key]] if _ALIASES.get(key) in accepted else difflib.get_close_matches(key, accepted, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"it takes {', '.join(accepted)}"
        raise UnknownKeyword(f"{function}() got an unexpected keyword argument {key!r}: {hint}")


def rule_keywords(params_class: type) -> list[str]:
    """The keyword arguments a rule's parameter dataclass takes."""
    return [f.name for f in dataclasses.fields(params_class) if f.init]


def _as_tensor(value: Any, name: str) -> torch.Tensor:
    if torch.is_tensor(value):
        return value
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            raise LabkitError(f"{name} is a numpy array of Python objects: pass numbers (np.stack the items first)")
        return torch.from_numpy(np.ascontiguousarray(value))
    raise LabkitError(f"{name} must be a torch tensor or a numpy array, got {type(value).__name__}")


def as_images(x: Any, name: str, *, temporal: bool = False) -> torch.Tensor:
    """Images as a floating tensor, or ``temporal`` spike frames (floating, or bool/uint8 kept as they are for
    the encoder to convert batch by batch); see the module's table."""
    x = _as_tensor(x, name)
    if temporal and x.dtype in (torch.bool, torch.uint8):
        return x
    if x.dtype == torch.bool or (temporal and not x.is_floating_point()):
        return x.to(torch.float32)
    if x.dtype == torch.uint8:
        raise LabkitError(f"{name} holds uint8 grey levels 0-255; the lab takes floating-point intensities in "
                          f"[0, 1]: pass {name}.float() / 255")
    if not x.is_floating_point():
        raise LabkitError(f"{name} must hold floating-point intensities in [0, 1], got dtype {x.dtype}: pass "
                          f"{name}.float() (divided by the largest grey level)")
    return x if x.dtype == torch.float32 else x.to(torch.float32)


def as_labels(y: Any, name: str, *, count: int, classes: int | None) -> torch.Tensor:
    """Class indices as an int64 tensor ``[count]`` in 0 … ``classes`` − 1; see the module's table."""
    y = _as_tensor(y, name)
    if y.dim() == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.dim() == 2 and y.shape[0] == count and y.shape[1] > 1:
        raise LabkitError(f"{name} has shape {tuple(y.shape)}, like one-hot or score vectors; pass class indices "
                          f"[N]: {name}.argmax(1)")
    if y.dim() != 1:
        raise LabkitError(f"{name} must be class indices of shape [N], got shape {tuple(y.shape)}")
    if y.dtype == torch.bool:
        raise LabkitError(f"{name} holds booleans; pass class indices (integers 0, 1, ...): {name}.long()")
    if y.is_floating_point():
        if not torch.isfinite(y).all() or not torch.equal(y, y.round()):
            raise LabkitError(f"{name} holds non-integer floats; pass class indices (integers 0, 1, ...)")
        y = y.to(torch.int64)
    elif y.dtype != torch.int64:
        y = y.to(torch.int64)
    if len(y) and classes is not None:
        low, high = int(y.min()), int(y.max())
        if low < 0 or high >= classes:
            raise LabkitError(f"{name} must be class indices 0 ... {classes - 1} (the model has {classes} outputs), "
                              f"got values from {low} to {high}")
    return y


def as_data(data: Any, *, classes: int | None):
    """A `Data` whose tensors the training loop can use as they are; see the module's table."""
    if not set(_DATA_FIELDS) <= set(getattr(type(data), "_fields", ())):  # a labkit.training.Data (NamedTuple)
        kind = type(data).__name__
        if isinstance(data, (tuple, list)):
            kind = f"a {kind} of {len(data)}"
        raise LabkitError(
            f"data must be a labkit.training.Data, got {kind}: build it with Data(train_x, train_y, test_x, test_y) "
            "(in that order; note that sklearn's train_test_split returns X_train, X_test, y_train, y_test), "
            "or take one from labkit.data.mnist_data()"
        )
    temporal = data.encoder.temporal if hasattr(data, "encoder") else data.temporal
    train_x = as_images(data.train_x, "data.train_x", temporal=temporal)
    test_x = as_images(data.test_x, "data.test_x", temporal=temporal)
    train_y = as_labels(data.train_y, "data.train_y", count=len(train_x), classes=classes)
    test_y = as_labels(data.test_y, "data.test_y", count=len(test_x), classes=classes)
    if len(train_x) != len(train_y) or len(test_x) != len(test_y):
        raise LabkitError(f"data: images and labels must have the same length, got {len(train_x)} training images "
                          f"and {len(train_y)} labels, {len(test_x)} test images and {len(test_y)} labels")
    if all(new is old for new, old in zip((train_x, train_y, test_x, test_y), data[:4])):
        return data
    return data._replace(train_x=train_x, train_y=train_y, test_x=test_x, test_y=test_y)
