"""Exercise 5.2: the A-STDP plasticity coefficients' update from gradient feedback."""

from __future__ import annotations

import numpy as np
import torch

from .core import Case, CheckResult, exercise, expect_close, expect_unchanged, mistake, run_cases, snapshot

__all__ = ["plasticity_coefficient_update"]


def _coefficient_reference(c, dw, grad, kappa):
    """clip(c + κ cos(ΔW[j], −∇[j]), 0, 1), cosine 0 for a zero row (independent of labkit.rules)."""
    c, dw, grad = (np.asarray(v, dtype=np.float64) for v in (c, dw, grad))
    dot = (dw * -grad).sum(axis=1)
    norms = np.linalg.norm(dw, axis=1) * np.linalg.norm(grad, axis=1)
    cosine = np.divide(dot, norms, out=np.zeros_like(dot), where=norms > 0)
    return np.clip(c + kappa * cosine, 0.0, 1.0)


def _coefficient_case(c, dw, grad, kappa, what):
    def run(fn):
        args = [torch.tensor(v, dtype=torch.float32) for v in (c, dw, grad)]
        expect_close(fn(*args, kappa), _coefficient_reference(c, dw, grad, kappa), what, atol=1e-5)

    return run


def _coefficient_random(fn):
    g = torch.Generator().manual_seed(5)
    c = torch.rand(20, generator=g)
    dw, grad = torch.randn(20, 30, generator=g), torch.randn(20, 30, generator=g)
    dw[3] = 0.0
    expect_close(fn(c, dw, grad, 0.3), _coefficient_reference(c, dw, grad, 0.3), "coefficients", atol=1e-5)


def _coefficient_unchanged(fn):
    c, dw, grad = torch.tensor([0.5, 0.5]), torch.tensor([[1.0, 0.0], [0.0, 1.0]]), torch.tensor([[-1.0, 0.0], [0.0, 1.0]])
    before = snapshot(c, dw, grad)
    fn(c, dw, grad, 0.2)
    expect_unchanged(before, [c, dw, grad], "c, dw and grad")


def coefficient_update(c, dw, grad, kappa):
    """labkit's version of exercise 5.2: clip(c + κ·cos(ΔW[j], −∇W L[j]), 0, 1) per row j (cosine 0 for a zero row)."""
    return (c + kappa * torch.cosine_similarity(dw, -grad, dim=1, eps=1e-12)).clamp(0.0, 1.0)


@exercise("5.2", "(c, dw, grad, kappa) -> clip(c + kappa cos(dw, -grad), 0, 1)", fallback=coefficient_update)
def plasticity_coefficient_update(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 5.2, ``plasticity_coefficient_update(c, dw, grad, kappa) -> clip(c + κ cos(dw, −grad), 0, 1)``."""
    cases = [
        Case("agreeing rows gain kappa, opposing rows lose it, orthogonal rows keep c",
              "compare dw with MINUS grad: gradient descent moves the weights along -grad",
              _coefficient_case([0.5, 0.5, 0.5], [[-2.0, 0.0], [2.0, 0.0], [0.0, 5.0]],
                                [[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]], 0.2, "coefficients"),
              formula="c_j' = clip(c_j + κ · cos(dw[j], −grad[j]), 0, 1)"),
        Case("the cosine ignores the lengths of the rows", "a cosine is a normalised dot product",
              _coefficient_case([0.5, 0.5], [[3.0, 4.0], [0.1, 0.0]], [[-6.0, -8.0], [-1.0, -1.0]], 0.1,
                                "coefficients"),
              formula="cos(a, b) = (a · b) / (‖a‖ ‖b‖), row by row"),
        Case("the result is clipped to [0, 1]", "clamp the new coefficients to [0, 1]",
              _coefficient_case([1.0, 0.1], [[0.0, -1.0], [0.0, 1.0]], [[0.0, 2.0], [0.0, 1.0]], 0.2,
                                "coefficients")),
        Case("a row of zeros (silent neuron or zero gradient) keeps its c, no NaN",
              "a zero row has no direction: its cosine must come out as 0, not 0/0",
              _coefficient_case([0.5, 0.3], [[0.0, 0.0], [1.0, 1.0]], [[3.0, 4.0], [0.0, 0.0]], 0.2,
                                "coefficients"),
              formula="cosine = 0 where ‖dw[j]‖ · ‖grad[j]‖ = 0 (torch.where, or a tiny eps in the denominator)"),
        Case("20 random rows match the formula", "one cosine per ROW (dim=1), one coefficient per postsynaptic neuron",
              _coefficient_random),
        Case("the inputs are not modified", "compute the new coefficients into a new tensor (no in-place add_ or clamp_ on c)",
              _coefficient_unchanged),
    ]
    return run_cases("5.2", "plasticity_coefficient_update", fn, cases, quiet=quiet,
                     formula="c_j' = clip(c_j + κ · cos(dw[j], −grad[j]), 0, 1), cosine 0 for a zero row",
                     names=("c", "dw", "grad", "kappa"))


# ----------------------------------------------------------------------------- the mistakes students make

_COS = torch.cosine_similarity


@mistake("5.2", "the cosine with +grad", "gradient descent moves the weights along MINUS the gradient: that is the "
         "direction STDP should agree with")
def _coefficient_with_plus_grad(c, dw, grad, kappa):
    return (c + kappa * _COS(dw, grad, dim=1, eps=1e-12)).clamp(0, 1)


@mistake("5.2", "c updated in place", "c.add_ / c.clamp_ (or c += ...) change the caller's coefficients while you "
         "compute: return new values and leave c as it came in")
def _coefficient_in_place(c, dw, grad, kappa):
    return c.add_(kappa * _COS(dw, -grad, dim=1, eps=1e-12)).clamp_(0.0, 1.0)


@mistake("5.2", "no clipping", "the coefficients are fractions: keep them within [0, 1]")
def _coefficient_no_clip(c, dw, grad, kappa):
    return c + kappa * _COS(dw, -grad, dim=1, eps=1e-12)


@mistake("5.2", "the dot product without normalising", "a cosine divides the dot product by both rows' lengths, so "
         "that only the directions count")
def _coefficient_dot(c, dw, grad, kappa):
    return (c + kappa * (dw * -grad).sum(dim=1)).clamp(0, 1)


@mistake("5.2", "0/0 for a zero row", "a row of zeros has no direction: its cosine must come out as 0, not NaN")
def _coefficient_nan(c, dw, grad, kappa):
    cosine = (dw * -grad).sum(dim=1) / (dw.norm(dim=1) * grad.norm(dim=1))
    return (c + kappa * cosine).clamp(0, 1)


@mistake("5.2", "one cosine per column", "one coefficient per postsynaptic neuron: the cosine runs along each ROW "
         "(dim=1)")
def _coefficient_columns(c, dw, grad, kappa):
    return (c + kappa * _COS(dw, -grad, dim=0, eps=1e-12)).clamp(0, 1)
