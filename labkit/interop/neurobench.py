"""A `SpikingMLP` in a form NeuroBench's harness can measure (NeuroBench 2.3).

NeuroBench (Yik et al., Nature Communications 16, 2025) measures a model through forward hooks:
pre-hooks on its connection layers (``nn.Linear``, …) for SynapticOperations, and hooks on its
*activation* layers for ActivationSparsity and MembraneUpdates. It recognises an activation
layer by its class (``nn.ReLU``, ``nn.Sigmoid``, and with ``SNNTorchModel`` any
``snntorch.SpikingNeuron``) and reads a spiking layer's membrane from its ``mem`` attribute
before and after each call. `SpikingMLP` runs its LIF dynamics inside its own forward (fused over
all T steps), so wrapped directly NeuroBench finds its Linear layers but no neurons, and reports
an activation sparsity of 0 and no membrane updates, silently.

`NeuroBenchNet` gives NeuroBench what it looks for, without copying the network: one step per
call (``spikes_out, membrane_out = net(x_t)``), the model's own Linear layers, and one
`HookableLIF` per layer, a ``snntorch.SpikingNeuron`` whose step is `labkit.neurons.lif_step`
(the recurrence `SpikingMLP` runs) and whose ``mem`` NeuroBench reads::

    from neurobench.benchmarks import Benchmark
    from neurobench.models import SNNTorchModel
    from neurobench.metrics.workload import ActivationSparsity, MembraneUpdates, SynapticOperations

    model = SNNTorchModel(NeuroBenchNet(spiking_mlp))
    results = Benchmark(model, loader, [], [], [[], [ActivationSparsity, MembraneUpdates,
                        SynapticOperations]]).run()

On the same spikes NeuroBench's SynapticOperations, ActivationSparsity and MembraneUpdates equal
`labkit.energy.count_ops`'s ``to_neurobench()`` (tests/test_interop_neurobench.py). NeuroBench's
MembraneUpdates counts the neuron-steps whose membrane *changed* (all neurons at the first step),
as ``OpCounts.membrane_updates`` does; ``OpCounts.neuron_updates`` counts every evaluation, T·ΣN,
a few more (on 200 test digits of the committed model: 1 in 2.55 million).

Wrapped directly, ``SNNTorchModel(spiking_mlp)`` does not even run (NeuroBench calls the network
once per step and expects ``(spikes, membrane)``), and a ``TorchModel`` around a module that runs
the `SpikingMLP` on NeuroBench's batch-first frames (tests/test_interop_neurobench.py) runs but
gives NeuroBench no activation layer to hook: its ActivationSparsity then falls back to
0.0 (its guard against dividing by zero activations) and MembraneUpdates to 0, with no warning.

``loader`` yields ``(frames [batch, T, 784], labels)``: NeuroBench's data layout is batch
first; `neurobench_frames` turns the lab's ``[T, batch, …]`` spikes into it.
"""

from __future__ import annotations

import torch
from torch import nn

from ..models import SpikingMLP
from ..neurons import lif_step

__all__ = ["HookableLIF", "NeuroBenchNet", "neurobench_frames"]


def _spiking_neuron_base():
    try:
        import snntorch
    except ImportError as error:  # pragma: no cover - snntorch is a dependency of the lab
        raise ImportError("the NeuroBench adapter needs snntorch (pip install snntorch)") from error
    return snntorch.SpikingNeuron


def HookableLIF(params):  # noqa: N802 - a class factory used like a class
    """A LIF layer for NeuroBench: ``spikes = layer(current)``, membrane kept in ``layer.mem``.

    An instance of ``snntorch.SpikingNeuron`` (so NeuroBench's hooks record its spikes and
    membrane); its step is `labkit.neurons.lif_step` with the lab's parameters.
    """
    return _hookable_class()(params)


_HOOKABLE: type | None = None


def _hookable_class() -> type:
    global _HOOKABLE
    if _HOOKABLE is None:
        base = _spiking_neuron_base()

        class _HookableLIF(base):
            """labkit's LIF step behind snnTorch's neuron interface (init_hidden: state in ``mem``)."""

            def __init__(self, params):
                super().__init__(threshold=params.threshold, init_hidden=True, reset_mechanism=params.reset)
                self.params = params
                self.mem = torch.zeros(())

            def reset_mem(self):
                self.mem = torch.zeros(())
                return self.mem

            def forward(self, current: torch.Tensor) -> torch.Tensor:
                spikes, self.mem = lif_step(current, self.mem, self.params)
                return spikes

        _HOOKABLE = _HookableLIF
    return _HOOKABLE


class NeuroBenchNet(nn.Module):
    """One time step of a feed-forward `SpikingMLP`, laid out for NeuroBench's hooks.

    ``layers`` are the model's own Linear layers (shared, not copied); ``neurons`` one
    `HookableLIF` per layer. ``forward(x_t)`` takes one step ``[batch, n_in]`` and returns
    ``(output spikes, output membrane)``; ``reset()`` zeroes every membrane (NeuroBench's
    ``SNNTorchModel`` calls it before each batch).
    """

    def __init__(self, model: SpikingMLP):
        super().__init__()
        if not isinstance(model, SpikingMLP):
            raise ValueError(f"NeuroBenchNet wraps a labkit SpikingMLP, got {type(model).__name__}")
        if model.recurrent is not None:
            raise ValueError("NeuroBenchNet supports feed-forward SpikingMLPs only (this one has a recurrent layer)")
        self.layers = model.layers
        self.neurons = nn.ModuleList(HookableLIF(model.lif) for _ in model.layers)

    def reset(self) -> None:
        for neuron in self.neurons:
            neuron.reset_mem()

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        s = x.reshape(x.shape[0], -1)
        for linear, neuron in zip(self.layers, self.neurons):
            s = neuron(linear(s))
        return s, self.neurons[-1].mem


def neurobench_frames(spikes: torch.Tensor) -> torch.Tensor:
    """The lab's ``[T, batch, …]`` spikes in NeuroBench's layout ``[batch, T, …]``."""
    if spikes.dim() < 3:
        raise ValueError(f"expected spikes [T, batch, features…], got shape {tuple(spikes.shape)}")
    return spikes.transpose(0, 1).contiguous()

