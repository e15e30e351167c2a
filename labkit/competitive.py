r"""An unsupervised layer after Diehl and Cook (Front. Comput. Neurosci. 9:99, 2015).

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
labelled neurons fire most on average."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from .encoding import encode_rate
from .foundation.runtime import cpu_threads
from .foundation.validation import check_choice, check_int, check_number, check_type
from .neurons import LIFParams
from .noise import DEFAULT_NOISE, noisy_input
from .stdp import STDPParams, stdp_update

__all__ = ["COMPETITIVE_STDP", "CompetitiveLayer", "CompetitiveParams", "assign_labels", "classify", "competitive_forward", "competitive_update", "confusion_matrix", "init_competitive_weights", "normalize_weights"]


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
        check_type("CompetitiveParams.lif", self.lif, LIFParams)
        check_choice("CompetitiveParams.lif.reset", self.lif.reset, ("zero",), unit="a winner's membrane returns to 0")
        check_type("CompetitiveParams.stdp", self.stdp, STDPParams)
        check_choice("CompetitiveParams.stdp.w_min", self.stdp.w_min, (0.0,), unit="excitatory weights")
        check_number("CompetitiveParams.stdp.w_max", self.stdp.w_max, minimum=0.0, above=True)
        check_int("CompetitiveParams.winners", self.winners, 1)
        check_number("CompetitiveParams.inhibition", self.inhibition, minimum=0.0, maximum=1.0)
        check_number("CompetitiveParams.theta_plus", self.theta_plus, minimum=0.0)
        check_number("CompetitiveParams.theta_tau", self.theta_tau, minimum=0.0, above=True, finite=False,
                     unit="images; inf: no decay")
        check_number("CompetitiveParams.w_sum", self.w_sum, minimum=0.0, above=True)
        check_number("CompetitiveParams.gain", self.gain, minimum=0.0, above=True)


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


@dataclass(frozen=True)
class _GainRateCode:
    """The layer's own rate code (`encode_rate` with its gain) in the shape `labkit.noise` encodes with."""
    gain: float
    temporal: ClassVar[bool] = False

    def __call__(self, x: torch.Tensor, num_steps: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return encode_rate(x, num_steps, gain=self.gain, generator=generator)

    def static(self, x: torch.Tensor) -> torch.Tensor:
        return x


class CompetitiveLayer(nn.Module):
    """A thin module around the competitive layer's pure functions; W, θ and the labels are buffers.

    ``layer(spikes_in)`` returns output spikes; `learn` applies `competitive_update`;
    `respond`, `fit_labels` and `predict` work on images (rate-coded inside, batch by batch), or, with an
    ``encoder`` whose spikes are the input (e.g. `labkit.encoders.FrameEncoder` for event frames), on what that
    encoder reads: the layer then sees the encoder's spikes ``[T, B, n_inputs]`` instead of its own rate code.
    """
    def __init__(
        self,
        n_neurons: int = 500,
        n_inputs: int = 784,
        params: CompetitiveParams = CompetitiveParams(),
        *,
        seed: int | None = 0,
        n_classes: int = 10,
        encoder=None,
    ):
        super().__init__()
        self.params, self.n_classes, self.encoder = params, n_classes, encoder
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
        """Rate code ``[T, B, n_inputs]`` of images ``[B, ...]`` with the layer's input gain (or the spikes of the
        layer's ``encoder``, flattened per step)."""
        if self.encoder is not None:
            return self.encoder(images, num_steps, generator).flatten(2)
        return encode_rate(images.flatten(1), num_steps, gain=self.params.gain, generator=generator)

    @torch.no_grad()
    def respond(
        self, images: torch.Tensor, num_steps: int = 25, *, batch_size: int = 1000, seed: int = 0,
        noise_sigma: float = 0.0, noise: str = DEFAULT_NOISE, noise_generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Spike counts ``[n_images, n_neurons]`` with learning off (deterministic for a given seed), optionally
        under input noise ``noise_sigma`` put in by the protocol ``noise`` (`labkit.noise`) from ``noise_generator``."""
        generator = torch.Generator(device=self.weight.device).manual_seed(seed)
        code = _GainRateCode(self.params.gain) if self.encoder is None else self.encoder
        counts = []
        for start in range(0, len(images), batch_size):
            x = images[start : start + batch_size].to(self.weight.device)
            spikes = noisy_input(noise, x, noise_sigma, encoder=code, num_steps=num_steps, noise=noise_generator,
                                 code=generator)
            counts.append(self(spikes.flatten(2)).sum(dim=0).cpu())
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
