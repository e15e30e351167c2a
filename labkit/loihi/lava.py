r"""The network as a graph of Lava processes (lava-nc 0.10; numpy and Lava only, so it runs in the sidecar).

Chapter 8 builds the deployed network in Lava by hand; `run_network` is the lab's version::

    RingBuffer ──s_out→s_in── Dense(W₁) ──a_out→a_in── LIF ── … ── Dense(W_L) ── LIF ── Monitor.probe(s_out)

``run_network(spikes [T, n_in], layers [(W [n_out, n_in], b [n_out]), …], beta, threshold)``
returns the last layer's spikes ``[T + L, n_out]``: each Dense delivers its input one step late
(Lava buffers it so that recurrent graphs cannot deadlock), so row ``t + L`` belongs to input
step t. With ``du = 1`` and ``dv = 1 − β`` Lava's LIF is the lab's LIF with reset to zero; a LIF
adds its bias from the first step on, so with biases layer l has a head start of l steps.

`run_bundle` runs a quantised `Bundle` on many images in one network, the same graph with two
changes for speed: ``LIFReset`` instead of LIF, and a compact source and recorder of the lab's.
Images play back to back, T steps each; ``LIFReset`` zeroes u and v every T steps at the phase
where its layer's first input of an image arrives (layer l sees step t of image k at simulation
step ``k·T + t + l + 1``, 1-based), so every image starts from rest, as in a run of its own, with
no head start. All N images run in ``N·T + L + 1`` steps, compiled once, ``chunk_size`` images
between two progress reports. `PackedSpikeSource` plays the inputs from bits (``numpy.packbits``);
`SpikeRecorder` keeps per image each layer's spike count and the spike trains as bit masks
(bit t of word t // 30) and writes them to a file at the last step: reading a Monitor or a
RingBuffer sink back moves one number per message, longer than the simulation for 10,000
digits. ``record="spikes"`` also probes the output layer's u and v with Monitors (small runs).

Lava looks for a process's models by importing every module of its package, which here would
need torch; the run configuration therefore names the models of these two processes
(``exception_proc_model_map``). Lava is imported inside the functions, so that this module
imports without it (`in_lava` names `run_network` to Lava's interpreter by module and name). `lava_stdp` runs Lava's ``LearningDense`` with ``STDPLoihi``.
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


# ----------------------------------------------------------------------------- the chapter's graph


def run_network(spikes, layers, beta: float, threshold: float):
    """Build RingBuffer → (Dense → LIF) × L → Monitor by hand and run it under ``Loihi2SimCfg`` (floating point).

    Args:
        spikes: input spikes of one sample, ``[T, n_in]`` (0/1).
        layers: ``[(W, b), …]``, ``W`` ``[n_out, n_in]`` and ``b`` ``[n_out]`` in float units.
        beta: membrane decay β of every LIF layer (Lava's ``dv = 1 − β``; ``du = 1``).
        threshold: firing threshold θ (Lava's ``vth``).

    Returns:
        the last LIF layer's spikes ``[T + L, n_out]`` (floats; row ``t + L`` belongs to input step t).
    """
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.dense.process import Dense
    from lava.proc.io.source import RingBuffer
    from lava.proc.lif.process import LIF
    from lava.proc.monitor.process import Monitor

    spikes = np.asarray(spikes, dtype=np.float64)
    steps = spikes.shape[0] + len(layers)                      # one step of delay per Dense
    data = np.zeros((spikes.shape[1], steps))                  # RingBuffer data is [neurons, steps]
    data[:, : spikes.shape[0]] = spikes.T
    source = RingBuffer(data=data)
    port = source.s_out
    for weight, bias in layers:
        dense = Dense(weights=np.asarray(weight, dtype=np.float64))
        lif = LIF(shape=(len(bias),), du=1.0, dv=1.0 - beta, vth=threshold, bias_mant=np.asarray(bias, dtype=np.float64))
        port.connect(dense.s_in)
        dense.a_out.connect(lif.a_in)
        port = lif.s_out
    monitor = Monitor()
    monitor.probe(port, steps)
    try:
        source.run(condition=RunSteps(num_steps=steps), run_cfg=Loihi2SimCfg(select_tag="floating_pt"))
        recorded = monitor.get_data()[lif.name]["s_out"]
    finally:
        source.stop()
    return np.asarray(recorded, dtype=np.float64)


# ----------------------------------------------------------------------------- source and recorder

#: LIF layers one `SpikeRecorder` listens to (ports beyond a network's layers stay unconnected).
PORTS = 5


@functools.cache
def _processes() -> dict:
    """The lab's two Lava processes and their float and fixed-point models, defined on first use.

    `PackedSpikeSource` sends step t of image k at simulation step ``k·T + t + 1`` from ``packed``
    ``[N, T, ceil(n_in / 8)]`` (``numpy.packbits`` of bool spikes), zeros after the last image.
    `SpikeRecorder` keeps per image every LIF layer's spike count and, where asked, its spike trains
    as bit masks ``[n, N, ceil(T / 30)]``, and writes them to the ``.npz`` file ``output`` at the last
    step; layer l (0-based) listens on port ``in{l}``, l + 2 steps after the source. They are defined
    here, not at the top, so that this module imports without Lava (where `in_lava` ships
    `run_network` to Lava's interpreter by name).
    """
    from lava.magma.core.decorator import implements, requires, tag
    from lava.magma.core.model.py.model import PyLoihiProcessModel
    from lava.magma.core.model.py.ports import PyInPort, PyOutPort
    from lava.magma.core.model.py.type import LavaPyType
    from lava.magma.core.process.ports.ports import InPort, OutPort
    from lava.magma.core.process.process import AbstractProcess
    from lava.magma.core.resources import CPU
    from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

    class PackedSpikeSource(AbstractProcess):
        """Sends step t of image k at simulation step ``k·T + t + 1`` from ``packed`` ``[N, T, ceil(n_in / 8)]``
        (``numpy.packbits`` of bool spikes ``[N, T, n_in]``); zeros after the last image."""

        def __init__(self, *, packed: np.ndarray, n_in: int) -> None:
            super().__init__(packed=np.ascontiguousarray(packed, dtype=np.uint8), n_in=int(n_in))
            self.s_out = OutPort(shape=(int(n_in),))

    class _SourceModel(PyLoihiProcessModel):
        dtype: type = np.float64

        def run_spk(self) -> None:
            packed, n_in = self.proc_params["packed"], self.proc_params["n_in"]
            image, step = divmod(self.time_step - 1, packed.shape[1])
            spikes = np.zeros(n_in, dtype=self.dtype)
            if image < packed.shape[0]:
                spikes[:] = np.unpackbits(packed[image, step], count=n_in)
            self.s_out.send(spikes)

    @implements(proc=PackedSpikeSource, protocol=LoihiProtocol)
    @requires(CPU)
    @tag("floating_pt")
    class PySourceModelFloat(_SourceModel):
        s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)

    @implements(proc=PackedSpikeSource, protocol=LoihiProtocol)
    @requires(CPU)
    @tag("fixed_pt")
    class PySourceModelFixed(_SourceModel):
        s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32)
        dtype = np.int32

    class SpikeRecorder(AbstractProcess):
        """Per image, the spike count of every LIF layer (``counts`` ``[L, N]``) and, where ``keep_trains[l]``,
        its spike trains as bit masks ``[n_l, N, ceil(T / 30)]``, written to the ``.npz`` file ``output`` at
        simulation step ``total_steps``. Layer l (0-based) listens on port ``in{l}``, l + 2 steps after the source."""

        def __init__(self, *, shapes: list[tuple[int, ...]], keep_trains: list[bool], num_images: int,
                     steps_per_image: int, output: str, total_steps: int) -> None:
            if not 1 <= len(shapes) <= PORTS:
                raise ValueError(f"the Lava runner records networks of 1 to {PORTS} layers, got {len(shapes)}")
            super().__init__(layers=len(shapes), keep_trains=[bool(k) for k in keep_trains], num_images=int(num_images),
                             steps_per_image=int(steps_per_image), output=str(output), total_steps=int(total_steps),
                             widths=[int(s[0]) for s in shapes])
            for index in range(PORTS):
                setattr(self, f"in{index}", InPort(shape=tuple(shapes[index]) if index < len(shapes) else (1,)))

    class _RecorderModel(PyLoihiProcessModel):
        def run_spk(self) -> None:
            p = self.proc_params
            if not hasattr(self, "counts"):
                self.counts = np.zeros((p["layers"], p["num_images"]), dtype=np.int64)
                words = -(-p["steps_per_image"] // BITS_PER_WORD)
                self.trains = [np.zeros((w, p["num_images"], words), dtype=np.int64) if keep else None
                               for w, keep in zip(p["widths"], p["keep_trains"])]
            for index in range(p["layers"]):
                fired = np.flatnonzero(getattr(self, f"in{index}").recv())
                image, step = divmod(self.time_step - 2 - index, p["steps_per_image"])
                if fired.size and 0 <= image < p["num_images"]:
                    self.counts[index, image] += fired.size
                    if self.trains[index] is not None:
                        word, bit = divmod(step, BITS_PER_WORD)
                        self.trains[index][fired, image, word] += 1 << bit
            if self.time_step == p["total_steps"]:
                arrays = {"counts": self.counts}
                arrays.update({f"trains{i}": t for i, t in enumerate(self.trains) if t is not None})
                partial = p["output"] + ".partial.npz"
                np.savez(partial, **arrays)
                os.replace(partial, p["output"])

    @implements(proc=SpikeRecorder, protocol=LoihiProtocol)
    @requires(CPU)
    @tag("floating_pt")
    class PyRecorderModelFloat(_RecorderModel):
        in0: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
        in1: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
        in2: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
        in3: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
        in4: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)

    @implements(proc=SpikeRecorder, protocol=LoihiProtocol)
    @requires(CPU)
    @tag("fixed_pt")
    class PyRecorderModelFixed(_RecorderModel):
        in0: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32)
        in1: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32)
        in2: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32)
        in3: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32)
        in4: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32)

    return {"source": PackedSpikeSource, "recorder": SpikeRecorder,
            "float": (PySourceModelFloat, PyRecorderModelFloat), "fixed": (PySourceModelFixed, PyRecorderModelFixed)}


# ----------------------------------------------------------------------------- a bundle on many images


def run_bundle(bundle: Bundle, spikes: np.ndarray, mode: Literal["float", "fixed"], *,
               record: Literal["counts", "spikes"] = "counts", chunk_size: int = 500,
               progress: Callable[[int, int], None] | None = None) -> dict:
    """Run ``bundle`` on bool input spikes ``[T, N, n_in]`` (module docstring).

    Returns ``{"counts": [N, L] int64, "trains{l}": bit masks [n, N, words]}`` (the output layer's trains
    always, every layer's with ``record="spikes"``, then also ``"u"``, ``"v"``: the output layer's
    current and voltage ``[steps, n]``) and ``"steps"``, the simulated steps.
    """
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.dense.process import Dense
    from lava.proc.lif.process import LIFReset
    from lava.proc.monitor.process import Monitor

    lab = _processes()

    steps_per_image, num, n_in = spikes.shape
    total = num * steps_per_image + len(bundle.layers) + 1
    fixed = mode == "fixed"
    source = lab["source"](packed=np.packbits(np.ascontiguousarray(spikes.transpose(1, 0, 2)), axis=-1), n_in=n_in)
    port, lifs = source.s_out, []
    for index, layer in enumerate(bundle.layers, start=1):
        if fixed:
            dense = Dense(weights=np.asarray(layer.weight_mant, dtype=np.int32), weight_exp=int(layer.weight_exp),
                          num_weight_bits=int(bundle.metadata.get("weight_bits", 8)))
            params = dict(du=int(layer.du), dv=int(layer.dv), vth=int(layer.vth),
                          bias_mant=np.asarray(layer.bias_mant, dtype=np.int32), bias_exp=int(layer.bias_exp))
        else:
            dense = Dense(weights=np.asarray(layer.weight, dtype=np.float64))
            params = dict(du=1.0, dv=1.0 - bundle.beta, vth=float(bundle.threshold),
                          bias_mant=np.asarray(layer.bias, dtype=np.float64))
        lif = LIFReset(shape=(layer.n_out,), reset_interval=steps_per_image,
                       reset_offset=(index + 1) % steps_per_image, **params)
        port.connect(dense.s_in)
        dense.a_out.connect(lif.a_in)
        port = lif.s_out
        lifs.append(lif)
    with tempfile.TemporaryDirectory(prefix="labkit-lava-recording-") as folder:
        output = os.path.join(folder, "recording.npz")
        recorder = lab["recorder"](shapes=[lif.s_out.shape for lif in lifs], num_images=num,
                                 keep_trains=[record == "spikes" or i == len(lifs) - 1 for i in range(len(lifs))],
                                 steps_per_image=steps_per_image, output=output, total_steps=total)
        for index, lif in enumerate(lifs):
            lif.s_out.connect(getattr(recorder, f"in{index}"))
        monitors = {}
        if record == "spikes":
            for name in ("u", "v"):
                monitors[name] = Monitor()
                monitors[name].probe(getattr(lifs[-1], name), total)
        models = dict(zip((source, recorder), lab[mode]))
        config = Loihi2SimCfg(select_tag=LAVA_TAGS[mode], exception_proc_model_map=models)
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


# ----------------------------------------------------------------------------- STDP in Lava's learning engine


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
    steps, n_pre = pre.shape
    n_post = post.shape[1]
    dtype = np.int32 if options["mode"] == "fixed" else np.float64
    rule = STDPLoihi(learning_rate=1.0, A_plus=options["A_plus"], A_minus=-options["A_minus"],
                     tau_plus=options["tau_plus"], tau_minus=options["tau_minus"],
                     x1_impulse=options["impulse"], y1_impulse=options["impulse"], rng_seed=options["seed"])
    weights = np.zeros((n_post, n_pre), dtype=dtype)
    source, bap = Source(data=pre.T.astype(dtype)), Source(data=post.T.astype(dtype))
    conn = LearningDense(weights=weights, learning_rule=rule)
    sink = Sink(shape=(n_post,), buffer=steps)
    source.s_out.connect(conn.s_in)
    bap.s_out.connect(conn.s_in_bap)
    conn.a_out.connect(sink.a_in)
    try:
        source.run(condition=RunSteps(num_steps=steps), run_cfg=Loihi2SimCfg(select_tag=LAVA_TAGS[options["mode"]]))
        learned = np.asarray(conn.weights.get(), dtype=np.float64)
    finally:
        source.stop()
    return {"dw": learned - weights, "rule": str(rule.dw_str)}
