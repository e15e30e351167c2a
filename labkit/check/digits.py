"""Exercise 0.1: the average image of a digit class."""

from __future__ import annotations

import numpy as np
import torch

from .core import (
    Case,
    CheckResult,
    exercise,
    expect_close,
    expect_unchanged,
    mistake,
    run_cases,
    snapshot,
)

__all__ = ["class_mean"]


def _mean_case(images, labels, digit, what="mean image"):
    def run(fn):
        x = torch.as_tensor(images, dtype=torch.float32)
        y = torch.as_tensor(labels, dtype=torch.long)
        before = snapshot(x, y)
        got = fn(x, y, digit)
        want = x[y == digit].double().mean(dim=0)
        expect_close(got, want, what, atol=1e-6)
        expect_unchanged(before, [x, y], "images and labels")

    return run


_MEAN = "mean image = (sum of the images whose label equals digit) / (how many there are)"


def labkit_class_mean(images, labels, digit):
    """labkit's version of exercise 0.1: the mean image ``[28, 28]`` of the images whose label is ``digit``."""
    images, labels = torch.as_tensor(images), torch.as_tensor(labels)
    return images[labels == digit].mean(dim=0)


@exercise("0.1", "(images, labels, digit) -> mean image", fallback=labkit_class_mean)
def class_mean(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 0.1, ``class_mean(images[N, 28, 28], labels[N], digit) -> mean image[28, 28]``."""
    g = torch.Generator().manual_seed(31)
    images, labels = torch.rand(40, 28, 28, generator=g), torch.arange(40) % 10
    cases = [
        Case("one image of the digit: the mean is that image", "keep only the images whose label is digit",
              _mean_case(torch.eye(3).reshape(3, 3, 1).expand(3, 3, 3), [0, 1, 2], 1), _MEAN),
        Case("several images: their average, not their sum", "divide by the number of images you kept",
              _mean_case([[[1.0, 0.0]], [[0.0, 0.0]], [[3.0, 2.0]]], [7, 4, 7], 7), _MEAN),
        Case("the digit argument decides which class", "compare the labels with digit, not with a fixed number",
              _mean_case([[[1.0, 0.0]], [[0.0, 0.0]], [[3.0, 2.0]]], [7, 4, 7], 4), _MEAN),
        Case("40 random 28×28 images: shape [28, 28]", "average over the first dimension (the images) only",
              _mean_case(images, labels, 3), _MEAN),
    ]
    return run_cases("0.1", "class_mean", fn, cases, quiet=quiet, formula=_MEAN, names=("images", "labels", "digit"))


@mistake("0.1", "the sum instead of the mean", "you added the images of the digit up: an average also divides by "
         "how many there are")
def _mean_forgot_to_divide(images, labels, digit):
    return images[labels == digit].sum(dim=0)


@mistake("0.1", "the mean of every image, whatever its label", "the labels were not used: keep only the images "
         "whose label is the digit asked for")
def _mean_of_all(images, labels, digit):
    return images.mean(dim=0)


@mistake("0.1", "the image at position digit", "images[digit] is the digit-th IMAGE, not the images OF that digit: "
         "select by comparing the labels with digit")
def _mean_indexed_by_digit(images, labels, digit):
    return images[digit]


@mistake("0.1", "the mean over the wrong dimension", "the average runs over the images (the first dimension), so "
         "that one 28 × 28 image is left")
def _mean_wrong_axis(images, labels, digit):
    return images[labels == digit].mean(dim=-1)
