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
loop over time.

Competitive layer
-----------------

An unsupervised layer after Diehl and Cook (Front. Comput. Neurosci. 9:99, 2015).

Excitatory LIF neurons receive the rate-coded image through plastic weights W ≥ 0 and compete
through lateral inhibition. Per time step t, for every image of a batch at once:

.. math::

    v_t = \beta v_{t-1} + W s^{in}_t, \qquad
    s_{t,j} = [\, j \in \operatorname{top-}k(v_t - \vartheta - \theta) \ \wedge\ v_{t,j} > \vartheta + \theta_j \,]

    v_{t,j} \leftarrow 0 \ \text{if } s_{t,j}, \qquad
    v_{t,j} \leftarrow (1 - g_{inh})\, v_{t,j} \ \text{otherwise, when some neuron fired}

(k-winner-take-all: Diehl and Cook's inhibitory population, strong enough that one neuron at a
time wins, here as shunting inhibition of strength g_inh ∈ [0, 1]). Homeostasis: each spike
raises that neuron's threshold, θ_j ← θ_j + θ₊, and θ decays slowly (τ_θ counted in images),
so no neuron can win every image. Learning is the chapter's pair-based STDP (`stdp_update`,
summed over the images of a batch) followed by clipping to [0, w_max] and *weight
normalisation*: every neuron's incoming weights are rescaled to sum to w_sum (Diehl and Cook:
78). Normalisation makes the synapses of one neuron compete, so potentiating the inputs that
were active depresses the others; each neuron's weights drift towards the average of the
images it wins, a digit prototype (competitive learning, as in k-means).

Batched approximation. Diehl and Cook present images one by one. Here a batch of B images
shares W and θ, and both are updated once after the batch from the summed spikes. Within a
batch an image cannot see the threshold rise caused by the previous one, so the same neuron
may win several similar images; with B small against the number of images per epoch this is
mini-batch competitive learning (the mini-batch k-means of Sculley, WWW 2010, rests on the
same argument), and it keeps every operation a tensor operation over the batch. Measured with
500 neurons on 20,000 MNIST training images: batches of 32 and 64 reach the same test accuracy
within 0.3 points (90.4% and 90.6%); on the bundled subset with 100 neurons, batches of 8 and 128
differ by one point (79.9% and 81.0%).

Readout (Diehl and Cook): each neuron is labelled with the class for which its average
response over the training images is highest; a test image is classified as the class whose
labelled neurons fire most on average.
"""

from __future__ import annotations

import functools
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from .checkpoint import check_resumable, data_identity, read_checkpoint, write_checkpoint
from .encoding import encode_rate
from .foundation.runtime import cpu_threads, resolve_device
from .foundation.seeds import Stream, counter_generator, pass_seed
from .neurons import LIFParams
from .sparse import spike_matmul_t

__all__ = [
    "STDPParams",
    "clip_weights",
    "decay_matrix",
    "stdp_update",
    "stdp_window",
    "traces",
    "window_matrix",
]


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

    ΔW = (1/B) Σ_{t,b} [A+ s_post ⊗ x_pre − A− λ− y_post,t−1 ⊗ s_pre] = (1/B) Σ_b s_postᵀ K s_pre
    (module docstring; K from `window_matrix`).
    """
    if pre_spikes.shape[:2] != post_spikes.shape[:2]:
        raise ValueError(
            f"pre and post spikes must share [time, batch]: got {tuple(pre_spikes.shape)} and "
            f"{tuple(post_spikes.shape)}"
        )
    steps, batch = pre_spikes.shape[:2]
    pre = pre_spikes.reshape(steps * batch, -1)
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
    pairs = spike_matmul_t(pre, both)  # [n_pre, parts·n_post]
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


# ----------------------------------------------------------------------------- competitive layer

__all__ += [  # the competitive layer
    "CompetitiveLayer",
    "CompetitiveParams",
    "CompetitiveResult",
    "assign_labels",
    "classify",
    "competitive_forward",
    "competitive_update",
    "confusion_matrix",
    "init_competitive_weights",
    "normalize_weights",
    "train_competitive",
]

#: STDP of the competitive layer: potentiation dominates (rate-coded inputs carry little timing),
#: weights in [0, 1] as in Diehl and Cook; normalisation supplies the depression of unused inputs.
COMPETITIVE_STDP = STDPParams(A_plus=0.002, A_minus=0.0005, tau_plus=5.0, tau_minus=5.0, w_min=0.0, w_max=1.0)


@dataclass(frozen=True)
class CompetitiveParams:
    """Parameters of the competitive layer (time in steps; equations in the module docstring).

    Attributes:
        lif: membrane decay β and base threshold ϑ; ``reset`` must be ``"zero"`` (a winner's
            membrane returns to zero).
        stdp: amplitudes and time constants of the pair-based rule; ``w_min`` must be 0.
        winners: k of k-winner-take-all, neurons allowed to fire per step and image (≥ 1).
        inhibition: g_inh in [0, 1], shunting inhibition of the losers when some neuron fires.
        theta_plus: θ₊ ≥ 0, threshold increase per spike (homeostasis).
        theta_tau: τ_θ > 0, decay time constant of θ in images (``math.inf``: no decay).
        w_sum: w_sum > 0, the sum of every neuron's incoming weights after normalisation.
        gain: input gain of the rate code (firing probability gain · pixel, clipped at 1).
    """

    lif: LIFParams = LIFParams(beta=0.95, threshold=30.0, reset="zero")
    stdp: STDPParams = COMPETITIVE_STDP
    winners: int = 1
    inhibition: float = 1.0
    theta_plus: float = 1.0
    theta_tau: float = 10_000.0
    w_sum: float = 78.0
    gain: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.lif, LIFParams):
            raise ValueError(f"CompetitiveParams.lif must be a LIFParams, got {type(self.lif).__name__}")
        if self.lif.reset != "zero":
            raise ValueError(f"CompetitiveParams.lif.reset must be 'zero' (winners reset to 0), got {self.lif.reset!r}")
        if not isinstance(self.stdp, STDPParams):
            raise ValueError(f"CompetitiveParams.stdp must be an STDPParams, got {type(self.stdp).__name__}")
        if self.stdp.w_min != 0.0 or self.stdp.w_max <= 0:
            raise ValueError(
                f"CompetitiveParams.stdp needs w_min = 0 and w_max > 0 (excitatory weights), got "
                f"w_min={self.stdp.w_min!r}, w_max={self.stdp.w_max!r}"
            )
        if isinstance(self.winners, bool) or not isinstance(self.winners, int) or self.winners < 1:
            raise ValueError(f"CompetitiveParams.winners must be an integer >= 1, got {self.winners!r}")
        if not (isinstance(self.inhibition, (int, float)) and 0.0 <= self.inhibition <= 1.0):
            raise ValueError(f"CompetitiveParams.inhibition must be in [0, 1], got {self.inhibition!r}")
        if not (isinstance(self.theta_plus, (int, float)) and math.isfinite(self.theta_plus) and self.theta_plus >= 0):
            raise ValueError(f"CompetitiveParams.theta_plus must be a finite number >= 0, got {self.theta_plus!r}")
        if not (isinstance(self.theta_tau, (int, float)) and self.theta_tau > 0):
            raise ValueError(f"CompetitiveParams.theta_tau must be > 0 images (inf: no decay), got {self.theta_tau!r}")
        if not (isinstance(self.w_sum, (int, float)) and math.isfinite(self.w_sum) and self.w_sum > 0):
            raise ValueError(f"CompetitiveParams.w_sum must be a finite number > 0, got {self.w_sum!r}")
        if not (isinstance(self.gain, (int, float)) and math.isfinite(self.gain) and self.gain > 0):
            raise ValueError(f"CompetitiveParams.gain must be a finite number > 0, got {self.gain!r}")


def normalize_weights(weight: torch.Tensor, params: CompetitiveParams = CompetitiveParams()) -> torch.Tensor:
    """Clip W to [0, w_max], then scale every row to sum to w_sum: W_j ← w_sum · W_j / Σ_i W_ji.

    A row that is all zero is left at zero. The clip comes first, so after scaling a single weight
    of a very peaked row may exceed w_max; the next update clips it again.
    """
    weight = weight.clamp(0.0, params.stdp.w_max)
    total = weight.sum(dim=1, keepdim=True)
    return torch.where(total > 0, weight * (params.w_sum / total.clamp(min=1e-12)), weight)


def init_competitive_weights(
    n_neurons: int,
    n_inputs: int = 784,
    params: CompetitiveParams = CompetitiveParams(),
    *,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Random initial weights ``[n_neurons, n_inputs]``: uniform in [0, 0.3·w_max] (Diehl and Cook), normalised."""
    if not (isinstance(n_neurons, int) and n_neurons >= 1 and isinstance(n_inputs, int) and n_inputs >= 1):
        raise ValueError(f"n_neurons and n_inputs must be integers >= 1, got {n_neurons!r}, {n_inputs!r}")
    weight = torch.rand(n_neurons, n_inputs, generator=generator) * (0.3 * params.stdp.w_max)
    return normalize_weights(weight, params)


def competitive_forward(
    spikes_in: torch.Tensor,
    weight: torch.Tensor,
    theta: torch.Tensor,
    params: CompetitiveParams = CompetitiveParams(),
) -> torch.Tensor:
    """Output spikes ``[time, batch, n_neurons]`` of the layer for input spikes ``[time, batch, n_inputs]``.

    The input currents of all steps are one product over the T·B rows; the loop over time runs
    the LIF membrane with k-winner-take-all and shunting inhibition (module docstring), all
    images of the batch at once. W and θ are not changed.
    """
    if spikes_in.dim() < 3:
        raise ValueError(f"spikes_in must be [time, batch, features...], got shape {tuple(spikes_in.shape)}")
    steps, batch = spikes_in.shape[:2]
    flat = spikes_in.reshape(steps * batch, -1)
    if flat.shape[1] != weight.shape[1]:
        raise ValueError(f"input has {flat.shape[1]} features per step, the weights expect {weight.shape[1]}")
    current = (flat @ weight.T).view(steps, batch, -1)
    n = weight.shape[0]
    k = min(params.winners, n)
    threshold = params.lif.threshold + theta  # [n]
    v = torch.zeros(batch, n, dtype=current.dtype, device=current.device)
    out = torch.zeros_like(current)
    with cpu_threads(current.device, 1):
        for t in range(steps):
            v = params.lif.beta * v + current[t]
            best, index = (v - threshold).topk(k, dim=1) if k > 1 else (v - threshold).max(dim=1, keepdim=True)
            s = out[t].scatter_(1, index, (best > 0).to(v.dtype))  # the k largest margins fire if above 0
            fired = (best[:, :1] > 0).to(v.dtype)  # 1 where some neuron of this image fired
            v = v * (1.0 - s) * (1.0 - params.inhibition * fired)  # winners reset to 0, losers shunted
    return out


def competitive_update(
    weight: torch.Tensor,
    theta: torch.Tensor,
    spikes_in: torch.Tensor,
    spikes_out: torch.Tensor,
    params: CompetitiveParams = CompetitiveParams(),
) -> tuple[torch.Tensor, torch.Tensor]:
    """One learning step after a batch: returns the new ``(weight, theta)``.

    .. math::

        W \\leftarrow \\mathrm{normalise}\\big(W + B\\,\\Delta W_{stdp}\\big), \\qquad
        \\theta \\leftarrow \\theta\\, e^{-B/\\tau_\\theta} + \\theta_+ \\sum_{t,b} s^{out}_{t,b}

    ΔW_stdp is `stdp_update` (a batch average, hence the factor B: every image counts as one
    presentation); ``normalise`` is `normalize_weights`.
    """
    batch = spikes_in.shape[1]
    dw = stdp_update(spikes_in, spikes_out, params.stdp) * batch
    weight = normalize_weights(weight + dw, params)
    decay = math.exp(-batch / params.theta_tau)
    theta = theta * decay + params.theta_plus * spikes_out.sum(dim=(0, 1))
    return weight, theta


def assign_labels(responses: torch.Tensor, labels: torch.Tensor, n_classes: int = 10) -> torch.Tensor:
    """Label each neuron with the class of its highest average response (Diehl and Cook).

    Args:
        responses: spike counts ``[n_images, n_neurons]``.
        labels: classes ``[n_images]`` in 0 … n_classes − 1.

    Returns:
        ``[n_neurons]`` int64 labels; −1 for neurons that never fired (they take no part in `classify`).
    """
    if responses.shape[0] != labels.shape[0]:
        raise ValueError(f"responses ({responses.shape[0]} images) and labels ({labels.shape[0]}) differ in length")
    onehot = torch.nn.functional.one_hot(labels.long(), n_classes).to(responses.dtype)  # [n, C]
    per_class = onehot.T @ responses  # [C, N] summed responses
    mean = per_class / onehot.sum(dim=0).clamp(min=1)[:, None]
    neuron_labels = mean.argmax(dim=0)
    neuron_labels[responses.sum(dim=0) == 0] = -1
    return neuron_labels


def classify(responses: torch.Tensor, neuron_labels: torch.Tensor, n_classes: int = 10) -> torch.Tensor:
    """Predicted class per image: the class whose labelled neurons respond most on average.

    ``responses`` ``[n_images, n_neurons]``; classes without any labelled neuron are never chosen.
    """
    valid = neuron_labels >= 0
    onehot = torch.nn.functional.one_hot(neuron_labels.clamp(min=0), n_classes).to(responses.dtype)
    onehot = onehot * valid[:, None].to(responses.dtype)  # [N, C]
    count = onehot.sum(dim=0)
    score = (responses @ onehot) / count.clamp(min=1)
    score = score.masked_fill(count == 0, -math.inf)
    return score.argmax(dim=1)


def confusion_matrix(targets: torch.Tensor, predictions: torch.Tensor, n_classes: int = 10) -> torch.Tensor:
    """C[i, j] = number of images of class i predicted as j (rows: truth, columns: prediction)."""
    index = targets.long() * n_classes + predictions.long()
    return torch.bincount(index, minlength=n_classes * n_classes).view(n_classes, n_classes)


class CompetitiveLayer(nn.Module):
    """A thin module around the competitive layer's pure functions; W, θ and the labels are buffers.

    ``layer(spikes_in)`` returns output spikes; `learn` applies `competitive_update`;
    `respond`, `fit_labels` and `predict` work on images (rate-coded inside, batch by batch).
    """

    def __init__(
        self,
        n_neurons: int = 500,
        n_inputs: int = 784,
        params: CompetitiveParams = CompetitiveParams(),
        *,
        seed: int | None = 0,
        n_classes: int = 10,
    ):
        super().__init__()
        self.params, self.n_classes = params, n_classes
        generator = None if seed is None else torch.Generator().manual_seed(seed)
        self.register_buffer("weight", init_competitive_weights(n_neurons, n_inputs, params, generator=generator))
        self.register_buffer("theta", torch.zeros(n_neurons))
        self.register_buffer("neuron_labels", torch.full((n_neurons,), -1, dtype=torch.long))

    @property
    def n_neurons(self) -> int:
        return self.weight.shape[0]

    def forward(self, spikes_in: torch.Tensor) -> torch.Tensor:
        return competitive_forward(spikes_in, self.weight, self.theta, self.params)

    @torch.no_grad()
    def learn(self, spikes_in: torch.Tensor, spikes_out: torch.Tensor) -> None:
        weight, theta = competitive_update(self.weight, self.theta, spikes_in, spikes_out, self.params)
        self.weight.copy_(weight)
        self.theta.copy_(theta)

    def encode(self, images: torch.Tensor, num_steps: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Rate code ``[T, B, n_inputs]`` of images ``[B, ...]`` with the layer's input gain."""
        return encode_rate(images.flatten(1), num_steps, gain=self.params.gain, generator=generator)

    @torch.no_grad()
    def respond(
        self, images: torch.Tensor, num_steps: int = 25, *, batch_size: int = 1000, seed: int = 0,
    ) -> torch.Tensor:
        """Spike counts ``[n_images, n_neurons]`` with learning off (deterministic for a given seed)."""
        generator = torch.Generator(device=self.weight.device).manual_seed(seed)
        counts = []
        for start in range(0, len(images), batch_size):
            x = images[start : start + batch_size].to(self.weight.device)
            counts.append(self(self.encode(x, num_steps, generator)).sum(dim=0).cpu())
        return torch.cat(counts) if counts else torch.zeros(0, self.n_neurons)

    @torch.no_grad()
    def fit_labels(self, images: torch.Tensor, labels: torch.Tensor, num_steps: int = 25, *, seed: int = 0) -> torch.Tensor:
        """Assign every neuron its class from its responses to labelled images; returns the responses."""
        responses = self.respond(images, num_steps, seed=seed)
        self.neuron_labels.copy_(assign_labels(responses, labels.cpu(), self.n_classes).to(self.neuron_labels.device))
        return responses

    @torch.no_grad()
    def predict(self, images: torch.Tensor, num_steps: int = 25, *, seed: int = 0) -> torch.Tensor:
        """Predicted classes (needs `fit_labels` first)."""
        if (self.neuron_labels < 0).all():
            raise ValueError("no neuron has a label yet: call fit_labels(images, labels) first")
        return classify(self.respond(images, num_steps, seed=seed), self.neuron_labels.cpu(), self.n_classes)

    def extra_repr(self) -> str:
        return f"n_neurons={self.n_neurons}, n_inputs={self.weight.shape[1]}"


@dataclass
class CompetitiveResult:
    """What `train_competitive` measured (fractions in [0, 1], times in seconds)."""

    test_acc: float
    per_class_acc: list[float]
    confusion: list[list[int]]
    train_seconds: float
    label_seconds: float
    test_seconds: float
    neurons_per_class: list[int]
    silent_neurons: int
    spikes_per_image: float
    config: dict = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)


def _check_positive_int(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


def train_competitive(
    data,
    n_neurons: int = 500,
    epochs: int = 1,
    seed: int = 0,
    num_steps: int = 25,
    progress: bool = True,
    checkpoint: str | os.PathLike | None = None,
    *,
    params: CompetitiveParams = CompetitiveParams(),
    batch_size: int = 32,
    test_steps: int | None = None,
    train_limit: int | None = None,
    checkpoint_every: int = 200,
    device: str | torch.device = "cpu",
    threads: int | None = 1,
    callback: Callable[[dict], bool | None] | None = None,
) -> tuple[CompetitiveLayer, CompetitiveResult | None]:
    """Train a competitive STDP layer without labels, label its neurons, classify the test set.

    Args:
        data: a `labkit.training.Data` tuple (images ``[N, 28, 28]`` in [0, 1]).
        n_neurons: excitatory neurons (paper: 500; Diehl and Cook: 100 … 6400).
        epochs: passes over the training images (with a checkpoint: the target, not the number left).
        seed: seeds the initial weights, the image order and the rate code.
        num_steps: T, time steps per image while learning.
        progress: show a tqdm bar.
        checkpoint: file written atomically every ``checkpoint_every`` batches, at the end of
            every epoch and when done; if it exists, training resumes from it exactly.
        params: the layer's parameters.
        batch_size: images presented at once with shared W and θ (module docstring).
        test_steps: time steps per image for labelling and testing (default ``num_steps``).
        train_limit: use only the first ``train_limit`` training images.
        device: ``"cpu"``, ``"cuda"`` or ``"auto"``.
        threads: CPU threads while training (1 is fastest on a busy or two-core CPU; None: leave
            torch's setting); restored afterwards.
        callback: called after every batch with ``{"epoch", "batch", "batches", "layer"}``;
            returning False stops (after writing the checkpoint) and returns ``(layer, None)``.

    Returns:
        ``(layer, result)``; labels come from the responses to the training images (learning off).
    """
    for name, value in (("n_neurons", n_neurons), ("epochs", epochs), ("batch_size", batch_size),
                        ("num_steps", num_steps), ("checkpoint_every", checkpoint_every)):
        _check_positive_int(name, value)
    test_steps = num_steps if test_steps is None else test_steps
    _check_positive_int("test_steps", test_steps)
    device = resolve_device(device)
    train_x, train_y = data.train_x, data.train_y
    if train_limit is not None:
        _check_positive_int("train_limit", train_limit)
        train_x, train_y = train_x[:train_limit], train_y[:train_limit]
    if len(train_x) == 0 or len(data.test_x) == 0:
        raise ValueError("train_competitive needs training and test images")
    n_classes = int(max(train_y.max(), data.test_y.max())) + 1
    config = {
        "n_neurons": n_neurons, "epochs": epochs, "seed": seed, "num_steps": num_steps, "test_steps": test_steps,
        "batch_size": batch_size, "params": asdict(params),
        **data_identity(getattr(data, "name", "data"), train_x, train_y, data.test_x, data.test_y),
    }
    layer = CompetitiveLayer(n_neurons, train_x[0].numel(), params, seed=seed, n_classes=n_classes).to(device)
    start_epoch, start_batch, train_seconds = 0, 0, 0.0
    ckpt = Path(checkpoint) if checkpoint is not None else None
    if ckpt is not None and ckpt.is_file():
        state = read_checkpoint(ckpt, map_location=device,
                                required=("layer", "config", "epoch", "batch", "train_seconds"))
        check_resumable(ckpt, state["config"], config, [k for k in config if k != "epochs"])
        if state["epoch"] > epochs:
            raise ValueError(f"checkpoint {ckpt} already holds {state['epoch']} epochs, more than epochs={epochs}")
        layer.load_state_dict(state["layer"])
        start_epoch, start_batch, train_seconds = state["epoch"], state["batch"], state["train_seconds"]
        if state.get("result") is not None and state["epoch"] == epochs:
            return layer, CompetitiveResult(**state["result"])

    def save(epoch: int, batch: int, result: CompetitiveResult | None = None) -> None:
        if ckpt is not None:
            write_checkpoint(ckpt, {"layer": layer.state_dict(), "config": {**config, "epochs": epochs}, "epoch": epoch,
                          "batch": batch, "train_seconds": train_seconds,
                          "result": None if result is None else asdict(result)})

    from tqdm.auto import tqdm

    n = len(train_x)
    batches = math.ceil(n / batch_size)
    with cpu_threads(device, threads):
        for epoch in range(start_epoch, epochs):
            order = torch.randperm(n, generator=counter_generator(seed, Stream.BATCH_ORDER, epoch))
            first = start_batch if epoch == start_epoch else 0
            bar = tqdm(range(first, batches), desc=f"STDP epoch {epoch + 1}/{epochs}", disable=not progress,
                       initial=first, total=batches, leave=False)
            started = time.perf_counter()
            for b in bar:
                x = train_x[order[b * batch_size : (b + 1) * batch_size]].to(device)
                g_code = counter_generator(seed, Stream.RATE_CODE, epoch, b, device=device)
                spikes_in = layer.encode(x, num_steps, g_code)
                with torch.no_grad():
                    layer.learn(spikes_in, layer(spikes_in))
                stop = callback is not None and callback(
                    {"epoch": epoch, "batch": b, "batches": batches, "layer": layer}) is False
                if stop or (b + 1) % checkpoint_every == 0 or b + 1 == batches:
                    train_seconds += time.perf_counter() - started
                    started = time.perf_counter()
                    save(epoch + 1, 0) if b + 1 == batches else save(epoch, b + 1)
                if stop:
                    bar.close()
                    return layer, None
            bar.close()
        started = time.perf_counter()
        train_counts = layer.fit_labels(train_x, train_y, test_steps, seed=pass_seed(seed, Stream.LABELLING))
        label_seconds = time.perf_counter() - started
        started = time.perf_counter()
        test_counts = layer.respond(data.test_x, test_steps, seed=pass_seed(seed, Stream.TEST_PASS))
        predictions = classify(test_counts, layer.neuron_labels.cpu(), n_classes)
        test_seconds = time.perf_counter() - started
    confusion = confusion_matrix(data.test_y.cpu(), predictions, n_classes)
    labels = layer.neuron_labels.cpu()
    result = CompetitiveResult(
        test_acc=(predictions == data.test_y.cpu()).double().mean().item(),
        per_class_acc=(confusion.diag().double() / confusion.sum(dim=1).clamp(min=1).double()).tolist(),
        confusion=confusion.tolist(),
        train_seconds=train_seconds,
        label_seconds=label_seconds,
        test_seconds=test_seconds,
        neurons_per_class=torch.bincount(labels[labels >= 0], minlength=n_classes).tolist(),
        silent_neurons=int((labels < 0).sum()),
        spikes_per_image=float(train_counts.sum(dim=1).mean()),
        config=config,
    )
    save(epochs, 0, result)
    return layer, result
