"""labkit's versions of the exercises that have no other home in labkit.

`check.use` runs one of these while the student's function is not written::

    step = check.use(train_step, fallback=check.reference.train_step, exercise="4.3")

Where labkit has the function itself, the chapters fall back to it directly (``ATan(alpha).derivative``,
``labkit.neurons.spike``, ``labkit.readout.count_loss``, ``labkit.plasticity.stdp_update``).
"""

from __future__ import annotations

import numpy as np
import torch

from ..experiments import difference_verdict
from ..rules import RuleParams, UpdateRule

__all__ = ["astdp_step", "coefficient_update", "paired_interval", "robustness_score", "seed_band", "train_step"]


def train_step(model, optimizer, inputs, labels, loss_fn) -> float:
    """Exercise 4.3: one BPTT step (zero the gradients, forward, loss, backward, optimiser step); the loss."""
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), labels)
    loss.backward()
    optimizer.step()
    return loss.item()


def coefficient_update(c, dw, grad, kappa):
    """Exercise 5.2: clip(c + κ·cos(ΔW[j], −∇W L[j]), 0, 1) per row j (cosine 0 for a zero row)."""
    return (c + kappa * torch.cosine_similarity(dw, -grad, dim=1, eps=1e-12)).clamp(0.0, 1.0)


def astdp_step(model, optimizer, output, loss, coefficients, *, eta1, kappa, adaptive, stdp):
    """Exercise 5.3: labkit's rule object (`labkit.rules.UpdateRule.step`), bound to the given model, optimiser
    and coefficient tensors (updated in place), does the update."""
    eta2 = optimizer.param_groups[0]["lr"]
    name = "bp" if eta1 == 0 else ("adaptive" if adaptive else "sum")
    rule = UpdateRule(name, RuleParams(eta1=eta1, eta2=eta2, adaptive=adaptive, kappa=kappa, stdp=stdp))
    rule.bind(model)
    rule.optimizer = optimizer
    if rule.uses_stdp:
        for k, c in enumerate(coefficients):
            rule.coefficients[k] = c  # the caller's tensors
    return rule.step(output, loss)


def robustness_score(curve: dict) -> float:
    """Exercise 6.1: the trapezoidal mean of accuracy over the noise range."""
    sigmas = sorted(curve)
    if len(sigmas) < 2 or sigmas[-1] == sigmas[0]:
        raise ValueError("robustness_score needs accuracies at two or more different noise levels")
    area = sum((b - a) * (curve[a] + curve[b]) / 2 for a, b in zip(sigmas, sigmas[1:]))
    return area / (sigmas[-1] - sigmas[0])


def paired_interval(hybrid: dict, baseline: dict) -> tuple[float, float]:
    """Exercise 6.2: mean same-seed difference and its 95 % half-width (Student's t, as the report computes it)."""
    seeds = sorted(hybrid.keys() & baseline.keys())
    if len(seeds) < 2:
        raise ValueError("paired_interval needs at least two seeds that both rules have run")
    diffs = [hybrid[s] - baseline[s] for s in seeds]
    _, half = difference_verdict(diffs)
    return sum(diffs) / len(diffs), half


def seed_band(curves) -> tuple[np.ndarray, np.ndarray]:
    """Exercise 6.3: per-epoch mean and sample standard deviation over seeds (curves cut to the shortest)."""
    length = min(len(c) for c in curves)
    a = np.array([c[:length] for c in curves], dtype=np.float64)
    sd = a.std(axis=0, ddof=1) if len(curves) > 1 else np.zeros(length)
    return a.mean(axis=0), sd
