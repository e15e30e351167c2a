"""Plot helpers for the chapters: traces, rasters, curves and image grids.

Every function takes the data it draws as arguments (tensors or arrays, time first) and an
optional ``ax`` or ``fig`` to draw into, and returns the Axes or Figure; none reads or sets
global state. Pass a ``matplotlib.figure.Figure`` to draw without pyplot (as the widgets do).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure


# ----------------------------------------------------------------------------- neurons and coding
# (chapters 1 and 2: the LIF neuron, rate coding)


def _as_numpy(x) -> np.ndarray:
    """A tensor (any device, with or without grad) or array-like as a NumPy array."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _as_traces(x) -> np.ndarray:
    """``[T]`` or ``[T, 1, ..., K]`` as a 2-D ``[T, K]`` array (one column per trace)."""
    a = _as_numpy(x)
    return a.reshape(a.shape[0], -1) if a.ndim else a.reshape(1, 1)


def _new_axes(ax: Axes | None, figsize=(6.4, 3.2)) -> Axes:
    if ax is not None:
        return ax
    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def plot_membrane(membrane, spikes=None, threshold: float = 1.0, ax: Axes | None = None, *, dt: float = 1.0,
                  label: str | None = None, color: str = "C0", time_unit: str = "step") -> Axes:
    """Membrane trace u_t with the threshold θ as a dashed line and a tick above each spike.

    Args:
        membrane: ``[T]`` (or ``[T, K]``: K traces) membrane potentials, as returned by ``lif_sequence``.
        spikes: 0/1 spikes of the same shape, or None.
        threshold: θ, drawn as a horizontal line.
        dt: time step, for the time axis (``t = dt · step``).
    """
    ax = _new_axes(ax)
    u = _as_traces(membrane)
    t = np.arange(1, u.shape[0] + 1) * dt  # u_t is the membrane after input t (t = 1 … T)
    for k in range(u.shape[1]):
        ax.plot(t, u[:, k], color=color if u.shape[1] == 1 else f"C{k % 10}", lw=1.5,
                label=label if k == 0 else None)
    ax.axhline(threshold, color="0.35", ls="--", lw=1, label="threshold θ")
    if spikes is not None:
        s = _as_traces(spikes)
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
    ax = _new_axes(ax)
    s = _as_traces(spikes)
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
    i = _as_traces(current)
    t = np.arange(1, i.shape[0] + 1) * dt
    ax_i.step(t, i[:, 0], where="mid", color="C1", lw=1.2)
    ax_i.set_ylabel("input I")
    plot_membrane(membrane, None, threshold, ax_u, dt=dt)
    ax_u.set_xlabel("")
    ax_u.legend(loc="upper right", fontsize="small")
    s = _as_traces(spikes)[:, 0]
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
    ax = _new_axes(ax, figsize=(5, 3.5))
    i, r = _as_numpy(currents).ravel(), _as_numpy(rates).ravel()
    (line,) = ax.plot(i, r, "o-", ms=3, lw=1.5, color=color, label=label)
    if theory is not None:
        ax.plot(i, _as_numpy(theory).ravel(), "--", lw=1.0, color="k", zorder=3, label=theory_label)
    if rheobase is not None:
        ax.axvline(rheobase, color="0.5", ls=":", lw=1, label=f"rheobase {rheobase:g}")
    ax.set_xlabel("input current I (per step)")
    ax.set_ylabel("firing rate (spikes / step)")
    return ax


def plot_image(image, ax: Axes | None = None, *, title: str | None = None, cmap: str = "gray",
               vmin: float | None = 0.0, vmax: float | None = 1.0, colorbar: bool = False) -> Axes:
    """One grey-level image; a flat ``[784]`` vector is shown as 28 × 28."""
    ax = _new_axes(ax, figsize=(2.5, 2.5))
    a = _as_numpy(image).astype(float)
    if a.ndim == 1 and int(np.sqrt(a.size)) ** 2 == a.size:
        side = int(np.sqrt(a.size))
        a = a.reshape(side, side)
    im = ax.imshow(a, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize="medium")
    if colorbar:
        ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    return ax


def plot_digit_grid(images, labels=None, *, ncols: int = 10, titles=None, fig: Figure | None = None,
                    cmap: str = "gray", size: float = 1.1, vmin: float | None = 0.0, vmax: float | None = 1.0,
                    suptitle: str | None = None) -> Figure:
    """A grid of digits ``[N, 28, 28]`` (or ``[N, 784]``) titled by their labels (or by ``titles``)."""
    x = _as_numpy(images)
    n = x.shape[0]
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    if fig is None:
        fig = plt.figure(figsize=(size * ncols, size * nrows + (0.4 if suptitle else 0.2)), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    names = titles if titles is not None else (None if labels is None else [str(int(v)) for v in _as_numpy(labels)])
    for k, ax in enumerate(axes):
        if k < n:
            plot_image(x[k], ax, title=None if names is None else names[k], cmap=cmap, vmin=vmin, vmax=vmax)
        else:
            ax.axis("off")
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def plot_reconstruction_error(num_steps, errors, ax: Axes | None = None, *, reference=None,
                              reference_label: str = r"$\propto 1/\sqrt{T}$", label: str | None = "measured") -> Axes:
    """Reconstruction error against the number of time steps T, on log–log axes.

    Args:
        num_steps: ``[K]`` values of T.
        errors: ``[K]`` errors (e.g. root-mean-square error per pixel).
        reference: optional ``[K]`` predicted errors, drawn dashed (e.g. the 1/√T law).
    """
    ax = _new_axes(ax, figsize=(5, 3.5))
    t, e = _as_numpy(num_steps).ravel(), _as_numpy(errors).ravel()
    ax.loglog(t, e, "o-", ms=4, label=label)
    if reference is not None:
        ax.loglog(t, _as_numpy(reference).ravel(), "k--", lw=1, label=reference_label)
    ax.set_xlabel("time steps T")
    ax.set_ylabel("RMS error per pixel")
    ax.legend()
    return ax


# ----------------------------------------------------------------------------- energy
# (chapter 7: energy accounting; the numbers come from labkit.energy)

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
    ax = _new_axes(ax, figsize=(6.4, 3.8))
    t = _as_numpy(num_steps).ravel()
    for k, (label, values) in enumerate(curves.items()):
        v = _as_numpy(values).ravel()
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
    ax = _new_axes(ax, figsize=(6.4, 3.4))
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


# ----------------------------------------------------------------------------- training curves
# (chapter 4: surrogate-gradient training)


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


# ----------------------------------------------------------------------------- A-STDP
# (chapter 5: live curves of several runs, plasticity coefficients)


def plot_run_curves(curves, ax: Axes | None = None, *, scale: float = 1.0, ylabel: str = "test accuracy (%)",
                    xlabel: str = "training digits seen", ylim=None, title: str | None = None) -> Axes:
    """Curves of several runs with the last one highlighted: earlier runs thin and grey, the last in colour.

    Args:
        curves: ``[(label, x, y), ...]``, oldest first; the last entry is the current run.
        scale: multiplies y (100 turns fractions into percent).
        ylim: fixed y-limits (a live plot then does not jump), or None.
    """
    ax = _new_axes(ax)
    curves = [(label, _as_numpy(x).astype(float), _as_numpy(y).astype(float) * scale) for label, x, y in curves]
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
    ax = _new_axes(ax)
    c = _as_numpy(coefficients).astype(float)
    c = c.reshape(c.shape[0], -1)
    steps = np.arange(c.shape[0]) if x is None else _as_numpy(x).astype(float)
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


# ----------------------------------------------------------------------------- STDP
# (chapter 3: traces, the STDP window, receptive fields and the STDP-only classifier)


def plot_spike_traces(spikes, traces, *, names=("pre", "post"), fig: Figure | None = None, dt: float = 1.0,
                      title: str | None = None) -> Figure:
    """Spike trains on top, their exponential traces underneath, sharing the time axis.

    Args:
        spikes: ``[T, K]`` 0/1 spikes (K trains, e.g. one pre and one post).
        traces: ``[T, K]`` the traces x_t = λ x_{t−1} + s_t of the same trains.
        names: one name per train, used for the rows and the legend.
    """
    s, x = _as_traces(spikes), _as_traces(traces)
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
        window: ``[K]`` the window W(Δt) at those differences (e.g. `labkit.plasticity.stdp_window`).
        measured_dt, measured: optional points (a simulated pair protocol), drawn as dots.
    """
    ax = _new_axes(ax, figsize=(5.5, 3.5))
    d, w = _as_numpy(delta_t).ravel(), _as_numpy(window).ravel()
    order = np.argsort(d, kind="stable")
    d, w = d[order], w[order]
    pos = d >= 0
    ax.plot(d[pos], w[pos], color=color, lw=1.8, label=label)
    ax.plot(d[~pos], w[~pos], color=color, lw=1.8)
    ax.fill_between(d[pos], 0, w[pos], color="C2", alpha=0.15, label="potentiation (pre → post)")
    ax.fill_between(d[~pos], 0, w[~pos], color="C3", alpha=0.15, label="depression (post → pre)")
    if measured is not None:
        ax.plot(_as_numpy(measured_dt).ravel(), _as_numpy(measured).ravel(), "o", ms=4, mfc="white", mec="k",
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
    w = _as_numpy(weight).astype(float)
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
    names = None if labels is None else ["–" if int(v) < 0 else str(int(v)) for v in _as_numpy(labels)[:n]]
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
    ax = _new_axes(ax, figsize=(5, 4.3))
    c = _as_numpy(confusion).astype(float)
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


# ----------------------------------------------------------------------------- event data
# (chapter 9: event cameras, N-MNIST and simulated saccades)


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
    ax = _new_axes(ax, figsize=(7, 3.2))
    t, log_i, n = _as_numpy(times), _as_numpy(log_intensity), _as_numpy(counts)
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
    f = _as_numpy(frames).astype(float)
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
    x, y, t, p = (_as_numpy(events[k]) for k in ("x", "y", "t", "p"))
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
    ax = _new_axes(ax, figsize=(4.8, 3.8))
    dx, dy = _as_numpy(dx), _as_numpy(dy)
    t = _as_numpy(times_us) / 1000 if times_us is not None else np.arange(len(dx))
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


# ----------------------------------------------------------------------------- Loihi deployment
# (chapter 8: quantisation, four-way comparison, on-chip STDP)


def plot_quantization_error(weight, dequantized, ax: Axes | None = None, *, step: float | None = None,
                            bins: int = 60, title: str | None = None) -> Axes:
    """Histogram of the quantisation error W − Ŵ of a weight matrix, with ±step/2 marked.

    Args:
        weight: the float weights.
        dequantized: the weights the fixed-point mantissas represent (same shape).
        step: the spacing of representable weights; rounding to nearest keeps |error| ≤ step/2.
    """
    ax = _new_axes(ax, figsize=(5.2, 3.0))
    error = (_as_numpy(weight).astype(np.float64) - _as_numpy(dequantized).astype(np.float64)).ravel()
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
    ax = _new_axes(ax, figsize=(5.4, 3.8))
    m = _as_numpy(matrix).astype(np.float64)
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
    ax = _new_axes(ax, figsize=(4.2, 4.0))
    a, b = _as_numpy(dw_lab).ravel(), _as_numpy(dw_other).ravel()
    ax.scatter(a, b, s=10, alpha=0.7, color="C0", label="lab's stdp_update")
    if explained is not None:
        ax.scatter(_as_numpy(explained).ravel(), b, s=10, alpha=0.7, color="C3", marker="x",
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
