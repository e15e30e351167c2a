"""Every claim of the paper with its verdict at its true strength, and the interval that decides it.

A claim about a difference ("the hybrid beats BP by 0.55 points") is decided on paired seeds by an
interval whose two ends are one-sided tests at 5 % (a two-sided 90 % interval), with the four
verdicts of `labkit.experiments.statistics.claim_verdict`: *confirmed*, *equivalent within ±m*
(two one-sided tests), *contradicted at the paper's magnitude*, *not established*.

The deciding interval is the two-level bootstrap over seeds **and** test digits
(`~labkit.experiments.statistics.bootstrap_difference`, from the per-digit records of
`labkit.experiments.digits`) when every paired run has one: the test set is one sample of digits,
and its sampling error belongs in the interval as much as the spread between seeds. Without the
records, Student's t over the seeds decides (and says so). Absolute figures (Table I) are judged
two-sided: within tolerance of the paper's figure, above it, or below it.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .claims import LABELS, PAPER_ABLATION, PAPER_NOISE, PAPER_TABLE1
from .digits import load_correct
from .statistics import (EQUIVALENCE_MARGIN, bootstrap_difference, claim_verdict, paired_differences, seed_stats,
                         t_interval, tost)

__all__ = ["CLAIMS", "Claim", "absolute_verdict", "claim_records", "paired_digits"]


class Claim:
    """A claimed difference ``rule − baseline`` (points) on ``condition`` (a `labkit.experiments.digits` condition)."""

    def __init__(self, text: str, rule: str, baseline: str, condition: str, paper_effect: float | None,
                 summary_key, old_verdict: str):
        self.text, self.rule, self.baseline, self.condition = text, rule, baseline, condition
        self.paper_effect, self.summary_key, self.old_verdict = paper_effect, summary_key, old_verdict

    @property
    def margin(self) -> float:
        return EQUIVALENCE_MARGIN["clean" if self.condition == "clean" else "noise"]


_HYBRID_GAIN = PAPER_TABLE1["mnist"]["adaptive"] - PAPER_TABLE1["mnist"]["bp"]  # +0.55
_NOISE_GAIN = PAPER_NOISE["adaptive"] - PAPER_NOISE["bp"]  # +3.2

#: The paper's claims about differences, with the verdict the report gave them before (2026-12-02, n = 10).
CLAIMS = (
    Claim("the hybrid (A-STDP) beats backprop alone", "adaptive", "bp", "clean", _HYBRID_GAIN, "test_acc",
          "not established"),
    Claim("the hybrid (the paper's literal sum) beats backprop alone", "sum", "bp", "clean", _HYBRID_GAIN,
          "test_acc", "not established"),
    Claim("the hybrid (A-STDP) is more robust to σ = 0.3 noise", "adaptive", "bp", "pixel_clip@0.3", _NOISE_GAIN,
          ("noise_acc", "0.3"), "not established"),
    Claim("the hybrid (sum) is more robust to σ = 0.3 noise", "sum", "bp", "pixel_clip@0.3", _NOISE_GAIN,
          ("noise_acc", "0.3"), "not established"),
    Claim("disabling STDP costs the hybrid 1.7 points", "bp", "adaptive", "clean", PAPER_ABLATION["bp"], "test_acc",
          "not reproduced"),
)


def paired_digits(runs_dir: Path, rule: str, baseline: str, condition: str, seeds) -> tuple | None:
    """Per-digit correctness ``[seeds, digits]`` of ``rule`` and ``baseline`` on ``seeds``, or None if any is missing."""
    a = [load_correct(runs_dir, f"{rule}_s{s}", condition) for s in seeds]
    b = [load_correct(runs_dir, f"{baseline}_s{s}", condition) for s in seeds]
    if not seeds or any(x is None for x in a + b) or len({len(x) for x in a + b}) != 1:
        return None
    return np.stack(a), np.stack(b)


def _magnitude_note(low: float, high: float, effect: float | None) -> str:
    if effect is None:
        return ""
    if (effect > 0 and high < effect) or (effect < 0 and low > effect):
        return "smaller than the paper's"
    if (effect > 0 and low > effect) or (effect < 0 and high < effect):
        return "larger than the paper's"
    return "consistent with the paper's"


def claim_records(rules: dict, runs_dir: Path, claims=CLAIMS) -> list[dict]:
    """One record per claim: the paired differences, Student's t (90 %), TOST at the claim's margin, the bootstrap
    over seeds only and over seeds and test digits, the deciding interval, and the old and new verdicts."""
    out = []
    for claim in claims:
        diffs = paired_differences(rules, claim.rule, claim.baseline, claim.summary_key)
        record = {"claim": claim.text, "rule": claim.rule, "baseline": claim.baseline, "condition": claim.condition,
                  "paper_effect": claim.paper_effect, "margin": claim.margin, "n": len(diffs),
                  "old_verdict": claim.old_verdict}
        if len(diffs) < 2:
            out.append({**record, "verdict": "not run" if not diffs else "not established", "decided_by": None})
            continue
        values = list(diffs.values())
        ci, eq = t_interval(values, 0.90), tost(values, claim.margin)
        record.update({"mean": seed_stats(values)["mean"], "t90": [ci["low"], ci["high"]],
                       "tost_p": eq["p"], "equivalent": eq["equivalent"]})
        if claim.paper_effect is not None and ci["se"] > 0:
            record["t_vs_paper"] = (ci["mean"] - claim.paper_effect) / ci["se"]
        pair = paired_digits(runs_dir, claim.rule, claim.baseline, claim.condition, list(diffs))
        if pair is not None:
            seeds_only = bootstrap_difference(*pair, digits=False)
            both = bootstrap_difference(*pair, digits=True)
            record["bootstrap_seeds"] = [seeds_only["low"], seeds_only["high"]]
            record["bootstrap_two_level"] = [both["low"], both["high"]]
            low, high = both["low"], both["high"]
            record["decided_by"] = "bootstrap over seeds and test digits, 90 %"
        else:
            low, high = ci["low"], ci["high"]
            record["decided_by"] = "Student's t over seeds, 90 %"
        record["interval"] = [low, high]
        record["verdict"] = claim_verdict(low, high, claim.paper_effect, claim.margin)
        record["magnitude"] = _magnitude_note(low, high, claim.paper_effect)
        out.append(record)
    return out


def absolute_verdict(lab_mean: float | None, lab_std: float | None, n: int, paper_figure: float,
                     n_test: int = 10_000) -> tuple[str, float]:
    """Table I's rows, two-sided: is the lab's mean accuracy (%) within tolerance of the paper's single figure?

    Tolerance = 2 √(s² + p(1 − p)/n_test)·100: one run of the paper's differs from the lab's mean by the spread
    between seeds (the lab's s; with one lab seed, the sampling error again) and by the sampling error of its
    test set. Returns the verdict (*within tolerance of the paper's figure*, *above the paper's figure*,
    *below the paper's figure*) and the tolerance in points.
    """
    if lab_mean is None:
        return "not run", math.nan
    p = min(max(paper_figure / 100, 0.0), 1.0)
    sampling = 100 * math.sqrt(p * (1 - p) / n_test)
    spread = lab_std if (lab_std is not None and n > 1) else sampling
    tolerance = 2 * math.sqrt(spread**2 + sampling**2)
    if abs(lab_mean - paper_figure) <= tolerance:
        return "within tolerance of the paper's figure", tolerance
    return ("above" if lab_mean > paper_figure else "below") + " the paper's figure", tolerance


