"""Interactive dashboards for the chapters (ipywidgets).

Each dashboard is a pure *view* function (slider values in, ``matplotlib.figure.Figure`` out,
no pyplot and no global state) plus a thin ipywidgets wrapper that redraws the view into an
``Output`` when a control changes. A setting the model rejects shows its message in that
output instead of a traceback. Tests call the view functions directly, at every slider's ends.
"""

from __future__ import annotations

import base64
import html
import io
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure


def _figure_bundle(fig: Figure) -> dict:
    """A Jupyter ``display_data`` output holding the figure as PNG (works with or without a kernel)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    return {
        "output_type": "display_data",
        "data": {"image/png": base64.b64encode(buf.getvalue()).decode("ascii"), "text/plain": "<Figure>"},
        "metadata": {},
    }


def render_view(out: widgets.Output, view: Callable[..., Figure], /, **values) -> bool:
    """Draw ``view(**values)`` into ``out``; on a bad value show the error message instead.

    Returns True when a figure was drawn. Only `ValueError` and `TypeError` (the errors the
    lab raises for invalid parameters) are turned into messages; anything else is a bug and raises.
    """
    try:
        fig = view(**values)
    except (ValueError, TypeError) as exc:
        out.outputs = ({"output_type": "stream", "name": "stdout", "text": f"Cannot draw this setting: {exc}\n"},)
        return False
    out.outputs = (_figure_bundle(fig),)
    return True


def _dashboard(view: Callable[..., Figure], controls: dict[str, widgets.Widget], fixed: dict | None = None,
               *, initial: dict | None = None, columns: int = 3) -> widgets.VBox:
    """Controls above an Output; any change redraws ``view(**control values, **fixed)``.

    The first drawing uses ``initial`` (the values the caller asked for) where given: a slider
    silently clamps a value outside its range, and the caller should see the message instead.
    """
    out = widgets.Output(layout=widgets.Layout(min_height="300px"))
    fixed = dict(fixed or {})

    def redraw(_change=None, overrides: dict | None = None) -> None:
        values = {name: c.value for name, c in controls.items()} | (overrides or {})
        render_view(out, view, **values, **fixed)

    for control in controls.values():
        control.observe(redraw, names="value")
    items = list(controls.values())
    rows = [widgets.HBox(items[k : k + columns]) for k in range(0, len(items), columns)]
    box = widgets.VBox([*rows, out])
    redraw(overrides=initial)
    return box


# ----------------------------------------------------------------------------- neurons and coding
# (chapters 1 and 2: lif_explorer, rate_coding_explorer)

#: Slider ranges (min, max, step) of `lif_explorer`; the tests draw the view at both ends of each.
LIF_EXPLORER_SLIDERS = {
    "beta": (0.0, 1.0, 0.01),
    "threshold": (0.1, 3.0, 0.05),
    "current": (-0.5, 2.0, 0.01),
    "noise": (0.0, 1.0, 0.01),
}
#: Slider ranges (min, max, step) of `rate_coding_explorer`.
RATE_EXPLORER_SLIDERS = {"num_steps": (1, 200, 1), "gain": (0.0, 2.0, 0.05)}


def _tau_text(beta: float) -> str:
    """τ in steps from β = exp(−Δt/τ), i.e. τ = −Δt / ln β (Δt = 1 step)."""
    import math

    if beta >= 1.0:
        return "τ = ∞ (no leak)"
    if beta <= 0.0:
        return "τ = 0 (no memory)"
    return f"τ = {-1.0 / math.log(beta):.3g} steps"


def _lif_view(beta: float, threshold: float, current: float, noise: float, reset: str = "subtract", *,
              num_steps: int = 100, onset: int = 10, seed: int = 0) -> Figure:
    """One LIF neuron driven by a current step (from ``onset``) plus Gaussian noise; returns the figure.

    I_t = current · [t ≥ onset] + noise · ξ_t,  ξ_t ~ N(0, 1) from a generator seeded with ``seed``
    (the same noise for every slider setting, so only the changed parameter changes the picture).
    Then u_t = β u_{t−1} + I_t with the chosen reset (`labkit.neurons.lif_sequence`).
    """
    import torch

    from .neurons import LIFParams, lif_sequence
    from .plotting import plot_neuron_response

    params = LIFParams(beta=beta, threshold=threshold, reset=reset)
    if not noise >= 0:
        raise ValueError(f"noise is the standard deviation of the input current and must be >= 0, got {noise!r}")
    if not (isinstance(num_steps, int) and isinstance(onset, int) and 0 <= onset < num_steps):
        raise ValueError(f"need integers 0 <= onset < num_steps, got onset={onset!r}, num_steps={num_steps!r}")
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
    return _dashboard(_lif_view, controls, {"num_steps": num_steps, "seed": seed}, initial=initial)


def _rate_view(image, num_steps: int, gain: float, *, seed: int = 0) -> Figure:
    """Rate-code ``image`` over ``num_steps`` steps; show it, its spike raster and the reconstruction.

    Spikes: s_t ~ Bernoulli(min(1, g x)) (`labkit.encoding.encode_rate`). Reconstruction: the
    spike count divided by g T, the unbiased estimate of x wherever g x ≤ 1.
    """
    import torch

    from .encoding import encode_rate
    from .plotting import plot_image, plot_raster

    x = torch.as_tensor(image)
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
    return _dashboard(_rate_view, {"num_steps": steps, "gain": gain_slider}, {"image": image, "seed": seed},
                      initial={"num_steps": num_steps, "gain": gain})


# ----------------------------------------------------------------------------- surrogate gradients
# (chapter 4: surrogate_explorer, TrainingMonitor)

#: Slider range (min, max, step) of `surrogate_explorer`; the tests draw the view at both ends.
SURROGATE_EXPLORER_SLIDERS = {"alpha": (0.5, 20.0, 0.5)}


def _surrogate_view(alpha: float, *, x_max: float = 2.0, num_points: int = 801) -> Figure:
    r"""The arctangent surrogate at sharpness α: the exact step forward, the smooth curve backward.

    Left: the forward pass, :math:`S = H(x)` with :math:`x = u - θ`, and the smooth function the
    backward pass differentiates instead, :math:`\tfrac12 + \tfrac1\pi \arctan(\tfrac\pi2 α x)`.
    Right: :math:`\partial S/\partial x` as autograd returns it through `labkit.neurons.spike`,
    :math:`(α/2) / (1 + (\tfrac\pi2 α x)^2)`: peak α/2, full width at half maximum 4/(πα), area 1;
    the true derivative is 0 everywhere except an infinitely tall, infinitely thin spike at x = 0.
    The dot marks a neuron at rest, u = 0 (x = −θ = −1): the gradient it still receives.
    """
    import math

    import numpy as np
    import torch

    from .neurons import ATan, spike

    surrogate = ATan(alpha)  # validates α > 0
    if not (x_max > 1 and isinstance(num_points, int) and num_points >= 3):
        raise ValueError(f"need x_max > 1 and an integer num_points >= 3, got {x_max!r}, {num_points!r}")
    x = torch.linspace(-x_max, x_max, num_points, dtype=torch.float64, requires_grad=True)
    s = spike(x, surrogate)
    (grad,) = torch.autograd.grad(s.sum(), x)
    xs = x.detach().numpy()
    smooth = 0.5 + np.arctan(math.pi / 2 * alpha * xs) / math.pi
    at_rest = surrogate.derivative(torch.tensor(-1.0)).item()

    fig = Figure(figsize=(9.5, 3.4), layout="constrained")
    ax_f, ax_b = fig.subplots(1, 2)
    ax_f.plot(xs, s.detach().numpy(), color="k", lw=2, label="forward: step H(x)")
    ax_f.plot(xs, smooth, "--", color="C1", lw=1.5, label="backward pretends: ½ + arctan(π/2·αx)/π")
    ax_f.set_xlabel("x = u − θ")
    ax_f.set_ylabel("spike S")
    ax_f.set_title("forward pass")
    ax_f.legend(fontsize="small", loc="lower right")
    ax_b.plot(xs, grad.numpy(), color="C1", lw=2, label="surrogate ∂S/∂x (autograd)")
    ax_b.annotate("", xy=(0, 0.98), xycoords=("data", "axes fraction"), xytext=(0, 0),
                  arrowprops={"arrowstyle": "->", "color": "k", "lw": 1.2})
    ax_b.plot([-x_max, x_max], [0, 0], color="k", lw=1.2, label="true derivative: 0, and δ(x) at 0")
    ax_b.plot([-1.0], [at_rest], "o", color="C3", label=f"neuron at rest (u = 0): {at_rest:.3g}")
    ax_b.set_ylim(0, max(1.0, alpha / 2) * 1.12)
    ax_b.set_xlabel("x = u − θ")
    ax_b.set_ylabel("∂S/∂x")
    width = 4 / (math.pi * alpha)  # full width at half maximum: (π/2·α·x)² = 1 at x = ±2/(πα)
    ax_b.set_title(f"backward: peak α/2 = {alpha / 2:.3g}, half-peak width 4/(πα) = {width:.3g}", fontsize="medium")
    ax_b.legend(fontsize="small", loc="upper left")
    for ax in (ax_f, ax_b):
        ax.grid(alpha=0.3)
    fig.suptitle(f"arctangent surrogate, α = {alpha:g}")
    return fig


def surrogate_explorer(*, alpha: float = 2.0) -> widgets.VBox:
    """A slider for the arctangent's sharpness α → the forward step and the backward surrogate curve."""
    lo, hi, step = SURROGATE_EXPLORER_SLIDERS["alpha"]
    slider = widgets.FloatSlider(value=alpha, min=lo, max=hi, step=step, description="sharpness α",
                                 continuous_update=False, style={"description_width": "initial"},
                                 readout_format=".1f")
    return _dashboard(_surrogate_view, {"alpha": slider}, initial={"alpha": alpha})


class TrainingMonitor:
    """A `labkit.training.train` callback that redraws loss and accuracy curves while the run trains.

    Pass it as ``callback=``: it records every batch's loss, and every ``every`` batches and at
    each epoch's end it redraws `labkit.plotting.plot_history` into one display slot of the
    notebook (updated in place, so a committed notebook keeps the final picture). ``reference``
    (label → History) is drawn beside the live run, e.g. a finished baseline. It never stops a run.
    """

    def __init__(self, label: str = "SNN", *, max_epochs: int | None = None, every: int = 10,
                 reference: dict | None = None, show: bool = True):
        if not (isinstance(every, int) and every >= 1):
            raise ValueError(f"every must be an integer >= 1 (redraw every that many batches), got {every!r}")
        self.label, self.max_epochs, self.every = label, max_epochs, every
        self.reference = dict(reference or {})
        self.show = show
        self.batch_loss: list[tuple[float, float]] = []
        self.history = None
        self.redraws = 0
        self._handle = None

    def __call__(self, event: dict) -> None:
        if event["kind"] == "batch":
            self.batch_loss.append((event["epoch"] + (event["batch"] + 1) / event["batches"], event["loss"]))
            if len(self.batch_loss) % self.every:
                return None
        else:
            self.history = event["history"]
        self._redraw()
        return None

    def figure(self) -> Figure:
        """The current picture: the live run's curves (and per-batch losses) beside the references."""
        from .plotting import plot_history
        from .training import History

        runs = {self.label: self.history if self.history is not None else History(), **self.reference}
        fig = Figure(figsize=(9.5, 3.4), layout="constrained")
        epochs = len(self.history.loss) if self.history is not None else 0
        title = f"{self.label}: {len(self.batch_loss)} batches, {epochs} epoch{'s' if epochs != 1 else ''} done"
        return plot_history(runs, batch_loss=self.batch_loss, max_epochs=self.max_epochs, fig=fig, title=title)

    def _redraw(self) -> None:
        self.redraws += 1
        if not self.show:
            return
        from IPython.display import Image, display

        buf = io.BytesIO()
        self.figure().savefig(buf, format="png", dpi=80)
        image = Image(data=buf.getvalue(), format="png")
        if self._handle is None:
            self._handle = display(image, display_id=True)
        else:
            self._handle.update(image)


# ----------------------------------------------------------------------------- energy
# (chapter 7: energy_explorer)

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
    from .energy import energy_from_counts

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


def _energy_view(counts, num_steps: int, e_mac_pj: float, e_ac_pj: float, e_neuron_pj: float,
                 e_sop_pj: float) -> Figure:
    """Bars of `energy_bars` (totals on a log axis and the share of each cause)."""
    from .plotting import plot_energy_breakdown

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
    return _dashboard(_energy_view, controls, {"counts": counts}, initial=initial)


# ----------------------------------------------------------------------------- A-STDP (chapter 5)
# (hybrid_dashboard: train bp / stdp / sum / adaptive live and compare runs)

#: η1 choices of `hybrid_dashboard`: 0 (STDP off) and a log scale from 1e-4 to 1e-1.
HYBRID_ETA1_CHOICES = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)
#: η2 choices: 0 (gradient off) and a log scale from 1e-5 to 1e-2.
HYBRID_ETA2_CHOICES = (0.0, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2)
#: (min, max, step) of the test-noise σ slider and of the epochs slider.
HYBRID_NOISE_SLIDER = (0.0, 1.0, 0.05)
HYBRID_EPOCH_SLIDER = (1, 10, 1)


#: The rules of `hybrid_dashboard`, with the tooltip that explains each.
HYBRID_RULES = {
    "bp": "surrogate-gradient backprop with Adam (η1 = 0)",
    "stdp": "STDP alone on the same network (η2 = 0)",
    "sum": "the paper's literal rule: η1·STDP + Adam step, c ≡ 1",
    "adaptive": "A-STDP: η1·diag(c)·STDP + Adam step, c adapted from the gradient",
}


def _rate_label(value: float) -> str:
    """0 → "0", 3e-4 → "3e-4" (a short log-scale label)."""
    if value == 0:
        return "0"
    mantissa, exponent = f"{value:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def hybrid_config_error(rule: str, eta1: float, eta2: float) -> str | None:
    """Why (rule, η1, η2) cannot train, in words, or None when it can.

    ``bp`` learns only through η2 and ``stdp`` only through η1; ``sum`` and ``adaptive`` need
    at least one of the two. Anything else `labkit.rules.make_rule` rejects is reported too.
    """
    from .rules import make_rule

    if rule == "bp" and eta2 == 0:
        return "the rule bp learns only through the gradient, and η2 = 0: nothing would learn. Raise η2."
    if rule == "stdp" and eta1 == 0:
        return "the rule stdp learns only through STDP, and η1 = 0: nothing would learn. Raise η1."
    if eta1 == 0 and eta2 == 0:
        return f"η1 = η2 = 0 with the rule {rule}: nothing would learn. Raise η1 or η2."
    try:
        make_rule(rule, **_rule_rates(rule, eta1, eta2))
    except ValueError as exc:
        return str(exc)
    return None


def _rule_rates(rule: str, eta1: float, eta2: float) -> dict:
    """The rates a rule takes: bp ignores η1, stdp ignores η2 (their sliders are greyed out)."""
    return {"bp": {"eta2": eta2}, "stdp": {"eta1": eta1}}.get(rule, {"eta1": eta1, "eta2": eta2})


@dataclass
class HybridRun:
    """One run of the dashboard: its settings, test-accuracy curve and mean plasticity coefficients."""

    rule: str
    eta1: float
    eta2: float
    epochs: int
    digits: list[int] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    coefficient: list[list[float]] = field(default_factory=list)  # per point: mean c of each STDP layer
    clean: float | None = None
    noisy: float | None = None
    noise_sigma: float = 0.0
    stopped: bool = False
    error: str | None = None

    @property
    def label(self) -> str:
        rates = {"bp": f"η2={_rate_label(self.eta2)}", "stdp": f"η1={_rate_label(self.eta1)}"}.get(
            self.rule, f"η1={_rate_label(self.eta1)}, η2={_rate_label(self.eta2)}")
        return f"{self.rule} ({rates})"


def _hybrid_view(runs, *, max_digits: int | None = None) -> Figure:
    """Test accuracy against training digits seen (left) and mean plasticity coefficient c (right).

    ``runs`` are `HybridRun` records, oldest first; the last is drawn in colour. Pure: no state.
    """
    from .plotting import plot_run_curves

    fig = Figure(figsize=(9, 3.3), layout="constrained")
    ax_acc, ax_c = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    shown = [r for r in runs if r.digits][-8:]
    plot_run_curves([(r.label, r.digits, r.accuracy) for r in shown], ax_acc, scale=100, ylim=(0, 100),
                    title="test accuracy during training")
    if max_digits:
        ax_acc.set_xlim(0, max_digits)
    with_c = [r for r in shown if r.coefficient]
    for k, r in enumerate(with_c):
        current = r is shown[-1]
        c = np.asarray(r.coefficient, dtype=float)
        for layer in range(c.shape[1]):
            ax_c.plot(r.digits[: len(c)], c[:, layer], "-" if layer == 0 else "--",
                      color=f"C{layer}" if current else "0.7", lw=1.8 if current else 0.9,
                      label=(f"layer {layer + 1}" if current else None))
    ax_c.set_ylim(-0.03, 1.05)
    ax_c.set_xlabel("training digits seen")
    ax_c.set_ylabel("mean plasticity coefficient c")
    ax_c.set_title("A-STDP: c per layer (sum: c ≡ 1)")
    if max_digits:
        ax_c.set_xlim(0, max_digits)
    if ax_c.lines and shown[-1].coefficient:
        ax_c.legend(fontsize="x-small", loc="lower left")
    elif shown and not shown[-1].coefficient:
        ax_c.text(0.5, 0.5, f"{shown[-1].rule}: no STDP, no c", transform=ax_c.transAxes, ha="center", color="0.4")
    ax_c.grid(alpha=0.3)
    return fig


class HybridDashboard:
    """Train a small spiking network with bp, stdp, sum or adaptive (A-STDP) from sliders.

    The controls are attributes: ``rule``, ``eta1``, ``eta2``, ``noise`` (test-time σ),
    ``epochs``, ``train_button``, ``stop_button``; the outcome shows in ``result`` (an HTML
    widget: the final clean and noisy test accuracy, or a message saying what went wrong),
    ``status``, ``progress`` and ``plot``. Training runs in a background thread, so the notebook
    stays responsive; `run` starts one (``wait=True`` blocks until it ends, for tests and
    scripts), `stop` ends it after the current batch. Every finished run stays in ``runs``
    and is drawn, in grey, under the next one. Display the dashboard by ending a cell with it.
    """

    def __init__(self, data, *, hidden: int, batch_size: int, seed: int, device, rule: str, eta1: float,
                 eta2: float, noise: float, epochs: int, evals_per_epoch: int = 4):
        self.data, self.hidden, self.batch_size, self.seed = data, hidden, batch_size, seed
        self.device, self.evals_per_epoch = device, evals_per_epoch
        self.runs: list[HybridRun] = []
        self.current: HybridRun | None = None
        self.model = None
        self.history = None
        self.rule_object = None
        self.error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._draw_lock = threading.Lock()
        self._drawn_at = -math.inf
        self.redraw_interval = 1.0  # seconds between live redraws during a run (a redraw takes ~0.1 s)

        style = {"description_width": "initial"}
        layout = widgets.Layout(width="340px")
        self.rule = widgets.ToggleButtons(options=list(HYBRID_RULES), value=rule, description="rule",
                                          style=style, tooltips=[HYBRID_RULES[r] for r in HYBRID_RULES])
        self.eta1 = widgets.SelectionSlider(options=[(_rate_label(v), v) for v in HYBRID_ETA1_CHOICES], value=eta1,
                                            description="η1 (STDP)", continuous_update=False, style=style,
                                            layout=layout)
        self.eta2 = widgets.SelectionSlider(options=[(_rate_label(v), v) for v in HYBRID_ETA2_CHOICES], value=eta2,
                                            description="η2 (Adam)", continuous_update=False, style=style,
                                            layout=layout)
        lo, hi, step = HYBRID_NOISE_SLIDER
        self.noise = widgets.FloatSlider(value=noise, min=lo, max=hi, step=step, description="test noise σ",
                                         continuous_update=False, readout_format=".2f", style=style, layout=layout)
        lo, hi, step = HYBRID_EPOCH_SLIDER
        self.epochs = widgets.IntSlider(value=epochs, min=lo, max=hi, step=step, description="epochs",
                                        continuous_update=False, style=style, layout=layout)
        self.train_button = widgets.Button(description="Train", button_style="primary", icon="play",
                                           tooltip="train a fresh network with these settings")
        self.stop_button = widgets.Button(description="Stop", button_style="warning", icon="stop", disabled=True,
                                          tooltip="stop the run after the current batch")
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="", layout=widgets.Layout(width="200px"))
        self.status = widgets.Label(value="")
        self.result = widgets.HTML(value=self._hint())
        self.plot = widgets.Output(layout=widgets.Layout(min_height="280px"))
        for w, css in ((self.rule, "labkit-rule"), (self.eta1, "labkit-eta1"), (self.eta2, "labkit-eta2"),
                       (self.noise, "labkit-noise"), (self.epochs, "labkit-epochs"),
                       (self.train_button, "labkit-train"), (self.stop_button, "labkit-stop"),
                       (self.result, "labkit-result"), (self.status, "labkit-status")):
            w.add_class(css)
        self.train_button.on_click(lambda _button: self.run(wait=False))
        self.stop_button.on_click(lambda _button: self.stop())
        self.rule.observe(self._on_rule, names="value")
        self.noise.observe(self._on_noise, names="value")
        self._on_rule()
        self._redraw()
        self.widget = widgets.VBox([
            self.rule,
            widgets.HBox([self.eta1, self.eta2]),
            widgets.HBox([self.noise, self.epochs]),
            widgets.HBox([self.train_button, self.stop_button, self.progress, self.status]),
            self.result,
            self.plot,
        ])

    # -- display ---------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def _hint(self) -> str:
        n_train, n_test = len(self.data.train_x), len(self.data.test_x)
        return (f"Choose a rule and rates, then press <b>Train</b>: a {self.data.train_x[0].numel()}-{self.hidden}-10 "
                f"spiking network learns from {n_train:,} digits and is tested on {n_test:,} others.")

    def _show(self, html: str) -> None:
        self.result.value = html

    def _redraw(self) -> None:
        runs = self.runs + ([self.current] if self.current is not None and self.current not in self.runs else [])
        max_digits = max((r.epochs for r in runs), default=1) * len(self.data.train_x)
        with self._draw_lock:
            self.plot.outputs = (_figure_bundle(_hybrid_view(runs, max_digits=max_digits)),)
            self._drawn_at = time.monotonic()

    # -- controls --------------------------------------------------------------------------
    def _on_rule(self, _change=None) -> None:
        self.eta1.disabled = self.rule.value == "bp"
        self.eta2.disabled = self.rule.value == "stdp"

    def _on_noise(self, _change=None) -> None:
        """A new σ after a run: re-test the trained network (no retraining)."""
        run = self.runs[-1] if self.runs else None
        if self.running or self.model is None or run is None or run.clean is None:
            return
        run.noisy, run.noise_sigma = self._test(self.noise.value), self.noise.value
        self._show(self._result_html(run))

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def settings(self) -> dict:
        """The current control values: rule, eta1, eta2, noise, epochs."""
        return {"rule": self.rule.value, "eta1": self.eta1.value, "eta2": self.eta2.value,
                "noise": self.noise.value, "epochs": self.epochs.value}

    # -- running ---------------------------------------------------------------------------
    def run(self, wait: bool = False, timeout: float | None = None):
        """Train a fresh network with the current settings (what the Train button does).

        Returns immediately, or with ``wait=True`` once the run ended, returning its
        `labkit.training.History` (None when the settings were refused or the run failed:
        ``result`` then says why). While a run is going on, a second call does nothing.
        """
        if self.running:
            return self.wait(timeout) if wait else None
        s = self.settings()
        problem = hybrid_config_error(s["rule"], s["eta1"], s["eta2"])
        if problem is not None:
            self._show(f"<span style='color:#b00'><b>Cannot train:</b> {html.escape(problem)}</span>")
            return None
        from .models import SpikingMLP
        from .rules import make_rule

        self.rule_object = make_rule(s["rule"], **_rule_rates(s["rule"], s["eta1"], s["eta2"]))
        self.model = SpikingMLP((self.data.train_x[0].numel(), self.hidden, 10), seed=self.seed)
        self.current = HybridRun(s["rule"], s["eta1"], s["eta2"], s["epochs"])
        self.history, self.error = None, None
        self._stop.clear()
        self.train_button.disabled, self.stop_button.disabled = True, False
        batches = -(-len(self.data.train_x) // self.batch_size)
        self.progress.max, self.progress.value = batches * s["epochs"], 0
        self.status.value = "starting…"
        self._show(f"Training <b>{html.escape(self.current.label)}</b> for {s['epochs']} epoch(s)… "
                   "the result appears here when the run ends.")
        self._thread = threading.Thread(target=self._work, args=(self.current, s), daemon=True,
                                        name="labkit-hybrid-dashboard")
        self._thread.start()
        return self.wait(timeout) if wait else None

    def stop(self) -> None:
        """Ask the running training to stop after its current batch (what the Stop button does)."""
        if self.running:
            self._stop.set()
            self.status.value = "stopping…"

    def wait(self, timeout: float | None = None):
        """Block until the current run ends (or ``timeout`` seconds pass); returns its History or None."""
        if self._thread is not None:
            self._thread.join(timeout)
        return None if self.running else self.history

    def _test(self, sigma: float) -> float:
        from .training import evaluate

        return evaluate(self.model, self.data.test_x, self.data.test_y, noise_sigma=sigma, seed=self.seed,
                        device=self.device)

    def _record(self, run: HybridRun, digits: int, accuracy: float) -> None:
        run.digits.append(digits)
        run.accuracy.append(accuracy)
        rule = self.rule_object
        if rule is not None and rule.uses_stdp:  # before train() binds the rule, c is still c_init
            run.coefficient.append([c.mean().item() for c in rule.coefficients]
                                   or [rule.params.c_init] * len(self.model.layers))
        if time.monotonic() - self._drawn_at >= self.redraw_interval:
            self._redraw()

    def _work(self, run: HybridRun, s: dict) -> None:
        """The background thread: train, record test accuracy a few times per epoch, report."""
        from .training import TrainingDiverged, train

        n = len(self.data.train_x)
        marks: set[int] = set()
        seen = [0]  # training digits seen so far

        def callback(info: dict):
            if info["kind"] == "batch":
                b, batches = info["batch"], info["batches"]
                if not marks:
                    k = max(1, min(self.evals_per_epoch, batches))
                    marks.update(round((j + 1) * batches / k) - 1 for j in range(k - 1))
                self.progress.value = info["epoch"] * batches + b + 1
                seen[0] = info["epoch"] * n + min((b + 1) * self.batch_size, n)
                self.status.value = f"epoch {info['epoch'] + 1}/{s['epochs']}, batch {b + 1}/{batches}"
                if b in marks and not self._stop.is_set():
                    self._record(run, seen[0], self._test(0.0))
            else:  # end of an epoch: train() has just tested the network
                self._record(run, (info["epoch"] + 1) * n, info["history"].test_acc[-1])
            return not self._stop.is_set()

        try:
            self._record(run, 0, self._test(0.0))
            self.history = train(self.model, self.rule_object, self.data, s["epochs"], batch_size=self.batch_size,
                                 seed=self.seed, device=self.device, progress=False, eval_train=False,
                                 callback=callback)
            run.stopped = self.history.stopped_early
            run.clean, run.noise_sigma = self._test(0.0), self.noise.value
            run.noisy = self._test(run.noise_sigma)
            if run.stopped:  # end the curve where the run stopped
                self._record(run, seen[0], run.clean)
            self._show(self._result_html(run))
        except TrainingDiverged as exc:
            self.error, run.error = exc, str(exc)
            self._show(f"<span style='color:#b00'><b>The run diverged.</b> {html.escape(str(exc))}</span>")
        except Exception as exc:  # a failed run shows a message in the dashboard, never a traceback
            self.error, run.error = exc, f"{type(exc).__name__}: {exc}"
            self._show(f"<span style='color:#b00'><b>The run failed</b> ({html.escape(run.error)}).</span>")
        finally:
            self.runs.append(run)
            self.current = None
            self.train_button.disabled, self.stop_button.disabled = False, True
            self.status.value = "stopped" if run.stopped else ("failed" if run.error else "done")
            try:
                self._redraw()
            except Exception as exc:  # drawing must not hide the result above
                self.status.value = f"(plot failed: {type(exc).__name__})"

    def _result_html(self, run: HybridRun) -> str:
        head = (f"Stopped early: test accuracy so far of <b>{html.escape(run.label)}</b>"
                if run.stopped else
                f"Test accuracy of <b>{html.escape(run.label)}</b> after {run.epochs} epoch(s)")
        note = ""
        if run.rule == "adaptive" and run.eta2 == 0:
            note = " (with η2 = 0 there is no gradient, so c never adapts: this is the stdp rule)"
        return (f"{head} on {len(self.data.test_x):,} test digits: clean <b>{100 * run.clean:.1f} %</b>, "
                f"with input noise σ = {run.noise_sigma:.2f}: <b>{100 * run.noisy:.1f} %</b>{note}")


def hybrid_dashboard(data=None, *, hidden: int | None = None, train_size: int | None = None,
                     test_size: int | None = None, rule: str = "adaptive", eta1: float = 0.01, eta2: float = 1e-3,
                     noise: float = 0.3, epochs: int | None = None, batch_size: int = 128, seed: int = 0,
                     device: str = "auto") -> HybridDashboard:
    """A dashboard that trains a spiking network with the chosen rule, live (chapter 5).

    Args:
        data: a `labkit.training.Data` of images; default the bundled MNIST subset, of which
            ``train_size`` / ``test_size`` digits are used (2,000 / 500; 600 / 200 in fast mode).
        hidden: hidden LIF neurons (default 200; 50 in fast mode; the paper uses 500).
        rule, eta1, eta2, noise, epochs: the controls' initial values (η1 and η2 must be among
            ``HYBRID_ETA1_CHOICES`` and ``HYBRID_ETA2_CHOICES``).
        batch_size, seed, device: passed to `labkit.training.train`.

    Returns:
        a `HybridDashboard`; end a cell with it to display it.
    """
    from .data import fast_mode, mnist_data

    fast = fast_mode()
    hidden = hidden if hidden is not None else (50 if fast else 200)
    epochs = epochs if epochs is not None else (1 if fast else 2)
    train_size = train_size if train_size is not None else (None if data is not None else (600 if fast else 2000))
    test_size = test_size if test_size is not None else (None if data is not None else (200 if fast else 500))
    if rule not in HYBRID_RULES:
        raise ValueError(f"rule must be one of {', '.join(HYBRID_RULES)}, got {rule!r}")
    if eta1 not in HYBRID_ETA1_CHOICES:
        raise ValueError(f"eta1 (η1) must be one of {HYBRID_ETA1_CHOICES}, got {eta1!r}")
    if eta2 not in HYBRID_ETA2_CHOICES:
        raise ValueError(f"eta2 (η2) must be one of {HYBRID_ETA2_CHOICES}, got {eta2!r}")
    lo, hi, _ = HYBRID_NOISE_SLIDER
    if not lo <= noise <= hi:
        raise ValueError(f"noise (test-time σ) must be in [{lo}, {hi}], got {noise!r}")
    lo, hi, _ = HYBRID_EPOCH_SLIDER
    if not (isinstance(epochs, int) and lo <= epochs <= hi):
        raise ValueError(f"epochs must be an integer in [{lo}, {hi}], got {epochs!r}")
    for name, value in (("hidden", hidden), ("batch_size", batch_size), ("train_size", train_size),
                        ("test_size", test_size)):
        if value is not None and not (isinstance(value, int) and value >= 1):
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    if data is None:
        data = mnist_data("bundled", train_limit=train_size, test_limit=test_size)
    else:
        if getattr(data, "temporal", False):
            raise ValueError("hybrid_dashboard trains on images ([N, ...] in [0, 1]), not temporal (event) data")
        data = data._replace(train_x=data.train_x[:train_size], train_y=data.train_y[:train_size],
                             test_x=data.test_x[:test_size], test_y=data.test_y[:test_size])
    if len(data.train_x) == 0 or len(data.test_x) == 0:
        raise ValueError("data needs at least one training and one test image")
    return HybridDashboard(data, hidden=hidden, batch_size=batch_size, seed=seed, device=device, rule=rule,
                           eta1=eta1, eta2=eta2, noise=noise, epochs=epochs)


# ----------------------------------------------------------------------------- STDP
# (chapter 3: stdp_window_explorer)

#: Slider ranges (min, max, step) of `stdp_window_explorer`; the tests draw the view at both ends of each.
STDP_WINDOW_SLIDERS = {
    "A_plus": (0.0, 0.02, 0.0005),
    "A_minus": (0.0, 0.02, 0.0005),
    "tau_plus": (1.0, 50.0, 0.5),
    "tau_minus": (1.0, 50.0, 0.5),
}


def _stdp_window_view(A_plus: float, A_minus: float, tau_plus: float, tau_minus: float, *, span: int = 60,
                      protocol_every: int = 4) -> Figure:
    """The pair-based STDP window for the given amplitudes and time constants; returns the figure.

    Curve: W(Δt) = A+ e^{−Δt/τ+} for Δt ≥ 0, −A− e^{Δt/τ−} for Δt < 0 (`labkit.plasticity.stdp_window`).
    Dots: a simulated pair protocol, one pre and one post spike per trial every ``protocol_every``
    steps of Δt, measured with `labkit.plasticity.stdp_update`. The title gives the window's
    area A+τ+ − A−τ−: its sign says whether uncorrelated firing strengthens (> 0) or weakens
    (< 0) a synapse on average (Song, Miller and Abbott, Nat. Neurosci. 3, 2000).
    """
    import torch

    from .plasticity import STDPParams, stdp_update, stdp_window
    from .plotting import plot_stdp_window

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
    return _dashboard(_stdp_window_view, controls, initial=initial, columns=2)


# ----------------------------------------------------------------------------- event data (chapter 9)

#: (min, max, step) of the event-camera explorer's sliders.
EVENT_CAMERA_SLIDERS = {
    "contrast_threshold": (0.1, 1.5, 0.05),
    "num_bins": (1, 30, 1),
    "noise_rate_hz": (0.0, 50.0, 1.0),
}


def _event_camera_view(image, contrast_threshold: float, num_bins: int, noise_rate_hz: float, *,
                       seed: int = 0) -> Figure:
    """Simulate ``image`` through three saccades with threshold C and noise; show T event frames.

    Events: `labkit.data.simulate_saccades`; frames: event counts per equal time bin (ON red,
    OFF blue). The title counts what binning keeps as spikes (one per pixel, polarity and bin).
    """
    from .data import SaccadeParams, simulate_saccades
    from .plotting import plot_event_frames

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
    return _dashboard(_event_camera_view, controls, {"image": image, "seed": seed}, initial=initial)


# ----------------------------------------------------------------------------- noise_explorer (chapter 6, ablations)


def noise_curves_from_summary(summary: dict) -> dict[str, dict[float, float]]:
    """Model label → {σ: mean test accuracy (%)} from a reproduction summary (`labkit.experiments.summarize`).

    Runs without a noise sweep are left out; σ keys are turned from the JSON strings into floats.
    """
    curves = {}
    for rule, entry in summary.get("rules", {}).items():
        sweep = entry.get("noise_acc")
        if sweep:
            curves[entry.get("label", rule)] = {float(s): stats["mean"] for s, stats in sweep.items()
                                                if stats.get("mean") is not None}
    return {label: curve for label, curve in curves.items() if curve}


def noise_sigmas(curves: dict[str, dict[float, float]]) -> list[float]:
    """The sorted noise levels σ at which at least one model was measured (the explorer's slider stops)."""
    return sorted({float(s) for curve in curves.values() for s in curve})


def _noise_view(curves: dict[str, dict[float, float]], sigma: float, *,
                paper: dict[str, dict[float, float]] | None = None) -> Figure:
    """Accuracy against input noise σ for every model, and each model's accuracy at the chosen σ.

    Left: the curves (accuracy in %, Gaussian noise ``x + σ·N(0, 1)`` clipped to [0, 1] before rate
    coding, as `labkit.training.evaluate`), with the paper's figures as crosses where given.
    Right: one bar per model at ``sigma`` (a model not measured there gets no bar). Raises
    ValueError when there is nothing to draw or ``sigma`` is not a measured level.
    """
    if not curves:
        raise ValueError("no noise sweep to show: run `make reproduce` (or pass measured curves)")
    levels = noise_sigmas(curves)
    if not any(math.isclose(sigma, s, abs_tol=1e-9) for s in levels):
        raise ValueError(f"sigma must be one of the measured noise levels {levels}, got {sigma!r}")
    fig = Figure(figsize=(10, 3.8), layout="constrained")
    ax_curve, ax_bar = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.2, 1]})
    names, values, colors = [], [], []
    for k, (label, curve) in enumerate(curves.items()):
        color = f"C{k % 10}"
        xs = sorted(curve)
        ax_curve.plot(xs, [curve[x] for x in xs], "-o", ms=4, color=color, label=label)
        for s, acc in curve.items():
            if math.isclose(s, sigma, abs_tol=1e-9):
                names.append(label)
                values.append(acc)
                colors.append(color)
        for s, acc in (paper or {}).get(label, {}).items():
            ax_curve.plot([s], [acc], "x", ms=9, mew=2, color=color)
    ax_curve.axvline(sigma, color="0.4", lw=1, ls="--")
    ax_curve.set(xlabel="input noise σ", ylabel="test accuracy (%)", ylim=(0, 100))
    ax_curve.set_title("accuracy against noise" + ("  (×: the paper's figures)" if paper else ""), fontsize="medium")
    ax_curve.legend(fontsize="x-small", loc="lower left")
    ax_curve.grid(alpha=0.3)
    y = np.arange(len(names))
    ax_bar.barh(y, values, color=colors)
    ax_bar.set_yticks(y, [n if len(n) <= 28 else n[:27] + "…" for n in names], fontsize="x-small")
    ax_bar.invert_yaxis()
    for yi, v in zip(y, values):
        ax_bar.text(min(v, 100) + 1, yi, f"{v:.1f}%", va="center", fontsize="small")
    ax_bar.set(xlim=(0, 115), xlabel="test accuracy (%)")
    best = names[int(np.argmax(values))] if values else "—"
    ax_bar.set_title(f"σ = {sigma:g}; most accurate here:\n{best}", fontsize="small")
    return fig


def noise_explorer(curves: dict[str, dict[float, float]], *, sigma: float = 0.3,
                   paper: dict[str, dict[float, float]] | None = None) -> widgets.VBox:
    """A slider over the measured noise levels σ → every model's accuracy at that σ.

    ``curves``: model label → {σ: accuracy (%)}, e.g. `noise_curves_from_summary` of the committed
    reproduction, or accuracies measured in the notebook with `labkit.training.evaluate`.
    ``paper``: optional model label → {σ: the paper's accuracy (%)}, drawn as crosses.
    """
    levels = noise_sigmas(curves) or [sigma]
    start = min(levels, key=lambda s: abs(s - sigma))
    control = widgets.SelectionSlider(options=[(f"{s:g}", s) for s in levels], value=start,
                                      description="noise σ", continuous_update=False,
                                      style={"description_width": "initial"})
    return _dashboard(_noise_view, {"sigma": control}, {"curves": curves, "paper": paper},
                      initial={"sigma": sigma})
