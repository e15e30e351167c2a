"""What the A-STDP dashboard draws, as a pure function of its runs (no widgets, no state, no pyplot).

Three panels, for `labkit.training.live.RecordedRun` records, oldest first:

* the test accuracy against training digits seen: one colour per run, the mean over its seeds
  with a band of ± one sd over seeds, error bars of the binomial sampling error √(p(1 − p)/n) of
  the n test digits; the accuracy axis is scaled to the curves (the untrained starting point
  aside), so half a point between two rules is visible;
* the final test accuracy of each run, on an axis of its own scaled to the finals: every seed as
  a dot, the mean with ± sd over seeds (thick) and ± the binomial error (thin, capped): a
  difference between two runs that is smaller than these bars is not established;
* the mean plasticity coefficient c of each STDP layer (the current run in colour) and, on a log
  axis of its own, the measured STDP dose ρ of the current run: ‖η1·c·ΔW_stdp‖ against the size of
  the gradient step (`labkit.rules`), the number that says whether STDP can change anything at all.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from ..training.live import RecordedRun, binomial_error, mean_curve

__all__ = ["MAX_RUNS_SHOWN", "hybrid_view", "rate_label", "run_label"]

#: Runs drawn at once (the most recent ones); every run stays in the export.
MAX_RUNS_SHOWN = 8


def rate_label(value: float) -> str:
    """0 → "0", 3e-4 → "3e-4", 0.0126 → "1.26e-2" (a short label for a rate on a log scale)."""
    if value == 0:
        return "0"
    mantissa, exponent = f"{value:.2e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}"


def run_label(settings, number: int | None = None) -> str:
    """"#2 adaptive η1=1e-2 η2=1e-3 κ=0.05, 3 seeds": what a run is called in the plot, the result and the CSV."""
    parts = [] if number is None else [f"#{number}"]
    parts.append(settings.rule)
    if settings.rule != "bp":
        parts.append(f"η1={rate_label(settings.eta1)}")
    if settings.rule != "stdp":
        parts.append(f"η2={rate_label(settings.eta2)}")
    if settings.rule == "adaptive":
        parts.append(f"κ={settings.kappa:g}")
    if settings.rule != "bp" and (settings.a_plus, settings.a_minus) != (0.01, 0.015):
        parts.append(f"A±={settings.a_plus:g}/{settings.a_minus:g}")
    seeds = settings.seeds
    return " ".join(parts) + (f", seed {seeds[0]}" if len(seeds) == 1 else f", {len(seeds)} seeds")


def _accuracy_limits(runs: list[RecordedRun]) -> tuple[float, float] | None:
    """y-limits (percent) that hold every curve point past the first, its band and its error bar."""
    lows, highs = [], []
    for run in runs:
        digits, mean, sd = mean_curve(run.results)
        for d, m, s in zip(digits, mean, sd):
            if d == 0 and len(digits) > 1:
                continue
            e = binomial_error(m, run.n_test)
            lows.append(m - max(s, e))
            highs.append(m + max(s, e))
        for r in run.results:
            if r.clean is not None:
                lows.append(r.clean)
                highs.append(r.clean)
    if not lows:
        return None
    lo, hi = 100 * min(lows), 100 * max(highs)
    pad = max(1.0, 0.08 * (hi - lo))
    return max(0.0, lo - pad), min(100.0, hi + pad)


def _final_limits(runs: list[RecordedRun]) -> tuple[float, float] | None:
    """y-limits (percent) of the final-accuracy panel: every seed, every mean ± sd and ± binomial error."""
    lows, highs = [], []
    for run in runs:
        summary = run.summary()
        if summary is None:
            continue
        reach = max(summary.clean_sd, summary.clean_binomial)
        lows += [summary.clean_mean - reach] + [r.clean for r in run.results if r.clean is not None]
        highs += [summary.clean_mean + reach] + [r.clean for r in run.results if r.clean is not None]
    if not lows:
        return None
    lo, hi = 100 * min(lows), 100 * max(highs)
    pad = max(0.5, 0.1 * (hi - lo))
    return max(0.0, lo - pad), min(100.0, hi + pad)


def _draw_curves(ax, runs, colours, limits, max_digits) -> None:
    for run, colour in zip(runs, colours):
        digits, mean, sd = mean_curve(run.results)
        if not digits:
            continue
        x, m, s = np.asarray(digits, float), 100 * np.asarray(mean), 100 * np.asarray(sd)
        e = np.array([100 * binomial_error(p, run.n_test) for p in mean])
        style = {"ls": "--", "lw": 1.2} if run.example else {"ls": "-", "lw": 1.8}
        ax.errorbar(x, m, yerr=e, color=colour, marker="o", ms=3, capsize=2, elinewidth=0.8, label=run.label,
                    **style)
        if len(run.results) > 1:
            ax.fill_between(x, m - s, m + s, color=colour, alpha=0.18, lw=0)
    if limits:
        ax.set_ylim(*limits)
    if max_digits:
        ax.set_xlim(0, max_digits * 1.02)
    ax.set_xlabel("training digits seen")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("test accuracy during training\n(mean of the seeds; band: ± sd over seeds; bars: ± binomial error)",
                 fontsize="small")
    if ax.lines:
        ax.legend(fontsize="x-small", loc="lower right")
    ax.grid(alpha=0.3)


def _draw_finals(ax, runs, colours, limits) -> None:
    ticks = []
    for k, (run, colour) in enumerate(zip(runs, colours)):
        finals = [100 * r.clean for r in run.results if r.clean is not None]
        ticks.append(run.label.split(" ")[0] if run.label.startswith("#") else f"ex{k + 1}")
        if not finals:
            continue
        mean = float(np.mean(finals))
        sd = float(np.std(finals, ddof=1)) if len(finals) > 1 else 0.0
        spread = np.linspace(-0.12, 0.12, len(finals)) if len(finals) > 1 else np.zeros(1)
        ax.plot(k + spread, finals, "o", color=colour, ms=4, alpha=0.6)
        ax.errorbar(k - 0.25, mean, yerr=sd, color=colour, lw=4, capsize=0, marker="_", ms=14)
        ax.errorbar(k + 0.25, mean, yerr=100 * binomial_error(mean / 100, run.n_test), color=colour, lw=1,
                    capsize=4, marker="_", ms=10)
    ax.set_xticks(range(len(ticks)), ticks)
    ax.set_xlim(-0.7, max(len(ticks), 2) - 0.3)
    if limits:
        ax.set_ylim(*limits)
    ax.set_ylabel("final test accuracy (%)")
    ax.set_title("each run: seeds (dots), mean ± sd (thick)\nand ± binomial error of the test set (thin)",
                 fontsize="small")
    ax.grid(alpha=0.3, axis="y")


def _draw_coefficients(ax, runs, colours, max_digits) -> None:
    current = runs[-1] if runs else None
    for run, colour in zip(runs, colours):
        with_c = [r for r in run.results if r.coefficient]
        if not with_c:
            continue
        length = min(len(r.coefficient) for r in with_c)
        c = np.mean([np.asarray(r.coefficient[:length], float) for r in with_c], axis=0)
        x = with_c[0].digits[:length]
        for layer in range(c.shape[1]):
            ax.plot(x, c[:, layer], "-" if layer == 0 else "--", color=colour if run is current else "0.75",
                    lw=1.8 if run is current else 0.9, label=f"layer {layer + 1}" if run is current else None)
    ax.set_ylim(-0.03, 1.05)
    if max_digits:
        ax.set_xlim(0, max_digits * 1.02)
    ax.set_xlabel("training digits seen")
    ax.set_ylabel("mean plasticity coefficient c")
    _draw_dose(ax, current)
    ax.set_title("A-STDP: c per layer (sum: c ≡ 1)", fontsize="small")
    if current is not None and any(r.coefficient for r in current.results):
        ax.legend(fontsize="x-small", loc="lower left")
    elif current is not None:
        ax.text(0.5, 0.5, f"{current.settings.rule}: no STDP, no c", transform=ax.transAxes, ha="center", color="0.4")
    ax.grid(alpha=0.3)


def _draw_dose(ax, run) -> None:
    """The current run's measured dose ρ per STDP layer (mean over seeds), dotted, on a log axis at the right."""
    with_dose = [r for r in run.results if r.dose] if run is not None else []
    if not with_dose:
        return
    length = min(len(r.dose) for r in with_dose)
    rho = np.mean([np.asarray(r.dose[:length], float) for r in with_dose], axis=0)
    x = with_dose[0].digits[1 : length + 1]
    twin = ax.twinx()
    for layer in range(rho.shape[1]):
        twin.plot(x[: len(rho)], rho[: len(x), layer], ":", color="0.2", lw=1.4,
                  label=f"dose ρ, layer {layer + 1}" if layer == 0 else None)
    twin.set_yscale("log")
    twin.set_ylabel("dose ρ = ‖η1·c·ΔW_stdp‖ / ‖gradient step‖", fontsize="x-small")
    twin.tick_params(labelsize="x-small")
    twin.legend(fontsize="x-small", loc="upper right")


def hybrid_view(runs, *, max_digits: int | None = None, scale: float = 1.0) -> Figure:
    """The dashboard's figure for ``runs`` (`RecordedRun` records, oldest first; the last is current).

    The last `MAX_RUNS_SHOWN` runs are drawn, each in its own colour (examples dashed). ``scale``
    enlarges the figure (a projector).
    """
    if not (isinstance(scale, (int, float)) and math.isfinite(scale) and 0.5 <= scale <= 3):
        raise ValueError(f"scale must be a number in [0.5, 3], got {scale!r}")
    runs = [r for r in runs if any(s.digits for s in r.results)][-MAX_RUNS_SHOWN:]
    fig = Figure(figsize=(12 * scale, 3.7 * scale))
    # fixed margins rather than a layout engine: the figure is redrawn live, and a layout pass costs more than the drawing
    fig.subplots_adjust(left=0.055, right=0.99, bottom=0.15, top=0.83, wspace=0.28)
    ax_acc, ax_final, ax_c = fig.subplots(1, 3, gridspec_kw={"width_ratios": [5, 2.4, 3.2]})
    colours = [f"C{k % 10}" for k in range(len(runs))]
    _draw_curves(ax_acc, runs, colours, _accuracy_limits(runs), max_digits)
    _draw_finals(ax_final, runs, colours, _final_limits(runs))
    _draw_coefficients(ax_c, runs, colours, max_digits)
    if runs and all(r.example for r in runs):
        fig.suptitle("an example recorded earlier (scripts/dashboard_example.py): press Train for your own runs",
                     fontsize="small", color="0.35", y=0.995)
    return fig
