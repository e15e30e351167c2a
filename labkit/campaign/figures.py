"""The plasticity study's figures: dose–response, accuracy against labels, adaptation to shifted inputs."""

from __future__ import annotations

import io
import os
from pathlib import Path

from ..foundation.io import write_bytes
from .plans import PLANS
from .results import load_results, mean_dose

__all__ = ["plot_all", "plot_dose", "plot_labels", "plot_shift"]

_COLOURS = {"sum": "C0", "adaptive": "C1", "rising": "C2", "random": "C3", "decay": "C7", "batch_sum": "C4",
            "adam": "C5", "sgd": "C6", "bp": "k", "pretrain": "C0", "interleave": "C1", "none": "k",
            "recentre": "C2", "stdp": "C0", "recentre+stdp": "C9"}


def _mean_sd(values: list[float]) -> tuple[float, float]:
    m = sum(values) / len(values)
    sd = (sum((v - m) ** 2 for v in values) / (len(values) - 1)) ** 0.5 if len(values) > 1 else 0.0
    return m, sd


def plot_dose(results: list[dict], ax) -> None:
    """Paired difference from BP (points, mean ± sd over seeds) against the measured dose ρ of layer 1."""
    bp = {r["point"]["seed"]: r["test_acc"] for r in results if r["point"]["variant"] == "bp"}
    groups: dict[str, list[tuple[float, float, float]]] = {}
    for variant in sorted({r["point"]["variant"] for r in results} - {"bp"}):
        for eta1 in sorted({r["point"]["eta1"] for r in results if r["point"]["variant"] == variant}):
            of = [r for r in results if r["point"]["variant"] == variant and r["point"]["eta1"] == eta1
                  and r["point"]["seed"] in bp]
            doses = [d for d in (mean_dose(r) for r in of) if d is not None]
            if not of or not doses:
                continue
            m, sd = _mean_sd([100 * (r["test_acc"] - bp[r["point"]["seed"]]) for r in of])
            groups.setdefault(variant, []).append((sum(doses) / len(doses), m, sd))
    low = -10.0  # the axis shows the range where STDP could help or hurt a little; collapses are marked below it
    off = []
    for variant, pts in groups.items():
        pts.sort()
        shown = [(x, max(m, low), sd if m >= low else 0.0) for x, m, sd in pts]
        off += [(x, m, variant) for x, m, _ in pts if m < low]
        ax.errorbar([p[0] for p in shown], [p[1] for p in shown], yerr=[p[2] for p in shown], marker="o", capsize=3,
                    color=_COLOURS.get(variant), label=variant, linestyle="-" if len(pts) > 1 else "none")
    for x, m, variant in off:
        ax.annotate(f"{variant}: {m:+.0f}", (x, low), xytext=(0, -4), textcoords="offset points", ha="center",
                    va="top", fontsize=7, color=_COLOURS.get(variant))
    ax.set_ylim(low - 2.5, 3.0)
    ax.axhline(0.0, color="k", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("measured dose ρ = ‖η1·c·ΔW_stdp‖ / ‖gradient step‖ (first layer, mean over epochs)")
    ax.set_ylabel("test accuracy − BP (points, same seed;\nmean ± sd; below −10: value written)")
    ax.legend(fontsize=8)


def plot_labels(results: list[dict], ax) -> None:
    """Test accuracy (mean ± sd over seeds) against the number of labelled digits (log axis)."""
    for variant in ("bp", "pretrain", "interleave", "random"):
        budgets = sorted({r["point"]["labels"] for r in results if r["point"]["variant"] == variant})
        stats = [_mean_sd([100 * r["test_acc"] for r in results
                           if r["point"]["variant"] == variant and r["point"]["labels"] == n]) for n in budgets]
        if budgets:
            ax.errorbar(budgets, [s[0] for s in stats], yerr=[s[1] for s in stats], marker="o", capsize=3,
                        color=_COLOURS.get(variant), label=variant)
    ax.set_xscale("log")
    ax.set_xlabel("labelled training digits")
    ax.set_ylabel("test accuracy (%)")
    ax.legend(fontsize=8)


def plot_shift(results: list[dict], axes) -> None:
    """One panel per shift: accuracy against unlabelled digits seen, for each way of adapting."""
    shifts = sorted({r["point"]["shift"] for r in results})
    for ax, shift in zip(axes, shifts):
        of = [r for r in results if r["point"]["shift"] == shift]
        budgets = [0, *of[0]["budgets"]]
        for method in ("none", "recentre", "stdp", "random", "recentre+stdp"):
            if not all(method == "none" or method in r for r in of):
                continue
            start = (lambda r: r["recentre"][-1]) if method == "recentre+stdp" else (lambda r: r["none"])
            curves = [[start(r), *([r["none"]] * len(r["budgets"]) if method == "none" else r[method])] for r in of]
            stats = [_mean_sd([100 * c[k] for c in curves]) for k in range(len(budgets))]
            ax.errorbar(budgets, [s[0] for s in stats], yerr=[s[1] for s in stats], marker="o", capsize=3,
                        color=_COLOURS.get(method), label=method)
        ax.set_title(f"{shift} (n = {len(of)} seeds)")
        ax.set_xlabel("unlabelled shifted digits seen")
    axes[0].set_ylabel("test accuracy on shifted digits (%)")
    axes[0].legend(fontsize=8)


def plot_all(out: str | os.PathLike) -> dict[str, Path]:
    """Draw every plan that has results into ``out/<plan>.png``; returns {plan: path}."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt


    made = {}
    for name, plan in PLANS.items():
        results = load_results(out, name)
        if not results or plan.regime == "nmnist":  # Table I's second column: a table, no figure here
            continue
        if plan.regime == "shift":
            n = len({r["point"]["shift"] for r in results})
            fig, axes = plt.subplots(1, n, figsize=(3.6 * n, 3.4), sharey=True, squeeze=False)
            plot_shift(results, axes[0])
        else:
            fig, ax = plt.subplots(figsize=(7, 4.2))
            (plot_dose if plan.regime == "dose" else plot_labels)(results, ax)
        fig.suptitle(f"{name}: {plan.notes}", fontsize=8)
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
        plt.close(fig)
        made[name] = write_bytes(Path(out) / f"{name}.png", buffer.getvalue())
    return made
