"""The event-camera explorer: contrast threshold, time bins and noise against a digit's event frames."""

from __future__ import annotations

import time

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from ..data import SaccadeParams, simulate_saccades
from ..plotting import plot_event_frames
from .core import dashboard

__all__ = ["EVENT_CAMERA_SLIDERS", "event_camera_explorer", "event_camera_view"]


#: (min, max, step) of the event-camera explorer's sliders.
EVENT_CAMERA_SLIDERS = {
    "contrast_threshold": (0.1, 1.5, 0.05),
    "num_bins": (1, 30, 1),
    "noise_rate_hz": (0.0, 50.0, 1.0),
}


def event_camera_view(image, contrast_threshold: float, num_bins: int, noise_rate_hz: float, *,
                       seed: int = 0) -> Figure:
    """Simulate ``image`` through three saccades with threshold C and noise; show T event frames.

    Events: `labkit.data.simulate_saccades`; frames: event counts per equal time bin (ON red,
    OFF blue). The title counts what binning keeps as spikes (one per pixel, polarity and bin).
    """
    if not (isinstance(num_bins, (int, np.integer)) and num_bins >= 1):
        raise ValueError(f"num_bins must be an integer >= 1, got {num_bins!r}")
    params = SaccadeParams(contrast_threshold=contrast_threshold, noise_rate_hz=noise_rate_hz)
    image = np.asarray(image.detach().cpu() if hasattr(image, "detach") else image)
    (events,) = simulate_saccades(image[None], rng=np.random.default_rng(seed), params=params)
    side = 34
    frames = np.zeros((num_bins, 2, side, side))
    bins = events["t"] * num_bins // params.duration_us
    np.add.at(frames, (bins, events["p"].astype(int), events["y"], events["x"]), 1)
    spikes = int((frames > 0).sum())
    fig = Figure(figsize=(1.25 * min(num_bins, 10), 1.25 * -(-num_bins // 10) + 0.9), layout="constrained")
    plot_event_frames(frames, bin_us=params.duration_us / num_bins, fig=fig,
                      suptitle=f"C = {contrast_threshold:.2f}: {len(events)} events → {spikes} spikes "
                               f"in {num_bins} bins ({100 * spikes / max(len(events), 1):.0f}% kept)")
    return fig


def event_camera_explorer(image, *, contrast_threshold: float = 0.5, num_bins: int = 10,
                          noise_rate_hz: float = 0.0, seed: int = 0) -> widgets.VBox:
    """Sliders for the contrast threshold C, the number of time bins T and background noise →
    the simulated events of ``image`` (one digit, ``[28, 28]``) as T frames."""
    style = {"description_width": "initial"}

    def slider(cls, name: str, value, description: str, **kw):
        lo, hi, step = EVENT_CAMERA_SLIDERS[name]
        return cls(value=value, min=lo, max=hi, step=step, description=description, continuous_update=False,
                   style=style, **kw)

    controls = {
        "contrast_threshold": slider(widgets.FloatSlider, "contrast_threshold", contrast_threshold,
                                     "contrast threshold C", readout_format=".2f"),
        "num_bins": slider(widgets.IntSlider, "num_bins", num_bins, "time bins T"),
        "noise_rate_hz": slider(widgets.FloatSlider, "noise_rate_hz", noise_rate_hz, "noise (Hz per pixel)",
                                readout_format=".0f"),
    }
    initial = {"contrast_threshold": contrast_threshold, "num_bins": num_bins, "noise_rate_hz": noise_rate_hz}
    return dashboard(event_camera_view, controls, {"image": image, "seed": seed}, initial=initial)
