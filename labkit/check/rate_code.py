"""Exercise 2.1: rate coding of an image into Bernoulli spike trains (NumPy)."""

from __future__ import annotations

import numpy as np

from .core import Case, CheckResult, Mismatch, numeric, run_cases, show

__all__ = ["encode_rate_numpy"]


def _encoded(fn, image, num_steps, seed) -> np.ndarray:
    return numeric(fn(image, num_steps, np.random.default_rng(seed)), "spikes")


def _rate_shape(fn):
    image = np.linspace(0.0, 1.0, 12).reshape(3, 4)
    got = _encoded(fn, image, 7, 0)
    if got.shape != (7, 3, 4):
        raise Mismatch("shape (7, 3, 4) for 7 steps of a 3×4 image", f"shape {got.shape}")


def _rate_binary(fn):
    got = _encoded(fn, np.full((4, 4), 0.5), 50, 1)
    if not np.isin(got, (0.0, 1.0)).all():
        raise Mismatch("only 0 and 1", f"values {show(np.unique(got))}")


def _rate_extremes(fn):
    image = np.array([[0.0, 1.0], [0.0, 1.0]])
    got = _encoded(fn, image, 100, 2)
    if got[:, image == 0].any():
        raise Mismatch("black pixels (0.0) never fire", f"{int(got[:, image == 0].sum())} spikes from black pixels")
    if not got[:, image == 1].all():
        raise Mismatch("white pixels (1.0) fire at every step",
                        f"{int((got[:, image == 1] == 0).sum())} silent steps of white pixels")


def _rate_statistics(fn):
    image = np.array([0.05, 0.2, 0.5, 0.8, 0.95])
    steps = 4000
    rates = _encoded(fn, image, steps, 3).mean(axis=0)
    sigma = np.sqrt(image * (1 - image) / steps)  # binomial standard deviation of each rate
    if rates.shape != image.shape or not (np.abs(rates - image) <= 5 * sigma).all():
        raise Mismatch(f"firing rates within 5 sigma of {show(image)}", show(rates))


def _rate_seeded(fn):
    image = np.full((5, 5), 0.4)
    a, b = _encoded(fn, image, 20, 4), _encoded(fn, image, 20, 4)
    if not np.array_equal(a, b):
        raise Mismatch("the same spikes from two generators with the same seed", "different spikes")
    c = _encoded(fn, image, 20, 5)
    if np.array_equal(a, c):
        raise Mismatch("different spikes from a different seed", "the same spikes")


def _rate_fresh_draws(fn):
    got = _encoded(fn, np.full((6,), 0.5), 200, 6)
    if all(np.array_equal(got[0], row) for row in got[1:]):
        raise Mismatch("a fresh random draw at every step", "the same spikes at every step")


def encode_rate_numpy(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 2.1, ``encode_rate_numpy(image, num_steps, rng) -> spikes[num_steps, *image.shape]``."""
    cases = [
        Case("shape (num_steps, *image.shape)", "draw rng.random((num_steps, *image.shape))", _rate_shape),
        Case("only 0 and 1", "compare the random numbers with the image and turn the booleans into floats",
              _rate_binary),
        Case("black never fires, white always fires", "a spike where the uniform number is BELOW the intensity",
              _rate_extremes),
        Case("each pixel fires at a rate equal to its intensity",
              "P(uniform < x) = x: compare each step's uniform numbers with the intensity", _rate_statistics),
        Case("randomness comes only from rng", "use the rng argument (rng.random), never np.random.* or a fixed seed",
              _rate_seeded),
        Case("a new draw at every time step", "draw one uniform number per step AND pixel, not one per pixel",
              _rate_fresh_draws),
    ]
    return run_cases("2.1", "encode_rate_numpy", fn, cases, quiet=quiet)
