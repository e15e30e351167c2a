"""Exercise 6.3: the input spikes that clipped pixel noise adds to the black background of a digit."""

from __future__ import annotations

import math
import numbers

import torch

from .core import Case, CheckResult, Mismatch, exercise, expect_close, mistake, run_cases, show

__all__ = ["extra_spikes"]


def _expected(image: torch.Tensor, sigma: float) -> float:
    # E[max(0, σz)] = σ ∫_0^∞ z φ(z) dz = σ φ(0) = σ / √(2π), for each pixel with x = 0
    return int((image == 0).sum()) * sigma / math.sqrt(2 * math.pi)


def _case(image: torch.Tensor, sigma: float, what: str = "extra spikes per step"):
    def run(fn):
        before = image.clone()
        got = fn(image, sigma)
        if not torch.equal(image, before):
            raise Mismatch("the image left as it was", "the image changed in place")
        if isinstance(got, bool) or not isinstance(got, (numbers.Real, torch.Tensor)) or (
                isinstance(got, torch.Tensor) and got.numel() != 1):
            raise Mismatch("one number (float)", f"{type(got).__name__} {show(got)}")
        expect_close(float(got), _expected(image, sigma), what, atol=1e-6)

    return run


def _digit() -> torch.Tensor:
    """A stroke of full and half intensity on a black 28 × 28 background, and a few faint (not black) pixels."""
    image = torch.zeros(28, 28)
    image[6:22, 12:16] = 1.0
    image[6:9, 8:20] = 0.5
    image[25, 2:6] = 0.01
    return image


def labkit_extra_spikes(image, sigma: float) -> float:
    """labkit's version of exercise 6.3: the input spikes per step that clip(x + σz, 0, 1) adds on black pixels (σ/√(2π)
    each)."""
    return float((torch.as_tensor(image) == 0).sum()) * sigma / math.sqrt(2 * math.pi)


@exercise("6.3", "(image, sigma) -> extra input spikes per step that clipped noise adds on black pixels",
          fallback=labkit_extra_spikes)
def extra_spikes(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 6.3, ``extra_spikes(image, sigma) -> expected extra input spikes per step on black pixels``."""
    cases = [
        Case("an all-black image", "every black pixel gains the mean of the noise's positive part",
             _case(torch.zeros(28, 28), 0.3),
             formula="E[max(0, σz)] for z ~ N(0, 1), times the number of pixels with x = 0"),
        Case("no noise, no extra spikes", "σ = 0 adds nothing", _case(torch.zeros(28, 28), 0.0)),
        Case("no black pixel", "only the pixels with x = 0 count", _case(torch.full((28, 28), 0.5), 0.3),
             formula="count the pixels equal to 0, not the dim ones"),
        Case("a digit", "a faint pixel (x = 0.01) is not black", _case(_digit(), 0.3),
             formula="E[max(0, σz)] = σ · φ(0) = σ / √(2π)"),
        Case("another σ", "the mean of the positive part grows in proportion to σ", _case(_digit(), 0.5)),
    ]
    return run_cases("6.3", "extra_spikes", fn, cases, quiet=quiet,
                     formula="extra spikes = (number of pixels with x = 0) · E[max(0, σz)] = N_black · σ / √(2π)",
                     names=("image", "sigma"))


# ----------------------------------------------------------------------------- the mistakes students make

_PHI0 = 1 / math.sqrt(2 * math.pi)


@mistake("6.3", "every pixel counted, not only the black ones", "a lit pixel's noise is clipped on both sides and "
         "averages out; only the BLACK pixels (x = 0) gain spikes")
def _extra_all_pixels(image, sigma):
    return float(image.numel() * sigma * _PHI0)


@mistake("6.3", "the mean of |σz| instead of the positive part", "clipping keeps only the positive half of the "
         "noise: E[max(0, σz)] is half of E[|σz|]")
def _extra_abs(image, sigma):
    return float((image == 0).sum()) * sigma * 2 * _PHI0


@mistake("6.3", "σ/2 per black pixel", "half the draws are positive, but they are not all of size σ: the mean of "
         "the positive part is σ times the normal density at 0")
def _extra_half_sigma(image, sigma):
    return float((image == 0).sum()) * sigma / 2


@mistake("6.3", "dim pixels counted as black", "only pixels that are exactly 0 are black: a faint pixel is lit")
def _extra_dim(image, sigma):
    return float((image < 0.05).sum()) * sigma * _PHI0
