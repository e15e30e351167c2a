"""The event-camera explorer: contrast threshold, time bins and noise against a digit's event frames."""

from __future__ import annotations

import dataclasses
import time

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from ..data import NMNIST_SENSOR_SIZE, SaccadeParams, simulate_saccades
from ..data.frames import event_counts
from ..foundation.errors import LabkitError
from ..foundation.memory import check_memory
from ..plotting import plot_event_frames
from .core import dashboard

__all__ = ["EVENT_CAMERA_SLIDERS", "event_camera_explorer", "event_camera_view"]


#: Most frames one figure shows.
MAX_FRAMES = 100
#: Peak bytes per simulated event: the simulator's temporaries (measured with tracemalloc: 67 B at
#: C = 0.05 … 0.003) plus the binning into frames here (16 B), rounded up.
_BYTES_PER_EVENT = 96
#: Above this threshold a digit makes at most ~10⁴ events: no estimate needed.
_PROBE_THRESHOLD = 0.25


def _one_digit(image) -> np.ndarray:
    """``image`` as a 2-D array of grey levels, or a message saying what to pass."""
    if image is None:
        raise LabkitError("image must be one digit, [28, 28] (e.g. images[0]), got None")
    array = np.asarray(image.detach().cpu() if hasattr(image, "detach") else image)
    if array.ndim != 2:
        raise LabkitError(f"image must be one digit of shape [H, W], e.g. [28, 28], got shape {array.shape}"
                          + ("; pass images[0]" if array.ndim == 3 else ""))
    return array


def _check_event_memory(image: np.ndarray, params: SaccadeParams, num_bins: int) -> None:
    """Estimate the events of ``image`` before simulating them, and refuse beyond the memory budget.

    Events scale as 1/C (each pixel emits one per crossing of a level C apart), so a simulation
    at C₀ = 0.25 counts N₀ and N(C) ≈ 1.25 · N₀ · C₀ / C (the 1.25 covers the pixels whose
    contrast stays below C₀; measured ratios 1.11 at C = 0.05 and 1.14 at C = 0.01). Noise adds
    its Poisson mean: rate · duration · pixels.
    """
    sensor = NMNIST_SENSOR_SIZE[0]
    noise = params.noise_rate_hz * params.duration_us * 1e-6 * sensor * sensor
    signal = 0.0
    if params.contrast_threshold < _PROBE_THRESHOLD:
        probe = dataclasses.replace(params, contrast_threshold=_PROBE_THRESHOLD, noise_rate_hz=0.0)
        (events,) = simulate_saccades(image[None], rng=np.random.default_rng(0), params=probe)
        signal = 1.25 * len(events) * _PROBE_THRESHOLD / params.contrast_threshold
    frames = num_bins * 2 * sensor * sensor * 8
    check_memory((signal + noise) * _BYTES_PER_EVENT + frames,
                 f"about {signal + noise:.3g} events (C = {params.contrast_threshold:g}, noise "
                 f"{params.noise_rate_hz:g} Hz per pixel)",
                 "raise the contrast threshold C or lower the noise rate")


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
    if not (isinstance(num_bins, (int, np.integer)) and 1 <= num_bins <= MAX_FRAMES):
        raise ValueError(f"num_bins must be an integer in [1, {MAX_FRAMES}] (frames in one figure), got {num_bins!r}")
    params = SaccadeParams(contrast_threshold=contrast_threshold, noise_rate_hz=noise_rate_hz)
    image = _one_digit(image)
    _check_event_memory(image, params, num_bins)
    (events,) = simulate_saccades(image[None], rng=np.random.default_rng(seed), params=params)
    frames = event_counts(events, num_bins, params.duration_us)
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
