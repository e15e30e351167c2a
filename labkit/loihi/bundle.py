"""The model bundle: everything needed to run a trained network in Lava, in one ``.npz`` file.

A `Bundle` holds every Dense → LIF layer of a feed-forward network twice, in floating point (for
Lava's ``floating_pt`` models) and in Loihi's fixed point (for ``fixed_pt``; `labkit.loihi.quantize`),
with β, θ, the time steps per sample and JSON metadata (where the weights came from, the
quantisation settings). The file is a plain ``numpy.savez_compressed`` archive (keys
``layer{l}/{field}`` and a JSON header): this module imports nothing but numpy, so that the Lava
side (in the sidecar) reads bundles without torch.

Beside it, what a Lava run returns (`LavaResult`), how a class is read from it (`predict_from_spikes`)
and the membrane before the reset from Lava's u and v, which Lava records after it (`pre_reset_membrane`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..foundation.errors import LabkitError
from ..foundation.io import check_regular_file, write_atomic
from ..foundation.validation import check_int, check_number

__all__ = ["FORMAT_VERSION", "Bundle", "LavaResult", "LavaUnavailable", "LayerBundle", "load_bundle",
           "pre_reset_membrane", "predict_from_spikes", "save_bundle", "trains_from_bits"]

#: Version of the file layout; `load_bundle` refuses files it does not know.
FORMAT_VERSION = 1

_ARRAYS = ("weight", "bias", "weight_mant", "bias_mant")
_SCALARS = ("weight_exp", "bias_exp", "vth", "du", "dv", "scale")


@dataclass(frozen=True, eq=False)
class LayerBundle:
    """One Dense → LIF layer, in float and in Loihi fixed point.

    Attributes:
        weight, bias: float weights ``[n_out, n_in]`` and biases ``[n_out]`` (float32).
        weight_mant: integer weight mantissas (int16, even, |m| ≤ 254 for 8 bits).
        weight_exp: the layer's weight exponent: synaptic input = (Σ m·s) · 2^weight_exp.
        bias_mant, bias_exp: bias = bias_mant · 2^bias_exp, in units of the membrane register.
        vth: threshold mantissa (the neuron spikes when v > vth · 2^6).
        du, dv: 12-bit current and voltage decays (0…4095).
        scale: σ, integer units of (v / 2^6) per float membrane unit (vth = θ·σ).
    """

    weight: np.ndarray
    bias: np.ndarray
    weight_mant: np.ndarray
    bias_mant: np.ndarray
    weight_exp: int
    bias_exp: int
    vth: int
    du: int
    dv: int
    scale: float

    def __post_init__(self) -> None:
        w, b = np.asarray(self.weight), np.asarray(self.bias)
        if w.ndim != 2:
            raise LabkitError(f"LayerBundle.weight must be a 2-D matrix [n_out, n_in], got shape {w.shape}")
        if b.shape != (w.shape[0],):
            raise LabkitError(f"LayerBundle.bias must have shape ({w.shape[0]},), got {b.shape}")
        if np.shape(self.weight_mant) != w.shape or np.shape(self.bias_mant) != b.shape:
            raise LabkitError("LayerBundle: weight_mant and bias_mant must have the shapes of weight and bias")

    @property
    def n_in(self) -> int:
        return int(np.shape(self.weight)[1])

    @property
    def n_out(self) -> int:
        return int(np.shape(self.weight)[0])


@dataclass(frozen=True, eq=False)
class Bundle:
    """A trained feed-forward LIF network ready for Lava: its Dense → LIF ``layers`` (input side first), the
    decay β per step (Lava float: dv = 1 − β, du = 1) and threshold θ of the float model, the time steps per
    sample T it was trained with, and JSON-serialisable ``metadata`` (provenance, quantisation settings)."""

    layers: tuple[LayerBundle, ...]
    beta: float
    threshold: float
    num_steps: int = 25
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.layers:
            raise LabkitError("Bundle.layers must hold at least one layer")
        for prev, nxt in zip(self.layers, self.layers[1:]):
            if prev.n_out != nxt.n_in:
                raise LabkitError(f"Bundle.layers do not chain: a layer with {prev.n_out} outputs feeds one with {nxt.n_in} inputs")
        check_number("Bundle.beta", self.beta, minimum=0.0, maximum=1.0, unit="decay per step")
        check_number("Bundle.threshold", self.threshold, minimum=0.0, above=True)
        check_int("Bundle.num_steps", self.num_steps, 1)

    @property
    def sizes(self) -> tuple[int, ...]:
        """Layer widths, input first, e.g. (784, 500, 10)."""
        return (self.layers[0].n_in, *(layer.n_out for layer in self.layers))


def save_bundle(bundle: Bundle, path: str | os.PathLike) -> Path:
    """Write ``bundle`` to ``path`` (``.npz``, compressed); returns the path."""
    header = {"format_version": FORMAT_VERSION, "beta": float(bundle.beta), "threshold": float(bundle.threshold),
              "num_steps": int(bundle.num_steps), "num_layers": len(bundle.layers), "metadata": bundle.metadata}
    arrays: dict[str, np.ndarray] = {"header": np.array(json.dumps(header))}
    for index, layer in enumerate(bundle.layers):
        for name, dtype in zip(_ARRAYS, (np.float32, np.float32, np.int16, np.int16)):
            arrays[f"layer{index}/{name}"] = np.asarray(getattr(layer, name), dtype=dtype)
        for name in _SCALARS:
            arrays[f"layer{index}/{name}"] = np.array(getattr(layer, name))
    return write_atomic(Path(path), lambda f: np.savez_compressed(f, **arrays))


def load_bundle(path: str | os.PathLike) -> Bundle:
    """Read a bundle written by `save_bundle`: the one loader of ``bundle.npz``. `LabkitError` naming the file
    when it is not a regular file, not a bundle, of another format, misses an entry, or holds weights that
    are not finite."""
    import zipfile

    path = check_regular_file(path, "model bundle")
    if not path.exists():
        raise FileNotFoundError(f"no model bundle at {path}: write one with `labkit deploy` (or save_bundle)")

    def damaged(what: str) -> LabkitError:
        return LabkitError(f"model bundle {path} is damaged or not a bundle ({what}): write it again with "
                           "`labkit deploy` (or save_bundle)")

    try:
        with np.load(path, allow_pickle=False) as z:
            header = json.loads(str(z["header"]))
            if not isinstance(header, dict):
                raise damaged("its header is not a JSON object")
            if header.get("format_version") != FORMAT_VERSION:
                raise LabkitError(f"{path} is a bundle of format {header.get('format_version')!r}; this labkit reads "
                                  f"format {FORMAT_VERSION}: write it again with this labkit's `labkit deploy`")
            count = header.get("num_layers")
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise damaged(f"num_layers is {count!r}")
            layers = []
            for index in range(count):
                values = {name: z[f"layer{index}/{name}"] for name in _ARRAYS}
                for name in ("weight", "bias"):
                    if not np.isfinite(values[name]).all():
                        raise LabkitError(f"model bundle {path}: layer {index}'s {name} holds NaN or infinite "
                                          "values; the network diverged or the file is damaged. Deploy a finite "
                                          "network and write the bundle again")
                for name in _SCALARS:
                    value = z[f"layer{index}/{name}"].item()
                    values[name] = float(value) if name == "scale" else int(value)
                layers.append(LayerBundle(**values))
            return Bundle(layers=tuple(layers), beta=header["beta"], threshold=header["threshold"],
                          num_steps=header["num_steps"], metadata=header.get("metadata", {}))
    except LabkitError:
        raise
    except KeyError as exc:
        raise damaged(f"no entry {exc.args[0]!r}") from None
    except (ValueError, TypeError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise damaged(f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}") from None


class LavaUnavailable(LabkitError, RuntimeError):
    """Neither an importable Lava nor a Lava sidecar interpreter was found."""


#: Spike times per int64 bit-mask word of the Lava spike recorder.
BITS_PER_WORD = 30


@dataclass
class LavaResult:
    """What a Lava run returns (time first, like the rest of the lab).

    Attributes:
        out_spikes: output-layer spikes ``[T, N, n_out]`` (bool).
        out_membrane: output-layer membrane before the reset ``[T, N, n_out]`` (float units) with
            ``record="spikes"``; None with ``record="counts"`` (no membrane probe).
        layer_counts: spikes per image per LIF layer ``[N, L]`` (int64).
        spikes: every LIF layer's spikes ``[T, N, n]`` (bool), the input side first.
        mode: ``"float"`` or ``"fixed"``; backend: ``"in-process"`` or ``"sidecar"``; steps: simulated steps.
        lava_seconds, total_seconds: wall time of building, running and reading the Lava network, and of the
            whole call (with the sidecar's start-up and the file transfer).
    """

    out_spikes: np.ndarray
    out_membrane: np.ndarray | None
    layer_counts: np.ndarray
    spikes: list[np.ndarray]
    mode: str
    backend: str
    steps: int
    lava_seconds: float
    total_seconds: float

    def predictions(self) -> np.ndarray:
        """Class per image by spike count (`predict_from_spikes`)."""
        return predict_from_spikes(self.out_spikes)


def predict_from_spikes(out_spikes: np.ndarray) -> np.ndarray:
    """Class per sample from output spikes ``[T, N, C]``: most output spikes, ties to the lowest class index
    (`labkit.readout`'s ``count``; what a spike counter on the chip reports)."""
    out = np.asarray(out_spikes).astype(bool)
    if out.ndim != 3:
        raise ValueError(f"out_spikes must be [time, samples, classes], got shape {out.shape}")
    return np.argmax(out.sum(axis=0), axis=1)  # numpy's argmax returns the first of equal maxima


def trains_from_bits(bits: np.ndarray, steps_per_image: int) -> np.ndarray:
    """Bool spike trains ``[T, N, n]`` from bit masks ``[n, N, words]`` (bit t of word t // 30 = step t)."""
    words = np.asarray(bits, dtype=np.int64)
    word, bit = np.divmod(np.arange(steps_per_image), BITS_PER_WORD)
    return ((words[:, :, word] >> bit) & 1).astype(bool).transpose(2, 1, 0)


def pre_reset_membrane(u: np.ndarray, v: np.ndarray, bundle: Bundle, mode: str, layer: int = -1) -> np.ndarray:
    """The membrane before the reset, ``[T, N, n]`` in float units, from Lava's recorded current ``u`` and
    voltage ``v`` (after the reset), both ``[T, N, n]``, each image starting from rest. One step of Lava's
    update from the previous (reset) voltage recovers it::

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
