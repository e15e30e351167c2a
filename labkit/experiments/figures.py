"""The report's figures: convergence curves, the noise sweep, hidden-layer rasters."""

from __future__ import annotations

from pathlib import Path

import torch

from ..data import load_mnist
from ..encoding import encode_rate
from ..models import SpikingMLP
from .claims import LABELS

__all__ = ["convergence_figure", "noise_figure", "raster_figure", "write_figures", "write_raster_figure"]


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


def write_figures(summary: dict, folder: Path) -> list[str]:
    written = []
    for name, make in (("convergence.png", convergence_figure), ("noise.png", noise_figure)):
        make(summary).savefig(folder / name, dpi=120)
        written.append(name)
    return written


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
