"""Reading a plan's committed results: the records `labkit.campaign.runner` writes, one JSON file a point."""

from __future__ import annotations

import os
from pathlib import Path

from ..foundation.io import read_json

__all__ = ["load_results", "mean_dose"]


def load_results(out: str | os.PathLike, plan: str) -> list[dict]:
    """Every result of ``plan`` under ``out`` (none when the plan has not run)."""
    folder = Path(out) / plan
    return [read_json(p, what="campaign result") for p in sorted(folder.glob("*.json"))] if folder.is_dir() else []


def mean_dose(result: dict, layer: int = 0) -> float | None:
    """The measured dose ρ of ``layer`` (`labkit.rules`), averaged over the run's epochs; None without STDP."""
    values = [e.get(f"dose{layer}") for e in result.get("history", {}).get("rule_stats", [])]
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None
