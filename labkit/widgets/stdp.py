"""The STDP window explorer: amplitudes and time constants against the learning window."""

from __future__ import annotations

import time

import ipywidgets as widgets
from matplotlib.figure import Figure

from ..stdp import STDPParams, stdp_update, stdp_window
from ..plotting import plot_stdp_window
from .core import dashboard

__all__ = ["STDP_WINDOW_SLIDERS", "stdp_window_explorer", "stdp_window_view"]


#: Slider ranges (min, max, step) of `stdp_window_explorer`; the tests draw the view at both ends of each.
STDP_WINDOW_SLIDERS = {
    "A_plus": (0.0, 0.02, 0.0005),
    "A_minus": (0.0, 0.02, 0.0005),
    "tau_plus": (1.0, 50.0, 0.5),
    "tau_minus": (1.0, 50.0, 0.5),
}


def stdp_window_view(A_plus: float, A_minus: float, tau_plus: float, tau_minus: float, *, span: int = 60,
                      protocol_every: int = 4) -> Figure:
    """The pair-based STDP window for the given amplitudes and time constants; returns the figure.

    Curve: W(Δt) = A+ e^{−Δt/τ+} for Δt ≥ 0, −A− e^{Δt/τ−} for Δt < 0 (`labkit.stdp.stdp_window`).
    Dots: a simulated pair protocol, one pre and one post spike per trial every ``protocol_every``
    steps of Δt, measured with `labkit.stdp.stdp_update`. The title gives the window's
    area A+τ+ − A−τ−: its sign says whether uncorrelated firing strengthens (> 0) or weakens
    (< 0) a synapse on average (Song, Miller and Abbott, Nat. Neurosci. 3, 2000).
    """
    import torch


    params = STDPParams(A_plus=A_plus, A_minus=A_minus, tau_plus=tau_plus, tau_minus=tau_minus)
    if not (isinstance(span, int) and span >= 1 and isinstance(protocol_every, int) and protocol_every >= 1):
        raise ValueError(f"span and protocol_every must be integers >= 1, got {span!r}, {protocol_every!r}")
    curve_dt = torch.linspace(-span, span, 8 * span + 1)
    # Pair protocol: trial k has its pre spike at step `span` and its post spike at span + Δt_k.
    trial_dt = torch.arange(-span, span + 1, protocol_every)
    pre = torch.zeros(2 * span + 1, 1, 1)
    pre[span] = 1.0
    post = torch.zeros(2 * span + 1, 1, len(trial_dt))
    post[span + trial_dt, 0, torch.arange(len(trial_dt))] = 1.0
    measured = stdp_update(pre, post, params)[:, 0]
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.subplots()
    plot_stdp_window(curve_dt, stdp_window(curve_dt, params), ax, measured_dt=trial_dt, measured=measured)
    area = A_plus * tau_plus - A_minus * tau_minus
    verdict = "potentiation wins" if area > 0 else "depression wins" if area < 0 else "balanced"
    limit = max(A_plus, A_minus, 1e-4) * 1.15
    ax.set_ylim(-limit, limit)
    ax.set_title(f"A+ = {A_plus:.4f}, τ+ = {tau_plus:.1f};  A− = {A_minus:.4f}, τ− = {tau_minus:.1f}\n"
                 f"area A+τ+ − A−τ− = {area:+.4f}: for uncorrelated spikes {verdict}", fontsize="medium")
    return fig


def stdp_window_explorer(*, A_plus: float = 0.01, A_minus: float = 0.0105, tau_plus: float = 20.0,
                         tau_minus: float = 20.0) -> widgets.VBox:
    """Sliders for A+, A−, τ+ and τ− → the STDP window and a simulated pair protocol on top of it."""
    style = {"description_width": "initial"}

    def slider(name: str, value: float, description: str, fmt: str) -> widgets.FloatSlider:
        lo, hi, step = STDP_WINDOW_SLIDERS[name]
        return widgets.FloatSlider(value=value, min=lo, max=hi, step=step, description=description,
                                   continuous_update=False, style=style, readout_format=fmt)

    controls = {
        "A_plus": slider("A_plus", A_plus, "A+ (potentiation)", ".4f"),
        "A_minus": slider("A_minus", A_minus, "A− (depression)", ".4f"),
        "tau_plus": slider("tau_plus", tau_plus, "τ+ (steps)", ".1f"),
        "tau_minus": slider("tau_minus", tau_minus, "τ− (steps)", ".1f"),
    }
    initial = {"A_plus": A_plus, "A_minus": A_minus, "tau_plus": tau_plus, "tau_minus": tau_minus}
    return dashboard(stdp_window_view, controls, initial=initial, columns=2)
