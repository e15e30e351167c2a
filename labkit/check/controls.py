"""Exercise 5.4: a control of the same size as the STDP term, in a direction drawn at random.

To tell "STDP helps" from "any small change of the weights helps", the plasticity study replaces
the STDP term η1·c·ΔW_stdp of each batch by a random matrix with exactly its Frobenius norm and a
direction drawn uniformly at random (`labkit.rules`, ``direction="random"``). A standard normal
matrix, divided by its own norm, points in a uniformly random direction (the normal distribution
is the same in every direction), so the control is that matrix scaled to ‖ΔW‖_F.
"""

from __future__ import annotations

import torch

from ..rules import same_norm_random
from .core import Case, CheckResult, Mismatch, exercise, expect_close, expect_unchanged, mistake, run_cases, snapshot, show

__all__ = ["same_norm_control"]


def _delta(seed: int = 0, shape=(6, 8)) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed)) * 0.01


def _call(fn, delta, seed):
    out = fn(delta.clone(), torch.Generator().manual_seed(seed))
    if not isinstance(out, torch.Tensor):
        raise Mismatch("a tensor", show(out))
    return out


def _norm_case(fn):
    delta = _delta(1)
    out = _call(fn, delta, 0)
    if tuple(out.shape) != tuple(delta.shape):
        raise Mismatch(f"a control of ΔW's shape {tuple(delta.shape)}", f"shape {tuple(out.shape)}")
    expect_close(out.norm().item(), delta.norm().item(), "‖control‖_F (must equal ‖ΔW‖_F)", rtol=1e-4, atol=1e-8)


def _scale_case(fn):
    for scale in (1e-4, 3.0):
        delta = _delta(2) * scale
        expect_close(_call(fn, delta, 0).norm().item(), delta.norm().item(),
                     f"‖control‖_F for ΔW scaled by {scale:g}", rtol=1e-4, atol=1e-10)


def _seeded_case(fn):
    delta = _delta(3)
    a, b, c = _call(fn, delta, 7), _call(fn, delta, 7), _call(fn, delta, 8)
    if not torch.equal(a, b):
        raise Mismatch("the same control from the same generator seed", "two different controls")
    if torch.equal(a, c):
        raise Mismatch("different controls from two generator seeds", "the same control")


def _no_bias_case(fn):
    delta = _delta(4, shape=(40, 50))
    mean_entry = torch.stack([_call(fn, delta, s) for s in range(20)]).mean().item()
    typical = delta.norm().item() / delta.numel() ** 0.5
    if abs(mean_entry) > 0.2 * typical:
        raise Mismatch(f"entries averaging about 0 over 20 draws (within 0.2 × a typical entry, {typical:.3g})",
                       f"an average of {mean_entry:.3g}")


def _spread_case(fn):
    delta = torch.zeros(10, 10)
    delta[0, 0] = 5.0
    out = _call(fn, delta, 0)
    share = (out != 0).float().mean().item()
    if share < 0.9:
        raise Mismatch("a control spread over (almost) every entry for a ΔW with one nonzero entry",
                       f"{100 * share:.0f}% nonzero entries")


def _zero_case(fn):
    out = _call(fn, torch.zeros(3, 4), 0)
    if not torch.isfinite(out).all() or out.abs().max().item() != 0.0:
        raise Mismatch("a zero control (no NaN) for a zero ΔW", show(out))


def _unchanged_case(fn):
    delta = _delta(5)
    before = snapshot(delta)
    fn(delta, torch.Generator().manual_seed(0))
    expect_unchanged(before, [delta], "delta")


@exercise("5.4", "(delta, generator) -> random direction with ‖·‖_F = ‖delta‖_F", fallback=same_norm_random)
def same_norm_control(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 5.4, ``same_norm_control(delta, generator) -> random matrix with ‖·‖_F = ‖delta‖_F``."""
    formula = "control = z · ‖ΔW‖_F / ‖z‖_F, z standard normal of ΔW's shape drawn from the generator (0 if ΔW = 0)"
    cases = [
        Case("the control has ΔW's shape and exactly its Frobenius norm",
             "the control must be as large as the STDP term it stands in for: same shape, same ‖·‖_F",
             _norm_case, formula="‖control‖_F = ‖ΔW‖_F = √(Σ ΔW_ij²)"),
        Case("the norm follows ΔW's size, tiny or large", "scale by ΔW's Frobenius norm, not by a fixed number",
             _scale_case, formula="control = direction · ‖ΔW‖_F with ‖direction‖_F = 1"),
        Case("the same generator seed gives the same control; another seed another one",
             "draw every random number from the generator passed in (torch functions take generator=...)",
             _seeded_case, formula="z = torch.randn(shape, generator=generator)"),
        Case("no preferred direction: over many draws the entries average out",
             "a uniformly random direction is symmetric around zero",
             _no_bias_case, formula="z standard normal (mean 0), not uniform on [0, 1)"),
        Case("the direction does not come from ΔW's entries (a ΔW with one entry)",
             "only ΔW's size may enter the control, never where its entries are",
             _spread_case, formula="control = z · ‖ΔW‖_F / ‖z‖_F"),
        Case("a zero ΔW gives a zero control, not NaN", "what is 0/0 in floating point? guard the division",
             _zero_case, formula="control = 0 when ‖ΔW‖_F = 0"),
        Case("the inputs are not modified", "build the control as a new tensor; leave delta as it came in",
             _unchanged_case),
    ]
    return run_cases("5.4", "same_norm_control", fn, cases, quiet=quiet, formula=formula, names=("delta", "generator"))


# ----------------------------------------------------------------------------- the mistakes students make


@mistake("5.4", "an unscaled normal draw", "a standard normal matrix of that shape has norm ≈ √(entries), not "
         "‖ΔW‖_F: rescale it to the STDP term's size")
def _control_unscaled(delta, generator):
    return torch.randn(delta.shape, generator=generator, dtype=delta.dtype)


@mistake("5.4", "a unit direction never scaled back", "dividing by the draw's own norm gives norm 1; the control "
         "must have the STDP term's norm")
def _control_unit(delta, generator):
    z = torch.randn(delta.shape, generator=generator, dtype=delta.dtype)
    return z / z.norm()


@mistake("5.4", "scaled by the largest entry", "the size to match is the Frobenius norm of ΔW (all entries), not "
         "its largest entry")
def _control_max(delta, generator):
    z = torch.randn(delta.shape, generator=generator, dtype=delta.dtype)
    return z / z.norm() * delta.abs().max()


@mistake("5.4", "uniform numbers in [0, 1)", "torch.rand draws only positive numbers: every control would push all "
         "weights up together, a direction with a preferred sign")
def _control_uniform(delta, generator):
    z = torch.rand(delta.shape, generator=generator, dtype=delta.dtype)
    return z / z.norm() * delta.norm()


@mistake("5.4", "a generator of its own", "a generator made inside the function (or one fixed seed) draws the same "
         "direction every time: draw from the generator that is passed in")
def _control_own_generator(delta, generator):
    z = torch.randn(delta.shape, generator=torch.Generator().manual_seed(0), dtype=delta.dtype)
    return z / z.norm() * delta.norm()


@mistake("5.4", "ΔW's entries shuffled", "a permutation of ΔW keeps its norm but also its few large entries: the "
         "direction must be drawn afresh, not rearranged")
def _control_shuffled(delta, generator):
    flat = delta.flatten()
    return flat[torch.randperm(flat.numel(), generator=generator)].view_as(delta)


@mistake("5.4", "0/0 for a zero ΔW", "with ΔW = 0 the control must be 0: do not divide a zero norm by a zero norm")
def _control_nan(delta, generator):
    z = torch.randn(delta.shape, generator=generator, dtype=delta.dtype)
    return z * delta.norm() / (z.norm() * delta.norm()) * delta.norm()


@mistake("5.4", "ΔW overwritten in place", "delta.normal_(...) or delta.mul_(...) changes the caller's STDP term: "
         "make the control a new tensor")
def _control_in_place(delta, generator):
    size = delta.norm()
    delta.normal_(generator=generator)
    return delta.mul_(size / delta.norm())
