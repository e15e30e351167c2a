"""Exercise 4.4: the paper's per-step cross-entropy read from the output spikes (the rate loss)."""

from __future__ import annotations

import numpy as np
import torch

from ..readout import rate_loss as labkit_rate_loss
from .core import Case, CheckResult, Mismatch, exercise, expect_close, mistake, numeric, observe, run_cases, show

__all__ = ["rate_loss"]


def _rate_reference(spikes, labels) -> float:
    """(1/T) Σ_t CE(s_t, y), the spikes of each step as logits, mean over steps and batch (independent of labkit)."""
    s = numeric(spikes, "spikes")
    shifted = s - s.max(axis=2, keepdims=True)
    log_softmax = shifted - np.log(np.exp(shifted).sum(axis=2, keepdims=True))
    labels = np.asarray(labels)
    return float(-log_softmax[:, np.arange(len(labels)), labels].mean())


def _rate_value_case(spikes, labels, what):
    def run(fn):
        s, y = torch.as_tensor(spikes, dtype=torch.float32), torch.as_tensor(labels)
        got = fn(s.clone(), y.clone())
        if not isinstance(got, torch.Tensor) or got.dim() != 0:
            raise Mismatch("a scalar tensor (0-dimensional)", show(got))
        expect_close(got, _rate_reference(s, y), what, atol=1e-5)

    return run


def _random_spikes(seed, steps=25, batch=16, classes=10):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(steps, batch, classes, generator=g) < 0.3).float(), torch.randint(0, classes, (batch,), generator=g)


def _rate_gradient(fn):
    spikes, labels = _random_spikes(31)
    spikes.requires_grad_(True)
    got = fn(spikes, labels)
    if not isinstance(got, torch.Tensor) or not got.requires_grad:
        raise Mismatch("a loss connected to the spikes (differentiable)", "a result without a gradient path")
    (grad,) = torch.autograd.grad(got, spikes)
    observe(fn, grad)
    reference = spikes.detach().clone().requires_grad_(True)
    (expected,) = torch.autograd.grad(labkit_rate_loss(reference, labels), reference)
    expect_close(grad, expected, "dL/ds", atol=1e-7)


def _rate_labkit(fn):
    spikes, labels = _random_spikes(32, steps=25, batch=64)
    expect_close(fn(spikes, labels), labkit_rate_loss(spikes, labels), "loss", atol=1e-5)


@exercise("4.4", "(output_spikes, labels) -> (1/T) sum_t CE(s_t, y)", fallback=labkit_rate_loss)
def rate_loss(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 4.4, ``rate_loss(output_spikes, labels) -> (1/T) Σ_t CE(s_t, y)``, mean over the batch."""
    silent = np.zeros((25, 2, 10))
    alone = np.zeros((25, 2, 10))
    alone[:, 0, 3], alone[:10, 1, 7], alone[:4, 1, 2] = 1.0, 1.0, 1.0
    cases = [
        Case("ten silent neurons: the uniform softmax at every step, ln 10",
             "the logits of step t are that step's ten output spikes",
             _rate_value_case(silent, [3, 5], "loss"),
             formula="L = (1/T) Σ_t CE(s_t, y) with CE(s, y) = −log(e^{s_y} / Σ_k e^{s_k}), mean over the batch"),
        Case("known spikes: one neuron firing at every step, another at some steps",
             "one cross-entropy per step and digit, averaged over both (the labels repeat at every step)",
             _rate_value_case(alone, [3, 2], "loss"),
             formula="reshape the spikes to [T·B, classes] and repeat the labels T times, in the same order"),
        Case("random spikes: labkit's rate_loss", "average over the T steps and the B digits, not a sum",
             _rate_labkit),
        Case("the gradient reaches the spikes", "use torch operations only (no .item(), no NumPy): the surrogate "
             "carries the gradient on from the spikes", _rate_gradient),
    ]
    return run_cases("4.4", "rate_loss", fn, cases, quiet=quiet,
                     formula="L = (1/T) Σ_t CE(s_t, y), the spikes of step t as logits, mean over the batch",
                     names=("output_spikes", "labels"))


# ----------------------------------------------------------------------------- the mistakes students make

_CE = torch.nn.functional.cross_entropy


@mistake("4.4", "a sum over time instead of the mean", "the paper's loss is the temporal AVERAGE: divide the sum "
         "over the T steps by T")
def _loss_sum_over_time(output_spikes, labels):
    return sum(_CE(s, labels) for s in output_spikes)


@mistake("4.4", "the cross-entropy of the spike counts", "the loss is one cross-entropy PER STEP, with that step's "
         "spikes as logits, averaged; not one cross-entropy of the summed counts")
def _loss_of_counts(output_spikes, labels):
    return _CE(output_spikes.sum(dim=0), labels)


@mistake("4.4", "a Python float instead of a tensor", ".item() (or NumPy) cuts the loss off from the graph: "
         "backward needs the tensor")
def _loss_item(output_spikes, labels):
    return (sum(_CE(s, labels) for s in output_spikes) / len(output_spikes)).item()


@mistake("4.4", "the labels repeated in the wrong order", "after flattening [T, B] into T·B rows the labels must "
         "repeat in the same order: the whole batch once per step")
def _loss_interleaved(output_spikes, labels):
    steps = output_spikes.shape[0]
    return _CE(output_spikes.reshape(-1, output_spikes.shape[-1]), labels.repeat_interleave(steps))


@mistake("4.4", "the cross-entropy of the mean spikes", "averaging the spikes first and taking one cross-entropy "
         "is not the mean of the per-step cross-entropies")
def _loss_of_mean(output_spikes, labels):
    return _CE(output_spikes.mean(dim=0), labels)
