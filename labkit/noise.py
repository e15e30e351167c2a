r"""Input noise for the robustness test.

Gaussian pixel noise, clipped back to the valid intensity range (the paper's robustness test
adds σ = 0.3 to the test images):

.. math::  \tilde{x} = \mathrm{clip}(x + \sigma \cdot \varepsilon,\ 0,\ 1), \qquad \varepsilon \sim \mathcal{N}(0, 1)
"""

from __future__ import annotations

import torch

__all__ = ["add_noise"]


def add_noise(x: torch.Tensor, sigma: float, generator: torch.Generator) -> torch.Tensor:
    """``clip(x + σ·N(0, 1), 0, 1)``, noise drawn from ``generator``; a new tensor (``x`` itself when σ = 0)."""
    if sigma == 0:
        return x
    noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return (x + sigma * noise).clamp_(0.0, 1.0)
