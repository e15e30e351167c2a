"""Plots of event-camera data: one pixel's events, event frames, events in 3-D, the saccade path."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .core import as_numpy, new_axes

__all__ = ["plot_event_frames", "plot_events_3d", "plot_pixel_events", "plot_saccade_path"]


def _event_rgb(frame: np.ndarray, vmax: float) -> np.ndarray:
    """``[2, H, W]`` event counts (OFF, ON) → RGB on white: ON red, OFF blue, both dark."""
    off = np.clip(frame[0] / vmax, 0.0, 1.0)
    on = np.clip(frame[1] / vmax, 0.0, 1.0)
    return np.stack([1.0 - off, 1.0 - np.maximum(on, off), 1.0 - on], axis=-1)


def plot_pixel_events(times, log_intensity, counts, threshold: float, ax: Axes | None = None, *,
                      time_unit: str = "ms") -> Axes:
    """One pixel of an event camera: its log intensity, the levels ln I₀ + kC, and its events.

    Args:
        times: sample times ``[K]``.
        log_intensity: ln I at those times ``[K]``.
        counts: signed number of events at each sample ``[K]`` (+n: n ON events, −n: n OFF).
        threshold: C, the spacing of the levels.
    """
    ax = new_axes(ax, figsize=(7, 3.2))
    t, log_i, n = as_numpy(times), as_numpy(log_intensity), as_numpy(counts)
    lo, hi = float(log_i.min()), float(log_i.max())
    for k in range(int(np.floor((lo - log_i[0]) / threshold)), int(np.ceil((hi - log_i[0]) / threshold)) + 1):
        ax.axhline(log_i[0] + k * threshold, color="0.85", lw=0.8, zorder=0)
    ax.plot(t, log_i, color="k", lw=1.5, label="ln I")
    on, off = n > 0, n < 0
    ax.scatter(t[on], log_i[on], marker="^", s=30 + 15 * n[on], color="tab:red", label="ON events", zorder=3)
    ax.scatter(t[off], log_i[off], marker="v", s=30 - 15 * n[off], color="tab:blue", label="OFF events", zorder=3)
    ax.set_xlabel(f"time ({time_unit})")
    ax.set_ylabel("log intensity ln I")
    ax.set_title(f"levels every C = {threshold:g} (grey); marker size: events at that sample", fontsize="medium")
    ax.legend(loc="upper right", fontsize="small")
    return ax


def plot_event_frames(frames, *, bin_us: float | None = None, ncols: int | None = None, vmax: float | None = None,
                      fig: Figure | None = None, size: float = 1.25, suptitle: str | None = None,
                      first_time_us: float = 0.0) -> Figure:
    """A sequence of event frames, one panel per time bin: ON events red, OFF events blue.

    Args:
        frames: ``[T, 2, H, W]`` counts or spikes per bin (polarity 0 = OFF, 1 = ON), as tonic's
            ``ToFrame`` or `labkit.data.nmnist_sim_data` give them.
        bin_us: length of a bin in µs; when given, each panel is titled with its time span.
        ncols: panels per row (default: all in one row, at most 10).
        vmax: count shown at full colour (default: the largest count; 1 for spikes).
        first_time_us: start time of the first bin (for the titles).
    """
    f = as_numpy(frames).astype(float)
    if f.ndim != 4 or f.shape[1] != 2:
        raise ValueError(f"frames must be [T, 2, H, W] (two polarities), got shape {f.shape}")
    steps = f.shape[0]
    ncols = max(1, min(ncols or min(steps, 10), steps))
    nrows = -(-steps // ncols)
    top = vmax if vmax is not None else max(float(f.max()), 1.0)
    if fig is None:
        fig = plt.figure(figsize=(size * ncols, size * nrows + 0.5), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for k, ax in enumerate(axes):
        ax.set_xticks([])
        ax.set_yticks([])
        if k >= steps:
            ax.axis("off")
            continue
        ax.imshow(_event_rgb(f[k], top), interpolation="nearest")
        if bin_us is not None:
            start = (first_time_us + k * bin_us) / 1000
            ax.set_title(f"{start:.0f}–{start + bin_us / 1000:.0f} ms", fontsize="small")
        else:
            ax.set_title(f"bin {k}", fontsize="small")
    fig.suptitle((suptitle + "   " if suptitle else "") + "red: ON (brighter), blue: OFF (darker)", fontsize="medium")
    return fig


def plot_events_3d(events, *, max_events: int = 4000, fig: Figure | None = None, title: str | None = None):
    """Events as points in space-time: time (ms) along one axis, the pixel (x, y) on the other two.

    Args:
        events: a structured array with fields x, y, t (µs), p (tonic's format), or a dict of arrays.
        max_events: draw at most this many, evenly spaced in the (time-ordered) stream.
    """
    x, y, t, p = (as_numpy(events[k]) for k in ("x", "y", "t", "p"))
    keep = np.unique(np.linspace(0, len(t) - 1, min(max_events, len(t))).round().astype(int)) if len(t) else []
    x, y, t, p = x[keep], y[keep], t[keep] / 1000, p[keep].astype(bool)
    if fig is None:
        fig = plt.figure(figsize=(6.4, 4.2), layout="constrained")
    ax = fig.add_subplot(projection="3d")
    ax.scatter(t[p], x[p], y[p], s=1.5, color="tab:red", label="ON", depthshade=False)
    ax.scatter(t[~p], x[~p], y[~p], s=1.5, color="tab:blue", label="OFF", depthshade=False)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("x (pixel)")
    ax.set_zlabel("y (pixel)")
    ax.invert_zaxis()  # image rows grow downwards
    ax.legend(loc="upper left", markerscale=6)
    if title:
        ax.set_title(title)
    return ax


def plot_saccade_path(dx, dy, ax: Axes | None = None, *, times_us=None, title: str | None = None) -> Axes:
    """The image's displacement (dx, dy) in pixels during the saccades, coloured by time.

    Args:
        dx, dy: displacements, as returned by `labkit.data.saccade_path`.
        times_us: the sample times (for the colour bar), in µs.
    """
    ax = new_axes(ax, figsize=(4.8, 3.8))
    dx, dy = as_numpy(dx), as_numpy(dy)
    t = as_numpy(times_us) / 1000 if times_us is not None else np.arange(len(dx))
    ax.plot(dx, dy, color="0.75", lw=1, zorder=1)
    points = ax.scatter(dx, dy, c=t, cmap="viridis", s=12, zorder=2)
    ax.plot(dx[:1], dy[:1], "o", ms=10, mfc="none", mec="k", label="start and end")
    ax.figure.colorbar(points, ax=ax, label="time (ms)" if times_us is not None else "sample")
    ax.set_xlabel("dx (pixels, right)")
    ax.set_ylabel("dy (pixels, down)")
    ax.invert_yaxis()
    ax.set_aspect("equal")
    ax.legend(loc="lower center", fontsize="small")
    if title:
        ax.set_title(title, fontsize="medium")
    return ax
