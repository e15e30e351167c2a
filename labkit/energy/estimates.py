"""Energy estimates: operation counts (`labkit.energy.counts`) priced with an energy model (`labkit.energy.platforms`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import torch
from torch import nn

from ..encoders import Encoder
from .counts import OpCounts, Plasticity, count_ops
from .platforms import EnergyModel, PLATFORMS, make_platform

__all__ = ["EnergyEstimate", "energy_from_counts", "estimate_energy"]


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
    encoder: Encoder | None = None,
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
                       seed=seed, encoder=encoder, plasticity=plasticity, device=device)
    return energy_from_counts(counts, energy_model)
