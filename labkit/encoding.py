r"""Encoding static images as spike trains, time first: ``[time, batch, ...]``.

Rate coding (the paper's): each pixel intensity :math:`x \in [0, 1]` is the probability of a
spike at every time step, independently (a Bernoulli process):

.. math::  s_t \sim \mathrm{Bernoulli}(\min(1, g\,x)), \qquad t = 1 \dots T

so the expected spike count of a pixel over T steps is :math:`T g x` (g: gain).

Latency coding (the contrast): each pixel fires once, brighter pixels earlier,

.. math::  t_{spike} = \mathrm{round}((1 - x)(T - 1)) \quad \text{for } x > x_{min}

and pixels at or below :math:`x_{min}` never fire. (Gütig and Sompolinsky, 2006, discuss
first-spike codes; snnTorch's ``spikegen.latency`` offers a linear variant like this one.)

A pixel of intensity 0 never spikes, whatever its random number. `encode_rate` draws one for it
anyway (``silent_draws=True``, the plain formula); with ``silent_draws=False`` only the pixels that
can spike (p > 0, about a fifth of an MNIST digit) draw theirs, one per step: the same process,
another stream of the same generator. That is the code the lab's networks are trained and
tested with (`labkit.encoders.RateEncoder`); tests/test_encoding.py keeps it frozen.

Randomness enters only through an explicit ``torch.Generator``.
"""

from __future__ import annotations

import math

import torch

from .foundation.validation import check_int

__all__ = ["check_intensities", "decode_rate", "encode_latency", "encode_rate"]


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
    silent_draws: bool = True,
) -> torch.Tensor:
    """Bernoulli rate code: ``spikes[t, ...] = rand < gain · image`` for ``t < num_steps``.

    Args:
        images: intensities in [0, 1], any shape (e.g. ``[batch, 28, 28]``).
        num_steps: T, the number of time steps (paper: 25).
        gain: scales the firing probability (clipped at 1).
        generator: source of randomness; the same seed gives the same spikes.
        silent_draws: whether pixels that cannot spike (p = 0) draw random numbers too (module
            docstring); False is the stream of `labkit.encoders.RateEncoder`, the lab's training code.

    Returns:
        A float tensor of 0/1 spikes, shape ``[num_steps, *images.shape]``.
    """
    check_intensities(images)
    _check_steps(num_steps)
    if not gain >= 0:
        raise ValueError(f"gain must be >= 0, got {gain!r}")
    p = images.detach() if gain == 1.0 else (images.detach() * gain).clamp_(max=1.0)
    if silent_draws:
        noise = torch.rand((num_steps, *images.shape), generator=generator, device=images.device, dtype=images.dtype)
        return noise.lt_(p)  # 1.0 where noise < p, written over the noise: no boolean temporary
    p = p.reshape(-1)
    can_spike = p.nonzero().squeeze(1)  # the pixels with p > 0, in order
    noise = torch.rand((num_steps, can_spike.numel()), generator=generator, device=images.device, dtype=images.dtype)
    spikes = torch.zeros(num_steps, p.numel(), device=images.device, dtype=images.dtype)
    spikes.index_copy_(1, can_spike, noise.lt_(p[can_spike]))  # the other pixels stay 0
    return spikes.view(num_steps, *images.shape)


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
