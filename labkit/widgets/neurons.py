"""The LIF neuron explorer: β, θ, input current and noise against the membrane and the spikes."""

from __future__ import annotations

import math

import ipywidgets as widgets
from matplotlib.figure import Figure

from ..foundation.memory import check_memory
from ..neurons import LIFParams, lif_sequence
from ..plotting import plot_neuron_response
from .core import dashboard

__all__ = ["LIF_EXPLORER_SLIDERS", "lif_explorer", "lif_view"]


#: Slider ranges (min, max, step) of `lif_explorer`; the tests draw the view at both ends of each.
LIF_EXPLORER_SLIDERS = {
    "beta": (0.0, 1.0, 0.01),
    "threshold": (0.1, 3.0, 0.05),
    "current": (-0.5, 2.0, 0.01),
    "noise": (0.0, 1.0, 0.01),
}


def _tau_text(beta: float) -> str:
    """τ in steps from β = exp(−Δt/τ), i.e. τ = −Δt / ln β (Δt = 1 step)."""
    import math

    if beta >= 1.0:
        return "τ = ∞ (no leak)"
    if beta <= 0.0:
        return "τ = 0 (no memory)"
    return f"τ = {-1.0 / math.log(beta):.3g} steps"


def lif_view(beta: float, threshold: float, current: float, noise: float, reset: str = "subtract", *,
              num_steps: int = 100, onset: int = 10, seed: int = 0) -> Figure:
    """One LIF neuron driven by a current step (from ``onset``) plus Gaussian noise; returns the figure.

    I_t = current · [t ≥ onset] + noise · ξ_t,  ξ_t ~ N(0, 1) from a generator seeded with ``seed``
    (the same noise for every slider setting, so only the changed parameter changes the picture).
    Then u_t = β u_{t−1} + I_t with the chosen reset (`labkit.neurons.lif_sequence`).
    """
    import torch


    params = LIFParams(beta=beta, threshold=threshold, reset=reset)
    if not noise >= 0:
        raise ValueError(f"noise is the standard deviation of the input current and must be >= 0, got {noise!r}")
    if not (isinstance(num_steps, int) and isinstance(onset, int) and 0 <= onset < num_steps):
        raise ValueError(f"need integers 0 <= onset < num_steps, got onset={onset!r}, num_steps={num_steps!r}")
    # drive, noise, membrane and spikes in float64, and the figure's copies of them: about 64 B a step
    check_memory(64 * num_steps, f"{num_steps:,} time steps", "use fewer time steps (num_steps)")
    g = torch.Generator().manual_seed(seed)
    drive = torch.zeros(num_steps, dtype=torch.float64)
    drive[onset:] = current
    drive += noise * torch.randn(num_steps, generator=g, dtype=torch.float64)
    spikes, membrane = lif_sequence(drive.view(-1, 1), params)
    rate = spikes[onset:].mean().item()
    fig = Figure(figsize=(7.5, 5), layout="constrained")
    title = (f"β = {beta:.2f} ({_tau_text(beta)}), θ = {threshold:.2f}, reset: {reset}\n"
             f"{int(spikes.sum().item())} spikes; rate {rate:.2f} spikes per step after the onset")
    return plot_neuron_response(drive, membrane, spikes, threshold, fig=fig, title=title)


def lif_explorer(*, beta: float = 0.9, threshold: float = 1.0, current: float = 0.3, noise: float = 0.0,
                 reset: str = "subtract", num_steps: int = 100, seed: int = 0) -> widgets.VBox:
    """Sliders for β, θ, the input current and its noise, and the reset mode → membrane trace and spikes."""
    style = {"description_width": "initial"}

    def slider(name: str, value: float, description: str) -> widgets.FloatSlider:
        lo, hi, step = LIF_EXPLORER_SLIDERS[name]
        return widgets.FloatSlider(value=value, min=lo, max=hi, step=step, description=description,
                                   continuous_update=False, style=style, readout_format=".2f")

    controls = {
        "beta": slider("beta", beta, "decay β"),
        "threshold": slider("threshold", threshold, "threshold θ"),
        "current": slider("current", current, "input current I"),
        "noise": slider("noise", noise, "noise σ"),
        "reset": widgets.ToggleButtons(options=["subtract", "zero"],
                                       value=reset if reset in ("subtract", "zero") else "subtract",
                                       description="reset", style=style),
    }
    initial = {"beta": beta, "threshold": threshold, "current": current, "noise": noise, "reset": reset}
    return dashboard(lif_view, controls, {"num_steps": num_steps, "seed": seed}, initial=initial)
