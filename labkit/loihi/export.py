r"""Exporting a trained `SpikingMLP`: the model bundle for Lava, and a NIR graph for everyone else.

**Bundle** (`export_bundle`, `model_from_bundle`): the quantised network of
`labkit.loihi.quantize` saved as one ``.npz`` (`labkit.loihi.bundle`): float and fixed-point
weights, biases, neuron registers and the quantisation settings. It is what
`labkit.loihi.lava_runner` runs, here or in the Lava sidecar.

**NIR** (`to_nir`, `from_nir`, `export_nir`): the Neuromorphic Intermediate Representation
(Pedersen et al., Nature Communications 15, 2024) describes a network as a graph of
continuous-time nodes that simulators and chips (Lava/Loihi, snnTorch, Norse, SpiNNaker2,
Xylo, …) read. The lab's network becomes::

    Input(784) → Affine(W1, b1) → LIF → Affine(W2, b2) → LIF → Output(10)

NIR's LIF is :math:`\tau \dot v = (v_{leak} - v) + R\,I`, spiking when :math:`v > v_{th}` and
resetting to :math:`v_{reset}`. One forward-Euler step of length Δt gives
:math:`v_t = (1 - \Delta t/\tau)\,v_{t-1} + (\Delta t/\tau) R\, I_t`, which is the lab's
:math:`v_t = \beta v_{t-1} + I_t` for

.. math::  \tau = \frac{\Delta t}{1 - \beta}, \qquad R = \frac{\tau}{\Delta t}, \qquad v_{leak} = v_{reset} = 0

with Δt = 10⁻⁴ s, the convention of snnTorch's NIR export (kept in the graph's metadata).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from ..models import SpikingMLP
from ..neurons import LIFParams
from .bundle import Bundle, save_bundle
from .quantize import QuantConfig, quantize_model

__all__ = ["NIR_DT", "export_bundle", "export_nir", "from_nir", "model_from_bundle", "to_nir"]

#: Time step Δt (seconds) used to express β as a NIR time constant (snnTorch's convention).
NIR_DT = 1e-4


def export_bundle(
    model: SpikingMLP,
    path: str | os.PathLike,
    *,
    config: QuantConfig = QuantConfig(),
    num_steps: int = 25,
    metadata: dict | None = None,
) -> Bundle:
    """Quantise ``model`` (`labkit.loihi.quantize.quantize_model`), save the bundle to ``path``, return it."""
    bundle = quantize_model(model, config=config, num_steps=num_steps, metadata=metadata)
    save_bundle(bundle, path)
    return bundle


def model_from_bundle(bundle: Bundle) -> SpikingMLP:
    """The float `SpikingMLP` a bundle was made from (weights, biases, β, θ, reset "zero")."""
    model = SpikingMLP(bundle.sizes, lif=LIFParams(beta=bundle.beta, threshold=bundle.threshold, reset="zero"), seed=0)
    with torch.no_grad():
        for linear, layer in zip(model.layers, bundle.layers):
            linear.weight.copy_(torch.as_tensor(layer.weight))
            linear.bias.copy_(torch.as_tensor(layer.bias))
    return model


def _float_layers(source: SpikingMLP | Bundle) -> tuple[list[tuple[np.ndarray, np.ndarray]], LIFParams]:
    if isinstance(source, Bundle):
        layers = [(np.asarray(l.weight, np.float32), np.asarray(l.bias, np.float32)) for l in source.layers]
        return layers, LIFParams(beta=source.beta, threshold=source.threshold, reset="zero")
    if not isinstance(source, SpikingMLP):
        raise ValueError(f"expected a SpikingMLP or a Bundle, got {type(source).__name__}")
    if source.recurrent is not None:
        raise ValueError("to_nir supports feed-forward SpikingMLPs only")
    layers = []
    for linear in source.layers:
        bias = linear.bias if linear.bias is not None else torch.zeros(linear.out_features)
        layers.append((linear.weight.detach().cpu().numpy().astype(np.float32), bias.detach().cpu().numpy().astype(np.float32)))
    return layers, source.lif


def to_nir(source: SpikingMLP | Bundle, *, dt: float = NIR_DT):
    """The network as a `nir.NIRGraph` (module docstring for the LIF mapping).

    Raises ValueError for the "subtract" reset, which NIR's LIF (reset to v_reset) cannot express,
    and for β = 1 (no leak: τ would be infinite).
    """
    import nir

    layers, lif = _float_layers(source)
    if lif.reset != "zero":
        raise ValueError("NIR's LIF resets to v_reset; a model with reset='subtract' cannot be exported exactly")
    if not lif.beta < 1.0:
        raise ValueError("β = 1 (no leak) has no finite NIR time constant; use nir.IF for integrate-and-fire")
    tau = dt / (1.0 - lif.beta)
    nodes: dict = {"input": nir.Input(input_type=np.array([layers[0][0].shape[1]]))}
    edges = []
    previous = "input"
    for index, (weight, bias) in enumerate(layers):
        n = weight.shape[0]
        affine, neuron = f"affine{index}", f"lif{index}"
        nodes[affine] = nir.Affine(weight=weight, bias=bias)
        nodes[neuron] = nir.LIF(
            tau=np.full(n, tau, dtype=np.float64),
            r=np.full(n, tau / dt, dtype=np.float64),
            v_leak=np.zeros(n, dtype=np.float64),
            v_threshold=np.full(n, lif.threshold, dtype=np.float64),
            v_reset=np.zeros(n, dtype=np.float64),
        )
        edges += [(previous, affine), (affine, neuron)]
        previous = neuron
    nodes["output"] = nir.Output(output_type=np.array([layers[-1][0].shape[0]]))
    edges.append((previous, "output"))
    metadata = {"source": "labkit", "dt": float(dt), "beta": float(lif.beta), "reset": "zero"}
    if isinstance(source, Bundle):
        metadata["num_steps"] = int(source.num_steps)
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata)


def export_nir(source: SpikingMLP | Bundle, path: str | os.PathLike, *, dt: float = NIR_DT) -> Path:
    """Write the NIR graph of ``source`` to ``path`` (HDF5, ``nir.write``); returns the path."""
    import nir

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nir.write(path, to_nir(source, dt=dt))
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
        order.append(nxt[0])
    return order


def from_nir(graph_or_path, *, dt: float | None = None) -> SpikingMLP:
    """Rebuild a `SpikingMLP` from a NIR chain Input → (Affine|Linear → LIF)* → Output.

    β = 1 − Δt/τ with Δt from the graph's metadata (else `NIR_DT`). Raises ValueError for
    graphs this model cannot represent (other node types, per-neuron parameters that differ,
    a leak or reset potential other than 0, R ≠ τ/Δt).
    """
    import nir

    graph = nir.read(graph_or_path) if isinstance(graph_or_path, (str, os.PathLike)) else graph_or_path
    if dt is None:
        dt = float(np.asarray((graph.metadata or {}).get("dt", NIR_DT)))
    layers, lifs = [], []
    for name in _chain(graph)[1:]:
        node = graph.nodes[name]
        if isinstance(node, (nir.Affine, nir.Linear)):
            weight = np.asarray(node.weight, dtype=np.float32)
            bias = np.asarray(getattr(node, "bias", np.zeros(weight.shape[0])), dtype=np.float32)
            layers.append((weight, bias))
        elif isinstance(node, nir.LIF):
            tau, r = np.asarray(node.tau, np.float64), np.asarray(node.r, np.float64)
            thr = np.asarray(node.v_threshold, np.float64)
            for label, values in (("tau", tau), ("r", r), ("v_threshold", thr)):
                if not np.allclose(values, values.flat[0], rtol=1e-6, atol=0):
                    raise ValueError(f"LIF node {name!r}: {label} differs between neurons; SpikingMLP shares one value")
            if np.any(np.asarray(node.v_leak) != 0) or np.any(np.asarray(node.v_reset) != 0):
                raise ValueError(f"LIF node {name!r}: v_leak and v_reset must be 0 for the lab's LIF")
            if not np.allclose(r, tau / dt, rtol=1e-6):
                raise ValueError(f"LIF node {name!r}: R must equal τ/Δt (unit input gain) for the lab's LIF")
            beta = 1.0 - dt / tau.flat[0]
            stored = (graph.metadata or {}).get("beta")
            if stored is not None and abs(float(np.asarray(stored)) - beta) < 1e-9:
                beta = float(np.asarray(stored))  # the exact β written by to_nir, free of τ's rounding
            lifs.append(LIFParams(beta=float(beta), threshold=float(thr.flat[0]), reset="zero"))
        elif isinstance(node, nir.Output):
            break
        else:
            raise ValueError(f"node {name!r} of type {type(node).__name__} has no counterpart in SpikingMLP")
    if not layers or len(layers) != len(lifs) or len(set(lifs)) != 1:
        raise ValueError("expected alternating Affine → LIF layers sharing one set of LIF parameters")
    sizes = (layers[0][0].shape[1], *(w.shape[0] for w, _ in layers))
    model = SpikingMLP(sizes, lif=lifs[0], seed=0)
    with torch.no_grad():
        for linear, (weight, bias) in zip(model.layers, layers):
            linear.weight.copy_(torch.from_numpy(weight))
            linear.bias.copy_(torch.from_numpy(bias))
    return model
