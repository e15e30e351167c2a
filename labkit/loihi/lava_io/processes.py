"""Two small Lava processes that feed and read the network without Lava's per-element transfers.

Lava's ``RingBuffer`` source holds every input step as a dense array, and reading a
``RingBuffer`` sink or a ``Monitor`` back (``Var.get``) moves its numbers one message each:
for the 10,000 test digits that is 2.6 million messages for the output spikes alone, longer
than the simulation. These two processes keep the data compact on both ends:

* `PackedSpikeSource` plays images back to back, T steps each, from the input spikes packed
  8 per byte (``numpy.packbits``); after the last image it sends zeros.
* `SpikeRecorder` listens to up to five LIF layers and keeps, per image, each layer's spike
  count (``counts`` ``[5, N]``) and, when asked, every neuron's spike train as bit masks: bit t
  of ``trains{i}[j, k, t // 30]`` is set when neuron j spiked at step t of image k (30 bits a word,
  exact in the float64 that ``Var.get`` passes them through). Given an ``output`` path, it
  writes these arrays to that ``.npz`` file itself at the last step of the run (`read_recording`
  reads it): ``Var.get`` moves one number per message through Lava's runtime, 150,000 messages
  for the 10,000 test digits (15 numbers an image).

Timing: a recorder sees step t of image k of LIF layer l (1-based) at simulation step
``k·T + t + l + 1`` (1-based; `labkit.loihi.lava_network` explains the one-step delay of each
Dense), so that layer's offset is l. One recorder for the whole network keeps the process
count, and so Lava's per-step messaging, at that of a bare network with a single sink.

Both work in Lava's ``floating_pt`` and ``fixed_pt`` run configurations (one process model
each, as Lava's own I/O processes do). This module imports Lava at the top: import it only
where Lava is installed (Lava also needs process models in importable modules, not notebook
cells).
"""

from __future__ import annotations

import os

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.process.variable import Var
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

__all__ = ["BITS_PER_WORD", "PORTS", "PackedSpikeSource", "SpikeRecorder", "copy_images", "read_recording",
           "words_per_train"]

#: Spike times per bit-mask word of `SpikeRecorder` (float64 holds 2^30 − 1 exactly; int32 too).
BITS_PER_WORD = 30
#: Layers one `SpikeRecorder` listens to.
PORTS = 5


def words_per_train(steps_per_image: int) -> int:
    """Bit-mask words per neuron and image: ceil(T / 30)."""
    return -(-int(steps_per_image) // BITS_PER_WORD)


def copy_images(num_images: int, copies: int) -> int:
    """Images per copy M = ceil(N / B): copy c plays images c·M … c·M + M − 1."""
    return -(-int(num_images) // int(copies))


class PackedSpikeSource(AbstractProcess):
    """Sends step t of image slot k at simulation step ``k·T + t + 1``, for B copies side by side.

    The output is ``[B · n_in]``: block c carries image ``c·M + k`` (M = `copy_images`), zeros
    once a copy has no image left.

    Args:
        packed: ``[N, T, ceil(n_in / 8)]`` uint8, ``numpy.packbits`` of bool spikes ``[N, T, n_in]``
            along the last axis.
        n_in: inputs per step of one copy.
        copies: B, copies of the network fed side by side.
    """

    def __init__(self, *, packed: np.ndarray, n_in: int, copies: int = 1) -> None:
        packed = np.ascontiguousarray(packed, dtype=np.uint8)
        super().__init__(packed=packed, n_in=int(n_in), copies=int(copies),
                         per_copy=copy_images(packed.shape[0], copies))
        self.s_out = OutPort(shape=(int(n_in) * int(copies),))


class _SourceModel(PyLoihiProcessModel):
    s_out = None
    dtype: type = float

    def run_spk(self) -> None:
        params = self.proc_params
        packed, n_in, per_copy = params["packed"], params["n_in"], params["per_copy"]
        images, steps = packed.shape[:2]
        slot, step = divmod(self.time_step - 1, steps)
        spikes = np.zeros((params["copies"], n_in), dtype=self.dtype)
        if slot < per_copy:
            image = np.arange(params["copies"]) * per_copy + slot  # copy c plays image c·M + slot
            playing = image < images
            spikes[playing] = np.unpackbits(packed[image[playing], step], axis=-1, count=n_in)
        self.s_out.send(spikes.reshape(-1))


@implements(proc=PackedSpikeSource, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PySourceModelFloat(_SourceModel):
    """Float model of `PackedSpikeSource`."""

    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    dtype = np.float64


@implements(proc=PackedSpikeSource, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PySourceModelFixed(_SourceModel):
    """Fixed-point model of `PackedSpikeSource`."""

    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32)
    dtype = np.int32


class SpikeRecorder(AbstractProcess):
    """Per-image spike counts (and optionally bit-mask spike trains) of up to `PORTS` LIF layers.

    Layer i of the recorder listens on port ``in{i}``; ports beyond the recorded layers stay
    unconnected (shape ``(1,)``), so one process, the same for every network, serves up to five
    layers (`labkit.loihi.lava_network` adds a second recorder for deeper networks).

    Args:
        shapes: the recorded layers' shapes ``[(n,), …]`` (at most `PORTS`).
        offsets: per layer, simulation steps between the source and it (l for LIF layer l).
        keep_trains: per layer, whether to keep ``trains{i}`` ``[n, N, ceil(T / 30)]``.
        num_images, steps_per_image: N and T of the run.
        copies: B copies of the network side by side: port i carries ``[B · n_i]`` spikes, block c
            belonging to image ``c·M + k`` in image slot k (M = `copy_images`).
        output, total_steps: where given, the recorder writes ``counts`` and the kept trains to the
            ``.npz`` file ``output`` at simulation step ``total_steps`` (atomically: a temporary file
            beside it, then renamed), so that they need not be read back through ``Var.get``.

    Vars: ``counts`` ``[PORTS, N]`` (row i: layer i's spikes per image), ``trains0`` … ``trains4``
    (``[1, 1, 1]`` where not kept).
    """

    def __init__(self, *, shapes: list[tuple[int, ...]], offsets: list[int], keep_trains: list[bool],
                 num_images: int, steps_per_image: int, copies: int = 1, output: str | None = None,
                 total_steps: int = 0) -> None:
        if not 1 <= len(shapes) <= PORTS or len(offsets) != len(shapes) or len(keep_trains) != len(shapes):
            raise ValueError(f"SpikeRecorder records 1 to {PORTS} layers, with one offset and keep flag each")
        num, steps, copies = int(num_images), int(steps_per_image), int(copies)
        super().__init__(layers=len(shapes), offsets=[int(o) for o in offsets],
                         keep_trains=[bool(k) for k in keep_trains], num_images=num, steps_per_image=steps,
                         copies=copies, per_copy=copy_images(num, copies),
                         widths=[int(shape[0]) // copies for shape in shapes],
                         output=None if output is None else str(output), total_steps=int(total_steps))
        self.counts = Var(shape=(PORTS, num), init=np.zeros((PORTS, num), dtype=np.int32))
        for i in range(PORTS):
            shape = tuple(shapes[i]) if i < len(shapes) else (1,)
            words = (shape[0] // copies, num, words_per_train(steps)) if i < len(shapes) and keep_trains[i] else (1, 1, 1)
            setattr(self, f"in{i}", InPort(shape=shape))
            setattr(self, f"trains{i}", Var(shape=words, init=np.zeros(words, dtype=np.int32)))


class _RecorderModel(PyLoihiProcessModel):
    counts: np.ndarray = LavaPyType(np.ndarray, np.int32)
    trains0: np.ndarray = LavaPyType(np.ndarray, np.int32)
    trains1: np.ndarray = LavaPyType(np.ndarray, np.int32)
    trains2: np.ndarray = LavaPyType(np.ndarray, np.int32)
    trains3: np.ndarray = LavaPyType(np.ndarray, np.int32)
    trains4: np.ndarray = LavaPyType(np.ndarray, np.int32)

    def run_spk(self) -> None:
        params = self.proc_params
        steps, num, per_copy = params["steps_per_image"], params["num_images"], params["per_copy"]
        for i in range(params["layers"]):
            spikes = getattr(self, f"in{i}").recv()
            slot, step = divmod(self.time_step - 1 - params["offsets"][i], steps)
            if not 0 <= slot < per_copy:
                continue
            fired = np.flatnonzero(spikes)
            if fired.size == 0:
                continue
            copy, neuron = np.divmod(fired, params["widths"][i])
            image = copy * per_copy + slot
            keep = image < num
            image, neuron = image[keep], neuron[keep]
            np.add.at(self.counts[i], image, 1)
            if params["keep_trains"][i]:
                word, bit = divmod(step, BITS_PER_WORD)
                getattr(self, f"trains{i}")[neuron, image, word] += 1 << bit  # (neuron, image) pairs are distinct
        if params["output"] is not None and self.time_step == params["total_steps"]:
            self._write(params["output"])

    def _write(self, path: str) -> None:
        arrays = {"counts": self.counts}
        for i in range(self.proc_params["layers"]):
            if self.proc_params["keep_trains"][i]:
                arrays[f"trains{i}"] = getattr(self, f"trains{i}")
        partial = f"{path}.partial.npz"  # np.savez adds .npz to other names
        np.savez(partial, **arrays)
        os.replace(partial, path)


def read_recording(path) -> dict[str, np.ndarray]:
    """The arrays a `SpikeRecorder` wrote to ``path``: ``counts`` and ``trains{i}`` of the kept layers."""
    with np.load(path, allow_pickle=False) as z:
        return {key: z[key] for key in z.files}


@implements(proc=SpikeRecorder, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyRecorderModelFloat(_RecorderModel):
    """Float model of `SpikeRecorder`."""

    in0: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    in1: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    in2: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    in3: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    in4: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)


@implements(proc=SpikeRecorder, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyRecorderModelFixed(_RecorderModel):
    """Fixed-point model of `SpikeRecorder`."""

    in0: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32)
    in1: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32)
    in2: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32)
    in3: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32)
    in4: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32)
