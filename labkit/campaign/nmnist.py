r"""Table I's second column on simulated N-MNIST: the plan's points, one point's run, and the report section.

The data are MNIST digits turned into events by three saccades of a simulated event camera
(`labkit.data.nmnist_sim_data`: 34×34 pixels, two polarities, T = 25 frames), all 60,000 training
and 10,000 test digits, kept bit-packed in memory (7,225 bytes per digit; each batch is unpacked
when it is used). They are **simulated**: the numbers are not comparable with published N-MNIST
results, and every table says so.

A point of the plan ``nmnist-sim`` is ``{"regime": "nmnist", "variant": v, "seed": s}``; the
variant names the network and its rule (`VARIANTS`): the feed-forward 2312-500-10 spiking network
with ``bp``, ``sum`` or ``adaptive``, the ANN baseline 2312-500-10 (``ann``, on the frames'
average over time), and the recurrent hidden layer (the paper's N-MNIST configuration) with
``bp_rec`` and ``adaptive_rec``. Every run trains the same number of epochs and records its
per-epoch training and test accuracy; seeds pair the runs (the same seed gives the same initial
weights within one architecture and the same batch order), so the report takes paired
differences: hybrid − BP per architecture and recurrent − feed-forward per rule.

The STDP-only classifier (``stdp_only``, one point, seed 0) is the competitive layer of
`labkit.competitive` reading the event frames themselves (`train_competitive` with the data's
`FrameEncoder`): 500 neurons, the mean initial weight of the MNIST layer (w_sum scaled by
2312/784 inputs), the threshold ϑ and threshold step θ₊ chosen on held-out training digits (the
last 20% of every class, `STDP_GRID`, one epoch each), then the chosen setting on all training
digits for `STDP_ONLY_EPOCHS` epochs and the test set scored once.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, replace
from pathlib import Path

from ..data import nmnist_sim_data
from ..data.record import Data
from ..experiments.statistics import holm, paired_t_p, t95, verdict
from ..foundation import paper
from ..foundation.io import write_text
from ..competitive import CompetitiveParams
from ..experiments.runs import STDP_ONLY_EPOCHS
from ..models import ANNBaseline, SpikingMLP
from ..stdp_baseline import candidate, validation_data
from ..training import train, train_competitive
from .results import load_results

__all__ = ["DATA_LABEL", "EPOCHS", "PLAN", "VARIANTS", "load_nmnist_sim", "make_model", "nmnist_points",
           "nmnist_section", "paired", "run_nmnist", "run_stdp_only_frames", "stdp_only_params", "write_nmnist_report"]

#: The name of the plan, and the label every table of its results carries.
PLAN = "nmnist-sim"
DATA_LABEL = "simulated N-MNIST (events simulated from MNIST, not the sensor recordings)"
#: Epochs of every gradient-trained run. On one core an epoch of the 60,000 simulated digits costs about a
#: CPU-minute (feed-forward) to 1.8 (recurrent); 5 epochs keep the plan near 2.5 CPU-hours. The report prints
#: every variant's mean test curve, so whether the curves are flat by then is read, not assumed.
EPOCHS = 5
#: The STDP-only classifier's settings compared on the validation digits (the MNIST layer chose ϑ = 15, θ₊ = 0.5).
STDP_GRID = {"theta_plus": (0.5, 1.0), "threshold": (10.0, 15.0, 20.0, 30.0)}
#: variant → (rule, recurrent hidden layer); ``ann`` trains the ANN baseline with Adam (the ``bp`` rule).
VARIANTS = {"bp": ("bp", False), "sum": ("sum", False), "adaptive": ("adaptive", False), "ann": ("ann", False),
            "bp_rec": ("bp", True), "adaptive_rec": ("adaptive", True), "stdp_only": ("stdp_only", False)}
#: The digits of the full plan: all of simulated N-MNIST's training and test splits.
N_TRAIN, N_TEST = 60_000, 10_000


def nmnist_points(feed_forward_seeds=range(5), recurrent_seeds=range(3), feed_forward=("bp", "sum", "adaptive", "ann"),
                  recurrent=("bp_rec", "adaptive_rec"), stdp_only_seeds=(0,)) -> tuple[dict, ...]:
    """The plan's points, seed by seed (a plan stopped half-way holds whole pairs), the STDP-only classifier last."""
    seeds = sorted(set(feed_forward_seeds) | set(recurrent_seeds))
    return tuple({"regime": "nmnist", "variant": v, "seed": s} for s in seeds
                 for v in (*(feed_forward if s in feed_forward_seeds else ()),
                           *(recurrent if s in recurrent_seeds else ()))) + tuple(
        {"regime": "nmnist", "variant": "stdp_only", "seed": s} for s in stdp_only_seeds)


def load_nmnist_sim(n_train: int = N_TRAIN, n_test: int = N_TEST, **options) -> Data:
    """Simulated N-MNIST from full MNIST, frames bit-packed (`labkit.data.nmnist_sim_data` with ``frames="packed"``;
    the cache in data/cache/ is built once, a minute or two per split)."""
    return nmnist_sim_data(n_train, n_test, 25, seed=0, source=options.pop("source", "full"), frames="packed",
                           **options)


def make_model(rule: str, recurrent: bool, data: Data, seed: int):
    """The network of a variant: 2312-500-10 (inputs per step from the data's encoder), spiking (recurrent or not)
    or the ANN baseline (``rule="ann"``), initialised from ``seed``."""
    n_in = int(math.prod(data.encoder.static(data.train_x[:1]).shape[1:]))  # 2 · 34 · 34 = 2312 per step
    sizes = (n_in, 500, 10)
    if rule == "ann":
        return ANNBaseline(sizes, seed=seed)
    return SpikingMLP(sizes, recurrent=recurrent, seed=seed)


def run_nmnist(point: dict, data: Data, epochs: int) -> dict:
    """Train one network of the plan for ``epochs`` epochs; its final test accuracy and per-epoch record."""
    if point["variant"] not in VARIANTS:
        raise ValueError(f"unknown N-MNIST variant {point['variant']!r}: one of {', '.join(VARIANTS)}")
    rule, recurrent = VARIANTS[point["variant"]]
    if rule == "stdp_only":
        return run_stdp_only_frames(data, point["seed"])
    model = make_model(rule, recurrent, data, point["seed"])
    history = train(model, "bp" if rule == "ann" else rule, data, epochs, seed=point["seed"], progress=False)
    return {"test_acc": history.test_acc[-1], "rule": rule, "recurrent": recurrent, "sizes": list(model.sizes),
            "n_train": len(data.train_x), "n_test": len(data.test_x), "dataset": DATA_LABEL,
            "history": {"test_acc": history.test_acc, "train_acc": history.train_acc, "loss": history.loss,
                        "epoch_time": history.epoch_time, "spike_rate": history.spike_rate,
                        "rule_stats": history.rule_stats, "config": history.config}}


def stdp_only_params(theta_plus: float, threshold: float, n_inputs: int) -> CompetitiveParams:
    """The competitive layer's settings for ``n_inputs`` inputs per step: MNIST's, with the candidate's θ₊ and ϑ and
    w_sum scaled so that the mean initial weight is the MNIST layer's."""
    base = CompetitiveParams()
    return replace(candidate(theta_plus, threshold, base), w_sum=base.w_sum * n_inputs / 784)


def run_stdp_only_frames(data: Data, seed: int, grid: dict = STDP_GRID, *, n_neurons: int = 500,
                         epochs: int = STDP_ONLY_EPOCHS, progress: bool = False) -> dict:
    """The STDP-only classifier on event frames: settings chosen on held-out training digits, then trained on all
    of them and the test set scored once."""
    n_inputs = int(math.prod(data.encoder.static(data.train_x[:1]).shape[1:]))
    val = validation_data(data)
    trials = []
    for theta_plus in grid["theta_plus"]:
        for threshold in grid["threshold"]:
            _, res = train_competitive(val, n_neurons, 1, seed, params=stdp_only_params(theta_plus, threshold, n_inputs),
                                       encoder=data.encoder, progress=progress)
            trials.append({"theta_plus": theta_plus, "threshold": threshold, "validation_acc": res.test_acc,
                           "silent_neurons": res.silent_neurons})
    best = max(trials, key=lambda t: t["validation_acc"])  # the first of equal values
    params = stdp_only_params(best["theta_plus"], best["threshold"], n_inputs)
    _, res = train_competitive(data, n_neurons, epochs, seed, params=params, encoder=data.encoder, progress=progress)
    return {"test_acc": res.test_acc, "rule": "stdp_only", "recurrent": False, "sizes": [n_inputs, n_neurons],
            "n_train": len(data.train_x), "n_test": len(data.test_x), "dataset": DATA_LABEL, "stdp_epochs": epochs,
            "selection": {"trials": trials, "chosen": {k: best[k] for k in ("theta_plus", "threshold")},
                          "validation": "last 20% of every class of the training split; trained and labelled on "
                                        "the rest, one epoch per setting"},
            "params": asdict(params), "silent_neurons": res.silent_neurons, "per_class_acc": res.per_class_acc}


# ----------------------------------------------------------------------------- the report section

#: The rows of the column: (label, feed-forward variant, recurrent variant, the paper's key in Table I).
_ROWS = (("STDP-only (competitive layer)", "stdp_only", None, "stdp_only"),
         ("surrogate BP", "bp", "bp_rec", "bp"),
         ("hybrid, sum (η1·STDP + η2·BP, c ≡ 1)", "sum", None, None),
         ("hybrid, A-STDP (adaptive)", "adaptive", "adaptive_rec", "adaptive"),
         ("ANN baseline (ReLU MLP)", "ann", None, None))
#: The paired comparisons: (label, variant A, variant B); Holm runs over them together.
_COMPARISONS = (("A-STDP − BP, feed-forward", "adaptive", "bp"),
                ("sum − BP, feed-forward", "sum", "bp"),
                ("A-STDP − BP, recurrent", "adaptive_rec", "bp_rec"),
                ("recurrent − feed-forward, BP", "bp_rec", "bp"),
                ("recurrent − feed-forward, A-STDP", "adaptive_rec", "adaptive"))


def paired(a: dict[int, float], b: dict[int, float]) -> dict | None:
    """The paired difference A − B (points) over the seeds both have: mean, 95% t-interval, two-sided p of the
    paired t-test, n; None below two pairs."""
    seeds = sorted(set(a) & set(b))
    if len(seeds) < 2:
        return None
    d = [100.0 * (a[s] - b[s]) for s in seeds]
    n, mean = len(d), sum(d) / len(d)
    half = t95(n) * math.sqrt(sum((x - mean) ** 2 for x in d) / (n - 1)) / math.sqrt(n)
    return {"mean": mean, "low": mean - half, "high": mean + half, "p": paired_t_p(d), "n": n, "seeds": seeds}


def _by_seed(results: list[dict], variant: str | None) -> dict[int, float]:
    return {r["point"]["seed"]: r["test_acc"] for r in results if r["point"].get("variant") == variant}


def _cell(values: dict[int, float]) -> str:
    if not values:
        return "not run"
    acc = [100 * v for v in values.values()]
    mean = sum(acc) / len(acc)
    if len(acc) == 1:
        return f"{mean:.2f} (n = 1)"
    sd = math.sqrt(sum((a - mean) ** 2 for a in acc) / (len(acc) - 1))
    return f"{mean:.2f} ± {sd:.2f} (n = {len(acc)})"


def _curves(results: list[dict]) -> list[str]:
    """Mean test accuracy after each epoch, per variant: whether the curves are still rising at the end."""
    rows = {}
    for v in VARIANTS:
        curves = [r["history"]["test_acc"] for r in results if r["point"].get("variant") == v and r.get("history")]
        if curves:
            epochs = min(len(c) for c in curves)
            rows[v] = [100 * sum(c[e] for c in curves) / len(curves) for e in range(epochs)]
    if not rows:
        return []
    width = max(len(r) for r in rows.values())
    lines = ["| variant | " + " | ".join(f"ep {e + 1}" for e in range(width)) + " |",
             "|" + " --- |" * (width + 1)]
    lines += [f"| {v} | " + " | ".join(f"{a:.2f}" for a in r) + " |" * (width - len(r) + 1) for v, r in rows.items()]
    return lines


def _stdp_only_line(results: list[dict]) -> str:
    runs = [r for r in results if r["point"].get("variant") == "stdp_only"]
    if not runs:
        return "STDP-only: not run yet (the plan's last point)."
    r = runs[0]
    chosen, trials = r["selection"]["chosen"], r["selection"]["trials"]
    best = max(t["validation_acc"] for t in trials)
    return (f"STDP-only: the competitive layer of 500 neurons reading the event frames, ϑ = {chosen['threshold']:g} "
            f"and θ₊ = {chosen['theta_plus']:g} chosen among {len(trials)} settings on held-out training digits "
            f"(validation {100 * best:.2f}%), then {r['stdp_epochs']} epochs on all training digits: "
            f"{100 * r['test_acc']:.2f}% on the test set (seed {r['point']['seed']}, scored once).")


def nmnist_section(out: str | os.PathLike, plan) -> str:
    """The Markdown section of Table I's second column from the results of ``plan`` (a `labkit.campaign.Plan` of
    regime ``nmnist``, e.g. ``PLANS["nmnist-sim"]``) under ``out``; an empty string when none has run."""
    results = load_results(out, plan.name)
    if not results:
        return ""
    done = {r["id"] for r in results}
    complete = ("complete" if len(done) == len(plan.points)
                else f"**partial: {len(done)} of {len(plan.points)} points**")
    n_test = sorted({r.get("n_test") for r in results})
    cpu_hours = sum(r.get("cpu_seconds", 0.0) for r in results) / 3600
    lines = [f"### Table I, second column: {DATA_LABEL}", "",
             f"Plan `{plan.name}`: {plan.notes}. {complete}; {plan.epochs} epoch(s) for every rule; "
             f"{len(results)} result(s), {cpu_hours:.2f} CPU-hours; made by labkit "
             f"{', '.join(sorted({str(r.get('commit')) for r in results}))}; test digits per run: "
             f"{', '.join(map(str, n_test))}. The paper's figures are for the sensor recordings; these "
             "are for events simulated from MNIST, so a difference from them is not a failure to reproduce "
             "the paper, and agreement does not confirm it.", "",
             "| method | paper, N-MNIST (%) | lab, feed-forward (%) | lab, recurrent (%) "
             "| ff reaches the paper's figure (within 2 s.e.) |",
             "| --- | --- | --- | --- | --- |"]
    for label, ff, rec, key in _ROWS:
        paper_acc = paper.TABLE_I["nmnist"].get(key) if key else None
        ff_values, rec_values = _by_seed(results, ff), _by_seed(results, rec)
        mean = 100 * sum(ff_values.values()) / len(ff_values) if ff_values else None
        # "yes"/"no", not "reproduced": simulated events cannot reproduce a figure measured on the recordings
        reached = {"reproduced": "yes", "not reproduced": "no", "not run": "not run"}[
            verdict(mean, paper_acc, n_test[-1] or 10_000)] if paper_acc is not None else "—"
        lines.append(f"| {label} | {'—' if paper_acc is None else f'{paper_acc:.2f}'} | "
                     f"{_cell(ff_values) if ff else 'not in this plan'} | {_cell(rec_values) if rec else '—'} | "
                     f"{reached} |")
    lines += ["", _stdp_only_line(results), "",
              "Paired differences (points; seeds paired; 95% t-interval; two-sided paired t-test, Holm over the "
              "rows):", "",
              "| comparison | mean | 95% interval | p | n | verdict (Holm) |", "| --- | --- | --- | --- | --- | --- |"]
    rows = [(label, paired(_by_seed(results, a), _by_seed(results, b))) for label, a, b in _COMPARISONS]
    present = [(label, c) for label, c in rows if c is not None]
    flags = holm([c["p"] for _, c in present])
    for (label, c), rejected in zip(present, flags):
        word = ("**higher**" if c["mean"] > 0 else "**lower**") if rejected else "no difference shown"
        lines.append(f"| {label} | {c['mean']:+.2f} | {c['low']:+.2f} to {c['high']:+.2f} | {c['p']:.3g} | {c['n']} | "
                     f"{word} |")
    missing = [label for label, c in rows if c is None]
    if missing:
        lines += ["", f"Not yet comparable (fewer than two paired seeds): {'; '.join(missing)}."]
    curves = _curves(results)
    if curves:
        lines += ["", "Mean test accuracy (%) after each epoch (is the curve flat before the last epoch?):", "",
                  *curves]
    return "\n".join(lines) + "\n"


def write_nmnist_report(out: str | os.PathLike, plan) -> Path:
    """Write the section of ``plan`` alone to ``<out>/<plan>/report.md``; returns its path."""
    text = nmnist_section(out, plan) or f"No results of plan {plan.name} under {out} yet.\n"
    path = Path(out) / plan.name / "report.md"
    write_text(path, text)
    return path
