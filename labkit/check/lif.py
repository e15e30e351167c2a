"""Exercise 1.1: one step of the leaky integrate-and-fire neuron."""

from __future__ import annotations

import numpy as np
import torch

from ..neurons import LIFParams, lif_step
from .core import (
    Case,
    CheckResult,
    expect_close,
    expect_equal,
    expect_pair,
    expect_unchanged,
    numeric,
    run_cases,
    snapshot,
)

__all__ = ["lif_update"]


def _lif_reference(current, membrane, beta, threshold, reset):
    s, u = lif_step(torch.as_tensor(current, dtype=torch.float64), torch.as_tensor(membrane, dtype=torch.float64),
                    LIFParams(beta=beta, threshold=threshold, reset=reset))
    return s.numpy(), u.numpy()


def _lif_case(current, membrane, reset, beta=0.9, threshold=1.0, *, as_torch=False):
    def run(fn):
        cur = np.asarray(current, dtype=np.float64)
        mem = np.asarray(membrane, dtype=np.float64)
        args = (torch.from_numpy(cur), torch.from_numpy(mem)) if as_torch else (cur, mem)
        s, u = expect_pair(fn(*args, beta, threshold, reset), ("spike", "membrane"))
        s_ref, u_ref = _lif_reference(cur, mem, beta, threshold, reset)
        expect_close(u, u_ref, "membrane", atol=1e-9)
        expect_equal(s, s_ref, "spike")

    return run


def _lif_sequence_case(reset):
    def run(fn):
        rng = np.random.default_rng(3)  # the same drive as chapter 1's comparison
        u, u_ref = np.zeros(5), np.zeros(5)
        for t, current in enumerate(0.3 + 0.5 * rng.standard_normal((40, 5))):
            s, u = expect_pair(fn(current, u, 0.9, 1.0, reset), ("spike", "membrane"))
            s_ref, u_ref = _lif_reference(current, u_ref, 0.9, 1.0, reset)
            expect_close(u, u_ref, f"membrane at step {t}", atol=1e-9)
            expect_equal(s, s_ref, f"spikes at step {t}")
            u = numeric(u, "membrane")

    return run


def _lif_unchanged(fn):
    cur, mem = np.array([0.5, 0.2]), np.array([1.4, 0.3])
    before = snapshot(cur, mem)
    fn(cur, mem, 0.9, 1.0, "subtract")
    expect_unchanged(before, [cur, mem], "current and membrane")


def lif_update(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 1.1, ``lif_update(current, membrane, beta, threshold, reset) -> (spike, membrane)``."""
    hint_eq = "u_t = beta * u_{t-1} + I_t when the previous membrane was not above threshold"
    cases = [
        Case("no spike below threshold: u = beta*u + I", hint_eq, _lif_case([0.2, 0.5], [0.0, 0.4], "subtract")),
        Case("crossing the threshold makes a spike",
              "the spike is H(u_t - threshold) of the new membrane, and the membrane you return is u_t BEFORE "
              "its reset (the reset comes at the next step, from the membrane passed in)",
              _lif_case([0.7], [0.5], "subtract")),
        Case("reset 'subtract' removes the threshold once the previous membrane was above it",
              "the reset uses r = H(u_{t-1} - threshold), the OLD membrane, and subtracts threshold * r",
              _lif_case([0.1, 0.0, 0.3], [1.3, 2.5, 0.2], "subtract")),
        Case("reset 'zero' forgets the membrane after a spike",
              "for 'zero' the new membrane is beta * (1 - r) * u_{t-1} + I_t (the input still arrives)",
              _lif_case([0.1, 0.0, 0.3], [1.3, 2.5, 0.2], "zero")),
        Case("exactly at threshold is not a spike (strict >)",
              "use u > threshold, not >=, both for the spike and for the reset",
              _lif_case([1.0, 0.0], [0.0, 1.0], "subtract", beta=1.0)),
        Case("other beta and threshold", "use the beta and threshold arguments, not 0.9 and 1.0",
              _lif_case([0.4, 1.5, 0.0], [2.2, 0.1, 0.0], "subtract", beta=0.5, threshold=2.0)),
        Case("torch tensors work as well as NumPy arrays",
              "use arithmetic and comparisons (* 1.0) that work for both, not np.where on tensors",
              _lif_case([0.1, 1.2], [1.3, 0.0], "zero", as_torch=True)),
        Case("40 random steps match labkit.neurons.lif_step (reset 'subtract')", hint_eq,
              _lif_sequence_case("subtract")),
        Case("40 random steps match labkit.neurons.lif_step (reset 'zero')",
              "check the 'zero' branch: beta * (1 - r) * u + I", _lif_sequence_case("zero")),
        Case("the inputs are not modified", "build new arrays (u = beta * u + ...) instead of u *= beta",
              _lif_unchanged),
    ]
    return run_cases("1.1", "lif_update", fn, cases, quiet=quiet)
