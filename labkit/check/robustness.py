"""Exercise 6.2: one number for a noise-robustness curve."""

from __future__ import annotations

import numbers

from .core import Case, CheckResult, Mismatch, exercise, expect_close, mistake, run_cases, show

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


def labkit_robustness_score(curve: dict) -> float:
    """labkit's version of exercise 6.2: the trapezoidal mean of accuracy over the noise range."""
    sigmas = sorted(curve)
    if len(sigmas) < 2 or sigmas[-1] == sigmas[0]:
        raise ValueError("robustness_score needs accuracies at two or more different noise levels")
    area = sum((b - a) * (curve[a] + curve[b]) / 2 for a, b in zip(sigmas, sigmas[1:]))
    return area / (sigmas[-1] - sigmas[0])


@exercise("6.2", "({sigma: accuracy}) -> mean accuracy over the noise range", fallback=labkit_robustness_score)
def robustness_score(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 6.2, ``robustness_score({sigma: accuracy}) -> trapezoidal mean accuracy over sigma``."""
    cases = [
        Case("a flat curve scores its accuracy", "a mean over the range: the area divided by the range's width",
              _robustness_case({0.0: 90.0, 0.3: 90.0}),
              formula="score = Σ_k (σ_{k+1} − σ_k) · (a_k + a_{k+1}) / 2, divided by (σ_max − σ_min)"),
        Case("two levels: the mean of the two accuracies", "each interval between two levels is a trapezoid",
              _robustness_case({0.0: 98.0, 0.4: 80.0}),
              formula="area of one interval = (σ_{k+1} − σ_k) · (a_k + a_{k+1}) / 2"),
        Case("levels given out of order", "a dict need not list its noise levels in increasing order",
              _robustness_case({0.3: 85.0, 0.0: 97.0, 0.1: 95.0}), formula="sort the levels before summing"),
        Case("uneven spacing weighs each interval by its width", "multiply each trapezoid by its own width",
              _robustness_case({0.0: 97.5, 0.05: 97.0, 0.1: 96.0, 0.2: 93.0, 0.3: 88.4, 0.5: 70.0})),
        Case("the range need not start at 0", "the width of the range is not always its largest σ",
              _robustness_case({0.2: 90.0, 0.4: 80.0, 0.6: 60.0}), formula="divide by σ_max − σ_min"),
    ]
    return run_cases("6.2", "robustness_score", fn, cases, quiet=quiet,
                     formula="score = Σ_k (σ_{k+1} − σ_k) · (a_k + a_{k+1}) / 2 over the sorted levels, divided by "
                             "(σ_max − σ_min)", names=("curve",))


# ----------------------------------------------------------------------------- the mistakes students make


def _trapezoids(levels, curve):
    return sum((b - a) * (curve[a] + curve[b]) / 2 for a, b in zip(levels, levels[1:]))


@mistake("6.2", "the plain mean of the accuracies", "levels are not evenly spaced: each interval weighs by its "
         "width (a mean over the RANGE of sigma, not over the list)")
def _score_plain_mean(curve):
    return float(sum(curve.values()) / len(curve))


@mistake("6.2", "the levels taken in the dict's order", "a dict lists its keys in the order they were added: sort "
         "the noise levels first")
def _score_unsorted(curve):
    levels = list(curve)
    return float(_trapezoids(levels, curve) / (max(levels) - min(levels)))


@mistake("6.2", "the area not divided by the range", "the score is a MEAN accuracy: the area under the curve "
         "divided by the width of the range")
def _score_area(curve):
    return float(_trapezoids(sorted(curve), curve))


@mistake("6.2", "divided by the largest sigma", "the range starts at the smallest level, which need not be 0: "
         "its width is the largest minus the smallest")
def _score_by_max(curve):
    levels = sorted(curve)
    return float(_trapezoids(levels, curve) / levels[-1])
