"""Exercises 5.1 and 5.3: the STDP change from the spikes of one forward pass, and the whole A-STDP
update step, checked against labkit's `stdp_update` and its rule object."""

from __future__ import annotations

import torch

from ..models import SpikingMLP
from ..stdp import STDPParams, stdp_update
from ..rules import RuleParams, UpdateRule
from ..training import paper_loss
from .bptt_step import tiny_batch
from .core import Case, CheckResult, Mismatch, exercise, expect_close, expect_unchanged, mistake, run_cases, snapshot

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


@exercise("5.1", "(pre_spikes, post_spikes, params) -> dW_stdp [n_post, n_pre]", fallback=stdp_update)
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
    return run_cases("5.1", "stdp_change", fn, cases, quiet=quiet, formula=_STDP_CHANGE,
                     names=("pre_spikes", "post_spikes", "params"))


_STDP_CHANGE = ("ΔW = (1/B) Σ_t [A+ · s_post,tᵀ x_t − A− · λ− · y_{t−1}ᵀ s_pre,t] with x_t = λ+ x_{t−1} + s_pre,t, "
                "y_t = λ− y_{t−1} + s_post,t")

def _astdp_side(sizes, eta1, start=1.0):
    model = SpikingMLP(sizes, seed=3)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    coefficients = [torch.full((n,), start) for n in model.sizes[1:]] if eta1 > 0 else []
    return model, optimizer, coefficients, paper_loss


def _astdp_case(eta1, adaptive, steps=1, kappa=0.3, start=1.0):
    def run(fn):

        stdp = STDPParams(A_plus=0.05, A_minus=0.06, tau_plus=3.0, tau_minus=3.0)
        sizes = (20, 16, 4)
        sides = [_astdp_side(sizes, eta1, start), _astdp_side(sizes, eta1, start)]
        for k in range(steps):
            inputs, labels = tiny_batch(k)
            held = list(sides[1][2])  # the student's coefficient tensors, as the rule object holds them
            for side, step in zip(sides, (labkit_astdp_step, fn)):
                model, optimizer, coefficients, loss_fn = side
                output = model(inputs)
                step(model, optimizer, output, loss_fn(output.out_membrane, labels), coefficients, eta1=eta1,
                     kappa=kappa, adaptive=adaptive, stdp=stdp)
            (m_r, _, c_r, _), (m_s, _, c_s, _) = sides
            for i, (w_s, w_r) in enumerate(zip(m_s.weights, m_r.weights)):
                expect_close(w_s.detach(), w_r.detach(), f"W of layer {i + 1} after step {k + 1}", atol=1e-6)
            for i, (cs, cr) in enumerate(zip(c_s, c_r)):
                if cs is not held[i]:
                    raise Mismatch(f"coefficients[{i}] still the tensor passed in, its values updated in place "
                                   "(whoever holds that tensor sees the new values only then)",
                                   f"a new tensor put in its place in the list after step {k + 1}")
                expect_close(cs, cr, f"coefficients of layer {i + 1} after step {k + 1} (updated in place)",
                              atol=1e-6)

    return run


def labkit_astdp_step(model, optimizer, output, loss, coefficients, *, eta1, kappa, adaptive, stdp):
    """labkit's version of exercise 5.3: labkit's rule object (`labkit.rules.UpdateRule.step`), bound to the given
    model, optimiser and coefficient tensors (updated in place), does the update."""
    eta2 = optimizer.param_groups[0]["lr"]
    name = "bp" if eta1 == 0 else ("adaptive" if adaptive else "sum")
    rule = UpdateRule(name, RuleParams(eta1=eta1, eta2=eta2, adaptive=adaptive, kappa=kappa, stdp=stdp))
    rule.bind(model)
    rule.optimizer = optimizer
    if rule.uses_stdp:
        for k, c in enumerate(coefficients):
            rule.coefficients[k] = c  # the caller's tensors
    return rule.step(output, loss)


@exercise("5.3", "(model, optimizer, output, loss, coefficients, *, eta1, kappa, adaptive, stdp)",
          fallback=labkit_astdp_step)
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
        Case("coefficients of 0.5 (no vote) halve every neuron's STDP term",
              "each row of ΔW_stdp is scaled by its neuron's coefficient",
              _astdp_case(0.05, False, start=0.5),
              formula="W_i += η1 · c_i[:, None] · ΔW_i, one coefficient per row (postsynaptic neuron)"),
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
    return run_cases("5.3", "astdp_step", fn, cases, quiet=quiet, shared=(0, 1, 2, 3, 4),
                     names=("model", "optimizer", "output", "loss", "coefficients"),
                     formula="W ← W − η2 · Adam(∇W L) + η1 · diag(c) · ΔW_stdp, with c voted first (adaptive) and "
                             "written into coefficients[i] in place")


# ----------------------------------------------------------------------------- the mistakes students make


def _stdp_batch(pre, post, params, *, post_first=False, lam_minus=True, per_batch=True, time_mean=False):
    x, y = torch.zeros_like(pre[0]), torch.zeros_like(post[0])
    dw = torch.zeros(post.shape[-1], pre.shape[-1], dtype=pre.dtype)
    for t in range(pre.shape[0]):
        x = params.decay_plus * x + pre[t]
        y_new = params.decay_minus * y + post[t]
        depress = y_new if post_first else (params.decay_minus if lam_minus else 1.0) * y
        dw += params.A_plus * post[t].T @ x - params.A_minus * depress.T @ pre[t]
        y = y_new
    dw = dw / pre.shape[1] if per_batch else dw
    return dw / pre.shape[0] if time_mean else dw


@mistake("5.1", "the depression reads this step's postsynaptic trace", "a pre spike must read the postsynaptic "
         "trace of EARLIER post spikes only (one step older), so that simultaneous spikes only potentiate")
def _change_post_first(pre_spikes, post_spikes, params):
    return _stdp_batch(pre_spikes, post_spikes, params, post_first=True)


@mistake("5.1", "the lambda- factor forgotten", "the postsynaptic trace of the step before decays once more before "
         "the pre spike reads it")
def _change_no_lambda(pre_spikes, post_spikes, params):
    return _stdp_batch(pre_spikes, post_spikes, params, lam_minus=False)


@mistake("5.1", "summed over the batch, not averaged", "the lab's rule AVERAGES over the B samples of a batch: "
         "divide the sum by B")
def _change_batch_sum(pre_spikes, post_spikes, params):
    return _stdp_batch(pre_spikes, post_spikes, params, per_batch=False)


@mistake("5.1", "averaged over time as well", "the change is SUMMED over the time steps (every pair counts), and "
         "averaged over the batch only")
def _change_time_mean(pre_spikes, post_spikes, params):
    return _stdp_batch(pre_spikes, post_spikes, params, time_mean=True)


@mistake("5.1", "ΔW transposed", "ΔW is [n_post, n_pre], like the layer's weight matrix")
def _change_transposed(pre_spikes, post_spikes, params):
    return _stdp_batch(pre_spikes, post_spikes, params).T


def _astdp(model, optimizer, output, loss, coefficients, *, eta1, kappa, adaptive, stdp, zero_grad=True,
           rebind=False, old_c=False, use_c=True, sign=1.0):
    if zero_grad:
        optimizer.zero_grad(set_to_none=True)
    loss.backward()
    with torch.no_grad():
        terms = []
        for i, layer in enumerate(model.layers if eta1 > 0 else []):
            dw = stdp_update(output.spikes[i], output.spikes[i + 1], stdp)
            c_before = coefficients[i].clone()
            if adaptive:
                new = (coefficients[i] + kappa * torch.cosine_similarity(dw, -layer.weight.grad, dim=1,
                                                                         eps=1e-12)).clamp(0.0, 1.0)
                if rebind:
                    coefficients[i] = new
                else:
                    coefficients[i].copy_(new)
            c = c_before if old_c else coefficients[i]
            terms.append(sign * eta1 * (c[:, None] if use_c else 1.0) * dw)
        optimizer.step()
        for layer, term in zip(model.layers, terms):
            layer.weight.add_(term)


@mistake("5.3", "a missing zero_grad", "gradients pile up in .grad from batch to batch: clear them with the "
         "optimiser before backward")
def _astdp_no_zero_grad(model, optimizer, output, loss, coefficients, **kw):
    _astdp(model, optimizer, output, loss, coefficients, zero_grad=False, **kw)


@mistake("5.3", "the coefficients rebound instead of updated in place", "coefficients[i] = ... puts a NEW tensor in "
         "the list, and whatever holds the old tensor (a module's buffer, a plot that kept it) keeps the old values: "
         "write the new values into the tensor that is there (in place), as the optimiser does with the weights")
def _astdp_rebind(model, optimizer, output, loss, coefficients, **kw):
    _astdp(model, optimizer, output, loss, coefficients, rebind=True, **kw)


@mistake("5.3", "the STDP term scaled by the coefficients of before the vote", "the vote comes first: the STDP "
         "term of this batch uses the coefficients AFTER this batch's vote")
def _astdp_old_c(model, optimizer, output, loss, coefficients, **kw):
    _astdp(model, optimizer, output, loss, coefficients, old_c=True, **kw)


@mistake("5.3", "the coefficients left out of the STDP term", "each neuron's STDP change is scaled by its own "
         "coefficient: diag(c) ΔW_stdp, one factor per row")
def _astdp_no_c(model, optimizer, output, loss, coefficients, **kw):
    _astdp(model, optimizer, output, loss, coefficients, use_c=False, **kw)


@mistake("5.3", "the STDP term subtracted", "STDP's change is ADDED to the weights (it is not a gradient to descend)")
def _astdp_minus(model, optimizer, output, loss, coefficients, **kw):
    _astdp(model, optimizer, output, loss, coefficients, sign=-1.0, **kw)
