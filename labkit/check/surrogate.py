"""Exercise 4.1: the arctangent surrogate gradient of the spike."""

from __future__ import annotations

import math

import numpy as np
import torch

from ..neurons import ATan
from .core import Case, CheckResult, exercise, expect_close, mistake, run_cases

__all__ = ["atan_surrogate_grad"]


def _atan_case(x, alpha, what):
    def run(fn):
        xt = torch.as_tensor(x, dtype=torch.float64)
        expect_close(fn(xt, alpha), ATan(alpha).derivative(xt), what, atol=1e-7)

    return run


def _atan_finite_difference(fn):
    x = torch.linspace(-1.5, 1.5, 13, dtype=torch.float64)
    h, alpha = 1e-5, 3.0
    primitive = lambda v: 0.5 + torch.atan(math.pi / 2 * alpha * v) / math.pi  # noqa: E731
    expect_close(fn(x, alpha), (primitive(x + h) - primitive(x - h)) / (2 * h),
                  "the derivative of 1/2 + arctan(pi/2 * alpha * x) / pi", atol=1e-6)


def labkit_atan_surrogate_grad(x, alpha):
    """labkit's version of exercise 4.1: the arctangent surrogate's derivative, `labkit.neurons.ATan`
    ``.derivative``."""
    return ATan(alpha).derivative(x)


@exercise("4.1", "(x, alpha) -> (alpha/2) / (1 + (pi/2 alpha x)^2)", fallback=labkit_atan_surrogate_grad)
def atan_surrogate_grad(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 4.1, ``atan_surrogate_grad(x, alpha) -> (alpha/2) / (1 + (pi/2 · alpha · x)^2)``."""
    cases = [
        Case("the peak at x = 0 is alpha/2", "at the threshold (x = 0) the bump is at its highest",
             _atan_case([0.0, 0.25], 3.0, "value at 0 and 0.25"), formula="S'(0) = α/2"),
        Case("values on [-2, 2] for alpha = 2", "the derivative of 1/2 + arctan(π α x / 2) / π, by the chain rule",
             _atan_case(np.linspace(-2, 2, 9), 2.0, "surrogate"),
             formula="S'(x) = (α/2) / (1 + (π/2 · α · x)²)"),
        Case("other alphas (0.5 and 10)", "alpha appears twice: in the height and in the width of the bump",
             lambda fn: (_atan_case(np.linspace(-1, 1, 7), 0.5, "surrogate, alpha = 0.5")(fn),
                         _atan_case(np.linspace(-1, 1, 7), 10.0, "surrogate, alpha = 10")(fn))),
        Case("element-wise on a 2-D tensor", "use tensor arithmetic, no loop or .item()",
             _atan_case(np.linspace(-1, 1, 12).reshape(3, 4), 2.0, "surrogate")),
        Case("agrees with a finite difference of the arctangent", "use math.pi (or torch.pi), not an approximation",
             _atan_finite_difference),
    ]
    return run_cases("4.1", "atan_surrogate_grad", fn, cases, quiet=quiet,
                     formula="S'(x) = (α/2) / (1 + (π/2 · α · x)²)", names=("x", "alpha"))


@mistake("4.1", "alpha missing from the height", "alpha appears twice: in the width of the bump AND in its height "
         "(the peak is alpha / 2)")
def _atan_without_alpha(x, alpha):
    return 0.5 / (1 + (math.pi / 2 * alpha * x) ** 2)


@mistake("4.1", "pi instead of pi/2 in the width", "the derivative of arctan(π α x / 2) brings the factor π/2 into "
         "the denominator's square, not π")
def _atan_pi(x, alpha):
    return (alpha / 2) / (1 + (math.pi * alpha * x) ** 2)


@mistake("4.1", "the smooth step itself, not its derivative", "you returned the arctangent step 1/2 + arctan(...)/π; "
         "the surrogate gradient is its DERIVATIVE")
def _atan_primitive(x, alpha):
    return 0.5 + torch.atan(math.pi / 2 * alpha * x) / math.pi


@mistake("4.1", "the square forgotten", "the bump falls off symmetrically on both sides of the threshold: the "
         "denominator holds a square")
def _atan_no_square(x, alpha):
    return (alpha / 2) / (1 + (math.pi / 2 * alpha * x).abs())
