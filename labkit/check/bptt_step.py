"""Exercise 4.3: one step of backpropagation through time with an optimiser.

`tiny_network` and `tiny_batch` (a small network and spike batches) are shared with the A-STDP step
of exercise 5.3."""

from __future__ import annotations

import numbers

import torch

from ..models import SpikingMLP
from ..training import paper_loss
from .core import Case, CheckResult, Mismatch, exercise, expect_close, mistake, run_cases, show

__all__ = ["train_step"]


def tiny_network(seed: int = 0):
    return SpikingMLP((20, 16, 4), seed=seed)


def tiny_batch(seed: int = 0, steps: int = 8, batch: int = 12):
    g = torch.Generator().manual_seed(100 + seed)
    inputs = (torch.rand(steps, batch, 20, generator=g) < 0.4).float()
    labels = torch.randint(0, 4, (batch,), generator=g)
    return inputs, labels


def _membrane_loss(output, labels):
    return paper_loss(output.out_membrane, labels)


def _count_loss(output, labels):
    return torch.nn.functional.cross_entropy(output.out_spikes.sum(dim=0), labels)

def _step_case(steps: int, loss_fn=_membrane_loss, optimizer="adam", what="weights"):
    def run(fn):
        student, ours = tiny_network(), tiny_network()
        make = (lambda m: torch.optim.Adam(m.parameters(), lr=1e-2)) if optimizer == "adam" else \
            (lambda m: torch.optim.SGD(m.parameters(), lr=0.5))
        opt_s, opt_r = make(student), make(ours)
        for k in range(steps):
            inputs, labels = tiny_batch(k)
            expected = labkit_train_step(ours, opt_r, inputs, labels, loss_fn)
            got = fn(student, opt_s, inputs, labels, loss_fn)
            if isinstance(got, torch.Tensor):
                raise Mismatch("the loss as a Python float", f"a tensor {show(got)} (use loss.item())")
            if isinstance(got, bool) or not isinstance(got, numbers.Real):
                raise Mismatch("the loss as a Python float", f"{type(got).__name__} {show(got)}")
            expect_close(got, expected, f"the loss of batch {k + 1} (before its update)", atol=1e-6)
            for (name, p_s), p_r in zip(student.named_parameters(), ours.parameters()):
                expect_close(p_s.detach(), p_r.detach(), f"{what}: {name} after step {k + 1}", atol=1e-6)

    return run


def labkit_train_step(model, optimizer, inputs, labels, loss_fn) -> float:
    """labkit's version of exercise 4.3: one BPTT step (zero the gradients, forward, loss, backward, optimiser step);
    the loss."""
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), labels)
    loss.backward()
    optimizer.step()
    return loss.item()


@exercise("4.3", "(model, optimizer, inputs, labels, loss_fn) -> loss (one BPTT update)", fallback=labkit_train_step)
def train_step(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 4.3, ``train_step(model, optimizer, inputs, labels, loss_fn) -> float``."""
    cases = [
        Case("one step: returns the batch's loss and updates the weights like backward() + step()",
              "one step is: forward pass, loss, gradients by backpropagation, the optimiser's update",
              _step_case(1),
              formula="output = model(inputs); L = loss_fn(output, labels); backward() on L fills every .grad; "
                      "the optimiser's step updates W; return L as a Python float (.item())"),
        Case("three steps in a row",
              "PyTorch adds each backward's gradients to the ones already stored in .grad",
              _step_case(3), formula="clear the stored gradients (the optimiser's zero_grad) before each backward"),
        Case("uses the loss function it is given (here a spike-count loss)",
              "compute the loss with the loss_fn argument, called on the model's output and the labels",
              _step_case(2, loss_fn=_count_loss)),
        Case("works with any optimizer (SGD)", "use only the optimiser's own zero_grad and step",
              _step_case(2, optimizer="sgd")),
    ]
    return run_cases("4.3", "train_step", fn, cases, quiet=quiet, formula=_STEP, shared=(0, 1),
                     names=("model", "optimizer", "inputs", "labels", "loss_fn"))


_STEP = ("zero the gradients; output = model(inputs); L = loss_fn(output, labels); L.backward(); optimizer.step(); "
         "return L as a Python float")


# ----------------------------------------------------------------------------- the mistakes students make


@mistake("4.3", "a missing zero_grad: the gradients pile up", "PyTorch ADDS each backward's gradients to those "
         "already in .grad: clear them with the optimiser before every backward")
def _step_no_zero_grad(model, optimizer, inputs, labels, loss_fn):
    loss = loss_fn(model(inputs), labels)
    loss.backward()
    optimizer.step()
    return loss.item()


@mistake("4.3", "the gradients cleared after backward", "zero_grad between backward and step throws this batch's "
         "gradients away, and step then has nothing to do: clear them BEFORE the backward pass")
def _step_zero_grad_late(model, optimizer, inputs, labels, loss_fn):
    loss = loss_fn(model(inputs), labels)
    loss.backward()
    optimizer.zero_grad()
    optimizer.step()
    return loss.item()


@mistake("4.3", "the loss returned as a tensor", "the loop logs numbers: return the loss as a Python float (a "
         "tensor would also keep its whole graph alive)")
def _step_tensor(model, optimizer, inputs, labels, loss_fn):
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), labels)
    loss.backward()
    optimizer.step()
    return loss.detach()


@mistake("4.3", "a loss of your own instead of loss_fn", "use the loss function you are given, called on the "
         "model's output and the labels")
def _step_own_loss(model, optimizer, inputs, labels, loss_fn):
    optimizer.zero_grad()
    loss = _membrane_loss(model(inputs), labels)
    loss.backward()
    optimizer.step()
    return loss.item()


@mistake("4.3", "the loss measured after the update", "return the loss of the forward pass that gave the "
         "gradients, before the weights changed")
def _step_loss_after(model, optimizer, inputs, labels, loss_fn):
    optimizer.zero_grad()
    loss_fn(model(inputs), labels).backward()
    optimizer.step()
    with torch.no_grad():
        return loss_fn(model(inputs), labels).item()


@mistake("4.3", "a hand-written update instead of the optimiser", "W -= lr · grad is plain SGD: let the optimiser "
         "you are given (Adam here) make the step")
def _step_by_hand(model, optimizer, inputs, labels, loss_fn):
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), labels)
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            if p.grad is not None:
                p -= optimizer.param_groups[0]["lr"] * p.grad
    return loss.item()
