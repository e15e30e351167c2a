"""The bundled network as a graph of Lava processes, run in this interpreter (numpy + lava-nc).

The graph (lava-nc 0.10)::

    PackedSpikeSource → Dense → LIFReset → Dense → LIFReset → … → LIFReset
                                    ↓                                ↓
                                    └──────────── SpikeRecorder ─────┘

under ``Loihi2SimCfg(select_tag="floating_pt")`` or ``"fixed_pt"`` (bit-accurate). Dense and
LIFReset are Lava's own processes (with several copies of the network side by side, the
connections can be labkit's `CopiedDense`, below); the source and the recorders
(`labkit.loihi.lava_io.processes`) only move data in and out.

**Many images in one network.** Images are played back to back, T steps each, with no gap.
Lava's ``LIFReset`` zeroes u and v every ``reset_interval = T`` steps at a chosen phase. Each
Dense delays its output by one step (Lava buffers the synaptic input for one step so that
recurrent graphs cannot deadlock), so LIF layer l (1-based) sees step t of image k at
simulation step ``k·T + t + l + 1`` (1-based), and its reset phase is ``(l + 1) mod T``.
Within its window every layer therefore starts from u = v = 0 and receives only that image,
exactly as if each image were a separate run. (A zero-input gap would not do: with a bias the
membrane does not return to rest.) All N images run in one network of ``N·T + L + 1`` steps
for L layers, built and compiled once; the run advances ``chunk`` images at a time so that
progress can be reported, and the state carries over between these runs.

**Copies side by side.** With ``copies = B`` the graph holds B copies of the network in the same
processes: every connection carries B copies of W and every LIF layer is B times as wide, so B
images run at once and Lava's per-step messaging, which costs more than the arithmetic at this
size, is shared by B images. Copy c plays images ``c·M … c·M + M − 1``, M = ceil(N / B). The
copies do not interact: the spikes are those of B separate networks. ``connection`` says how
the copies are connected:

* ``"copied"`` (the default): `labkit.loihi.lava_io.copied_dense.CopiedDense`, one W for all
  copies, each copy's currents computed with the arithmetic of Lava's Dense model from that
  copy's spikes alone: the work grows as B, and the currents equal Dense's bit for bit.
* ``"dense"``: Lava's ``Dense`` with a block-diagonal [B·n_out, B·n_in] matrix; its model
  gathers every spiking input's column over all B·n_out rows, so the work grows as B².
* ``"sparse"``: Lava's ``Sparse`` with the block-diagonal matrix in CSR form; selecting its
  columns walks every stored weight at every step.

With B = 1, ``"copied"`` and ``"dense"`` are both Lava's own ``Dense``.

**What is read back.** ``record="counts"``: per image, every layer's spike count and the output
layer's spike trains as bit masks, which the recorder writes to a file at the last step
(`labkit.loihi.lava_io.processes`; reading them through ``Var.get`` would cost one message a
number). ``record="spikes"``: every layer's
spike trains, and the output layer's current u and voltage v through Lava ``Monitor``\\ s, from
which `labkit.loihi.spike_readout.pre_reset_membrane` recovers the membrane the lab records
(small networks and teaching; a Monitor is read back one number per message).
"""

from __future__ import annotations

import os
import tempfile
import time
from typing import Callable, Literal

import numpy as np

from ..foundation.validation import check_choice
from .bundle import Bundle
from .lava_result import LavaResult
from .spike_readout import pre_reset_membrane, trains_from_bits

__all__ = ["CONNECTIONS", "LAVA_TAGS", "network_steps", "run_network"]

Mode = Literal["float", "fixed"]
Record = Literal["counts", "spikes"]
Connection = Literal["copied", "dense", "sparse"]
#: How B copies of a layer's weights are connected (module docstring).
CONNECTIONS = ("copied", "dense", "sparse")
#: Lava run-configuration tag of each mode.
LAVA_TAGS = {"float": "floating_pt", "fixed": "fixed_pt"}


def network_steps(num_images: int, steps_per_image: int, num_layers: int, copies: int = 1) -> int:
    """Simulation steps for N images of T steps through L layers on B copies: ceil(N / B)·T + L + 1."""
    return -(-num_images // copies) * steps_per_image + num_layers + 1


def block_diagonal(weight: np.ndarray, copies: int) -> np.ndarray:
    """``copies`` copies of ``weight`` [n_out, n_in] on the diagonal of a [B·n_out, B·n_in] matrix."""
    n_out, n_in = weight.shape
    blocks = np.zeros((copies * n_out, copies * n_in), dtype=weight.dtype)
    for c in range(copies):
        blocks[c * n_out : (c + 1) * n_out, c * n_in : (c + 1) * n_in] = weight
    return blocks


def _connection(weight: np.ndarray, copies: int, connection: Connection, **fixed):
    """The Lava process connecting ``copies`` copies of ``weight`` side by side (module docstring)."""
    if connection == "sparse":
        from lava.proc.sparse.process import Sparse
        from scipy.sparse import block_diag

        return Sparse(weights=block_diag([weight] * copies, format="csr"), **fixed)
    if connection == "copied" and copies > 1:
        from .lava_io.copied_dense import CopiedDense

        return CopiedDense(weights=weight, copies=copies, **fixed)
    from lava.proc.dense.process import Dense

    return Dense(weights=block_diagonal(weight, copies), **fixed)


def _layer_processes(bundle: Bundle, mode: Mode, steps_per_image: int, index: int, layer, copies: int,
                     connection: Connection):
    """(connection, LIFReset) of layer ``index`` (1-based) in ``mode``, ``copies`` copies side by side."""
    from lava.proc.lif.process import LIFReset

    if mode == "fixed":
        conn = _connection(np.asarray(layer.weight_mant, dtype=np.int32), copies, connection,
                           weight_exp=int(layer.weight_exp), num_weight_bits=int(bundle.metadata.get("weight_bits", 8)))
        params = dict(du=int(layer.du), dv=int(layer.dv), vth=int(layer.vth),
                      bias_mant=np.tile(np.asarray(layer.bias_mant, dtype=np.int32), copies),
                      bias_exp=int(layer.bias_exp))
    else:
        conn = _connection(np.asarray(layer.weight, dtype=np.float64), copies, connection)
        params = dict(du=1.0, dv=1.0 - bundle.beta, vth=float(bundle.threshold),
                      bias_mant=np.tile(np.asarray(layer.bias, dtype=np.float64), copies))
    lif = LIFReset(shape=(layer.n_out * copies,), reset_interval=steps_per_image,
                   reset_offset=(index + 1) % steps_per_image, **params)
    return conn, lif


def _build(bundle: Bundle, spikes: np.ndarray, mode: Mode, record: Record, copies: int, total: int,
           connection: Connection, folder: str):
    """The process graph: (source, LIF layers, [(recorder, first layer, its file)], {"u", "v": Monitor}).

    Recorder i writes its arrays to ``folder/recorder{i}.npz`` at the last step (``total``).
    """
    from lava.proc.monitor.process import Monitor

    from .lava_io.processes import PORTS, PackedSpikeSource, SpikeRecorder

    steps_per_image, num, n_in = spikes.shape
    packed = np.packbits(np.ascontiguousarray(spikes.transpose(1, 0, 2)), axis=-1)
    source = PackedSpikeSource(packed=packed, n_in=n_in, copies=copies)
    port, lifs = source.s_out, []
    for index, layer in enumerate(bundle.layers, start=1):
        conn, lif = _layer_processes(bundle, mode, steps_per_image, index, layer, copies, connection)
        port.connect(conn.s_in)
        conn.a_out.connect(lif.a_in)
        port = lif.s_out
        lifs.append(lif)
    recorders = []
    for first in range(0, len(lifs), PORTS):
        group = range(first, min(first + PORTS, len(lifs)))
        output = os.path.join(folder, f"recorder{len(recorders)}.npz")
        recorder = SpikeRecorder(shapes=[lifs[i].s_out.shape for i in group], offsets=[i + 1 for i in group],
                                 keep_trains=[record == "spikes" or i == len(lifs) - 1 for i in group],
                                 num_images=num, steps_per_image=steps_per_image, copies=copies,
                                 output=output, total_steps=total)
        for port_index, i in enumerate(group):
            lifs[i].s_out.connect(getattr(recorder, f"in{port_index}"))
        recorders.append((recorder, first, output))
    monitors = {}
    if record == "spikes":
        for name in ("u", "v"):
            monitors[name] = Monitor()
            monitors[name].probe(getattr(lifs[-1], name), total)
    return source, lifs, recorders, monitors


def _read_back(recorders, lifs, monitors, steps_per_image: int):
    """(counts [N, L], per layer trains [T, N, n] or None, {"u", "v": [steps, B·n]}) from the recorders' files."""
    from .lava_io.processes import PORTS, read_recording

    counts, trains = [], []
    for _, first, output in recorders:
        if not os.path.exists(output):
            raise RuntimeError(f"the Lava spike recorder wrote no file {output} at the last step of the run")
        recording = read_recording(output)
        for port_index in range(min(PORTS, len(lifs) - first)):
            counts.append(recording["counts"][port_index])
            bits = recording.get(f"trains{port_index}")
            trains.append(None if bits is None else trains_from_bits(bits, steps_per_image))
    state = {name: monitor.get_data()[lifs[-1].name][name] for name, monitor in monitors.items()}
    return np.stack(counts, axis=1).round().astype(np.int64), trains, state


def run_network(
    bundle: Bundle,
    spikes: np.ndarray,
    mode: Mode,
    *,
    record: Record = "counts",
    chunk_size: int = 500,
    copies: int = 1,
    connection: Connection = "copied",
    progress: Callable[[int, int], None] | None = None,
) -> LavaResult:
    """Run ``bundle`` in Lava on bool input spikes ``[T, N, n_in]``; one network for all N images,
    ``copies`` copies of it side by side, connected as ``connection`` says (module docstring)."""
    check_choice("connection", connection, CONNECTIONS)
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg

    from .lava_io.processes import copy_images

    started = time.perf_counter()
    steps_per_image, num, _ = spikes.shape
    copies = max(1, min(int(copies), num))
    per_copy = copy_images(num, copies)
    total = network_steps(num, steps_per_image, len(bundle.layers), copies)
    config = Loihi2SimCfg(select_tag=LAVA_TAGS[mode])
    with tempfile.TemporaryDirectory(prefix="labkit-lava-recording-") as folder:
        source, lifs, recorders, monitors = _build(bundle, spikes, mode, record, copies, total, connection, folder)
        try:
            done_steps = 0
            slots = max(1, chunk_size // copies)  # image slots between two progress reports
            for start in range(0, per_copy, slots):
                end = min(start + slots, per_copy)
                target = total if end == per_copy else end * steps_per_image
                source.run(condition=RunSteps(num_steps=target - done_steps), run_cfg=config)
                done_steps = target
                if progress is not None:
                    progress(min(num, end * copies), num)
            counts, trains, state = _read_back(recorders, lifs, monitors, steps_per_image)
        finally:
            source.stop()
    membrane = None
    if record == "spikes":
        offset = len(bundle.layers)

        def images(raw: np.ndarray) -> np.ndarray:  # [steps, B·n] → [T, N, n]; image c·M + k in slot k of copy c
            slots = raw[offset : offset + per_copy * steps_per_image].reshape(per_copy, steps_per_image, copies, -1)
            return slots.transpose(1, 2, 0, 3).reshape(steps_per_image, copies * per_copy, -1)[:, :num]

        membrane = pre_reset_membrane(images(state["u"]), images(state["v"]), bundle, mode)
    elapsed = time.perf_counter() - started
    return LavaResult(out_spikes=trains[-1], out_membrane=membrane, layer_counts=counts,
                      spikes=trains if record == "spikes" else None, mode=mode, backend="in-process", steps=total,
                      lava_seconds=elapsed, total_seconds=elapsed, copies=copies)
