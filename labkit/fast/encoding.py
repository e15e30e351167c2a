"""The fast backend's rate code: the spikes of `labkit.encoding.encode_rate` (``silent_draws=False``) listed
while they are drawn.

`encode_rate_indexed` draws the code `labkit.encoders.RateEncoder` draws (random numbers only for
the pixels that can spike, p > 0, one per step) and lists the spikes (`labkit.fast.lists.SpikeIndex`)
in the same pass, in the row-by-row order the first layer's product reads. On the CPU that pass is
one compiled loop (`labkit.fast.kernels`) that reads the numbers ``torch.rand`` drew; the torch
operations below it give the same code elsewhere. `list_rate` draws the same
spikes as their list alone, for a network that reads nothing else (a `labkit.fast.FastSpikingMLP`).
tests/test_fast.py checks both against `labkit.encoding.encode_rate`.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from ..encoding import check_intensities, encode_rate
from ..foundation.validation import check_int
from . import kernels
from .lists import SpikeIndex, SpikeList, spike_index

__all__ = ["RateCode", "encode_rate_indexed", "list_rate"]


class RateCode(NamedTuple):
    """A rate code and the list of its spikes.

    ``spikes`` ``[num_steps, batch, ...]`` as `labkit.encoding.encode_rate` returns it; ``index`` its nonzeros
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
    """The Bernoulli rate code of `labkit.encoding.encode_rate` (``silent_draws=False``) with its spikes listed
    (`RateCode`).

    The same process: every pixel spikes with probability ``min(1, gain · x)`` at each step,
    independently. A pixel with p = 0 can never spike, so it draws no random number: only the
    others do, ``num_steps`` each (the stream of ``encode_rate(..., silent_draws=False)``).
    The spikes are listed while they are drawn, in the row-by-row order `labkit.fast.lists.spike_index`
    produces, so the first layer need not search the dense tensor for them.

    Args:
        images: intensities in [0, 1], ``[batch, ...]`` (e.g. ``[batch, 28, 28]``).
        num_steps, gain, generator: as in `labkit.encoding.encode_rate`.
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
    """The spikes of `encode_rate_indexed` as their list alone (`labkit.fast.lists.SpikeList`, ``[T, batch, features]``).

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
    check_int("num_steps", num_steps, 1)
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
    if features and kernels.available(p):  # compiled passes (labkit.fast.kernels), the same result as the torch below
        p_candidates, columns_of, sample_starts = kernels.rate_candidates(p, batch, features, index_type)
        noise = torch.rand((num_steps, p_candidates.numel()), generator=generator, dtype=images.dtype)
        spikes, columns, offsets = kernels.draw_rate_code(noise, p_candidates, None, batch, features, index_type,
                                                          dense=dense, layout=(columns_of, sample_starts))
        return spikes, SpikeIndex(columns, offsets, None)
    # without the compiled loop: the default path's code, its spikes listed afresh (the same draws, the same list)
    spikes = encode_rate(images, num_steps, gain=gain, generator=generator, silent_draws=False).reshape(-1)
    rows, listed = num_steps * batch, spikes if dense else None
    if not features:
        empty = torch.zeros(0, dtype=index_type, device=images.device)
        return listed, SpikeIndex(empty, torch.zeros(rows + 1, dtype=index_type, device=images.device), None)
    return listed, spike_index(spikes.view(rows, features), binary=True)
