"""Plots of images and their spike codes: single images, digit grids, the rate code's reconstruction error."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .core import as_numpy, new_axes

__all__ = ["plot_digit_grid", "plot_image", "plot_reconstruction_error"]


def plot_image(image, ax: Axes | None = None, *, title: str | None = None, cmap: str = "gray",
               vmin: float | None = 0.0, vmax: float | None = 1.0, colorbar: bool = False) -> Axes:
    """One grey-level image; a flat ``[784]`` vector is shown as 28 × 28."""
    ax = new_axes(ax, figsize=(2.5, 2.5))
    a = as_numpy(image).astype(float)
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
    x = as_numpy(images)
    n = x.shape[0]
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    if fig is None:
        fig = plt.figure(figsize=(size * ncols, size * nrows + (0.4 if suptitle else 0.2)), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    names = titles if titles is not None else (None if labels is None else [str(int(v)) for v in as_numpy(labels)])
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
    ax = new_axes(ax, figsize=(5, 3.5))
    t, e = as_numpy(num_steps).ravel(), as_numpy(errors).ravel()
    ax.loglog(t, e, "o-", ms=4, label=label)
    if reference is not None:
        ax.loglog(t, as_numpy(reference).ravel(), "k--", lw=1, label=reference_label)
    ax.set_xlabel("time steps T")
    ax.set_ylabel("RMS error per pixel")
    ax.legend()
    return ax
