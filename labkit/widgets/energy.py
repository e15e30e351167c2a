"""The energy explorer: energy per inference from operation counts and per-operation energies."""

from __future__ import annotations


import ipywidgets as widgets
from matplotlib.figure import Figure

from ..energy import energy_from_counts
from ..plotting import plot_energy_breakdown
from .core import dashboard

__all__ = ["ENERGY_EXPLORER_PLATFORMS", "ENERGY_EXPLORER_SLIDERS", "energy_bars", "energy_explorer", "energy_view"]


#: Slider ranges (min, max, step) of `energy_explorer`; the tests draw the view at both ends of each.
ENERGY_EXPLORER_SLIDERS = {
    "num_steps": (1, 100, 1),
    "e_mac_pj": (0.1, 50.0, 0.1),
    "e_ac_pj": (0.01, 10.0, 0.01),
    "e_neuron_pj": (0.0, 100.0, 0.1),
    "e_sop_pj": (1.0, 150.0, 0.1),
}


#: The platforms `energy_explorer` compares (`labkit.energy.PLATFORMS`).
ENERGY_EXPLORER_PLATFORMS = ("digital45", "gpu_dense", "loihi")


def energy_bars(counts, num_steps: int, e_mac_pj: float, e_ac_pj: float, e_neuron_pj: float,
                e_sop_pj: float) -> dict[str, dict[str, float]]:
    """Energy per inference (µJ, by cause) of each model on each platform, at T = ``num_steps``.

    The pure computation behind `energy_explorer`. ``counts`` maps model names to
    `labkit.energy.OpCounts` measured at some T; SNN counts are rescaled to ``num_steps``
    (`OpCounts.scaled_to`: per-step rates kept). ``e_mac_pj`` and ``e_neuron_pj`` price the
    digital 45 nm and dense (GPU-style) platforms, ``e_ac_pj`` the digital one's accumulates,
    ``e_sop_pj`` Loihi's synaptic op (Loihi's other constants stay at Davies et al., 2018).
    Returns ``{"model · platform": {cause: µJ}}``; an ANN is not priced on Loihi.
    """
    if not counts:
        raise ValueError("counts is empty: pass {name: OpCounts} for at least one model (see labkit.energy.count_ops)")
    constants = {
        "digital45": {"e_mac_pj": e_mac_pj, "e_ac_pj": e_ac_pj, "e_neuron_pj": e_neuron_pj},
        "gpu_dense": {"e_mac_pj": e_mac_pj, "e_neuron_pj": e_neuron_pj},
        "loihi": {"e_sop_pj": e_sop_pj},
    }
    bars: dict[str, dict[str, float]] = {}
    for name, c in counts.items():
        scaled = c.scaled_to(num_steps)
        for platform in ENERGY_EXPLORER_PLATFORMS:
            if scaled.kind == "ann" and platform == "loihi":
                continue
            est = energy_from_counts(scaled, platform, constants[platform])
            bars[f"{name} · {platform}"] = {cause: j * 1e6 for cause, j in est.breakdown}
    return bars


def energy_view(counts, num_steps: int, e_mac_pj: float, e_ac_pj: float, e_neuron_pj: float,
                 e_sop_pj: float) -> Figure:
    """Bars of `energy_bars` (totals on a log axis and the share of each cause)."""
    bars = energy_bars(counts, num_steps, e_mac_pj, e_ac_pj, e_neuron_pj, e_sop_pj)
    totals = {label: sum(parts.values()) for label, parts in bars.items()}
    ann = next((n for n, c in counts.items() if c.kind == "ann"), None)
    snn = next((n for n, c in counts.items() if c.kind == "snn"), None)
    title = f"T = {num_steps} steps"
    if ann and snn:
        ratios = []
        for platform, word in (("gpu_dense", "dense"), ("digital45", "event-driven")):
            a, s = totals[f"{ann} · {platform}"], totals[f"{snn} · {platform}"]
            ratios.append(f"{word}: {s / a:.3g}×" if a > 0 else f"{word}: —")
        title += f"; {snn} ÷ {ann} energy, " + ", ".join(ratios)
    fig = Figure(figsize=(9.5, 0.42 * len(bars) + 1.6), layout="constrained")
    return plot_energy_breakdown(bars, fig=fig, title=title)


def energy_explorer(counts, *, num_steps: int = 25, e_mac_pj: float = 4.6, e_ac_pj: float = 0.9,
                    e_neuron_pj: float = 9.2, e_sop_pj: float = 23.6) -> widgets.VBox:
    """Sliders for T and the per-operation energies → energy per inference of each model and platform.

    ``counts``: ``{name: OpCounts}`` from `labkit.energy.count_ops` (an ANN and one or more SNNs).
    Defaults: Horowitz (ISSCC 2014) at 45 nm for MAC, AC and neuron update; Loihi's 23.6 pJ per
    synaptic op (Davies et al., IEEE Micro 2018).
    """
    style = {"description_width": "initial"}

    def slider(name: str, value: float, description: str, fmt: str) -> widgets.FloatSlider:
        lo, hi, step = ENERGY_EXPLORER_SLIDERS[name]
        return widgets.FloatSlider(value=value, min=lo, max=hi, step=step, description=description,
                                   continuous_update=False, style=style, readout_format=fmt)

    lo, hi, step = ENERGY_EXPLORER_SLIDERS["num_steps"]
    controls = {
        "num_steps": widgets.IntSlider(value=num_steps, min=lo, max=hi, step=step, description="time steps T",
                                       continuous_update=False, style=style),
        "e_mac_pj": slider("e_mac_pj", e_mac_pj, "MAC (pJ)", ".1f"),
        "e_ac_pj": slider("e_ac_pj", e_ac_pj, "AC (pJ)", ".2f"),
        "e_neuron_pj": slider("e_neuron_pj", e_neuron_pj, "neuron update (pJ)", ".1f"),
        "e_sop_pj": slider("e_sop_pj", e_sop_pj, "Loihi synaptic op (pJ)", ".1f"),
    }
    initial = {"num_steps": num_steps, "e_mac_pj": e_mac_pj, "e_ac_pj": e_ac_pj, "e_neuron_pj": e_neuron_pj,
               "e_sop_pj": e_sop_pj}
    return dashboard(energy_view, controls, {"counts": counts}, initial=initial)
