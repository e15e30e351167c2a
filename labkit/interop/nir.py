r"""The lab's network as a NIR graph, and any NIR chain of LIF layers back as a `SpikingMLP`.

NIR, the Neuromorphic Intermediate Representation (Pedersen et al., Nature Communications 15,
2024), describes a network as a graph of continuous-time nodes that simulators and chips
(Lava/Loihi, snnTorch, Norse, SpikingJelly, SpiNNaker2, Xylo, …) read. The lab's network is::

    Input(784) → Affine(W1, b1) → LIF → Affine(W2, b2) → LIF → Output(10)

NIR's LIF is :math:`\tau \dot v = (v_{leak} - v) + R\,I`, spiking when :math:`v > v_{th}` and
resetting to :math:`v_{reset}`. One forward-Euler step of length Δt gives

.. math::  v_t = (1 - \Delta t/\tau)\, v_{t-1} + (\Delta t/\tau)\,(R\, I_t + v_{leak})

and the lab's neuron is :math:`v_t = \beta v_{t-1} + I_t` with :math:`I_t = W s_t + b`. So
:math:`\tau = \Delta t/(1-\beta)`, and the input gain :math:`g = R\,\Delta t/\tau` must be 1
overall. Two ways to write that, the same network under NIR's equation:

* ``form="unit_r"`` (the default): :math:`R = 1`, and the gain :math:`\tau/\Delta t = 1/(1-\beta)`
  is folded into the Affine node (weights and biases times 10 for β = 0.9). Every reader
  measured here runs it to labkit's spikes: snnTorch 1.0's ``import_from_nir``, SpikingJelly
  2.0's ``nir_exchange.from_nir`` and Norse 1.1's ``from_nir`` (which ignores R altogether,
  i.e. assumes R = 1; pass it ``dt=graph.metadata["dt"]``, since it also ignores the graph's Δt
  and defaults to 1 ms).
* ``form="r_tau"``: the weights as trained and :math:`R = \tau/\Delta t`, the form snnTorch's own
  ``export_to_nir`` writes. snnTorch and SpikingJelly read it; Norse runs a different network
  (every input scaled by 1 − β).

Δt = 10⁻⁴ s (`NIR_DT`) is snnTorch's and SpikingJelly's fixed convention; it is kept in the
graph's metadata with β, the reset and the form.

`from_nir` reads any chain ``Input → (Affine | Linear → LIF)* → Output`` whose LIF parameters a
`SpikingMLP` can run: :math:`R \ne \tau/\Delta t` and per-neuron :math:`R`, :math:`v_{leak}`
(folded into each neuron's weights and bias) and per-neuron thresholds (each neuron scaled to
θ = 1 when they differ); what it cannot represent (τ that differs between neurons or layers,
:math:`v_{reset} \ne 0`, other node types) is refused with a message. Graphs written by
snnTorch's ``export_to_nir`` read as they are (snnTorch 1.0's exporter works under nir 1.0.8
only for neurons with per-neuron β and θ; with scalar ones it fails its own check, "Type
inference error: type mismatch: 0.output: [[500]] -> 1.input: []"), and so do SpikingJelly
2.0's (``nir_exchange.export_to_nir``). Norse 1.1's ``to_nir`` writes
:math:`\tau\cdot\Delta t` where τ belongs (``tau=dt / tau_mem_inv`` in
``norse/torch/utils/export_nir.py``) and no Δt; read such a file with ``dt=Δt**2``
(``1e-6`` for Norse's default Δt of 1 ms), which gives back its decay and gain exactly.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from ..models import SpikingMLP
from ..neurons import LIFParams

__all__ = ["NIR_DT", "NirForm", "export_nir", "from_nir", "to_nir"]

#: Time step Δt (seconds) used to express β as a NIR time constant (snnTorch's convention).
NIR_DT = 1e-4

NirForm = Literal["unit_r", "r_tau"]
_FORMS = ("unit_r", "r_tau")


def _float_layers(source, lif: LIFParams | None) -> tuple[list[tuple[np.ndarray, np.ndarray]], LIFParams]:
    if isinstance(source, SpikingMLP):
        if source.recurrent is not None:
            raise ValueError("to_nir supports feed-forward SpikingMLPs only (this one has a recurrent hidden layer)")
        layers = []
        for linear in source.layers:
            bias = linear.bias if linear.bias is not None else torch.zeros(linear.out_features)
            layers.append((linear.weight.detach().cpu().numpy().astype(np.float32),
                           bias.detach().cpu().numpy().astype(np.float32)))
        return layers, source.lif
    if not isinstance(source, (list, tuple)) or not source or not all(
            isinstance(pair, (list, tuple)) and len(pair) == 2 for pair in source):
        raise ValueError(f"to_nir exports a SpikingMLP or a list of (weight, bias) pairs, got {type(source).__name__}")
    if not isinstance(lif, LIFParams):
        raise ValueError("to_nir needs lif=LIFParams(...) (β, θ, reset) with a list of (weight, bias) pairs")
    return [(np.asarray(w, np.float32), np.asarray(b, np.float32)) for w, b in source], lif


def to_nir(source, *, lif: LIFParams | None = None, num_steps: int | None = None, dt: float = NIR_DT,
           form: NirForm = "unit_r"):
    """The network as a `nir.NIRGraph` (module docstring).

    ``source`` is a feed-forward `SpikingMLP`, or plain layers ``[(W [n_out, n_in], b [n_out]), …]``
    in float units with their neuron ``lif`` (a `LIFParams`; e.g. a Loihi bundle's float weights).
    ``num_steps`` (default: the model's) is kept in the graph's metadata.

    ``form="unit_r"`` (default) writes R = 1 with the gain 1/(1 − β) folded into weights and
    biases, which snnTorch, SpikingJelly and Norse all run to labkit's spikes; ``form="r_tau"``
    writes the weights as trained and R = τ/Δt (snnTorch's own convention).

    Raises ValueError for the "subtract" reset, which NIR's LIF (reset to v_reset) cannot express,
    and for β = 1 (no leak: τ would be infinite) or β = 0.
    """
    import nir

    if form not in _FORMS:
        raise ValueError(f"form must be one of {_FORMS}, got {form!r}")
    if not (isinstance(dt, (int, float)) and dt > 0):
        raise ValueError(f"dt must be a time step in seconds > 0, got {dt!r}")
    layers, lif = _float_layers(source, lif)
    if lif.reset != "zero":
        raise ValueError("NIR's LIF resets to v_reset; a model with reset='subtract' cannot be exported exactly "
                         "(train with LIFParams(reset='zero'), the lab's default)")
    if not 0.0 < lif.beta < 1.0:
        raise ValueError(f"β = {lif.beta} has no finite positive NIR time constant; NIR's LIF needs 0 < β < 1")
    tau = dt / (1.0 - lif.beta)
    gain = tau / dt  # 1 / (1 − β): the input gain NIR's Euler step takes away
    nodes: dict = {"input": nir.Input(input_type=np.array([layers[0][0].shape[1]]))}
    edges = []
    previous = "input"
    for index, (weight, bias) in enumerate(layers):
        n = weight.shape[0]
        affine, neuron = f"affine{index}", f"lif{index}"
        if form == "unit_r":
            weight = (weight.astype(np.float64) * gain).astype(np.float32)
            bias = (bias.astype(np.float64) * gain).astype(np.float32)
        nodes[affine] = nir.Affine(weight=weight, bias=bias)
        nodes[neuron] = nir.LIF(
            tau=np.full(n, tau, dtype=np.float64),
            r=np.full(n, 1.0 if form == "unit_r" else gain, dtype=np.float64),
            v_leak=np.zeros(n, dtype=np.float64),
            v_threshold=np.full(n, lif.threshold, dtype=np.float64),
            v_reset=np.zeros(n, dtype=np.float64),
        )
        edges += [(previous, affine), (affine, neuron)]
        previous = neuron
    nodes["output"] = nir.Output(output_type=np.array([layers[-1][0].shape[0]]))
    edges.append((previous, "output"))
    metadata = {"source": "labkit", "dt": float(dt), "beta": float(lif.beta), "reset": "zero", "form": form}
    num_steps = getattr(source, "num_steps", None) if num_steps is None else num_steps
    if num_steps is not None:
        metadata["num_steps"] = int(num_steps)
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata)


def export_nir(source, path: str | os.PathLike, *, lif: LIFParams | None = None, num_steps: int | None = None,
               dt: float = NIR_DT, form: NirForm = "unit_r") -> Path:
    """Write the NIR graph of ``source`` to ``path`` (HDF5, ``nir.write``); returns the path."""
    import nir

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nir.write(path, to_nir(source, lif=lif, num_steps=num_steps, dt=dt, form=form))
    return path


def _chain(graph) -> list[str]:
    """Node names from the input to the output of a sequential graph; ValueError if it branches."""
    successors: dict[str, list[str]] = {}
    for src, dst in graph.edges:
        successors.setdefault(src, []).append(dst)
    inputs = list(graph.inputs)
    if len(inputs) != 1:
        raise ValueError(f"expected one Input node, found {len(inputs)}")
    order = [inputs[0]]
    while order[-1] in successors:
        nxt = successors[order[-1]]
        if len(nxt) != 1:
            raise ValueError(f"node {order[-1]!r} has {len(nxt)} successors; only chains are supported")
        if nxt[0] in order:
            raise ValueError(f"the graph has a cycle through {nxt[0]!r}; only feed-forward chains are supported")
        order.append(nxt[0])
    return order


def _array(value, n: int, name: str, label: str) -> np.ndarray:
    """A LIF parameter as float64 ``[n]`` (scalars broadcast); ValueError for another shape."""
    values = np.asarray(value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else value, dtype=np.float64)
    if values.size == 1:
        return np.full(n, float(values.reshape(())), dtype=np.float64)
    if values.reshape(-1).shape != (n,):
        raise ValueError(f"LIF node {name!r}: {label} has shape {values.shape}, expected one value or {n} (one per neuron)")
    return values.reshape(-1)


def _metadata_dt(graph) -> float:
    stored = (graph.metadata or {}).get("dt")
    return NIR_DT if stored is None else float(np.asarray(stored))


def from_nir(graph_or_path, *, dt: float | None = None) -> SpikingMLP:
    """Rebuild a `SpikingMLP` from a NIR chain Input → (Affine | Linear → LIF)* → Output.

    Each LIF node gives β = 1 − Δt/τ and the input gain g = R·Δt/τ, with Δt = ``dt``, else the
    graph's metadata ``dt``, else `NIR_DT`. The gain (and Δt·v_leak/τ, a constant input) is
    folded into the preceding Affine node's rows, so any R works, per neuron or shared. When
    thresholds differ between neurons (or layers) each neuron is scaled to θ = 1.
    Raises ValueError for graphs a `SpikingMLP` cannot represent (other node types, τ that
    differs between neurons or layers, v_reset ≠ 0, β outside (0, 1)).
    Norse 1.1's exports: pass ``dt=Δt**2`` (module docstring).

    Long by design: it reads the graph and checks every node in one pass, so each error names the
    node it found.
    """
    import nir

    graph = nir.read(graph_or_path) if isinstance(graph_or_path, (str, os.PathLike)) else graph_or_path
    if not isinstance(graph, nir.NIRGraph):
        raise ValueError(f"from_nir reads a nir.NIRGraph or a path to a .nir file, got {type(graph).__name__}")
    if dt is None:
        dt = _metadata_dt(graph)
    if not (isinstance(dt, (int, float)) and dt > 0):
        raise ValueError(f"dt must be a time step in seconds > 0, got {dt!r}")
    weights: list[np.ndarray] = []  # float64 [n_out, n_in], gain folded in
    biases: list[np.ndarray] = []
    betas: list[float] = []
    thresholds: list[np.ndarray] = []
    pending: tuple[np.ndarray, np.ndarray] | None = None
    for name in _chain(graph)[1:]:
        node = graph.nodes[name]
        if isinstance(node, (nir.Affine, nir.Linear)):
            if pending is not None:
                raise ValueError(f"node {name!r}: two connection nodes in a row; expected Affine → LIF → Affine → LIF …")
            weight = np.asarray(node.weight, dtype=np.float64)
            if weight.ndim != 2:
                raise ValueError(f"node {name!r}: weight has shape {weight.shape}, expected [n_out, n_in]")
            raw_bias = getattr(node, "bias", None)
            bias = np.zeros(weight.shape[0]) if raw_bias is None else np.asarray(raw_bias, np.float64).reshape(-1)
            pending = (weight, bias)
        elif isinstance(node, nir.LIF):
            if pending is None:
                raise ValueError(f"LIF node {name!r} has no Affine or Linear node before it")
            weight, bias = pending
            pending = None
            n = weight.shape[0]
            tau = _array(node.tau, n, name, "tau")
            r = _array(node.r, n, name, "r")
            v_leak = _array(node.v_leak, n, name, "v_leak")
            thr = _array(node.v_threshold, n, name, "v_threshold")
            v_reset = _array(node.v_reset, n, name, "v_reset")
            if not np.allclose(tau, tau[0], rtol=1e-6, atol=0):
                raise ValueError(f"LIF node {name!r}: tau differs between neurons ({tau.min():.3g} … {tau.max():.3g} s); "
                                 "SpikingMLP shares one decay β")
            if np.any(v_reset != 0):
                raise ValueError(f"LIF node {name!r}: v_reset must be 0 (the lab's LIF resets to zero)")
            if np.any(thr <= 0) or not np.all(np.isfinite(thr)):
                raise ValueError(f"LIF node {name!r}: v_threshold must be finite and > 0")
            step = dt / tau[0]  # Δt/τ
            if not 0.0 < step < 1.0:
                raise ValueError(f"LIF node {name!r}: Δt/τ = {step:.3g} gives β = 1 − Δt/τ outside (0, 1); "
                                 f"is dt = {dt:g} s the graph's time step? pass from_nir(..., dt=...)")
            gain = r * (dt / tau)
            if np.allclose(gain, 1.0, rtol=1e-6, atol=0):
                gain = np.ones(n)  # R = τ/Δt: the weights as they are, bit for bit
            weights.append(weight * gain[:, None])
            biases.append(bias * gain + (dt / tau) * v_leak)
            beta = 1.0 - step
            stored = (graph.metadata or {}).get("beta")
            if stored is not None and abs(float(np.asarray(stored)) - beta) < 1e-9:
                beta = float(np.asarray(stored))  # the exact β written by to_nir, free of τ's rounding
            betas.append(beta)
            thresholds.append(thr)
        elif isinstance(node, nir.Output):
            break
        else:
            raise ValueError(f"node {name!r} of type {type(node).__name__} has no counterpart in SpikingMLP "
                             "(expected Affine or Linear, then LIF)")
    if pending is not None or not weights:
        raise ValueError("expected alternating Affine → LIF layers ending in a LIF node")
    if any(abs(b - betas[0]) > 1e-9 for b in betas):
        raise ValueError(f"the LIF layers decay differently (β = {', '.join(f'{b:.6g}' for b in betas)}); "
                         "SpikingMLP shares one β")
    all_thr = np.concatenate(thresholds)
    if np.allclose(all_thr, all_thr[0], rtol=1e-7, atol=0):
        threshold = float(all_thr[0])
    else:  # scale each neuron's membrane by 1/θ_j: the same spikes with θ = 1
        threshold = 1.0
        weights = [w / thr[:, None] for w, thr in zip(weights, thresholds)]
        biases = [b / thr for b, thr in zip(biases, thresholds)]
    sizes = (weights[0].shape[1], *(w.shape[0] for w in weights))
    for w, size in zip(weights, sizes[:-1]):
        if w.shape[1] != size:
            raise ValueError(f"a connection takes {w.shape[1]} inputs where the layer before has {size} neurons")
    model = SpikingMLP(sizes, lif=LIFParams(beta=float(betas[0]), threshold=threshold, reset="zero"), seed=0)
    with torch.no_grad():
        for linear, weight, bias in zip(model.layers, weights, biases):
            linear.weight.copy_(torch.from_numpy(weight.astype(np.float32)))
            linear.bias.copy_(torch.from_numpy(bias.astype(np.float32)))
    return model
