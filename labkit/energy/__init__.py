"""Operation counts and energy models: what one inference costs, counted on real forward passes.

Energy is estimated in two steps, kept apart on purpose: **count** the operations a network
really performs on real inputs, with NeuroBench's definitions (:mod:`~labkit.energy.counts`,
`count_ops`), then **price** the counts with a per-operation energy model whose every constant
carries its source (:mod:`~labkit.energy.platforms`, `PLATFORMS`; :mod:`~labkit.energy.estimates`,
`energy_from_counts`). :mod:`~labkit.energy.paper_table` sets the paper's Table II beside the
lab's estimates for the same models and platforms.
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
    membrane_updates,
)
from .platforms import (
    A100,
    A100Model,
    DAVIES,
    DEFAULT_PLATFORMS,
    DenseModel,
    DigitalInt8Model,
    DigitalMemoryModel,
    DigitalModel,
    SRAM_READ_45NM,
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
    "membrane_updates",
    "A100",
    "A100Model",
    "DAVIES",
    "DEFAULT_PLATFORMS",
    "DenseModel",
    "DigitalInt8Model",
    "DigitalMemoryModel",
    "DigitalModel",
    "SRAM_READ_45NM",
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
