"""Plots of the A-STDP rule: accuracy curves of several runs, the plasticity coefficients over time."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes

from .core import as_numpy, new_axes

__all__ = ["plot_coefficients", "plot_run_curves"]


def plot_run_curves(curves, ax: Axes | None = None, *, scale: float = 1.0, ylabel: str = "test accuracy (%)",
                    xlabel: str = "training digits seen", ylim=None, title: str | None = None) -> Axes:
    """Curves of several runs with the last one highlighted: earlier runs thin and grey, the last in colour.

    Args:
        curves: ``[(label, x, y), ...]``, oldest first; the last entry is the current run.
        scale: multiplies y (100 turns fractions into percent).
        ylim: fixed y-limits (a live plot then does not jump), or None.
    """
    ax = new_axes(ax)
    curves = [(label, as_numpy(x).astype(float), as_numpy(y).astype(float) * scale) for label, x, y in curves]
    for k, (label, x, y) in enumerate(curves):
        current = k == len(curves) - 1
        ax.plot(x, y, "-o" if current else "-", color="C0" if current else "0.6", lw=2.0 if current else 1.0,
                ms=3, alpha=1.0 if current else 0.35 + 0.5 * (k + 1) / len(curves), label=label,
                zorder=3 if current else 2)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if ylim is not None:
        ax.set_ylim(*ylim)
    if title:
        ax.set_title(title)
    if curves:
        handles, labels = ax.get_legend_handles_labels()
        keep = list(range(len(handles)))[-4:]  # the current run and the three before it
        ax.legend([handles[i] for i in keep], [labels[i] for i in keep], fontsize="x-small", loc="lower right")
    ax.grid(alpha=0.3)
    return ax


def plot_coefficients(coefficients, ax: Axes | None = None, *, x=None, max_lines: int = 20,
                      xlabel: str = "training batch", title: str | None = None, labels=None) -> Axes:
    """Plasticity coefficients c_j ∈ [0, 1] during training, ``coefficients[step, neuron]``.

    Up to ``max_lines`` neurons are drawn one line each (named by ``labels``); for more, the
    median over neurons with the 10–90 % and min–max bands, and a dashed line at c = 1 (``sum``).
    """
    ax = new_axes(ax)
    c = as_numpy(coefficients).astype(float)
    c = c.reshape(c.shape[0], -1)
    steps = np.arange(c.shape[0]) if x is None else as_numpy(x).astype(float)
    if c.shape[1] <= max_lines:
        for j in range(c.shape[1]):
            ax.plot(steps, c[:, j], lw=1.2, color=f"C{j % 10}",
                    label=None if labels is None else str(labels[j]))
        if labels is not None:
            ax.legend(fontsize="x-small", ncol=2, loc="lower left")
    else:
        lo, p10, med, p90, hi = np.percentile(c, [0, 10, 50, 90, 100], axis=1)
        ax.fill_between(steps, lo, hi, color="C0", alpha=0.15, lw=0, label="min–max")
        ax.fill_between(steps, p10, p90, color="C0", alpha=0.35, lw=0, label="10–90 %")
        ax.plot(steps, med, color="C0", lw=1.8, label="median")
        ax.legend(fontsize="x-small", loc="lower left")
    ax.axhline(1.0, color="0.3", ls="--", lw=0.8)
    ax.set_ylim(-0.03, 1.05)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("plasticity coefficient c")
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    return ax
