"""Exercises 3.1–3.2: one step of a spike trace, and pair-based STDP computed from traces."""

from __future__ import annotations

import numpy as np
import torch

from ..stdp import STDPParams, stdp_update, traces
from .core import Case, CheckResult, exercise, expect_close, expect_unchanged, mistake, numeric, run_cases, snapshot

__all__ = ["stdp_pairs", "trace_step"]


def _trace_case(trace, spikes, decay, *, as_numpy=False):
    def run(fn):
        x = np.asarray(trace, dtype=np.float64) if as_numpy else torch.tensor(trace, dtype=torch.float64)
        s = np.asarray(spikes, dtype=np.float64) if as_numpy else torch.tensor(spikes, dtype=torch.float64)
        expected = decay * np.asarray(trace, dtype=np.float64) + np.asarray(spikes, dtype=np.float64)
        expect_close(fn(x, s, decay), expected, "trace")

    return run


def _trace_unrolled(fn):
    spikes = (torch.rand(30, 2, 4, generator=torch.Generator().manual_seed(0)) < 0.3).double()
    x, unrolled = torch.zeros_like(spikes[0]), []
    for s in spikes:
        x = fn(x, s, 0.8)
        unrolled.append(numeric(x, "trace"))
    expect_close(np.stack(unrolled), traces(spikes, 0.8), "30 steps of traces (labkit.stdp.traces)")


def _trace_unchanged(fn):
    x, s = torch.tensor([0.5, 1.0]), torch.tensor([1.0, 0.0])
    before = snapshot(x, s)
    fn(x, s, 0.5)
    expect_unchanged(before, [x, s], "trace and spikes")


_TRACE = "x_t = decay * x_{t-1} + s_t"


def labkit_trace_step(trace, spikes, decay):
    """labkit's version of exercise 3.1: the trace one step later."""
    return decay * trace + spikes


@exercise("3.1", "(trace, spikes, decay) -> trace one step later", fallback=labkit_trace_step)
def trace_step(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 3.1, ``trace_step(trace, spikes, decay) -> the trace one step later``."""
    cases = [
        Case("from zero, the trace equals the spikes", "a trace that was zero holds only this step's spikes",
              _trace_case([0.0, 0.0, 0.0], [1.0, 0.0, 1.0], 0.9), _TRACE),
        Case("without spikes the trace decays by the factor decay", "multiply the old trace by decay",
              _trace_case([1.0, 0.5], [0.0, 0.0], 0.8), _TRACE),
        Case("a spike adds 1 on top of the decayed trace", "add the spikes after decaying, do not reset the trace",
              _trace_case([[2.0, 0.3], [0.0, 1.0]], [[1.0, 1.0], [0.0, 1.0]], 0.5), _TRACE),
        Case("NumPy arrays work too", "plain arithmetic works for arrays and tensors alike",
              _trace_case([0.4, 0.0], [1.0, 1.0], 0.25, as_numpy=True)),
        Case("30 steps match labkit.stdp.traces", "return the new trace; the next call receives it",
              _trace_unrolled, _TRACE),
        Case("the inputs are not modified", "return a new tensor instead of changing trace in place",
              _trace_unchanged),
    ]
    return run_cases("3.1", "trace_step", fn, cases, quiet=quiet, formula=_TRACE, names=("trace", "spikes", "decay"))


def _stdp_params(A_plus=0.01, A_minus=0.0105, tau_plus=20.0, tau_minus=20.0):
    return STDPParams(A_plus=A_plus, A_minus=A_minus, tau_plus=tau_plus, tau_minus=tau_minus)


def _stdp_reference(pre, post, params) -> np.ndarray:
    """Σ over all pairs of W(t_post − t_pre) (Song, Miller and Abbott 2000), independent of any trace code."""
    steps = torch.arange(pre.shape[0], dtype=torch.float64)
    dt = steps[:, None] - steps[None, :]  # [t_post, t_pre]: Δt = t_post − t_pre
    W = torch.where(dt >= 0, params.A_plus * torch.exp(-dt / params.tau_plus),
                    -params.A_minus * torch.exp(dt / params.tau_minus))
    return (post.double().T @ W @ pre.double()).numpy()


def _stdp_case(pre, post, params, what="ΔW", expected=None):
    def run(fn):
        p, q = torch.as_tensor(pre, dtype=torch.float64), torch.as_tensor(post, dtype=torch.float64)
        before = snapshot(p, q)
        got = fn(p, q, params)
        want = _stdp_reference(p, q, params) if expected is None else expected
        expect_close(got, want, what, atol=1e-9, rtol=1e-7)
        expect_unchanged(before, [p, q], "the spike trains")

    return run


def _pair(t_pre, t_post, steps=12):
    pre, post = torch.zeros(steps, 1), torch.zeros(steps, 1)
    pre[t_pre, 0], post[t_post, 0] = 1.0, 1.0
    return pre, post


_STDP = ("x_t = lambda+ x_{t-1} + pre_t;  dW += A+ * outer(post_t, x_t);  "
         "dW -= A- * lambda- * outer(y_{t-1}, pre_t);  y_t = lambda- y_{t-1} + post_t")


def labkit_stdp_pairs(pre, post, params: STDPParams):
    """labkit's version of exercise 3.2: the pair-based STDP change ΔW ``[n_post, n_pre]`` of one spike train ``[T, n]``
    per side."""
    pre, post = torch.as_tensor(pre), torch.as_tensor(post)
    dtype = torch.promote_types(pre.dtype, post.dtype)
    return stdp_update(pre.to(dtype)[:, None, :], post.to(dtype)[:, None, :], params)


@exercise("3.2", "(pre [T, n_pre], post [T, n_post], params) -> ΔW [n_post, n_pre]", fallback=labkit_stdp_pairs)
def stdp_pairs(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 3.2, ``stdp_pairs(pre[T, n_pre], post[T, n_post], params) -> ΔW[n_post, n_pre]``."""
    p = _stdp_params()
    g = torch.Generator().manual_seed(17)
    rand_pre = (torch.rand(40, 5, generator=g) < 0.2).double()
    rand_post = (torch.rand(40, 3, generator=g) < 0.15).double()
    lam_p, lam_m = p.decay_plus, p.decay_minus
    cases = [
        Case("no spikes, no change, shape [n_post, n_pre]", "one row per postsynaptic neuron, one column per input",
              _stdp_case(torch.zeros(10, 4), torch.zeros(10, 3), p, expected=np.zeros((3, 4))), _STDP),
        Case("pre 3 steps before post potentiates by A+ lambda+^3",
              "when the post neuron fires, add A+ times the presynaptic trace at that step",
              _stdp_case(*_pair(2, 5), p, expected=[[p.A_plus * lam_p**3]]), _STDP),
        Case("post 3 steps before pre depresses by A- lambda-^3",
              "when the pre neuron fires, subtract A- times the postsynaptic trace of the step BEFORE, decayed once",
              _stdp_case(*_pair(5, 2), p, expected=[[-p.A_minus * lam_m**3]]), _STDP),
        Case("simultaneous spikes count as pre before post: +A+",
              "update the presynaptic trace with this step's spikes BEFORE the potentiation reads it, and read the "
              "postsynaptic trace for the depression BEFORE this step's post spikes enter it",
              _stdp_case(*_pair(4, 4), p, expected=[[p.A_plus]]), _STDP),
        Case("the params' own amplitudes and time constants", "use params.A_plus, params.decay_plus and their twins",
              _stdp_case(*_pair(1, 3), _stdp_params(0.5, 0.2, 4.0, 9.0)), _STDP),
        Case("40 steps of random trains: the sum of W(Δt) over all pairs",
              "potentiation and depression both at every step, for all neurons at once (outer products)",
              _stdp_case(rand_pre, rand_post, p), _STDP),
    ]
    return run_cases("3.2", "stdp_pairs", fn, cases, quiet=quiet, formula=_STDP, names=("pre", "post", "params"))


# ----------------------------------------------------------------------------- the mistakes students make


@mistake("3.1", "the trace changed in place", "trace *= decay writes into the caller's tensor: compute the new "
         "trace into a new tensor")
def _trace_in_place(trace, spikes, decay):
    trace *= decay
    trace += spikes
    return trace


@mistake("3.1", "the trace reset by a spike", "a spike ADDS one to the decayed trace; it does not set it to one")
def _trace_reset(trace, spikes, decay):
    return torch.where(torch.as_tensor(spikes) > 0, torch.ones_like(torch.as_tensor(trace)),
                       decay * torch.as_tensor(trace))


@mistake("3.1", "the spikes decayed along with the trace", "this step's spikes enter at full height: only the old "
         "trace is multiplied by decay")
def _trace_decay_after(trace, spikes, decay):
    return decay * (trace + spikes)


@mistake("3.1", "no decay", "without spikes the trace must shrink by the factor decay at every step")
def _trace_no_decay(trace, spikes, decay):
    return trace + spikes


def _stdp_loop(pre, post, params, *, post_first=False, sign=1.0, lam_minus=True, pre_late=False):
    x, y = torch.zeros_like(pre[0]), torch.zeros_like(post[0])
    dw = torch.zeros(post.shape[1], pre.shape[1], dtype=pre.dtype)
    for t in range(pre.shape[0]):
        x_read = x * params.decay_plus if pre_late else None
        x = params.decay_plus * x + pre[t]
        y_new = params.decay_minus * y + post[t]
        depress = y_new if post_first else (params.decay_minus if lam_minus else 1.0) * y
        dw += sign * (params.A_plus * torch.outer(post[t], x if x_read is None else x_read)
                      - params.A_minus * torch.outer(depress, pre[t]))
        y = y_new
    return dw


@mistake("3.2", "the postsynaptic trace updated too early", "at a simultaneous pre and post spike the depression "
         "read a trace that already holds this step's post spike: read it BEFORE this step's post spikes enter")
def _stdp_post_trace_first(pre, post, params):
    return _stdp_loop(pre, post, params, post_first=True)


@mistake("3.2", "the signs swapped", "pre before post must STRENGTHEN the synapse (+A+), post before pre weaken it")
def _stdp_wrong_sign(pre, post, params):
    return _stdp_loop(pre, post, params, sign=-1.0)


@mistake("3.2", "ΔW transposed", "ΔW has one row per POSTsynaptic neuron and one column per input: "
         "[n_post, n_pre]")
def _stdp_transposed(pre, post, params):
    return _stdp_loop(pre, post, params).T


@mistake("3.2", "the depression missing its lambda- factor", "the postsynaptic trace of the step before is one step "
         "older by the time the pre spike reads it: it decays once more")
def _stdp_no_lambda_minus(pre, post, params):
    return _stdp_loop(pre, post, params, lam_minus=False)


@mistake("3.2", "the presynaptic trace read before this step's spikes", "a simultaneous pair counts as pre before "
         "post: the presynaptic trace must already hold this step's pre spikes when post reads it")
def _stdp_pre_late(pre, post, params):
    return _stdp_loop(pre, post, params, pre_late=True)
