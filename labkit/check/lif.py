"""Exercises 1.1–1.3: one step of the leaky integrate-and-fire neuron, its loop over time, and the f–I staircase
(exercise 1.4, the adaptive-threshold neuron, is in `~labkit.check.alif`)."""

from __future__ import annotations

import numpy as np
import torch

from ..neurons import LIFParams, lif_sequence, lif_step
from .core import (
    Case,
    CheckResult,
    Mismatch,
    exercise,
    expect_close,
    expect_equal,
    expect_pair,
    expect_unchanged,
    mistake,
    numeric,
    run_cases,
    snapshot,
)

__all__ = ["lif_update", "simulate_lif", "theoretical_rate"]


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


_LIF_LEAK = "u_t = beta * u_{t-1} + I_t   (when u_{t-1} is not above the threshold)"
_LIF_SUBTRACT = "r = H(u_{t-1} - threshold);  u_t = beta * u_{t-1} + I_t - threshold * r"
_LIF_ZERO = "r = H(u_{t-1} - threshold);  u_t = beta * (1 - r) * u_{t-1} + I_t"


def labkit_lif_update(current, membrane, beta, threshold, reset="subtract"):
    """labkit's version of exercise 1.1: one step, ``(spike, membrane)``; NumPy in, NumPy out, tensors in, tensors
    out."""
    as_numpy = not isinstance(current, torch.Tensor)
    s, u = lif_step(torch.as_tensor(current, dtype=torch.float64), torch.as_tensor(membrane, dtype=torch.float64),
                    LIFParams(beta=beta, threshold=threshold, reset=reset))
    if as_numpy:
        return s.numpy(), u.numpy()
    dtype = current.dtype if current.is_floating_point() else torch.get_default_dtype()
    return s.to(dtype), u.to(dtype)


@exercise("1.1", "(current, membrane, beta, threshold, reset) -> (spike, membrane)", fallback=labkit_lif_update)
def lif_update(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 1.1, ``lif_update(current, membrane, beta, threshold, reset) -> (spike, membrane)``."""
    cases = [
        Case("no spike below threshold: the membrane leaks, then adds the input",
              "the new membrane is the old one shrunk by the factor beta, plus this step's current", 
              _lif_case([0.2, 0.5], [0.0, 0.4], "subtract"), _LIF_LEAK),
        Case("crossing the threshold makes a spike",
              "the spike compares the NEW membrane with the threshold, and the membrane you return is u_t BEFORE "
              "its reset (the reset comes at the next step, from the membrane passed in)",
              _lif_case([0.7], [0.5], "subtract"), "s_t = H(u_t - threshold), where H(v) = 1 for v > 0, else 0"),
        Case("reset 'subtract' removes the threshold once the previous membrane was above it",
              "the reset signal comes from the membrane passed in (the OLD one), not from the spike you compute now",
              _lif_case([0.1, 0.0, 0.3], [1.3, 2.5, 0.2], "subtract"), _LIF_SUBTRACT),
        Case("reset 'zero' forgets the membrane after a spike",
              "for 'zero' the old membrane is dropped after a spike, but this step's input still arrives",
              _lif_case([0.1, 0.0, 0.3], [1.3, 2.5, 0.2], "zero"), _LIF_ZERO),
        Case("exactly at threshold is not a spike (strict >)",
              "a membrane equal to the threshold has not crossed it, neither for the spike nor for the reset",
              _lif_case([1.0, 0.0], [0.0, 1.0], "subtract", beta=1.0),
              "s_t = H(u_t - threshold) with H(0) = 0;  r = H(u_{t-1} - threshold) with H(0) = 0"),
        Case("other beta and threshold", "use the beta and threshold arguments, not 0.9 and 1.0",
              _lif_case([0.4, 1.5, 0.0], [2.2, 0.1, 0.0], "subtract", beta=0.5, threshold=2.0)),
        Case("torch tensors work as well as NumPy arrays",
              "use arithmetic and comparisons (* 1.0) that work for both, not np.where on tensors",
              _lif_case([0.1, 1.2], [1.3, 0.0], "zero", as_torch=True)),
        Case("40 random steps match labkit.neurons.lif_step (reset 'subtract')",
              "run it by hand for two steps with a current above threshold and compare", _lif_sequence_case("subtract"),
              _LIF_SUBTRACT),
        Case("40 random steps match labkit.neurons.lif_step (reset 'zero')",
              "check the 'zero' branch on its own", _lif_sequence_case("zero"), _LIF_ZERO),
        Case("the inputs are not modified", "build new arrays (u = beta * u + ...) instead of u *= beta",
              _lif_unchanged),
    ]
    return run_cases("1.1", "lif_update", fn, cases, quiet=quiet, formula=_LIF_SUBTRACT + ";  s_t = H(u_t - threshold)",
                     names=("current", "membrane", "beta", "threshold", "reset"))


def _reference_step(current, membrane, beta, threshold, reset="subtract"):
    return labkit_lif_update(current, membrane, beta, threshold, reset)


def _simulated(fn, current, beta=0.9, threshold=1.0, reset="subtract", step=_reference_step):
    s, u = expect_pair(fn(current, beta, threshold, reset, step), ("spikes", "membrane"))
    for name, x in (("spikes", s), ("membrane", u)):
        if not isinstance(x, torch.Tensor):
            raise Mismatch(f"{name} as a torch tensor (torch.stack the steps)", f"{type(x).__name__}")
    return s, u


def _simulate_shape(fn):
    current = torch.full((7, 2, 3), 0.4, dtype=torch.float64)
    s, u = _simulated(fn, current)
    for name, x in (("spikes", s), ("membrane", u)):
        if tuple(x.shape) != (7, 2, 3):
            raise Mismatch(f"{name} of shape (7, 2, 3), the shape of the current [T, batch, neurons]",
                            f"shape {tuple(x.shape)}")


def _simulate_from_rest(fn):
    current = torch.tensor([[0.5], [0.0], [0.0]], dtype=torch.float64)
    _s, u = _simulated(fn, current)
    expect_close(u, [[0.5], [0.45], [0.405]], "membrane from rest (u_0 = 0) after one input of 0.5")


def _simulate_uses_step(fn):
    def counting_step(current, membrane, beta, threshold, reset="subtract"):
        return membrane * 0.0, membrane + 1.0  # a fake neuron: the membrane counts the steps

    _s, u = _simulated(fn, torch.zeros(4, 2, dtype=torch.float64), step=counting_step)
    expect_close(u, [[1.0, 1.0], [2.0, 2.0], [3.0, 3.0], [4.0, 4.0]],
                  "membranes of a fake step that adds 1 each step")


def _simulate_matches(reset, beta=0.9, threshold=1.0):
    def run(fn):
        g = torch.Generator().manual_seed(11)
        current = 0.3 + 0.4 * torch.randn(50, 3, 4, generator=g, dtype=torch.float64)
        s, u = _simulated(fn, current, beta, threshold, reset)
        s_ref, u_ref = lif_sequence(current, LIFParams(beta=beta, threshold=threshold, reset=reset))
        expect_close(u, u_ref, f"membranes of 50 steps (reset {reset!r})", atol=1e-9)
        expect_equal(s, s_ref, f"spikes of 50 steps (reset {reset!r})")

    return run


def _simulate_one_dimensional(fn):
    current = torch.linspace(0.0, 0.6, 30, dtype=torch.float64)
    s, u = _simulated(fn, current)
    expect_equal(s, lif_sequence(current, LIFParams())[0], "spikes of a single neuron, current of shape [T]")


def _simulate_one_step(fn):
    current = torch.tensor([[1.5, 0.3]], dtype=torch.float64)
    s, u = _simulated(fn, current)
    expect_equal(s, [[1.0, 0.0]], "spikes of one step from rest")
    expect_close(u, [[1.5, 0.3]], "membranes of one step from rest")


def labkit_simulate_lif(current, beta, threshold, reset="subtract", step=None):
    """labkit's version of exercise 1.2: spikes and membranes ``[T, ...]`` of a LIF neuron from rest.

    With ``step`` (a function shaped like exercise 1.1's ``lif_update``) every time step goes
    through it; without, labkit's `lif_sequence` runs the whole sequence at once.
    """
    current = torch.as_tensor(current)
    if step is None:
        return lif_sequence(current, LIFParams(beta=beta, threshold=threshold, reset=reset))
    membrane, spikes, membranes = torch.zeros_like(current[0]), [], []
    for t in range(current.shape[0]):
        s, membrane = step(current[t], membrane, beta, threshold, reset)
        spikes.append(torch.as_tensor(s))
        membranes.append(torch.as_tensor(membrane))
    return torch.stack(spikes), torch.stack(membranes)


@exercise("1.2", "(current [T, ...], beta, threshold, reset, step) -> (spikes, membrane) [T, ...]",
          fallback=labkit_simulate_lif)
def simulate_lif(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 1.2, ``simulate_lif(current[T, ...], beta, threshold, reset, step) -> (spikes, membrane)``."""
    loop = ("u = zeros like current[0]; for t in range(T): s, u = step(current[t], u, beta, threshold, reset); "
            "keep s and u; return torch.stack(all s), torch.stack(all u)")
    cases = [
        Case("spikes and membranes as tensors of the current's shape [T, batch, neurons]",
              "collect one result per time step and stack them along a new first axis", _simulate_shape, loop),
        Case("the neuron starts at rest", "the membrane before the first step is zero, with the shape of one step",
              _simulate_from_rest, loop),
        Case("every step goes through the step function passed in",
              "call step(...) at every time step and carry the membrane it returns into the next call",
              _simulate_uses_step, loop),
        Case("50 random steps match labkit.neurons.lif_sequence (reset 'subtract')",
              "pass beta, threshold and reset on to step", _simulate_matches("subtract"), loop),
        Case("50 random steps match labkit.neurons.lif_sequence (reset 'zero', beta 0.8, threshold 0.7)",
              "pass the arguments on instead of fixed values", _simulate_matches("zero", 0.8, 0.7), loop),
        Case("a current of shape [T] (one neuron) works too", "take the zeros from current[0], whatever its shape",
              _simulate_one_dimensional, loop),
        Case("one time step: T = 1 gives one row of spikes and membranes", "the loop runs once; the result still "
             "has the time dimension in front", _simulate_one_step, loop),
    ]
    return run_cases("1.2", "simulate_lif", fn, cases, quiet=quiet, formula=loop,
                     names=("current", "beta", "threshold", "reset", "step"))


def _climb_rate(current: float, beta: float, threshold: float) -> float:
    """1/n* by counting the climb from u = I (independent of any closed form); 0 when it never fires."""
    if current <= 0 or (beta < 1 and current / (1 - beta) <= threshold):
        return 0.0
    n, u = 1, current
    while u <= threshold:
        n, u, previous = n + 1, beta * u + current, u
        if u == previous:  # converged just below the threshold (rounding at the rheobase)
            return 0.0
    return 1.0 / n


def _rate_case(currents, beta=0.9, threshold=1.0, what="rates"):
    def run(fn):
        c = np.asarray(currents, dtype=np.float64)
        want = np.vectorize(lambda i: _climb_rate(float(i), beta, threshold))(c) if c.size else c
        expect_close(fn(c.copy(), beta, threshold), want, what, atol=1e-9)

    return run


_RATE_FORMULA = ("n* = floor(ln(1 - threshold (1 - beta) / I) / ln(beta)) + 1 and rate = 1 / n* above the rheobase "
                 "threshold (1 - beta); for beta = 1, n* = floor(threshold / I) + 1")


def labkit_theoretical_rate(current, beta=0.9, threshold=1.0):
    """labkit's version of exercise 1.3: the firing rate 1/n* of a LIF neuron reset to zero under constant input (0
    below rheobase)."""
    current = np.asarray(current, dtype=float)
    rates = np.zeros_like(current)
    for index, i in np.ndenumerate(current):
        if i <= 0 or (beta < 1 and i / (1 - beta) <= threshold):
            continue
        n, u = 1, i
        while u <= threshold:  # the climb from u = I after a reset, as from rest
            n, u, previous = n + 1, beta * u + i, u
            if u == previous:  # converged just below the threshold (rounding at the rheobase)
                break
        else:
            rates[index] = 1.0 / n
    return rates


@exercise("1.3", "(current, beta, threshold) -> 1/n* (reset to zero)", fallback=labkit_theoretical_rate)
def theoretical_rate(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 1.3, ``theoretical_rate(current, beta, threshold) -> 1/n*`` (reset to zero; 0 below rheobase)."""
    g = np.random.default_rng(13)
    cases = [
        Case("silent below the rheobase", "with a constant input the membrane can climb no higher than I / (1 - beta)",
              _rate_case([0.0, 0.05, 0.0999]), _RATE_FORMULA),
        Case("a current above the threshold fires at every step", "after a reset to zero the membrane restarts at I",
              _rate_case([1.01, 2.0, 5.0]), _RATE_FORMULA),
        Case("in between, the staircase 1/n*", "n* is the number of steps of the climb from rest to above threshold",
              _rate_case([0.3, 0.15, 0.5, 0.75]), _RATE_FORMULA),
        Case("other beta and threshold", "use the beta and threshold arguments everywhere",
              _rate_case([0.3, 0.45, 0.9, 2.5], beta=0.8, threshold=2.0), _RATE_FORMULA),
        Case("beta = 1: no leak, no rheobase", "ln(beta) = 0 for beta = 1: treat that case on its own",
              _rate_case([0.3, 0.26, 0.047], beta=1.0), _RATE_FORMULA),
        Case("an array of currents gives rates of the same shape", "work element-wise (NumPy arrays), no float()",
              _rate_case(g.uniform(0.0, 1.5, (4, 6))), _RATE_FORMULA),
        Case("a membrane that lands exactly on the threshold has not crossed it: I = 0.5, threshold = 1, beta = 1 "
             "fires every third step (rate 1/3), and so does I = 0.5, threshold = 0.75, beta = 0.5",
             "count the steps until u is strictly ABOVE the threshold: a climb that lands on it needs one step more",
             lambda fn: (_rate_case([0.5], beta=1.0)(fn), _rate_case([0.5], beta=0.5, threshold=0.75)(fn)),
             _RATE_FORMULA),
        Case("no currents: an empty array gives an empty array of rates", "element-wise NumPy work handles an empty "
             "array by itself; avoid max() or a loop that assumes one value", _rate_case(np.zeros(0)), _RATE_FORMULA),
    ]
    return run_cases("1.3", "theoretical_rate", fn, cases, quiet=quiet, formula=_RATE_FORMULA,
                     names=("current", "beta", "threshold"))


# ----------------------------------------------------------------------------- the mistakes students make


def _zero_reset(membrane, threshold):
    return (membrane > threshold) * 1.0


@mistake("1.1", "a non-strict threshold (>=)", "a membrane exactly AT the threshold has not crossed it: the "
         "comparison must be strict, for the spike and for the reset")
def _lif_greater_equal(current, membrane, beta, threshold, reset="subtract"):
    r = (membrane >= threshold) * 1.0
    membrane = beta * membrane + current - threshold * r if reset == "subtract" else beta * (1 - r) * membrane + current
    return (membrane >= threshold) * 1.0, membrane


@mistake("1.1", "the reset applied to the new membrane", "you reset the membrane you return; it should be u_t "
         "BEFORE its reset: the reset comes at the next step, from the membrane passed in")
def _lif_reset_from_new(current, membrane, beta, threshold, reset="subtract"):
    membrane = beta * membrane + current
    spike = (membrane > threshold) * 1.0
    return spike, membrane - threshold * spike if reset == "subtract" else membrane * (1 - spike)


@mistake("1.1", "a forgotten reset", "the membrane never comes down after a spike: a membrane passed in above "
         "the threshold must be reset (by subtraction or to zero)")
def _lif_no_reset(current, membrane, beta, threshold, reset="subtract"):
    membrane = beta * membrane + current
    return (membrane > threshold) * 1.0, membrane


@mistake("1.1", "the leak applied after the input", "the input of this step arrives after the leak: only the old "
         "membrane is multiplied by beta")
def _lif_leak_after_input(current, membrane, beta, threshold, reset="subtract"):
    r = (membrane > threshold) * 1.0
    membrane = beta * (membrane + current) - threshold * r if reset == "subtract" else beta * (1 - r) * (membrane + current)
    return (membrane > threshold) * 1.0, membrane


@mistake("1.1", "reset 'zero' also drops this step's input", "after a spike the OLD membrane is forgotten, but the "
         "current of this step still arrives")
def _lif_zero_drops_input(current, membrane, beta, threshold, reset="subtract"):
    r = (membrane > threshold) * 1.0
    membrane = beta * membrane + current - threshold * r if reset == "subtract" else (1 - r) * (beta * membrane + current)
    return (membrane > threshold) * 1.0, membrane


@mistake("1.1", "fixed beta and threshold (0.9 and 1.0)", "you used the numbers of the chapter's example instead "
         "of the beta and threshold arguments")
def _lif_fixed_constants(current, membrane, beta, threshold, reset="subtract"):
    return labkit_lif_update(current, membrane, 0.9, 1.0, reset)


@mistake("1.1", "the membrane changed in place", "the membrane passed in was modified (u *= beta or u += ...): the "
         "caller still needs it, so compute the new membrane into a new array")
def _lif_in_place(current, membrane, beta, threshold, reset="subtract"):
    r = (membrane > threshold) * 1.0
    if reset == "subtract":
        membrane *= beta
        membrane += current - threshold * r
    else:
        membrane *= beta * (1 - r)
        membrane += current
    return (membrane > threshold) * 1.0, membrane


@mistake("1.2", "the step function passed in is not used", "you computed the neuron yourself: call the step "
         "function you are given at every step (the check passes in a fake one)")
def _simulate_own_neuron(current, beta, threshold, reset, step):
    return lif_sequence(current, LIFParams(beta=beta, threshold=threshold, reset=reset))


@mistake("1.2", "an off-by-one in time: the membrane before the step is kept", "you store the membrane that goes "
         "INTO each step; keep what each step returns")
def _simulate_off_by_one(current, beta, threshold, reset, step):
    u, spikes, membranes = torch.zeros_like(current[0]), [], []
    for t in range(current.shape[0]):
        membranes.append(u)
        s, u = step(current[t], u, beta, threshold, reset)
        spikes.append(s)
    return torch.stack(spikes), torch.stack(membranes)


@mistake("1.2", "the membrane is not carried from step to step", "each step starts again from rest: pass the "
         "membrane returned by one step into the next")
def _simulate_no_state(current, beta, threshold, reset, step):
    pairs = [step(current[t], torch.zeros_like(current[0]), beta, threshold, reset) for t in range(current.shape[0])]
    return torch.stack([s for s, _ in pairs]), torch.stack([u for _, u in pairs])


@mistake("1.2", "the neuron does not start at rest", "the membrane before the first step must be zero, not the "
         "first current")
def _simulate_start_at_current(current, beta, threshold, reset, step):
    u, spikes, membranes = current[0].clone(), [], []
    for t in range(current.shape[0]):
        s, u = step(current[t], u, beta, threshold, reset)
        spikes.append(s)
        membranes.append(u)
    return torch.stack(spikes), torch.stack(membranes)


@mistake("1.2", "fixed beta and threshold", "pass the beta, threshold and reset you are given on to step")
def _simulate_fixed(current, beta, threshold, reset, step):
    u, spikes, membranes = torch.zeros_like(current[0]), [], []
    for t in range(current.shape[0]):
        s, u = step(current[t], u, 0.9, 1.0, "subtract")
        spikes.append(s)
        membranes.append(u)
    return torch.stack(spikes), torch.stack(membranes)


def _climb(current, beta, threshold):
    current = np.asarray(current, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        if beta == 1:
            return current, threshold / current
        return current, np.log(1 - threshold * (1 - beta) / current) / np.log(beta)


@mistake("1.3", "a non-strict threshold: n* = ceil(...)", "ceil counts a climb that lands exactly ON the threshold "
         "as a spike; the membrane must get strictly above it (try I = 0.5, threshold 1, beta 1 by hand)")
def _rate_ceil(current, beta, threshold):
    current, steps = _climb(current, beta, threshold)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(current > threshold * (1 - beta), 1 / np.maximum(np.ceil(steps), 1), 0.0)


@mistake("1.3", "the closed form used for beta = 1", "for beta = 1, ln(beta) = 0 and the closed form divides by "
         "zero: treat beta = 1 (no leak) on its own")
def _rate_closed_form_only(current, beta, threshold):
    current = np.asarray(current, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        n_star = np.floor(np.log(1 - threshold * (1 - beta) / current) / np.log(beta)) + 1
    return np.where(current > threshold * (1 - beta), 1 / n_star, 0.0)


@mistake("1.3", "n* without its + 1", "n* counts the steps of the climb including the one that crosses: one more "
         "than the whole number of steps that stay below")
def _rate_no_plus_one(current, beta, threshold):
    current, steps = _climb(current, beta, threshold)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(current > threshold * (1 - beta), 1 / np.maximum(np.floor(steps), 1e-300), 0.0)


@mistake("1.3", "no rheobase: the formula applied to every current", "below the rheobase (the current whose climb "
         "stalls under the threshold) the neuron never fires: its rate is 0, where the formula gives NaN")
def _rate_no_rheobase(current, beta, threshold):
    current, steps = _climb(current, beta, threshold)
    with np.errstate(divide="ignore", invalid="ignore"):
        return 1 / (np.floor(steps) + 1)


@mistake("1.3", "n* returned instead of the rate", "the rate is spikes per step, 1 / n*, not the number of steps")
def _rate_steps(current, beta, threshold):
    current, steps = _climb(current, beta, threshold)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(current > threshold * (1 - beta), np.floor(steps) + 1, 0.0)
