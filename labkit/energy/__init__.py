"""Operation counts and energy models: what one inference costs, counted on real forward passes.

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

The package, one concept per module: :mod:`~labkit.energy.counts` (counting on real forward
passes), :mod:`~labkit.energy.platforms` (the energy models and their constants),
:mod:`~labkit.energy.estimates` (counts priced), :mod:`~labkit.energy.paper_table` (Table II).
"""

from __future__ import annotations

from ..foundation.tables import format_table

from .counts import (
    Kind,
    LayerOps,
    OpCounts,
    Plasticity,
    activation_sparsity,
    active_neuron_updates,
    connection_sparsity,
    count_ops,
    dense_synaptic_ops,
    effective_synaptic_ops,
    footprint,
    is_binary,
)
from .platforms import (
    A100,
    A100Model,
    DAVIES,
    DEFAULT_PLATFORMS,
    DenseModel,
    DigitalModel,
    EnergyModel,
    HOROWITZ,
    LoihiModel,
    MAC_45NM,
    NEURON_UPDATE_45NM,
    PJ,
    PLATFORMS,
    make_platform,
)
from .estimates import EnergyEstimate, energy_from_counts, estimate_energy
from .paper_table import PAPER_TABLE_II, PaperRow, compare_with_paper, energy_table

__all__ = [
    "format_table",
    "Kind",
    "LayerOps",
    "OpCounts",
    "Plasticity",
    "activation_sparsity",
    "active_neuron_updates",
    "connection_sparsity",
    "count_ops",
    "dense_synaptic_ops",
    "effective_synaptic_ops",
    "footprint",
    "is_binary",
    "A100",
    "A100Model",
    "DAVIES",
    "DEFAULT_PLATFORMS",
    "DenseModel",
    "DigitalModel",
    "EnergyModel",
    "HOROWITZ",
    "LoihiModel",
    "MAC_45NM",
    "NEURON_UPDATE_45NM",
    "PJ",
    "PLATFORMS",
    "make_platform",
    "EnergyEstimate",
    "energy_from_counts",
    "estimate_energy",
    "PAPER_TABLE_II",
    "PaperRow",
    "compare_with_paper",
    "energy_table",
]
