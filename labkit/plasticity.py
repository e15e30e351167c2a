r"""Spike-timing-dependent plasticity (STDP): traces and the pair-based rule.

Bi and Poo (J. Neurosci. 18(24), 1998) found that a synapse strengthens when the presynaptic
spike precedes the postsynaptic one by a few tens of milliseconds and weakens when the order
is reversed. The pair-based model (Song, Miller and Abbott, Nat. Neurosci. 3, 2000; Morrison,
Diesmann and Gerstner, Biol. Cybern. 98, 2008) writes the change for one pair, with
:math:`\Delta t = t_{post} - t_{pre}`, as the *STDP window*

.. math::

    W(\Delta t) = \begin{cases} A_+ \, e^{-\Delta t/\tau_+} & \Delta t \ge 0 \\
                                 -A_- \, e^{\Delta t/\tau_-} & \Delta t < 0 \end{cases}

and sums it over all pairs. Exponential *traces* make the sum local in time. In discrete time
(one step = one time unit, :math:`\lambda_\pm = e^{-1/\tau_\pm}`):

.. math::

    x_t = \lambda_+ x_{t-1} + s^{pre}_t, \qquad y_t = \lambda_- y_{t-1} + s^{post}_t

    \Delta W = \sum_t \big[ A_+\, s^{post}_t \otimes x_t \;-\; A_-\, \lambda_- y_{t-1} \otimes s^{pre}_t \big]

A postsynaptic spike reads the presynaptic trace (every earlier *or simultaneous* pre spike:
in a feed-forward step the input at t drives the output at t, so simultaneity is causal);
a presynaptic spike reads the postsynaptic trace of strictly earlier post spikes. This
reproduces the window above exactly (tested).

`stdp_update` evaluates the whole sum for ``[time, batch, features]`` spike tensors with one
matrix product over all time·batch rows; the traces are themselves one product with a
T × T lower-triangular decay matrix. There is no Python loop over time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

__all__ = ["STDPParams", "clip_weights", "decay_matrix", "stdp_update", "stdp_window", "traces"]


@dataclass(frozen=True)
class STDPParams:
    """Parameters of pair-based STDP (time constants in time steps).

    Attributes:
        A_plus: potentiation amplitude A+ ≥ 0 (pre before post).
        A_minus: depression amplitude A− ≥ 0 (post before pre).
        tau_plus: presynaptic trace time constant τ+ > 0.
        tau_minus: postsynaptic trace time constant τ− > 0.
        soft_bound: if True, scale potentiation by (w_max − w) and depression by (w − w_min)
            (the weight-dependent rule of van Rossum, Bi and Turrigiano, J. Neurosci. 20, 2000).
        w_min, w_max: bounds used by ``soft_bound`` and by `clip_weights`.
    """

    A_plus: float = 0.01
    A_minus: float = 0.0105
    tau_plus: float = 5.0
    tau_minus: float = 5.0
    soft_bound: bool = False
    w_min: float = -1.0
    w_max: float = 1.0

    def __post_init__(self) -> None:
        for name in ("A_plus", "A_minus"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ValueError(f"STDPParams.{name} must be a finite number >= 0, got {value!r}")
        for name in ("tau_plus", "tau_minus"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"STDPParams.{name} must be a finite number > 0 (time steps), got {value!r}")
        if not (math.isfinite(self.w_min) and math.isfinite(self.w_max) and self.w_min < self.w_max):
            raise ValueError(f"STDPParams needs finite w_min < w_max, got {self.w_min!r}, {self.w_max!r}")

    @property
    def decay_plus(self) -> float:
        """λ+ = exp(−1/τ+), the presynaptic trace's decay per step."""
        return math.exp(-1.0 / self.tau_plus)

    @property
    def decay_minus(self) -> float:
        """λ− = exp(−1/τ−), the postsynaptic trace's decay per step."""
        return math.exp(-1.0 / self.tau_minus)


def stdp_window(delta_t: torch.Tensor, params: STDPParams = STDPParams()) -> torch.Tensor:
    """The analytic window W(Δt), Δt = t_post − t_pre: A+ e^{−Δt/τ+} for Δt ≥ 0, −A− e^{Δt/τ−} otherwise."""
    delta_t = torch.as_tensor(delta_t, dtype=torch.float32)
    return torch.where(
        delta_t >= 0,
        params.A_plus * torch.exp(-delta_t / params.tau_plus),
        -params.A_minus * torch.exp(delta_t / params.tau_minus),
    )


def decay_matrix(steps: int, decay: float, *, device=None, dtype=torch.float32) -> torch.Tensor:
    """The T × T lower-triangular matrix D[t, t'] = decay^(t − t') for t' ≤ t, else 0."""
    t = torch.arange(steps, device=device, dtype=dtype)
    lag = t[:, None] - t[None, :]
    return torch.where(lag >= 0, torch.pow(torch.tensor(decay, dtype=dtype, device=device), lag), 0.0)


def traces(spikes: torch.Tensor, decay: float) -> torch.Tensor:
    """Exponential trace x_t = decay · x_{t−1} + s_t (x_{−1} = 0) of ``spikes[time, ...]``, as one product."""
    steps = spikes.shape[0]
    flat = spikes.reshape(steps, -1)
    return (decay_matrix(steps, decay, device=spikes.device, dtype=spikes.dtype) @ flat).view_as(spikes)


def stdp_update(
    pre_spikes: torch.Tensor,
    post_spikes: torch.Tensor,
    params: STDPParams = STDPParams(),
    weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """Pair-based STDP weight change ΔW ``[n_post, n_pre]``, summed over time, averaged over the batch.

    Args:
        pre_spikes: ``[time, batch, n_pre]`` (any trailing shape is flattened).
        post_spikes: ``[time, batch, n_post]``.
        params: amplitudes and time constants.
        weight: the current weights ``[n_post, n_pre]``; needed only for ``soft_bound``.

    ΔW = (1/B) Σ_{t,b} [A+ s_post ⊗ x_pre − A− λ− y_post,t−1 ⊗ s_pre] (module docstring).
    """
    if pre_spikes.shape[:2] != post_spikes.shape[:2]:
        raise ValueError(
            f"pre and post spikes must share [time, batch]: got {tuple(pre_spikes.shape)} and "
            f"{tuple(post_spikes.shape)}"
        )
    steps, batch = pre_spikes.shape[:2]
    pre = pre_spikes.reshape(steps, batch, -1)
    post = post_spikes.reshape(steps, batch, -1)
    x_pre = traces(pre, params.decay_plus)
    y_post = traces(post, params.decay_minus)
    # λ− y_{t−1}: the post trace just before step t (shifted by one step, zero at t = 0).
    y_before = torch.zeros_like(y_post)
    y_before[1:] = params.decay_minus * y_post[:-1]
    rows = steps * batch
    if params.soft_bound:
        if weight is None:
            raise ValueError("soft_bound STDP needs the current weight matrix: pass weight=W")
        potentiation = post.reshape(rows, -1).T @ x_pre.reshape(rows, -1)
        depression = y_before.reshape(rows, -1).T @ pre.reshape(rows, -1)
        dw = params.A_plus * (params.w_max - weight) * potentiation - params.A_minus * (weight - params.w_min) * depression
        return dw / batch
    # One product over all T·B rows: [A+ post | −A− y_before]^T @ [x_pre ; pre].
    left = torch.cat([params.A_plus * post, -params.A_minus * y_before], dim=0).reshape(2 * rows, -1)
    right = torch.cat([x_pre, pre], dim=0).reshape(2 * rows, -1)
    return (left.T @ right) / batch


def clip_weights(weight: torch.Tensor, params: STDPParams) -> torch.Tensor:
    """Clamp weights in place to [w_min, w_max]; returns the tensor."""
    return weight.clamp_(params.w_min, params.w_max)
