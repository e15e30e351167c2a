"""The report's figures: convergence curves, the noise sweep, hidden-layer rasters."""

from __future__ import annotations

from pathlib import Path

import torch

from ..data import load_mnist
from ..encoding import encode_rate
from ..foundation.io import load_state_dict
from ..models import SpikingMLP
from .claims import LABELS
from .runs import load_history

__all__ = ["convergence_figure", "noise_figure", "raster_figure", "write_figures", "write_raster_figure"]


def _curves(out_root: Path, dataset: str, rule: str, seeds: list[int], key: str) -> list[list[float]]:
    curves = []
    for seed in seeds:
        history = load_history(out_root, dataset, f"{rule}_s{seed}")
        if history is not None and getattr(history, key):
            curves.append([100 * a for a in getattr(history, key)])
    return curves


def convergence_figure(summary: dict, out_root: Path | None = None, dataset: str = "mnist"):
    """The paper's Fig. 3 as it draws it (training accuracy per epoch, from each run's history.json) beside test
    accuracy per epoch: mean over seeds, with a band from the lowest to the highest seed; a matplotlib Figure.

    Curves below 80 % (the η2 = 0 ablation at about 11 %) are left out of the axes and named in the title.
    Without ``out_root`` only the mean test curve of ``summary`` is drawn.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    off_axis = []
    for rule, entry in summary["rules"].items():
        label = LABELS.get(rule, rule)
        for ax, key in zip(axes, ("train_acc", "test_acc")):
            curves = _curves(out_root, dataset, rule, entry["seeds"], key) if out_root is not None else (
                [entry["test_acc_per_epoch"]] if key == "test_acc" and entry.get("test_acc_per_epoch") else [])
            if not curves:
                continue
            length = min(len(c) for c in curves)
            t = torch.tensor([c[:length] for c in curves], dtype=torch.float64)
            epochs = range(1, length + 1)
            if t.max() < 80:
                if key == "test_acc":
                    off_axis.append(f"{label}: {t.mean(0)[-1]:.1f}%")
                continue
            line, = ax.plot(epochs, t.mean(0), marker="o", ms=3, label=f"{label} (n={len(curves)})")
            if len(curves) > 1:
                ax.fill_between(epochs, t.min(0).values, t.max(0).values, color=line.get_color(), alpha=0.2)
    for ax, what in zip(axes, ("training accuracy (%) — the paper's Fig. 3", "test accuracy (%)")):
        ax.axhline(95, color="grey", lw=0.8, ls="--")
        ax.set(xlabel="epoch (the lab runs 15; the paper's Fig. 3 shows 30)", ylabel=what, ylim=(80, 100.5))
    axes[0].set_title("training accuracy per epoch (mean, band: lowest to highest seed)", fontsize=9)
    axes[1].set_title("test accuracy per epoch" + (f"\n(off the axis: {'; '.join(off_axis)})" if off_axis else ""),
                      fontsize=9)
    if axes[0].lines[1:]:
        axes[0].legend(fontsize=7, loc="lower right")
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


def write_figures(summary: dict, folder: Path) -> list[str]:
    """Write convergence.png (Fig. 3, from the runs' histories under ``folder``) and noise.png; their names."""
    folder = Path(folder)
    convergence_figure(summary, folder.parent, folder.name).savefig(folder / "convergence.png", dpi=120)
    noise_figure(summary).savefig(folder / "noise.png", dpi=120)
    return ["convergence.png", "noise.png"]


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
                model.load_state_dict(load_state_dict(path, what="model"))  # safe, finite (refused otherwise)
            except RuntimeError:
                continue
            models[rule] = model
    if not models or not dataset.startswith("mnist"):
        return None
    from matplotlib.figure import Figure


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


def write_raster_figure(out_root: Path, dataset: str) -> str | None:
    fig = raster_figure(out_root, dataset) if dataset == "mnist" else None
    if fig is None:
        return None
    fig.savefig(Path(out_root) / dataset / "rasters.png", dpi=120)
    return "rasters.png"
