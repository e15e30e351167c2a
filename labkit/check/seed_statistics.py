"""Exercises 6.1 and 6.4: the same-seed difference of two rules with its 95 % interval, and the mean
and spread of learning curves over seeds."""

from __future__ import annotations

import numpy as np

from ..experiments import difference_verdict
from .core import Case, CheckResult, Mismatch, exercise, expect_close, mistake, run_cases, show

__all__ = ["paired_interval", "seed_band"]


def _interval_case(hybrid, baseline, what="(mean, half-width)"):
    def run(fn):
        got = fn(dict(hybrid), dict(baseline))
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise Mismatch("a pair (mean difference, half-width)", show(got))
        expect_close(np.array([float(got[0]), float(got[1])]), np.array(labkit_paired_interval(hybrid, baseline)),
                      what, atol=1e-6)

    return run


def _interval_one_seed(fn):
    try:
        got = fn({0: 97.9}, {0: 97.6})
    except ValueError:
        return
    raise Mismatch("a ValueError (one seed has no spread to estimate)", show(got))


def labkit_paired_interval(hybrid: dict, baseline: dict) -> tuple[float, float]:
    """labkit's version of exercise 6.1: mean same-seed difference and its 95 % half-width (Student's t, as the report
    computes it)."""
    seeds = sorted(hybrid.keys() & baseline.keys())
    if len(seeds) < 2:
        raise ValueError("paired_interval needs at least two seeds that both rules have run")
    diffs = [hybrid[s] - baseline[s] for s in seeds]
    _, half = difference_verdict(diffs)
    return sum(diffs) / len(diffs), half


@exercise("6.1", "(hybrid, baseline) -> (mean difference, 95 % half-width) over shared seeds",
          fallback=labkit_paired_interval)
def paired_interval(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 6.1, ``paired_interval(hybrid, baseline) -> (mean difference, 95 % half-width)``."""
    cases = [
        Case("two seeds", "one difference per seed; the interval comes from their mean and their spread",
              _interval_case({0: 97.9, 1: 97.7}, {0: 97.6, 1: 97.7}),
              formula="d_s = hybrid[s] − baseline[s];  half-width = T95[n] · s_d / √n, s_d the sample standard "
                      "deviation (divide by n − 1)"),
        Case("three seeds", "Student's t depends on the number of seeds", _interval_case(
              {0: 97.90, 1: 97.70, 2: 98.17}, {0: 97.59, 1: 97.68, 2: 97.83}),
              formula="T95[n] is t_{0.975, n−1}: T95[3] = 4.303"),
        Case("only the seeds both have run are paired", "a difference needs the same seed on both sides",
              _interval_case({0: 97.9, 1: 97.7, 2: 98.2, 5: 97.1}, {0: 97.6, 1: 97.7, 2: 97.8, 3: 97.0}),
              formula="use the seeds in both dictionaries (the intersection of their keys)"),
        Case("ten seeds", "n is the number of shared seeds", _interval_case(
              {s: 97.5 + 0.07 * ((3 * s) % 7) for s in range(10)}, {s: 97.4 + 0.05 * ((5 * s) % 6) for s in range(10)})),
        Case("one shared seed is an error", "one difference has no spread to estimate", _interval_one_seed,
              formula="raise ValueError when fewer than two seeds are shared"),
    ]
    return run_cases("6.1", "paired_interval", fn, cases, quiet=quiet,
                     formula="d_s = hybrid[s] − baseline[s] over the shared seeds; mean d̄; half-width = t_{0.975, n−1} "
                             "· s_d / √n with s_d the sample standard deviation", names=("hybrid", "baseline"))

def _band_case(curves, what):
    def run(fn):
        got = fn([list(c) for c in curves])
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise Mismatch("a pair (mean, sd), one value per epoch each", show(got))
        mean, sd = labkit_seed_band(curves)
        expect_close(np.asarray(got[0], dtype=np.float64), mean, f"{what}: mean", atol=1e-9)
        expect_close(np.asarray(got[1], dtype=np.float64), sd, f"{what}: sd", atol=1e-9)

    return run


def labkit_seed_band(curves) -> tuple[np.ndarray, np.ndarray]:
    """labkit's version of exercise 6.4: per-epoch mean and sample standard deviation over seeds (curves cut to the
    shortest)."""
    length = min(len(c) for c in curves)
    a = np.array([c[:length] for c in curves], dtype=np.float64)
    sd = a.std(axis=0, ddof=1) if len(curves) > 1 else np.zeros(length)
    return a.mean(axis=0), sd


@exercise("6.4", "(curves) -> (mean, sd) per epoch over seeds", fallback=labkit_seed_band)
def seed_band(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 6.4, ``seed_band(curves) -> (mean, sd)`` per epoch over seeds."""
    cases = [
        Case("two seeds of three epochs", "one mean and one spread per epoch, taken across the seeds",
              _band_case([[90.0, 95.0, 96.0], [92.0, 95.0, 97.0]], "band"),
              formula="mean_e = (1/n) Σ_s a_s,e;  sd_e = √(Σ_s (a_s,e − mean_e)² / (n − 1))"),
        Case("one seed: sd 0", "with a single curve there is no spread to estimate",
              _band_case([[90.0, 95.0]], "band"), formula="n = 1: sd_e = 0 for every epoch"),
        Case("curves of different lengths: the epochs every seed has reached",
              "a run still training has fewer epochs than the others",
              _band_case([[90.0, 95.0, 96.0, 97.0], [91.0, 94.0]], "band"),
              formula="cut every curve to the length of the shortest"),
        Case("five seeds", "the sample standard deviation divides by n − 1, not n",
              _band_case([[80 + s + e for e in range(6)] for s in range(5)], "band")),
    ]
    return run_cases("6.4", "seed_band", fn, cases, quiet=quiet,
                     formula="mean_e = (1/n) Σ_s a_s,e;  sd_e = √(Σ_s (a_s,e − mean_e)² / (n − 1)), over the epochs "
                             "every seed reached", names=("curves",))


# ----------------------------------------------------------------------------- the mistakes students make


def _differences(hybrid, baseline, seeds=None):
    seeds = sorted(hybrid.keys() & baseline.keys()) if seeds is None else seeds
    return np.array([hybrid[s] - baseline[s] for s in seeds], dtype=np.float64)


@mistake("6.1", "the population standard deviation (divide by n)", "the spread of a sample is estimated with n − 1 "
         "in the denominator (ddof=1)")
def _interval_ddof0(hybrid, baseline):
    d = _differences(hybrid, baseline)
    mean, half = labkit_paired_interval(hybrid, baseline)
    return mean, half * float(np.sqrt((len(d) - 1) / len(d)))


@mistake("6.1", "1.96 instead of Student's t", "with a handful of seeds the interval needs Student's t with n − 1 "
         "degrees of freedom, much wider than the normal's 1.96")
def _interval_normal(hybrid, baseline):
    d = _differences(hybrid, baseline)
    if len(d) < 2:
        raise ValueError("at least two shared seeds")
    return float(d.mean()), float(1.96 * d.std(ddof=1) / np.sqrt(len(d)))


@mistake("6.1", "unpaired means", "a paired interval compares the SAME seed of both rules: take differences seed by "
         "seed, only for the seeds both have run")
def _interval_unpaired(hybrid, baseline):
    seeds = sorted(hybrid.keys() & baseline.keys())
    mean = float(np.mean(list(hybrid.values())) - np.mean(list(baseline.values())))
    return mean, labkit_paired_interval({s: hybrid[s] for s in seeds}, {s: baseline[s] for s in seeds})[1]


@mistake("6.1", "divided by n instead of √n", "the standard error of a mean is s / √n")
def _interval_over_n(hybrid, baseline):
    d = _differences(hybrid, baseline)
    mean, half = labkit_paired_interval(hybrid, baseline)
    return mean, half / float(np.sqrt(len(d)))


@mistake("6.1", "one seed gives an interval instead of an error", "with one shared seed there is no spread to "
         "estimate: raise a ValueError that says so")
def _interval_one_seed_nan(hybrid, baseline):
    d = _differences(hybrid, baseline)
    if len(d) < 2:
        return float(d.mean()), float("nan")
    return labkit_paired_interval(hybrid, baseline)


@mistake("6.4", "the population standard deviation (divide by n)", "the spread over a few seeds is a sample "
         "standard deviation: n − 1 in the denominator")
def _band_ddof0(curves):
    length = min(len(c) for c in curves)
    a = np.array([c[:length] for c in curves], dtype=np.float64)
    return a.mean(axis=0), a.std(axis=0)


@mistake("6.4", "the mean over epochs instead of over seeds", "one value per EPOCH: average down the seeds "
         "(axis 0), not along each curve")
def _band_wrong_axis(curves):
    length = min(len(c) for c in curves)
    a = np.array([c[:length] for c in curves], dtype=np.float64)
    return a.mean(axis=1), a.std(axis=1, ddof=1) if a.shape[1] > 1 else np.zeros(len(a))


@mistake("6.4", "NaN for a single seed", "one curve has no spread to estimate; the band has width 0 (the sample "
         "formula divides by n − 1 = 0)")
def _band_one_seed_nan(curves):
    length = min(len(c) for c in curves)
    a = np.array([c[:length] for c in curves], dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return a.mean(axis=0), np.sqrt(((a - a.mean(axis=0)) ** 2).sum(axis=0) / (len(a) - 1))


@mistake("6.4", "curves of different lengths not cut", "a run still training has fewer epochs: keep only the "
         "epochs that every seed has reached")
def _band_ragged(curves):
    a = np.array(curves, dtype=np.float64)
    return a.mean(axis=0), a.std(axis=0, ddof=1) if len(a) > 1 else np.zeros(a.shape[1])
