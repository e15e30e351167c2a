"""Plots of STDP: spike traces, the learning window, receptive fields, the confusion matrix of the competitive layer."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .core import as_numpy, as_traces, new_axes

__all__ = ["plot_confusion_matrix", "plot_receptive_fields", "plot_spike_traces", "plot_stdp_window"]


def plot_spike_traces(spikes, traces, *, names=("pre", "post"), fig: Figure | None = None, dt: float = 1.0,
                      title: str | None = None) -> Figure:
    """Spike trains on top, their exponential traces underneath, sharing the time axis.

    Args:
        spikes: ``[T, K]`` 0/1 spikes (K trains, e.g. one pre and one post).
        traces: ``[T, K]`` the traces x_t = λ x_{t−1} + s_t of the same trains.
        names: one name per train, used for the rows and the legend.
    """
    s, x = as_traces(spikes), as_traces(traces)
    if fig is None:
        fig = plt.figure(figsize=(7, 3.8), layout="constrained")
    ax_s, ax_x = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [1, 2]})
    t = np.arange(s.shape[0]) * dt
    for k in range(s.shape[1]):
        color = f"C{k % 10}"
        name = names[k] if k < len(names) else f"train {k}"
        ax_s.vlines(t[s[:, k] > 0], k + 0.1, k + 0.9, color=color, lw=2)
        ax_x.plot(t, x[:, k], color=color, lw=1.5, drawstyle="steps-post", label=f"{name} trace")
    ax_s.set_yticks(np.arange(s.shape[1]) + 0.5, [names[k] if k < len(names) else str(k) for k in range(s.shape[1])])
    ax_s.set_ylim(0, s.shape[1])
    ax_s.set_ylabel("spikes")
    ax_x.set_xlabel("time (step)")
    ax_x.set_ylabel("trace")
    ax_x.legend(loc="upper right", fontsize="small")
    if title:
        fig.suptitle(title)
    return fig


def plot_stdp_window(delta_t, window, ax: Axes | None = None, *, measured_dt=None, measured=None,
                     label: str = r"$W(\Delta t)$", measured_label: str = "pair protocol",
                     color: str = "C0") -> Axes:
    """The STDP window: weight change against Δt = t_post − t_pre, potentiation shaded on the right.

    Args:
        delta_t: ``[K]`` time differences for the curve.
        window: ``[K]`` the window W(Δt) at those differences (e.g. `labkit.stdp.stdp_window`).
        measured_dt, measured: optional points (a simulated pair protocol), drawn as dots.
    """
    ax = new_axes(ax, figsize=(5.5, 3.5))
    d, w = as_numpy(delta_t).ravel(), as_numpy(window).ravel()
    order = np.argsort(d, kind="stable")
    d, w = d[order], w[order]
    pos = d >= 0
    ax.plot(d[pos], w[pos], color=color, lw=1.8, label=label)
    ax.plot(d[~pos], w[~pos], color=color, lw=1.8)
    ax.fill_between(d[pos], 0, w[pos], color="C2", alpha=0.15, label="potentiation (pre → post)")
    ax.fill_between(d[~pos], 0, w[~pos], color="C3", alpha=0.15, label="depression (post → pre)")
    if measured is not None:
        ax.plot(as_numpy(measured_dt).ravel(), as_numpy(measured).ravel(), "o", ms=4, mfc="white", mec="k",
                mew=1.0, label=measured_label)
    ax.axhline(0, color="0.4", lw=0.8)
    ax.axvline(0, color="0.4", lw=0.8, ls=":")
    ax.set_xlabel(r"$\Delta t = t_{post} - t_{pre}$ (steps)")
    ax.set_ylabel(r"weight change $\Delta w$")
    ax.legend(fontsize="small", loc="lower right")
    return ax


def plot_receptive_fields(weight, *, labels=None, ncols: int = 10, max_fields: int | None = 100,
                          fig: Figure | None = None, size: float = 0.9, cmap: str = "hot_r",
                          suptitle: str | None = None) -> Figure:
    """Each neuron's incoming weights ``weight[j, :784]`` drawn as a 28 × 28 image (its receptive field).

    Args:
        weight: ``[N, 784]`` (or ``[N, 28, 28]``) weights; each field is scaled to its own maximum.
        labels: optional ``[N]`` class per neuron, shown as titles (−1: "–", a neuron that never fired).
        max_fields: draw only the first ``max_fields`` neurons (None: all).
    """
    w = as_numpy(weight).astype(float)
    w = w.reshape(w.shape[0], -1)
    n = w.shape[0] if max_fields is None else min(w.shape[0], max_fields)
    w = w[:n]
    side = int(round(np.sqrt(w.shape[1])))
    if side * side != w.shape[1]:
        raise ValueError(f"receptive fields must have a square number of inputs (784 = 28 × 28), got {w.shape[1]}")
    peak = w.max(axis=1, keepdims=True)
    w = np.divide(w, peak, out=np.zeros_like(w), where=peak > 0)
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    if fig is None:
        fig = plt.figure(figsize=(size * ncols, size * nrows + (0.4 if suptitle else 0.1)), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    names = None if labels is None else ["–" if int(v) < 0 else str(int(v)) for v in as_numpy(labels)[:n]]
    for k, ax in enumerate(axes):
        if k < n:
            ax.imshow(w[k].reshape(side, side), cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
            if names is not None:
                ax.set_title(names[k], fontsize="small", pad=2)
        ax.axis("off")
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def plot_confusion_matrix(confusion, ax: Axes | None = None, *, normalize: bool = True,
                          class_names=None, title: str | None = None, cmap: str = "Blues") -> Axes:
    """Confusion matrix C[i, j] (rows: true class, columns: predicted), with the values written in.

    Args:
        confusion: ``[C, C]`` counts.
        normalize: show each row as percentages of that class (the diagonal is per-class accuracy).
    """
    ax = new_axes(ax, figsize=(5, 4.3))
    c = as_numpy(confusion).astype(float)
    if c.ndim != 2 or c.shape[0] != c.shape[1]:
        raise ValueError(f"a confusion matrix is square [C, C], got shape {c.shape}")
    rows = c.sum(axis=1, keepdims=True)
    shown = np.divide(100.0 * c, rows, out=np.zeros_like(c), where=rows > 0) if normalize else c
    im = ax.imshow(shown, cmap=cmap, vmin=0.0, vmax=100.0 if normalize else max(shown.max(), 1.0))
    n = c.shape[0]
    names = [str(k) for k in range(n)] if class_names is None else list(class_names)
    ax.set_xticks(range(n), names)
    ax.set_yticks(range(n), names)
    top = shown.max() if shown.size else 1.0
    for i in range(n):
        for j in range(n):
            value = shown[i, j]
            if value == 0:
                continue
            text = f"{value:.0f}" if (not normalize or value >= 9.5 or value == 0) else f"{value:.1f}"
            ax.text(j, i, text, ha="center", va="center", fontsize="x-small",
                    color="white" if value > 0.6 * top else "black")
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="% of the class" if normalize else "images")
    if title:
        ax.set_title(title)
    return ax
