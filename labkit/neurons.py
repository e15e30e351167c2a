r"""Leaky integrate-and-fire (LIF) neurons and surrogate spike gradients.

The membrane potential ``u`` of a LIF neuron leaks towards rest and integrates its input
current ``I`` (the paper's eq. 1; Gerstner et al., *Neuronal Dynamics*, 2014, ch. 1):

.. math::  \tau \frac{du}{dt} = -u + R\,I(t)

Integrating over one time step :math:`\Delta t` with the input held constant gives the
discrete update used throughout the lab (R absorbed into the weights):

.. math::  u_t = \beta\,u_{t-1} + I_t, \qquad \beta = e^{-\Delta t/\tau}

A spike is emitted when the membrane crosses the threshold θ, :math:`s_t = H(u_t - \theta)`,
and the neuron is reset. As in snnTorch's ``Leaky`` (reset delayed by one step), the reset
signal :math:`r_{t-1} = H(u_{t-1} - \theta)` is applied when the next input arrives, and it
carries no gradient:

* ``"subtract"``:  :math:`u_t = \beta u_{t-1} + I_t - \theta\, r_{t-1}`
* ``"zero"``:      :math:`u_t = \beta (1 - r_{t-1})\, u_{t-1} + I_t`  (Loihi's reset)

The returned membrane is :math:`u_t` before its own reset, so plots show the crossing.

The Heaviside step has zero derivative almost everywhere; training replaces it in the
backward pass by a *surrogate* derivative (Neftci, Mostafa and Zenke, IEEE Signal Processing
Magazine 36(6), 2019). The forward pass is always the exact step.

Every neuron model is one class behind the `Neuron` protocol: a frozen record of its parameters
with ``step`` (one time step from a state), ``sequence`` (all T steps from rest), ``rest`` (the
state at rest) and ``membrane`` (the membrane of a state). `LIFParams` is the LIF neuron;
`ALIF` adds an adaptive threshold (Bellec et al., NeurIPS 2018). `labkit.models.SpikingMLP`
takes any of them (``neuron=``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Protocol

import torch
from torch import nn

from .foundation.validation import check_choice, check_number

__all__ = [
    "ALIF",
    "ATan",
    "FastSigmoid",
    "LIF",
    "LIFParams",
    "LIFSequence",
    "Neuron",
    "Surrogate",
    "lif_sequence",
    "lif_steps",
    "lif_step",
    "spike",
]

Reset = Literal["subtract", "zero"]


@dataclass(frozen=True)
class LIFParams:
    """Parameters of a discrete LIF neuron.

    Attributes:
        beta: membrane decay per step, β = exp(−Δt/τ), in [0, 1] (paper: 0.9).
        threshold: firing threshold θ > 0 (paper: 1.0).
        reset: ``"subtract"`` (u −= θ) or ``"zero"`` (u = 0) after a spike.
    """

    beta: float = 0.9
    threshold: float = 1.0
    reset: Reset = "subtract"

    def __post_init__(self) -> None:
        check_number("LIFParams.beta", self.beta, minimum=0.0, maximum=1.0, unit="decay per step")
        check_number("LIFParams.threshold", self.threshold, minimum=0.0, above=True)
        check_choice("LIFParams.reset", self.reset, ("subtract", "zero"))

    @classmethod
    def from_tau(cls, tau: float, dt: float = 1.0, **kwargs) -> LIFParams:
        """Build from a membrane time constant: β = exp(−Δt/τ)."""
        if not tau > 0 or not dt > 0:
            raise ValueError(f"tau and dt must be > 0, got tau={tau!r}, dt={dt!r}")
        return cls(beta=math.exp(-dt / tau), **kwargs)

    # the Neuron protocol: the LIF neuron is its parameters with `lif_step` and `lif_sequence`
    def rest(self, like: torch.Tensor) -> torch.Tensor:
        """The state at rest, u = 0, shaped like one step of current ``like``."""
        return torch.zeros_like(like)

    def step(self, current: torch.Tensor, state: torch.Tensor,
             surrogate: Surrogate | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """`lif_step` with these parameters: ``spikes, u = params.step(I_t, u)``."""
        return lif_step(current, state, self, surrogate or ATan())

    def sequence(self, current: torch.Tensor, surrogate: Surrogate | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """`lif_sequence` with these parameters: ``(spikes, membranes)`` of ``current [time, ...]`` from rest."""
        return lif_sequence(current, self, surrogate or ATan())

    def membrane(self, state: torch.Tensor) -> torch.Tensor:
        """The membrane of a state (for LIF the state is the membrane)."""
        return state


# ----------------------------------------------------------------------------- surrogates


class Surrogate(Protocol):
    """A surrogate spike function: exact step forward, smooth ``derivative`` backward."""

    def derivative(self, x: torch.Tensor) -> torch.Tensor: ...


@dataclass(frozen=True)
class ATan:
    r"""Arctangent surrogate (the paper's; Fang et al., ICCV 2021; snnTorch's ``atan``).

    Forward: :math:`S = H(x)`. Backward, the derivative of
    :math:`\frac{1}{\pi}\arctan(\frac{\pi}{2}\alpha x)`:

    .. math::  \frac{\partial S}{\partial x} = \frac{\alpha/2}{1 + (\frac{\pi}{2}\alpha x)^2}
    """

    alpha: float = 2.0

    def __post_init__(self) -> None:
        check_number("ATan.alpha", self.alpha, minimum=0.0, above=True)

    def derivative(self, x: torch.Tensor) -> torch.Tensor:
        y = (math.pi / 2 * self.alpha) * x
        if y.requires_grad:  # differentiated itself: out of place
            return self.alpha / 2 / (1 + y.pow(2))
        return y.pow_(2).add_(1).reciprocal_().mul_(self.alpha / 2)  # the same operations, in place: same bits

    def derivative_(self, x: torch.Tensor) -> torch.Tensor:
        """`derivative` written over ``x`` (no gradient), the same bits without a temporary."""
        return x.mul_(math.pi / 2 * self.alpha).pow_(2).add_(1).reciprocal_().mul_(self.alpha / 2)


@dataclass(frozen=True)
class FastSigmoid:
    r"""Fast-sigmoid surrogate (Zenke and Ganguli, Neural Computation 30(6), 2018; snnTorch's
    ``fast_sigmoid``).

    Forward: :math:`S = H(x)`. Backward:

    .. math::  \frac{\partial S}{\partial x} = \frac{1}{(k\,|x| + 1)^2}
    """

    slope: float = 25.0

    def __post_init__(self) -> None:
        check_number("FastSigmoid.slope", self.slope, minimum=0.0, above=True)

    def derivative(self, x: torch.Tensor) -> torch.Tensor:
        y = self.slope * x.abs()
        if y.requires_grad:  # differentiated itself: out of place
            return 1.0 / (y + 1.0).pow(2)
        return y.add_(1.0).pow_(2).reciprocal_()  # the same operations, in place: same bits

    def derivative_(self, x: torch.Tensor) -> torch.Tensor:
        """`derivative` written over ``x`` (no gradient), the same bits without a temporary."""
        return x.abs_().mul_(self.slope).add_(1.0).pow_(2).reciprocal_()


class _Spike(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, surrogate: Surrogate) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.surrogate = surrogate
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (x,) = ctx.saved_tensors
        return grad * ctx.surrogate.derivative(x), None


def spike(x: torch.Tensor, surrogate: Surrogate = ATan()) -> torch.Tensor:
    """Heaviside step H(x) (1 where x > 0) with the surrogate's derivative in the backward pass."""
    return _Spike.apply(x, surrogate)


# ----------------------------------------------------------------------------- dynamics


def lif_step(
    current: torch.Tensor,
    membrane: torch.Tensor,
    params: LIFParams = LIFParams(),
    surrogate: Surrogate = ATan(),
) -> tuple[torch.Tensor, torch.Tensor]:
    """One LIF step: ``spikes, membrane = lif_step(I_t, u_{t-1}, params)``.

    Equations (module docstring)::

        r = H(u_{t-1} − θ)                  reset signal, no gradient
        u_t = β u_{t-1} + I_t − θ r         reset = "subtract"
        u_t = β (1 − r) u_{t-1} + I_t       reset = "zero"
        s_t = H(u_t − θ)                    surrogate gradient in backward
    """
    reset = (membrane > params.threshold).to(membrane.dtype)
    if params.reset == "subtract":
        membrane = params.beta * membrane + current - reset * params.threshold
    else:
        membrane = params.beta * ((1 - reset) * membrane) + current
    return spike(membrane - params.threshold, surrogate), membrane


def lif_steps(current: torch.Tensor, params: LIFParams) -> tuple[torch.Tensor, torch.Tensor]:
    """The forward recurrence of `LIFSequence` in torch operations, no gradient: ``(spikes, membranes)``."""
    # Each step writes into its slices of `membranes` and `spikes` in place (no per-step
    # temporaries), with float 0/1 spikes throughout: on the CPU, float kernels run several
    # times faster than boolean masks. The values are bit for bit those of `lif_step`: with
    # r ∈ {0, 1}, u − u·r is exactly u or +0 (a neuron that fired had u > θ > 0).
    membranes, spikes = torch.empty_like(current), torch.empty_like(current)
    theta, beta = params.threshold, params.beta
    for t in range(current.shape[0]):
        u = membranes[t]
        torch.mul(membranes[t - 1] if t > 0 else torch.zeros_like(u), beta, out=u)  # β u_{t−1}
        if t > 0 and params.reset == "zero":
            u.addcmul_(u, spikes[t - 1], value=-1.0)  # β (1 − r_{t−1}) u_{t−1}
        u.add_(current[t])  # + I_t
        if t > 0 and params.reset == "subtract":
            u.sub_(spikes[t - 1], alpha=theta)  # − θ r_{t−1}
        torch.gt(u, theta, out=spikes[t])  # s_t = H(u_t − θ), as 0./1.
    return spikes, membranes


class LIFSequence(torch.autograd.Function):
    """Fused multi-step LIF: the same recurrence as `lif_step`, with a hand-written BPTT.

    Backward, with g = dL/du accumulated from the outputs and from the future::

        du_t = ∂L/∂u_t + ∂L/∂s_t · S'(u_t − θ) + du_{t+1} · ∂u_{t+1}/∂u_t
        ∂u_{t+1}/∂u_t = β (subtract) or β (1 − r_t) (zero);   dI_t = du_t
    """

    @staticmethod
    def forward(ctx, current: torch.Tensor, params: LIFParams, surrogate: Surrogate):
        spikes, membranes = lif_steps(current, params)
        ctx.save_for_backward(membranes, spikes)
        ctx.params, ctx.surrogate = params, surrogate
        ctx.set_materialize_grads(False)  # an unused output's gradient arrives as None, not a tensor of zeros
        return spikes, membranes

    @staticmethod
    def backward(ctx, grad_spikes: torch.Tensor | None, grad_membranes: torch.Tensor | None):
        membranes, spikes = ctx.saved_tensors
        params, surrogate = ctx.params, ctx.surrogate
        theta, beta = params.threshold, params.beta
        if grad_spikes is not None:
            in_place = getattr(surrogate, "derivative_", None)  # optional: S'(x) written over x
            x = membranes - theta
            grad = in_place(x).mul_(grad_spikes) if in_place is not None else surrogate.derivative(x) * grad_spikes
            if grad_membranes is not None:
                grad.add_(grad_membranes)
        else:
            grad = grad_membranes.clone() if grad_membranes is not None else torch.zeros_like(membranes)
        # grad becomes dL/dI in place, from the last step back: du_t += du_{t+1} · ∂u_{t+1}/∂u_t
        carry = torch.empty_like(membranes[0])
        for t in range(membranes.shape[0] - 2, -1, -1):
            torch.mul(grad[t + 1], beta, out=carry)
            if params.reset == "zero":  # ∂u_{t+1}/∂u_t = β (1 − r_t): the reset seen at step t+1 is u_t's
                carry.addcmul_(carry, spikes[t], value=-1.0)
            grad[t].add_(carry)
        return grad, None, None


def lif_sequence(
    current: torch.Tensor,
    params: LIFParams = LIFParams(),
    surrogate: Surrogate = ATan(),
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run a LIF layer over a whole sequence ``current[time, batch, ...]`` from rest (u₀ = 0).

    Returns ``(spikes, membranes)``, both ``[time, batch, ...]``: exactly the values of calling
    `lif_step` T times, with gradients from a fused backward pass (tested equal within 1e-5).
    """
    if current.dim() < 1 or current.shape[0] < 1:
        raise ValueError(f"current must be [time, ...] with at least one step, got shape {tuple(current.shape)}")
    return LIFSequence.apply(current, params, surrogate)


class LIF(nn.Module):
    """A layer of LIF neurons: a thin module around `lif_sequence` (input ``[time, batch, ...]``)."""

    def __init__(self, params: LIFParams = LIFParams(), surrogate: Surrogate = ATan()):
        super().__init__()
        self.params, self.surrogate = params, surrogate

    def forward(self, current: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return lif_sequence(current, self.params, self.surrogate)

    def extra_repr(self) -> str:
        return f"{self.params}, surrogate={self.surrogate}"


# ----------------------------------------------------------------------------- the seam


class Neuron(Protocol):
    """What `labkit.models.SpikingMLP` needs of a neuron model: one frozen record of its parameters with

    * ``rest(like)``: the state at rest for one step of current shaped like ``like``;
    * ``step(current, state, surrogate) -> (spikes, state)``: one time step;
    * ``sequence(current, surrogate) -> (spikes, membranes)``: ``current [time, ...]`` from rest, the values of
      calling ``step`` T times;
    * ``membrane(state)``: the membrane potential a state holds (recorded in `labkit.models.SNNOutput`).

    `LIFParams` and `ALIF` are the two of the lab; a new model is one class with these four methods.
    """

    def rest(self, like: torch.Tensor): ...

    def step(self, current: torch.Tensor, state, surrogate: Surrogate | None = None): ...

    def sequence(self, current: torch.Tensor, surrogate: Surrogate | None = None): ...

    def membrane(self, state) -> torch.Tensor: ...


@dataclass(frozen=True)
class ALIF:
    r"""Adaptive-threshold LIF neuron (ALIF; Bellec, Salaj, Subramoney, Legenstein and Maass, "Long
    short-term memory and learning-to-learn in networks of spiking neurons", NeurIPS 2018).

    Each spike raises the neuron's threshold, and the raise decays back with factor ρ per step, so a
    neuron driven hard fires ever less often (spike-frequency adaptation):

    .. math::  \theta_t = \theta_0 + \beta_a\, a_t, \qquad a_{t+1} = \rho\, a_t + s_t

    The membrane is that of `LIFParams` with the same delayed reset, which removes the threshold the
    spike crossed (``"subtract"``) or the membrane (``"zero"``). With β_a = 0 it is exactly the LIF neuron.
    The state is ``(u, a)``; the adaptation a grows from the reset signal and carries no gradient.

    Attributes:
        beta: membrane decay per step β in [0, 1].
        threshold: the resting threshold θ0 > 0.
        beta_a: how far one unit of adaptation raises the threshold, β_a >= 0 (Bellec et al.: β = 1.8).
        rho: decay of the adaptation per step ρ = exp(−Δt/τ_a) in [0, 1].
        reset: ``"subtract"`` or ``"zero"``, as for `LIFParams`.
    """

    beta: float = 0.9
    threshold: float = 1.0
    beta_a: float = 0.2
    rho: float = 0.95
    reset: Reset = "subtract"

    def __post_init__(self) -> None:
        check_number("ALIF.beta", self.beta, minimum=0.0, maximum=1.0, unit="decay per step")
        check_number("ALIF.threshold", self.threshold, minimum=0.0, above=True)
        check_number("ALIF.beta_a", self.beta_a, minimum=0.0, unit="threshold raise per unit of adaptation")
        check_number("ALIF.rho", self.rho, minimum=0.0, maximum=1.0, unit="adaptation decay per step")
        check_choice("ALIF.reset", self.reset, ("subtract", "zero"))

    def rest(self, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The state at rest: u = 0 and a = 0."""
        return torch.zeros_like(like), torch.zeros_like(like)

    def step(self, current: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor],
             surrogate: Surrogate | None = None) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """One step: ``spikes, (u, a) = alif.step(I_t, (u_{t-1}, a_{t-1}))``."""
        u, a = state
        theta = self.threshold + self.beta_a * a  # θ_{t-1} = θ0 + β_a a_{t-1}, the threshold u_{t-1} met
        r = (u > theta).to(u.dtype)  # r = s_{t-1} = H(u_{t-1} − θ_{t-1}), no gradient
        a = self.rho * a + r  # a_t = ρ a_{t-1} + s_{t-1}
        if self.reset == "subtract":
            u = self.beta * u + current - r * theta  # u_t = β u_{t-1} + I_t − θ_{t-1} r
        else:
            u = self.beta * ((1 - r) * u) + current  # u_t = β (1 − r) u_{t-1} + I_t
        return spike(u - (self.threshold + self.beta_a * a), surrogate or ATan()), (u, a)  # s_t = H(u_t − θ_t)

    def sequence(self, current: torch.Tensor, surrogate: Surrogate | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``(spikes, membranes)`` of ``current [time, ...]`` from rest: `step` T times."""
        if current.dim() < 1 or current.shape[0] < 1:
            raise ValueError(f"current must be [time, ...] with at least one step, got shape {tuple(current.shape)}")
        state, spikes, membranes = self.rest(current[0]), [], []
        for t in range(current.shape[0]):
            s, state = self.step(current[t], state, surrogate)
            spikes.append(s)
            membranes.append(state[0])
        return torch.stack(spikes), torch.stack(membranes)

    def membrane(self, state: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        """The membrane u of a state ``(u, a)``."""
        return state[0]

    def thresholds(self, spikes: torch.Tensor) -> torch.Tensor:
        """θ_t of every step for a spike train ``spikes [time, ...]`` (the threshold each u_t was compared with)."""
        a, out = torch.zeros_like(spikes[0]), []
        for t in range(spikes.shape[0]):
            a = self.rho * a + (spikes[t - 1] if t > 0 else 0)  # a_t = ρ a_{t-1} + s_{t-1}
            out.append(self.threshold + self.beta_a * a)
        return torch.stack(out)
