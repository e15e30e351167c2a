"""Statistics over seeds: means and spreads of every run's figures, paired differences, verdicts against sampling noise."""

from __future__ import annotations

import math
from pathlib import Path

import torch

from ..foundation import paper
from ..foundation.io import read_json
from ..readout import DEFAULT_LOSS
from .claims import EARLIER_READOUT, LABELS
from .runs import load_history, recorded_loss

__all__ = ["EQUIVALENCE_MARGIN", "VERDICTS", "bootstrap_difference", "claim_verdict", "holm", "paired_t_p", "t90",
           "t_interval", "t_sf", "tost", "VERDICT_TEST_SIZE", "difference_verdict", "paired_comparison", "paired_differences", "statistic", "seed_stats", "summarize", "t95", "verdict"]


def seed_stats(values: list[float]) -> dict:
    values = [v for v in values if v is not None]
    if not values:
        return {"n": 0, "values": [], "mean": None, "std": None}
    t = torch.tensor(values, dtype=torch.float64)
    return {
        "n": len(values),
        "values": values,
        "mean": t.mean().item(),
        "std": t.std(unbiased=True).item() if len(values) > 1 else 0.0,
    }


def _percent_stats(results: list[dict], key: str) -> dict:
    return seed_stats([None if r.get(key) is None else 100 * r[key] for r in results])


def summarize(out_root: Path, dataset: str, *, loss: str = DEFAULT_LOSS) -> dict:
    """Collect every finished run of ``dataset`` into one dictionary (summary.json).

    Spiking runs trained with another loss than ``loss`` are left out (listed under ``"left_out"``):
    a mean over seeds read with different losses and readouts would describe no network. Every
    entry names the ``loss`` and ``readout`` behind its ``test_acc``; ``test_readouts`` holds every
    readout's accuracy, ``silent_percent`` and ``tied_percent`` the test digits with no output spike
    and with a shared top spike count (percent; runs from before these were recorded have none).
    """
    runs_dir = Path(out_root) / dataset / "runs"
    by_rule: dict[str, list[dict]] = {}
    left_out = []
    for path in sorted(runs_dir.glob("*/eval.json")):
        result = read_json(path, what="run result")
        if recorded_loss(result) not in (loss, "cross_entropy", None):
            left_out.append({"run": path.parent.name, "loss": recorded_loss(result)})
            continue
        by_rule.setdefault(result["rule"], []).append(result)
    summary = {"dataset": dataset, "loss": loss, "rules": {}, "left_out": left_out}
    for rule, results in by_rule.items():
        results.sort(key=lambda r: r["seed"])
        readouts = sorted({r.get("readout", EARLIER_READOUT.get(rule, "count_membrane")) for r in results})
        entry = {
            "label": LABELS.get(rule, rule),
            "seeds": [r["seed"] for r in results],
            "epochs": sorted({r["epochs"] for r in results}),
            "loss": recorded_loss(results[0]),
            "readout": ", ".join(readouts),
            "test_acc": seed_stats([100 * r["test_acc"] for r in results]),
            "train_seconds": seed_stats([r.get("train_seconds") for r in results]),
        }
        names = sorted({name for r in results for name in r.get("test_readouts", {})})
        if names:
            entry["test_readouts"] = {name: seed_stats([100 * r["test_readouts"][name] if name in r.get("test_readouts", {})
                                                    else None for r in results]) for name in names}
        if any(r.get("silent_fraction") is not None for r in results):
            entry["silent_percent"] = _percent_stats(results, "silent_fraction")
            entry["tied_percent"] = _percent_stats(results, "tie_fraction")
        if results[0].get("noise_acc"):
            entry["noise_acc"] = {
                sigma: seed_stats([100 * r["noise_acc"][sigma] for r in results]) for sigma in results[0]["noise_acc"]
            }
        if rule == "stdp_only":
            entry["settings_chosen_on"] = results[0].get("settings_chosen_on", "the test set")
        for key in ("epochs_to_90", "epochs_to_95", "hidden_spikes_per_neuron_step"):
            if key in results[0]:
                entry[key] = [r.get(key) for r in results]
        histories = [load_history(out_root, dataset, f"{rule}_s{r['seed']}") for r in results]
        curves = [h.test_acc for h in histories if h is not None]
        if curves:
            length = min(len(c) for c in curves)
            entry["test_acc_per_epoch"] = [
                100 * sum(c[e] for c in curves) / len(curves) for e in range(length)
            ]
        summary["rules"][rule] = entry
    return summary


#: Test-set size behind the verdicts: a single accuracy p on n test images has a sampling
#: standard error sqrt(p(1 − p)/n), about 0.15 points at 97.5% on MNIST's 10,000.
VERDICT_TEST_SIZE = 10_000


def verdict(lab: float | None, paper: float, n_test: int = VERDICT_TEST_SIZE) -> str:
    """"reproduced" when the lab's accuracy (%) is at least the paper's minus two standard errors."""
    if lab is None:
        return "not run"
    p = min(max(paper / 100, 0.0), 1.0)
    tolerance = 2 * 100 * math.sqrt(p * (1 - p) / n_test)
    return "reproduced" if lab >= paper - tolerance else "not reproduced"


def paired_differences(rules: dict, rule: str, baseline: str = "bp", key: str | tuple = "test_acc") -> dict[int, float]:
    """``rule − baseline`` in points for every seed both have run (same seed, epochs and η2).

    ``key`` names the statistic in a `summarize` entry: ``"test_acc"``, or a path such as
    ``("noise_acc", "0.3")``.
    """
    a, b = rules.get(rule), rules.get(baseline)
    if not a or not b:
        return {}
    stats_a, stats_b = statistic(a, key), statistic(b, key)
    if not stats_a or not stats_b:
        return {}
    values_a = dict(zip(a["seeds"], stats_a["values"]))
    values_b = dict(zip(b["seeds"], stats_b["values"]))
    return {seed: values_a[seed] - values_b[seed] for seed in sorted(values_a.keys() & values_b.keys())}


def statistic(entry: dict, key: str | tuple) -> dict:
    """The `seed_stats` record at ``key`` (a name or a path of names) of a `summarize` entry; ``{}`` if absent."""
    for part in (key,) if isinstance(key, str) else key:
        entry = entry.get(part) or {}
    return entry


#: Two-sided 95 % quantiles of Student's t with n − 1 degrees of freedom, for n paired seeds (standard tables).
_T95 = {2: 12.706, 3: 4.303, 4: 3.182, 5: 2.776, 6: 2.571, 7: 2.447, 8: 2.365, 9: 2.306, 10: 2.262, 11: 2.228,
        12: 2.201, 13: 2.179, 14: 2.160, 15: 2.145, 16: 2.131, 17: 2.120, 18: 2.110, 19: 2.101, 20: 2.093,
        21: 2.086, 22: 2.080, 23: 2.074, 24: 2.069, 25: 2.064, 26: 2.060, 27: 2.056, 28: 2.052, 29: 2.048,
        30: 2.045, 31: 2.042}


def t95(n: int) -> float:
    """The two-sided 95 % quantile of Student's t for ``n`` paired values (n − 1 degrees of freedom); beyond
    the table, the Cornish-Fisher expansion z + (z³ + z)/(4·df) + (5z⁵ + 16z³ + 3z)/(96·df²), within 0.001
    of the exact value."""
    if n < 2:
        raise ValueError(f"a t-interval needs at least 2 values, got {n}")
    if n in _T95:
        return _T95[n]
    z, df = 1.959964, n - 1
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


def difference_verdict(diffs: list[float], accuracy: float = paper.TABLE_I["mnist"]["bp"],
                       n_test: int = VERDICT_TEST_SIZE) -> tuple[str, float]:
    """Verdict on "rule beats baseline" from paired differences (points), and the 95 % half-width.

    With n ≥ 2 seeds: mean ± t·s/√n (Student's t); with one seed: ± 2·√2 sampling standard
    errors of a test accuracy near ``accuracy`` (%). "reproduced" when the whole interval lies
    above 0, "contradicted" when below, "not established" otherwise.
    """
    n = len(diffs)
    if n == 0:
        return "not run", math.nan
    mean = sum(diffs) / n
    if n == 1:
        p = accuracy / 100
        half = 2 * math.sqrt(2) * 100 * math.sqrt(p * (1 - p) / n_test)
    else:
        half = t95(n) * seed_stats(diffs)["std"] / math.sqrt(n)
    if mean - half > 0:
        return "reproduced", half
    if mean + half < 0:
        return "contradicted", half
    return "not established", half


def paired_comparison(rules: dict, rule: str, baseline: str = "bp", key: str | tuple = "test_acc") -> dict:
    """``rule − baseline`` over the seeds both have run: n, mean, standard deviation, the 95 % interval
    (Student's t over the paired differences; one seed: the sampling error, as `difference_verdict`),
    the verdict and a sentence saying it in plain words."""
    diffs = paired_differences(rules, rule, baseline, key)
    values = list(diffs.values())
    a, b = LABELS.get(rule, rule), LABELS.get(baseline, baseline)
    record = {"rule": rule, "baseline": baseline, "statistic": key if isinstance(key, str) else "/".join(key),
              "seeds": list(diffs), "n": len(values), "differences": values}
    if not values:
        return {**record, "mean": None, "std": None, "low": None, "high": None, "verdict": "not run",
                "in_words": f"No seed has finished runs of both {a} and {b} yet."}
    level = statistic(rules[baseline], key).get("mean") or paper.TABLE_I["mnist"]["bp"]  # no run yet: the paper's
    verdict, half = difference_verdict(values, level)
    stats = seed_stats(values)
    low, high = stats["mean"] - half, stats["mean"] + half
    span = f"{stats['mean']:+.2f} points on average, 95 % interval {low:+.2f} to {high:+.2f}"
    seeds = f"{len(values)} paired seed{'s' * (len(values) > 1)}"
    if verdict == "reproduced":
        words = f"On {seeds}, {a} beats {b}: {span}."
    elif verdict == "contradicted":
        words = f"On {seeds}, {b} beats {a}: {span}."
    else:
        noise = "the spread between seeds" if len(values) > 1 else "the sampling error of a single run"
        words = (f"On {seeds}, {a} and {b} cannot be told apart: {span}, an interval that includes zero, so the "
                 f"difference is within {noise}.")
    return {**record, "mean": stats["mean"], "std": stats["std"], "low": low, "high": high, "verdict": verdict,
            "in_words": words}


# --- Verdicts at their true strength: equivalence (TOST), the paper's magnitude, Holm, a two-level bootstrap ---

#: Equivalence margins (points): a difference inside ±m is "no difference that matters". Clean accuracy: 0.1
#: points, less than one sampling standard error of a single test accuracy (0.15 at 97.5 % on 10,000 digits).
#: Under σ = 0.3 noise, where seeds spread by about a point: 0.5 points (a sixth of the paper's +3.2).
EQUIVALENCE_MARGIN = {"clean": 0.1, "noise": 0.5}

#: The four verdicts a claim can get (the third is written with its margin, "equivalent within ±0.1").
VERDICTS = ("confirmed", "contradicted at the paper's magnitude", "equivalent within ±m", "not established")

#: One-sided 95 % (two-sided 90 %) quantiles of Student's t with n − 1 degrees of freedom, n values (standard tables).
_T90 = {2: 6.314, 3: 2.920, 4: 2.353, 5: 2.132, 6: 2.015, 7: 1.943, 8: 1.895, 9: 1.860, 10: 1.833, 11: 1.812,
        12: 1.796, 13: 1.782, 14: 1.771, 15: 1.761, 16: 1.753, 17: 1.746, 18: 1.740, 19: 1.734, 20: 1.729,
        21: 1.725, 22: 1.721, 23: 1.717, 24: 1.714, 25: 1.711, 26: 1.708, 27: 1.706, 28: 1.703, 29: 1.701,
        30: 1.699, 31: 1.697}


def t90(n: int) -> float:
    """The one-sided 95 % quantile of Student's t for ``n`` values (n − 1 degrees of freedom): the ends of a
    two-sided 90 % interval, each a one-sided test at 5 %. Beyond the table: Cornish-Fisher, as `t95`."""
    if n < 2:
        raise ValueError(f"a t-interval needs at least 2 values, got {n}")
    if n in _T90:
        return _T90[n]
    z, df = 1.644854, n - 1
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


def t_sf(t: float, df: int) -> float:
    """P(T > t) for Student's t with an integer ``df`` ≥ 1 degrees of freedom (Abramowitz and Stegun 26.7.3-4:
    a finite sum in cos θ, tan θ = t/√df)."""
    if df < 1 or int(df) != df:
        raise ValueError(f"df must be a whole number >= 1, got {df!r}")
    theta = math.atan2(t, math.sqrt(df))
    s, c = math.sin(theta), math.cos(theta)
    if df % 2:  # odd: A = (2/π)(θ + sin θ (cos θ + cos³θ·2/3 + …))
        term, total = c, c if df > 1 else 0.0
        for k in range(3, df - 1, 2):
            term *= c * c * (k - 1) / k
            total += term
        a = 2 / math.pi * (theta + s * total)
    else:  # even: A = sin θ (1 + cos²θ/2 + cos⁴θ·(1·3)/(2·4) + …)
        term, total = 1.0, 1.0
        for k in range(2, df - 1, 2):
            term *= c * c * (k - 1) / k
            total += term
        a = s * total
    return (1 - a) / 2  # a = P(|T| < t) signed: P(T < t) − P(T > t)


def t_interval(diffs: list[float], level: float = 0.90) -> dict:
    """Mean, standard error and Student's t interval (``level`` 0.90 or 0.95) of paired differences."""
    n = len(diffs)
    stats = seed_stats(list(diffs))
    se = stats["std"] / math.sqrt(n) if n > 1 else math.nan
    q = {0.90: t90, 0.95: t95}[level](n)
    return {"n": n, "mean": stats["mean"], "se": se, "low": stats["mean"] - q * se, "high": stats["mean"] + q * se,
            "level": level}


def tost(diffs: list[float], margin: float) -> dict:
    """Two one-sided t-tests of equivalence within ±``margin`` (points) on paired differences.

    H0: |mean| ≥ margin. Reject both "mean ≤ −margin" (t_low = (mean + margin)/se) and "mean ≥ +margin"
    (t_high = (mean − margin)/se) at 5 % each ⇔ the 90 % t interval lies inside (−margin, +margin).
    Returns both t statistics, their p-values (the larger decides), the 90 % interval and ``equivalent``.
    """
    if margin <= 0:
        raise ValueError(f"an equivalence margin must be > 0 points, got {margin!r}")
    ci = t_interval(diffs, 0.90)
    df = ci["n"] - 1
    t_low, t_high = (ci["mean"] + margin) / ci["se"], (ci["mean"] - margin) / ci["se"]
    p = max(t_sf(t_low, df), 1 - t_sf(t_high, df))
    return {**ci, "margin": margin, "t_low": t_low, "t_high": t_high, "p": p,
            "equivalent": -margin < ci["low"] and ci["high"] < margin}


def claim_verdict(low: float, high: float, paper_effect: float | None, margin: float) -> str:
    """The verdict on a claimed effect ``paper_effect`` (points, either sign; None: a claim of direction only,
    positive) from the interval ``[low, high]`` whose ends are one-sided tests at 5 %:

    * *confirmed*: the interval excludes zero on the claimed side;
    * *equivalent within ±m*: it lies inside (−m, +m) (two one-sided tests);
    * *contradicted at the paper's magnitude*: it excludes the paper's effect, on the side of zero;
    * *not established*: none of these.
    """
    side = 1.0 if paper_effect is None or paper_effect >= 0 else -1.0
    if (side > 0 and low > 0) or (side < 0 and high < 0):
        return "confirmed"
    if -margin < low and high < margin:
        return f"equivalent within ±{margin:g}"
    if paper_effect is not None and ((side > 0 and high < paper_effect) or (side < 0 and low > paper_effect)):
        return "contradicted at the paper's magnitude"
    return "not established"


def holm(p_values: list[float], alpha: float = 0.05) -> list[bool]:
    """Holm's step-down correction: which of the hypotheses with ``p_values`` are rejected at family-wise
    level ``alpha`` (sorted p_(i) against alpha/(k − i + 1), stopping at the first that fails)."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    rejected = [False] * len(p_values)
    for rank, i in enumerate(order):
        if p_values[i] > alpha / (len(p_values) - rank):
            break
        rejected[i] = True
    return rejected


def paired_t_p(diffs: list[float]) -> float:
    """Two-sided p-value of the paired t-test "mean difference = 0"."""
    ci = t_interval(diffs, 0.90)
    if not ci["se"] > 0:
        return 0.0 if ci["mean"] else 1.0
    return 2 * t_sf(abs(ci["mean"]) / ci["se"], ci["n"] - 1)


def bootstrap_difference(correct_a, correct_b=None, *, digits: bool = True, level: float = 0.90,
                         replicates: int = 4000, seed: int = 0, chunk: int = 200) -> dict:
    """Bootstrap interval (points) of mean accuracy A − B over paired seeds, from per-digit correctness.

    ``correct_a``, ``correct_b``: boolean arrays ``[seeds, digits]``, row i of both from the same seed and the
    same test digits (``correct_b`` None: the accuracy of A alone). Each replicate draws the seeds with
    replacement and, with ``digits=True`` (two levels), the test digits with replacement too, one draw for all
    runs (they share one test set); ``digits=False`` resamples the seeds only. Draws come from
    ``numpy.random.default_rng(seed)``, so the interval is the same on every call. The interval is
    mean ± t_(n−1)·se with se the replicates' standard deviation times √(n/(n − 1)) (``level`` 0.90 or 0.95);
    over seeds alone it is Student's t interval again, and with the digits it adds the test set's sampling
    error. The plain percentile interval is returned too (``"percentile"``).
    """
    import numpy as np

    a = np.asarray(correct_a, dtype=np.float32)
    d = a - np.asarray(correct_b, dtype=np.float32) if correct_b is not None else a
    if d.ndim != 2 or d.shape[0] < 2:
        raise ValueError(f"per-digit correctness must be [seeds ≥ 2, digits], got shape {d.shape}")
    n_seeds, n_digits = d.shape
    rng = np.random.default_rng(seed)
    seeds = rng.integers(0, n_seeds, size=(replicates, n_seeds))
    per_seed = np.empty((n_seeds, replicates), dtype=np.float64)
    if digits:
        for start in range(0, replicates, chunk):
            idx = rng.integers(0, n_digits, size=(min(chunk, replicates - start), n_digits))
            per_seed[:, start:start + len(idx)] = d[:, idx].mean(axis=-1, dtype=np.float64)
    else:
        per_seed[:] = d.mean(axis=1, keepdims=True, dtype=np.float64)
    means = 100 * np.take_along_axis(per_seed, seeds.T, axis=0).mean(axis=0)
    tail = 100 * (1 - level) / 2
    p_low, p_high = np.percentile(means, [tail, 100 - tail])
    # With ten seeds the percentile interval is too narrow (it uses z, not t, and a resampled standard deviation
    # is biased low by √((n − 1)/n)); the interval given is mean ± t·se, se the replicates' spread made unbiased.
    se = float(means.std(ddof=1)) * math.sqrt(n_seeds / (n_seeds - 1))
    q = {0.90: t90, 0.95: t95}[level](n_seeds)
    mean = 100 * float(d.mean(dtype=np.float64))
    return {"mean": mean, "se": se, "low": mean - q * se, "high": mean + q * se, "level": level,
            "percentile": [float(p_low), float(p_high)], "replicates": replicates,
            "levels": "seeds and test digits" if digits else "seeds", "n": n_seeds, "digits": n_digits}
