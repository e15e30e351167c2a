r"""Exporting a trained `SpikingMLP`: the model bundle for Lava, and a NIR graph for everyone else.

**Bundle** (`export_bundle`, `model_from_bundle`): the quantised network of
`labkit.loihi.quantize` saved as one ``.npz`` (`labkit.loihi.bundle`): float and fixed-point
weights, biases, neuron registers and the quantisation settings. It is what
`labkit.loihi.lava_runner` runs, here or in the Lava sidecar.

**NIR** (`to_nir`, `from_nir`, `export_nir`, re-exported from `labkit.interop.nir`, where they
live and where the LIF mapping is derived): the Neuromorphic Intermediate Representation
(Pedersen et al., Nature Communications 15, 2024) describes a network as a graph of
continuous-time nodes that simulators and chips (Lava/Loihi, snnTorch, Norse, SpiNNaker2,
Xylo, …) read. By default the export writes R = 1 with the input gain folded into the weights,
the form snnTorch, Norse and SpikingJelly all run to labkit's spikes (`labkit.interop.nir`).
"""

from __future__ import annotations

import os

import torch

from ..interop.nir import NIR_DT, export_nir, from_nir, to_nir
from ..models import SpikingMLP
from ..neurons import LIFParams
from .bundle import Bundle, save_bundle
from .quantize import QuantConfig, quantize_model

__all__ = ["NIR_DT", "export_bundle", "export_nir", "from_nir", "model_from_bundle", "to_nir"]


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
