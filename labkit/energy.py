r"""Operation counts and energy models: what one inference costs, counted on real forward passes.

Energy is estimated in two steps, and the two are kept apart on purpose:

1. **Count** the operations a network really performs on real inputs (`count_ops`): the
   SpikingMLP's own spike records (`labkit.models.SNNOutput`) for spiking networks, forward
   pre-hooks on every ``nn.Linear`` for ANNs. Nothing is derived from layer sizes alone except
   the dense count, which is what "dense" means.
2. **Price** the counts with a per-operation energy model (`energy_from_counts`), a frozen
   dataclass whose every constant carries its source and year.

Counts (per inference, i.e. per sample, summed over the T time steps of an SNN) follow the
definitions of NeuroBench (Yik et al., "The neurobench framework for benchmarking neuromorphic
computing algorithms and systems", Nature Communications 16, 2025; arXiv:2304.04640), as its
documentation and harness (github.com/NeuroBench/neurobench, ``neurobench/metrics``) state them:

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

Beyond NeuroBench's synaptic counts, `OpCounts` records **neuron updates** (an SNN updates every
LIF neuron at every step: T·ΣN per inference; an ANN computes each unit once), **active** neuron
updates (those that received at least one synaptic event that step, for Loihi's active/inactive
prices), **spikes** per population, and, with ``plasticity="stdp"``, the **synaptic updates** an
on-chip pairwise STDP rule would make (each pre- or postsynaptic spike updates that neuron's
non-zero synapses).

Energy models (`PLATFORMS`; pass your own constants with ``constants={...}``):

* ``digital45``: a sparsity-aware digital accelerator at 45 nm: every effective MAC costs a
  32-bit float multiply plus add, every effective AC a float add (Horowitz, ISSCC 2014).
* ``gpu_dense``: the same arithmetic prices, but every synapse is computed at every step,
  zero or not, as a GPU executes an SNN (dense matrix products over all T steps).
* ``a100``: ``gpu_dense`` priced at an NVIDIA A100's board power per peak FP32 operation
  (400 W / 19.5 TFLOP/s; NVIDIA A100 datasheet, 2020): a lower bound for real runs on that GPU.
* ``loihi``: Intel Loihi's pre-silicon energy figures (Davies et al., IEEE Micro 38(1), 2018,
  Table 2): per synaptic spike op, per synaptic update, per neuron update (active/inactive),
  per spike and per tile hop. Spiking networks only.

The ``neurobench`` package itself is not a dependency: its releases pin ``torchaudio``
versions that cannot be installed beside the torch this lab uses, so the lab implements the
definitions above (and its tests check them on hand-counted examples) instead of calling it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import ClassVar, Iterator, Literal, Mapping, Sequence

import torch
from torch import nn

from .encoding import encode_rate
from .models import SNNOutput, SpikingMLP
from .foundation import paper
from .foundation.runtime import resolve_device
from .foundation.tables import format_table
from .training import Data

__all__ = [
    "A100Model",
    "DEFAULT_PLATFORMS",
    "DenseModel",
    "DigitalModel",
    "EnergyEstimate",
    "EnergyModel",
    "LayerOps",
    "LoihiModel",
    "OpCounts",
    "PAPER_TABLE_II",
    "PLATFORMS",
    "PaperRow",
    "activation_sparsity",
    "active_neuron_updates",
    "compare_with_paper",
    "connection_sparsity",
    "count_ops",
    "dense_synaptic_ops",
    "effective_synaptic_ops",
    "energy_from_counts",
    "energy_table",
    "estimate_energy",
    "footprint",
    "format_table",
    "is_binary",
    "make_platform",
]

Kind = Literal["ann", "snn"]
Plasticity = Literal["none", "stdp"]

PJ = 1e-12  # joules per picojoule


# ----------------------------------------------------------------------------- counting primitives


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


# ----------------------------------------------------------------------------- counts


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
        if not isinstance(num_steps, int) or num_steps < 1:
            raise ValueError(f"num_steps must be an integer >= 1, got {num_steps!r}")
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
        )

    def to_neurobench(self) -> dict:
        """The counts under NeuroBench's metric names."""
        return {
            "Footprint": self.footprint_bytes,
            "ConnectionSparsity": self.connection_sparsity,
            "ActivationSparsity": self.activation_sparsity,
            "SynapticOperations": {
                "Effective_MACs": self.effective_macs,
                "Effective_ACs": self.effective_acs,
                "Dense": self.dense,
            },
        }

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


def _inputs_of(data_or_inputs, max_samples: int | None, temporal: bool) -> tuple[torch.Tensor, bool]:
    if isinstance(data_or_inputs, Data):
        x, temporal = data_or_inputs.test_x, data_or_inputs.temporal
    elif torch.is_tensor(data_or_inputs):
        x = data_or_inputs
    else:
        raise ValueError(
            f"data_or_inputs must be a labkit.training.Data tuple (its test set is used) or a tensor of "
            f"inputs [N, ...], got {type(data_or_inputs).__name__}"
        )
    if max_samples is not None:
        if not isinstance(max_samples, int) or max_samples < 1:
            raise ValueError(f"max_samples must be an integer >= 1 or None, got {max_samples!r}")
        x = x[:max_samples]
    if len(x) == 0:
        raise ValueError("no inputs to count on: data_or_inputs is empty")
    return x, temporal


def _snn_batches(x, temporal, num_steps, batch_size, seed, device) -> Iterator[torch.Tensor]:
    gen = torch.Generator(device=device).manual_seed(seed)
    for start in range(0, len(x), batch_size):
        xb = x[start : start + batch_size].to(device)
        yield xb.transpose(0, 1) if temporal else encode_rate(xb, num_steps, generator=gen)


@torch.no_grad()
def _count_snn(model: SpikingMLP, batches: Iterator[torch.Tensor], plasticity: Plasticity) -> OpCounts:
    weights = [layer.weight for layer in model.layers]
    tallies = [_Tally(f"layers.{i}", w.shape[1], w.shape[0]) for i, w in enumerate(weights)]
    recurrent = _Tally("recurrent", *model.recurrent.weight.shape[::-1]) if model.recurrent is not None else None
    samples = steps = 0
    spikes = [0] * len(model.sizes)
    zeros = outputs = 0
    neuron_updates = syn_updates = 0
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
    layers = tuple(t.freeze(samples) for t in tallies)
    if recurrent is not None:
        layers = (layers[0], recurrent.freeze(samples), *layers[1:])
    active = sum(t.active for t in tallies)
    return OpCounts(
        kind="snn", num_steps=steps, samples=samples, layers=layers,
        neuron_updates=neuron_updates / samples, active_neuron_updates=active / samples,
        spikes=tuple(s / samples for s in spikes), synaptic_updates=syn_updates / samples,
        activation_sparsity=zeros / outputs, connection_sparsity=connection_sparsity(model),
        footprint_bytes=footprint(model),
    )


@torch.no_grad()
def _count_ann(model: nn.Module, x: torch.Tensor, temporal: bool, batch_size: int, device) -> OpCounts:
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
            model(xb.mean(dim=1) if temporal else xb)
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
    temporal: bool = False,
    plasticity: Plasticity = "none",
    device: str | torch.device = "auto",
) -> OpCounts:
    """Count the operations of ``model`` on real inputs (forward passes, no gradients).

    Args:
        model: a `labkit.models.SpikingMLP` (counted from its spike records) or any ANN made of
            ``nn.Linear`` layers, such as `labkit.models.ANNBaseline` (counted with forward hooks).
        data_or_inputs: a `labkit.training.Data` tuple (its test set is used) or a tensor of
            images ``[N, ...]`` in [0, 1]; with ``temporal=True`` spike frames ``[N, T, ...]``.
        num_steps: T, steps of the rate code for static images (paper: 25).
        max_samples: count on at most this many samples (None: all).
        batch_size: samples per forward pass (memory only; counts do not depend on it).
        seed: seeds the rate code, so the counts are reproducible.
        temporal: the tensor already holds frames ``[N, T, ...]`` (Data tuples say it themselves).
        plasticity: ``"stdp"`` also counts the synaptic updates of on-chip pairwise STDP.
        device: ``"auto"``, ``"cpu"`` or ``"cuda"``.
    """
    if not isinstance(num_steps, int) or num_steps < 1:
        raise ValueError(f"num_steps must be an integer >= 1, got {num_steps!r}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    if plasticity not in ("none", "stdp"):
        raise ValueError(f"plasticity must be 'none' or 'stdp', got {plasticity!r}")
    x, temporal = _inputs_of(data_or_inputs, max_samples, temporal)
    device = resolve_device(device)
    was_training = model.training
    home = next(iter(model.parameters()), torch.empty(0)).device
    model.to(device).eval()
    try:
        if isinstance(model, SpikingMLP):
            return _count_snn(model, _snn_batches(x, temporal, num_steps, batch_size, seed, device), plasticity)
        if plasticity != "none":
            raise ValueError("plasticity='stdp' counts spike-driven updates and applies to SpikingMLP models only")
        return _count_ann(model, x, temporal, batch_size, device)
    finally:
        model.to(home).train(was_training)  # leave the model where and as it was


# ----------------------------------------------------------------------------- energy models


def _pj(default: float, source: str):
    """A per-operation energy in picojoules, with the source it comes from."""
    return field(default=default, metadata={"unit": "pJ", "source": source})


HOROWITZ = "Horowitz, ISSCC 2014, 45 nm, 0.9 V"
DAVIES = "Davies et al., IEEE Micro 38(1) 2018, Table 2 (pre-silicon SDF/SPICE simulation)"
#: (pJ, source) of the 45 nm costs shared by the event-driven and the dense digital models.
MAC_45NM = (4.6, f"{HOROWITZ}: fp32 multiply 3.7 pJ + add 0.9 pJ")
NEURON_UPDATE_45NM = (
    9.2, f"{HOROWITZ}: 2 fp32 multiplies + 2 adds, NeuroBench's 4-operation LIF update (Yik et al., 2025)"
)
A100 = "NVIDIA A100 datasheet 2020: 400 W board power (SXM) / 19.5 TFLOP/s peak FP32"


@dataclass(frozen=True)
class EnergyModel:
    """Base of the energy models: constants are picojoules per operation, all finite and >= 0."""

    name: ClassVar[str] = "model"
    description: ClassVar[str] = ""
    kinds: ClassVar[tuple[str, ...]] = ("ann", "snn")

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
                    and value >= 0):
                unit = f.metadata.get("unit", "")
                raise ValueError(
                    f"{type(self).__name__}.{f.name} must be a finite number >= 0{' (' + unit + ')' if unit else ''}, "
                    f"got {value!r}"
                )

    @classmethod
    def constants(cls) -> tuple[str, ...]:
        """Names of the constants this model accepts."""
        return tuple(f.name for f in fields(cls))

    def sources(self) -> dict[str, str]:
        """Each constant with its value, unit and source, for display."""
        return {
            f.name: f"{getattr(self, f.name):g} {f.metadata.get('unit', '')}".strip() + f" ({f.metadata['source']})"
            for f in fields(self)
        }

    def applies_to(self, kind: str) -> bool:
        return kind in self.kinds

    def breakdown(self, counts: OpCounts) -> dict[str, float]:
        """Energy per inference in joules, by cause."""
        raise NotImplementedError


@dataclass(frozen=True)
class DigitalModel(EnergyModel):
    """Sparsity-aware digital hardware at 45 nm: it skips zero inputs and zero weights.

    E = Effective_MACs · e_mac + Effective_ACs · e_ac + neuron updates · e_neuron.
    """

    name: ClassVar[str] = "digital45"
    description: ClassVar[str] = "event-driven digital, 45 nm (skips zeros)"

    e_mac_pj: float = _pj(*MAC_45NM)
    e_ac_pj: float = _pj(0.9, f"{HOROWITZ}: fp32 add")
    e_neuron_pj: float = _pj(*NEURON_UPDATE_45NM)

    def breakdown(self, counts: OpCounts) -> dict[str, float]:
        return {
            "MACs": counts.effective_macs * self.e_mac_pj * PJ,
            "ACs": counts.effective_acs * self.e_ac_pj * PJ,
            "neuron updates": counts.neuron_updates * self.e_neuron_pj * PJ,
        }


@dataclass(frozen=True)
class DenseModel(EnergyModel):
    """Dense hardware, as a GPU runs a network: every synapse at every step is a MAC.

    E = Dense · e_mac + neuron updates · e_neuron. A GPU multiplies a spike (0 or 1) by its
    weight like any other number, so an SNN pays T times the ANN's synaptic work.
    """

    name: ClassVar[str] = "gpu_dense"
    description: ClassVar[str] = "dense execution (GPU-style), 45 nm arithmetic"

    e_mac_pj: float = _pj(*MAC_45NM)
    e_neuron_pj: float = _pj(*NEURON_UPDATE_45NM)

    def breakdown(self, counts: OpCounts) -> dict[str, float]:
        return {
            "MACs (dense)": counts.dense * self.e_mac_pj * PJ,
            "neuron updates": counts.neuron_updates * self.e_neuron_pj * PJ,
        }


@dataclass(frozen=True)
class A100Model(DenseModel):
    """Dense execution priced at an NVIDIA A100's board power per peak FP32 operation.

    400 W / 19.5e12 FLOP/s = 20.5 pJ per FLOP, so 41.0 pJ per MAC (2 FLOP) and 82.1 pJ per
    4-operation neuron update. Real inference of a small network runs far below peak
    throughput while the board still draws power, so real energy per operation is higher:
    this is a lower bound for the A100.
    """

    name: ClassVar[str] = "a100"
    description: ClassVar[str] = "dense execution at A100 board power per peak FP32 op (lower bound)"

    e_mac_pj: float = _pj(41.0, f"{A100}: 2 FLOP × 20.5 pJ/FLOP")
    e_neuron_pj: float = _pj(82.1, f"{A100}: 4 FLOP × 20.5 pJ/FLOP")


@dataclass(frozen=True)
class LoihiModel(EnergyModel):
    """Intel Loihi (14 nm), from the per-operation figures of Davies et al. (2018), Table 2.

    E = synaptic spike ops · e_sop + active neuron updates · e_neuron_active
        + inactive neuron updates · e_neuron_inactive + synaptic updates · e_syn_update
        + routed spikes · (e_spike + hops_per_spike · e_hop)

    Synaptic spike ops are NeuroBench's Effective_ACs (each spike × its non-zero fan-out).
    ``hops_per_spike`` is an assumption about the placement of layers on cores, not a
    measurement: 1.0 puts consecutive layers on neighbouring tiles.
    Table 2's figures are simulations consistent with early silicon, the minimum energy per
    synaptic op, not a measured workload.
    """

    name: ClassVar[str] = "loihi"
    description: ClassVar[str] = "Intel Loihi, per-operation energies (spiking networks only)"
    kinds: ClassVar[tuple[str, ...]] = ("snn",)

    e_sop_pj: float = _pj(23.6, f"{DAVIES}: energy per synaptic spike op (min)")
    e_syn_update_pj: float = _pj(120.0, f"{DAVIES}: energy per synaptic update (pairwise STDP)")
    e_neuron_active_pj: float = _pj(81.0, f"{DAVIES}: energy per neuron update, active")
    e_neuron_inactive_pj: float = _pj(52.0, f"{DAVIES}: energy per neuron update, inactive")
    e_spike_pj: float = _pj(1.7, f"{DAVIES}: within-tile spike energy")
    e_hop_pj: float = _pj(3.0, f"{DAVIES}: energy per tile hop, E-W (N-S: 4.0 pJ)")
    hops_per_spike: float = field(
        default=1.0, metadata={"unit": "hops", "source": "assumption: consecutive layers on neighbouring tiles"}
    )

    def breakdown(self, counts: OpCounts) -> dict[str, float]:
        if counts.effective_macs > 0:
            raise ValueError(
                "the Loihi model prices spike-driven synaptic ops only, but these counts have "
                f"{counts.effective_macs:.3g} Effective_MACs (non-binary layer inputs); feed the network spikes"
            )
        inactive = counts.neuron_updates - counts.active_neuron_updates
        return {
            "synaptic ops": counts.effective_acs * self.e_sop_pj * PJ,
            "neuron updates": (counts.active_neuron_updates * self.e_neuron_active_pj
                               + inactive * self.e_neuron_inactive_pj) * PJ,
            "spike routing": counts.routed_spikes * (self.e_spike_pj + self.hops_per_spike * self.e_hop_pj) * PJ,
            "synaptic updates": counts.synaptic_updates * self.e_syn_update_pj * PJ,
        }


#: The built-in energy models by name.
PLATFORMS: dict[str, type[EnergyModel]] = {
    m.name: m for m in (DigitalModel, DenseModel, A100Model, LoihiModel)
}
DEFAULT_PLATFORMS: tuple[str, ...] = tuple(PLATFORMS)


def make_platform(
    platform: str | EnergyModel = "digital45", constants: Mapping[str, float] | None = None
) -> EnergyModel:
    """An energy model by name (see `PLATFORMS`) or as given, with ``constants`` overriding its values.

    Raises:
        ValueError: unknown platform or constant name, or a constant that is negative or not finite.
    """
    if isinstance(platform, EnergyModel):
        model = platform
    elif isinstance(platform, str) and platform in PLATFORMS:
        model = PLATFORMS[platform]()
    else:
        raise ValueError(f"unknown platform {platform!r}: use one of {sorted(PLATFORMS)} or an EnergyModel instance")
    if constants:
        unknown = sorted(set(constants) - set(model.constants()))
        if unknown:
            raise ValueError(
                f"unknown constant(s) {unknown} for platform {model.name!r}: it accepts {list(model.constants())}"
            )
        model = replace(model, **dict(constants))
    return model


# ----------------------------------------------------------------------------- estimates


@dataclass(frozen=True)
class EnergyEstimate:
    """Energy of one inference on one platform, with its breakdown and the counts it priced."""

    platform: str
    counts: OpCounts
    breakdown: tuple[tuple[str, float], ...]  #: (cause, joules per inference)

    @property
    def total_j(self) -> float:
        return sum(joules for _, joules in self.breakdown)

    @property
    def total_uj(self) -> float:
        return self.total_j * 1e6

    def to_dict(self) -> dict:
        """Platform, total and breakdown in µJ per inference, and the NeuroBench counts."""
        c = self.counts
        return {
            "platform": self.platform,
            "kind": c.kind,
            "num_steps": c.num_steps,
            "energy_uJ": self.total_uj,
            "breakdown_uJ": {cause: joules * 1e6 for cause, joules in self.breakdown},
            "dense": c.dense,
            "effective_macs": c.effective_macs,
            "effective_acs": c.effective_acs,
            "neuron_updates": c.neuron_updates,
            "activation_sparsity": c.activation_sparsity,
            "connection_sparsity": c.connection_sparsity,
            "footprint_bytes": c.footprint_bytes,
        }

    def __repr__(self) -> str:
        total = self.total_j
        parts = ", ".join(
            f"{cause} {_uj(j)} ({100 * j / total:.0f}%)" if total > 0 else f"{cause} {_uj(j)}"
            for cause, j in self.breakdown if j > 0 or total == 0
        )
        head = f"{self.platform}, {self.counts.kind}, T={self.counts.num_steps}"
        return f"EnergyEstimate({head}: {_uj(total)} per inference = {parts})"


def _uj(joules: float) -> str:
    return f"{joules * 1e6:.3g} µJ"


def energy_from_counts(
    counts: OpCounts, platform: str | EnergyModel = "digital45", constants: Mapping[str, float] | None = None
) -> EnergyEstimate:
    """Price measured counts on a platform (pure: no forward pass)."""
    model = make_platform(platform, constants)
    if not model.applies_to(counts.kind):
        raise ValueError(
            f"platform {model.name!r} models {'/'.join(model.kinds)} networks only, these counts are of an "
            f"{counts.kind.upper()}; use one of {[n for n, m in PLATFORMS.items() if counts.kind in m.kinds]}"
        )
    return EnergyEstimate(model.name, counts, tuple(model.breakdown(counts).items()))


def estimate_energy(
    model: nn.Module,
    data_or_inputs,
    platform: str | EnergyModel = "digital45",
    num_steps: int = 25,
    *,
    constants: Mapping[str, float] | None = None,
    max_samples: int | None = 1000,
    batch_size: int = 250,
    seed: int = 0,
    temporal: bool = False,
    plasticity: Plasticity = "none",
    device: str | torch.device = "auto",
) -> EnergyEstimate:
    """Energy per inference of ``model`` on ``platform``, from operations counted on real inputs.

    Counts with `count_ops` (same arguments), then prices them with `energy_from_counts`.
    ``platform`` is a name in `PLATFORMS` (``"digital45"``, ``"gpu_dense"``, ``"a100"``,
    ``"loihi"``) or an `EnergyModel`; ``constants`` override its per-operation energies, e.g.
    ``constants={"e_mac_pj": 3.1}``.
    """
    energy_model = make_platform(platform, constants)  # fail on bad platforms before counting
    counts = count_ops(model, data_or_inputs, num_steps, max_samples=max_samples, batch_size=batch_size,
                       seed=seed, temporal=temporal, plasticity=plasticity, device=device)
    return energy_from_counts(counts, energy_model)


# ----------------------------------------------------------------------------- Table II


@dataclass(frozen=True)
class PaperRow:
    """One row of the paper's Table II and the lab's (model, platform) pair that corresponds to it."""

    label: str
    model: str
    platform: str
    energy_uj: float


#: The paper's Table II (energy per inference). The lab's model keys are the run names of
#: ``results/mnist/runs`` (``ann``, ``bp``, ``adaptive``); "hybrid" is the lab's A-STDP.
PAPER_TABLE_II: tuple[PaperRow, ...] = tuple(PaperRow(*row) for row in paper.TABLE_II_UJ)


def energy_table(
    models: Mapping[str, nn.Module | OpCounts],
    data,
    *,
    platforms: Sequence[str | EnergyModel] = DEFAULT_PLATFORMS,
    num_steps: int = 25,
    max_samples: int | None = 1000,
    seed: int = 0,
    paper_models: Mapping[str, str] | None = None,
    device: str | torch.device = "auto",
) -> list[dict]:
    """Rows of the lab's Table II: every model on every platform that can run it.

    Each model's operations are counted once (on the same inputs and rate-code seed), then
    priced on each platform (an ANN is not priced on Loihi). Every row is a flat dict with the
    same keys, ready for a CSV or Markdown table:

    ``model`` (the key in ``models``), ``platform``, ``energy_uJ`` (per inference),
    ``paper_uJ`` and ``paper_over_lab`` (the paper's Table II value for the same pair and its
    ratio to the lab's, else None), ``num_steps``, ``dense_ops``, ``effective_macs``,
    ``effective_acs``, ``activation_sparsity``, ``samples`` and ``breakdown`` (a short text).

    Args:
        models: name → model (or its `OpCounts`, already counted: then ``data`` is not used
            for it); the names ``ann``, ``bp`` and ``adaptive`` match the paper's rows (see
            `PAPER_TABLE_II`), or map other names with ``paper_models``.
        data: a `labkit.training.Data` tuple (its test set) or a tensor of images.
        paper_models: model name → the paper's model key (``ann``, ``bp``, ``adaptive``).
    """
    energy_models = [make_platform(p) for p in platforms]
    paper = {(r.model, r.platform): r for r in PAPER_TABLE_II}
    aliases = dict(paper_models or {})
    rows = []
    for name, model in models.items():
        if isinstance(model, OpCounts):
            counts = model
        else:
            counts = count_ops(model, data, num_steps, max_samples=max_samples, seed=seed, device=device)
        for em in energy_models:
            if not em.applies_to(counts.kind):
                continue
            est = energy_from_counts(counts, em)
            ref = paper.get((aliases.get(name, name), em.name))
            total = est.total_uj
            rows.append({
                "model": name,
                "platform": em.name,
                "energy_uJ": total,
                "paper_uJ": ref.energy_uj if ref else None,
                "paper_over_lab": ref.energy_uj / total if ref and total > 0 else None,
                "num_steps": counts.num_steps,
                "dense_ops": counts.dense,
                "effective_macs": counts.effective_macs,
                "effective_acs": counts.effective_acs,
                "activation_sparsity": counts.activation_sparsity,
                "samples": counts.samples,
                "breakdown": "; ".join(
                    f"{cause} {joules * 1e6:.3g} µJ" for cause, joules in est.breakdown if joules > 0
                ),
            })
    return rows


def compare_with_paper(rows: Sequence[Mapping], paper_models: Mapping[str, str] | None = None) -> list[dict]:
    """The paper's Table II beside the lab's estimate for the same (model, platform) pair.

    ``rows`` are `energy_table` rows; ``paper_models`` maps their model names to the paper's
    keys as in `energy_table`. Returns one dict per paper row: ``label``, ``paper_uJ``,
    ``lab_uJ`` (None when the rows lack that pair) and ``paper_over_lab``.
    """
    aliases = dict(paper_models or {})
    lab = {(aliases.get(r["model"], r["model"]), r["platform"]): r["energy_uJ"] for r in rows}
    out = []
    for ref in PAPER_TABLE_II:
        value = lab.get((ref.model, ref.platform))
        out.append({
            "label": ref.label, "model": ref.model, "platform": ref.platform, "paper_uJ": ref.energy_uj,
            "lab_uJ": value, "paper_over_lab": ref.energy_uj / value if value else None,
        })
    return out
