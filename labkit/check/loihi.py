"""Exercises 8.1 and 8.3: one step of Loihi's integer LIF neuron, and the network as a Lava process graph.

The check of 8.3 runs the student's function in Lava's interpreter (`labkit.loihi.sidecar.in_lava`)
and compares its records with what Lava's floating-point process models compute, written out
here from those models (lava-nc 0.10), independently of the lab's runner.
"""

from __future__ import annotations

import numpy as np
import torch

from ..loihi.bundle import LayerBundle
from ..loihi.quantize import loihi_dense, quantize_layer
from ..loihi.quantize import loihi_lif_step as reference_step
from ..loihi.sidecar import in_lava, lava_backend
from .core import Case, CheckResult, Mismatch, exercise, expect_equal, mistake, numeric, observe, run_cases, show

__all__ = ["lava_network", "loihi_lif_step"]

# ----------------------------------------------------------------------------- 8.1 Loihi's integer LIF step


def _register_layer(*, dv=410, vth=100, bias=0, bias_exp=0, n=1):
    """A LayerBundle holding only what one LIF step reads (du = 4095: the current forgets at once)."""
    bias_mant = np.broadcast_to(np.asarray(bias, dtype=np.int16), (n,)).copy()
    return LayerBundle(weight=np.zeros((n, 1), np.float32), bias=np.zeros(n, np.float32),
                       weight_mant=np.zeros((n, 1), np.int16), bias_mant=bias_mant, weight_exp=0,
                       bias_exp=bias_exp, vth=vth, du=4095, dv=dv, scale=float(vth))


def _loihi_step_case(a, u, v, layer, what="(spikes, u, v)"):
    def run(fn):
        args = [torch.tensor(x, dtype=torch.int64) for x in (a, u, v)]
        got = fn(*[x.clone() for x in args], layer)
        if not isinstance(got, (tuple, list)) or len(got) != 3:
            raise Mismatch("a triple (spikes, u, v)", show(got))
        s, u_new, v_new = got
        want_s, want_u, want_v = reference_step(*args, layer)
        for name, value in (("u", u_new), ("v", v_new)):
            if not (isinstance(value, torch.Tensor) and not value.is_floating_point()):
                raise Mismatch(f"{name} as an integer tensor (int64 registers)", show(value))
        expect_equal(v_new, want_v, "v (before its reset)")
        expect_equal(u_new, want_u, "u")
        expect_equal(torch.as_tensor(s).to(torch.int64), want_s.to(torch.int64), "spikes")

    return run


def _loihi_step_sequence(fn):
    g = torch.Generator().manual_seed(4)
    layer = quantize_layer(torch.randn(6, 20, generator=g) * 0.4, 0.05 * torch.randn(6, generator=g), beta=0.9,
                           threshold=1.0)
    a = loihi_dense((torch.rand(40, 3, 20, generator=g) < 0.3).float(), layer)
    u = v = torch.zeros(3, 6, dtype=torch.int64)
    u_ref = v_ref = u
    for t in range(40):
        got = fn(a[t], u, v, layer)
        if not isinstance(got, (tuple, list)) or len(got) != 3:
            raise Mismatch("a triple (spikes, u, v)", show(got))
        s, u, v = got
        s_ref, u_ref, v_ref = reference_step(a[t], u_ref, v_ref, layer)
        expect_equal(v, v_ref, f"v at step {t}")
        expect_equal(torch.as_tensor(s).to(torch.int64), s_ref.to(torch.int64), f"spikes at step {t}")


@exercise("8.1", "(a, u, v, layer) -> (spikes, u, v) in Loihi's integers", fallback=reference_step)
def loihi_lif_step(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 8.1, ``loihi_lif_step(a, u, v, layer) -> (spikes, u, v)`` in Loihi's integers."""
    decay = "decay(x, d) = sign(x) · ((|x| · (4096 − d)) >> 12)"
    step = ("r = v > vth·2^6;  u = decay(u, du + 1) + a·2^6;  v = decay((1 − r)·v, dv) + u + bias_mant·2^bias_exp, "
            "clipped to ±(2^23 − 1);  s = v > vth·2^6")
    top = (2**17 - 1) * 64  # the largest threshold: v equal to it is not above it (no reset)
    cases = [
        Case("no input, no bias: v decays by (4096 − dv)/4096, rounded towards zero",
              "multiply by (4096 − dv), then drop 12 bits from the magnitude (integer arithmetic)",
              _loihi_step_case([0, 0, 0], [0, 0, 0], [1000, -1000, 7], _register_layer(n=3)), decay),
        Case("the input enters u shifted left by 6 bits, and du = 4095 forgets the old u",
              "the current decays with du + 1 (Lava's offset): with du = 4095 nothing of the old u is left",
              _loihi_step_case([3, -2], [5000, 5000], [0, 0], _register_layer(n=2)), step),
        Case("the bias is bias_mant · 2^bias_exp, added to v every step", "shift the bias mantissa by bias_exp",
              _loihi_step_case([0], [0], [64], _register_layer(bias=25, bias_exp=3)), step),
        Case("a spike needs v > vth · 2^6, strictly", "compare with the threshold shifted left by 6 bits, using >",
              _loihi_step_case([100, 100], [0, 0], [0, 0], _register_layer(n=2, bias=[0, 1])), step),
        Case("a v above threshold from the previous step starts again from 0",
              "the reset comes first, from the v passed in: (1 − r)·v with r = v > vth·2^6",
              _loihi_step_case([1, 1], [0, 0], [6500, 6000], _register_layer(n=2)), step),
        Case("v saturates at ±(2^23 − 1)", "clamp v to the 24-bit range after adding u and the bias",
              _loihi_step_case([2**17 - 1, -(2**17 - 1)], [0, 0], [top, -top], _register_layer(n=2, vth=2**17 - 1)),
              step),
        Case("40 steps of a quantised layer match labkit.loihi.quantize.loihi_lif_step",
              "return the new u and v; the next call receives them", _loihi_step_sequence, step),
    ]
    return run_cases("8.1", "loihi_lif_step", fn, cases, quiet=quiet, formula=step,
                     names=("a", "u", "v", "layer"))


# ----------------------------------------------------------------------------- 8.3 a Lava graph by hand


def _lava_float_reference(spikes: np.ndarray, layers, beta: float, threshold: float) -> np.ndarray:
    """What Lava's floating-point RingBuffer, Dense and LIF compute for one sample: spikes ``[T + L, n_out]``.

    Written from Lava's process models (lava-nc 0.10, independent of labkit's runner): at step k a
    Dense sends the sum of the weight columns of the spikes it received at step k − 1, and every
    LIF adds its bias from the first step on, ``v = v·(1 − dv) + a + b`` with ``dv = 1 − β``,
    spikes where ``v > vth`` and resets them to 0.
    """
    steps = len(spikes) + len(layers)
    s = np.zeros((steps, spikes.shape[1]))
    s[: len(spikes)] = spikes
    dv = 1.0 - beta
    for weight, bias in layers:
        a = np.zeros((steps, weight.shape[0]))
        for k in range(1, steps):
            a[k] = weight[:, s[k - 1] > 0].sum(axis=1)
        v = np.zeros(weight.shape[0])
        out = np.zeros((steps, weight.shape[0]))
        for k in range(steps):
            v = v * (1 - dv) + a[k] + bias
            out[k] = v > threshold
            v[out[k] > 0] = 0.0
        s = out
    return s


def _lava_cases():
    """Inputs of the exercise 8.3 cases and the spikes Lava's float models give for them ([T + L, n_out])."""
    g = np.random.default_rng(8)

    def case(steps, sizes, scale, bias_scale, p, beta=0.9, threshold=1.0):
        layers = [(g.normal(0.0, scale, (n_out, n_in)), bias_scale * g.random(n_out))
                  for n_in, n_out in zip(sizes, sizes[1:])]
        spikes = (g.random((steps, sizes[0])) < p).astype(np.float64)
        return (spikes, layers, beta, threshold), _lava_float_reference(spikes, layers, beta, threshold)

    return [
        ("one layer, no input: the bias alone charges the membrane (du, dv, vth, bias_mant)",
         "LIF(shape=..., du=1.0, dv=1 − beta, vth=threshold, bias_mant=b): dv is what decays, 1 − beta",
         case(30, (3, 2), 0.0, 0.3, 0.0)),
        ("one layer with input: the run lasts T + 1 steps and the first row is empty",
         "a Dense delivers its input one step late: run T + (number of layers) steps, padding the input with zeros",
         case(12, (5, 4), 1.0, 0.0, 0.5)),
        ("two layers with other beta and threshold", "use the beta and threshold arguments for every LIF",
         case(20, (6, 5, 3), 1.2, 0.1, 0.4, beta=0.7, threshold=0.8)),
        ("two layers, 784-wide input as in the deployed network", "connect s_out → Dense.s_in, Dense.a_out → LIF.a_in",
         case(15, (784, 20, 10), 0.15, 0.02, 0.15)),
    ]


@exercise("8.3", "(spikes, [(W, b), …], beta, threshold) -> Monitor record [T + L, n_out] (runs in Lava)")
def lava_network(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 8.3, ``lava_network(spikes [T, n_in], [(W, b), …], beta, threshold) -> spikes [T + L, n_out]``.

    Runs all cases in one start of Lava's interpreter (`labkit.loihi.sidecar.in_lava`) and compares
    with what Lava's float process models compute (`_lava_float_reference`).
    """
    formula = ("RingBuffer(data=[n_in, T + L]) → (Dense(weights=W) → LIF(du=1, dv=1 − β, vth=θ, bias_mant=b)) × L, "
               "Monitor.probe(last LIF's s_out, T + L); run RunSteps(T + L) with Loihi2SimCfg(select_tag='floating_pt')")
    if lava_backend() is None:
        result = CheckResult("8.3", "lava_network", passed=False,
                             messages=["… Exercise 8.3 (lava_network) cannot be checked here: Lava is not installed "
                                       "(run `make setup`)"])
        if not quiet:
            print("\n".join(result.messages))
        return result
    cases = _lava_cases()
    outcome: dict = {}

    def results(fn_):
        inner = getattr(fn_, "fn", fn_)  # the function itself, not the check's guard: Lava gets its source
        if id(inner) not in outcome:
            inputs = [inputs for _, _, (inputs, _) in cases]
            outcome[id(inner)] = ([inner(*args) for args in inputs] if getattr(inner, "record_model", False)
                                  else in_lava(inner).map(inputs))
        return outcome[id(inner)]

    def check_case(index):
        def run(fn_):
            got = results(fn_)[index]
            observe(fn_, np.asarray(got, dtype=np.float64))
            expected = cases[index][2][1]
            a = numeric(got, "recorded spikes")
            if a.shape != expected.shape:
                raise Mismatch(f"the Monitor's record of shape {expected.shape} (T + L steps, n_out)",
                                f"shape {a.shape}")
            diff = np.argwhere(a != expected)
            if len(diff):
                t, j = (int(v) for v in diff[0])
                raise Mismatch(f"{expected[t, j]:g} at row {t}, neuron {j} ({int((a != expected).sum())} entries "
                                "differ)", f"{a[t, j]:g} there")

        return run

    checks = [Case(text, hint, check_case(i), formula) for i, (text, hint, _) in enumerate(cases)]
    return run_cases("8.3", "lava_network", fn, checks, quiet=quiet, limit=False)


# ----------------------------------------------------------------------------- the mistakes students make (8.1)


def _decay(x, d):
    return torch.sign(x) * ((x.abs() * (4096 - d)) >> 12)


def _loihi(a, u, v, layer, *, floor=False, reset_late=False, strict=True, shift=True, clip=True, du_offset=1):
    threshold = layer.vth << 6
    fired = (v > threshold) if strict else (v >= threshold)
    if not reset_late:
        v = torch.where(fired, torch.zeros_like(v), v)
    decay = (lambda x, d: (x * (4096 - d)) >> 12) if floor else _decay
    u = decay(u, layer.du + du_offset) + (a << 6 if shift else a)
    bias = torch.as_tensor(np.asarray(layer.bias_mant), dtype=torch.int64) << layer.bias_exp
    v = decay(v, layer.dv) + u + bias
    if clip:
        v = v.clamp(-(2**23 - 1), 2**23 - 1)
    s = (v > threshold) if strict else (v >= threshold)
    if reset_late:
        v = torch.where(s, torch.zeros_like(v), v)
    return s, u, v


@mistake("8.1", "the decay rounded down instead of towards zero", ">> 12 on a negative number rounds towards minus "
         "infinity; Loihi drops the bits of the MAGNITUDE and keeps the sign")
def _loihi_step_floor_decay(a, u, v, layer):
    return _loihi(a, u, v, layer, floor=True)


@mistake("8.1", "the reset applied to the new v", "Loihi resets from the v passed in (above threshold at the "
         "previous step); the v you return is before its reset")
def _loihi_reset_late(a, u, v, layer):
    return _loihi(a, u, v, layer, reset_late=True)


@mistake("8.1", "a non-strict threshold (>=)", "a spike needs v strictly ABOVE the shifted threshold")
def _loihi_greater_equal(a, u, v, layer):
    return _loihi(a, u, v, layer, strict=False)


@mistake("8.1", "the input not shifted by 6 bits", "the synaptic input enters the current register shifted left "
         "by 6 bits, like the threshold")
def _loihi_no_shift(a, u, v, layer):
    return _loihi(a, u, v, layer, shift=False)


@mistake("8.1", "no saturation of v", "v is a 24-bit register: it saturates at ±(2^23 − 1)")
def _loihi_no_clip(a, u, v, layer):
    return _loihi(a, u, v, layer, clip=False)


@mistake("8.1", "du without Lava's offset", "Lava decays the current with du + 1: with du = 4095 nothing of the "
         "old current is left")
def _loihi_du(a, u, v, layer):
    return _loihi(a, u, v, layer, du_offset=0)


# ----------------------------------------------------------------------------- the mistakes students make (8.3)
# Models of the records that wrongly built graphs give (what Lava's float models compute for them), so that
# they can be matched without starting Lava.


def _record_model(fn):
    fn.record_model = True
    return fn


def _lava_variant(spikes, layers, beta, threshold, *, steps=None, decay=None, bias=True, probe=-1):
    total = len(spikes) + len(layers) if steps is None else steps
    s = np.zeros((total, spikes.shape[1]))
    s[: min(len(spikes), total)] = spikes[:total]
    dv = 1.0 - beta if decay is None else decay
    records = []
    for weight, b in layers:
        a = np.zeros((total, weight.shape[0]))
        for k in range(1, total):
            a[k] = weight[:, s[k - 1] > 0].sum(axis=1)
        v, out = np.zeros(weight.shape[0]), np.zeros((total, weight.shape[0]))
        for k in range(total):
            v = v * (1 - dv) + a[k] + (b if bias else 0.0)
            out[k] = v > threshold
            v[out[k] > 0] = 0.0
        s = out
        records.append(out)
    return records[probe]


@mistake("8.3", "dv set to beta", "Lava's dv is the fraction of v that DECAYS per step, 1 − beta, not the fraction "
         "kept")
@_record_model
def _lava_dv_beta(spikes, layers, beta, threshold):
    return _lava_variant(spikes, layers, beta, threshold, decay=beta)


@mistake("8.3", "run for T steps only", "each Dense delivers one step late: run and record T + (number of layers) "
         "steps, the input padded with zeros")
@_record_model
def _lava_short_run(spikes, layers, beta, threshold):
    return _lava_variant(spikes, layers, beta, threshold, steps=len(spikes))


@mistake("8.3", "the bias left out", "give every LIF its layer's bias (bias_mant): it charges the membrane at every "
         "step, input or not")
@_record_model
def _lava_no_bias(spikes, layers, beta, threshold):
    return _lava_variant(spikes, layers, beta, threshold, bias=False)


@mistake("8.3", "the first LIF probed instead of the last", "the Monitor must probe the s_out of the LAST layer's "
         "LIF")
@_record_model
def _lava_first_layer(spikes, layers, beta, threshold):
    return _lava_variant(spikes, layers, beta, threshold, probe=0)
