"""Reading classes and membranes out of what Lava recorded (numpy only, like the rest of the Lava side).

* `predict_from_spikes`: the class per image from output spikes, by the readouts of
  `labkit.readout` (``count``: most output spikes, ties to the lowest class index, which is
  what a spike counter on the chip reports; ``count_membrane``: ties broken by the summed
  membrane; ``membrane``: the summed membrane alone).
* `trains_from_bits`: spike trains ``[T, N, n]`` from the bit masks of
  `labkit.loihi.lava_io.processes.SpikeRecorder`.
* `pre_reset_membrane`: the membrane before the reset, which the lab records, from Lava's
  current u and voltage v, which Lava records after it.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from .bundle import Bundle

__all__ = ["READOUTS", "predict_from_spikes", "pre_reset_membrane", "trains_from_bits"]

#: The readouts of `labkit.readout` (kept as names here: this side imports no torch).
READOUTS = ("count", "count_membrane", "membrane")
BITS_PER_WORD = 30  # as labkit.loihi.lava_io.processes.BITS_PER_WORD (that module needs Lava)


def predict_from_spikes(
    out_spikes: np.ndarray,
    out_membrane: np.ndarray | None = None,
    *,
    readout: Literal["count", "count_membrane", "membrane"] | None = None,
) -> np.ndarray:
    """Class per sample from output spikes ``[T, N, C]``, as `labkit.readout.predict` reads it.

    ``readout`` None means ``"count_membrane"`` when ``out_membrane`` ``[T, N, C]`` (before the
    reset, float units) is given and ``"count"`` otherwise. Remaining ties go to the lowest index.
    """
    out = np.asarray(out_spikes).astype(bool)
    if out.ndim != 3:
        raise ValueError(f"out_spikes must be [time, samples, classes], got shape {out.shape}")
    if readout is None:
        readout = "count" if out_membrane is None else "count_membrane"
    if readout not in READOUTS:
        raise ValueError(f"unknown readout {readout!r}: choose one of {', '.join(map(repr, READOUTS))}")
    if readout != "count" and out_membrane is None:
        raise ValueError(f"readout {readout!r} needs the output membrane: run Lava with record='spikes'")
    counts = out.sum(axis=0).astype(np.int64)
    if readout == "count":
        return np.argmax(counts, axis=1)  # numpy's argmax returns the first of equal maxima
    membrane = np.asarray(out_membrane, dtype=np.float64).sum(axis=0)
    if readout == "membrane":
        return np.argmax(membrane, axis=1)
    best = counts == counts.max(axis=1, keepdims=True)
    return np.argmax(np.where(best, membrane, -np.inf), axis=1)


def trains_from_bits(bits: np.ndarray, steps_per_image: int) -> np.ndarray:
    """Bool spike trains ``[T, N, n]`` from bit masks ``[n, N, words]`` (bit t of word t // 30 = step t)."""
    words = np.asarray(bits).round().astype(np.int64)
    step = np.arange(steps_per_image)
    word, bit = np.divmod(step, BITS_PER_WORD)
    fired = (words[:, :, word] >> bit) & 1  # [n, N, T]
    return fired.astype(bool).transpose(2, 1, 0)


def pre_reset_membrane(u: np.ndarray, v: np.ndarray, bundle: Bundle, mode: str, layer: int = -1) -> np.ndarray:
    """The membrane before the reset, ``[T, N, n]`` in float units, from Lava's recorded current ``u``
    and voltage ``v`` (after the reset), both ``[T, N, n]``, each image starting from rest.

    Lava zeroes v after a spike; the lab (`labkit.neurons`) records the value that crossed θ.
    One step of Lava's update from the previous (reset) voltage recovers it::

        float:  v_pre = v_{t−1}·(1 − dv) + u_t + b
        fixed:  v_pre = decay(v_{t−1}, dv) + u_t + b_m·2^e_b,  then / (2^6 σ)
    """
    spec = bundle.layers[layer]
    previous = np.zeros_like(v)
    previous[1:] = v[:-1]
    if mode == "float":
        # Lava's float LIF computes v·(1 − dv) with dv = 1 − β (not v·β: the two differ in the last bit)
        return previous * (1.0 - (1.0 - bundle.beta)) + u + np.asarray(spec.bias, dtype=np.float64)
    product = previous.astype(np.int64) * (4096 - spec.dv)
    decayed = np.sign(product) * (np.abs(product) >> 12)
    bias = np.asarray(spec.bias_mant, dtype=np.int64) << spec.bias_exp
    limit = 2**23 - 1
    v_pre = np.clip(decayed + u.astype(np.int64) + bias, -limit, limit)
    return v_pre / (spec.scale * 2**6)
