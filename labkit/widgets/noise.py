"""The noise explorer: accuracy of the rules under Gaussian input noise of a chosen σ."""

from __future__ import annotations

import math

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from .core import dashboard

__all__ = ["noise_curves_from_summary", "noise_explorer", "noise_sigmas", "noise_view"]


def noise_curves_from_summary(summary: dict) -> dict[str, dict[float, float]]:
    """Model label → {σ: mean test accuracy (%)} from a reproduction summary (`labkit.experiments.summarize`).

    Runs without a noise sweep are left out; σ keys are turned from the JSON strings into floats.
    """
    curves = {}
    for rule, entry in summary.get("rules", {}).items():
        sweep = entry.get("noise_acc")
        if sweep:
            curves[entry.get("label", rule)] = {float(s): stats["mean"] for s, stats in sweep.items()
                                                if stats.get("mean") is not None}
    return {label: curve for label, curve in curves.items() if curve}


def noise_sigmas(curves: dict[str, dict[float, float]]) -> list[float]:
    """The sorted noise levels σ at which at least one model was measured (the explorer's slider stops)."""
    return sorted({float(s) for curve in curves.values() for s in curve})


def noise_view(curves: dict[str, dict[float, float]], sigma: float, *,
                paper: dict[str, dict[float, float]] | None = None) -> Figure:
    """Accuracy against input noise σ for every model, and each model's accuracy at the chosen σ.

    Left: the curves (accuracy in %, Gaussian noise ``x + σ·N(0, 1)`` clipped to [0, 1] before rate
    coding, as `labkit.training.evaluate`), with the paper's figures as crosses where given.
    Right: one bar per model at ``sigma`` (a model not measured there gets no bar). Raises
    ValueError when there is nothing to draw or ``sigma`` is not a measured level.
    """
    if not curves:
        raise ValueError("no noise sweep to show: run `make reproduce` (or pass measured curves)")
    levels = noise_sigmas(curves)
    if not any(math.isclose(sigma, s, abs_tol=1e-9) for s in levels):
        raise ValueError(f"sigma must be one of the measured noise levels {levels}, got {sigma!r}")
    fig = Figure(figsize=(10, 3.8), layout="constrained")
    ax_curve, ax_bar = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.2, 1]})
    names, values, colors = [], [], []
    for k, (label, curve) in enumerate(curves.items()):
        color = f"C{k % 10}"
        xs = sorted(curve)
        ax_curve.plot(xs, [curve[x] for x in xs], "-o", ms=4, color=color, label=label)
        for s, acc in curve.items():
            if math.isclose(s, sigma, abs_tol=1e-9):
                names.append(label)
                values.append(acc)
                colors.append(color)
        for s, acc in (paper or {}).get(label, {}).items():
            ax_curve.plot([s], [acc], "x", ms=9, mew=2, color=color)
    ax_curve.axvline(sigma, color="0.4", lw=1, ls="--")
    ax_curve.set(xlabel="input noise σ", ylabel="test accuracy (%)", ylim=(0, 100))
    ax_curve.set_title("accuracy against noise" + ("  (×: the paper's figures)" if paper else ""), fontsize="medium")
    ax_curve.legend(fontsize="x-small", loc="lower left")
    ax_curve.grid(alpha=0.3)
    y = np.arange(len(names))
    ax_bar.barh(y, values, color=colors)
    ax_bar.set_yticks(y, [n if len(n) <= 28 else n[:27] + "…" for n in names], fontsize="x-small")
    ax_bar.invert_yaxis()
    for yi, v in zip(y, values):
        ax_bar.text(min(v, 100) + 1, yi, f"{v:.1f}%", va="center", fontsize="small")
    ax_bar.set(xlim=(0, 115), xlabel="test accuracy (%)")
    best = names[int(np.argmax(values))] if values else "—"
    ax_bar.set_title(f"σ = {sigma:g}; most accurate here:\n{best}", fontsize="small")
    return fig


def noise_explorer(curves: dict[str, dict[float, float]], *, sigma: float = 0.3,
                   paper: dict[str, dict[float, float]] | None = None) -> widgets.VBox:
    """A slider over the measured noise levels σ → every model's accuracy at that σ.

    ``curves``: model label → {σ: accuracy (%)}, e.g. `noise_curves_from_summary` of the committed
    reproduction, or accuracies measured in the notebook with `labkit.training.evaluate`.
    ``paper``: optional model label → {σ: the paper's accuracy (%)}, drawn as crosses.
    """
    levels = noise_sigmas(curves) or [sigma]
    start = min(levels, key=lambda s: abs(s - sigma))
    control = widgets.SelectionSlider(options=[(f"{s:g}", s) for s in levels], value=start,
                                      description="noise σ", continuous_update=False,
                                      style={"description_width": "initial"})
    return dashboard(noise_view, {"sigma": control}, {"curves": curves, "paper": paper},
                      initial={"sigma": sigma})
