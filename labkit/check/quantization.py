"""Exercise 8.2: quantising weights to Loihi's mantissa and exponent."""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch

from ..loihi.quantize import quantize_weights as reference
from .core import Case, CheckResult, Mismatch, exercise, expect_equal, expect_pair, mistake, run_cases, show, to_numpy

__all__ = ["quantize_weights"]


def _quant_case(w, bits, expected_m=None, expected_e=None, what="mantissas"):
    def run(fn):
        wt = torch.as_tensor(w, dtype=torch.float64)
        m, e = expect_pair(fn(wt, bits), ("mantissa", "exponent"))
        ref_m, ref_e = reference(wt, bits)
        ref_m = ref_m if expected_m is None else torch.tensor(expected_m)
        ref_e = ref_e if expected_e is None else expected_e
        if isinstance(e, bool) or not isinstance(e, numbers.Integral):
            raise Mismatch("an int exponent", f"{type(e).__name__} {show(e)} (convert with int(...))")
        if int(e) != ref_e:
            raise Mismatch(f"exponent {ref_e} ({bits} bits)", f"exponent {int(e)}")
        ma = to_numpy(m)
        if not np.issubdtype(ma.dtype, np.integer):
            raise Mismatch("integer mantissas", f"dtype {ma.dtype} (use .to(torch.int64))")
        largest = 2 ** (bits - 1) - 1
        if np.abs(ma).max(initial=0) > largest:
            raise Mismatch(f"mantissas within ±{largest}", show(m))
        expect_equal(m, ref_m, what)

    return run


@exercise("8.2", "(w, bits) -> (mantissa, exponent)", fallback=reference)
def quantize_weights(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 8.2, ``quantize_weights(w, bits) -> (mantissa, exponent)`` with w ≈ mantissa · 2**exponent."""
    rand = (torch.randn(50, 40, generator=torch.Generator().manual_seed(0)) * 0.05).tolist()
    chapter = torch.randn(500, 784, generator=torch.Generator().manual_seed(0)) * 0.05  # chapter 8's comparison
    cases = [
        Case("chapter 8's example with 4 bits", "the exponent is shared: the LARGEST weight decides it, and every "
             "weight is then rounded to a whole number of steps of size 2**e",
             _quant_case([0.30, -0.12, 0.051, -0.297, 0.0], 4, [5, -2, 1, -5, 0], -4)),
        Case("the largest weight fits exactly (exponent 0)", "the largest weight in MAGNITUDE: negative weights count",
             _quant_case([-7.0, 3.0, 1.2], 4, [-7, 3, 1], 0)),
        Case("all-zero weights give zero mantissas and exponent 0", "log2(0) is undefined: handle max|w| == 0 first",
             _quant_case([0.0, 0.0, 0.0], 8, [0, 0, 0], 0)),
        Case("large weights get a positive exponent", "the same rule: e can be positive",
             _quant_case([300.0, -41.0, 3.0], 8, [75, -10, 1], 2)),
        Case("a weight must fit BEFORE rounding: 7.3 with 4 bits needs exponent 1 (7.3 / 2**0 > 7)",
             "the exponent is chosen so that max|w| / 2**e is at most the largest mantissa; rounding comes after",
             _quant_case([7.3, -1.0], 4, [4, 0], 1)),
        Case("random weights with 4 bits match labkit.loihi.quantize", "the same rule for every weight",
             _quant_case(rand, 4)),
        Case("random weights with 8 bits match labkit.loihi.quantize", "use the bits argument everywhere",
             _quant_case(rand, 8)),
        Case("chapter 8's comparison (500 × 784 weights, 4 and 8 bits) is 'same as labkit'",
             "the cell after the exercise compares with labkit on these weights",
             lambda fn: (_quant_case(chapter, 4)(fn), _quant_case(chapter, 8)(fn))),
    ]
    return run_cases("8.2", "quantize_weights", fn, cases, quiet=quiet,
                     formula="e = the smallest integer with max|w| / 2**e <= 2**(bits-1) - 1 (0 for all-zero w); "
                             "m = w / 2**e rounded to the nearest integer (ties to even), clamped to that range",
                     names=("w", "bits"))


# ----------------------------------------------------------------------------- the mistakes students make


def _quantize(w, bits, *, peak_of=lambda w: w.abs().max().item(), after_rounding=False, rounding=torch.round,
              as_int=True, zero_guard=True):
    w = torch.as_tensor(w, dtype=torch.float64)
    largest = 2 ** (bits - 1) - 1
    peak = peak_of(w)
    if peak <= 0 and zero_guard:
        return torch.zeros(w.shape, dtype=torch.int64), 0
    e = math.ceil(math.log2(peak / largest))
    while peak / 2.0**e > largest:
        e += 1
    while (round(peak / 2.0 ** (e - 1)) if after_rounding else peak / 2.0 ** (e - 1)) <= largest:
        e -= 1
    m = rounding(w / 2.0**e).clamp(-largest, largest)
    return (m.to(torch.int64) if as_int else m), e


@mistake("8.2", "the largest weight taken without abs", "a large NEGATIVE weight must fit too: the exponent comes "
         "from the largest magnitude")
def _quantize_no_abs(w, bits=8):
    return _quantize(w, bits, peak_of=lambda w: w.max().item())


@mistake("8.2", "'fits' judged after rounding", "the largest weight must fit before rounding (max|w| / 2**e at most "
         "the largest mantissa); a weight that only fits once rounded down loses half a step more than needed")
def _quantize_after_rounding(w, bits=8):
    return _quantize(w, bits, after_rounding=True)


@mistake("8.2", "all-zero weights not handled", "log2(0) fails: give all-zero weights exponent 0 before taking "
         "the logarithm")
def _quantize_no_zero_guard(w, bits=8):
    return _quantize(w, bits, zero_guard=False)


@mistake("8.2", "mantissas truncated instead of rounded", "each mantissa is the NEAREST whole number of steps: "
         "truncating moves every weight towards zero")
def _quantize_truncated(w, bits=8):
    return _quantize(w, bits, rounding=torch.trunc)


@mistake("8.2", "float mantissas", "the chip stores integers: return the mantissas as an integer tensor")
def _quantize_float(w, bits=8):
    return _quantize(w, bits, as_int=False)
