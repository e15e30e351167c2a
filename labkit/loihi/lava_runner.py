"""Run a model bundle in Lava's Loihi simulation (numpy and lava-nc only; no torch here).

The network is built from Lava's own processes (lava-nc 0.10)::

    RingBuffer source → Dense → LIFReset → Dense → LIFReset → … → RingBuffer sinks

and run under ``Loihi2SimCfg(select_tag="floating_pt")`` or ``"fixed_pt"`` (bit-accurate).

**Many images in one run.** Images are played back to back, T steps each, with no gap: the
LIF layers are Lava's ``LIFReset``, which zero u and v every ``reset_interval = T`` steps at a
chosen phase. Each Dense delays its output by one step (Lava buffers the synaptic input for
one step so that recurrent graphs cannot deadlock), so LIF layer l (1-based) sees step t of
image k at simulation step ``k·T + t + l + 1`` (1-based), and its reset phase is
``(l + 1) mod T``. Within its window every layer therefore starts from u = v = 0 and receives
only that image, exactly as if each image were a separate run, while one run covers a whole
chunk of images: ``chunk·T + L + 1`` steps for L layers. (A zero-input gap would not do: with
a bias the membrane does not return to rest.) Chunks bound the memory of the input buffer
(784 × chunk·T numbers) and the set-up cost of one run is paid once per chunk.

**What is read back.** Lava's ``Var.get`` sends arrays element by element, so reading a
500 × 25,000 spike record would take longer than the simulation. The runner therefore reads
the output layer's spikes (n_out × steps) and, per LIF layer, one number per step: the layer's
spike count, summed on the "chip" by an extra Dense with all-one weights into a one-neuron
sink. ``record="spikes"`` reads every layer's full spike trains instead (small networks, tests).

**Where Lava runs.** In this process when ``import lava`` works (Python 3.10, e.g. the conda
environment); otherwise in the Lava sidecar interpreter (``$LABKIT_LAVA_PYTHON`` or the
repository's ``.venv-lava/bin/python``) as ``python -m labkit.loihi.lava_runner``, with the
bundle and the input spikes passed as ``.npz`` files. Both give the same `LavaResult`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal

import numpy as np

from ..foundation.paths import REPO_ROOT as _REPO
from .bundle import Bundle, load_bundle, save_bundle

__all__ = [
    "LavaResult",
    "LavaUnavailable",
    "lava_available",
    "lava_backend",
    "pre_reset_membrane",
    "predict_from_spikes",
    "run_lava",
    "run_lava_stdp",
    "sidecar_python",
]

Mode = Literal["float", "fixed"]
Record = Literal["counts", "spikes"]
_TAGS = {"float": "floating_pt", "fixed": "fixed_pt"}


class LavaUnavailable(RuntimeError):
    """Neither an importable Lava nor a Lava sidecar interpreter was found."""


@dataclass
class LavaResult:
    """What a Lava run returns (time first, like the rest of the lab).

    Attributes:
        out_spikes: output-layer spikes ``[T, N, n_out]`` (bool).
        out_membrane: output-layer membrane before the reset ``[T, N, n_out]`` (float units).
        layer_counts: spikes per image per LIF layer ``[N, L]`` (int64).
        spikes: with ``record="spikes"``, every LIF layer's spikes ``[T, N, n]`` (bool); else None.
        mode: ``"float"`` or ``"fixed"``.
        backend: ``"in-process"`` or ``"sidecar"``.
        steps: simulated time steps in total (all chunks).
        lava_seconds: wall time of building, running and reading the Lava networks.
        total_seconds: wall time of the call, including the sidecar's start-up and file transfer.
    """

    out_spikes: np.ndarray
    out_membrane: np.ndarray
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
        """Images per second of Lava wall time (set-up of each chunk included)."""
        return self.num_samples / self.lava_seconds if self.lava_seconds > 0 else float("nan")

    @property
    def steps_per_second(self) -> float:
        return self.steps / self.lava_seconds if self.lava_seconds > 0 else float("nan")

    def predictions(self) -> np.ndarray:
        """Class per image, read out as `labkit.training.predict` does (`predict_from_spikes`)."""
        return predict_from_spikes(self.out_spikes, self.out_membrane)


def predict_from_spikes(out_spikes: np.ndarray, out_membrane: np.ndarray | None = None) -> np.ndarray:
    """Class per sample from output spikes ``[T, N, C]``: the class with the most spikes.

    Ties (including "no output spikes at all") are broken as `labkit.training.predict` breaks
    them, by the largest membrane summed over time, when ``out_membrane`` ``[T, N, C]`` (before
    the reset, float units) is given; otherwise by the earliest first spike. Remaining ties go
    to the lowest index.
    """
    out = np.asarray(out_spikes).astype(bool)
    if out.ndim != 3:
        raise ValueError(f"out_spikes must be [time, samples, classes], got shape {out.shape}")
    counts = out.sum(axis=0).astype(np.int64)
    best = counts == counts.max(axis=1, keepdims=True)
    if out_membrane is not None:
        key = np.where(best, np.asarray(out_membrane, dtype=np.float64).sum(axis=0), -np.inf)
    else:
        steps = out.shape[0]
        first = np.where(out.any(axis=0), out.argmax(axis=0), steps)
        key = np.where(best, -first, -np.inf)
    return np.argmax(key, axis=1)


def pre_reset_membrane(u: np.ndarray, v: np.ndarray, bundle: Bundle, mode: Mode, layer: int = -1) -> np.ndarray:
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
        return previous * (1.0 - (1.0 - bundle.beta)) + u + np.asarray(spec.bias, dtype=np.float64)
    product = previous.astype(np.int64) * (4096 - spec.dv)
    decayed = np.sign(product) * (np.abs(product) >> 12)
    bias = np.asarray(spec.bias_mant, dtype=np.int64) << spec.bias_exp
    limit = 2**23 - 1
    v_pre = np.clip(decayed + u.astype(np.int64) + bias, -limit, limit)
    return v_pre / (spec.scale * 2**6)


# ----------------------------------------------------------------------------- where Lava lives


_LAVA_OK: bool | None = None


def lava_available() -> bool:
    """True when Lava's simulator imports in this interpreter (lava-nc 0.10 needs Python 3.10)."""
    global _LAVA_OK
    if _LAVA_OK is None:
        try:
            from lava.magma.core.run_configs import Loihi2SimCfg  # noqa: F401
            from lava.proc.lif.process import LIFReset  # noqa: F401

            _LAVA_OK = True
        except Exception:  # lava-nc 0.10 on Python 3.11 fails with a dataclass ValueError, not ImportError
            _LAVA_OK = False
    return _LAVA_OK


def sidecar_python() -> str | None:
    """The Lava sidecar interpreter: ``$LABKIT_LAVA_PYTHON``, else ``.venv-lava/bin/python``; None if absent."""
    explicit = os.environ.get("LABKIT_LAVA_PYTHON")
    if explicit:
        return explicit if Path(explicit).exists() else None
    for candidate in (_REPO / ".venv-lava" / "bin" / "python", _REPO / ".venv-lava" / "Scripts" / "python.exe"):
        if candidate.exists():
            return str(candidate)
    return None


def lava_backend() -> str | None:
    """``"in-process"``, ``"sidecar"`` or None: where `run_lava` would run Lava."""
    if lava_available():
        return "in-process"
    return "sidecar" if sidecar_python() else None


# ----------------------------------------------------------------------------- the network


def _windows(raw: np.ndarray, offset: int, chunk: int, steps_per_image: int) -> np.ndarray:
    """Cut a record ``[n, total]`` into per-image windows ``[T, chunk, n]`` starting at ``offset``."""
    window = raw[:, offset : offset + chunk * steps_per_image]
    return window.reshape(-1, chunk, steps_per_image).transpose(2, 1, 0)


def _build_and_run(bundle: Bundle, inputs: np.ndarray, mode: Mode, record: Record):
    """One Lava run over images ``inputs[T, C, n_in]`` (bool).

    Returns (output spikes [T, C, n_out], output membrane [T, C, n_out], counts [C, L], all spikes or None).
    """
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.dense.process import Dense
    from lava.proc.io.sink import RingBuffer as Sink
    from lava.proc.io.source import RingBuffer as Source
    from lava.proc.lif.process import LIFReset
    from lava.proc.monitor.process import Monitor

    steps_per_image, chunk, n_in = inputs.shape
    layers = bundle.layers
    n_layers = len(layers)
    total = chunk * steps_per_image + n_layers + 1
    fixed = mode == "fixed"
    dtype = np.int32 if fixed else np.float64

    data = np.zeros((n_in, total), dtype=dtype)
    data[:, : chunk * steps_per_image] = inputs.transpose(2, 1, 0).reshape(n_in, -1)
    source = Source(data=data)
    port = source.s_out
    lifs, dense = [], []
    for index, layer in enumerate(layers, start=1):
        if fixed:
            weights = np.asarray(layer.weight_mant, dtype=np.int32)
            conn = Dense(weights=weights, weight_exp=int(layer.weight_exp),
                         num_weight_bits=int(bundle.metadata.get("weight_bits", 8)))
            params = dict(du=int(layer.du), dv=int(layer.dv), vth=int(layer.vth),
                          bias_mant=np.asarray(layer.bias_mant, dtype=np.int32), bias_exp=int(layer.bias_exp))
        else:
            conn = Dense(weights=np.asarray(layer.weight, dtype=np.float64))
            params = dict(du=1.0, dv=1.0 - bundle.beta, vth=float(bundle.threshold),
                          bias_mant=np.asarray(layer.bias, dtype=np.float64))
        lif = LIFReset(shape=(layer.n_out,), reset_interval=steps_per_image,
                       reset_offset=(index + 1) % steps_per_image, **params)
        port.connect(conn.s_in)
        conn.a_out.connect(lif.a_in)
        port = lif.s_out
        lifs.append(lif)
        dense.append(conn)

    count_sinks = []
    for lif in lifs:
        summer = Dense(weights=np.ones((1, lif.s_out.shape[0]), dtype=dtype))
        sink = Sink(shape=(1,), buffer=total)
        lif.s_out.connect(summer.s_in)
        summer.a_out.connect(sink.a_in)
        count_sinks.append(sink)
    if record == "spikes":
        spike_sinks = []
        for lif in lifs:
            sink = Sink(shape=lif.s_out.shape, buffer=total)
            lif.s_out.connect(sink.a_in)
            spike_sinks.append(sink)
    else:
        spike_sinks = [Sink(shape=lifs[-1].s_out.shape, buffer=total)]
        lifs[-1].s_out.connect(spike_sinks[0].a_in)

    # The output layer's current and voltage, every step (10 numbers each), for the membrane readout.
    monitors = {name: Monitor() for name in ("u", "v")}
    for name, monitor in monitors.items():
        monitor.probe(getattr(lifs[-1], name), total)

    window = chunk * steps_per_image
    try:
        source.run(condition=RunSteps(num_steps=total), run_cfg=Loihi2SimCfg(select_tag=_TAGS[mode]))
        counts = np.stack(
            [
                sink.data.get()[0, l + 1 : l + 1 + window].reshape(chunk, steps_per_image).sum(axis=1)
                for l, sink in enumerate(count_sinks, start=1)
            ],
            axis=1,
        ).round().astype(np.int64)
        layer_offsets = range(1, n_layers + 1) if record == "spikes" else [n_layers]
        trains = [_windows(sink.data.get(), l, chunk, steps_per_image) > 0.5 for l, sink in zip(layer_offsets, spike_sinks)]
        state = {
            name: _windows(monitor.get_data()[lifs[-1].name][name].T, n_layers, chunk, steps_per_image)
            for name, monitor in monitors.items()
        }
    finally:
        source.stop()
    membrane = pre_reset_membrane(state["u"], state["v"], bundle, mode)
    return trains[-1], membrane, counts, (trains if record == "spikes" else None)


def _run_inprocess(
    bundle: Bundle,
    spikes: np.ndarray,
    mode: Mode,
    chunk_size: int,
    record: Record,
    progress: Callable[[int, int], None] | None,
) -> LavaResult:
    started = time.perf_counter()
    steps_per_image, num, _ = spikes.shape
    outs, membranes, counts, trains = [], [], [], []
    total_steps = 0
    for start in range(0, num, chunk_size):
        chunk = spikes[:, start : start + chunk_size]
        out, membrane, count, full = _build_and_run(bundle, chunk, mode, record)
        outs.append(out)
        membranes.append(membrane)
        counts.append(count)
        if full is not None:
            trains.append(full)
        total_steps += chunk.shape[1] * steps_per_image + len(bundle.layers) + 1
        if progress is not None:
            progress(min(start + chunk_size, num), num)
    elapsed = time.perf_counter() - started
    spikes_out = None
    if record == "spikes":
        spikes_out = [np.concatenate([t[l] for t in trains], axis=1) for l in range(len(bundle.layers))]
    return LavaResult(
        out_spikes=np.concatenate(outs, axis=1),
        out_membrane=np.concatenate(membranes, axis=1),
        layer_counts=np.concatenate(counts, axis=0),
        spikes=spikes_out,
        mode=mode,
        backend="in-process",
        steps=total_steps,
        lava_seconds=elapsed,
        total_seconds=elapsed,
    )


# ----------------------------------------------------------------------------- files for the sidecar


def _save_spikes(path: Path, spikes: np.ndarray) -> None:
    spikes = np.asarray(spikes).astype(bool)
    np.savez_compressed(path, packed=np.packbits(spikes, axis=-1), shape=np.array(spikes.shape))


def _load_spikes(path: Path) -> np.ndarray:
    with np.load(path) as z:
        shape = tuple(int(n) for n in z["shape"])
        return np.unpackbits(z["packed"], axis=-1, count=shape[-1]).astype(bool).reshape(shape)


def _save_result(path: Path, result: LavaResult) -> None:
    arrays = {
        "out_spikes": np.packbits(result.out_spikes, axis=-1),
        "out_shape": np.array(result.out_spikes.shape),
        "out_membrane": result.out_membrane,
        "layer_counts": result.layer_counts,
        "meta": np.array([result.steps, result.lava_seconds], dtype=np.float64),
        "mode": np.array(result.mode),
    }
    if result.spikes is not None:
        for l, train in enumerate(result.spikes):
            arrays[f"spikes{l}"] = np.packbits(train, axis=-1)
            arrays[f"spikes{l}_shape"] = np.array(train.shape)
    np.savez_compressed(path, **arrays)


def _load_result(path: Path, backend: str, total_seconds: float) -> LavaResult:
    def unpack(z, key):
        shape = tuple(int(n) for n in z[f"{key}_shape"]) if key != "out_spikes" else tuple(int(n) for n in z["out_shape"])
        return np.unpackbits(z[key], axis=-1, count=shape[-1]).astype(bool).reshape(shape)

    with np.load(path) as z:
        spikes = None
        layers = [k for k in z.files if k.startswith("spikes") and not k.endswith("_shape")]
        if layers:
            spikes = [unpack(z, f"spikes{l}") for l in range(len(layers))]
        steps, lava_seconds = z["meta"]
        return LavaResult(
            out_spikes=unpack(z, "out_spikes"),
            out_membrane=z["out_membrane"],
            layer_counts=z["layer_counts"].astype(np.int64),
            spikes=spikes,
            mode=str(z["mode"]),
            backend=backend,
            steps=int(steps),
            lava_seconds=float(lava_seconds),
            total_seconds=total_seconds,
        )


def _run_sidecar(
    python: str,
    bundle: Bundle,
    spikes: np.ndarray,
    mode: Mode,
    chunk_size: int,
    record: Record,
    progress: Callable[[int, int], None] | None,
    timeout: float | None,
) -> LavaResult:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="labkit-lava-") as tmp:
        tmp = Path(tmp)
        save_bundle(bundle, tmp / "bundle.npz")
        _save_spikes(tmp / "inputs.npz", spikes)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_REPO), env.get("PYTHONPATH", "")) if p)
        command = [python, "-m", "labkit.loihi.lava_runner", "--bundle", str(tmp / "bundle.npz"),
                   "--inputs", str(tmp / "inputs.npz"), "--output", str(tmp / "result.npz"),
                   "--mode", mode, "--chunk-size", str(chunk_size), "--record", record]
        with tempfile.TemporaryFile(mode="w+") as errors:
            proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True, env=env, cwd=tmp)
            try:
                for line in proc.stdout:
                    parts = line.split()
                    if len(parts) == 3 and parts[0] == "progress" and progress is not None:
                        progress(int(parts[1]), int(parts[2]))
                proc.wait(timeout=timeout)
            except BaseException:
                proc.kill()
                proc.wait()
                raise
            if proc.returncode != 0:
                errors.seek(0)
                tail = errors.read()[-3000:]
                raise RuntimeError(f"the Lava sidecar ({python}) failed with exit code {proc.returncode}:\n{tail}")
        return _load_result(tmp / "result.npz", "sidecar", time.perf_counter() - started)


# ----------------------------------------------------------------------------- the entry point


def run_lava(
    bundle: Bundle | str | os.PathLike,
    spikes: np.ndarray,
    *,
    mode: Mode = "fixed",
    chunk_size: int = 100,
    record: Record = "counts",
    backend: Literal["auto", "in-process", "sidecar"] = "auto",
    progress: Callable[[int, int], None] | None = None,
    timeout: float | None = None,
) -> LavaResult:
    """Run the bundled network in Lava on input spikes ``[T, N, n_in]`` (0/1), N images of T steps.

    Args:
        bundle: a `Bundle` or the path of a saved one.
        spikes: the encoded inputs, time first (e.g. ``labkit.encoding.encode_rate(x).numpy()``,
            flattened to n_in features per step).
        mode: ``"float"`` (``floating_pt``) or ``"fixed"`` (``fixed_pt``, bit-accurate Loihi).
        chunk_size: images per Lava run (module docstring).
        record: ``"counts"`` (output spikes + per-layer counts) or ``"spikes"`` (all layers' spikes).
        backend: where to run Lava; ``"auto"`` prefers this interpreter.
        progress: called as ``progress(done, total)`` after each chunk.
        timeout: seconds before the sidecar is killed (None: no limit).

    Raises:
        LavaUnavailable: if Lava is neither importable nor installed in a sidecar.
    """
    if not isinstance(bundle, Bundle):
        bundle = load_bundle(bundle)
    if mode not in _TAGS:
        raise ValueError(f"mode must be 'float' or 'fixed', got {mode!r}")
    if record not in ("counts", "spikes"):
        raise ValueError(f"record must be 'counts' or 'spikes', got {record!r}")
    if not (isinstance(chunk_size, int) and chunk_size >= 1):
        raise ValueError(f"chunk_size must be an integer >= 1, got {chunk_size!r}")
    spikes = np.asarray(spikes)
    if spikes.ndim != 3 or spikes.shape[2] != bundle.sizes[0]:
        raise ValueError(
            f"spikes must be [time, images, {bundle.sizes[0]}] for this bundle, got shape {spikes.shape}"
        )
    if spikes.shape[0] < 1 or spikes.shape[1] < 1:
        raise ValueError(f"spikes must hold at least one step of one image, got shape {spikes.shape}")
    spikes = spikes.astype(bool)
    if backend == "auto":
        backend = lava_backend() or "none"
    if backend == "in-process":
        if not lava_available():
            raise LavaUnavailable("Lava does not import in this interpreter (lava-nc 0.10 needs Python 3.10)")
        return _run_inprocess(bundle, spikes, mode, chunk_size, record, progress)
    python = sidecar_python()
    if backend == "sidecar" and python:
        return _run_sidecar(python, bundle, spikes, mode, chunk_size, record, progress, timeout)
    raise LavaUnavailable(
        "Lava is not available: it does not import in this interpreter, and no sidecar was found "
        f"(looked for $LABKIT_LAVA_PYTHON and {_REPO / '.venv-lava' / 'bin' / 'python'}). "
        "Run `make setup` to create the sidecar (Python 3.10 with numpy<2 and lava-nc==0.10.0), "
        "or set LABKIT_LAVA_PYTHON to such an interpreter."
    )


# ----------------------------------------------------------------------------- on-chip learning


def _lava_stdp_inprocess(pre: np.ndarray, post: np.ndarray, options: dict) -> dict:
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.dense.process import LearningDense
    from lava.proc.io.sink import RingBuffer as Sink
    from lava.proc.io.source import RingBuffer as Source
    from lava.proc.learning_rules.stdp_learning_rule import STDPLoihi

    steps, n_pre = pre.shape
    n_post = post.shape[1]
    fixed = options["mode"] == "fixed"
    dtype = np.int32 if fixed else np.float64
    rule = STDPLoihi(
        learning_rate=1.0, A_plus=options["A_plus"], A_minus=-options["A_minus"],
        tau_plus=options["tau_plus"], tau_minus=options["tau_minus"],
        x1_impulse=options["impulse"], y1_impulse=options["impulse"], rng_seed=options["seed"],
    )
    weights = np.zeros((n_post, n_pre), dtype=dtype)
    source = Source(data=pre.T.astype(dtype))
    bap = Source(data=post.T.astype(dtype))
    conn = LearningDense(weights=weights, learning_rule=rule)
    sink = Sink(shape=(n_post,), buffer=steps)
    source.s_out.connect(conn.s_in)
    bap.s_out.connect(conn.s_in_bap)
    conn.a_out.connect(sink.a_in)
    try:
        source.run(condition=RunSteps(num_steps=steps), run_cfg=Loihi2SimCfg(select_tag=_TAGS[options["mode"]]))
        learned = np.asarray(conn.weights.get(), dtype=np.float64)
    finally:
        source.stop()
    return {"dw": learned - weights, "rule": np.array(rule.dw_str)}


def run_lava_stdp(
    pre: np.ndarray,
    post: np.ndarray,
    *,
    A_plus: float,
    A_minus: float,
    tau_plus: float,
    tau_minus: float,
    mode: Mode = "float",
    impulse: int = 16,
    seed: int = 0,
    backend: Literal["auto", "in-process", "sidecar"] = "auto",
) -> tuple[np.ndarray, str]:
    """Weight change of Lava's ``LearningDense`` with the ``STDPLoihi`` rule for given spike trains.

    ``pre`` ``[T, n_pre]`` drives the synapses' input (``s_in``), ``post`` ``[T, n_post]`` is fed
    straight into the back-propagating action potential port (``s_in_bap``), so the rule sees
    exactly these trains. Weights start at zero; one learning epoch per step (``t_epoch = 1``).
    Traces jump by ``impulse`` per spike and decay by exp(−1/τ) per step (7-bit integers with
    stochastic rounding in ``fixed``). Returns ΔW ``[n_post, n_pre]`` in weight units (not
    divided by the impulse) and the rule as Lava prints it.
    """
    pre = np.asarray(pre).astype(bool)
    post = np.asarray(post).astype(bool)
    if pre.ndim != 2 or post.ndim != 2 or pre.shape[0] != post.shape[0]:
        raise ValueError(f"pre and post must be [time, neurons] with the same T, got {pre.shape} and {post.shape}")
    if mode not in _TAGS:
        raise ValueError(f"mode must be 'float' or 'fixed', got {mode!r}")
    options = {"A_plus": float(A_plus), "A_minus": float(A_minus), "tau_plus": float(tau_plus),
               "tau_minus": float(tau_minus), "mode": mode, "impulse": int(impulse), "seed": int(seed)}
    if backend == "auto":
        backend = lava_backend() or "none"
    if backend == "in-process" and lava_available():
        out = _lava_stdp_inprocess(pre, post, options)
        return out["dw"], str(out["rule"])
    python = sidecar_python()
    if backend == "sidecar" and python:
        with tempfile.TemporaryDirectory(prefix="labkit-lava-") as tmp:
            tmp = Path(tmp)
            np.savez(tmp / "stdp_in.npz", pre=pre, post=post, options=np.array(json.dumps(options)))
            env = dict(os.environ)
            env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_REPO), env.get("PYTHONPATH", "")) if p)
            done = subprocess.run(
                [python, "-m", "labkit.loihi.lava_runner", "--task", "stdp", "--inputs", str(tmp / "stdp_in.npz"),
                 "--output", str(tmp / "stdp_out.npz")],
                capture_output=True, text=True, env=env, cwd=tmp,
            )
            if done.returncode != 0:
                raise RuntimeError(f"the Lava sidecar ({python}) failed with exit code {done.returncode}:\n{done.stderr[-3000:]}")
            with np.load(tmp / "stdp_out.npz") as z:
                return z["dw"], str(z["rule"])
    raise LavaUnavailable("Lava is not available: run `make setup` (creates .venv-lava) or set LABKIT_LAVA_PYTHON")


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run a labkit model bundle in Lava (used by the sidecar).")
    parser.add_argument("--task", choices=["network", "stdp"], default="network")
    parser.add_argument("--bundle")
    parser.add_argument("--inputs", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--mode", choices=sorted(_TAGS), default="fixed")
    parser.add_argument("--chunk-size", type=int, default=100)
    parser.add_argument("--record", choices=["counts", "spikes"], default="counts")
    args = parser.parse_args(argv)
    if not lava_available():
        print("lava-nc does not import in this interpreter", file=sys.stderr)
        return 3
    if args.task == "stdp":
        with np.load(args.inputs) as z:
            out = _lava_stdp_inprocess(z["pre"], z["post"], json.loads(str(z["options"])))
        np.savez(args.output, **out)
        return 0
    if not args.bundle:
        parser.error("--bundle is required for --task network")

    def report(done: int, total: int) -> None:
        print(f"progress {done} {total}", flush=True)

    result = _run_inprocess(load_bundle(args.bundle), _load_spikes(Path(args.inputs)), args.mode,
                            args.chunk_size, args.record, report)
    _save_result(Path(args.output), result)
    return 0


if __name__ == "__main__":
    sys.exit(_main())
