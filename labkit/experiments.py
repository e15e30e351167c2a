"""The paper's experiments as resumable runs, and the reproduction report.

Every run is one (dataset, model/rule, seed) and lives in its own folder::

    results/<dataset>/runs/<rule>_s<seed>/
        checkpoint.pt   written atomically after every epoch while the run is unfinished (its
                        resume point; committed, so a killed run continues); deleted when it finishes
        history.json    per-epoch loss, accuracy, time, spike rates (labkit.training.History)
        model.pt        final weights (a plain state_dict)
        eval.json       the loss and readout of the run; test accuracy of every readout, the
                        fractions of silent and tied test digits (labkit.readout), and the same
                        under input noise σ ∈ NOISE_LEVELS; hidden-layer sparsity, the command and
                        wall time; its presence marks the run as finished

Runs (Table I, the ablations, the noise sweep and the convergence curves all come from them):

* ``stdp_only``  unsupervised competitive STDP layer + label assignment (labkit.competitive)
* ``bp``         surrogate-gradient BPTT (= the hybrid with STDP disabled)
* ``stdp``       the hybrid with backprop disabled (η2 = 0)
* ``sum``        the paper's literal hybrid rule
* ``adaptive``   A-STDP
* ``ann``        ReLU MLP 784-500-10

`reproduce` runs what is missing (finished runs are reused, killed runs resume from their
checkpoint) and then writes ``summary.json``, CSV tables, figures and ``report.md``.
"""

from __future__ import annotations

import json
import math
import os
import shlex
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch

from .foundation import paper
from .foundation.io import read_json, save_torch, write_json, write_text
from .foundation.paths import REPO_ROOT
from .foundation.seeds import Stream, epoch_generator, pass_seed
from .foundation.tables import format_table
from .models import ANNBaseline, SpikingMLP
from .noise import add_noise
from .readout import DEFAULT_LOSS, READOUTS
from .training import Data, History, evaluate_readouts, train

__all__ = ["FINISHED_FILES", "NOISE_LEVELS", "RunSpec", "paired_comparison", "prune_finished", "run_one",
           "run_stdp_only", "t95", "reproduce", "summarize", "write_report", "report_tables",
           "convergence_figure", "noise_figure", "raster_figure", "markdown_table", "claim_verdicts",
           "paired_differences", "difference_verdict"]

NOISE_LEVELS = (0.0, 0.1, 0.2, 0.3, 0.5)
GRADIENT_RULES = ("bp", "sum", "adaptive", "stdp", "ann")
#: Passes of the competitive STDP layer over the training images (scripts/train_stdp_only.py uses the same).
STDP_ONLY_EPOCHS = 3


@dataclass(frozen=True)
class RunSpec:
    """One training run. ``loss`` (`labkit.readout.LOSSES`) applies to the spiking rules; the ANN
    trains on the cross-entropy of its logits and the STDP-only layer on no loss at all."""

    dataset: str
    rule: str
    seed: int
    epochs: int
    loss: str = DEFAULT_LOSS

    @property
    def name(self) -> str:
        return f"{self.rule}_s{self.seed}"

    @property
    def run_loss(self) -> str | None:
        """The loss this run trains with (``None`` for the STDP-only layer)."""
        return {"ann": "cross_entropy", "stdp_only": None}.get(self.rule, self.loss)


def _recorded_loss(result: dict) -> str | None:
    """The loss a finished run's eval.json says it trained with (runs from before it was recorded: the membrane)."""
    if "loss" in result:
        return result["loss"]
    return {"ann": "cross_entropy", "stdp_only": None}.get(result.get("rule"), "membrane")


#: What a finished run keeps; everything else in its folder (the checkpoint) is deleted.
FINISHED_FILES = ("eval.json", "history.json", "model.pt")


def _make_model(spec: RunSpec, data: Data):
    n_in = int(math.prod(data.train_x.shape[2:] if data.temporal else data.train_x.shape[1:]))
    sizes = (n_in, 500, 10)
    if spec.rule == "ann":
        return ANNBaseline(sizes, seed=spec.seed)
    return SpikingMLP(sizes, recurrent=data.name.startswith("nmnist"), seed=spec.seed)


def _hidden_sparsity(model, data: Data, device) -> float | None:
    """Hidden-layer spikes per neuron per step on the first 1,000 test inputs."""
    if not isinstance(model, SpikingMLP):
        return None
    from .encoding import encode_rate

    x = data.test_x[:1000].to(device)
    inputs = x.transpose(0, 1) if data.temporal else encode_rate(x, 25, generator=torch.Generator(device).manual_seed(0))
    with torch.no_grad():
        out = model.to(device)(inputs)
    return out.spikes[1].mean().item()


def run_one(spec: RunSpec, data: Data, out_root: Path, *, device="auto", progress=True,
            stale: str = "error") -> dict:
    """Train (or resume, or reuse) one run and evaluate it; returns the contents of eval.json.

    A finished run with the same epochs and loss is reused. A folder holding a run with another
    loss (or a checkpoint written with other settings) is *stale*: ``stale="error"`` raises
    `ValueError` saying so, ``stale="replace"`` deletes its files (they stay in git history) and
    trains afresh. A finished run keeps only `FINISHED_FILES`: its checkpoint is deleted.
    """
    if stale not in ("error", "replace"):
        raise ValueError(f"stale must be 'error' or 'replace', got {stale!r}")
    folder = Path(out_root) / spec.dataset / "runs" / spec.name
    done = folder / "eval.json"
    if done.is_file():
        result = read_json(done, what="run result")
        if _recorded_loss(result) != spec.run_loss:
            _replace_stale(folder, stale, f"it was trained with loss {_recorded_loss(result)!r}, this run asks for "
                                          f"{spec.run_loss!r}")
        elif result.get("epochs") == spec.epochs:
            return result
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    # what runs: read before training, since the checkout may change while a long run goes on
    provenance = {"code": code_version(), "threads": torch.get_num_threads()}
    if spec.rule == "stdp_only":
        result = _run_stdp_only(spec, data, folder, progress=progress, provenance=provenance)
        prune_finished(folder)
        return result
    model = _make_model(spec, data)
    rule = "bp" if spec.rule == "ann" else spec.rule
    checkpoint = folder / "checkpoint.pt"
    try:
        history = train(model, rule, data, spec.epochs, seed=spec.seed, device=device, checkpoint=checkpoint,
                        resume=True, progress=progress, loss=spec.loss)
    except ValueError as exc:
        if not str(exc).startswith("cannot resume") or stale == "error":
            raise
        _replace_stale(folder, stale, str(exc))
        model = _make_model(spec, data)
        history = train(model, rule, data, spec.epochs, seed=spec.seed, device=device, checkpoint=checkpoint,
                        resume=True, progress=progress, loss=spec.loss)
    write_text(folder / "history.json", history.to_json())
    save_torch(folder / "model.pt", model.state_dict())
    readout = history.config["readout"]
    noise = {
        f"{sigma:g}": evaluate_readouts(model, data.test_x, data.test_y, noise_sigma=sigma, temporal=data.temporal,
                                        seed=spec.seed, device=device)
        for sigma in (NOISE_LEVELS if not data.temporal else (0.0,))
    }
    clean = noise["0"]
    result = {
        "dataset": spec.dataset,
        "rule": spec.rule,
        "seed": spec.seed,
        "epochs": spec.epochs,
        "loss": history.config["loss"],
        "readout": readout,
        "test_acc": clean["accuracy"][readout],
        "test_readouts": clean["accuracy"],
        "silent_fraction": clean["silent_fraction"],
        "tie_fraction": clean["tie_fraction"],
        "noise_acc": {sigma: r["accuracy"][readout] for sigma, r in noise.items()},
        "noise_readouts": noise,
        "hidden_spikes_per_neuron_step": _hidden_sparsity(model, data, next(model.parameters()).device),
        "epochs_to_90": history.epochs_to(0.90),
        "epochs_to_95": history.epochs_to(0.95),
        "train_seconds": sum(history.epoch_time),
        "wall_seconds_this_session": time.perf_counter() - started,
        "command": " ".join(shlex.quote(a) for a in sys.argv),
        **provenance,
    }
    write_json(done, result)
    prune_finished(folder)
    return result


def _replace_stale(folder: Path, stale: str, why: str) -> None:
    if stale == "error":
        raise ValueError(f"{folder} holds another run: {why}. Delete the folder, choose another results folder, "
                         "or pass stale='replace' (scripts/full_runs.py does) to train it afresh.")
    warnings.warn(f"replacing {folder}: {why}", stacklevel=3)
    for path in folder.iterdir():
        if path.is_file():
            path.unlink()


def prune_finished(folder: Path) -> list[Path]:
    """Delete what a finished run (one with eval.json) no longer needs; returns the deleted paths."""
    folder = Path(folder)
    if not (folder / "eval.json").is_file():
        return []
    removed = [p for p in folder.iterdir() if p.is_file() and p.name not in FINISHED_FILES]
    for path in removed:
        path.unlink()
    return removed


def code_version() -> str | None:
    """The git commit of the labkit checkout (``+changes`` when labkit/ differs from it), or ``None``
    outside a git checkout: floating-point results depend on it. A run records it when it starts
    (a resumed run: when this session's part started)."""
    root = REPO_ROOT
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        changed = subprocess.run(["git", "status", "--porcelain", "--", "labkit"], cwd=root, capture_output=True,
                                 text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+changes" if changed else "") if commit else None


def run_stdp_only(spec: RunSpec, data: Data, out_root: Path, *, params=None, extra: dict | None = None,
                  progress: bool = True) -> dict:
    """Train and test the STDP-only layer of ``spec`` with ``params`` (default: `CompetitiveParams()`) into
    its run folder, replacing a finished run there; ``extra`` is merged into eval.json (e.g. how the
    settings were chosen). Returns eval.json's contents."""
    if spec.rule != "stdp_only":
        raise ValueError(f"run_stdp_only trains the rule 'stdp_only', got {spec.rule!r}")
    folder = Path(out_root) / spec.dataset / "runs" / spec.name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "eval.json").unlink(missing_ok=True)
    provenance = {"code": code_version(), "threads": torch.get_num_threads()}
    result = _run_stdp_only(spec, data, folder, progress=progress, provenance=provenance, params=params,
                            extra=extra)
    prune_finished(folder)
    return result


def _run_stdp_only(spec: RunSpec, data: Data, folder: Path, *, progress: bool, provenance: dict, params=None,
                   extra: dict | None = None) -> dict:
    """The unsupervised baseline: `labkit.training.train_competitive` (as scripts/train_stdp_only.py).

    Writes model.pt (the layer's state dict and parameters, as the script does) and eval.json with
    the fields of the gradient runs (``noise_acc`` from the same noisy pixels, rate code and label
    assignment; ``hidden_spikes_per_neuron_step`` from the labelling pass; no history, so the
    epochs-to-x% fields are None) plus the competitive layer's own measurements.
    """
    from dataclasses import asdict

    from .competitive import CompetitiveParams, classify  # the competitive layer (chapter 3)
    from .training.competitive import train_competitive

    started = time.perf_counter()
    params = CompetitiveParams() if params is None else params
    num_steps = 25
    layer, res = train_competitive(data, n_neurons=500, epochs=spec.epochs, seed=spec.seed, num_steps=num_steps,
                                   progress=progress, checkpoint=folder / "checkpoint.pt", params=params)
    if res is None:
        raise RuntimeError(f"the STDP-only run {folder} stopped before it finished; run it again to resume")
    save_torch(folder / "model.pt", {**{k: v.cpu() for k, v in layer.state_dict().items()}, "params": asdict(params)})
    labels = layer.neuron_labels.cpu()
    n_classes = len(res.neurons_per_class)
    test_seed = pass_seed(spec.seed, Stream.TEST_PASS)  # the seed train_competitive uses for its test pass
    noise = {}
    for sigma in NOISE_LEVELS:
        if sigma == 0:
            noise["0"] = res.test_acc
            continue
        x = add_noise(data.test_x, sigma, epoch_generator(spec.seed, Stream.EVAL_NOISE))
        pred = classify(layer.respond(x, num_steps, seed=test_seed), labels, n_classes)
        noise[f"{sigma:g}"] = (pred == data.test_y.cpu()).double().mean().item()
    details = asdict(res)
    result = {
        "dataset": spec.dataset,
        "rule": spec.rule,
        "seed": spec.seed,
        "epochs": spec.epochs,
        "test_acc": res.test_acc,
        "readout": "labelled-neuron vote",
        "noise_acc": noise,
        "hidden_spikes_per_neuron_step": res.spikes_per_image / (layer.n_neurons * num_steps),
        "epochs_to_90": None,
        "epochs_to_95": None,
        "train_seconds": res.train_seconds,
        "wall_seconds_this_session": time.perf_counter() - started,
        "command": " ".join(shlex.quote(a) for a in sys.argv),
        **provenance,
        **{k: v for k, v in details.items() if k not in ("test_acc", "train_seconds")},
        **(extra or {}),
    }
    write_json(folder / "eval.json", result)
    return result


def load_history(out_root: Path, dataset: str, name: str) -> History | None:
    path = Path(out_root) / dataset / "runs" / name / "history.json"
    return History(**read_json(path, what="run history")) if path.is_file() else None


# ----------------------------------------------------------------------------- the paper's claims

#: Table I of the paper (test accuracy, %).
PAPER_TABLE1 = paper.TABLE_I
#: Noise robustness at σ = 0.3 (paper: BP 97.5 → 88.4, hybrid → 91.6).
PAPER_NOISE = paper.NOISE_ACCURACY
#: Ablations (points lost by the hybrid): disabling STDP −1.7, disabling BP −5.3.
PAPER_ABLATION = paper.ABLATION_POINTS
RUN_ORDER = ("ann", "bp", "adaptive", "sum", "stdp", "stdp_only")
LABELS = {
    "stdp_only": "STDP only (unsupervised, 500 neurons)",
    "bp": "surrogate BP",
    "sum": "hybrid, paper's literal sum",
    "adaptive": "hybrid A-STDP (adaptive)",
    "stdp": "hybrid with BP disabled (η2 = 0)",
    "ann": "ANN baseline (ReLU 784-500-10)",
}
DEFAULT_EPOCHS = {"mnist": 15, "nmnist-sim": 10, "nmnist": 10}


def _load_data(dataset: str, quick: bool) -> Data:
    from .data import mnist_data

    if dataset == "mnist":
        if quick:
            return mnist_data("bundled", train_limit=2000, test_limit=500)
        return mnist_data("full")
    from . import data as data_module

    if dataset == "nmnist-sim":
        n_train, n_test = (1000, 300) if quick else (10_000, 2_000)
        return data_module.nmnist_sim_data(n_train, n_test, seed=0)
    return data_module.load_nmnist_data()


def _stats(values: list[float]) -> dict:
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
    return _stats([None if r.get(key) is None else 100 * r[key] for r in results])


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
        if _recorded_loss(result) not in (loss, "cross_entropy", None):
            left_out.append({"run": path.parent.name, "loss": _recorded_loss(result)})
            continue
        by_rule.setdefault(result["rule"], []).append(result)
    summary = {"dataset": dataset, "loss": loss, "rules": {}, "left_out": left_out}
    for rule, results in by_rule.items():
        results.sort(key=lambda r: r["seed"])
        readouts = sorted({r.get("readout", _EARLIER_READOUT.get(rule, "count_membrane")) for r in results})
        entry = {
            "label": LABELS.get(rule, rule),
            "seeds": [r["seed"] for r in results],
            "epochs": sorted({r["epochs"] for r in results}),
            "loss": _recorded_loss(results[0]),
            "readout": ", ".join(readouts),
            "test_acc": _stats([100 * r["test_acc"] for r in results]),
            "train_seconds": _stats([r.get("train_seconds") for r in results]),
        }
        names = sorted({name for r in results for name in r.get("test_readouts", {})})
        if names:
            entry["test_readouts"] = {name: _stats([100 * r["test_readouts"][name] if name in r.get("test_readouts", {})
                                                    else None for r in results]) for name in names}
        if any(r.get("silent_fraction") is not None for r in results):
            entry["silent_percent"] = _percent_stats(results, "silent_fraction")
            entry["tied_percent"] = _percent_stats(results, "tie_fraction")
        if results[0].get("noise_acc"):
            entry["noise_acc"] = {
                sigma: _stats([100 * r["noise_acc"][sigma] for r in results]) for sigma in results[0]["noise_acc"]
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


#: The readout of runs from before eval.json recorded it.
_EARLIER_READOUT = {"ann": "argmax", "stdp_only": "labelled-neuron vote"}


def _fmt(stats: dict | None) -> str:
    if not stats or stats.get("mean") is None:
        return "—"
    if stats["n"] > 1:
        return f"{stats['mean']:.2f} ± {stats['std']:.2f} (n={stats['n']})"
    return f"{stats['mean']:.2f} (n=1)"


#: Test-set size behind the verdicts: a single accuracy p on n test images has a sampling
#: standard error sqrt(p(1 − p)/n), about 0.15 points at 97.5% on MNIST's 10,000.
VERDICT_TEST_SIZE = 10_000


def _verdict(lab: float | None, paper: float, n_test: int = VERDICT_TEST_SIZE) -> str:
    """"reproduced" when the lab's accuracy (%) is at least the paper's minus two standard errors."""
    if lab is None:
        return "not run"
    p = min(max(paper / 100, 0.0), 1.0)
    tolerance = 2 * 100 * math.sqrt(p * (1 - p) / n_test)
    return "reproduced" if lab >= paper - tolerance else "not reproduced"


def _table1(summary: dict, dataset: str) -> list[dict]:
    paper = PAPER_TABLE1.get("mnist" if dataset == "mnist" else "nmnist", {})
    rows = []
    for rule in ("stdp_only", "bp", "sum", "adaptive", "ann"):
        entry = summary["rules"].get(rule)
        lab = entry["test_acc"] if entry else None
        p = paper.get(rule) if dataset in ("mnist", "nmnist") else None
        if rule == "sum":
            p = paper.get("adaptive") if dataset in ("mnist", "nmnist") else None
        mean = lab["mean"] if lab else None
        rows.append({
            "model": LABELS[rule],
            "rule": rule,
            "readout": entry["readout"] if entry else "—",
            "paper": p,
            "lab": _fmt(lab),
            "lab_mean": mean,
            "difference": None if (p is None or mean is None) else mean - p,
            "verdict": "no paper figure" if p is None else _verdict(mean, p),
        })
    return rows


def _readout_rows(summary: dict) -> list[dict]:
    rows = []
    for rule in ("bp", "sum", "adaptive", "stdp"):
        entry = summary["rules"].get(rule)
        if not entry:
            continue
        readouts = entry.get("test_readouts", {})
        rows.append({"model": LABELS[rule], "loss": entry["loss"], "readout of Table I": entry["readout"],
                     **{name: (readouts.get(name) or {}).get("mean") for name in READOUTS},
                     "silent %": (entry.get("silent_percent") or {}).get("mean"),
                     "tied %": (entry.get("tied_percent") or {}).get("mean"),
                     "n": entry["test_acc"]["n"]})
    return rows


def _noise_rows(summary: dict) -> list[dict]:
    rows = []
    for rule in ("stdp_only", "bp", "sum", "adaptive", "ann"):
        entry = summary["rules"].get(rule)
        if not entry or "noise_acc" not in entry:
            continue
        row = {"model": LABELS[rule], "rule": rule, "readout": entry["readout"]}
        for sigma, stats in entry["noise_acc"].items():
            row[f"σ={sigma}"] = stats["mean"]
        row["paper σ=0.3"] = PAPER_NOISE.get(rule if rule != "sum" else "adaptive")
        rows.append(row)
    return rows


def _ablation_rows(summary: dict) -> list[dict]:
    hybrid = summary["rules"].get("adaptive")
    rows = []
    for rule, what in (("bp", "disable STDP (η1 = 0)"), ("stdp", "disable backprop (η2 = 0)")):
        entry = summary["rules"].get(rule)
        delta = None
        if hybrid and entry and hybrid["test_acc"]["mean"] is not None and entry["test_acc"]["mean"] is not None:
            delta = entry["test_acc"]["mean"] - hybrid["test_acc"]["mean"]
        paper = PAPER_ABLATION[rule]
        if delta is None:
            verdict = "not run"
        else:
            verdict = "reproduced" if (delta < 0) == (paper < 0) and abs(delta - paper) <= max(1.0, abs(paper) / 2) \
                else "not reproduced"
        rows.append({"ablation": what, "paper (points)": paper, "lab (points)": delta, "verdict": verdict})
    return rows


def markdown_table(rows: list[dict]) -> str:
    """Rows of dicts as a Markdown table (the report's format: None → "—", floats with 2 decimals)."""
    return format_table(rows, style="markdown", empty="_no finished runs yet_") + "\n"


def claim_verdicts(summary: dict, dataset: str) -> list[str]:
    """The report's verdict lines (Markdown bullets), claim by claim, formatted from ``summary``."""
    t = report_tables(summary, dataset)
    return _verdict_lines(summary, t["table1"], t["noise"], t["ablation"])


def _write_csv(rows: list[dict], path: Path) -> None:
    import csv

    import io

    text = io.StringIO(newline="")
    if rows:
        writer = csv.DictWriter(text, fieldnames=list(rows[0].keys()))
        writer.writeheader()
        writer.writerows(rows)
    write_text(path, text.getvalue())


def convergence_figure(summary: dict):
    """Test accuracy per epoch of every run in ``summary`` (mean over seeds); a matplotlib Figure."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.subplots()
    for rule, entry in summary["rules"].items():
        curve = entry.get("test_acc_per_epoch")
        if curve:
            ax.plot(range(1, len(curve) + 1), curve, marker="o", ms=3, label=LABELS.get(rule, rule))
    ax.axhline(95, color="grey", lw=0.8, ls="--")
    ax.set(xlabel="epoch", ylabel="test accuracy (%)", title="Convergence (mean over seeds)", ylim=(80, 100))
    if ax.lines[1:]:
        ax.legend(fontsize=7)
    return fig


def noise_figure(summary: dict):
    """Test accuracy against Gaussian input noise σ for every run with a noise sweep; a Figure."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.subplots()
    for rule, entry in summary["rules"].items():
        if "noise_acc" in entry:
            sigmas = [float(s) for s in entry["noise_acc"]]
            ax.plot(sigmas, [entry["noise_acc"][s]["mean"] for s in entry["noise_acc"]], marker="o",
                    label=LABELS.get(rule, rule))
    ax.axvline(0.3, color="grey", lw=0.8, ls="--")
    ax.set(xlabel="Gaussian input noise σ", ylabel="test accuracy (%)", title="Noise robustness")
    if ax.lines[:-1]:
        ax.legend(fontsize=7)
    return fig


def _figures(summary: dict, folder: Path) -> list[str]:
    written = []
    for name, make in (("convergence.png", convergence_figure), ("noise.png", noise_figure)):
        make(summary).savefig(folder / name, dpi=120)
        written.append(name)
    return written


def report_tables(summary: dict, dataset: str) -> dict[str, list[dict]]:
    """The report's tables as rows: ``{"table1", "noise", "ablation"}`` (paper, lab, difference, verdict)."""
    return {"table1": _table1(summary, dataset), "noise": _noise_rows(summary), "ablation": _ablation_rows(summary)}


def write_report(out_root: Path, dataset: str, *, command: str | None = None, loss: str = DEFAULT_LOSS) -> Path:
    """Write summary.json, the CSV tables, the figures and report.md for ``dataset`` from its runs trained
    with ``loss`` (the others are listed as left out); returns report.md."""
    folder = Path(out_root) / dataset
    summary = summarize(out_root, dataset, loss=loss)
    table1, noise, ablation = _table1(summary, dataset), _noise_rows(summary), _ablation_rows(summary)
    summary["table1"], summary["noise_table"], summary["ablation_table"] = table1, noise, ablation
    summary["paired"] = [paired_comparison(summary["rules"], rule, "bp", key) for rule in ("adaptive", "sum")
                         for key in ("test_acc", ("noise_acc", "0.3"))]
    write_json(folder / "summary.json", summary)
    _write_csv(table1, folder / "table1.csv")
    _write_csv(noise, folder / "noise.csv")
    _write_csv(ablation, folder / "ablation.csv")
    figures = _figures(summary, folder)
    rasters = _raster_figure(out_root, dataset)
    energy_rows = _energy_rows(out_root, dataset)
    if energy_rows:
        _write_csv(energy_rows, folder / "energy.csv")

    rules = summary["rules"]
    name = {"mnist": "MNIST", "nmnist-sim": "simulated N-MNIST (not the paper's N-MNIST)", "nmnist": "N-MNIST"}.get(
        dataset, dataset)
    lines = [f"# Reproduction report: {name}", ""]
    lines += ["Every number below is read from a run folder under `runs/` (its `eval.json` and `history.json`);",
              "`summary.json` holds every value with its seed list, mean and standard deviation.", ""]
    if command:
        lines += [f"Report written by: `{command}`", ""]
    run_commands = sorted({read_json(p, what="run result").get("command", "?")
                           for p in (folder / "runs").glob("*/eval.json")})
    if run_commands:
        lines += ["Runs trained by: " + ", ".join(f"`{c}`" for c in run_commands), ""]
    total = sum(sum(e["train_seconds"]["values"]) for e in rules.values() if e["train_seconds"]["n"])
    lines += [f"Total training time of the runs below: {total / 60:.1f} minutes on the machine that ran them.", ""]
    lines += ["## Table I: test accuracy (%)", "", markdown_table(table1)]
    if dataset == "nmnist-sim":
        lines += ["The paper's N-MNIST figures are not comparable with a simulated data set; no verdicts.", ""]
    lines += ["## Output layer: every readout, and the digits without an output spike", "",
              "Test accuracy (%) of the same networks read three ways: `count` = spike counts alone (ties, "
              "silence included, go to the lowest class), `count_membrane` = ties broken by the summed output "
              "membrane, `membrane` = summed membrane alone. *silent %*: test digits with no output spike at all; "
              "*tied %*: digits whose top spike count is shared (silent ones included). Mean over the seeds.", "",
              markdown_table(_readout_rows(summary))]
    if summary.get("left_out"):
        lines += ["Left out (trained with another loss than " f"`{summary['loss']}`): "
                  + ", ".join(f"{r['run']} ({r['loss']})" for r in summary["left_out"]), ""]
    paired = [c for c in summary["paired"] if c["n"]]
    if paired:
        lines += ["## The hybrids against BP, seed by seed", "",
                  "Same seed = same initial weights, batch order and input spikes, same epochs and η2; the "
                  "difference is taken seed by seed and its 95 % interval is Student's t over those paired "
                  "differences (one seed: ± 2√2 sampling errors of a test accuracy). Readouts as in Table I.", "",
                  markdown_table(_paired_rows(rules))]
        lines += [("- " if c["statistic"] == "test_acc" else "- Under σ = 0.3 input noise: ") + c["in_words"]
                  for c in paired] + [""]
    lines += ["## Noise robustness: test accuracy (%) under Gaussian input noise", "",
              "Noise `x + σ·N(0,1)` is added to the pixels and clipped to [0, 1] before rate coding.", "",
              markdown_table(noise)]
    lines += ["## Ablations: change of the A-STDP hybrid's accuracy (points)", "", markdown_table(ablation)]
    conv = []
    for rule, entry in rules.items():
        conv.append({"model": LABELS.get(rule, rule), "epochs to 90%": entry.get("epochs_to_90"),
                     "epochs to 95%": entry.get("epochs_to_95"), "epochs run": entry["epochs"]})
    lines += ["## Convergence", "", markdown_table(conv), f"![convergence]({figures[0]})", ""]
    if energy_rows:
        lines += ["## Energy per inference (Table II)", "", markdown_table(energy_rows)]
    if rasters:
        lines += ["## Hidden-layer activity on one test digit (Fig. 4)", "", f"![rasters]({rasters})", ""]
    lines += ["## Verdicts", ""] + _verdict_lines(summary, table1, noise, ablation) + [""]
    report = folder / "report.md"
    write_text(report, "\n".join(lines))
    return report


def _verdict_lines(summary: dict, table1, noise, ablation) -> list[str]:
    rules = summary["rules"]
    out = ["- How verdicts are decided: an accuracy reproduces the paper's when it is at least the paper's minus two "
           "sampling standard errors of one test-set accuracy (about 0.3 points at 97.5% on 10,000 images); "
           "differences between single runs smaller than that are noise, and so is a difference of means smaller "
           "than the spread between seeds."]
    for row in table1:
        if row["paper"] is not None:
            lab = "not run" if row["lab_mean"] is None else f"{row['lab_mean']:.2f}%"
            how = "" if row["lab_mean"] is None else f" (readout: {row['readout']})"
            out.append(f"- Table I, {row['model']}: paper {row['paper']:.2f}%, lab {lab}{how} → **{row['verdict']}**.")
            chosen = (summary["rules"].get("stdp_only") or {}).get("settings_chosen_on")
            if row["rule"] == "stdp_only" and row["lab_mean"] is not None and chosen == "the test set":
                out.append("  Caveat: the competitive layer's threshold step was chosen from four values by scoring "
                           "them on the MNIST test set (no validation split), so this figure is optimistic.")
            elif row["rule"] == "stdp_only" and row["lab_mean"] is not None:
                out.append(f"  Its settings were chosen on {chosen}; the test set was scored once, afterwards "
                           "(labkit.stdp_baseline).")
    bp, hyb = rules.get("bp"), rules.get("adaptive")
    if bp and hyb:
        out.append(_claim_line('the hybrid beats backprop alone', rules, "test_acc", "paper: +0.55 points"))
        if "noise_acc" in bp and "noise_acc" in hyb and "0.3" in bp["noise_acc"]:
            out.append(_claim_line("the hybrid is more robust to σ = 0.3 noise", rules, ("noise_acc", "0.3"),
                                   "paper: +3.2 points"))
        for name in ("sum", "adaptive"):
            line = _paired_line(rules, name, "bp")
            if line:
                out.append(line)
        e95 = hyb.get("epochs_to_95") or []
        out.append(f"- Claim \"the hybrid reaches 95% by epoch 15\": epochs to 95% per seed {e95} → "
                   f"**{'reproduced' if e95 and all(e is not None and e <= 15 for e in e95) else 'not reproduced'}**"
                   f" (BP alone: {bp.get('epochs_to_95')}, so this is no advantage of the hybrid).")
    for row in ablation:
        out.append(f"- Ablation, {row['ablation']}: paper {row['paper (points)']:+.1f}, lab "
                   f"{'—' if row['lab (points)'] is None else format(row['lab (points)'], '+.2f')} → "
                   f"**{row['verdict']}**.")
    only = rules.get("stdp_only")
    if only and hyb and only["test_acc"]["mean"] is not None:
        d = only["test_acc"]["mean"] - hyb["test_acc"]["mean"]
        out.append(f"- Read as \"STDP without any backprop\" (the unsupervised STDP-only classifier instead of the "
                   f"hybrid with η2 = 0, which never sees a label), disabling backprop costs {d:+.2f} points "
                   f"(paper: −5.3).")
    out.append("- The paper's own figures disagree with each other (abstract 93.2% vs Table I 98.05%; 98.05 − 5.3 ≠ "
               "91.2); the lab compares against Table I.")
    return out


def paired_differences(rules: dict, rule: str, baseline: str = "bp", key: str | tuple = "test_acc") -> dict[int, float]:
    """``rule − baseline`` in points for every seed both have run (same seed, epochs and η2).

    ``key`` names the statistic in a `summarize` entry: ``"test_acc"``, or a path such as
    ``("noise_acc", "0.3")``.
    """
    a, b = rules.get(rule), rules.get(baseline)
    if not a or not b:
        return {}
    stats_a, stats_b = _statistic(a, key), _statistic(b, key)
    if not stats_a or not stats_b:
        return {}
    values_a = dict(zip(a["seeds"], stats_a["values"]))
    values_b = dict(zip(b["seeds"], stats_b["values"]))
    return {seed: values_a[seed] - values_b[seed] for seed in sorted(values_a.keys() & values_b.keys())}


def _statistic(entry: dict, key: str | tuple) -> dict:
    """The `_stats` record at ``key`` (a name or a path of names) of a `summarize` entry; ``{}`` if absent."""
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


def difference_verdict(diffs: list[float], accuracy: float = 97.5, n_test: int = VERDICT_TEST_SIZE) -> tuple[str, float]:
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
        half = t95(n) * _stats(diffs)["std"] / math.sqrt(n)
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
    level = _statistic(rules[baseline], key).get("mean") or 97.5
    verdict, half = difference_verdict(values, level)
    stats = _stats(values)
    low, high = stats["mean"] - half, stats["mean"] + half
    span = f"{stats['mean']:+.2f} points on average, 95 % interval {low:+.2f} to {high:+.2f}"
    seeds = f"{len(values)} paired seed{'s' * (len(values) > 1)}"
    if verdict == "reproduced":
        words = f"On {seeds}, {a} beats {b}: {span}."
    elif verdict == "contradicted":
        words = f"On {seeds}, {b} beats {a}: {span}."
    else:
        words = (f"On {seeds}, {a} and {b} cannot be told apart: {span}, an interval that includes zero, so the "
                 "difference is within the spread between seeds.")
    return {**record, "mean": stats["mean"], "std": stats["std"], "low": low, "high": high, "verdict": verdict,
            "in_words": words}


def _paired_rows(rules: dict) -> list[dict]:
    rows = []
    for rule in ("adaptive", "sum"):
        for key, what in (("test_acc", "clean"), (("noise_acc", "0.3"), "σ = 0.3")):
            c = paired_comparison(rules, rule, "bp", key)
            if c["n"]:
                rows.append({"comparison": f"{LABELS[rule]} − {LABELS['bp']}", "test": what, "n seeds": c["n"],
                             "mean (points)": c["mean"], "sd": c["std"], "95% low": c["low"],
                             "95% high": c["high"], "verdict": c["verdict"]})
    return rows


def _claim_line(claim: str, rules: dict, key, paper: str) -> str:
    diffs = paired_differences(rules, "adaptive", "bp", key)
    level = _statistic(rules["bp"], key).get("mean") or 97.5  # BP's accuracy on the same statistic
    verdict, half = difference_verdict(list(diffs.values()), level)
    mean = sum(diffs.values()) / len(diffs) if diffs else math.nan
    seeds = ", ".join(map(str, diffs))
    return (f"- Claim \"{claim}\" ({paper}): A-STDP − BP, same seeds ({seeds}), epochs and η2, readout "
            f"{rules['adaptive'].get('readout', '?')} vs {rules['bp'].get('readout', '?')}: "
            f"{mean:+.2f} ± {half:.2f} points (95 % interval) → **{verdict}**.")


def _paired_line(rules: dict, rule: str, baseline: str) -> str | None:
    diffs = paired_differences(rules, rule, baseline)
    if not diffs:
        return None
    stats = _stats(list(diffs.values()))
    wins = sum(d >= 0 for d in diffs.values())
    per_seed = ", ".join(f"seed {seed}: {d:+.2f}" for seed, d in diffs.items())
    spread = f", standard deviation {stats['std']:.2f}" if stats["n"] > 1 else ""
    return (f"- Same seed, {LABELS.get(rule, rule)} − BP: {per_seed} (points; mean {stats['mean']:+.2f}{spread}); "
            f"at least as good as BP on {wins} of {len(diffs)} seeds.")


def raster_figure(out_root: Path, dataset: str):
    """Hidden-layer rasters of bp, A-STDP and the literal sum on the same test digit (paper's Fig. 4).

    Reads ``runs/<rule>_s0/model.pt``; returns a matplotlib Figure, or None when no model is there.
    """
    folder = Path(out_root) / dataset
    models = {}
    for rule in ("bp", "adaptive", "sum"):
        path = folder / "runs" / f"{rule}_s0" / "model.pt"
        if path.is_file():
            model = SpikingMLP()
            try:
                model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
            except RuntimeError:
                continue
            models[rule] = model
    if not models or not dataset.startswith("mnist"):
        return None
    from matplotlib.figure import Figure

    from .data import load_mnist
    from .encoding import encode_rate

    x, _ = load_mnist("test", source="bundled", limit=1)  # the first digit of the bundled test subset
    spikes_in = encode_rate(x, 25, generator=torch.Generator().manual_seed(0))
    fig = Figure(figsize=(4 * len(models), 3), layout="constrained")
    axes = fig.subplots(1, len(models), squeeze=False)
    for ax, (rule, model) in zip(axes[0], models.items()):
        with torch.no_grad():
            hidden = model(spikes_in).spikes[1][:, 0]
        t, n = hidden.nonzero(as_tuple=True)
        ax.scatter(t.numpy(), n.numpy(), s=1, c="k")
        ax.set(title=f"{LABELS[rule]}\n{hidden.mean().item():.3f} spikes/neuron/step", xlabel="time step",
               ylabel="hidden neuron", xlim=(-0.5, 24.5), ylim=(0, hidden.shape[1]))
        ax.title.set_fontsize(8)
    return fig


def _raster_figure(out_root: Path, dataset: str) -> str | None:
    fig = raster_figure(out_root, dataset) if dataset == "mnist" else None
    if fig is None:
        return None
    fig.savefig(Path(out_root) / dataset / "rasters.png", dpi=120)
    return "rasters.png"


def _energy_rows(out_root: Path, dataset: str) -> list[dict]:
    try:
        from .energy import energy_table
    except ImportError:
        return []
    folder = Path(out_root) / dataset / "runs"
    models = {}
    for rule in ("ann", "bp", "adaptive"):
        path = folder / f"{rule}_s0" / "model.pt"
        if path.is_file():
            model = ANNBaseline() if rule == "ann" else SpikingMLP()
            model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
            models[LABELS[rule]] = model
    if not models or dataset != "mnist":
        return []
    from .data import mnist_data

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = mnist_data("auto", train_limit=1, test_limit=200)
    return energy_table(models, data, paper_models={LABELS[r]: r for r in ("ann", "bp", "adaptive")})


def reproduce(
    dataset: str = "mnist",
    *,
    quick: bool = False,
    seeds: int = 3,
    epochs: int | None = None,
    rules: tuple[str, ...] | None = None,
    device: str = "auto",
    out: str | os.PathLike = "results",
    report_only: bool = False,
    progress: bool = True,
) -> Path:
    """Run every missing experiment of ``dataset`` and write its report; returns report.md's path.

    ``quick``: bundled subset (2,000 train / 500 test), 1 epoch, 1 seed, written under
    ``<out>/<dataset>-quick/`` so it never mixes with full runs. The STDP-only layer always
    makes `STDP_ONLY_EPOCHS` passes (it needs no labels and is cheap per image).
    """
    if seeds < 1:
        raise ValueError(f"--seeds must be >= 1, got {seeds}")
    if epochs is not None and epochs < 1:
        raise ValueError(f"--epochs must be >= 1, got {epochs}")
    rules = tuple(rules) if rules else RUN_ORDER
    unknown = set(rules) - set(RUN_ORDER)
    if unknown:
        raise ValueError(f"unknown runs {sorted(unknown)}: choose from {', '.join(RUN_ORDER)}")
    if quick:
        seeds, epochs = 1, epochs or 1
    epochs = epochs or DEFAULT_EPOCHS[dataset]
    label = f"{dataset}-quick" if quick else dataset
    out_root = Path(out)
    command = "labkit " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[0].endswith("labkit") else None
    if not report_only:
        data = _load_data(dataset, quick)
        if data.temporal and "stdp_only" in rules:
            rules = tuple(r for r in rules if r != "stdp_only")  # the competitive layer is for static images
        from tqdm.auto import tqdm

        todo = [RunSpec(label, rule, seed, STDP_ONLY_EPOCHS if rule == "stdp_only" else epochs)
                for seed in range(seeds) for rule in rules]
        for spec in tqdm(todo, desc=f"reproduce {label}", disable=not progress):
            run_one(spec, data, out_root, device=device, progress=progress)
    return write_report(out_root, label, command=command)


def add_arguments(parser) -> None:
    parser.add_argument("--quick", action="store_true", help="bundled subset, 1 epoch, 1 seed (a few minutes)")
    parser.add_argument("--dataset", default="mnist", choices=["mnist", "nmnist-sim", "nmnist"])
    parser.add_argument("--seeds", type=int, default=3, help="number of seeds (default 3)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs per run (default: 15 for MNIST)")
    parser.add_argument("--rules", default=None, help=f"comma-separated subset of {','.join(RUN_ORDER)}")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", default="results", help="results folder (default: results/)")
    parser.add_argument("--report-only", action="store_true", help="only rewrite the report from finished runs")


def run(args) -> int:
    report = reproduce(
        args.dataset, quick=args.quick, seeds=args.seeds, epochs=args.epochs,
        rules=tuple(args.rules.split(",")) if args.rules else None, device=args.device, out=args.out,
        report_only=args.report_only,
    )
    print(f"report written: {report}")
    return 0
