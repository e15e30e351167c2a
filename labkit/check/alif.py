"""Exercise 1.4: one step of the adaptive-threshold neuron (ALIF; `labkit.neurons.ALIF`, Bellec et al. 2018)."""

from __future__ import annotations

import torch

from ..neurons import ALIF
from .core import Case, CheckResult, Mismatch, exercise, expect_close, expect_equal, mistake, run_cases

__all__ = ["alif_update"]


def _alif_reference(current, membrane, adaptation, params):
    s, (u, a) = params.step(torch.as_tensor(current, dtype=torch.float64),
                            (torch.as_tensor(membrane, dtype=torch.float64), torch.as_tensor(adaptation, dtype=torch.float64)))
    return s.numpy(), u.numpy(), a.numpy()


def _expect_triple(got):
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        raise Mismatch("three values (spike, membrane, adaptation)", repr(got)[:200])
    return got


def _alif_case(current, membrane, adaptation, **params):
    def run(fn):
        p = ALIF(**params)
        args = [torch.tensor(v, dtype=torch.float64) for v in (current, membrane, adaptation)]
        s, u, a = _expect_triple(fn(*args, p))
        s_ref, u_ref, a_ref = _alif_reference(*args, p)
        expect_close(a, a_ref, "adaptation", atol=1e-9)
        expect_close(u, u_ref, "membrane", atol=1e-9)
        expect_equal(s, s_ref, "spike")

    return run


def _alif_sequence_case(reset):
    def run(fn):
        p = ALIF(beta=0.9, threshold=1.0, beta_a=0.3, rho=0.9, reset=reset)
        g = torch.Generator().manual_seed(4)
        u = a = u_ref = a_ref = torch.zeros(5, dtype=torch.float64)
        for t in range(40):
            current = 0.4 + 0.5 * torch.randn(5, generator=g, dtype=torch.float64)
            s, u, a = _expect_triple(fn(current, u, a, p))
            s_ref, u_ref, a_ref = _alif_reference(current, u_ref, a_ref, p)
            expect_close(a, a_ref, f"adaptation at step {t}", atol=1e-6)
            expect_close(u, u_ref, f"membrane at step {t}", atol=1e-6)
            expect_equal(s, s_ref, f"spikes at step {t}")
            u = u_ref = torch.as_tensor(u_ref)  # every step from the reference's state: float32 rounding
            a = a_ref = torch.as_tensor(a_ref)  # (a bool * 1.0 is float32) does not pile up over 40 steps

    return run


_ALIF_THRESHOLD = "theta = threshold + beta_a * a"
_ALIF = ("theta_{t-1} = threshold + beta_a * a_{t-1};  r = H(u_{t-1} - theta_{t-1});  a_t = rho * a_{t-1} + r;  "
         "u_t = beta * u_{t-1} + I_t - theta_{t-1} * r;  s_t = H(u_t - (threshold + beta_a * a_t))")


def labkit_alif_update(current, membrane, adaptation, params):
    """labkit's version of exercise 1.4: `labkit.neurons.ALIF.step` with the state as two arguments, ``(spike, membrane,
    adaptation)``."""
    spike, (membrane, adaptation) = params.step(current, (membrane, adaptation))
    return spike, membrane, adaptation


@exercise("1.4", "(current, membrane, adaptation, params) -> (spike, membrane, adaptation)",
          fallback=labkit_alif_update)
def alif_update(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 1.4, ``alif_update(current, membrane, adaptation, params) -> (spike, membrane, adaptation)``."""
    cases = [
        Case("without a previous spike: the membrane leaks and integrates, the adaptation decays by rho",
             "with no reset, this step is the LIF step of exercise 1.1; the adaptation only shrinks",
             _alif_case([0.2, 0.5], [0.0, 0.4], [0.0, 1.0], beta_a=0.5, rho=0.8),
             "a_t = rho * a_{t-1};  u_t = beta * u_{t-1} + I_t"),
        Case("a previous spike raises the adaptation by one and resets the membrane by the threshold it crossed",
             "the reset signal compares the OLD membrane with the OLD threshold (raised by the OLD adaptation); "
             "the spike adds one to the adaptation, and 'subtract' removes the threshold the spike crossed",
             _alif_case([0.3], [1.5], [0.5], beta_a=0.5, rho=0.5), _ALIF),
        Case("the raised threshold holds back a spike the plain LIF neuron would fire",
             "the new spike compares u_t with the threshold of the NEW adaptation a_t, not with params.threshold",
             _alif_case([1.2, 0.0], [0.0, 0.0], [1.0, 0.0], beta_a=0.5, rho=0.9), _ALIF_THRESHOLD),
        Case("reset 'zero' drops the membrane after a spike; the adaptation still grows",
             "the reset modes are those of exercise 1.1, with the adapted threshold deciding the reset",
             _alif_case([0.1, 0.4], [1.5, 1.1], [0.5, 0.0], beta_a=0.5, rho=0.5, reset="zero"), _ALIF),
        Case("beta_a = 0 is the LIF neuron", "with beta_a = 0 the threshold never moves",
             _alif_case([0.4, 1.5, 0.0], [2.2, 0.1, 1.0], [3.0, 0.0, 1.0], beta=0.5, threshold=2.0, beta_a=0.0), _ALIF),
        Case("40 random steps match labkit.neurons.ALIF.step (reset 'subtract')",
             "run two steps by hand with a strong current and follow a, theta and u", _alif_sequence_case("subtract"),
             _ALIF),
        Case("40 random steps match labkit.neurons.ALIF.step (reset 'zero')", "check the 'zero' branch on its own",
             _alif_sequence_case("zero"), _ALIF),
    ]
    return run_cases("1.4", "alif_update", fn, cases, quiet=quiet, formula=_ALIF,
                     names=("current", "membrane", "adaptation", "params"))


def _alif_wrong(current, membrane, adaptation, params, *, new_spike=False, fixed_spike=False, fixed_reset=False,
                no_decay=False, old_threshold=False):
    """One step of the ALIF neuron with one of the mistakes students make switched on (the catalogue below)."""
    theta_old = params.threshold + params.beta_a * adaptation
    r = (membrane > (params.threshold if fixed_reset else theta_old)) * 1.0
    crossed = params.threshold if fixed_reset else theta_old
    if params.reset == "subtract":
        u = params.beta * membrane + current - crossed * r
    else:
        u = params.beta * (1 - r) * membrane + current
    a = (adaptation if no_decay else params.rho * adaptation)
    theta = theta_old if old_threshold else params.threshold + params.beta_a * (a + (0 if new_spike else r))
    s = (u > (params.threshold if fixed_spike else theta)) * 1.0
    a = a + (s if new_spike else r)
    return s, u, a


@mistake("1.4", "the adaptation grows from the new spike", "a grows from the spike that caused the reset (the one "
         "of the previous step, r), not from the spike you compute now")
def _alif_from_new_spike(current, membrane, adaptation, params):
    return _alif_wrong(current, membrane, adaptation, params, new_spike=True)


@mistake("1.4", "the spike compared with the resting threshold", "the new spike compares u_t with the adapted "
         "threshold theta_t = threshold + beta_a * a_t, not with params.threshold alone")
def _alif_fixed_spike(current, membrane, adaptation, params):
    return _alif_wrong(current, membrane, adaptation, params, fixed_spike=True)


@mistake("1.4", "the reset judged by the resting threshold", "the reset signal and the amount subtracted use the "
         "threshold the old membrane met, raised by the old adaptation")
def _alif_fixed_reset(current, membrane, adaptation, params):
    return _alif_wrong(current, membrane, adaptation, params, fixed_reset=True)


@mistake("1.4", "the adaptation never decays", "between spikes the adaptation shrinks by the factor rho every step")
def _alif_no_decay(current, membrane, adaptation, params):
    return _alif_wrong(current, membrane, adaptation, params, no_decay=True)


@mistake("1.4", "the spike judged by the old threshold", "the threshold of the new spike comes from the NEW "
         "adaptation a_t (after its decay and the previous spike), not from a_{t-1}")
def _alif_old_threshold(current, membrane, adaptation, params):
    return _alif_wrong(current, membrane, adaptation, params, old_threshold=True)
