r"""Spike-timing-dependent plasticity (STDP): traces, the pair-based rule and a competitive layer.

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

Both terms can be read from the postsynaptic side: a pre spike at t' depresses every earlier
post spike at t < t' by A− λ−^{t'−t}, so the whole sum is one bilinear form with the T × T
*window matrix* :math:`K[t, t'] = W(t - t')` (Toeplitz: the window, sampled):

.. math::

    \Delta W = \frac{1}{B} \sum_b (s^{post}_b)^\top K \, s^{pre}_b

`stdp_update` evaluates it for ``[time, batch, features]`` spike tensors as Kᵀ applied to the
postsynaptic spikes along time (a T × T product), then one matrix product over all time·batch
rows with the presynaptic spikes, the same size as a layer's forward product and, like it,
skipping the zeros of the input spikes (`labkit.sparse.spike_matmul_t`). There is no Python
loop over time."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import torch

from .foundation.validation import check_number, check_order
from .sparse import spike_matmul_t

__all__ = ["STDPParams", "clip_weights", "decay_matrix", "stdp_update", "stdp_window", "traces", "window_matrix"]


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
            check_number(f"STDPParams.{name}", getattr(self, name), minimum=0.0)
        for name in ("tau_plus", "tau_minus"):
            check_number(f"STDPParams.{name}", getattr(self, name), minimum=0.0, above=True, unit="time steps")
        check_number("STDPParams.w_min", self.w_min)
        check_number("STDPParams.w_max", self.w_max)
        check_order("STDPParams.w_min", self.w_min, "STDPParams.w_max", self.w_max)

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
        pre_spikes: ``[time, batch, n_pre]`` (any trailing shape is flattened; or the fast backend's list of
            spikes, `labkit.fast.lists.SpikeList`, which multiplies itself).
        post_spikes: ``[time, batch, n_post]``.
        params: amplitudes and time constants.
        weight: the current weights ``[n_post, n_pre]``; needed only for ``soft_bound``.

    ΔW = (1/B) Σ_{t,b} [A+ s_post ⊗ x_pre − A− λ− y_post,t−1 ⊗ s_pre] = (1/B) Σ_b s_postᵀ K s_pre
    (module docstring; K from `window_matrix`).
    """
    if pre_spikes.shape[:2] != post_spikes.shape[:2]:
        raise ValueError(
            f"pre and post spikes must share [time, batch]: got {tuple(pre_spikes.shape)} and "
            f"{tuple(post_spikes.shape)}"
        )
    steps, batch = pre_spikes.shape[:2]
    listed = not isinstance(pre_spikes, torch.Tensor)
    pre = pre_spikes if listed else pre_spikes.reshape(steps * batch, -1)
    post = post_spikes.reshape(steps, -1)
    if params.soft_bound and weight is None:
        raise ValueError("soft_bound STDP needs the current weight matrix: pass weight=W")
    parts = ("plus", "minus") if params.soft_bound else ("both",)
    # Σ_b s_postᵀ K s_pre = Σ_b (Kᵀ s_post)ᵀ s_pre: K filters the (narrower) post side along time,
    # then one product over all time·batch rows, which skips the zeros of the pre spikes.
    kernels = torch.stack([window_matrix(steps, params, part, device=pre.device, dtype=pre.dtype) for part in parts])
    read = (kernels.transpose(1, 2) @ post).view(len(parts), steps * batch, -1)
    n_post = read.shape[-1]
    both = read[0] if len(parts) == 1 else read.permute(1, 0, 2).reshape(steps * batch, -1)
    pairs = pre.matmul_t(both) if listed else spike_matmul_t(pre, both)  # [n_pre, parts·n_post]
    pairs = pairs.view(-1, len(parts), n_post).permute(1, 2, 0)  # [parts, n_post, n_pre]
    if not params.soft_bound:
        return pairs[0] / batch
    potentiation, depression = pairs[0], -pairs[1]
    dw = (params.w_max - weight) * potentiation - (weight - params.w_min) * depression
    return dw / batch


def window_matrix(
    steps: int,
    params: STDPParams = STDPParams(),
    part: str = "both",
    *,
    device=None,
    dtype=torch.float32,
) -> torch.Tensor:
    """The T × T window matrix K[t_post, t_pre] = W(t_post − t_pre) (Toeplitz).

    ``part="plus"`` keeps only the potentiating half (t_pre ≤ t_post, lower triangle with the
    diagonal), ``"minus"`` only the depressing half (t_pre > t_post); ``"both"`` is their sum.
    Summing ``post[:, j] @ K @ pre[:, i]`` over a sample is the pair sum of `stdp_window`.
    """
    if part not in ("both", "plus", "minus"):
        raise ValueError(f"part must be 'both', 'plus' or 'minus', got {part!r}")
    return _window_kernel(steps, params, part).to(device=device, dtype=dtype, copy=True)


@functools.lru_cache(maxsize=64)
def _window_kernel(steps: int, params: STDPParams, part: str) -> torch.Tensor:
    """`window_matrix` in double precision on the CPU, cached (training asks for the same K every batch)."""
    t = torch.arange(steps, dtype=torch.float64)
    lag = t[:, None] - t[None, :]  # Δt = t_post − t_pre
    plus = torch.where(lag >= 0, params.A_plus * torch.exp(-lag.clamp(min=0) / params.tau_plus), 0.0)
    minus = torch.where(lag < 0, -params.A_minus * torch.exp(lag.clamp(max=0) / params.tau_minus), 0.0)
    return {"both": plus + minus, "plus": plus, "minus": minus}[part]


def clip_weights(weight: torch.Tensor, params: STDPParams) -> torch.Tensor:
    """Clamp weights in place to [w_min, w_max]; returns the tensor."""
    return weight.clamp_(params.w_min, params.w_max)
