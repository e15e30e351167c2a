"""Interactive dashboards for the chapters (ipywidgets).

Each dashboard is a pure *view* function (slider values in, ``matplotlib.figure.Figure`` out,
no pyplot and no global state) plus a thin ipywidgets wrapper that redraws the view into an
``Output`` when a control changes. A setting the model rejects shows its message in that
output instead of a traceback. Tests call the view functions directly, at every slider's ends.

One module per concept: `~labkit.widgets.neurons`, `~labkit.widgets.coding`,
`~labkit.widgets.stdp`, `~labkit.widgets.surrogate`, `~labkit.widgets.training`,
`~labkit.widgets.astdp` (with its figure, `~labkit.widgets.astdp_view`), `~labkit.widgets.noise`, `~labkit.widgets.energy`,
`~labkit.widgets.events`, `~labkit.widgets.loihi`; what they share is in `~labkit.widgets.core`.
"""

from __future__ import annotations

from .core import render_view
from .neurons import LIF_EXPLORER_SLIDERS, lif_explorer, lif_view
from .coding import RATE_EXPLORER_SLIDERS, rate_coding_explorer, rate_view
from .stdp import STDP_WINDOW_SLIDERS, stdp_window_explorer, stdp_window_view
from .surrogate import SURROGATE_EXPLORER_SLIDERS, surrogate_explorer, surrogate_view
from .training import TrainingMonitor
from .astdp import (
    EXAMPLE_RUNS,
    HYBRID_A_RANGE,
    HYBRID_EPOCH_SLIDER,
    HYBRID_ETA1_RANGE,
    HYBRID_ETA2_RANGE,
    HYBRID_KAPPA_SLIDER,
    HYBRID_NOISE_SLIDER,
    HYBRID_RULES,
    HYBRID_SEEDS_SLIDER,
    HybridDashboard,
    hybrid_config_error,
    hybrid_dashboard,
    load_example_runs,
)
from .astdp_view import hybrid_view
from .noise import noise_curves_from_summary, noise_explorer, noise_sigmas, noise_view
from .energy import ENERGY_EXPLORER_PLATFORMS, ENERGY_EXPLORER_SLIDERS, energy_bars, energy_explorer, energy_view
from .events import EVENT_CAMERA_SLIDERS, event_camera_explorer, event_camera_view
from .loihi import QUANTIZATION_BITS, QuantizationSweep, quantization_explorer, quantization_sweep, quantization_view

__all__ = [
    "render_view",
    "LIF_EXPLORER_SLIDERS",
    "lif_explorer",
    "lif_view",
    "RATE_EXPLORER_SLIDERS",
    "rate_coding_explorer",
    "rate_view",
    "STDP_WINDOW_SLIDERS",
    "stdp_window_explorer",
    "stdp_window_view",
    "SURROGATE_EXPLORER_SLIDERS",
    "surrogate_explorer",
    "surrogate_view",
    "TrainingMonitor",
    "EXAMPLE_RUNS",
    "HYBRID_A_RANGE",
    "HYBRID_EPOCH_SLIDER",
    "HYBRID_ETA1_RANGE",
    "HYBRID_ETA2_RANGE",
    "HYBRID_KAPPA_SLIDER",
    "HYBRID_NOISE_SLIDER",
    "HYBRID_RULES",
    "HYBRID_SEEDS_SLIDER",
    "HybridDashboard",
    "hybrid_config_error",
    "hybrid_dashboard",
    "hybrid_view",
    "load_example_runs",
    "noise_curves_from_summary",
    "noise_explorer",
    "noise_sigmas",
    "noise_view",
    "ENERGY_EXPLORER_PLATFORMS",
    "ENERGY_EXPLORER_SLIDERS",
    "energy_bars",
    "energy_explorer",
    "energy_view",
    "EVENT_CAMERA_SLIDERS",
    "event_camera_explorer",
    "event_camera_view",
    "QUANTIZATION_BITS",
    "QuantizationSweep",
    "quantization_explorer",
    "quantization_sweep",
    "quantization_view",
]
