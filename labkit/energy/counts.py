r"""Operation counts and energy models: what one inference costs, counted on real forward passes.

Operation counts: step 1 of an energy estimate. Energy is estimated in two steps, and the two are kept apart on purpose:

1. **Count** the operations a network really performs on real inputs (`count_ops`): the
   SpikingMLP's own spike records (`labkit.models.SNNOutput`) for spiking networks, forward
   pre-hooks on every ``nn.Linear`` for ANNs. Nothing is derived from layer sizes alone except
   the dense count, which is what "dense" means.
2. **Price** the counts with a per-operation energy model (`energy_from_counts`), a frozen
   dataclass whose every constant carries its source and year.

Counts (per inference, i.e. per sample, summed over the T time steps of an SNN) follow the
definitions of NeuroBench (Yik et al., "The neurobench framework for benchmarking neuromorphic
computing algorithms and systems", Nature Communications 16, 2025; arXiv:2304.04640), as its
documentation and harness (github.com/NeuroBench/neurobench, ``neurobench/metrics``) state them.
tests/test_interop_neurobench.py runs NeuroBench 2.3's own metrics on a trained network
(through `labkit.interop.neurobench`) and checks that they equal these counts:

* **Dense** synaptic operations: every input × every weight of every connection layer, zero
  or not, at every call (an SNN's layer is called once per step):
  :math:`\mathrm{Dense} = \sum_{\text{calls}} n_{in} n_{out}`.
* **Effective** synaptic operations: only non-zero input × non-zero weight. For one layer with
  weights W (``[n_out, n_in]``) and inputs x (rows r = every step of every sample),

  .. math::  \mathrm{Eff} = \sum_r \sum_i [x_{r,i} \neq 0] \cdot \#\{j : W_{j,i} \neq 0\}

  i.e. each input event times its fan-out of non-zero weights. They are **Effective_ACs**
  (accumulates) when the layer's input is binary (all values in {−1, 0, 1}: spikes need no
  multiply) and **Effective_MACs** (multiply-accumulates) otherwise. Biases are not synaptic
  operations.
* **ActivationSparsity**: the fraction of neuron outputs that are zero, over all neuron layers,
  steps and samples, :math:`\sum z / \sum N`. Neuron layers are the LIF layers of an SNN
  (hidden and output) and the hidden ReLU layers of an ANN (its logits are no activation).
* **ConnectionSparsity**: the fraction of connection weights (biases excluded) that are zero.
* **Footprint**: bytes of parameters and buffers (zero weights included).
* **MembraneUpdates** (SNNs): every neuron at the first step, then every neuron-step whose
  membrane potential changed (`membrane_updates`).

Beyond NeuroBench's synaptic counts, `OpCounts` records **neuron updates** (an SNN updates every
LIF neuron at every step: T·ΣN per inference; an ANN computes each unit once), **active** neuron
updates (those that received at least one synaptic event that step, for Loihi's active/inactive
prices), **spikes** per population, and, with ``plasticity="stdp"``, the **synaptic updates** an
on-chip pairwise STDP rule would make (each pre- or postsynaptic spike updates that neuron's
non-zero synapses). Neuron updates count every evaluation; NeuroBench's MembraneUpdates leaves
out the neuron-steps whose membrane stayed exactly where it was (a few in a million for a
trained network on MNIST), so ``membrane_updates <= neuron_updates``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Iterator, Literal, Sequence

import torch
from torch import nn

from ..data.record import Data
from ..encoders import Encoder, RateEncoder, frames_if_temporal
from ..foundation.runtime import resolve_device
from ..foundation.validation import check_int
from ..models import SNNOutput, SpikingMLP

__all__ = ["Kind", "LayerOps", "OpCounts", "Plasticity", "activation_sparsity", "active_neuron_updates", "connection_sparsity", "count_ops", "dense_synaptic_ops", "effective_synaptic_ops", "footprint", "is_binary", "membrane_updates"]


Kind = Literal["ann", "snn"]


Plasticity = Literal["none", "stdp"]


def _rows(inputs: torch.Tensor, n_in: int) -> torch.Tensor:
    if inputs.shape[-1] != n_in:
        raise ValueError(
            f"inputs have {inputs.shape[-1]} features, the weight expects {n_in} (weight is [n_out, n_in])"
        )
    return inputs.reshape(-1, n_in)


def effective_synaptic_ops(inputs: torch.Tensor, weight: torch.Tensor) -> int:
    r"""Effective synaptic operations: Σ_r Σ_i [x_{r,i} ≠ 0] · #{j : W_{j,i} ≠ 0}.

    Each non-zero input (a spike, or a non-zero activation) is multiplied by its fan-out of
    non-zero weights. This equals NeuroBench's count: the sum of the outputs of the layer with
    inputs and weights binarised (non-zero → 1), bias excluded.

    Args:
        inputs: ``[..., n_in]``, every leading index is one input row (time, batch, ...).
        weight: ``[n_out, n_in]`` (``nn.Linear`` layout).
    """
    x = _rows(inputs, weight.shape[1])
    events = (x != 0).sum(dim=0, dtype=torch.int64)  # per input neuron: rows in which it is non-zero
    fan_out = (weight != 0).sum(dim=0, dtype=torch.int64)  # per input neuron: its non-zero synapses
    return int((events * fan_out).sum().item())


def dense_synaptic_ops(inputs: torch.Tensor, weight: torch.Tensor) -> int:
    """Dense synaptic operations: rows × n_in × n_out (every input with every weight, zero or not)."""
    x = _rows(inputs, weight.shape[1])
    return int(x.shape[0]) * int(weight.numel())


def active_neuron_updates(inputs: torch.Tensor, weight: torch.Tensor) -> int:
    """Number of (row, output neuron) pairs that receive at least one synaptic event."""
    x = _rows(inputs, weight.shape[1])
    events = (x != 0).to(torch.float32) @ (weight != 0).to(torch.float32).T
    return int((events > 0).sum().item())


def is_binary(inputs: torch.Tensor) -> bool:
    """True when every value is −1, 0 or 1: NeuroBench then counts accumulates (ACs), not MACs."""
    return bool(((inputs == 0) | (inputs == 1) | (inputs == -1)).all().item())


def activation_sparsity(activations: Sequence[torch.Tensor]) -> float:
    """Fraction of zero activations over all given tensors: Σ zeros / Σ elements (NeuroBench)."""
    zeros = sum(int((a == 0).sum().item()) for a in activations)
    total = sum(a.numel() for a in activations)
    if total == 0:
        raise ValueError("activation_sparsity needs at least one non-empty activation tensor")
    return zeros / total


def membrane_updates(membranes: Sequence[torch.Tensor]) -> int:
    """NeuroBench's MembraneUpdates of one batch: the neuron-steps whose membrane changed.

    ``membranes`` holds one ``[T, batch, n]`` tensor per LIF layer (`SNNOutput.membranes`).
    Every neuron counts at the first step (NeuroBench has no membrane before it), then each
    neuron-step whose membrane differs from the step before.
    """
    total = 0
    for u in membranes:
        if u.dim() < 2:
            raise ValueError(f"expected membranes [T, batch, n] per layer, got shape {tuple(u.shape)}")
        total += u[0].numel() + int(torch.count_nonzero(u[1:] - u[:-1]).item())
    return total


def _connection_weights(model: nn.Module) -> list[torch.Tensor]:
    return [m.weight for m in model.modules() if isinstance(m, nn.Linear)]


def connection_sparsity(model: nn.Module) -> float:
    """Fraction of zero weights in the model's ``nn.Linear`` layers, biases excluded (NeuroBench)."""
    weights = _connection_weights(model)
    total = sum(w.numel() for w in weights)
    if total == 0:
        raise ValueError(f"{type(model).__name__} has no nn.Linear connection layers to measure")
    return sum(int((w == 0).sum().item()) for w in weights) / total


def footprint(model: nn.Module) -> int:
    """Bytes needed to hold the model: parameters and buffers, zero weights included (NeuroBench)."""
    return sum(t.numel() * t.element_size() for t in [*model.parameters(), *model.buffers()])


@dataclass(frozen=True)
class LayerOps:
    """Operations of one connection layer, per inference (summed over time steps)."""
    name: str
    n_in: int
    n_out: int
    dense: float
    effective_macs: float
    effective_acs: float
    input_events: float  #: non-zero inputs (spikes, or non-zero activations) per inference
    active_updates: float  #: output neuron-steps that received at least one synaptic event

    @property
    def effective(self) -> float:
        return self.effective_macs + self.effective_acs


@dataclass(frozen=True)
class OpCounts:
    """What one inference costs in operations (per sample; SNN counts summed over T steps).

    Attributes:
        kind: ``"ann"`` or ``"snn"``.
        num_steps: T (1 for an ANN).
        samples: how many samples the averages were taken over.
        layers: per connection layer counts, input layer first.
        neuron_updates: neuron evaluations per inference (SNN: T·ΣN; ANN: ΣN).
        active_neuron_updates: those that received at least one synaptic event.
        spikes: SNN spikes per inference of each population (input, hidden…, output); ANN: ().
        synaptic_updates: on-chip plasticity updates per inference (0 unless counted with STDP).
        activation_sparsity: NeuroBench's ActivationSparsity in [0, 1].
        connection_sparsity: NeuroBench's ConnectionSparsity in [0, 1].
        footprint_bytes: NeuroBench's Footprint.
        membrane_updates: NeuroBench's MembraneUpdates per inference (`membrane_updates`);
            None where it was not counted (ANNs have no membrane; counts made from spike
            totals, such as a Lava run's, have no membrane trace).
    """
    kind: Kind
    num_steps: int
    samples: int
    layers: tuple[LayerOps, ...]
    neuron_updates: float
    active_neuron_updates: float
    spikes: tuple[float, ...]
    synaptic_updates: float
    activation_sparsity: float
    connection_sparsity: float
    footprint_bytes: int
    membrane_updates: float | None = None

    @property
    def dense(self) -> float:
        """NeuroBench's Dense synaptic operations per inference."""
        return sum(layer.dense for layer in self.layers)

    @property
    def effective_macs(self) -> float:
        """NeuroBench's Effective_MACs per inference."""
        return sum(layer.effective_macs for layer in self.layers)

    @property
    def effective_acs(self) -> float:
        """NeuroBench's Effective_ACs per inference."""
        return sum(layer.effective_acs for layer in self.layers)

    @property
    def routed_spikes(self) -> float:
        """Spikes that travel to synapses: every population but the output one."""
        return sum(self.spikes[:-1])

    def scaled_to(self, num_steps: int) -> OpCounts:
        """The same network at a different T, assuming the per-step rates stay as measured.

        Every per-step quantity of an SNN scales by ``num_steps / self.num_steps``; sparsities
        do not change. (Rate-coded inputs are stationary; the first steps of a LIF layer, while
        the membranes charge, make this a slight approximation.) ANN counts are returned as is.
        """
        check_int("num_steps", num_steps, 1)
        if self.kind == "ann" or num_steps == self.num_steps:
            return self
        k = num_steps / self.num_steps
        layers = tuple(
            replace(lay, dense=lay.dense * k, effective_macs=lay.effective_macs * k,
                    effective_acs=lay.effective_acs * k, input_events=lay.input_events * k,
                    active_updates=lay.active_updates * k)
            for lay in self.layers
        )
        return replace(
            self, num_steps=num_steps, layers=layers, neuron_updates=self.neuron_updates * k,
            active_neuron_updates=self.active_neuron_updates * k, spikes=tuple(s * k for s in self.spikes),
            synaptic_updates=self.synaptic_updates * k,
            membrane_updates=None if self.membrane_updates is None else self.membrane_updates * k,
        )

    def to_neurobench(self) -> dict:
        """The counts under NeuroBench's metric names (MembraneUpdates where it was counted)."""
        metrics = {
            "Footprint": self.footprint_bytes,
            "ConnectionSparsity": self.connection_sparsity,
            "ActivationSparsity": self.activation_sparsity,
            "SynapticOperations": {
                "Effective_MACs": self.effective_macs,
                "Effective_ACs": self.effective_acs,
                "Dense": self.dense,
            },
        }
        if self.membrane_updates is not None:
            metrics["MembraneUpdates"] = self.membrane_updates
        return metrics

    def to_dict(self) -> dict:
        """A flat dictionary of the per-inference counts (layers as a list of dicts)."""
        return {
            "kind": self.kind,
            "num_steps": self.num_steps,
            "samples": self.samples,
            "dense": self.dense,
            "effective_macs": self.effective_macs,
            "effective_acs": self.effective_acs,
            "neuron_updates": self.neuron_updates,
            "active_neuron_updates": self.active_neuron_updates,
            "membrane_updates": self.membrane_updates,
            "spikes": list(self.spikes),
            "synaptic_updates": self.synaptic_updates,
            "activation_sparsity": self.activation_sparsity,
            "connection_sparsity": self.connection_sparsity,
            "footprint_bytes": self.footprint_bytes,
            "layers": [asdict(layer) for layer in self.layers],
        }

    def __repr__(self) -> str:
        spikes = f", spikes {_si(sum(self.spikes))}" if self.spikes else ""
        return (
            f"OpCounts({self.kind}, T={self.num_steps}, {self.samples} samples: dense {_si(self.dense)}, "
            f"effective MACs {_si(self.effective_macs)}, ACs {_si(self.effective_acs)}, "
            f"neuron updates {_si(self.neuron_updates)}{spikes}; activation sparsity "
            f"{self.activation_sparsity:.3f}, connection sparsity {self.connection_sparsity:.3f}, "
            f"footprint {self.footprint_bytes / 1e6:.2f} MB)"
        )


def _si(x: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.3g} {unit}"
    return f"{x:.3g}"


class _Tally:
    """Mutable accumulator for one layer while counting (frozen into `LayerOps` at the end)."""
    def __init__(self, name: str, n_in: int, n_out: int):
        self.name, self.n_in, self.n_out = name, n_in, n_out
        self.dense = self.macs = self.acs = self.events = self.active = 0

    def add(self, x: torch.Tensor, weight: torch.Tensor, *, dense_rows: int | None = None) -> None:
        ops = effective_synaptic_ops(x, weight)
        if is_binary(x):
            self.acs += ops
        else:
            self.macs += ops
        rows = x.numel() // self.n_in
        self.dense += (rows if dense_rows is None else dense_rows) * self.n_in * self.n_out
        self.events += int((x != 0).sum().item())

    def freeze(self, samples: int) -> LayerOps:
        return LayerOps(self.name, self.n_in, self.n_out, self.dense / samples, self.macs / samples,
                        self.acs / samples, self.events / samples, self.active / samples)


def _inputs_of(data_or_inputs, max_samples: int | None, encoder: Encoder | None) -> tuple[torch.Tensor, Encoder]:
    if isinstance(data_or_inputs, Data):
        x, encoder = data_or_inputs.test_x, encoder or data_or_inputs.encoder
    elif torch.is_tensor(data_or_inputs):
        x = data_or_inputs
    else:
        raise ValueError(
            f"data_or_inputs must be a labkit.training.Data tuple (its test set is used) or a tensor of "
            f"inputs [N, ...], got {type(data_or_inputs).__name__}"
        )
    if max_samples is not None:
        check_int("max_samples", max_samples, 1)
        x = x[:max_samples]
    if len(x) == 0:
        raise ValueError("no inputs to count on: data_or_inputs is empty")
    return x, encoder or RateEncoder()


def _snn_batches(x, encoder: Encoder, num_steps, batch_size, seed, device) -> Iterator[torch.Tensor]:
    gen = torch.Generator(device=device).manual_seed(seed)
    for start in range(0, len(x), batch_size):
        xb = x[start : start + batch_size].to(device)
        yield encoder(xb, num_steps, gen)


@torch.no_grad()
def _count_snn(model: SpikingMLP, batches: Iterator[torch.Tensor], plasticity: Plasticity) -> OpCounts:
    weights = [layer.weight for layer in model.layers]
    tallies = [_Tally(f"layers.{i}", w.shape[1], w.shape[0]) for i, w in enumerate(weights)]
    recurrent = _Tally("recurrent", *model.recurrent.weight.shape[::-1]) if model.recurrent is not None else None
    samples = steps = 0
    spikes = [0] * len(model.sizes)
    zeros = outputs = 0
    neuron_updates = syn_updates = mem_updates = 0
    for inputs in batches:
        out: SNNOutput = model(inputs)
        steps, batch = inputs.shape[:2]
        samples += batch
        for i, (w, tally) in enumerate(zip(weights, tallies)):
            s_in, s_out = out.spikes[i], out.spikes[i + 1]
            tally.add(s_in, w)
            events = (s_in.reshape(-1, w.shape[1]) != 0).float() @ (w != 0).float().T
            if i == 0 and recurrent is not None:
                v = model.recurrent.weight
                previous = out.spikes[1][:-1]  # the recurrent input at step t is s_{t-1}; at t = 0 it is zero
                recurrent.add(previous, v, dense_rows=steps * batch)
                events[batch:] += (previous.reshape(-1, v.shape[1]) != 0).float() @ (v != 0).float().T
                if plasticity == "stdp":
                    syn_updates += effective_synaptic_ops(previous, v) + effective_synaptic_ops(s_out, v.T)
            tally.active += int((events > 0).sum().item())
            if plasticity == "stdp":  # pre-spike events update fan-out, post-spike events update fan-in
                syn_updates += effective_synaptic_ops(s_in, w) + effective_synaptic_ops(s_out, w.T)
        for p, s in enumerate(out.spikes):
            spikes[p] += int((s != 0).sum().item())
        for s in out.spikes[1:]:
            zeros += int((s == 0).sum().item())
            outputs += s.numel()
        neuron_updates += steps * batch * sum(model.sizes[1:])
        mem_updates += membrane_updates(out.membranes)
    layers = tuple(t.freeze(samples) for t in tallies)
    if recurrent is not None:
        layers = (layers[0], recurrent.freeze(samples), *layers[1:])
    active = sum(t.active for t in tallies)
    return OpCounts(
        kind="snn", num_steps=steps, samples=samples, layers=layers,
        neuron_updates=neuron_updates / samples, active_neuron_updates=active / samples,
        spikes=tuple(s / samples for s in spikes), synaptic_updates=syn_updates / samples,
        activation_sparsity=zeros / outputs, connection_sparsity=connection_sparsity(model),
        footprint_bytes=footprint(model), membrane_updates=mem_updates / samples,
    )


@torch.no_grad()
def _count_ann(model: nn.Module, x: torch.Tensor, encoder: Encoder, batch_size: int, device) -> OpCounts:
    linears = [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError(f"{type(model).__name__} has no nn.Linear layers: nothing to count")
    tallies = {id(m): _Tally(name, m.in_features, m.out_features) for name, m in linears}
    calls: list[int] = []
    act = {"zeros": 0, "total": 0}

    def pre_hook(module: nn.Linear, args) -> None:
        (inputs,) = args[:1]
        tally = tallies[id(module)]
        tally.add(inputs, module.weight)
        tally.active += active_neuron_updates(inputs, module.weight)
        if calls:  # inputs of later layers are the activations (ReLU outputs) of earlier ones
            act["zeros"] += int((inputs == 0).sum().item())
            act["total"] += inputs.numel()
        calls.append(id(module))

    handles = [m.register_forward_pre_hook(pre_hook) for _, m in linears]
    samples = units = 0
    try:
        for start in range(0, len(x), batch_size):
            xb = x[start : start + batch_size].to(device)
            calls.clear()
            model(encoder.static(xb))
            samples += len(xb)
            units += len(xb) * sum(tallies[c].n_out for c in calls)
    finally:
        for h in handles:
            h.remove()
    frozen = tuple(tallies[id(m)].freeze(samples) for _, m in linears)
    active = sum(t.active for t in tallies.values())
    return OpCounts(
        kind="ann", num_steps=1, samples=samples, layers=frozen, neuron_updates=units / samples,
        active_neuron_updates=active / samples, spikes=(), synaptic_updates=0.0,
        activation_sparsity=act["zeros"] / act["total"] if act["total"] else 0.0,
        connection_sparsity=connection_sparsity(model), footprint_bytes=footprint(model),
    )


def count_ops(
    model: nn.Module,
    data_or_inputs,
    num_steps: int = 25,
    *,
    max_samples: int | None = 1000,
    batch_size: int = 250,
    seed: int = 0,
    encoder: Encoder | None = None,
    plasticity: Plasticity = "none",
    device: str | torch.device = "auto",
    temporal: bool | None = None,
) -> OpCounts:
    """Count the operations of ``model`` on real inputs (forward passes, no gradients).

    Args:
        model: a `labkit.models.SpikingMLP` (counted from its spike records) or any ANN made of
            ``nn.Linear`` layers, such as `labkit.models.ANNBaseline` (counted with forward hooks).
        data_or_inputs: a `labkit.training.Data` tuple (its test set is used) or a tensor of
            inputs ``[N, ...]``: images in [0, 1], or frames ``[N, T, ...]`` with ``encoder=FrameEncoder()``.
        num_steps: T, steps of the rate code for static images (paper: 25).
        max_samples: count on at most this many samples (None: all).
        batch_size: samples per forward pass (memory only; counts do not depend on it).
        seed: seeds the rate code, so the counts are reproducible.
        encoder: how a batch becomes the network's time-first input (`labkit.encoders`); default: the
            Data record's own, and for a tensor the rate code (`RateEncoder`).
        temporal: deprecated; ``temporal=True`` is ``encoder=FrameEncoder()``.
        plasticity: ``"stdp"`` also counts the synaptic updates of on-chip pairwise STDP.
        device: ``"auto"``, ``"cpu"`` or ``"cuda"``.
    """
    check_int("num_steps", num_steps, 1)
    check_int("batch_size", batch_size, 1)
    if plasticity not in ("none", "stdp"):
        raise ValueError(f"plasticity must be 'none' or 'stdp', got {plasticity!r}")
    encoder = frames_if_temporal(encoder, temporal)
    x, encoder = _inputs_of(data_or_inputs, max_samples, encoder)
    device = resolve_device(device)
    was_training = model.training
    home = next(iter(model.parameters()), torch.empty(0)).device
    model.to(device).eval()
    try:
        if isinstance(model, SpikingMLP):
            return _count_snn(model, _snn_batches(x, encoder, num_steps, batch_size, seed, device), plasticity)
        if plasticity != "none":
            raise ValueError("plasticity='stdp' counts spike-driven updates and applies to SpikingMLP models only")
        return _count_ann(model, x, encoder, batch_size, device)
    finally:
        model.to(home).train(was_training)  # leave the model where and as it was
