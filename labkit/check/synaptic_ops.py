"""Exercise 7.1: counting effective synaptic operations (NeuroBench's definition)."""

from __future__ import annotations

import numbers

import torch

from ..energy import effective_synaptic_ops
from .core import Case, CheckResult, Mismatch, exercise, mistake, run_cases, show

__all__ = ["count_synaptic_ops"]


def _ops_case(spikes, weight, expected, what):
    def run(fn):
        got = fn(torch.as_tensor(spikes, dtype=torch.float32), torch.as_tensor(weight, dtype=torch.float32))
        try:
            value = float(got)  # the count first: a wrong number is the thing to fix, whatever its type
        except (TypeError, ValueError, RuntimeError):
            raise Mismatch(f"{what} = {expected}, one number", f"{type(got).__name__} {show(got)}") from None
        if value != expected:
            raise Mismatch(f"{what} = {expected}", f"{value:g}")
        if isinstance(got, bool) or not isinstance(got, numbers.Integral):
            raise Mismatch(f"{what} = {expected} as a Python int", f"the right count as {type(got).__name__} {show(got)}")

    return run


def _ops_random(fn):
    g = torch.Generator().manual_seed(0)
    spikes = (torch.rand(25, 4, 30, generator=g) < 0.2).float()
    weight = torch.randn(12, 30, generator=g) * (torch.rand(12, 30, generator=g) < 0.7)
    _ops_case(spikes, weight, effective_synaptic_ops(spikes, weight), "labkit.energy.effective_synaptic_ops")(fn)


_TINY_W = [[0.5, 0.0, 1.2], [0.7, 0.3, 0.0]]
_TINY_S = [[1.0, 0, 1], [0.0, 1, 0], [1.0, 1, 1], [0.0, 0, 0]]


@exercise("7.1", "(spikes, weight) -> int", fallback=effective_synaptic_ops)
def count_synaptic_ops(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 7.1, ``count_synaptic_ops(spikes[..., n_in], weight[n_out, n_in]) -> int``."""
    cases = [
        Case("chapter 7's tiny example: 8 accumulates, as a Python int",
             "each spike of an input costs one accumulate per non-zero weight in that input's column",
             _ops_case(_TINY_S, _TINY_W, 8, "synaptic ops")),
        Case("no spikes, no operations", "count spikes, not time steps", _ops_case([[0.0, 0, 0]] * 3, _TINY_W, 0,
                                                                                    "synaptic ops")),
        Case("a zero column (pruned input) costs nothing", "only NON-ZERO weights are synapses",
              _ops_case([[1.0, 1.0]], [[0.0, 2.0], [0.0, 1.0], [0.0, 0.5]], 3, "synaptic ops")),
        Case("negative weights count as synapses", "a weight is a synapse when it is not zero, whatever its sign",
              _ops_case([[1.0, 1.0]], [[-1.0, 2.0], [0.5, -0.5]], 4, "synaptic ops")),
        Case("weights are [n_out, n_in]: a column belongs to one input", "count each input's synapses down its "
             "column of weight (dimension 0)",
              _ops_case([[1.0, 0.0, 0.0]], [[1.0, 0.0, 0.0], [1.0, 1.0, 1.0]], 2, "synaptic ops")),
        Case("[T, B, n_in] spikes agree with labkit.energy.effective_synaptic_ops",
              "every leading dimension (time, batch) is just more spikes of the same inputs", _ops_random),
    ]
    return run_cases("7.1", "count_synaptic_ops", fn, cases, quiet=quiet,
                     formula="ops = Σ_i (number of spikes of input i over all steps and samples) · (number of non-zero "
                             "weights in column i of weight), as a Python int", names=("spikes", "weight"))


# ----------------------------------------------------------------------------- the mistakes students make


def _per_input(spikes, weight):
    return (spikes != 0).reshape(-1, weight.shape[1]).sum(0)


@mistake("7.1", "only positive weights counted", "an inhibitory (negative) weight is a synapse too: every "
         "non-zero weight costs an accumulate")
def _ops_positive_only(spikes, weight):
    return int((_per_input(spikes, weight) * (weight > 0).sum(0)).sum())


@mistake("7.1", "a tensor instead of an int", "the count is right, but a 0-dimensional tensor: return a plain "
         "Python int")
def _ops_tensor(spikes, weight):
    return (_per_input(spikes, weight) * (weight != 0).sum(0)).sum()


@mistake("7.1", "every spike times every synapse", "a spike of input i reaches only the synapses in ITS column, "
         "not all synapses of the layer")
def _ops_all_synapses(spikes, weight):
    return int(spikes.sum() * (weight != 0).sum())


@mistake("7.1", "time steps counted instead of spikes", "a silent input costs nothing: count its spikes, not "
         "the steps")
def _ops_steps(spikes, weight):
    steps = spikes.reshape(-1, weight.shape[1]).shape[0]
    return int(steps * (weight != 0).sum())


@mistake("7.1", "rows counted instead of columns", "weight is [n_out, n_in]: an input's synapses are the non-zero "
         "entries of its COLUMN")
def _ops_rows(spikes, weight):
    per_row = (weight != 0).sum(1)
    n = min(len(per_row), weight.shape[1])
    return int((_per_input(spikes, weight)[:n] * per_row[:n]).sum())
