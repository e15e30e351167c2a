"""Self-checks for the chapters' exercises.

Each exercise in the notebooks has a check of the same name::

    from labkit import check
    check.lif_update(lif_update)

A check runs the function on cases with known answers, from the ordinary to the edge cases,
and prints a verdict: which cases passed, the first one that failed (expected against got) and
a hint. It never prints a solution. A stub that still raises ``NotImplementedError`` gets
"not written yet" with the exercise's own message, not a traceback. The check returns a
`CheckResult` (``passed``, ``messages``) so that tests can inspect it.

Reference answers come from labkit's own functions where they exist (``lif_step``,
``traces``, ``ATan``, ``effective_synaptic_ops``, ``loihi.quantize.quantize_weights``) and
otherwise from short independent formulas written here.

| exercise | check | contract |
| --- | --- | --- |
| 1.1 | `lif_update` | ``(current, membrane, beta, threshold, reset) -> (spike, membrane)`` |
| 2.1 | `encode_rate_numpy` | ``(image, num_steps, rng) -> spikes [num_steps, *image.shape]`` |
| 3.1 | `trace_step` | ``(trace, spikes, decay) -> decay * trace + spikes`` |
| 4.1 | `atan_surrogate_grad` | ``(x, alpha) -> (alpha/2) / (1 + (pi/2 alpha x)^2)`` |
| 5.1 | `plasticity_coefficient_update` | ``(c, dw, grad, kappa) -> clip(c + kappa cos(dw, -grad), 0, 1)`` |
| 7.1 | `count_synaptic_ops` | ``(spikes, weight) -> int`` |
| 8.1 | `quantize_weights` | ``(w, bits) -> (mantissa, exponent)`` |
| 6.1 | `robustness_score` | ``({sigma: accuracy}) -> mean accuracy over the noise range`` |
| 9.1 | `pixel_events` | ``(log_intensity, threshold) -> signed event counts`` |
| 9.2 | `bin_events` | ``(events, num_bins, duration_us) -> counts [num_bins, 2, 34, 34]`` |
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch

from .checkcore import Case as _Case
from .checkcore import CheckResult, attempts, reset, run_cases, show, use
from .checkcore import Mismatch as _Mismatch

__all__ = [
    "CheckResult",
    "attempts",
    "reset",
    "use",
    "atan_surrogate_grad",
    "bin_events",
    "count_synaptic_ops",
    "encode_rate_numpy",
    "lif_update",
    "pixel_events",
    "plasticity_coefficient_update",
    "quantize_weights",
    "robustness_score",
    "trace_step",
]

# ----------------------------------------------------------------------------- helpers


def _to_numpy(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


_show = show


def _numeric(got, what: str) -> np.ndarray:
    try:
        a = _to_numpy(got)
    except (TypeError, ValueError, RuntimeError):
        raise _Mismatch(f"{what}: an array or tensor", _show(got)) from None
    if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        raise _Mismatch(f"{what}: an array or tensor of numbers", _show(got))
    return a.astype(np.float64)


def _expect_close(got, expected, what: str, *, atol: float = 1e-6, rtol: float = 1e-6) -> None:
    g, e = _numeric(got, what), np.asarray(_to_numpy(expected), dtype=np.float64)
    if g.shape != e.shape:
        raise _Mismatch(f"{what} of shape {tuple(e.shape)}", f"shape {tuple(g.shape)}: {_show(got)}")
    if not np.allclose(g, e, atol=atol, rtol=rtol, equal_nan=False):
        raise _Mismatch(f"{what} = {_show(e)}", _show(got))


def _expect_equal(got, expected, what: str) -> None:
    _expect_close(got, expected, what, atol=0.0, rtol=0.0)


def _expect_pair(got, what: tuple[str, str]) -> tuple:
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise _Mismatch(f"a pair ({what[0]}, {what[1]})", _show(got))
    return tuple(got)


def _snapshot(*xs):
    return [x.clone() if isinstance(x, torch.Tensor) else np.array(x, copy=True) for x in xs]


def _expect_unchanged(before, after, names: str) -> None:
    for b, a in zip(before, after):
        same = torch.equal(b, a) if isinstance(b, torch.Tensor) else np.array_equal(b, a)
        if not same:
            raise _Mismatch(f"{names} left as they were", "an argument was modified in place")


_run = run_cases


# ----------------------------------------------------------------------------- 1.1 LIF step


def _lif_reference(current, membrane, beta, threshold, reset):
    from .neurons import LIFParams, lif_step

    s, u = lif_step(torch.as_tensor(current, dtype=torch.float64), torch.as_tensor(membrane, dtype=torch.float64),
                    LIFParams(beta=beta, threshold=threshold, reset=reset))
    return s.numpy(), u.numpy()


def _lif_case(current, membrane, reset, beta=0.9, threshold=1.0, *, as_torch=False):
    def run(fn):
        cur = np.asarray(current, dtype=np.float64)
        mem = np.asarray(membrane, dtype=np.float64)
        args = (torch.from_numpy(cur), torch.from_numpy(mem)) if as_torch else (cur, mem)
        s, u = _expect_pair(fn(*args, beta, threshold, reset), ("spike", "membrane"))
        s_ref, u_ref = _lif_reference(cur, mem, beta, threshold, reset)
        _expect_close(u, u_ref, "membrane", atol=1e-9)
        _expect_equal(s, s_ref, "spike")

    return run


def _lif_sequence_case(reset):
    def run(fn):
        rng = np.random.default_rng(3)  # the same drive as chapter 1's comparison
        u, u_ref = np.zeros(5), np.zeros(5)
        for t, current in enumerate(0.3 + 0.5 * rng.standard_normal((40, 5))):
            s, u = _expect_pair(fn(current, u, 0.9, 1.0, reset), ("spike", "membrane"))
            s_ref, u_ref = _lif_reference(current, u_ref, 0.9, 1.0, reset)
            _expect_close(u, u_ref, f"membrane at step {t}", atol=1e-9)
            _expect_equal(s, s_ref, f"spikes at step {t}")
            u = _numeric(u, "membrane")

    return run


def _lif_unchanged(fn):
    cur, mem = np.array([0.5, 0.2]), np.array([1.4, 0.3])
    before = _snapshot(cur, mem)
    fn(cur, mem, 0.9, 1.0, "subtract")
    _expect_unchanged(before, [cur, mem], "current and membrane")


def lif_update(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 1.1, ``lif_update(current, membrane, beta, threshold, reset) -> (spike, membrane)``."""
    hint_eq = "u_t = beta * u_{t-1} + I_t when the previous membrane was not above threshold"
    cases = [
        _Case("no spike below threshold: u = beta*u + I", hint_eq, _lif_case([0.2, 0.5], [0.0, 0.4], "subtract")),
        _Case("crossing the threshold makes a spike",
              "the spike is H(u_t - threshold) of the new membrane, and the membrane you return is u_t BEFORE "
              "its reset (the reset comes at the next step, from the membrane passed in)",
              _lif_case([0.7], [0.5], "subtract")),
        _Case("reset 'subtract' removes the threshold once the previous membrane was above it",
              "the reset uses r = H(u_{t-1} - threshold), the OLD membrane, and subtracts threshold * r",
              _lif_case([0.1, 0.0, 0.3], [1.3, 2.5, 0.2], "subtract")),
        _Case("reset 'zero' forgets the membrane after a spike",
              "for 'zero' the new membrane is beta * (1 - r) * u_{t-1} + I_t (the input still arrives)",
              _lif_case([0.1, 0.0, 0.3], [1.3, 2.5, 0.2], "zero")),
        _Case("exactly at threshold is not a spike (strict >)",
              "use u > threshold, not >=, both for the spike and for the reset",
              _lif_case([1.0, 0.0], [0.0, 1.0], "subtract", beta=1.0)),
        _Case("other beta and threshold", "use the beta and threshold arguments, not 0.9 and 1.0",
              _lif_case([0.4, 1.5, 0.0], [2.2, 0.1, 0.0], "subtract", beta=0.5, threshold=2.0)),
        _Case("torch tensors work as well as NumPy arrays",
              "use arithmetic and comparisons (* 1.0) that work for both, not np.where on tensors",
              _lif_case([0.1, 1.2], [1.3, 0.0], "zero", as_torch=True)),
        _Case("40 random steps match labkit.neurons.lif_step (reset 'subtract')", hint_eq,
              _lif_sequence_case("subtract")),
        _Case("40 random steps match labkit.neurons.lif_step (reset 'zero')",
              "check the 'zero' branch: beta * (1 - r) * u + I", _lif_sequence_case("zero")),
        _Case("the inputs are not modified", "build new arrays (u = beta * u + ...) instead of u *= beta",
              _lif_unchanged),
    ]
    return _run("1.1", "lif_update", fn, cases, quiet=quiet)


# ----------------------------------------------------------------------------- 2.1 rate coding


def _encoded(fn, image, num_steps, seed) -> np.ndarray:
    return _numeric(fn(image, num_steps, np.random.default_rng(seed)), "spikes")


def _rate_shape(fn):
    image = np.linspace(0.0, 1.0, 12).reshape(3, 4)
    got = _encoded(fn, image, 7, 0)
    if got.shape != (7, 3, 4):
        raise _Mismatch("shape (7, 3, 4) for 7 steps of a 3×4 image", f"shape {got.shape}")


def _rate_binary(fn):
    got = _encoded(fn, np.full((4, 4), 0.5), 50, 1)
    if not np.isin(got, (0.0, 1.0)).all():
        raise _Mismatch("only 0 and 1", f"values {_show(np.unique(got))}")


def _rate_extremes(fn):
    image = np.array([[0.0, 1.0], [0.0, 1.0]])
    got = _encoded(fn, image, 100, 2)
    if got[:, image == 0].any():
        raise _Mismatch("black pixels (0.0) never fire", f"{int(got[:, image == 0].sum())} spikes from black pixels")
    if not got[:, image == 1].all():
        raise _Mismatch("white pixels (1.0) fire at every step",
                        f"{int((got[:, image == 1] == 0).sum())} silent steps of white pixels")


def _rate_statistics(fn):
    image = np.array([0.05, 0.2, 0.5, 0.8, 0.95])
    steps = 4000
    rates = _encoded(fn, image, steps, 3).mean(axis=0)
    sigma = np.sqrt(image * (1 - image) / steps)  # binomial standard deviation of each rate
    if rates.shape != image.shape or not (np.abs(rates - image) <= 5 * sigma).all():
        raise _Mismatch(f"firing rates within 5 sigma of {_show(image)}", _show(rates))


def _rate_seeded(fn):
    image = np.full((5, 5), 0.4)
    a, b = _encoded(fn, image, 20, 4), _encoded(fn, image, 20, 4)
    if not np.array_equal(a, b):
        raise _Mismatch("the same spikes from two generators with the same seed", "different spikes")
    c = _encoded(fn, image, 20, 5)
    if np.array_equal(a, c):
        raise _Mismatch("different spikes from a different seed", "the same spikes")


def _rate_fresh_draws(fn):
    got = _encoded(fn, np.full((6,), 0.5), 200, 6)
    if all(np.array_equal(got[0], row) for row in got[1:]):
        raise _Mismatch("a fresh random draw at every step", "the same spikes at every step")


def encode_rate_numpy(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 2.1, ``encode_rate_numpy(image, num_steps, rng) -> spikes[num_steps, *image.shape]``."""
    cases = [
        _Case("shape (num_steps, *image.shape)", "draw rng.random((num_steps, *image.shape))", _rate_shape),
        _Case("only 0 and 1", "compare the random numbers with the image and turn the booleans into floats",
              _rate_binary),
        _Case("black never fires, white always fires", "a spike where the uniform number is BELOW the intensity",
              _rate_extremes),
        _Case("each pixel fires at a rate equal to its intensity",
              "P(uniform < x) = x: compare each step's uniform numbers with the intensity", _rate_statistics),
        _Case("randomness comes only from rng", "use the rng argument (rng.random), never np.random.* or a fixed seed",
              _rate_seeded),
        _Case("a new draw at every time step", "draw one uniform number per step AND pixel, not one per pixel",
              _rate_fresh_draws),
    ]
    return _run("2.1", "encode_rate_numpy", fn, cases, quiet=quiet)


# ----------------------------------------------------------------------------- 3.1 traces


def _trace_case(trace, spikes, decay, *, as_numpy=False):
    def run(fn):
        x = np.asarray(trace, dtype=np.float64) if as_numpy else torch.tensor(trace, dtype=torch.float64)
        s = np.asarray(spikes, dtype=np.float64) if as_numpy else torch.tensor(spikes, dtype=torch.float64)
        expected = decay * np.asarray(trace, dtype=np.float64) + np.asarray(spikes, dtype=np.float64)
        _expect_close(fn(x, s, decay), expected, "trace")

    return run


def _trace_unrolled(fn):
    from .plasticity import traces

    spikes = (torch.rand(30, 2, 4, generator=torch.Generator().manual_seed(0)) < 0.3).double()
    x, unrolled = torch.zeros_like(spikes[0]), []
    for s in spikes:
        x = fn(x, s, 0.8)
        unrolled.append(_numeric(x, "trace"))
    _expect_close(np.stack(unrolled), traces(spikes, 0.8), "30 steps of traces (labkit.plasticity.traces)")


def _trace_unchanged(fn):
    x, s = torch.tensor([0.5, 1.0]), torch.tensor([1.0, 0.0])
    before = _snapshot(x, s)
    fn(x, s, 0.5)
    _expect_unchanged(before, [x, s], "trace and spikes")


def trace_step(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 3.1, ``trace_step(trace, spikes, decay) -> decay * trace + spikes``."""
    cases = [
        _Case("from zero, the trace equals the spikes", "x_t = decay * x_{t-1} + s_t with x_{t-1} = 0",
              _trace_case([0.0, 0.0, 0.0], [1.0, 0.0, 1.0], 0.9)),
        _Case("without spikes the trace decays by the factor decay", "multiply the old trace by decay",
              _trace_case([1.0, 0.5], [0.0, 0.0], 0.8)),
        _Case("a spike adds 1 on top of the decayed trace", "add the spikes after decaying, do not reset the trace",
              _trace_case([[2.0, 0.3], [0.0, 1.0]], [[1.0, 1.0], [0.0, 1.0]], 0.5)),
        _Case("NumPy arrays work too", "plain arithmetic works for arrays and tensors alike",
              _trace_case([0.4, 0.0], [1.0, 1.0], 0.25, as_numpy=True)),
        _Case("30 steps match labkit.plasticity.traces", "return the new trace; the next call receives it",
              _trace_unrolled),
        _Case("the inputs are not modified", "return decay * trace + spikes instead of trace *= decay",
              _trace_unchanged),
    ]
    return _run("3.1", "trace_step", fn, cases, quiet=quiet)


# ----------------------------------------------------------------------------- 4.1 surrogate


def _atan_case(x, alpha, what):
    def run(fn):
        from .neurons import ATan

        xt = torch.as_tensor(x, dtype=torch.float64)
        _expect_close(fn(xt, alpha), ATan(alpha).derivative(xt), what, atol=1e-7)

    return run


def _atan_finite_difference(fn):
    x = torch.linspace(-1.5, 1.5, 13, dtype=torch.float64)
    h, alpha = 1e-5, 3.0
    primitive = lambda v: 0.5 + torch.atan(math.pi / 2 * alpha * v) / math.pi  # noqa: E731
    _expect_close(fn(x, alpha), (primitive(x + h) - primitive(x - h)) / (2 * h),
                  "the derivative of 1/2 + arctan(pi/2 * alpha * x) / pi", atol=1e-6)


def atan_surrogate_grad(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 4.1, ``atan_surrogate_grad(x, alpha) -> (alpha/2) / (1 + (pi/2 · alpha · x)^2)``."""
    cases = [
        _Case("the peak at x = 0 is alpha/2", "at x = 0 the denominator is 1, so the value is alpha / 2",
              _atan_case([0.0], 2.0, "value at 0")),
        _Case("values on [-2, 2] for alpha = 2", "square (pi/2 * alpha * x), add 1, divide alpha/2 by it",
              _atan_case(np.linspace(-2, 2, 9), 2.0, "surrogate")),
        _Case("other alphas (0.5 and 10)", "use the alpha argument both in the numerator and inside the square",
              lambda fn: (_atan_case(np.linspace(-1, 1, 7), 0.5, "surrogate, alpha = 0.5")(fn),
                          _atan_case(np.linspace(-1, 1, 7), 10.0, "surrogate, alpha = 10")(fn))),
        _Case("element-wise on a 2-D tensor", "use tensor arithmetic, no loop or .item()",
              _atan_case(np.linspace(-1, 1, 12).reshape(3, 4), 2.0, "surrogate")),
        _Case("agrees with a finite difference of the arctangent", "(alpha / 2) / (1 + (math.pi / 2 * alpha * x) ** 2)",
              _atan_finite_difference),
    ]
    return _run("4.1", "atan_surrogate_grad", fn, cases, quiet=quiet)


# ----------------------------------------------------------------------------- 5.1 A-STDP coefficient


def _coefficient_reference(c, dw, grad, kappa):
    """clip(c + κ cos(ΔW[j], −∇[j]), 0, 1), cosine 0 for a zero row (independent of labkit.rules)."""
    c, dw, grad = (np.asarray(v, dtype=np.float64) for v in (c, dw, grad))
    dot = (dw * -grad).sum(axis=1)
    norms = np.linalg.norm(dw, axis=1) * np.linalg.norm(grad, axis=1)
    cosine = np.divide(dot, norms, out=np.zeros_like(dot), where=norms > 0)
    return np.clip(c + kappa * cosine, 0.0, 1.0)


def _coefficient_case(c, dw, grad, kappa, what):
    def run(fn):
        args = [torch.tensor(v, dtype=torch.float32) for v in (c, dw, grad)]
        _expect_close(fn(*args, kappa), _coefficient_reference(c, dw, grad, kappa), what, atol=1e-5)

    return run


def _coefficient_random(fn):
    g = torch.Generator().manual_seed(5)
    c = torch.rand(20, generator=g)
    dw, grad = torch.randn(20, 30, generator=g), torch.randn(20, 30, generator=g)
    dw[3] = 0.0
    _expect_close(fn(c, dw, grad, 0.3), _coefficient_reference(c, dw, grad, 0.3), "coefficients", atol=1e-5)


def _coefficient_unchanged(fn):
    c, dw, grad = torch.tensor([0.5, 0.5]), torch.tensor([[1.0, 0.0], [0.0, 1.0]]), torch.tensor([[-1.0, 0.0], [0.0, 1.0]])
    before = _snapshot(c, dw, grad)
    fn(c, dw, grad, 0.2)
    _expect_unchanged(before, [c, dw, grad], "c, dw and grad")


def plasticity_coefficient_update(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 5.1, ``plasticity_coefficient_update(c, dw, grad, kappa) -> clip(c + κ cos(dw, −grad), 0, 1)``."""
    cases = [
        _Case("agreeing rows gain kappa, opposing rows lose it, orthogonal rows keep c",
              "compare dw with MINUS grad: gradient descent moves the weights along -grad",
              _coefficient_case([0.5, 0.5, 0.5], [[-2.0, 0.0], [2.0, 0.0], [0.0, 5.0]],
                                [[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]], 0.2, "coefficients")),
        _Case("the cosine ignores the lengths of the rows", "divide the dot product by both row norms",
              _coefficient_case([0.5, 0.5], [[3.0, 4.0], [0.1, 0.0]], [[-6.0, -8.0], [-1.0, -1.0]], 0.1,
                                "coefficients")),
        _Case("the result is clipped to [0, 1]", "clamp the new coefficients to [0, 1]",
              _coefficient_case([1.0, 0.1], [[0.0, -1.0], [0.0, 1.0]], [[0.0, 2.0], [0.0, 1.0]], 0.2,
                                "coefficients")),
        _Case("a row of zeros (silent neuron or zero gradient) keeps its c, no NaN",
              "where the product of the norms is 0, use a cosine of 0 (torch.where, or a small eps)",
              _coefficient_case([0.5, 0.3], [[0.0, 0.0], [1.0, 1.0]], [[3.0, 4.0], [0.0, 0.0]], 0.2,
                                "coefficients")),
        _Case("20 random rows match the formula", "one cosine per ROW (dim=1), one coefficient per postsynaptic neuron",
              _coefficient_random),
        _Case("the inputs are not modified", "return a new tensor: (c + kappa * cosine).clamp(0, 1), not c.add_()",
              _coefficient_unchanged),
    ]
    return _run("5.1", "plasticity_coefficient_update", fn, cases, quiet=quiet)


# ----------------------------------------------------------------------------- 6.1 robustness score


def _robustness_case(curve, what="score"):
    def run(fn):
        sigmas = sorted(curve)
        accuracies = [curve[s] for s in sigmas]
        # trapezoidal mean: Σ (σ_{k+1} − σ_k)(a_k + a_{k+1})/2 / (σ_max − σ_min)
        area = sum((s1 - s0) * (a0 + a1) / 2 for s0, s1, a0, a1 in zip(sigmas, sigmas[1:], accuracies, accuracies[1:]))
        got = fn(dict(curve))
        if isinstance(got, bool) or not isinstance(got, numbers.Real):
            raise _Mismatch("a float", f"{type(got).__name__} {_show(got)}")
        _expect_close(got, area / (sigmas[-1] - sigmas[0]), what, atol=1e-9)

    return run


def robustness_score(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 6.1, ``robustness_score({sigma: accuracy}) -> trapezoidal mean accuracy over sigma``."""
    cases = [
        _Case("a flat curve scores its accuracy", "divide the area by sigma_max - sigma_min",
              _robustness_case({0.0: 90.0, 0.3: 90.0})),
        _Case("two levels: the mean of the two accuracies", "trapezoid: (sigma[k+1] - sigma[k]) * (a[k] + a[k+1]) / 2",
              _robustness_case({0.0: 98.0, 0.4: 80.0})),
        _Case("levels given out of order", "sort the noise levels before summing",
              _robustness_case({0.3: 85.0, 0.0: 97.0, 0.1: 95.0})),
        _Case("uneven spacing weighs each interval by its width", "multiply each trapezoid by its own width",
              _robustness_case({0.0: 97.5, 0.05: 97.0, 0.1: 96.0, 0.2: 93.0, 0.3: 88.4, 0.5: 70.0})),
        _Case("the range need not start at 0", "divide by sigma_max - sigma_min, not by sigma_max",
              _robustness_case({0.2: 90.0, 0.4: 80.0, 0.6: 60.0})),
    ]
    return _run("6.1", "robustness_score", fn, cases, quiet=quiet)


# ----------------------------------------------------------------------------- 7.1 synaptic operations


def _ops_case(spikes, weight, expected, what):
    def run(fn):
        got = fn(torch.as_tensor(spikes, dtype=torch.float32), torch.as_tensor(weight, dtype=torch.float32))
        if isinstance(got, bool) or not isinstance(got, numbers.Integral):
            raise _Mismatch("a Python int", f"{type(got).__name__} {_show(got)} (convert with int(...))")
        if int(got) != expected:
            raise _Mismatch(f"{what} = {expected}", str(int(got)))

    return run


def _ops_random(fn):
    from .energy import effective_synaptic_ops

    g = torch.Generator().manual_seed(0)
    spikes = (torch.rand(25, 4, 30, generator=g) < 0.2).float()
    weight = torch.randn(12, 30, generator=g) * (torch.rand(12, 30, generator=g) < 0.7)
    _ops_case(spikes, weight, effective_synaptic_ops(spikes, weight), "labkit.energy.effective_synaptic_ops")(fn)


_TINY_W = [[0.5, 0.0, 1.2], [0.7, 0.3, 0.0]]
_TINY_S = [[1.0, 0, 1], [0.0, 1, 0], [1.0, 1, 1], [0.0, 0, 0]]


def count_synaptic_ops(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 7.1, ``count_synaptic_ops(spikes[..., n_in], weight[n_out, n_in]) -> int``."""
    cases = [
        _Case("returns a Python int", "wrap the final sum in int(...)", _ops_case(_TINY_S, _TINY_W, 8, "the count")),
        _Case("chapter 7's tiny example: 8 accumulates", "spikes of each input × non-zero weights in its column, summed",
              _ops_case(_TINY_S, _TINY_W, 8, "synaptic ops")),
        _Case("no spikes, no operations", "count spikes, not time steps", _ops_case([[0.0, 0, 0]] * 3, _TINY_W, 0,
                                                                                    "synaptic ops")),
        _Case("a zero column (pruned input) costs nothing", "count NON-ZERO weights per column: (weight != 0)",
              _ops_case([[1.0, 1.0]], [[0.0, 2.0], [0.0, 1.0], [0.0, 0.5]], 3, "synaptic ops")),
        _Case("negative weights count as synapses", "use weight != 0, not weight > 0",
              _ops_case([[1.0, 1.0]], [[-1.0, 2.0], [0.5, -0.5]], 4, "synaptic ops")),
        _Case("weights are [n_out, n_in]: a column belongs to one input", "count along dim 0 of weight (its columns)",
              _ops_case([[1.0, 0.0, 0.0]], [[1.0, 0.0, 0.0], [1.0, 1.0, 1.0]], 2, "synaptic ops")),
        _Case("[T, B, n_in] spikes agree with labkit.energy.effective_synaptic_ops",
              "flatten all leading dimensions: spikes.reshape(-1, n_in)", _ops_random),
    ]
    return _run("7.1", "count_synaptic_ops", fn, cases, quiet=quiet)


# ----------------------------------------------------------------------------- 8.1 quantisation


def _quant_case(w, bits, expected_m=None, expected_e=None, what="mantissas"):
    def run(fn):
        from .loihi.quantize import quantize_weights as reference

        wt = torch.as_tensor(w, dtype=torch.float64)
        m, e = _expect_pair(fn(wt, bits), ("mantissa", "exponent"))
        ref_m, ref_e = reference(wt, bits)
        ref_m = ref_m if expected_m is None else torch.tensor(expected_m)
        ref_e = ref_e if expected_e is None else expected_e
        if isinstance(e, bool) or not isinstance(e, numbers.Integral):
            raise _Mismatch("an int exponent", f"{type(e).__name__} {_show(e)} (convert with int(...))")
        if int(e) != ref_e:
            raise _Mismatch(f"exponent {ref_e} ({bits} bits)", f"exponent {int(e)}")
        ma = _to_numpy(m)
        if not np.issubdtype(ma.dtype, np.integer):
            raise _Mismatch("integer mantissas", f"dtype {ma.dtype} (use .to(torch.int64))")
        largest = 2 ** (bits - 1) - 1
        if np.abs(ma).max(initial=0) > largest:
            raise _Mismatch(f"mantissas within ±{largest}", _show(m))
        _expect_equal(m, ref_m, what)

    return run


def quantize_weights(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 8.1, ``quantize_weights(w, bits) -> (mantissa, exponent)`` with w ≈ mantissa · 2**exponent."""
    rand = (torch.randn(50, 40, generator=torch.Generator().manual_seed(0)) * 0.05).tolist()
    cases = [
        _Case("chapter 8's example with 4 bits", "e = ceil(log2(max|w| / (2**(bits-1) - 1))); m = round(w / 2**e)",
              _quant_case([0.30, -0.12, 0.051, -0.297, 0.0], 4, [5, -2, 1, -5, 0], -4)),
        _Case("the largest weight fits exactly (exponent 0)", "compute e from max|w| (abs: negative weights count)",
              _quant_case([-7.0, 3.0, 1.2], 4, [-7, 3, 1], 0)),
        _Case("all-zero weights give zero mantissas and exponent 0", "log2(0) is undefined: handle max|w| == 0 first",
              _quant_case([0.0, 0.0, 0.0], 8, [0, 0, 0], 0)),
        _Case("large weights get a positive exponent", "the same formula: e can be positive",
              _quant_case([300.0, -41.0, 3.0], 8, [75, -10, 1], 2)),
        _Case("random weights with 4 bits match labkit.loihi.quantize", "round, then clamp to ±(2**(bits-1) - 1)",
              _quant_case(rand, 4)),
        _Case("random weights with 8 bits match labkit.loihi.quantize", "use the bits argument everywhere",
              _quant_case(rand, 8)),
    ]
    return _run("8.1", "quantize_weights", fn, cases, quiet=quiet)


# ----------------------------------------------------------------------------- 9.1 event pixel


def _pixel_reference(log_intensity, threshold) -> np.ndarray:
    """Reference-reset pixel: n_k = trunc((L_k − ref)/C), ref += n_k·C (Gallego et al., TPAMI 2022, eq. 1)."""
    counts, reference = np.zeros(len(log_intensity), dtype=np.int64), float(log_intensity[0])
    for k in range(1, len(log_intensity)):
        n = math.trunc((log_intensity[k] - reference) / threshold)
        counts[k], reference = n, reference + n * threshold
    return counts


def _pixel_case(log_intensity, threshold, expected=None, what="event counts"):
    def run(fn):
        li = np.asarray(log_intensity, dtype=np.float64)
        want = _pixel_reference(li, threshold) if expected is None else np.asarray(expected)
        got = fn(li.copy(), threshold)
        a = _numeric(got, what)
        if a.shape == want.shape and not np.array_equal(a, np.round(a)):
            raise _Mismatch("whole numbers of events", _show(got))
        _expect_equal(got, want, what)

    return run


def pixel_events(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 9.1, ``pixel_events(log_intensity, threshold) -> signed event count per sample``."""
    walk = np.cumsum(np.random.default_rng(9).normal(0.0, 0.4, 300))
    cases = [
        _Case("no change, no events", "count whole thresholds between the log intensity and the reference",
              _pixel_case(np.zeros(20), 0.5, np.zeros(20, dtype=int))),
        _Case("one count per sample, the first always 0", "the first sample only sets the reference",
              _pixel_case([0.7, 0.7, 0.7], 0.5, [0, 0, 0])),
        _Case("several crossings between two samples all count", "n = trunc((L - reference) / threshold), not 0/1",
              _pixel_case([0.0, 1.0, 2.0], 0.5, [0, 2, 2])),
        _Case("small changes add up against the reference", "compare with the reference, not with the previous sample",
              _pixel_case([0.0, 0.3, 0.6, 0.9], 0.5, [0, 0, 1, 0])),
        _Case("the reference moves by whole thresholds, never to the sample",
              "after n events move the reference by n * threshold",
              _pixel_case([0.0, 0.7, 1.1], 0.5, [0, 1, 1])),
        _Case("falling intensity gives negative (OFF) counts, rounded towards zero",
              "use np.trunc, not np.floor: -1.4 thresholds is one OFF event",
              _pixel_case([0.0, -0.6, -1.2], 0.5, [0, -1, -1])),
        _Case("up and back down", "a fall gives negative counts", _pixel_case([0.0, 1.1, 0.0], 0.5, [0, 2, -2])),
        _Case("a 300-sample random walk with threshold 0.3", "use the threshold argument",
              _pixel_case(walk, 0.3)),
    ]
    return _run("9.1", "pixel_events", fn, cases, quiet=quiet)


# ----------------------------------------------------------------------------- 9.2 binning


def _events(rows) -> np.ndarray:
    from .data import EVENT_DTYPE

    return np.array([tuple(r) for r in rows], dtype=EVENT_DTYPE)


def _bin_reference(events: np.ndarray, num_bins: int, duration_us: int) -> np.ndarray:
    """Counts[k, p, y, x] with k = floor(t · T / D), one loop over events (independent of tonic)."""
    frames = np.zeros((num_bins, 2, 34, 34), dtype=np.int64)
    for e in events:
        frames[int(e["t"]) * num_bins // duration_us, int(e["p"]), int(e["y"]), int(e["x"])] += 1
    return frames


def _bin_case(rows_or_events, num_bins, duration_us, what="frames"):
    def run(fn):
        events = rows_or_events if isinstance(rows_or_events, np.ndarray) else _events(rows_or_events)
        want = _bin_reference(events, num_bins, duration_us)
        got = fn(events.copy(), num_bins, duration_us)
        a = _numeric(got, what)
        if a.shape != want.shape:
            raise _Mismatch(f"shape {want.shape} (num_bins, 2, 34, 34)", f"shape {a.shape}")
        if a.sum() != len(events):
            raise _Mismatch(f"{len(events)} events counted in total", f"{a.sum():g}")
        diff = np.argwhere(a != want)
        if len(diff):
            k, p, y, x = (int(v) for v in diff[0])
            raise _Mismatch(f"{want[k, p, y, x]} at [bin {k}, p {p}, y {y}, x {x}]", f"{a[k, p, y, x]:g} there")

    return run


def _random_events(n: int, duration_us: int, seed: int) -> np.ndarray:
    from .data import EVENT_DTYPE

    rng = np.random.default_rng(seed)
    ev = np.zeros(n, dtype=EVENT_DTYPE)
    ev["x"], ev["y"] = rng.integers(0, 34, n), rng.integers(0, 34, n)
    ev["t"], ev["p"] = np.sort(rng.integers(0, duration_us, n)), rng.integers(0, 2, n).astype(bool)
    return ev


def bin_events(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 9.2, ``bin_events(events, num_bins, duration_us) -> counts[num_bins, 2, 34, 34]``."""
    many = _random_events(2000, 300_000, 11)
    cases = [
        _Case("one ON event at t = 0", "frames[k, p, y, x] += 1 with k = t * num_bins // duration_us",
              _bin_case([(3, 5, 0, True)], 4, 1000)),
        _Case("axes are [bin, polarity, y, x]", "the row index y comes before the column x, as in tonic",
              _bin_case([(30, 2, 10, False), (1, 20, 10, True)], 2, 1000)),
        _Case("an event exactly on a bin edge goes to the later bin", "integer division: t * num_bins // duration_us",
              _bin_case([(0, 0, 250, True), (0, 0, 249, True)], 4, 1000)),
        _Case("the last microsecond falls in the last bin", "k = t * num_bins // duration_us < num_bins for t < D",
              _bin_case([(33, 33, 999, False)], 7, 1000)),
        _Case("repeated events at one pixel all count", "frames[idx] += 1 counts a repeated index once: use np.add.at",
              _bin_case([(4, 4, 10, True)] * 3 + [(4, 4, 11, True)], 1, 1000)),
        _Case("no events, all-zero frames", "start from np.zeros((num_bins, 2, 34, 34))", _bin_case([], 3, 1000)),
        _Case("2000 random events in 1, 7 and 25 bins", "use the num_bins and duration_us arguments",
              lambda fn: [_bin_case(many, T, 300_000)(fn) for T in (1, 7, 25)]),
    ]
    return _run("9.2", "bin_events", fn, cases, quiet=quiet)
