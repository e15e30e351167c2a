"""The rate-coding explorer: a digit's spike trains for a number of steps and an input gain."""

from __future__ import annotations

import time

import ipywidgets as widgets
from matplotlib.figure import Figure

from ..encoding import encode_rate
from ..foundation.errors import LabkitError
from ..foundation.memory import check_memory
from ..plotting import plot_image, plot_raster
from .core import dashboard

__all__ = ["RATE_EXPLORER_SLIDERS", "rate_coding_explorer", "rate_view"]


#: Slider ranges (min, max, step) of `rate_coding_explorer`.
RATE_EXPLORER_SLIDERS = {"num_steps": (1, 200, 1), "gain": (0.0, 2.0, 0.05)}


def rate_view(image, num_steps: int, gain: float, *, seed: int = 0) -> Figure:
    """Rate-code ``image`` over ``num_steps`` steps; show it, its spike raster and the reconstruction.

    Spikes: s_t ~ Bernoulli(min(1, g x)) (`labkit.encoding.encode_rate`). Reconstruction: the
    spike count divided by g T, the unbiased estimate of x wherever g x ≤ 1.
    """
    import torch


    if image is None or not hasattr(image, "__len__"):
        raise LabkitError(f"image must be one digit, [28, 28] (e.g. images[0]), got {type(image).__name__}")
    x = torch.as_tensor(image)
    if x.dim() != 2:
        raise LabkitError(f"image must be one digit of shape [H, W], e.g. [28, 28], got shape {tuple(x.shape)}"
                          + ("; pass images[0]" if x.dim() == 3 else ""))
    if isinstance(num_steps, int) and num_steps > 0:
        # uniform draws (4 B), spikes (4 B) and the raster's coordinates (16 B per spike at most) per pixel-step
        check_memory(24 * num_steps * x.numel(), f"{num_steps:,} time steps of {x.numel()} pixels",
                     "use fewer time steps T")
    g = torch.Generator().manual_seed(seed)
    spikes = encode_rate(x, num_steps, gain=gain, generator=g)
    counts = spikes.sum(0)
    recon = counts / (num_steps * gain) if gain > 0 else torch.zeros_like(x)
    rmse = (recon - x).pow(2).mean().sqrt().item()
    fig = Figure(figsize=(9, 3.2), layout="constrained")
    ax_x, ax_r, ax_y = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1, 2, 1]})
    plot_image(x, ax_x, title="image x")
    plot_raster(spikes, ax_r, ylabel="pixel", title=f"{int(counts.sum().item())} spikes")
    plot_image(recon, ax_y, title=f"count / (g T), RMSE {rmse:.3f}")
    fig.suptitle(f"rate code: T = {num_steps} steps, gain g = {gain:.2f}")
    return fig


def rate_coding_explorer(image, *, num_steps: int = 25, gain: float = 1.0, seed: int = 0) -> widgets.VBox:
    """Sliders for T and the gain → the image's spike raster and its reconstruction from spike counts."""
    style = {"description_width": "initial"}
    lo, hi, step = RATE_EXPLORER_SLIDERS["num_steps"]
    steps = widgets.IntSlider(value=num_steps, min=lo, max=hi, step=step, description="time steps T",
                              continuous_update=False, style=style)
    lo, hi, step = RATE_EXPLORER_SLIDERS["gain"]
    gain_slider = widgets.FloatSlider(value=gain, min=lo, max=hi, step=step, description="gain g",
                                      continuous_update=False, style=style, readout_format=".2f")
    return dashboard(rate_view, {"num_steps": steps, "gain": gain_slider}, {"image": image, "seed": seed},
                      initial={"num_steps": num_steps, "gain": gain})
