"""The model bundle: everything needed to run a trained network in Lava, in one ``.npz`` file.

A bundle holds, for a feed-forward spiking network ``sizes[0] → sizes[1] → … → sizes[-1]``
of LIF layers, both descriptions of every layer:

* floating point (for Lava's ``floating_pt`` models): ``weight`` [n_out, n_in], ``bias``
  [n_out], and the shared neuron parameters β (``beta``), θ (``threshold``);
* Loihi's fixed point (for ``fixed_pt``; see `labkit.loihi.quantize`): the 8-bit weight
  mantissas ``weight_mant`` with the layer's ``weight_exp``, the bias mantissas
  ``bias_mant`` with ``bias_exp``, the threshold mantissa ``vth``, the 12-bit decays ``du``,
  ``dv``, and the scale σ that maps float membrane units to integer units.

and ``metadata`` (a JSON-serialisable dict: where the weights came from, the quantisation
settings, the time steps per sample).

The file is a plain ``numpy.savez_compressed`` archive with keys ``layer{l}/{field}`` and a
JSON header, readable with numpy alone: this module imports nothing but numpy so that the
Lava side (`labkit.loihi.lava`, in the sidecar) can read bundles in an environment without torch.

Beside the bundle, the record a Lava run returns (`LavaResult`) and how a class is read from it
(`predict_from_spikes`, the readouts of `labkit.readout`; `pre_reset_membrane`, the membrane the
lab records, from Lava's u and v, which Lava records after the reset).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Literal

import numpy as np

from ..foundation.errors import LabkitError
from ..foundation.io import check_regular_file, write_atomic
from ..foundation.validation import check_int, check_number

__all__ = ["FORMAT_VERSION", "Bundle", "LavaResult", "LavaUnavailable", "LayerBundle", "bundles_equal", "load_bundle",
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
    """A trained feed-forward LIF network ready for Lava (see the module docstring).

    Attributes:
        layers: the Dense → LIF layers, input side first.
        beta: membrane decay per step β (Lava float: dv = 1 − β, du = 1).
        threshold: firing threshold θ of the float model.
        num_steps: time steps per sample T the network was trained with.
        metadata: JSON-serialisable provenance and quantisation settings.
    """

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
    path = Path(path)
    header = {
        "format_version": FORMAT_VERSION,
        "beta": float(bundle.beta),
        "threshold": float(bundle.threshold),
        "num_steps": int(bundle.num_steps),
        "num_layers": len(bundle.layers),
        "metadata": bundle.metadata,
    }
    arrays: dict[str, np.ndarray] = {"header": np.array(json.dumps(header))}
    for index, layer in enumerate(bundle.layers):
        arrays[f"layer{index}/weight"] = np.asarray(layer.weight, dtype=np.float32)
        arrays[f"layer{index}/bias"] = np.asarray(layer.bias, dtype=np.float32)
        arrays[f"layer{index}/weight_mant"] = np.asarray(layer.weight_mant, dtype=np.int16)
        arrays[f"layer{index}/bias_mant"] = np.asarray(layer.bias_mant, dtype=np.int16)
        for name in _SCALARS:
            arrays[f"layer{index}/{name}"] = np.array(getattr(layer, name))
    return write_atomic(path, lambda f: np.savez_compressed(f, **arrays))


def load_bundle(path: str | os.PathLike) -> Bundle:
    """Read a bundle written by `save_bundle`: the one loader of ``bundle.npz``. `LabkitError` naming the file
    when it is not a regular file, not a bundle, of another format, misses an entry, or holds weights that
    are not finite."""
    import zipfile

    path = check_regular_file(path, "model bundle")
    if not path.exists():
        raise FileNotFoundError(f"no model bundle at {path}: write one with labkit.loihi.quantize.export_bundle")

    def damaged(what: str) -> LabkitError:
        return LabkitError(f"model bundle {path} is damaged or not a bundle ({what}): write it again with "
                           "`labkit deploy` (or labkit.loihi.quantize.export_bundle)")

    try:
        with np.load(path, allow_pickle=False) as z:
            header = json.loads(str(z["header"]))
            if not isinstance(header, dict):
                raise damaged("its header is not a JSON object")
            if header.get("format_version") != FORMAT_VERSION:
                raise LabkitError(
                    f"{path} is a bundle of format {header.get('format_version')!r}; this labkit reads format "
                    f"{FORMAT_VERSION}: write it again with this labkit's `labkit deploy`"
                )
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
            return Bundle(
                layers=tuple(layers),
                beta=header["beta"],
                threshold=header["threshold"],
                num_steps=header["num_steps"],
                metadata=header.get("metadata", {}),
            )
    except LabkitError:
        raise
    except KeyError as exc:
        raise damaged(f"no entry {exc.args[0]!r}") from None
    except (ValueError, TypeError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise damaged(f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}") from None


def bundles_equal(a: Bundle, b: Bundle) -> bool:
    """True when two bundles hold the same numbers (arrays compared exactly)."""
    if (a.beta, a.threshold, a.num_steps, a.metadata) != (b.beta, b.threshold, b.num_steps, b.metadata):
        return False
    if len(a.layers) != len(b.layers):
        return False
    for la, lb in zip(a.layers, b.layers):
        for f in fields(LayerBundle):
            va, vb = getattr(la, f.name), getattr(lb, f.name)
            if not np.array_equal(np.asarray(va), np.asarray(vb)):
                return False
    return True


# ----------------------------------------------------------------------------- what a Lava run returns


class LavaUnavailable(LabkitError, RuntimeError):
    """Neither an importable Lava nor a Lava sidecar interpreter was found."""


#: The readouts of `labkit.readout` (names only: this side imports no torch).
READOUTS = ("count", "count_membrane", "membrane")
#: Spike times per bit-mask word of the Lava spike recorder (float64 and int32 hold 2^30 − 1 exactly).
BITS_PER_WORD = 30


@dataclass
class LavaResult:
    """What a Lava run returns (time first, like the rest of the lab).

    Attributes:
        out_spikes: output-layer spikes ``[T, N, n_out]`` (bool).
        out_membrane: output-layer membrane before the reset ``[T, N, n_out]`` (float units) with
            ``record="spikes"``; None with ``record="counts"`` (no membrane probe).
        layer_counts: spikes per image per LIF layer ``[N, L]`` (int64).
        spikes: with ``record="spikes"``, every LIF layer's spikes ``[T, N, n]`` (bool); else None.
        mode: ``"float"`` or ``"fixed"``; backend: ``"in-process"`` or ``"sidecar"``.
        steps: simulated time steps.
        lava_seconds: wall time of building, running and reading the Lava network.
        total_seconds: wall time of the call, including the sidecar's start-up and file transfer.
    """

    out_spikes: np.ndarray
    out_membrane: np.ndarray | None
    layer_counts: np.ndarray
    spikes: list[np.ndarray] | None
    mode: str
    backend: str
    steps: int
    lava_seconds: float
    total_seconds: float

    @property
    def num_samples(self) -> int:
        return int(self.out_spikes.shape[1])

    @property
    def samples_per_second(self) -> float:
        """Images per second of Lava wall time (building and reading included)."""
        return self.num_samples / self.lava_seconds if self.lava_seconds > 0 else float("nan")

    @property
    def steps_per_second(self) -> float:
        return self.steps / self.lava_seconds if self.lava_seconds > 0 else float("nan")

    def predictions(self, readout: str | None = None) -> np.ndarray:
        """Class per image (`predict_from_spikes`; ``readout`` None: ``count_membrane`` where the membrane
        was recorded, else ``count``)."""
        return predict_from_spikes(self.out_spikes, self.out_membrane, readout=readout)


def predict_from_spikes(out_spikes: np.ndarray, out_membrane: np.ndarray | None = None, *,
                        readout: Literal["count", "count_membrane", "membrane"] | None = None) -> np.ndarray:
    """Class per sample from output spikes ``[T, N, C]``, as `labkit.readout.predict` reads it.

    ``count``: most output spikes, ties to the lowest class index (what a spike counter on the chip
    reports); ``count_membrane``: ties broken by the summed membrane ``[T, N, C]``; ``membrane``: the
    summed membrane alone. ``readout`` None means ``count_membrane`` when ``out_membrane`` is given.
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
