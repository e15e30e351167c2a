"""What a tuning study samples and trains: the search space, the configuration every worker shares, the validation split."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch

from ..data import load_mnist
from ..foundation import paper
from ..foundation.validation import check_choice, check_int, check_number
from ..data.record import Data

__all__ = ["DATASETS", "DEFAULT_PARAMS", "SearchSpace", "TuneConfig", "split_validation", "tuning_data"]


#: The paper's learning rates and the lab's default κ: the reference `finalize` compares with.
DEFAULT_PARAMS = {"eta1": paper.ETA1, "eta2": paper.ETA2, "kappa": 0.05}  # κ: RuleParams' default


DATASETS = {"mnist-mini": "bundled", "mnist": "full"}


def _check_range(name: str, bounds, upper: float = math.inf) -> tuple[float, float]:
    try:
        lo, hi = (float(b) for b in bounds)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be two numbers LO HI, got {bounds!r}") from exc
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo < hi <= upper):
        limit = f" <= {upper:g}" if math.isfinite(upper) else ""
        raise ValueError(
            f"{name} must satisfy 0 < LO < HI{limit} (log-uniform sampling needs positive bounds), got {lo!r} {hi!r}"
        )
    return lo, hi


@dataclass(frozen=True)
class SearchSpace:
    """Log-uniform search ranges ``(low, high)``; each must satisfy 0 < low < high (κ ≤ 1)."""
    eta1_range: tuple[float, float] = (1e-4, 1e-1)
    eta2_range: tuple[float, float] = (1e-4, 1e-2)
    kappa_range: tuple[float, float] = (1e-3, 0.5)

    def __post_init__(self) -> None:
        object.__setattr__(self, "eta1_range", _check_range("eta1_range (η1)", self.eta1_range))
        object.__setattr__(self, "eta2_range", _check_range("eta2_range (η2)", self.eta2_range))
        object.__setattr__(self, "kappa_range", _check_range("kappa_range (κ)", self.kappa_range, upper=1.0))


@dataclass(frozen=True)
class TuneConfig:
    """What every trial of a study trains; all workers of one study must agree on it.

    Attributes:
        rule: ``"sum"`` (tunes η1, η2) or ``"adaptive"`` (also κ).
        dataset: ``"mnist-mini"`` (the bundled 6,000 training digits) or ``"mnist"`` (full, 60,000).
        epochs: epochs per trial (≥ 1); pruning decisions happen after each.
        hidden: hidden LIF neurons (≥ 1); 784-hidden-10.
        train_limit: use only the first ``train_limit`` training digits (≥ 20), or all.
        seed: training seed shared by every trial (weights, batch order, spikes).
        val_fraction: share of each class held out for validation, in (0, 0.5].
        num_steps: T, time steps per sample.
    """
    rule: Literal["sum", "adaptive"] = "adaptive"
    dataset: Literal["mnist-mini", "mnist"] = "mnist-mini"
    epochs: int = 2
    hidden: int = 100
    train_limit: int | None = None
    seed: int = 0
    val_fraction: float = 0.2
    num_steps: int = 25

    def __post_init__(self) -> None:
        check_choice("rule", self.rule, ("sum", "adaptive"), unit="the rules with both η1 and η2")
        check_choice("dataset", self.dataset, sorted(DATASETS))
        for name in ("epochs", "hidden", "num_steps"):
            check_int(name, getattr(self, name), 1)
        check_int("train_limit", self.train_limit, 20, allow_none=True)
        check_number("val_fraction", self.val_fraction, minimum=0.0, maximum=0.5, above=True)


def split_validation(labels: torch.Tensor, fraction: float = 0.2) -> tuple[torch.Tensor, torch.Tensor]:
    """Class-stratified hold-out: the last ``ceil(fraction · n_k)`` examples of each class k.

    "Last" is in the data's own order, so the split is deterministic and needs no random numbers;
    every class keeps the same share in both parts. Returns sorted index tensors
    ``(train_index, validation_index)`` that partition ``range(len(labels))``.
    """
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be in (0, 1), got {fraction!r}")
    labels = torch.as_tensor(labels).reshape(-1)
    held = []
    for k in torch.unique(labels):
        index = torch.nonzero(labels == k).flatten()
        held.append(index[len(index) - math.ceil(fraction * len(index)):])
    mask = torch.zeros(len(labels), dtype=torch.bool)
    if held:
        mask[torch.cat(held)] = True
    return torch.nonzero(~mask).flatten(), torch.nonzero(mask).flatten()


def tuning_data(config: TuneConfig):
    """The training split as a `labkit.training.Data` whose *test* part is the validation digits."""
    x, y = load_mnist("train", source=DATASETS[config.dataset], limit=config.train_limit)
    fit, val = split_validation(y, config.val_fraction)
    return Data(x[fit], y[fit], x[val], y[val], name=f"{config.dataset}-train-minus-validation")
