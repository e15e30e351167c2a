r"""The network as a graph of Lava processes (lava-nc 0.10; numpy and Lava only, so it runs in the sidecar).

Chapter 8 builds the deployed network in Lava by hand; `run_network` is the lab's version::

    RingBuffer ──s_out→s_in── Dense(W₁) ──a_out→a_in── LIF ── … ── Dense(W_L) ── LIF ── Monitor.probe(s_out)

Each Dense delivers its input one step late (Lava buffers it so that recurrent graphs cannot
deadlock), so the last layer's row ``t + L`` belongs to input step t. With ``du = 1`` and
``dv = 1 − β`` Lava's LIF is the lab's LIF with reset to zero; a LIF adds its bias from the first
step on, so with biases layer l has a head start of l steps.

`run_bundle` plays many images of a quantised `Bundle` through the same chain of layers, in
float or fixed point, with two changes. ``LIFReset`` replaces LIF: the images play back to back,
T steps each, and layer l zeroes u and v at the step an image's first input reaches it (step t of
image k arrives at simulation step ``k·T + t + l + 1``, 1-based), so each image starts from rest.
And two small processes of the lab's replace RingBuffer and Monitor, whose read-back moves one
number per message (longer than the simulation for 10,000 digits): `PackedSpikeSource` plays the
inputs from ``numpy.packbits``, `SpikeRecorder` keeps every layer's spike trains per image as bit
masks (bit t of word t // 30) and writes them to a file at the last step. Lava is imported inside
the functions, so that this module imports without it; the run configuration names the lab's
process models, which Lava would otherwise look for in every module of this package (some need torch).
"""

from __future__ import annotations

import functools
import os
import tempfile
from typing import Callable, Literal

import numpy as np

from .bundle import BITS_PER_WORD, Bundle

__all__ = ["LAVA_TAGS", "PORTS", "lava_stdp", "run_bundle", "run_network"]

#: Lava run-configuration tag of each mode.
LAVA_TAGS = {"float": "floating_pt", "fixed": "fixed_pt"}
#: LIF layers one `SpikeRecorder` listens to (ports beyond a network's layers stay unconnected).
PORTS = 5


def _chain(port, layers: list[tuple[dict, dict]], reset_interval: int | None = None) -> list:
    """Connect ``port`` → Dense(**d) → LIF(**l) for every ``(d, l)`` of ``layers``; the LIF processes
    (``LIFReset``s starting every image from rest where ``reset_interval`` T is given)."""
    from lava.proc.dense.process import Dense
    from lava.proc.lif.process import LIF, LIFReset

    lifs = []
    for index, (dense_args, lif_args) in enumerate(layers, start=1):
        dense = Dense(**dense_args)
        lif = (LIF(**lif_args) if reset_interval is None else
               LIFReset(reset_interval=reset_interval, reset_offset=(index + 1) % reset_interval, **lif_args))
        port.connect(dense.s_in)
        dense.a_out.connect(lif.a_in)
        port = lif.s_out
        lifs.append(lif)
    return lifs


def _float_layer(weight, bias, beta: float, threshold: float) -> tuple[dict, dict]:
    """Dense and LIF arguments of a float layer: ``du = 1`` (no current memory), ``dv = 1 − β``, ``vth = θ``."""
    bias = np.asarray(bias, dtype=np.float64)
    return ({"weights": np.asarray(weight, dtype=np.float64)},
            {"shape": (len(bias),), "du": 1.0, "dv": 1.0 - beta, "vth": threshold, "bias_mant": bias})


def run_network(spikes, layers, beta: float, threshold: float):
    """Build RingBuffer → (Dense → LIF) × L → Monitor by hand and run it under ``Loihi2SimCfg`` (floating point).

    One sample's input spikes ``[T, n_in]`` (0/1) pass ``layers`` ``[(W [n_out, n_in], b [n_out]), …]`` (float
    units) of LIF neurons with decay β (Lava's ``dv = 1 − β``; ``du = 1``) and threshold θ (``vth``). Returns
    the last LIF layer's spikes ``[T + L, n_out]`` (floats; row ``t + L`` belongs to input step t).
    """
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.io.source import RingBuffer
    from lava.proc.monitor.process import Monitor

    spikes = np.asarray(spikes, dtype=np.float64)
    steps = spikes.shape[0] + len(layers)                      # one step of delay per Dense
    data = np.zeros((spikes.shape[1], steps))                  # RingBuffer data is [neurons, steps]
    data[:, : spikes.shape[0]] = spikes.T
    source = RingBuffer(data=data)
    lif = _chain(source.s_out, [_float_layer(w, b, beta, threshold) for w, b in layers])[-1]
    monitor = Monitor()
    monitor.probe(lif.s_out, steps)
    try:
        source.run(condition=RunSteps(num_steps=steps), run_cfg=Loihi2SimCfg(select_tag="floating_pt"))
        recorded = monitor.get_data()[lif.name]["s_out"]
    finally:
        source.stop()
    return np.asarray(recorded, dtype=np.float64)


def _bundle_layers(bundle: Bundle, mode: str) -> list[tuple[dict, dict]]:
    """Dense and LIF arguments of every layer of ``bundle``: its float weights, or its Loihi registers."""
    if mode == "float":
        return [_float_layer(layer.weight, layer.bias, bundle.beta, float(bundle.threshold)) for layer in bundle.layers]
    bits = int(bundle.metadata.get("weight_bits", 8))
    return [({"weights": np.asarray(layer.weight_mant, dtype=np.int32), "weight_exp": int(layer.weight_exp),
              "num_weight_bits": bits},
             {"shape": (layer.n_out,), "du": int(layer.du), "dv": int(layer.dv), "vth": int(layer.vth),
              "bias_mant": np.asarray(layer.bias_mant, dtype=np.int32), "bias_exp": int(layer.bias_exp)})
            for layer in bundle.layers]


@functools.cache
def _processes() -> dict:
    """The lab's source and recorder, each with one process model for both modes (defined on first use)."""
    from lava.magma.core.decorator import implements, requires, tag
    from lava.magma.core.model.py.model import PyLoihiProcessModel
    from lava.magma.core.model.py.ports import PyInPort, PyOutPort
    from lava.magma.core.model.py.type import LavaPyType
    from lava.magma.core.process.ports.ports import InPort, OutPort
    from lava.magma.core.process.process import AbstractProcess
    from lava.magma.core.resources import CPU
    from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

    class PackedSpikeSource(AbstractProcess):
        """Sends step t of image k (``packed``: ``numpy.packbits`` of ``[N, T, n_in]``) at step ``k·T + t + 1``."""

        def __init__(self, *, packed: np.ndarray, n_in: int) -> None:
            super().__init__(packed=np.ascontiguousarray(packed, dtype=np.uint8), n_in=int(n_in))
            self.s_out = OutPort(shape=(int(n_in),))

    @implements(proc=PackedSpikeSource, protocol=LoihiProtocol)
    @requires(CPU)
    @tag("floating_pt", "fixed_pt")
    class PySourceModel(PyLoihiProcessModel):
        s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)  # Dense reads its input as bool either way

        def run_spk(self) -> None:
            packed, n_in = self.proc_params["packed"], self.proc_params["n_in"]
            image, step = divmod(self.time_step - 1, packed.shape[1])
            spikes = np.zeros(n_in)
            if image < packed.shape[0]:
                spikes[:] = np.unpackbits(packed[image, step], count=n_in)
            self.s_out.send(spikes)

    class SpikeRecorder(AbstractProcess):
        """Every layer's spike trains ``[n_l, N, ceil(T / 30)]``, written to the file ``output`` at step
        ``total_steps``; layer l listens on ``in{l}``, l + 2 steps after the source."""

        def __init__(self, *, shapes: list[tuple[int, ...]], num_images: int, steps_per_image: int, output: str,
                     total_steps: int) -> None:
            super().__init__(layers=len(shapes), num_images=int(num_images), steps_per_image=int(steps_per_image),
                             output=str(output), total_steps=int(total_steps), widths=[int(s[0]) for s in shapes])
            for index in range(PORTS):
                setattr(self, f"in{index}", InPort(shape=tuple(shapes[index]) if index < len(shapes) else (1,)))

    @implements(proc=SpikeRecorder, protocol=LoihiProtocol)
    @requires(CPU)
    @tag("floating_pt", "fixed_pt")
    class PyRecorderModel(PyLoihiProcessModel):
        in0: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)  # a channel carries its sender's type
        in1: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
        in2: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
        in3: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
        in4: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)

        def run_spk(self) -> None:
            p = self.proc_params
            if not hasattr(self, "trains"):
                words = -(-p["steps_per_image"] // BITS_PER_WORD)
                self.trains = [np.zeros((w, p["num_images"], words), dtype=np.int64) for w in p["widths"]]
            for index, trains in enumerate(self.trains):
                fired = np.flatnonzero(getattr(self, f"in{index}").recv())
                image, step = divmod(self.time_step - 2 - index, p["steps_per_image"])
                if fired.size and 0 <= image < p["num_images"]:
                    word, bit = divmod(step, BITS_PER_WORD)
                    trains[fired, image, word] += 1 << bit
            if self.time_step == p["total_steps"]:
                partial = p["output"] + ".partial.npz"
                np.savez(partial, **{f"trains{i}": t for i, t in enumerate(self.trains)})
                os.replace(partial, p["output"])

    return {"source": (PackedSpikeSource, PySourceModel), "recorder": (SpikeRecorder, PyRecorderModel)}


def run_bundle(bundle: Bundle, spikes: np.ndarray, mode: Literal["float", "fixed"], *,
               record: Literal["counts", "spikes"] = "counts", chunk_size: int = 500,
               progress: Callable[[int, int], None] | None = None) -> dict:
    """Run ``bundle`` on bool input spikes ``[T, N, n_in]`` in one network (module docstring), ``chunk_size`` images
    between two calls of ``progress(done, total)``.

    Returns every layer's spike trains as bit masks ``"trains{l}"`` ``[n, N, words]``, the simulated ``"steps"``
    and, with ``record="spikes"``, the output layer's current ``"u"`` and voltage ``"v"`` ``[steps, n]``.
    """
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.monitor.process import Monitor

    (Source, source_model), (Recorder, recorder_model) = _processes().values()
    steps_per_image, num, n_in = spikes.shape
    total = num * steps_per_image + len(bundle.layers) + 1
    source = Source(packed=np.packbits(np.ascontiguousarray(spikes.transpose(1, 0, 2)), axis=-1), n_in=n_in)
    lifs = _chain(source.s_out, _bundle_layers(bundle, mode), reset_interval=steps_per_image)
    with tempfile.TemporaryDirectory(prefix="labkit-lava-recording-") as folder:
        output = os.path.join(folder, "recording.npz")
        recorder = Recorder(shapes=[lif.s_out.shape for lif in lifs], num_images=num, output=output,
                            steps_per_image=steps_per_image, total_steps=total)
        for index, lif in enumerate(lifs):
            lif.s_out.connect(getattr(recorder, f"in{index}"))
        monitors = {name: Monitor() for name in (("u", "v") if record == "spikes" else ())}
        for name, monitor in monitors.items():
            monitor.probe(getattr(lifs[-1], name), total)
        config = Loihi2SimCfg(select_tag=LAVA_TAGS[mode],
                              exception_proc_model_map={source: source_model, recorder: recorder_model})
        try:
            done = 0
            for start in range(0, num, chunk_size):
                end = min(start + chunk_size, num)
                target = total if end == num else end * steps_per_image
                source.run(condition=RunSteps(num_steps=target - done), run_cfg=config)
                done = target
                if progress is not None:
                    progress(end, num)
            result = {name: monitor.get_data()[lifs[-1].name][name] for name, monitor in monitors.items()}
        finally:
            source.stop()
        with np.load(output, allow_pickle=False) as z:
            result.update({key: z[key] for key in z.files})
    result["steps"] = total
    return result


def lava_stdp(pre: np.ndarray, post: np.ndarray, options: dict) -> dict:
    """ΔW ``[n_post, n_pre]`` and the rule's text from one run of ``LearningDense`` with ``STDPLoihi``
    (weights from zero; ``post`` drives the back-propagating action potential port ``s_in_bap``)."""
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.dense.process import LearningDense
    from lava.proc.io.sink import RingBuffer as Sink
    from lava.proc.io.source import RingBuffer as Source
    from lava.proc.learning_rules.stdp_learning_rule import STDPLoihi

    pre, post = np.asarray(pre), np.asarray(post)
    dtype = np.int32 if options["mode"] == "fixed" else np.float64
    rule = STDPLoihi(learning_rate=1.0, A_plus=options["A_plus"], A_minus=-options["A_minus"],
                     tau_plus=options["tau_plus"], tau_minus=options["tau_minus"],
                     x1_impulse=options["impulse"], y1_impulse=options["impulse"], rng_seed=options["seed"])
    weights = np.zeros((post.shape[1], pre.shape[1]), dtype=dtype)
    source, bap = Source(data=pre.T.astype(dtype)), Source(data=post.T.astype(dtype))
    conn = LearningDense(weights=weights, learning_rule=rule)
    sink = Sink(shape=(post.shape[1],), buffer=pre.shape[0])
    source.s_out.connect(conn.s_in)
    bap.s_out.connect(conn.s_in_bap)
    conn.a_out.connect(sink.a_in)
    try:
        source.run(condition=RunSteps(num_steps=pre.shape[0]),
                   run_cfg=Loihi2SimCfg(select_tag=LAVA_TAGS[options["mode"]]))
        learned = np.asarray(conn.weights.get(), dtype=np.float64)
    finally:
        source.stop()
    return {"dw": learned - weights, "rule": str(rule.dw_str)}
