"""Exercises 5.1 and 5.3: the STDP change from the spikes of one forward pass, and the whole A-STDP
update step, checked against labkit's `stdp_update` and its rule object."""

from __future__ import annotations

import torch

from ..models import SpikingMLP
from ..plasticity import STDPParams, stdp_update
from ..training import paper_loss
from . import reference
from .bptt_step import tiny_batch
from .core import Case, CheckResult, expect_close, expect_unchanged, run_cases, snapshot

__all__ = ["astdp_step", "stdp_change"]


def _stdp_params(**kw):
    return STDPParams(**{"A_plus": 0.01, "A_minus": 0.015, "tau_plus": 3.0, "tau_minus": 3.0, **kw})


def _one_pair(t_pre: int, t_post: int, steps: int = 8):
    pre, post = torch.zeros(steps, 1, 1), torch.zeros(steps, 1, 1)
    pre[t_pre, 0, 0], post[t_post, 0, 0] = 1.0, 1.0
    return pre, post


def _stdp_case(pre, post, params, what, atol=1e-7):
    def run(fn):

        got = fn(pre.clone(), post.clone(), params)
        expect_close(got, stdp_update(pre, post, params), what, atol=atol, rtol=1e-5)

    return run


def _stdp_random(fn):
    g = torch.Generator().manual_seed(21)
    pre = (torch.rand(25, 8, 30, generator=g) < 0.3).float()
    post = (torch.rand(25, 8, 20, generator=g) < 0.2).float()
    params = _stdp_params()
    expect_close(fn(pre, post, params), stdp_update(pre, post, params), "ΔW [n_post, n_pre]", atol=1e-6, rtol=1e-5)


def _stdp_unchanged(fn):
    pre, post = _one_pair(1, 3)
    before = snapshot(pre, post)
    fn(pre, post, _stdp_params())
    expect_unchanged(before, [pre, post], "the spike tensors")


def stdp_change(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 5.1, ``stdp_change(pre_spikes, post_spikes, params) -> ΔW_stdp [n_post, n_pre]``."""
    params = _stdp_params()
    cases = [
        Case("pre at t = 2, post at t = 4: potentiation", "a post spike reads the presynaptic trace, which "
              "decays by λ+ (params.decay_plus) per step", _stdp_case(*_one_pair(2, 4), params, "ΔW"),
              formula="x_t = λ+ x_{t−1} + s_pre,t;  ΔW += A+ · s_post,tᵀ x_t"),
        Case("post at t = 2, pre at t = 4: depression", "a pre spike reads the postsynaptic trace of EARLIER post "
              "spikes only, one step older than the current one", _stdp_case(*_one_pair(4, 2), params, "ΔW"),
              formula="ΔW −= A− · λ− · y_{t−1}ᵀ s_pre,t, then y_t = λ− y_{t−1} + s_post,t"),
        Case("pre and post at the same step: potentiation only", "the order within a step matters: which trace "
              "already holds the spikes of step t when it is read?", _stdp_case(*_one_pair(3, 3), params, "ΔW"),
              formula="at step t: update x with s_pre,t, potentiate with x_t, depress with y_{t−1}, then update y"),
        Case("other amplitudes and time constants", "use the fields of params, no numbers of your own",
              _stdp_case(*_one_pair(1, 5), _stdp_params(A_plus=0.2, tau_plus=7.0), "ΔW")),
        Case("random spikes of a batch: summed over time, averaged over the batch, shape [n_post, n_pre]",
              "one matrix product per step sums the outer products over the batch; divide by B at the end",
              _stdp_random,
              formula="ΔW = (1/B) Σ_t [A+ · s_post,tᵀ x_t − A− · λ− · y_{t−1}ᵀ s_pre,t], shapes [B, n_post]ᵀ [B, n_pre]"),
        Case("the spike tensors are not modified", "build the traces in new tensors", _stdp_unchanged),
    ]
    return run_cases("5.1", "stdp_change", fn, cases, quiet=quiet)

def _astdp_side(sizes, eta1):
    model = SpikingMLP(sizes, seed=3)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    coefficients = [torch.ones(n) for n in model.sizes[1:]] if eta1 > 0 else []
    return model, optimizer, coefficients, paper_loss


def _astdp_case(eta1, adaptive, steps=1, kappa=0.3):
    def run(fn):

        stdp = STDPParams(A_plus=0.05, A_minus=0.06, tau_plus=3.0, tau_minus=3.0)
        sizes = (20, 16, 4)
        sides = [_astdp_side(sizes, eta1), _astdp_side(sizes, eta1)]
        for k in range(steps):
            inputs, labels = tiny_batch(k)
            for side, step in zip(sides, (reference.astdp_step, fn)):
                model, optimizer, coefficients, loss_fn = side
                output = model(inputs)
                step(model, optimizer, output, loss_fn(output.out_membrane, labels), coefficients, eta1=eta1,
                     kappa=kappa, adaptive=adaptive, stdp=stdp)
            (m_r, _, c_r, _), (m_s, _, c_s, _) = sides
            for i, (w_s, w_r) in enumerate(zip(m_s.weights, m_r.weights)):
                expect_close(w_s.detach(), w_r.detach(), f"W of layer {i + 1} after step {k + 1}", atol=1e-6)
            for i, (cs, cr) in enumerate(zip(c_s, c_r)):
                expect_close(cs, cr, f"coefficients of layer {i + 1} after step {k + 1} (updated in place)",
                              atol=1e-6)

    return run


def astdp_step(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 5.3, ``astdp_step(model, optimizer, output, loss, coefficients, *, eta1, kappa, adaptive,
    stdp)``: one update of every layer, W ← W − η2·Adam(∇W L) + η1·diag(c)·ΔW_stdp."""
    cases = [
        Case("eta1 = 0 (rule bp): one Adam step on the gradient, nothing else",
              "with eta1 = 0 the step is chapter 4's: gradients, then the optimiser",
              _astdp_case(0.0, False),
              formula="zero the gradients, backward() on the loss, then the optimiser's step; no STDP term when eta1 = 0"),
        Case("rule sum (c fixed at 1): the Adam step plus eta1 · ΔW_stdp on every layer",
              "layer i's STDP reads the spikes going into it and the spikes it emits, from the same output",
              _astdp_case(0.05, False),
              formula="ΔW_i from output.spikes[i] (pre) and output.spikes[i + 1] (post); W_i += η1 · c_i[:, None] · ΔW_i "
                      "under torch.no_grad()"),
        Case("rule adaptive: the coefficients vote with the cosine, then scale the STDP term",
              "the vote needs the gradient, so it comes after backward; the STDP term uses the voted coefficients",
              _astdp_case(0.05, True),
              formula="c_i ← clip(c_i + κ cos(ΔW_i[j], −∇W_i L[j]), 0, 1) written into coefficients[i] in place "
                      "(copy_), then W_i += η1 · c_i[:, None] · ΔW_i"),
        Case("three steps in a row (Adam's state and c carry over)",
              "the rule object keeps the same coefficient tensors from batch to batch",
              _astdp_case(0.05, True, steps=3),
              formula="zero the gradients before each backward; change coefficients[i] in place, never rebind it"),
    ]
    return run_cases("5.3", "astdp_step", fn, cases, quiet=quiet)
