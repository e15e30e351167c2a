"""Exercise 7.1: counting effective synaptic operations (NeuroBench's definition)."""

from __future__ import annotations

import numbers

import torch

from ..energy import effective_synaptic_ops
from .core import Case, CheckResult, Mismatch, run_cases, show

__all__ = ["count_synaptic_ops"]


def _ops_case(spikes, weight, expected, what):
    def run(fn):
        got = fn(torch.as_tensor(spikes, dtype=torch.float32), torch.as_tensor(weight, dtype=torch.float32))
        if isinstance(got, bool) or not isinstance(got, numbers.Integral):
            raise Mismatch("a Python int", f"{type(got).__name__} {show(got)} (convert with int(...))")
        if int(got) != expected:
            raise Mismatch(f"{what} = {expected}", str(int(got)))

    return run


def _ops_random(fn):
    g = torch.Generator().manual_seed(0)
    spikes = (torch.rand(25, 4, 30, generator=g) < 0.2).float()
    weight = torch.randn(12, 30, generator=g) * (torch.rand(12, 30, generator=g) < 0.7)
    _ops_case(spikes, weight, effective_synaptic_ops(spikes, weight), "labkit.energy.effective_synaptic_ops")(fn)


_TINY_W = [[0.5, 0.0, 1.2], [0.7, 0.3, 0.0]]
_TINY_S = [[1.0, 0, 1], [0.0, 1, 0], [1.0, 1, 1], [0.0, 0, 0]]


def count_synaptic_ops(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 7.1, ``count_synaptic_ops(spikes[..., n_in], weight[n_out, n_in]) -> int``."""
    cases = [
        Case("returns a Python int", "wrap the final sum in int(...)", _ops_case(_TINY_S, _TINY_W, 8, "the count")),
        Case("chapter 7's tiny example: 8 accumulates", "spikes of each input × non-zero weights in its column, summed",
              _ops_case(_TINY_S, _TINY_W, 8, "synaptic ops")),
        Case("no spikes, no operations", "count spikes, not time steps", _ops_case([[0.0, 0, 0]] * 3, _TINY_W, 0,
                                                                                    "synaptic ops")),
        Case("a zero column (pruned input) costs nothing", "count NON-ZERO weights per column: (weight != 0)",
              _ops_case([[1.0, 1.0]], [[0.0, 2.0], [0.0, 1.0], [0.0, 0.5]], 3, "synaptic ops")),
        Case("negative weights count as synapses", "use weight != 0, not weight > 0",
              _ops_case([[1.0, 1.0]], [[-1.0, 2.0], [0.5, -0.5]], 4, "synaptic ops")),
        Case("weights are [n_out, n_in]: a column belongs to one input", "count along dim 0 of weight (its columns)",
              _ops_case([[1.0, 0.0, 0.0]], [[1.0, 0.0, 0.0], [1.0, 1.0, 1.0]], 2, "synaptic ops")),
        Case("[T, B, n_in] spikes agree with labkit.energy.effective_synaptic_ops",
              "flatten all leading dimensions: spikes.reshape(-1, n_in)", _ops_random),
    ]
    return run_cases("7.1", "count_synaptic_ops", fn, cases, quiet=quiet)
