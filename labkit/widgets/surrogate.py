"""The surrogate-gradient explorer: the arctangent surrogate's slope against the spike's step."""

from __future__ import annotations

import math

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from ..neurons import ATan, spike
from .core import dashboard

__all__ = ["SURROGATE_EXPLORER_SLIDERS", "surrogate_explorer", "surrogate_view"]


#: Slider range (min, max, step) of `surrogate_explorer`; the tests draw the view at both ends.
SURROGATE_EXPLORER_SLIDERS = {"alpha": (0.5, 20.0, 0.5)}


def surrogate_view(alpha: float, *, x_max: float = 2.0, num_points: int = 801) -> Figure:
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
    return dashboard(surrogate_view, {"alpha": slider}, initial={"alpha": alpha})
