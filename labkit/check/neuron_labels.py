"""Exercise 3.3: naming the neurons of an unsupervised layer by their mean response per class (Diehl and Cook 2015)."""

from __future__ import annotations

import math

import numpy as np
import torch

from ..competitive import assign_labels
from .core import (
    Case,
    CheckResult,
    Mismatch,
    exercise,
    expect_equal,
    expect_unchanged,
    mistake,
    run_cases,
    snapshot,
)

__all__ = ["name_neurons"]


def _names_reference(responses: torch.Tensor, labels: torch.Tensor, n_classes: int) -> np.ndarray:
    out = np.full(responses.shape[1], -1, dtype=np.int64)
    for j in range(responses.shape[1]):
        if responses[:, j].sum() == 0:
            continue
        means = [responses[labels == c, j].double().mean().item() if (labels == c).any() else -math.inf
                 for c in range(n_classes)]
        out[j] = int(np.argmax(means))
    return out


def _names_case(responses, labels, n_classes=10, what="neuron labels"):
    def run(fn):
        r = torch.as_tensor(responses, dtype=torch.float32)
        y = torch.as_tensor(labels, dtype=torch.long)
        before = snapshot(r, y)
        got = fn(r, y, n_classes)
        if not isinstance(got, torch.Tensor) or got.dtype != torch.int64:
            raise Mismatch("an int64 tensor of classes (.long())", f"{type(got).__name__} {getattr(got, 'dtype', '')}")
        expect_equal(got, _names_reference(r, y, n_classes), what)
        expect_unchanged(before, [r, y], "responses and labels")

    return run


_NAMES = ("mean[c, j] = (sum of responses[i, j] over images i of class c) / (number of images of class c); "
          "label[j] = argmax over c of mean[c, j], or -1 when neuron j never fired")


def labkit_name_neurons(responses, labels, n_classes=10):
    """labkit's version of exercise 3.3: each neuron's class, that of its highest mean response; −1 for neurons that
    never fired."""
    return assign_labels(torch.as_tensor(responses), torch.as_tensor(labels), n_classes)


@exercise("3.3", "(responses [images, neurons], labels, n_classes) -> labels [neurons]", fallback=labkit_name_neurons)
def name_neurons(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 3.3, ``name_neurons(responses[n_images, n_neurons], labels, n_classes) -> labels[n_neurons]``."""
    g = torch.Generator().manual_seed(23)
    responses = torch.rand(60, 12, generator=g) * (torch.rand(60, 12, generator=g) < 0.5)
    responses[:, 4] = 0.0
    labels = torch.arange(60) % 3
    cases = [
        Case("each neuron gets the class it answers most", "compare each neuron's response class by class",
              _names_case([[3.0, 0.0], [0.0, 2.0], [2.0, 0.0]], [1, 0, 1], 2), _NAMES),
        Case("the MEAN response per class decides, not the sum",
              "a class with many images must not win by numbers alone: divide by the class's number of images",
              _names_case([[1.0], [1.0], [1.0], [2.0]], [0, 0, 0, 1], 2), _NAMES),
        Case("a neuron that never fired is labelled -1", "mark neurons whose responses sum to zero",
              _names_case([[0.0, 1.0], [0.0, 0.0]], [0, 1], 2, ), _NAMES),
        Case("a class without images is never chosen, and nothing is NaN",
              "do not divide by zero for a class that has no images", _names_case([[1.0], [2.0]], [0, 2], 4), _NAMES),
        Case("60 images, 12 neurons, 3 classes", "one label per neuron (per COLUMN of responses)",
              _names_case(responses, labels, 3), _NAMES),
    ]
    return run_cases("3.3", "name_neurons", fn, cases, quiet=quiet, formula=_NAMES,
                     names=("responses", "labels", "n_classes"))


# ----------------------------------------------------------------------------- the mistakes students make


def _class_sums(responses, labels, n_classes):
    return torch.nn.functional.one_hot(labels, n_classes).to(responses.dtype).T @ responses  # [classes, neurons]


def _class_means(responses, labels, n_classes):
    counts = torch.bincount(labels, minlength=n_classes).to(responses.dtype)
    return _class_sums(responses, labels, n_classes) / counts[:, None]


@mistake("3.3", "the sum per class instead of the mean", "a class with more images wins by numbers alone: divide "
         "each class's summed response by its number of images")
def _names_by_sum(responses, labels, n_classes):
    names = _class_sums(responses, labels, n_classes).argmax(dim=0)
    names[responses.sum(dim=0) == 0] = -1
    return names


@mistake("3.3", "a silent neuron given a class", "a neuron that never fired has no preference: label it -1")
def _names_silent_zero(responses, labels, n_classes):
    return torch.nan_to_num(_class_means(responses, labels, n_classes), nan=-1.0).argmax(dim=0)


@mistake("3.3", "a class without images divided by zero", "0 / 0 is NaN, and argmax picks a NaN: give a class "
         "with no images no chance (its mean must lose)")
def _names_nan(responses, labels, n_classes):
    names = _class_means(responses, labels, n_classes).argmax(dim=0)
    names[responses.sum(dim=0) == 0] = -1
    return names


@mistake("3.3", "one label per image instead of per neuron", "the argmax runs over the classes for each NEURON "
         "(each column of responses)")
def _names_per_image(responses, labels, n_classes):
    return responses.argmax(dim=1)


@mistake("3.3", "labels as floats", "class labels are integers: return an int64 tensor")
def _names_float(responses, labels, n_classes):
    means = torch.nan_to_num(_class_means(responses, labels, n_classes), nan=-1.0)
    names = means.argmax(dim=0).float()
    names[responses.sum(dim=0) == 0] = -1.0
    return names
