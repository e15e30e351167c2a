"""Plots of the Loihi deployment: quantisation error, back-end agreement, where two executions differ,
weight changes compared."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .core import as_numpy, new_axes

__all__ = ["plot_agreement", "plot_quantization_error", "plot_spike_differences", "plot_weight_change_comparison"]


def plot_quantization_error(weight, dequantized, ax: Axes | None = None, *, step: float | None = None,
                            bins: int = 60, title: str | None = None) -> Axes:
    """Histogram of the quantisation error W − Ŵ of a weight matrix, with ±step/2 marked.

    Args:
        weight: the float weights.
        dequantized: the weights the fixed-point mantissas represent (same shape).
        step: the spacing of representable weights; rounding to nearest keeps |error| ≤ step/2.
    """
    ax = new_axes(ax, figsize=(5.2, 3.0))
    error = (as_numpy(weight).astype(np.float64) - as_numpy(dequantized).astype(np.float64)).ravel()
    ax.hist(error, bins=bins, color="C0", alpha=0.85)
    if step is not None:
        for x in (-step / 2, step / 2):
            ax.axvline(x, color="0.3", ls="--", lw=1)
        ax.text(step / 2, ax.get_ylim()[1] * 0.95, " step/2", va="top", fontsize="small", color="0.3")
    ax.set_xlabel("W − Ŵ (float weight units)")
    ax.set_ylabel("synapses")
    if title:
        ax.set_title(title)
    return ax


def plot_agreement(matrix, labels, ax: Axes | None = None, *, title: str | None = None, vmin: float = 0.9) -> Axes:
    """Pairwise agreement (fraction of images with the same prediction) as an annotated heat map.

    Args:
        matrix: ``[K, K]`` agreements in [0, 1] (diagonal 1).
        labels: the K back ends' names.
    """
    ax = new_axes(ax, figsize=(5.4, 3.8))
    m = as_numpy(matrix).astype(np.float64)
    image = ax.imshow(m, cmap="viridis", vmin=vmin, vmax=1.0)
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            ax.text(j, i, f"{100 * m[i, j]:.1f}", ha="center", va="center",
                    color="k" if m[i, j] > vmin + 0.7 * (1 - vmin) else "w", fontsize="small")
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.figure.colorbar(image, ax=ax, label="same prediction (fraction of images)", shrink=0.9, pad=0.04)
    if title:
        ax.set_title(title)
    return ax


def plot_weight_change_comparison(dw_lab, dw_other, ax: Axes | None = None, *, explained=None,
                                  other_label: str = "Lava", title: str | None = None) -> Axes:
    """Scatter of two weight changes synapse by synapse (x: the lab's rule, y: the other), with y = x.

    ``explained``: optionally a third ΔW (e.g. the lab's rule with Lava's conventions) drawn
    against the other as a second series.
    """
    ax = new_axes(ax, figsize=(4.2, 4.0))
    a, b = as_numpy(dw_lab).ravel(), as_numpy(dw_other).ravel()
    ax.scatter(a, b, s=10, alpha=0.7, color="C0", label="lab's stdp_update")
    if explained is not None:
        ax.scatter(as_numpy(explained).ravel(), b, s=10, alpha=0.7, color="C3", marker="x",
                   label="lab's rule with Lava's conventions")
    lo = float(min(a.min(), b.min())) if a.size else 0.0
    hi = float(max(a.max(), b.max())) if a.size else 1.0
    ax.plot([lo, hi], [lo, hi], color="0.4", lw=1, ls="--", label="y = x")
    ax.set_xlabel("ΔW (lab)")
    ax.set_ylabel(f"ΔW ({other_label})")
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    return ax


def _winner_margin(out_spikes: np.ndarray) -> np.ndarray:
    """Per sample: output spikes of the most active class minus those of the runner-up (``[T, N, C]`` in)."""
    counts = np.sort(np.asarray(out_spikes).sum(axis=0), axis=1)
    return counts[:, -1] - counts[:, -2]


def plot_spike_differences(out_a, out_b, labels=("float", "fixed point"), *, fig: Figure | None = None,
                           title: str | None = None) -> Figure:
    """Where two executions of one network differ, image by image, and why the class survives it.

    Left: how many output spikes differ between the two executions per image (0: identical
    trains). Right: that number against the winning class's lead in spikes over the runner-up
    in execution ``a``; a prediction can only change where the differences reach the lead
    (on or above the dashed line).

    Args:
        out_a, out_b: output spikes ``[T, N, classes]`` of the two executions (bool or 0/1).
        labels: names of the two executions.
    """
    a, b = np.asarray(out_a).astype(bool), np.asarray(out_b).astype(bool)
    if a.shape != b.shape or a.ndim != 3:
        raise ValueError(f"out_a and out_b must both be [time, images, classes], got {a.shape} and {b.shape}")
    differing = (a != b).sum(axis=(0, 2))
    margin = _winner_margin(a)
    fig = fig or Figure(figsize=(9.5, 3.6), layout="constrained")
    left, right = fig.subplots(1, 2)
    top = int(differing.max(initial=0))
    left.hist(differing, bins=np.arange(-0.5, top + 1.5, 1.0), color="C0")
    same = float((differing == 0).mean()) if differing.size else float("nan")
    left.set_xlabel(f"output spikes that differ ({labels[0]} vs {labels[1]})")
    left.set_ylabel("images")
    left.set_title(f"{100 * same:.0f}% of {len(differing)} images: identical output spikes", fontsize="medium")
    jitter = np.random.default_rng(0).uniform(-0.2, 0.2, size=(2, len(margin)))  # fixed seed: a stable figure
    right.scatter(margin + jitter[0], differing + jitter[1], s=9, alpha=0.5, color="C0")
    hi = max(int(margin.max(initial=0)), top, 1) + 1
    right.plot([0, hi], [0, hi], color="0.4", ls="--", lw=1, label="differences = lead")
    right.set_xlim(-0.6, hi)
    right.set_ylim(-0.6, max(top, 1) + 1)
    right.set_xlabel(f"lead of the winning class ({labels[0]}, spikes)")
    right.set_ylabel("output spikes that differ")
    right.legend(loc="upper left", fontsize="small")
    right.set_title("a class can only change on or above the line", fontsize="medium")
    if title:
        fig.suptitle(title)
    return fig
