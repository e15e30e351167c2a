"""Plot helpers for the chapters: traces, rasters, curves and image grids.

Every function takes the data it draws as arguments (tensors or arrays, time first) and an
optional ``ax`` or ``fig`` to draw into, and returns the Axes or Figure; none reads or sets
global state. Pass a ``matplotlib.figure.Figure`` to draw without pyplot (as the widgets do).

One module per concept: `~labkit.plotting.neurons`, `~labkit.plotting.coding`,
`~labkit.plotting.stdp`, `~labkit.plotting.training`, `~labkit.plotting.astdp`, `~labkit.plotting.seeds`,
`~labkit.plotting.energy`, `~labkit.plotting.loihi`, `~labkit.plotting.events`; the helpers
they share are in `~labkit.plotting.core`.
"""

from __future__ import annotations

from .neurons import plot_fi_curve, plot_membrane, plot_neuron_response, plot_raster
from .coding import plot_digit_grid, plot_image, plot_reconstruction_error
from .stdp import plot_confusion_matrix, plot_receptive_fields, plot_spike_traces, plot_stdp_window
from .training import plot_history
from .astdp import plot_coefficients, plot_run_curves
from .seeds import plot_spread
from .energy import ENERGY_COLORS, plot_energy_breakdown, plot_energy_vs_steps, plot_layer_activity
from .loihi import plot_agreement, plot_quantization_error, plot_spike_differences, plot_weight_change_comparison
from .events import plot_event_frames, plot_events_3d, plot_pixel_events, plot_saccade_path

__all__ = [
    "plot_fi_curve",
    "plot_membrane",
    "plot_neuron_response",
    "plot_raster",
    "plot_digit_grid",
    "plot_image",
    "plot_reconstruction_error",
    "plot_confusion_matrix",
    "plot_receptive_fields",
    "plot_spike_traces",
    "plot_stdp_window",
    "plot_history",
    "plot_coefficients",
    "plot_run_curves",
    "plot_spread",
    "ENERGY_COLORS",
    "plot_energy_breakdown",
    "plot_energy_vs_steps",
    "plot_layer_activity",
    "plot_agreement",
    "plot_quantization_error",
    "plot_weight_change_comparison",
    "plot_event_frames",
    "plot_events_3d",
    "plot_pixel_events",
    "plot_saccade_path",
    "plot_spike_differences",
]
