"""Energy of the committed models, modelled: Table II's rows with a sampling interval, and accuracy and energy against T.

Every figure here is *modelled*: operations counted on real test digits (`labkit.energy.count_ops`,
NeuroBench's definitions) and priced with per-operation energies from the literature
(`labkit.energy.PLATFORMS`). Nothing is measured on hardware.

* `energy_rows`: the lab's Table II from the committed seed-0 models, like-for-like first (the
  sparsity-aware digital 45 nm model for ANN and SNN alike, in fp32 and in 8-bit arithmetic), then a
  per-event memory-access sensitivity row, then the dense, A100 and Loihi rows. Each figure is the
  mean over ``n_samples`` test digits counted in batches of 100 (rate-code seed = batch index), with a
  95 % interval from Student's t over the batches.
* `steps_sweep`: accuracy and modelled energy at T ∈ (5, 10, 25, 50) of the committed BP and A-STDP
  models of a few seeds (each evaluated with its own seed and readout on the first ``n_test`` test
  digits; the models were trained at T = 25), cached in ``<dataset>/steps_sweep.json``.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from ..energy import PAPER_TABLE_II, count_ops, energy_from_counts
from ..foundation.errors import LabkitError
from ..foundation.io import load_state_dict, read_json, write_json
from ..models import ANNBaseline, SpikingMLP
from ..training import evaluate
from .claims import LABELS
from .statistics import seed_stats, t95

__all__ = ["ENERGY_SAMPLES", "TABLE_PLATFORMS", "energy_rows", "read_steps_sweep", "steps_rows", "steps_sweep"]

#: Test digits behind every energy figure of the report and chapter 7.
ENERGY_SAMPLES = 1000
_BATCH = 100

#: Platforms in the report's order: like-for-like first, then the sensitivity row, then the rest.
TABLE_PLATFORMS = ("digital45", "digital45_int8", "digital45_mem", "gpu_dense", "a100", "loihi")
_ROLE = {"digital45": "like-for-like (fp32)", "digital45_int8": "like-for-like (8-bit)",
         "digital45_mem": "sensitivity: + one SRAM weight read per event", "gpu_dense": "dense (GPU-style)",
         "a100": "dense at A100 board power (lower bound)", "loihi": "Loihi per-op figures"}


def _load(runs_dir: Path, name: str):
    path = Path(runs_dir) / name / "model.pt"
    if not path.is_file():
        return None
    model = ANNBaseline(seed=0) if name.startswith("ann") else SpikingMLP(seed=0)
    state = load_state_dict(path, what="model")  # names to finite tensors: a NaN network is never priced
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise LabkitError(f"model {path} does not fit the {type(model).__name__} of run {name} "
                          f"({(str(exc).splitlines() or [''])[-1].strip()}): write the run again") from None
    return model


def _energies(model, x: torch.Tensor, platforms, num_steps: int = 25) -> dict[str, list[float]]:
    """µJ per inference on each platform that applies, one value per batch of `_BATCH` digits."""
    out: dict[str, list[float]] = {}
    for i, start in enumerate(range(0, len(x), _BATCH)):
        counts = count_ops(model, x[start:start + _BATCH], num_steps, max_samples=None, seed=i, device="cpu")
        for platform in platforms:
            try:
                energy = energy_from_counts(counts, platform).total_uj
            except ValueError:  # the platform does not run this kind of network (an ANN on Loihi)
                continue
            out.setdefault(platform, []).append(energy)
    return out


def _interval(values: list[float]) -> tuple[float, float, float]:
    stats = seed_stats(values)
    half = t95(len(values)) * stats["std"] / math.sqrt(len(values)) if len(values) > 1 else math.nan
    return stats["mean"], stats["mean"] - half, stats["mean"] + half


def energy_rows(runs_dir: Path, test_x: torch.Tensor, *, n_samples: int = ENERGY_SAMPLES,
                platforms=TABLE_PLATFORMS) -> list[dict]:
    """The report's energy table (µJ per inference, modelled) for the seed-0 ANN, BP and A-STDP runs."""
    x = test_x[:n_samples]
    paper = {(r.model, r.platform): r.energy_uj for r in PAPER_TABLE_II}
    per_model = {}
    for rule in ("ann", "bp", "adaptive"):
        model = _load(runs_dir, f"{rule}_s0")
        if model is not None:
            per_model[rule] = _energies(model, x, platforms)
    rows = []
    for platform in platforms:
        for rule, energies in per_model.items():
            if platform not in energies:
                continue
            mean, low, high = _interval(energies[platform])
            ann = per_model.get("ann", {}).get(platform)
            rows.append({"platform": platform, "what": _ROLE.get(platform, platform), "model": LABELS[rule],
                         "lab µJ (modelled)": mean, "95% low": low, "95% high": high,
                         "× ANN": mean / _interval(ann)[0] if ann and rule != "ann" else None,
                         "paper µJ (kind not stated)": paper.get((rule, platform)), "digits": len(x)})
    return rows


def steps_sweep(out_root: Path, dataset: str, test_x: torch.Tensor, test_y: torch.Tensor, *, seeds=(0, 1, 2),
                steps=(5, 10, 25, 50), n_test: int = 2000, n_count: int = 500, rules=("bp", "adaptive")) -> dict:
    """Accuracy (%) and modelled energy (µJ, digital45 and Loihi) against T, cached in ``steps_sweep.json``.

    Recomputed only when the cache lacks a (rule, seed, T) it is asked for or was made with other sizes."""
    folder = Path(out_root) / dataset
    path = folder / "steps_sweep.json"
    cache = read_json(path, what="steps sweep") if path.is_file() else {}
    if cache.get("n_test") != n_test or cache.get("n_count") != n_count:
        cache = {"n_test": n_test, "n_count": n_count, "runs": {}}
    changed = False
    for rule in rules:
        for seed in seeds:
            name = f"{rule}_s{seed}"
            run = folder / "runs" / name
            if not (run / "eval.json").is_file():
                continue
            want = [t for t in steps if str(t) not in cache["runs"].get(name, {})]
            if not want:
                continue
            model = _load(folder / "runs", name)
            readout = read_json(run / "eval.json", what="run result").get("readout", "count")
            for t in want:
                acc = evaluate(model, test_x[:n_test], test_y[:n_test], num_steps=t, seed=seed, device="cpu",
                               readout=readout)
                counts = count_ops(model, test_x[:n_count], t, max_samples=None, seed=seed, device="cpu")
                cache["runs"].setdefault(name, {})[str(t)] = {
                    "accuracy": 100 * acc, "digital45_uJ": energy_from_counts(counts, "digital45").total_uj,
                    "loihi_uJ": energy_from_counts(counts, "loihi").total_uj}
                changed = True
    if changed:
        write_json(path, cache)
    return steps_rows(cache, rules=rules, steps=steps, seeds=seeds)


def steps_rows(cache: dict, *, rules=("bp", "adaptive"), steps=(5, 10, 25, 50), seeds=(0, 1, 2)) -> dict:
    """The table of a `steps_sweep` cache (the contents of ``steps_sweep.json``): mean over seeds per rule and T."""
    rows = []
    for rule in rules:
        for t in steps:
            vals = [cache["runs"][f"{rule}_s{s}"][str(t)] for s in seeds
                    if str(t) in cache.get("runs", {}).get(f"{rule}_s{s}", {})]
            if vals:
                acc = seed_stats([v["accuracy"] for v in vals])
                rows.append({"model": LABELS[rule], "T": t, "seeds": len(vals), "accuracy %": acc["mean"],
                             "sd": acc["std"],
                             "digital45 µJ (modelled)": seed_stats([v["digital45_uJ"] for v in vals])["mean"],
                             "Loihi µJ (modelled)": seed_stats([v["loihi_uJ"] for v in vals])["mean"]})
    return {"rows": rows, "n_test": cache.get("n_test"), "n_count": cache.get("n_count"), "seeds": list(seeds)}


def read_steps_sweep(folder: Path) -> dict | None:
    """The table of ``<folder>/steps_sweep.json`` as `steps_rows` gives it, or None when there is no cache."""
    path = Path(folder) / "steps_sweep.json"
    return steps_rows(read_json(path, what="steps sweep")) if path.is_file() else None
