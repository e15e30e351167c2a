"""Exercise 9.3: a recurrent hidden layer of LIF neurons, stepped through time."""

from __future__ import annotations

import numpy as np
import torch

from ..models import SpikingMLP
from ..neurons import LIFParams, lif_step
from .core import Case, CheckResult, exercise, expect_close, expect_equal, expect_pair, mistake, run_cases

__all__ = ["recurrent_lif"]

# ----------------------------------------------------------------------------- 9.3 recurrent layer


def _recurrent_reference(current, weight, params):
    """s_t, u_t = LIF(I_t + V s_{t−1}, u_{t−1}) from s_{−1} = u_{−1} = 0, with labkit.neurons.lif_step."""
    s = torch.zeros_like(current[0])
    u = torch.zeros_like(current[0])
    spikes, membranes = [], []
    for t in range(current.shape[0]):
        s, u = lif_step(current[t] + s @ weight.T, u, params)
        spikes.append(s)
        membranes.append(u)
    return torch.stack(spikes), torch.stack(membranes)


def _recurrent_case(current, weight, params=None, what="spikes and membrane"):
    def run(fn):
        p = params or LIFParams(beta=0.9, threshold=1.0, reset="zero")
        cur = torch.as_tensor(current, dtype=torch.float64)
        w = torch.as_tensor(weight, dtype=torch.float64)
        got = expect_pair(fn(cur.clone(), w.clone(), p), ("spikes", "membrane"))
        want_s, want_u = _recurrent_reference(cur, w, p)
        expect_close(got[1], want_u, "membrane [T, B, n]", atol=1e-9)
        expect_equal(got[0], want_s, "spikes [T, B, n]")

    return run


def _recurrent_model_case(fn):
    g = torch.Generator().manual_seed(6)
    model = SpikingMLP((30, 16, 4), recurrent=True, seed=3).double()
    x = (torch.rand(20, 5, 30, generator=g) < 0.3).double()
    with torch.no_grad():
        reference = model(x)
        current = model.layers[0](x)
        s, u = expect_pair(fn(current, model.recurrent.weight.detach(), model.lif), ("spikes", "membrane"))
    expect_close(u, reference.membranes[0], "hidden membrane of SpikingMLP(recurrent=True)", atol=1e-9)
    expect_equal(s, reference.spikes[1], "hidden spikes of SpikingMLP(recurrent=True)")


def labkit_recurrent_lif(current, weight, params):
    """labkit's version of exercise 9.3: LIF neurons driven by ``current`` ``[T, B, n]`` plus their own spikes of the
    previous step through ``weight`` V ``[n, n]`` (`labkit.neurons.lif_step`); returns (spikes, membrane), each ``[T, B,
    n]``."""
    s = torch.zeros_like(current[0])
    u = torch.zeros_like(current[0])
    spikes, membranes = [], []
    for t in range(current.shape[0]):
        s, u = lif_step(current[t] + torch.nn.functional.linear(s, weight), u, params)
        spikes.append(s)
        membranes.append(u)
    return torch.stack(spikes), torch.stack(membranes)


@exercise("9.3", "(current, weight, params) -> (spikes, membrane)", fallback=labkit_recurrent_lif)
def recurrent_lif(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 9.3, ``recurrent_lif(current [T, B, n], weight V [n, n], params) -> (spikes, membrane)``."""
    formula = "for t = 0 … T−1:  s_t, u_t = lif_step(I_t + s_{t−1} V^T, u_{t−1}, params),  with s_{−1} = u_{−1} = 0"
    eye = np.eye(3)
    cases = [
        Case("V = 0 is a plain LIF layer", "start from zero spikes and membrane, and step lif_step through time",
              _recurrent_case(np.full((6, 1, 3), 0.4), np.zeros((3, 3))), formula),
        Case("returns the spikes and the membrane, each [T, B, n]", "stack the steps along a new first dimension",
              _recurrent_case(np.full((4, 2, 3), 0.7), np.zeros((3, 3))), formula),
        Case("a spike reaches the other neurons one step later",
              "the recurrent input at step t comes from the spikes of step t − 1, not of step t",
              _recurrent_case([[[1.5, 0.0, 0.0]], [[0.0, 0.0, 0.0]], [[0.0, 0.0, 0.0]]],
                              [[0.0, 1.2, 0.0], [1.2, 0.0, 0.0], [0.0, 0.0, 0.0]]), formula),
        Case("V[j, i] carries neuron i's spike to neuron j (as nn.Linear's weight)",
              "the recurrent current of neuron j is sum_i V[j, i] s_i: multiply by the TRANSPOSE of V",
              _recurrent_case([[[0.0, 0.0, 1.5]]] + [[[0.0, 0.0, 0.0]]] * 2, [[0.0, 0.0, 1.1], [0.0, 0.0, 0.0],
                                                                             [0.0, 0.0, 0.0]]), formula),
        Case("params choose beta, threshold and reset", "pass params to lif_step; do not fix 0.9 and 1.0",
              _recurrent_case(np.full((8, 2, 3), 0.5), 0.3 * eye, LIFParams(beta=0.6, threshold=0.7,
                                                                               reset="subtract")), formula),
        Case("20 steps match the hidden layer of SpikingMLP(recurrent=True)",
              "the current passed in already holds W s_in + b: add only the recurrent part", _recurrent_model_case,
              formula),
    ]
    return run_cases("9.3", "recurrent_lif", fn, cases, quiet=quiet, names=("current", "weight", "params"))


# ----------------------------------------------------------------------------- the mistakes students make


def _recurrent(current, weight, params, *, transpose=True, carry=True, fixed=False, same_step=False):
    s, u = torch.zeros_like(current[0]), torch.zeros_like(current[0])
    p = LIFParams() if fixed else params
    spikes, membranes = [], []
    for t in range(current.shape[0]):
        v = weight.T if transpose else weight
        if same_step:  # the step's own spikes fed back at once
            s0, _ = lif_step(current[t], u if carry else torch.zeros_like(u), p)
            s, u = lif_step(current[t] + s0 @ v, u if carry else torch.zeros_like(u), p)
        else:
            s, u = lif_step(current[t] + s @ v, u if carry else torch.zeros_like(u), p)
        spikes.append(s)
        membranes.append(u)
    return torch.stack(spikes), torch.stack(membranes)


@mistake("9.3", "V used untransposed", "V[j, i] carries neuron i's spike to neuron j, as nn.Linear's weight: the "
         "recurrent current of a batch of spike rows needs V's TRANSPOSE")
def _recurrent_untransposed(current, weight, params):
    return _recurrent(current, weight, params, transpose=False)


@mistake("9.3", "the membrane not carried over time", "each step must start from the membrane the previous step "
         "returned, not from rest")
def _recurrent_no_state(current, weight, params):
    return _recurrent(current, weight, params, carry=False)


@mistake("9.3", "default parameters instead of params", "pass the params you are given to lif_step: beta, "
         "threshold and reset come from them")
def _recurrent_fixed_params(current, weight, params):
    return _recurrent(current, weight, params, fixed=True)


@mistake("9.3", "this step's spikes fed back at once", "a spike reaches the other neurons one step LATER: the "
         "recurrent input of step t comes from the spikes of step t − 1")
def _recurrent_same_step(current, weight, params):
    return _recurrent(current, weight, params, same_step=True)
