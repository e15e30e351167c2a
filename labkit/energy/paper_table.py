"""The paper's Table II (energy per inference) beside the lab's estimates for the same models and platforms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import torch
from torch import nn

from ..foundation import paper
from .counts import OpCounts, count_ops
from .estimates import energy_from_counts
from .platforms import DEFAULT_PLATFORMS, EnergyModel, make_platform

__all__ = ["PAPER_TABLE_II", "PaperRow", "compare_with_paper", "energy_table"]


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
