r"""Encoding static images as spike trains, time first: ``[time, batch, ...]``.

Rate coding (the paper's): each pixel intensity :math:`x \in [0, 1]` is the probability of a
spike at every time step, independently (a Bernoulli process):

.. math::  s_t \sim \mathrm{Bernoulli}(\min(1, g\,x)), \qquad t = 1 \dots T

so the expected spike count of a pixel over T steps is :math:`T g x` (g: gain).

Latency coding (the contrast): each pixel fires once, brighter pixels earlier,

.. math::  t_{spike} = \mathrm{round}((1 - x)(T - 1)) \quad \text{for } x > x_{min}

and pixels at or below :math:`x_{min}` never fire. (Gütig and Sompolinsky, 2006, discuss
first-spike codes; snnTorch's ``spikegen.latency`` offers a linear variant like this one.)

Randomness enters only through an explicit ``torch.Generator``.
"""

from __future__ import annotations

import torch

__all__ = ["check_intensities", "decode_rate", "encode_latency", "encode_rate"]


def check_intensities(images: torch.Tensor) -> None:
    """Raise `ValueError` unless ``images`` is a floating tensor with finite values in [0, 1]."""
    if not torch.is_tensor(images) or not images.is_floating_point():
        raise ValueError(
            "images must be a floating-point tensor with values in [0, 1]; "
            "convert uint8 pixels with images.float() / 255"
        )
    if not torch.isfinite(images).all():
        raise ValueError("images contain NaN or infinite values; clean the input before encoding")
    if images.numel() and (images.min() < 0 or images.max() > 1):
        raise ValueError(
            f"images must lie in [0, 1] (got min {images.min().item():.3g}, max {images.max().item():.3g}); "
            "scale them, or clamp noisy inputs with images.clamp(0, 1)"
        )


def _check_steps(num_steps: int) -> None:
    if not isinstance(num_steps, int) or num_steps < 1:
        raise ValueError(f"num_steps must be an integer >= 1, got {num_steps!r}")


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
