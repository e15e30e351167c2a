"""Plots of training runs: loss and accuracy per epoch, averaged over seeds."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = ["plot_history"]


def _history_runs(histories) -> dict:
    """A History, a list of Histories (seeds) or a dict label → either, as {label: [History, ...]}."""
    if isinstance(histories, dict):
        return {label: list(h) if isinstance(h, (list, tuple)) else [h] for label, h in histories.items()}
    if isinstance(histories, (list, tuple)):
        return {"run": list(histories)}
    return {"run": [histories]}


def _history_band(ax: Axes, curves: list, color: str, label: str, ls: str = "-", scale: float = 1.0) -> None:
    """Mean over seeds as a line (x = epoch 1, 2, …), min–max over seeds as a band when there are several."""
    length = min(len(c) for c in curves)
    if length == 0:
        return
    a = np.array([c[:length] for c in curves], dtype=float) * scale
    epochs = np.arange(1, length + 1)
    ax.plot(epochs, a.mean(0), ls, color=color, marker="o", ms=3, lw=1.6,
            label=label + (f" (mean of {len(curves)})" if len(curves) > 1 else ""))
    if len(curves) > 1:
        ax.fill_between(epochs, a.min(0), a.max(0), color=color, alpha=0.2, lw=0)


def plot_history(histories, *, batch_loss=None, max_epochs: int | None = None, train_acc: bool = True,
                 fig: Figure | None = None, title: str | None = None) -> Figure:
    """Training curves: loss (left) and accuracy in % (right) per epoch, one colour per run.

    Args:
        histories: a `labkit.training.History`, a list of them (seeds of one setting), or a dict
            label → History or list of Histories. Seeds are drawn as their mean with a min–max band.
        batch_loss: optional ``[(epoch position, loss), ...]`` of the first run, drawn faintly
            under its epoch losses; batch b of epoch e (0-based) sits at ``e + (b + 1) / batches``.
        max_epochs: fix the x-axis to this many epochs (a live plot then does not rescale).
        train_acc: also draw training accuracy (dashed); test accuracy is solid.
    """
    if fig is None:
        fig = plt.figure(figsize=(9, 3.4), layout="constrained")
    ax_loss, ax_acc = fig.subplots(1, 2)
    runs = _history_runs(histories)
    if batch_loss:
        xy = np.asarray(batch_loss, dtype=float).reshape(-1, 2)
        ax_loss.plot(xy[:, 0], xy[:, 1], color="C0", alpha=0.35, lw=0.8, label="per batch")
    for k, (label, group) in enumerate(runs.items()):
        color = f"C{k % 10}"
        _history_band(ax_loss, [h.loss for h in group], color, label)
        _history_band(ax_acc, [h.test_acc for h in group], color, f"{label} test", scale=100)
        if train_acc:
            _history_band(ax_acc, [h.train_acc for h in group], color, f"{label} train", ls="--", scale=100)
    ax_loss.set_ylabel("loss  (1/T) Σ_t CE")
    ax_acc.set_ylabel("accuracy (%)")
    for ax in (ax_loss, ax_acc):
        ax.set_xlabel("epoch")
        if max_epochs:
            ax.set_xlim(0, max_epochs + 0.2)
        if ax.lines:
            ax.legend(fontsize="small")
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    return fig
