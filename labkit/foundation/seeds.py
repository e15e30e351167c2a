r"""Named seed streams: every random draw of a run comes from a generator seeded by (seed, stream, …).

A run takes one integer ``seed``. Each kind of randomness (batch order, rate-code spikes, test
noise, …) draws from its own `Stream`, so changing how many numbers one of them uses never
shifts another, and a run resumed at epoch e draws exactly what an uninterrupted run would have.

Two formulas are in use; both are kept bit for bit because committed results depend on them:

* **per epoch** (the gradient loop, evaluation): :math:`(s \cdot 1\,000\,003 + k \cdot 10\,007 + e) \bmod 2^{63}`
  for seed s, stream k and epoch e — `epoch_seed`, `epoch_generator`;
* **per counter** (the competitive layer, one generator per epoch *and* batch): start from
  :math:`v = s \cdot 1\,000\,003 + k \cdot 10\,007`, then :math:`v \leftarrow v \cdot 1\,000\,033 + c`
  for each counter c, and take :math:`v \bmod 2^{63}` — `counter_seed`, `counter_generator`;
* the competitive layer's labelling and test passes seed one generator each with
  :math:`s \cdot 1\,000\,003 + k` — `pass_seed`.
"""

from __future__ import annotations

from enum import IntEnum

import torch

from .validation import check_int

__all__ = ["MAX_SEED", "Stream", "check_seed", "counter_generator", "counter_seed", "epoch_generator", "epoch_seed",
           "pass_seed"]

_SEED_FACTOR, _STREAM_FACTOR, _COUNTER_FACTOR = 1_000_003, 10_007, 1_000_033
_MODULUS = 2**63
#: The largest seed: the formulas work modulo 2^63, so a larger seed would silently equal a smaller one.
MAX_SEED = _MODULUS - 1


def check_seed(seed, name: str = "seed") -> int:
    """``seed`` if it is an integer in [0, 2^63 − 1], else `LabkitError` (a negative or larger seed would give
    the same streams as another seed: 2^63 + 5 draws exactly what 5 draws)."""
    return check_int(name, seed, 0, maximum=MAX_SEED)


class Stream(IntEnum):
    """The lab's random streams (the numbers are part of the seed formulas: never renumber)."""

    BATCH_ORDER = 1  #: the permutation of the training set each epoch
    RATE_CODE = 2  #: the Bernoulli spikes of the training inputs
    LABELLING = 5  #: the competitive layer's pass over the labelled training images
    TEST_PASS = 6  #: the competitive layer's pass over the test images
    EVAL_NOISE = 7  #: Gaussian noise added to test images
    EVAL_CODE = 8  #: the Bernoulli spikes of the test inputs
    PERTURB = 9  #: the random-direction control of an update rule (`labkit.rules`, direction="random")
    UNLABELLED = 10  #: the order of unlabelled digits in the plasticity study


def epoch_seed(seed: int, stream: int, epoch: int = 0) -> int:
    """``(seed · 1,000,003 + stream · 10,007 + epoch) mod 2^63``."""
    check_seed(seed)
    return (seed * _SEED_FACTOR + stream * _STREAM_FACTOR + epoch) % _MODULUS


def epoch_generator(seed: int, stream: int, epoch: int = 0, device: str | torch.device = "cpu") -> torch.Generator:
    """A generator on ``device`` seeded with `epoch_seed`."""
    return torch.Generator(device=device).manual_seed(epoch_seed(seed, stream, epoch))


def counter_seed(seed: int, stream: int, *counters: int) -> int:
    """``v = seed · 1,000,003 + stream · 10,007``, then ``v ← v · 1,000,033 + c`` per counter; ``v mod 2^63``."""
    check_seed(seed)
    value = seed * _SEED_FACTOR + stream * _STREAM_FACTOR
    for c in counters:
        value = value * _COUNTER_FACTOR + c
    return value % _MODULUS


def counter_generator(seed: int, stream: int, *counters: int, device: str | torch.device = "cpu") -> torch.Generator:
    """A generator on ``device`` seeded with `counter_seed`."""
    return torch.Generator(device=device).manual_seed(counter_seed(seed, stream, *counters))


def pass_seed(seed: int, stream: int) -> int:
    """``seed · 1,000,003 + stream``: the seed of one whole pass (the competitive layer's labelling and test)."""
    check_seed(seed)
    return seed * _SEED_FACTOR + stream
