r"""Encoding static images as spike trains, time first: ``[time, batch, ...]``.

Rate coding (the paper's): each pixel intensity :math:`x \in [0, 1]` is the probability of a
spike at every time step, independently (a Bernoulli process):

.. math::  s_t \sim \mathrm{Bernoulli}(\min(1, g\,x)), \qquad t = 1 \dots T

so the expected spike count of a pixel over T steps is :math:`T g x` (g: gain).

Latency coding (the contrast): each pixel fires once, brighter pixels earlier,

.. math::  t_{spike} = \mathrm{round}((1 - x)(T - 1)) \quad \text{for } x > x_{min}

and pixels at or below :math:`x_{min}` never fire. (Gütig and Sompolinsky, 2006, discuss
first-spike codes; snnTorch's ``spikegen.latency`` offers a linear variant like this one.)

`encode_rate_indexed` draws the same code for a network to read: random numbers only for the
pixels that can spike (p > 0; about a fifth of an MNIST digit), and the list of the spikes
(`labkit.sparse.SpikeIndex`) the first layer's sparse product needs, made in the same pass. On
the CPU that pass is one compiled loop (`labkit.kernels`) that also draws the numbers, exactly
those ``torch.rand`` would draw; the torch operations below it give the same code elsewhere
(tests/test_encoding.py keeps the code frozen). `list_rate` draws the same spikes as their list
alone, for a network that reads nothing else.

Randomness enters only through an explicit ``torch.Generator``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from . import kernels
from .foundation.validation import check_int
from .sparse import SpikeIndex, SpikeList

__all__ = [
    "RateCode", "check_intensities", "decode_rate", "encode_latency", "encode_rate", "encode_rate_indexed", "list_rate",
]


def check_intensities(images: torch.Tensor) -> None:
    """Raise `ValueError` unless ``images`` is a floating tensor with finite values in [0, 1]."""
    if not torch.is_tensor(images) or not images.is_floating_point():
        raise ValueError(
            "images must be a floating-point tensor with values in [0, 1]; "
            "convert uint8 pixels with images.float() / 255"
        )
    if not images.numel():
        return
    low, high = (float(v) for v in torch.aminmax(images.detach()))  # one pass; a NaN shows in both, ±inf in one
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError("images contain NaN or infinite values; clean the input before encoding")
    if low < 0 or high > 1:
        raise ValueError(
            f"images must lie in [0, 1] (got min {low:.3g}, max {high:.3g}); "
            "scale them, or clamp noisy inputs with images.clamp(0, 1)"
        )


def _check_steps(num_steps: int) -> None:
    check_int("num_steps", num_steps, 1)


def encode_rate(
    images: torch.Tensor,
    num_steps: int = 25,
    *,
    gain: float = 1.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Bernoulli rate code: ``spikes[t, ...] = rand < gain · image`` for ``t < num_steps``.

    Args:
        images: intensities in [0, 1], any shape (e.g. ``[batch, 28, 28]``).
        num_steps: T, the number of time steps (paper: 25).
        gain: scales the firing probability (clipped at 1).
        generator: source of randomness; the same seed gives the same spikes.

    Returns:
        A float tensor of 0/1 spikes, shape ``[num_steps, *images.shape]``.
    """
    check_intensities(images)
    _check_steps(num_steps)
    if not gain >= 0:
        raise ValueError(f"gain must be >= 0, got {gain!r}")
    p = images if gain == 1.0 else (images * gain).clamp_(max=1.0)
    noise = torch.rand((num_steps, *images.shape), generator=generator, device=images.device, dtype=images.dtype)
    return noise.lt_(p.detach())  # 1.0 where noise < p, written over the noise: no boolean temporary


class RateCode(NamedTuple):
    """A rate code and the list of its spikes.

    ``spikes`` ``[num_steps, batch, ...]`` as `encode_rate` returns it; ``index`` its nonzeros
    with one row per time step and sample (row ``t·batch + b``, columns the flattened pixels).
    """

    spikes: torch.Tensor
    index: SpikeIndex


def encode_rate_indexed(
    images: torch.Tensor,
    num_steps: int = 25,
    *,
    gain: float = 1.0,
    generator: torch.Generator | None = None,
) -> RateCode:
    """The Bernoulli rate code of `encode_rate` with its spikes listed (`RateCode`).

    The same process: every pixel spikes with probability ``min(1, gain · x)`` at each step,
    independently. A pixel with p = 0 can never spike, so it draws no random number: only the
    others do, ``num_steps`` each (another stream than `encode_rate`'s for the same generator).
    The spikes are listed while they are drawn, in the row-by-row order `labkit.sparse.spike_index`
    produces, so the first layer need not search the dense tensor for them.

    Args:
        images: intensities in [0, 1], ``[batch, ...]`` (e.g. ``[batch, 28, 28]``).
        num_steps, gain, generator: as in `encode_rate`.
    """
    spikes, index = _draw_listed(images, num_steps, gain, generator, dense=True)
    return RateCode(spikes.view(num_steps, *images.shape), index)


def list_rate(
    images: torch.Tensor,
    num_steps: int = 25,
    *,
    gain: float = 1.0,
    generator: torch.Generator | None = None,
) -> SpikeList:
    """The spikes of `encode_rate_indexed` as their list alone (`labkit.sparse.SpikeList`, ``[T, batch, features]``).

    The same numbers from the same generator, so the same spikes (``list_rate(...).dense()`` is
    ``encode_rate_indexed(...).spikes`` flattened), without writing the dense code: about a third
    of the encoder's time and memory for a network that only reads the list (the training loop's).
    """
    _, index = _draw_listed(images, num_steps, gain, generator, dense=False)
    features = images[0].numel() if len(images) else 0
    return SpikeList(index, (num_steps, images.shape[0], features), images.dtype)


def _draw_listed(images: torch.Tensor, num_steps: int, gain: float, generator: torch.Generator | None,
                 dense: bool) -> tuple[torch.Tensor | None, SpikeIndex]:
    """The rate code ``[T · batch · features]`` (``None`` unless ``dense``) and its list, drawn as
    `encode_rate_indexed` says."""
    check_intensities(images)
    _check_steps(num_steps)
    if not gain >= 0:
        raise ValueError(f"gain must be >= 0, got {gain!r}")
    if images.dim() < 1:
        raise ValueError("images must have a batch dimension, e.g. [batch, 28, 28]")
    batch = images.shape[0]
    features = images[0].numel() if batch else 0
    p = images.detach().reshape(-1)
    if gain != 1.0:
        p = (p * gain).clamp_(max=1.0)
    index_type = torch.int32 if num_steps * images.numel() < 2**31 else torch.long
    if features and kernels.available(p):  # compiled passes (labkit.kernels), the same result as the torch below
        p_candidates, columns_of, sample_starts = kernels.rate_candidates(p, batch, features, index_type)
        layout = (columns_of, sample_starts)
        if kernels.draws_inline(generator, images.dtype):  # one pass that also draws the numbers torch.rand would
            spikes, columns, offsets = kernels.draw_rate_code(None, p_candidates, None, batch, features, index_type,
                                                              generator, num_steps, dense=dense, layout=layout)
        else:
            noise = torch.rand((num_steps, p_candidates.numel()), generator=generator, dtype=images.dtype)
            spikes, columns, offsets = kernels.draw_rate_code(noise, p_candidates, None, batch, features, index_type,
                                                              dense=dense, layout=layout)
        return spikes, SpikeIndex(columns, offsets, None)
    candidates = p.nonzero().squeeze(1)  # positions b·features + f that can spike, ascending
    p_candidates = p.index_select(0, candidates)
    noise = torch.rand((num_steps, candidates.numel()), generator=generator, device=images.device, dtype=images.dtype)
    fired = noise < p_candidates  # [num_steps, candidates]
    # position in the [num_steps · batch · features] code: t·batch·features + b·features + f, ascending
    step_starts = torch.arange(num_steps, device=images.device).mul_(batch * features).unsqueeze(1)
    flat = (step_starts + candidates).masked_select(fired)
    spikes = None
    if dense:
        spikes = torch.zeros(num_steps * images.numel(), device=images.device, dtype=images.dtype)
        spikes.index_fill_(0, flat, 1.0)
    rows = num_steps * batch
    row_starts = torch.arange(rows + 1, device=images.device).mul_(features)
    offsets = torch.searchsorted(flat, row_starts).to(index_type)
    columns = flat.remainder(features).to(index_type) if features else flat.to(index_type)
    return spikes, SpikeIndex(columns, offsets, None)


def encode_latency(images: torch.Tensor, num_steps: int = 25, *, min_intensity: float = 0.0) -> torch.Tensor:
    """Latency code: one spike per pixel at step ``round((1 − x)(T − 1))``; x ≤ ``min_intensity`` never fires."""
    check_intensities(images)
    _check_steps(num_steps)
    t_spike = torch.round((1 - images) * (num_steps - 1)).long()
    steps = torch.arange(num_steps, device=images.device).view(-1, *([1] * images.dim()))
    return ((steps == t_spike) & (images > min_intensity)).to(images.dtype)


def decode_rate(spikes: torch.Tensor) -> torch.Tensor:
    """Estimate intensities from a rate code: the spike count divided by T (mean over time)."""
    return spikes.mean(dim=0)
