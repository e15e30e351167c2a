r"""Input noise for the robustness test, as named protocols: where the noise enters.

The paper adds "Gaussian noise σ = 0.3" to the test inputs and does not say where it enters a
network that reads spikes. Each protocol below is one answer, a pure function of the clean batch.
Notation: :math:`x \in [0, 1]` a clean pixel, :math:`\varepsilon \sim \mathcal{N}(0, 1)` drawn
once per pixel (the same at every time step unless said otherwise), :math:`s_t` the input at
step t of T, :math:`\mathrm{B}(p)` a Bernoulli draw with probability p (the encoder's rate code).

``pixel_clip`` (the default; what the lab's runs record as ``noise_acc``)
    :math:`\tilde x = \mathrm{clip}(x + \sigma\varepsilon, 0, 1)`, :math:`s_t \sim \mathrm{B}(\tilde x)`.
    Clipping makes the noise one-sided on the ≈ 80 % of a digit that is black: there it adds a
    mean intensity :math:`E[\max(0, \sigma\varepsilon)] = \sigma/\sqrt{2\pi}` (0.12 at σ = 0.3).
``pixel_fresh``
    As ``pixel_clip`` with a new ε at every step:
    :math:`s_t \sim \mathrm{B}(\mathrm{clip}(x + \sigma\varepsilon_t, 0, 1))`.
    Each spike is then a Bernoulli draw with the smoothed probability
    :math:`E[\mathrm{clip}(x + \sigma\varepsilon, 0, 1)]`: the same mean shift, no frozen pattern.
``pixel_signed``
    Not clipped: the sign of :math:`\tilde x = x + \sigma\varepsilon` becomes the sign of the spike,
    :math:`s_t = \mathrm{sign}(\tilde x)\,\mathrm{B}(\min(1, |\tilde x|))`, so
    :math:`E[s_t] = \mathrm{clip}(\tilde x, -1, 1)`
    and the noise keeps zero mean in the input current (on a black pixel :math:`E[s_t] = 0`).
``normalized``
    Noise on the standardised input :math:`z = (x - \mu)/s` of a torchvision
    ``Normalize((0.1307,), (0.3081,))`` pipeline, mapped back to intensities for the rate code:
    :math:`\tilde x = \mathrm{clip}(s(z + \sigma\varepsilon) + \mu, 0, 1)
    = \mathrm{clip}(x + s\sigma\varepsilon, 0, 1)`;
    σ = 0.3 there is σ ≈ 0.092 on the pixels. (μ, s: the mean and standard deviation of the
    60,000 MNIST training pixels, 0.1307 and 0.3081.)
``spike_resample``
    Spike-train noise: the clean code :math:`s_t \sim \mathrm{B}(x)`, then each input bit is, with
    probability σ, replaced by a fresh draw at the digit's own mean rate ρ (its spikes per pixel
    and step): :math:`\tilde s_t = (1 - r_t)\,s_t + r_t\,\mathrm{B}(\rho)`, :math:`r_t \sim \mathrm{B}(\sigma)`.
    Deletions and insertions happen at the rate σ and balance: the expected spike count is kept.
``current``
    Direct encoding, noise on the input current: the network reads the analog
    :math:`I_t = g\,(x + \sigma\varepsilon)` at every step (not clipped, no spikes; g the encoder's gain).

A network without time (the ANN baseline) reads one static input per digit: the protocol's
expected input per step given its noise draws — :math:`\tilde x` for the pixel protocols (signed:
:math:`\mathrm{clip}(\tilde x, -1, 1)`; fresh: the mean of its T noisy images), :math:`(1 - \sigma)x + \sigma\bar x`
for ``spike_resample`` and :math:`x + \sigma\varepsilon` for ``current``.

Every protocol is the identity on the clean code at σ = 0 except ``current``, which changes the
encoding itself (its σ = 0 is the clean image read directly). Image noise draws from the
``noise`` generator, spikes from ``code``: one seed, the same numbers every time.
"""

from __future__ import annotations

import math
from typing import Callable, Protocol

import torch

__all__ = [
    "DEFAULT_NOISE", "LIST_TRANSPARENT", "MNIST_MEAN", "MNIST_STD", "NOISE_PROTOCOLS",
    "add_noise", "check_noise", "noisy_input", "noisy_static",
]

#: The protocol of the lab's runs (their ``noise_acc``).
DEFAULT_NOISE = "pixel_clip"

#: Mean and standard deviation of the MNIST training pixels in [0, 1] (torchvision users' ``Normalize`` constants).
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


class _Encoder(Protocol):
    gain: float

    def __call__(self, x: torch.Tensor, num_steps: int, generator: torch.Generator | None = None) -> torch.Tensor: ...

    def static(self, x: torch.Tensor) -> torch.Tensor: ...


def add_noise(x: torch.Tensor, sigma: float, generator: torch.Generator) -> torch.Tensor:
    """``clip(x + σ·N(0, 1), 0, 1)``, noise drawn from ``generator``; a new tensor (``x`` itself when σ = 0)."""
    if sigma == 0:
        return x
    return (x + sigma * _gauss(x, generator)).clamp_(0.0, 1.0)


def _gauss(x: torch.Tensor, generator: torch.Generator | None, shape: tuple | None = None) -> torch.Tensor:
    return torch.randn(x.shape if shape is None else shape, generator=generator, device=x.device, dtype=x.dtype)


def _pixel_clip(x, sigma, encoder, num_steps, noise, code):
    noisy = add_noise(x, sigma, noise)
    return noisy, (lambda: encoder(noisy, num_steps, code))


def _pixel_fresh(x, sigma, encoder, num_steps, noise, code):
    if getattr(encoder, "temporal", False):
        raise ValueError("pixel_fresh draws one noisy image per time step; stored frames have their own time axis: "
                         "use pixel_clip or spike_resample for event data")
    if sigma == 0:
        return x, (lambda: encoder(x, num_steps, code))
    frames = (x + sigma * _gauss(x, noise, (num_steps, *x.shape))).clamp_(0.0, 1.0)  # one noisy image per step
    return frames.mean(dim=0), (lambda: torch.cat([encoder(frame, 1, code) for frame in frames]))


def _pixel_signed(x, sigma, encoder, num_steps, noise, code):
    if sigma == 0:
        return x, (lambda: encoder(x, num_steps, code))
    noisy = x + sigma * _gauss(x, noise)
    return noisy.clamp(-1.0, 1.0), (lambda: encoder(noisy.abs().clamp_(max=1.0), num_steps, code) * noisy.sign())


def _normalized(x, sigma, encoder, num_steps, noise, code):
    return _pixel_clip(x, MNIST_STD * sigma, encoder, num_steps, noise, code)


def _spike_resample(x, sigma, encoder, num_steps, noise, code):
    if not sigma <= 1:
        raise ValueError(f"spike_resample takes σ as a probability in [0, 1], got {sigma!r}")
    if sigma == 0:
        return x, (lambda: encoder(x, num_steps, code))
    mean = x.flatten(1).mean(dim=1).view(-1, *([1] * (x.dim() - 1)))  # x̄ per digit

    def spikes():
        clean = encoder(x, num_steps, code)
        rate = clean.flatten(2).mean(dim=(0, 2)).view(1, -1, *([1] * (clean.dim() - 2)))  # ρ per digit
        redraw = torch.rand(clean.shape, generator=noise, device=x.device, dtype=clean.dtype) < sigma
        fresh = (torch.rand(clean.shape, generator=noise, device=x.device, dtype=clean.dtype) < rate).to(clean.dtype)
        return torch.where(redraw, fresh, clean)

    return (1 - sigma) * x + sigma * mean, spikes


def _current(x, sigma, encoder, num_steps, noise, code):
    noisy = x if sigma == 0 else x + sigma * _gauss(x, noise)
    if getattr(encoder, "temporal", False):
        return noisy, (lambda: encoder(noisy, num_steps, code))  # stored frames are read as they are
    gain = getattr(encoder, "gain", 1.0)
    return noisy, (lambda: (gain * noisy).unsqueeze(0).expand(num_steps, *noisy.shape).contiguous())


#: name → (one line, the function). Each function returns the static input and a thunk for the time-first input.
NOISE_PROTOCOLS: dict[str, tuple[str, Callable]] = {
    "pixel_clip": ("Gaussian pixel noise clipped to [0, 1], then rate coded", _pixel_clip),
    "pixel_fresh": ("Gaussian pixel noise drawn anew at every time step, clipped, rate coded", _pixel_fresh),
    "pixel_signed": ("Gaussian pixel noise not clipped: |x + σε| is the firing probability, its sign the spike's",
                     _pixel_signed),
    "normalized": ("Gaussian noise on the Normalize((0.1307,), (0.3081,)) input, mapped back and clipped",
                   _normalized),
    "spike_resample": ("spike-train noise: each input bit redrawn with probability σ at the digit's mean rate",
                       _spike_resample),
    "current": ("Gaussian noise on the input current of a direct encoding (analog x + σε at every step)", _current),
}


#: The protocols that hand the encoder's spikes to the network as they are, at any σ (at σ = 0 every protocol
#: does): there the spikes may travel as their list alone (`labkit.fast.lists.SpikeList`, the fast backend's).
LIST_TRANSPARENT = frozenset({"pixel_clip", "normalized", "current"})


def check_noise(name: str) -> str:
    """``name`` if it is a protocol of `NOISE_PROTOCOLS`, else a `ValueError` listing them."""
    if not isinstance(name, str) or name not in NOISE_PROTOCOLS:
        choices = ", ".join(f"{key!r} ({text})" for key, (text, _) in NOISE_PROTOCOLS.items())
        raise ValueError(f"unknown noise protocol {name!r}; choose one of: {choices}")
    return name


def _check_sigma(sigma: float) -> float:
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float)) or not (math.isfinite(sigma) and sigma >= 0):
        raise ValueError(f"noise_sigma must be a finite number >= 0, got {sigma!r}")
    return float(sigma)


def noisy_input(name: str, x: torch.Tensor, sigma: float, *, encoder: _Encoder, num_steps: int,
                noise: torch.Generator | None, code: torch.Generator | None) -> torch.Tensor:
    """The time-first input ``[T, B, …]`` a spiking network reads for the clean batch ``x`` under
    protocol ``name`` at noise level ``sigma`` (module docstring); ``encoder`` makes the spikes."""
    check_noise(name)
    _, spikes = NOISE_PROTOCOLS[name][1](x, _check_sigma(sigma), encoder, num_steps, noise, code)
    return spikes()


def noisy_static(name: str, x: torch.Tensor, sigma: float, *, encoder: _Encoder, num_steps: int,
                 noise: torch.Generator | None) -> torch.Tensor:
    """The one static input ``[B, …]`` a network without time reads under protocol ``name``: the
    expected input per step given the protocol's noise draws (module docstring)."""
    check_noise(name)
    static, _ = NOISE_PROTOCOLS[name][1](x, _check_sigma(sigma), encoder, num_steps, noise, None)
    return encoder.static(static)
