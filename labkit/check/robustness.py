"""Exercise 6.1: one number for a noise-robustness curve."""

from __future__ import annotations

import numbers

from .core import Case, CheckResult, Mismatch, expect_close, run_cases, show

__all__ = ["robustness_score"]


def _robustness_case(curve, what="score"):
    def run(fn):
        sigmas = sorted(curve)
        accuracies = [curve[s] for s in sigmas]
        # trapezoidal mean: Σ (σ_{k+1} − σ_k)(a_k + a_{k+1})/2 / (σ_max − σ_min)
        area = sum((s1 - s0) * (a0 + a1) / 2 for s0, s1, a0, a1 in zip(sigmas, sigmas[1:], accuracies, accuracies[1:]))
        got = fn(dict(curve))
        if isinstance(got, bool) or not isinstance(got, numbers.Real):
            raise Mismatch("a float", f"{type(got).__name__} {show(got)}")
        expect_close(got, area / (sigmas[-1] - sigmas[0]), what, atol=1e-9)

    return run


def robustness_score(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 6.1, ``robustness_score({sigma: accuracy}) -> trapezoidal mean accuracy over sigma``."""
    cases = [
        Case("a flat curve scores its accuracy", "divide the area by sigma_max - sigma_min",
              _robustness_case({0.0: 90.0, 0.3: 90.0})),
        Case("two levels: the mean of the two accuracies", "trapezoid: (sigma[k+1] - sigma[k]) * (a[k] + a[k+1]) / 2",
              _robustness_case({0.0: 98.0, 0.4: 80.0})),
        Case("levels given out of order", "sort the noise levels before summing",
              _robustness_case({0.3: 85.0, 0.0: 97.0, 0.1: 95.0})),
        Case("uneven spacing weighs each interval by its width", "multiply each trapezoid by its own width",
              _robustness_case({0.0: 97.5, 0.05: 97.0, 0.1: 96.0, 0.2: 93.0, 0.3: 88.4, 0.5: 70.0})),
        Case("the range need not start at 0", "divide by sigma_max - sigma_min, not by sigma_max",
              _robustness_case({0.2: 90.0, 0.4: 80.0, 0.6: 60.0})),
    ]
    return run_cases("6.1", "robustness_score", fn, cases, quiet=quiet)
