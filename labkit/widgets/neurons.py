"""The LIF neuron explorer (β, θ, input current and noise against the membrane and the spikes) and the ALIF
explorer (how far and how long each spike raises the threshold, against the spike train)."""

from __future__ import annotations

import math

import ipywidgets as widgets
from matplotlib.figure import Figure

from ..foundation.memory import check_memory
from ..neurons import ALIF, LIFParams, lif_sequence
from ..plotting import plot_neuron_response
from .core import dashboard

__all__ = ["ALIF_EXPLORER_SLIDERS", "LIF_EXPLORER_SLIDERS", "alif_explorer", "alif_view", "lif_explorer", "lif_view"]


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


#: Slider ranges (min, max, step) of `alif_explorer`.
ALIF_EXPLORER_SLIDERS = {
    "beta_a": (0.0, 2.0, 0.05),
    "rho": (0.0, 0.99, 0.01),
    "current": (0.0, 1.0, 0.01),
}


def alif_view(beta_a: float, rho: float, current: float, *, beta: float = 0.9, threshold: float = 1.0,
              num_steps: int = 100) -> Figure:
    """One ALIF neuron (`labkit.neurons.ALIF`, reset by subtraction) driven by a constant current: its membrane
    and adaptive threshold θ_t = θ0 + β_a a_t above, its spikes against those of the LIF neuron (β_a = 0) below."""
    import torch

    alif = ALIF(beta=beta, threshold=threshold, beta_a=beta_a, rho=rho)
    if not (isinstance(num_steps, int) and 1 <= num_steps <= 100_000):
        raise ValueError(f"num_steps must be an integer from 1 to 100,000, got {num_steps!r}")
    drive = torch.full((num_steps, 1), float(current), dtype=torch.float64)
    spikes, membrane = alif.sequence(drive)
    lif_spikes, _ = ALIF(beta=beta, threshold=threshold, beta_a=0.0, rho=rho).sequence(drive)
    theta = alif.thresholds(spikes)
    t = range(num_steps)
    fig = Figure(figsize=(7.5, 4.5), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    top.plot(t, membrane[:, 0], color="C0", label="membrane $u_t$")
    top.plot(t, theta[:, 0], color="C3", label=r"threshold $\theta_t = \theta_0 + \beta_a a_t$")
    top.axhline(threshold, color="C3", linestyle=":", linewidth=1, label=r"$\theta_0$")
    top.set_ylabel("potential")
    top.legend(loc="upper left", fontsize=8)
    n_alif, n_lif = int(spikes.sum().item()), int(lif_spikes.sum().item())
    top.set_title(f"β_a = {beta_a:.2f}, ρ = {rho:.2f}, I = {current:.2f}: {n_alif} spikes (LIF without adaptation: {n_lif})")
    for row, (name, train) in enumerate((("ALIF", spikes), ("LIF", lif_spikes))):
        times = torch.nonzero(train[:, 0]).flatten().tolist()
        bottom.vlines(times, row + 0.1, row + 0.9, color="C0" if row == 0 else "0.5")
    bottom.set_yticks([0.5, 1.5], ["ALIF", "LIF"])
    bottom.set_xlabel("time step")
    return fig


def alif_explorer(*, beta_a: float = 0.5, rho: float = 0.95, current: float = 0.3, num_steps: int = 100) -> widgets.VBox:
    """Sliders for the threshold raise β_a, its decay ρ and the input current → membrane, threshold and spikes."""
    style = {"description_width": "initial"}

    def slider(name: str, value: float, description: str) -> widgets.FloatSlider:
        lo, hi, step = ALIF_EXPLORER_SLIDERS[name]
        return widgets.FloatSlider(value=value, min=lo, max=hi, step=step, description=description,
                                   continuous_update=False, style=style, readout_format=".2f")

    controls = {"beta_a": slider("beta_a", beta_a, "threshold raise β_a"),
                "rho": slider("rho", rho, "adaptation decay ρ"),
                "current": slider("current", current, "input current I")}
    initial = {"beta_a": beta_a, "rho": rho, "current": current}
    return dashboard(alif_view, controls, {"num_steps": num_steps}, initial=initial)
