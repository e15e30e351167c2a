r"""Update rules: how a forward/backward pass becomes a weight change.

The paper combines a local rule (STDP) and a global one (backpropagation) on the same weights:
"total update = η1·(STDP update) + η2·(backprop update)", with "each neuron maintaining a
plasticity coefficient". The lab pins the vague part down (book chapter 5) as

.. math::

    W \leftarrow W - \eta_2\,\mathrm{Adam}(\nabla_W L) + \eta_1(e)\,\mathrm{diag}(c)\,\Delta W_{stdp},
    \qquad \eta_1(e) = \frac{\eta_1^0}{1 + \ln(1 + e)}

with ΔW_stdp the pair-based STDP change of the same forward pass (`labkit.stdp`), e the
epoch (0, 1, …) and c ∈ [0, 1]^{N_post} one plasticity coefficient per postsynaptic neuron,
adapted each step from the agreement of the local and the global signal:

.. math::  c_j \leftarrow \mathrm{clip}\big(c_j + \kappa \cos(\Delta W_{stdp}[j,:], -\nabla_W L[j,:]),\ 0,\ 1\big)

Rules (choose by name with `make_rule`):

* ``bp``        η1 = 0: surrogate-gradient backprop with Adam (lr η2).
* ``stdp``      η2 = 0: STDP alone on the supervised network (the "disable backprop" ablation).
* ``sum``       the paper's literal rule: c ≡ 1.
* ``adaptive``  A-STDP: c adapted as above.

A rule is a small object the training loop calls once per batch, after the forward pass:
``stats = rule.step(output, loss)`` (after ``rule.bind(model)``); ``rule.end_epoch()`` advances the η1 schedule.

**The dose.** How much STDP a hybrid step holds is measured, not assumed: every step of a rule
with STDP reports, for each STDP layer i,

* ``dose{i}`` ρ = ‖η1(e)·diag(c)·ΔW_stdp‖_F / ‖ΔW_grad‖_F, the local term's size against the
  gradient step actually applied (Adam's, or SGD's; for ``reading="adam"``, where both pass through
  Adam together, against η2·‖∇L‖ before Adam);
* ``cos{i}`` cos(ΔW_stdp, −∇_W L), whether the local rule points the way the task gradient does.

**Readings and controls** (`RuleParams`). The paper's sentence "η1·STDP + η2·backprop" has other
literal readings, each a ``reading``: ``"mean"`` (the lab's: ΔW_stdp averaged over the batch, added
beside Adam's step), ``"batch_sum"`` (summed over the batch: B times larger), ``"adam"`` (STDP handed
to Adam as a pseudo-gradient, g = ∇L − (η1/η2)·c·ΔW_stdp) and ``"sgd"`` (the gradient part as plain
SGD at η2). To tell STDP from "any small change of the weights", ``direction`` replaces the STDP
term by a control of exactly the same Frobenius norm each batch: ``"random"`` (a direction drawn
uniformly at random) or ``"decay"`` (towards zero along −W, a matched weight decay).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, replace
from typing import Literal

import torch
from torch import nn

from .foundation import paper
from .foundation.validation import check_number
from .models import SNNOutput, SpikingMLP
from .stdp import STDPParams, stdp_update

__all__ = ["DIRECTIONS", "READINGS", "RULES", "RuleParams", "UpdateRule", "eta1_schedule",
           "make_rule", "same_norm_random"]

RuleName = Literal["bp", "stdp", "sum", "adaptive"]
RULES: tuple[str, ...] = ("bp", "stdp", "sum", "adaptive")
Reading = Literal["mean", "batch_sum", "adam", "sgd"]
READINGS: tuple[str, ...] = ("mean", "batch_sum", "adam", "sgd")
Direction = Literal["stdp", "random", "decay"]
DIRECTIONS: tuple[str, ...] = ("stdp", "random", "decay")

#: STDP for the hybrid: short traces (τ = 3 steps, T = 25) and depression that outweighs
#: potentiation over the whole window (A+·Σ_{Δ≥0} λ^Δ = 0.0353 < A−·Σ_{Δ≥1} λ^Δ = 0.0379), as
#: Song, Miller and Abbott (2000) require for stability: uncorrelated firing then weakens
#: synapses slightly instead of inflating every weight that sees input.
HYBRID_STDP = STDPParams(A_plus=0.01, A_minus=0.015, tau_plus=3.0, tau_minus=3.0)


def _adam(model: nn.Module, lr: float) -> torch.optim.Adam:
    """Adam over the model's parameters; its fused kernel (one pass per tensor) on the CPU."""
    params = list(model.parameters())
    on_cpu = all(p.device.type == "cpu" for p in params)
    return torch.optim.Adam(params, lr=lr, fused=on_cpu or None)


def _ratio(numerator: torch.Tensor, denominator: torch.Tensor) -> float:
    """‖a‖_F / ‖b‖_F (inf where b is zero and a is not, 0 where both are)."""
    top, bottom = numerator.norm().item(), denominator.norm().item()
    return top / bottom if bottom > 0 else (math.inf if top > 0 else 0.0)


def _cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    """cos(a, b) of the flattened matrices (0 where either is zero)."""
    return torch.cosine_similarity(a.flatten(), b.flatten(), dim=0, eps=1e-30).item()


def _records_layer_spikes(model: nn.Module) -> bool:
    """Whether STDP can run on ``model``: a `SpikingMLP`, or a network that has its ``layers`` (nn.Linear),
    ``sizes`` and a forward pass returning an `SNNOutput` in the same way (it says so with
    ``records_layer_spikes = True``, as `labkit.interop.snntorch.SnnTorchNetwork` does)."""
    return isinstance(model, SpikingMLP) or getattr(model, "records_layer_spikes", False) is True


def same_norm_random(delta: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """A matrix with exactly ‖delta‖_F and a direction drawn uniformly at random (the ``random`` control).

    A standard normal matrix z is the same in every direction, so z / ‖z‖_F is a uniformly random unit
    direction; scaled by ‖delta‖_F it is as large as the STDP term it stands in for (0 when delta is 0).
    """
    z = torch.randn(delta.shape, generator=generator, device=delta.device, dtype=delta.dtype)
    return z * (delta.norm() / z.norm().clamp_min(1e-30))


def eta1_schedule(eta1_0: float, epoch: int) -> float:
    """η1(e) = η1⁰ / (1 + ln(1 + e)): the paper's "logarithmic decay" after each epoch."""
    return eta1_0 / (1.0 + math.log1p(epoch))


@dataclass(frozen=True)
class RuleParams:
    """Parameters of an update rule.

    Attributes:
        eta1: η1⁰, the STDP learning rate at epoch 0 (paper: 0.01).
        eta2: η2, Adam's learning rate for the gradient (paper: 0.001).
        adaptive: adapt the plasticity coefficients c (A-STDP) or fix c ≡ 1 (``sum``).
        kappa: κ, the step of the coefficient update, in [0, 1].
        c_init: initial coefficient (1: start as ``sum`` and switch off where STDP disagrees).
        stdp: STDP amplitudes and time constants.
        layers: indices of the layers that receive STDP (default: all).
        reading: how η1·STDP and η2·backprop are combined (module docstring): ``"mean"`` (the lab's),
            ``"batch_sum"``, ``"adam"`` or ``"sgd"``.
        direction: ``"stdp"``, or a control of the same norm: ``"random"`` or ``"decay"``.
    """

    eta1: float = paper.ETA1
    eta2: float = paper.ETA2
    adaptive: bool = False
    kappa: float = 0.05
    c_init: float = 1.0
    stdp: STDPParams = HYBRID_STDP
    layers: tuple[int, ...] | None = None
    reading: Reading = "mean"
    direction: Direction = "stdp"

    def __post_init__(self) -> None:
        check_number("eta1 (η1)", self.eta1, minimum=0)
        check_number("eta2 (η2)", self.eta2, minimum=0)
        if self.eta1 == 0 and self.eta2 == 0:
            raise ValueError("eta1 (η1) and eta2 (η2) are both 0: nothing would learn; make one of them > 0")
        check_number("kappa (κ)", self.kappa, minimum=0.0, maximum=1.0)
        check_number("c_init", self.c_init, minimum=0.0, maximum=1.0)
        if self.reading not in READINGS:
            raise ValueError(f"reading must be one of {', '.join(READINGS)}, got {self.reading!r}")
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, got {self.direction!r}")
        if self.reading in ("adam", "sgd") and self.eta2 == 0:
            raise ValueError(f"reading={self.reading!r} combines STDP with the gradient step: it needs eta2 (η2) > 0")


class UpdateRule:
    """W ← W − η2·Adam(∇L) + η1(e)·diag(c)·ΔW_stdp (module docstring); covers all four rules."""

    def __init__(self, name: str, params: RuleParams):
        self.name, self.params = name, params
        self.epoch = 0
        self.optimizer: torch.optim.Optimizer | None = None
        self.coefficients: list[torch.Tensor] = []
        #: draws the ``direction="random"`` control; the training loop seeds one per epoch (`set_generator`)
        self.generator: torch.Generator | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def bind(self, model: nn.Module) -> None:
        """Attach to a model: create Adam over its parameters and the coefficients c."""
        if self.uses_stdp and not _records_layer_spikes(model):
            raise ValueError(f"rule {self.name!r} uses STDP, which needs a SpikingMLP or an snnTorch network of "
                             f"Linear + Leaky layers (labkit.interop.snntorch.wrap(net); train wraps it itself), "
                             f"not {type(model).__name__}")
        self.model = model
        if not self.uses_gradient:
            self.optimizer = None
        elif self.params.reading == "sgd":
            self.optimizer = torch.optim.SGD(model.parameters(), lr=self.params.eta2)
        else:
            self.optimizer = _adam(model, self.params.eta2)
        if self.uses_stdp:
            n_layers = len(model.layers)
            layers = self.params.layers if self.params.layers is not None else tuple(range(n_layers))
            if any(not 0 <= i < n_layers for i in layers):
                raise ValueError(f"STDP layers {layers} out of range: the model has layers 0..{n_layers - 1}")
            self.stdp_layers = tuple(layers)
            device = model.layers[0].weight.device
            self.coefficients = [
                torch.full((model.sizes[i + 1],), self.params.c_init, device=device) for i in self.stdp_layers
            ]

    @property
    def uses_gradient(self) -> bool:
        return self.params.eta2 > 0

    @property
    def uses_stdp(self) -> bool:
        return self.params.eta1 > 0

    @property
    def eta1(self) -> float:
        """η1 at the current epoch."""
        return eta1_schedule(self.params.eta1, self.epoch)

    def end_epoch(self) -> None:
        self.epoch += 1

    def set_generator(self, generator: torch.Generator | None) -> None:
        """The generator the ``"random"`` control draws from (the loop gives one seeded by (seed, epoch))."""
        self.generator = generator

    # -- one batch ---------------------------------------------------------------------------
    def step(self, output: SNNOutput | torch.Tensor, loss: torch.Tensor) -> dict[str, float]:
        """Apply one update from the forward pass ``output`` and its ``loss``; returns statistics
        (``c{i}``, ``dose{i}`` and ``cos{i}`` of each STDP layer i, module docstring)."""
        stats: dict[str, float] = {}
        if self.uses_gradient:
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
        if not self.uses_stdp:
            self.optimizer.step()
            return stats
        with torch.no_grad():
            updates = []
            for k, i in enumerate(self.stdp_layers):
                weight = self.model.layers[i].weight
                dw = stdp_update(output.layer_input(i), output.layer_input(i + 1), self.params.stdp, weight)
                if self.params.reading == "batch_sum":
                    dw = dw * output.layer_input(i + 1).shape[1]
                if weight.grad is not None:
                    stats[f"cos{i}"] = _cosine(dw, -weight.grad)
                if self.params.adaptive and weight.grad is not None:
                    agreement = torch.cosine_similarity(dw, -weight.grad, dim=1, eps=1e-12)
                    self.coefficients[k].add_(self.params.kappa * agreement).clamp_(0.0, 1.0)
                    stats[f"c{i}"] = self.coefficients[k].mean().item()
                local = self._control(self.eta1 * self.coefficients[k][:, None] * dw, weight)
                updates.append((weight, local))
            if self.optimizer is None:
                for weight, local in updates:
                    weight.add_(local)
                return stats
            if self.params.reading == "adam":  # STDP as a pseudo-gradient: both pass through Adam together
                for (weight, local), i in zip(updates, self.stdp_layers):
                    stats[f"dose{i}"] = _ratio(local, self.params.eta2 * weight.grad)
                    weight.grad.sub_(local / self.params.eta2)
                self.optimizer.step()
                return stats
            before = [weight.detach().clone() for weight, _ in updates]
            self.optimizer.step()
            for (weight, local), old, i in zip(updates, before, self.stdp_layers):
                stats[f"dose{i}"] = _ratio(local, weight - old)
                weight.add_(local)
        return stats

    def _control(self, local: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        """The STDP term itself, or (``direction``) a control with exactly its Frobenius norm."""
        if self.params.direction == "stdp":
            return local
        if self.params.direction == "random":
            return same_norm_random(local, self.generator)
        direction = -weight.detach()  # "decay": shrink the weights towards zero, by exactly the STDP term's size
        return direction * (local.norm() / direction.norm().clamp_min(1e-30))

    # -- checkpoints ---------------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {
            "name": self.name,
            "epoch": self.epoch,
            # a snapshot: Adam's own state_dict() holds its live moment tensors, which later steps would change
            "optimizer": copy.deepcopy(self.optimizer.state_dict()) if self.optimizer is not None else None,
            "coefficients": [c.clone() for c in self.coefficients],
        }

    def load_state_dict(self, state: dict) -> None:
        if state["name"] != self.name:
            raise ValueError(f"checkpoint was written by rule {state['name']!r}, not {self.name!r}")
        self.epoch = state["epoch"]
        if self.optimizer is not None and state["optimizer"] is not None:
            self.optimizer.load_state_dict(copy.deepcopy(state["optimizer"]))  # never share tensors with `state`
        for c, saved in zip(self.coefficients, state["coefficients"]):
            c.copy_(saved)

    def __repr__(self) -> str:
        return f"UpdateRule({self.name!r}, {self.params})"


def make_rule(name: RuleName | UpdateRule = "bp", **overrides) -> UpdateRule:
    """A rule by name: ``bp``, ``stdp``, ``sum`` or ``adaptive``; keyword overrides go to `RuleParams`.

    ``bp`` forces η1 = 0 and ``stdp`` forces η2 = 0 (passing the other rate is an error).
    """
    if isinstance(name, UpdateRule):
        if overrides:
            raise ValueError("pass overrides either to make_rule(name, ...) or to the rule, not both")
        return name
    if name not in RULES:
        raise ValueError(f"unknown rule {name!r}: choose one of {', '.join(RULES)}")
    forced = {"bp": {"eta1": 0.0}, "stdp": {"eta2": 0.0}, "sum": {"adaptive": False}, "adaptive": {"adaptive": True}}
    for key, value in forced[name].items():
        if key in overrides and overrides[key] != value:
            raise ValueError(f"rule {name!r} fixes {key}={value}; got {key}={overrides[key]!r}")
    params = replace(RuleParams(), **{**overrides, **forced[name]})
    return UpdateRule(name, params)

