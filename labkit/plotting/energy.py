"""Plots of energy: per-component breakdowns, energy against time steps, layer activity."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .core import as_numpy, new_axes

__all__ = ["ENERGY_COLORS", "plot_energy_breakdown", "plot_energy_vs_steps", "plot_layer_activity"]


#: One colour per cause of energy, shared by every energy plot.
ENERGY_COLORS = {
    "MACs": "C0", "MACs (dense)": "C0", "ACs": "C2", "synaptic ops": "C2", "neuron updates": "C1",
    "spike routing": "C4", "synaptic updates": "C3",
}


def plot_energy_breakdown(bars, *, fig: Figure | None = None, title: str | None = None,
                          reference=None, reference_label: str = "reference") -> Figure:
    """Energy per inference of several (model, platform) pairs: totals on a log axis, and shares.

    Args:
        bars: ``{label: {cause: µJ}}`` in drawing order (top to bottom), e.g. built from
            ``EnergyEstimate.to_dict()["breakdown_uJ"]``.
        reference: optional ``{label: µJ}`` drawn as a black diamond on the totals (e.g. the paper's value).
    Left panel: total µJ per inference (log scale, value printed). Right panel: the share of
    each cause (synaptic operations, neuron updates, spikes...) of that total.
    """
    if fig is None:
        fig = plt.figure(figsize=(9, 0.45 * len(bars) + 1.4), layout="constrained")
    ax_total, ax_share = fig.subplots(1, 2, sharey=True, gridspec_kw={"width_ratios": [3, 2]})
    labels = list(bars)
    y = np.arange(len(labels))
    totals = np.array([sum(bars[k].values()) for k in labels], dtype=float)
    colors = [ENERGY_COLORS.get(max(bars[k], key=bars[k].get), "C7") if bars[k] else "C7" for k in labels]
    positive = totals[totals > 0]
    floor = positive.min() / 3 if positive.size else 1e-3
    ax_total.barh(y, np.maximum(totals, floor), left=0, color=colors, alpha=0.85)
    ax_total.set_xscale("log")
    for yi, v in zip(y, totals):
        ax_total.text(max(v, floor) * 1.08, yi, f"{v:.3g} µJ", va="center", fontsize="small")
    if reference:
        marked = [(labels.index(k), v) for k, v in reference.items() if k in bars and v]
        for n, (yi, v) in enumerate(marked):
            ax_total.plot(v, yi, "kD", ms=7, label=reference_label if n == 0 else None)
        if marked:
            ax_total.legend(fontsize="small", loc="lower right")
    top = max(totals.max(), max((v for v in (reference or {}).values() if v), default=0)) if len(totals) else 1
    ax_total.set_xlim(floor, top * 8)
    ax_total.set_yticks(y, labels)
    ax_total.invert_yaxis()
    ax_total.set_xlabel("energy per inference (µJ, log scale)")
    causes = list(dict.fromkeys(c for k in labels for c in bars[k]))
    left = np.zeros(len(labels))
    for cause in causes:
        share = np.array([bars[k].get(cause, 0.0) / t if t > 0 else 0.0 for k, t in zip(labels, totals)])
        ax_share.barh(y, share, left=left, color=ENERGY_COLORS.get(cause, None), label=cause)
        left += share
    ax_share.set_xlim(0, 1)
    ax_share.set_xlabel("share of the energy")
    ax_share.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    if title:
        fig.suptitle(title)
    return fig


def plot_energy_vs_steps(num_steps, curves, ax: Axes | None = None, *, mark: int | None = 25) -> Axes:
    """Energy per inference against the number of time steps T, log scale.

    Args:
        num_steps: ``[K]`` values of T.
        curves: ``{label: [K] µJ}``; a constant curve (an ANN) is drawn dashed.
        mark: draw a vertical line at this T (the paper's 25), or None.
    """
    ax = new_axes(ax, figsize=(6.4, 3.8))
    t = as_numpy(num_steps).ravel()
    for k, (label, values) in enumerate(curves.items()):
        v = as_numpy(values).ravel()
        flat = np.allclose(v, v[0])
        ax.plot(t, v, "--" if flat else "-", lw=2 if flat else 1.8, color=f"C{k % 10}", label=label)
    if mark is not None:
        ax.axvline(mark, color="0.5", ls=":", lw=1.2, label=f"T = {mark}")
    ax.set_yscale("log")
    ax.set_xlabel("time steps T")
    ax.set_ylabel("energy per inference (µJ)")
    ax.legend(fontsize="small")
    return ax


def plot_layer_activity(activity, layers, ax: Axes | None = None, *, ylabel: str = "fraction non-zero") -> Axes:
    """Grouped bars: the fraction of non-zero activity per layer, one group per layer, one bar per model.

    Args:
        activity: ``{model: [fraction per layer]}`` (e.g. input pixels / spikes, hidden, output).
        layers: names of the layers, one per fraction.
    """
    ax = new_axes(ax, figsize=(6.4, 3.4))
    n = len(activity)
    width = 0.8 / max(n, 1)
    x = np.arange(len(layers))
    for k, (name, values) in enumerate(activity.items()):
        v = np.array([np.nan if f is None else f for f in values], dtype=float)
        pos = x - 0.4 + width * (k + 0.5)
        ax.bar(pos, v, width, label=name, color=f"C{k % 10}")
        for p, f in zip(pos, v):
            if np.isfinite(f):
                ax.text(p, f, f"{f:.2f}", ha="center", va="bottom", fontsize="x-small")
    ax.set_xticks(x, layers)
    ax.set_ylim(0, 1.08)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize="small")
    return ax
