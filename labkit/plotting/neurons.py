"""Plots of single neurons: membrane traces, spike rasters, the response to a current, f–I curves."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .core import as_numpy, as_traces, new_axes

__all__ = ["plot_fi_curve", "plot_membrane", "plot_neuron_response", "plot_raster"]


def plot_membrane(membrane, spikes=None, threshold: float = 1.0, ax: Axes | None = None, *, dt: float = 1.0,
                  label: str | None = None, color: str = "C0", time_unit: str = "step") -> Axes:
    """Membrane trace u_t with the threshold θ as a dashed line and a tick above each spike.

    Args:
        membrane: ``[T]`` (or ``[T, K]``: K traces) membrane potentials, as returned by ``lif_sequence``.
        spikes: 0/1 spikes of the same shape, or None.
        threshold: θ, drawn as a horizontal line.
        dt: time step, for the time axis (``t = dt · step``).
    """
    ax = new_axes(ax)
    u = as_traces(membrane)
    t = np.arange(1, u.shape[0] + 1) * dt  # u_t is the membrane after input t (t = 1 … T)
    for k in range(u.shape[1]):
        ax.plot(t, u[:, k], color=color if u.shape[1] == 1 else f"C{k % 10}", lw=1.5,
                label=label if k == 0 else None)
    ax.axhline(threshold, color="0.35", ls="--", lw=1, label="threshold θ")
    if spikes is not None:
        s = as_traces(spikes)
        top = max(threshold, float(np.nanmax(u)) if u.size else threshold)
        for k in range(s.shape[1]):
            times = t[s[:, k] > 0]
            ax.plot(times, np.full(times.shape, top * 1.12 + 0.05 * k), "|", ms=10, mew=2,
                    color=color if s.shape[1] == 1 else f"C{k % 10}", label="spike" if k == 0 else None)
    ax.set_xlabel(f"time ({time_unit})")
    ax.set_ylabel("membrane u")
    return ax


def plot_raster(spikes, ax: Axes | None = None, *, dt: float = 1.0, color: str = "k", marker_size: float | None = None,
                ylabel: str = "neuron", title: str | None = None, time_unit: str = "step") -> Axes:
    """Spike raster: one dot per spike, time on x, neuron index on y.

    Args:
        spikes: ``[T, N]`` (or ``[T, ...]``: trailing dimensions are flattened, so a rate-coded
            28 × 28 image ``[T, 28, 28]`` gives 784 rows, pixel index = row · 28 + column).
    """
    ax = new_axes(ax)
    s = as_traces(spikes)
    steps, neurons = np.nonzero(s > 0)
    few = s.shape[1] <= 100  # few rows: a vertical tick per spike; many: a short dash, so dense rows read as bands
    if marker_size is None:
        marker_size = float(np.clip(2000.0 / max(s.shape[1], 1), 20.0, 200.0)) if few else 30.0
    ax.scatter(steps * dt, neurons, s=marker_size, c=color, marker="|" if few else "_",
               linewidths=1.0 if few else 0.8)
    ax.set_xlim(-0.5 * dt, (s.shape[0] - 0.5) * dt)
    ax.set_ylim(-0.5, s.shape[1] - 0.5)
    ax.invert_yaxis()
    ax.set_xlabel(f"time ({time_unit})")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    return ax


def plot_neuron_response(current, membrane, spikes, threshold: float = 1.0, *, fig: Figure | None = None,
                         title: str | None = None, dt: float = 1.0) -> Figure:
    """Three stacked panels sharing the time axis: input current, membrane (with θ), spike train."""
    if fig is None:
        fig = plt.figure(figsize=(7, 4.8), layout="constrained")
    ax_i, ax_u, ax_s = fig.subplots(3, 1, sharex=True, gridspec_kw={"height_ratios": [1, 2, 0.6]})
    i = as_traces(current)
    t = np.arange(1, i.shape[0] + 1) * dt
    ax_i.step(t, i[:, 0], where="mid", color="C1", lw=1.2)
    ax_i.set_ylabel("input I")
    plot_membrane(membrane, None, threshold, ax_u, dt=dt)
    ax_u.set_xlabel("")
    ax_u.legend(loc="upper right", fontsize="small")
    s = as_traces(spikes)[:, 0]
    ax_s.vlines(t[s > 0], 0, 1, color="k", lw=1.5)
    ax_s.set_yticks([])
    ax_s.set_ylim(0, 1.1)
    ax_s.set_ylabel("spikes")
    ax_s.set_xlabel("time (step)")
    if title:
        fig.suptitle(title)
    return fig


def plot_fi_curve(currents, rates, ax: Axes | None = None, *, label: str | None = None, theory=None,
                  theory_label: str = "theory", rheobase: float | None = None, color: str | None = None) -> Axes:
    """f–I curve: firing rate (spikes per step) against a constant input current.

    Args:
        currents: ``[K]`` input currents I.
        rates: ``[K]`` measured rates (spike count / T).
        theory: optional ``[K]`` predicted rates, drawn dashed.
        rheobase: optional current below which the neuron is silent, drawn as a dotted line.
    Call again with the same ``ax`` to overlay curves.
    """
    ax = new_axes(ax, figsize=(5, 3.5))
    i, r = as_numpy(currents).ravel(), as_numpy(rates).ravel()
    (line,) = ax.plot(i, r, "o-", ms=3, lw=1.5, color=color, label=label)
    if theory is not None:
        ax.plot(i, as_numpy(theory).ravel(), "--", lw=1.0, color="k", zorder=3, label=theory_label)
    if rheobase is not None:
        ax.axvline(rheobase, color="0.5", ls=":", lw=1, label=f"rheobase {rheobase:g}")
    ax.set_xlabel("input current I (per step)")
    ax.set_ylabel("firing rate (spikes / step)")
    return ax
