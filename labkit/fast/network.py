"""`FastSpikingMLP`: the paper's network computed faster on a CPU, the same parameters and the same sums.

What changes against `labkit.models.SpikingMLP` is how, never what:

* the input spikes reach the first layer as their list alone (`input_encoder` hands the training
  loop and the evaluators a rate code that lists its spikes while drawing them,
  `labkit.fast.encoding.list_rate`); no dense code is written;
* the first layer's product and its weight gradient read that list (`labkit.fast.lists`);
* the LIF recurrence runs as one compiled loop (`CompiledLIFSequence`), and in a pass without
  gradients it reads the first layer's currents slice by slice as the gather makes them;
* where numba is missing (or ``LABKIT_KERNELS=0``), the torch operations of the default path run.

On the same spikes every sum is the default path's in the same order, so the two agree bit for bit
on a CPU for a fixed number of threads (tests/test_fast.py), and a run of one reproduces with the
other. The state dict is `SpikingMLP`'s: a network trained here loads into the default class.
"""

from __future__ import annotations

import torch

from ..encoders import RateEncoder
from ..models import SNNOutput, SpikingMLP
from ..neurons import LIFParams, LIFSequence, Surrogate
from . import kernels
from .encoding import list_rate
from .lists import SpikeList, spike_linear, spike_linear_slices

__all__ = ["CompiledLIFSequence", "FastSpikingMLP", "ListingRateEncoder", "accelerate"]


class CompiledLIFSequence(LIFSequence):
    """`labkit.neurons.LIFSequence` with its forward recurrence compiled (`labkit.fast.kernels.lif_forward`: the
    same operations in one pass through memory); the backward pass is the default one."""

    @staticmethod
    def forward(ctx, current: torch.Tensor, params: LIFParams, surrogate: Surrogate):
        if not (current.is_contiguous() and kernels.available(current)):
            return LIFSequence.forward(ctx, current, params, surrogate)
        spikes, membranes = kernels.lif_forward(current.detach(), params.beta, params.threshold,
                                                params.reset == "zero")
        ctx.save_for_backward(membranes, spikes)
        ctx.params, ctx.surrogate = params, surrogate
        ctx.set_materialize_grads(False)
        return spikes, membranes


class ListingRateEncoder:
    """A `labkit.encoders.RateEncoder` whose calls give the spikes' list (`list_rate`) instead of the dense
    tensor; everything else (``gain``, ``temporal``, ``static``) is the encoder's own."""

    def __init__(self, encoder: RateEncoder):
        self.encoder = encoder

    def __call__(self, x: torch.Tensor, num_steps: int, generator: torch.Generator | None = None) -> SpikeList:
        return list_rate(x, num_steps, gain=self.encoder.gain, generator=generator)

    def __getattr__(self, name: str):
        return getattr(self.encoder, name)


class FastSpikingMLP(SpikingMLP):
    """`labkit.models.SpikingMLP` on the fast backend (module docstring); the same arguments."""

    def input_encoder(self, encoder, x: torch.Tensor):
        """The encoder the training loop and the evaluators use for the batch ``x``: the rate code listed
        (`ListingRateEncoder`) on the CPU, where the first layer reads nothing else; else ``encoder``."""
        if isinstance(encoder, RateEncoder) and x.device.type == "cpu" and self.layers[0].product != "dense":
            return ListingRateEncoder(encoder)
        return encoder

    def forward(self, x: torch.Tensor | SpikeList) -> SNNOutput:
        s = x if isinstance(x, SpikeList) else self._flat_input(x)
        if s.shape[-1] != self.sizes[0]:
            raise ValueError(f"input has {s.shape[-1]} features per step, the network expects {self.sizes[0]}")
        lif = isinstance(self.neuron, LIFParams)
        spikes, membranes = [s], []
        for index, layer in enumerate(self.layers):
            first = index == 0
            if first and lif and self.recurrent is None and not torch.is_grad_enabled():
                parts = spike_linear_slices(s, layer.weight, layer.product) if kernels.available(layer.weight) else None
                if parts is not None:  # the currents read slice by slice, never put together
                    s, u = kernels.lif_forward_slices(parts, layer.bias, s.shape[0], self.neuron.beta,
                                                      self.neuron.threshold, self.neuron.reset == "zero")
                    spikes.append(s)
                    membranes.append(u)
                    continue
            current = spike_linear(s, layer.weight, layer.bias, layer.product) if first else layer(s)
            if first and self.recurrent is not None:
                s, u = self._recurrent_layer(current)
            elif lif:
                s, u = CompiledLIFSequence.apply(current, self.neuron, self.surrogate)
            else:
                s, u = self.neuron.sequence(current, self.surrogate)
            spikes.append(s)
            membranes.append(u)
        return SNNOutput(tuple(spikes), tuple(membranes))


def accelerate(model: SpikingMLP) -> FastSpikingMLP:
    """``model`` on the fast backend: a `FastSpikingMLP` with the same settings and the same parameters (a copy)."""
    fast = FastSpikingMLP(model.sizes, surrogate=model.surrogate, recurrent=model.is_recurrent,
                          bias=model.layers[0].bias is not None, seed=None, input_product=model.layers[0].product,
                          neuron=model.neuron)
    fast.load_state_dict(model.state_dict())
    return fast.to(next(model.parameters()).device)
