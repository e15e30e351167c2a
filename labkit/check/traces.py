"""Exercise 3.1: one step of an exponential spike trace."""

from __future__ import annotations

import numpy as np
import torch

from ..stdp import traces
from .core import Case, CheckResult, expect_close, expect_unchanged, numeric, run_cases, snapshot

__all__ = ["trace_step"]


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


def trace_step(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 3.1, ``trace_step(trace, spikes, decay) -> decay * trace + spikes``."""
    cases = [
        Case("from zero, the trace equals the spikes", "x_t = decay * x_{t-1} + s_t with x_{t-1} = 0",
              _trace_case([0.0, 0.0, 0.0], [1.0, 0.0, 1.0], 0.9)),
        Case("without spikes the trace decays by the factor decay", "multiply the old trace by decay",
              _trace_case([1.0, 0.5], [0.0, 0.0], 0.8)),
        Case("a spike adds 1 on top of the decayed trace", "add the spikes after decaying, do not reset the trace",
              _trace_case([[2.0, 0.3], [0.0, 1.0]], [[1.0, 1.0], [0.0, 1.0]], 0.5)),
        Case("NumPy arrays work too", "plain arithmetic works for arrays and tensors alike",
              _trace_case([0.4, 0.0], [1.0, 1.0], 0.25, as_numpy=True)),
        Case("30 steps match labkit.stdp.traces", "return the new trace; the next call receives it",
              _trace_unrolled),
        Case("the inputs are not modified", "return decay * trace + spikes instead of trace *= decay",
              _trace_unchanged),
    ]
    return run_cases("3.1", "trace_step", fn, cases, quiet=quiet)
