r"""Encoders: one object turns a batch of samples into the time-first input ``[T, B, …]`` of a network.

A `labkit.data.Data` record carries its encoder (``Data.encoder``); the training loop, the
evaluation and the operation counts call it instead of asking how the data is stored.

* `RateEncoder`: static images ``[B, …]`` in [0, 1] become Bernoulli spike trains, a spike
  with probability :math:`\min(1, g\,x)` at each of T steps (`labkit.encoding.encode_rate`, the
  paper's rate code, with random numbers drawn only for the pixels that can spike).
* `FrameEncoder`: event data stored as frames ``[B, T, …]`` is only made time-first; T is the
  number of stored frames. Frames may be stored as float, bool or uint8 (0/1), or bit-packed
  (``packed=(T, …)``: one row of ``⌈T·…/8⌉`` bytes per sample, `numpy.packbits` order, 8× less
  than uint8 and 32× less than float32); each batch becomes float32 only when it is encoded.

Each encoder also gives the one static input per sample a non-spiking model (the ANN
baseline) reads: the image itself, or the frames' average over time.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import ClassVar, Protocol, runtime_checkable

import torch

from .encoding import encode_rate

__all__ = ["Encoder", "FrameEncoder", "RateEncoder", "frames_if_temporal", "unpack_bits"]


@runtime_checkable
class Encoder(Protocol):
    """Turns a batch into time-first network input, and into one static input per sample."""

    #: True when the samples are stored with their own time axis ``[N, T, …]``.
    temporal: ClassVar[bool]

    def __call__(self, x: torch.Tensor, num_steps: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Time-first input ``[T, B, …]`` of the batch ``x``."""
        ...

    def static(self, x: torch.Tensor) -> torch.Tensor:
        """One input per sample ``[B, …]`` for a model without time."""
        ...


@dataclass(frozen=True)
class RateEncoder:
    """Bernoulli rate code of images in [0, 1] with gain ``gain`` (paper: 1)."""

    gain: float = 1.0
    temporal: ClassVar[bool] = False

    def __call__(self, x: torch.Tensor, num_steps: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return encode_rate(x, num_steps, gain=self.gain, generator=generator, silent_draws=False)

    def static(self, x: torch.Tensor) -> torch.Tensor:
        return x


def unpack_bits(bits: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    """Bit-packed samples ``bits [B, ⌈prod(shape)/8⌉]`` (uint8, `numpy.packbits` order: the first value in the
    highest bit) as float32 ``[B, *shape]`` in {0, 1}."""
    count = math.prod(shape)
    shifts = torch.arange(7, -1, -1, dtype=torch.uint8, device=bits.device)
    values = (bits.unsqueeze(-1) >> shifts) & 1  # [B, bytes, 8]: bit 7 first
    return values.flatten(1)[:, :count].reshape(len(bits), *shape).to(torch.float32)


@dataclass(frozen=True)
class FrameEncoder:
    """Stored frames ``[B, T, …]`` made time-first ``[T, B, …]`` (``num_steps`` is the stored T).

    ``packed``: the shape ``(T, …)`` of one sample when the frames are stored bit-packed, ``[B, bytes]``
    uint8 (`unpack_bits`); None (default): stored as frames, float or integer 0/1. Either way a batch
    becomes float32 here, so a data set can stay in its compact form until it is used.
    """

    packed: tuple[int, ...] | None = None
    temporal: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if self.packed is not None:
            shape = tuple(self.packed)
            if len(shape) < 2 or not all(isinstance(n, int) and n >= 1 for n in shape):
                raise ValueError(f"FrameEncoder: packed must be the shape (T, ...) of one sample, positive integers, "
                                 f"got {self.packed!r}")
            object.__setattr__(self, "packed", shape)

    def frames(self, x: torch.Tensor) -> torch.Tensor:
        """The batch ``x`` as floating-point frames ``[B, T, …]``: integer 0/1 frames as float32, packed ones
        unpacked (float frames as they are)."""
        if self.packed is not None:
            expected = -(-math.prod(self.packed) // 8)
            if x.dtype != torch.uint8 or x.dim() != 2 or x.shape[1] != expected:
                raise ValueError(f"FrameEncoder(packed={self.packed}) reads uint8 rows of {expected} bytes per "
                                 f"sample, got {x.dtype} of shape {tuple(x.shape)}: pack the frames with "
                                 "labkit.data.frames.pack, or use FrameEncoder() for unpacked frames")
            return unpack_bits(x, self.packed)
        return x if x.is_floating_point() else x.to(torch.float32)

    def __call__(self, x: torch.Tensor, num_steps: int | None = None,
                 generator: torch.Generator | None = None) -> torch.Tensor:
        return self.frames(x).transpose(0, 1)

    def static(self, x: torch.Tensor) -> torch.Tensor:
        return self.frames(x).mean(dim=1)


def frames_if_temporal(encoder: Encoder | None, temporal: bool | None) -> Encoder | None:
    """The encoder of a call that still passes the deprecated ``temporal`` flag: ``temporal=True`` is
    `FrameEncoder` (with a `DeprecationWarning`); without the flag, ``encoder`` as given."""
    if temporal is None:
        return encoder
    warnings.warn("temporal= is deprecated: pass encoder=FrameEncoder() (labkit.encoders) for frames [N, T, ...]",
                  DeprecationWarning, stacklevel=3)
    if temporal and encoder is None:
        return FrameEncoder()
    return encoder
