"""Exercise 8.2: quantising weights to Loihi's mantissa and exponent."""

from __future__ import annotations

import numbers

import numpy as np
import torch

from ..loihi.quantize import quantize_weights as reference
from .core import Case, CheckResult, Mismatch, expect_equal, expect_pair, run_cases, show, to_numpy

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


def quantize_weights(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 8.2, ``quantize_weights(w, bits) -> (mantissa, exponent)`` with w ≈ mantissa · 2**exponent."""
    rand = (torch.randn(50, 40, generator=torch.Generator().manual_seed(0)) * 0.05).tolist()
    cases = [
        Case("chapter 8's example with 4 bits", "e = ceil(log2(max|w| / (2**(bits-1) - 1))); m = round(w / 2**e)",
              _quant_case([0.30, -0.12, 0.051, -0.297, 0.0], 4, [5, -2, 1, -5, 0], -4)),
        Case("the largest weight fits exactly (exponent 0)", "compute e from max|w| (abs: negative weights count)",
              _quant_case([-7.0, 3.0, 1.2], 4, [-7, 3, 1], 0)),
        Case("all-zero weights give zero mantissas and exponent 0", "log2(0) is undefined: handle max|w| == 0 first",
              _quant_case([0.0, 0.0, 0.0], 8, [0, 0, 0], 0)),
        Case("large weights get a positive exponent", "the same formula: e can be positive",
              _quant_case([300.0, -41.0, 3.0], 8, [75, -10, 1], 2)),
        Case("random weights with 4 bits match labkit.loihi.quantize", "round, then clamp to ±(2**(bits-1) - 1)",
              _quant_case(rand, 4)),
        Case("random weights with 8 bits match labkit.loihi.quantize", "use the bits argument everywhere",
              _quant_case(rand, 8)),
    ]
    return run_cases("8.2", "quantize_weights", fn, cases, quiet=quiet)
