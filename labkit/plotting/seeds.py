"""Results over seeds (chapters 5 and 6): seed-averaged curves with their spread, as bands or error bars."""

from __future__ import annotations

from matplotlib.axes import Axes

from .core import as_numpy, new_axes

__all__ = ["plot_spread"]


def plot_spread(curves, ax: Axes | None = None, *, style: str = "band", connect: bool = True, xlabel: str = "epoch",
                ylabel: str = "test accuracy (%)", title: str | None = None, spread_label: str = "± 1 sd") -> Axes:
    """Seed-averaged curves with their spread, one colour per entry.

    Args:
        curves: label → ``(x, mean, spread)`` (equal-length sequences), or ``(x, mean, spread, n)``
            where n, the number of seeds, is added to the legend. The spread is drawn as
            mean ± spread: a shaded band (``style="band"``) or error bars (``style="bars"``).
        connect: join the points of a curve by a line (False for points that are not a curve).
        spread_label: what the spread is, for the legend (e.g. ``"± 1 sd"``, ``"95 % interval"``).
    """
    if style not in ("band", "bars"):
        raise ValueError(f"style must be 'band' or 'bars', got {style!r}")
    ax = new_axes(ax)
    for k, (label, entry) in enumerate(curves.items()):
        if len(entry) not in (3, 4):
            raise ValueError(f"curves[{label!r}] must be (x, mean, spread) or (x, mean, spread, n), got {len(entry)} "
                             "items")
        x, mean, spread = (as_numpy(v).astype(float) for v in entry[:3])
        if not (x.shape == mean.shape == spread.shape):
            raise ValueError(f"curves[{label!r}]: x, mean and spread must have the same length, got "
                             f"{x.shape}, {mean.shape}, {spread.shape}")
        name = f"{label} (n = {entry[3]})" if len(entry) == 4 else label
        color = f"C{k % 10}"
        fmt = "-o" if connect else "o"
        if style == "band":
            ax.plot(x, mean, fmt, color=color, ms=3, lw=1.6, label=name)
            ax.fill_between(x, mean - spread, mean + spread, color=color, alpha=0.2, lw=0)
        else:
            ax.errorbar(x, mean, yerr=spread, fmt=fmt, color=color, ms=4, lw=1.4, capsize=3, label=name)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    if title:
        ax.set_title(title)
    if curves:
        ax.legend(fontsize="small", title=f"mean {spread_label}", title_fontsize="small")
    ax.grid(alpha=0.3)
    return ax
