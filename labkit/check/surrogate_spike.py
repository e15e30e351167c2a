"""Exercise 4.2: the spike as a `torch.autograd.Function` with the arctangent surrogate."""

from __future__ import annotations

import numpy as np
import torch

from ..neurons import ATan, spike
from .core import (Case, CheckResult, Mismatch, exercise, expect_close, expect_equal, expect_unchanged, mistake, observe,
                   run_cases, show, snapshot)

__all__ = ["atan_spike"]


def _spike_forward_case(x, what):
    def run(fn):
        xt = torch.as_tensor(x, dtype=torch.float32)
        got = fn(xt.clone(), 2.0)
        if not isinstance(got, torch.Tensor):
            raise Mismatch("a tensor of spikes", f"{type(got).__name__} {show(got)}")
        if not got.is_floating_point():
            raise Mismatch("spikes as floats (0. and 1.)", f"dtype {got.dtype}")
        expect_equal(got, (xt > 0).float(), what)

    return run


def _spike_backward_case(alpha, weighted: bool, what):
    def run(fn):

        g = torch.Generator().manual_seed(11)
        x = (torch.randn(3, 7, generator=g, dtype=torch.float64) * 0.8).requires_grad_(True)
        upstream = torch.randn(3, 7, generator=g, dtype=torch.float64) if weighted else torch.ones(3, 7,
                                                                                                    dtype=torch.float64)
        spikes = fn(x, alpha)
        if not isinstance(spikes, torch.Tensor) or not spikes.requires_grad:
            raise Mismatch("spikes connected to the graph (forward called through ATanSpike.apply)",
                            "a result without a gradient path")
        (grad,) = torch.autograd.grad((spikes * upstream).sum(), x)
        observe(fn, grad)
        expect_close(grad, upstream * ATan(alpha).derivative(x.detach()), what, atol=1e-7)

    return run


def _spike_through_layer(fn):
    g = torch.Generator().manual_seed(12)
    inputs = (torch.rand(16, 9, generator=g) < 0.5).float()
    weight = torch.randn(5, 9, generator=g, requires_grad=True)
    target = torch.randn(16, 5, generator=g)
    (got,) = torch.autograd.grad(((fn(inputs @ weight.T - 1.0, 2.0) - target) ** 2).sum(), weight)
    observe(fn, got)
    (expected,) = torch.autograd.grad(((spike(inputs @ weight.T - 1.0, ATan(2.0)) - target) ** 2).sum(), weight)
    expect_close(got, expected, "dL/dW of a layer of spiking neurons", atol=1e-5)


def _spike_unchanged(fn):
    x = torch.tensor([-0.5, 0.5, 1.5])
    before = snapshot(x)
    fn(x, 2.0)
    expect_unchanged(before, [x], "x")


def labkit_atan_spike(x, alpha=2.0):
    """labkit's version of exercise 4.2: the spike with the arctangent surrogate, `labkit.neurons.spike` with `ATan`."""
    return spike(x, ATan(alpha))


@exercise("4.2", "(x, alpha) -> H(x) forward, grad · S'(x) backward (an autograd.Function)", fallback=labkit_atan_spike)
def atan_spike(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 4.2, ``atan_spike(x, alpha)``: Heaviside forward, arctangent surrogate backward."""
    cases = [
        Case("forward: 1. where x > 0, 0. elsewhere (x = 0 included)",
              "the forward pass is the exact step of chapter 1, returned as floats",
              _spike_forward_case([-1.0, -0.1, 0.0, 0.1, 2.0], "spikes"),
              formula="s = H(x): 1.0 where x > 0, else 0.0 (x = 0 gives 0.0), in x's dtype"),
        Case("forward keeps the shape of a 2-D tensor", "work on the whole tensor at once, element by element",
              _spike_forward_case(np.linspace(-1, 1, 12).reshape(3, 4), "spikes")),
        Case("backward: d(sum of spikes)/dx is the surrogate S'(x)",
              "backward only sees ctx and the incoming gradient: forward must keep x for it "
              "(ctx.save_for_backward)",
              _spike_backward_case(2.0, False, "dx"),
              formula="dL/dx = dL/ds · (α/2) / (1 + (π/2 · α · x)²), and None as the gradient for α"),
        Case("backward multiplies the gradient that arrives (the chain rule)",
              "backward receives dL/ds from the layers after the spike: the surrogate alone is not dL/dx",
              _spike_backward_case(2.0, True, "dx"), formula="dL/dx = grad_output · S'(x)"),
        Case("backward uses alpha", "forward can keep plain numbers on ctx for backward (ctx.alpha)",
              _spike_backward_case(10.0, True, "dx for alpha = 10")),
        Case("a layer of spiking neurons gets labkit's weight gradient",
              "the same surrogate as labkit.neurons.ATan(alpha)", _spike_through_layer),
        Case("x is not modified", "compute the spikes into a new tensor", _spike_unchanged),
    ]
    return run_cases("4.2", "atan_spike", fn, cases, quiet=quiet,
                     formula="forward: s = H(x) (1.0 where x > 0);  backward: dL/dx = grad_output · (α/2) / (1 + (π/2 · α · x)²)",
                     names=("x", "alpha"))


# ----------------------------------------------------------------------------- the mistakes students make


def _surrogate(x, alpha):
    return (alpha / 2) / (1 + (np.pi / 2 * alpha * x) ** 2)


def _spike_function(forward, backward):
    class Spike(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, alpha):
            ctx.save_for_backward(x)
            ctx.alpha = alpha
            return forward(x)

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return backward(grad_output, x, ctx.alpha), None

    return Spike


_GE = _spike_function(lambda x: (x >= 0).to(x.dtype), lambda g, x, a: g * _surrogate(x, a))
_NO_CHAIN = _spike_function(lambda x: (x > 0).to(x.dtype), lambda g, x, a: _surrogate(x, a))
_FIXED_ALPHA = _spike_function(lambda x: (x > 0).to(x.dtype), lambda g, x, a: g * _surrogate(x, 2.0))


@mistake("4.2", "a non-strict step (x >= 0)", "at x = 0 the membrane is exactly at the threshold: no spike, as in "
         "chapter 1's strict comparison")
def _spike_greater_equal(x, alpha):
    return _GE.apply(x, alpha)


@mistake("4.2", "backward ignores the incoming gradient", "backward returns dL/dx: the surrogate times the gradient "
         "that arrives from the layers after the spike (the chain rule)")
def _spike_no_chain_rule(x, alpha):
    return _NO_CHAIN.apply(x, alpha)


@mistake("4.2", "backward with a fixed alpha", "backward must use the alpha given to forward (keep it on ctx)")
def _spike_fixed_alpha(x, alpha):
    return _FIXED_ALPHA.apply(x, alpha)


@mistake("4.2", "a plain comparison without the autograd.Function", "a bare comparison has no gradient: the spike "
         "must go through your Function's apply, whose backward gives the surrogate")
def _spike_no_function(x, alpha):
    return (x > 0).to(x.dtype)


@mistake("4.2", "booleans instead of floats", "the forward pass returns spikes as 0.0 and 1.0 in x's dtype")
def _spike_bool(x, alpha):
    return x > 0
