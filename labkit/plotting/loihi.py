"""Plots of the Loihi deployment: quantisation error, back-end agreement, weight changes compared."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes

from .core import as_numpy, new_axes

__all__ = ["plot_agreement", "plot_quantization_error", "plot_weight_change_comparison"]


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
