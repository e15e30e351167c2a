"""`CopiedDense`: B copies of one Dense connection in one Lava process, arithmetic linear in B.

Running B copies of the network in one Lava graph shares Lava's per-step messaging between B
images (`labkit.loihi.lava_network`). With Lava's own ``Dense`` the copies need a block-diagonal
weight matrix [B·n_out, B·n_in], and its model gathers the columns of every input spike over all
B·n_out rows: B² times the work of one copy, most of it on the zero blocks. Lava's ``Sparse``
skips the zeros but selects columns of a CSR matrix, which walks every stored weight at every
step (``benchmarks/bench_lava.py`` measures both).

`CopiedDense` holds W [n_out, n_in] once and computes each copy's input from that copy's spikes
alone, with the arithmetic of Lava 0.10's Dense models (``lava.proc.dense.models``, binary
spikes, ``num_message_bits = 0``):

* ``floating_pt``: per copy, the sum of the weight columns of the spiking inputs in increasing
  input order, one after the other, as Lava's ``PyDenseModelFloat`` adds them (``W[:, s]`` is
  Fortran-ordered, so its ``.sum(axis=1)`` is a plain running sum), read from W^T's contiguous
  rows: every copy's currents equal those of a Dense of its own bit for bit (tested).
* ``fixed_pt``: the weights clipped to 8 bits and truncated to ``num_weight_bits`` once, as Lava's
  ``PyDenseModelBitAcc`` does (``lava.utils.weightutils``); then the integer sum of the selected
  columns, shifted by ``weight_exp``. Integer sums do not depend on the order of the terms, so all
  copies are computed as one product ``S W^T`` of 0/1 rows in float64, exact while
  n_in · 256 < 2^53 (checked when the process is made), and rounded back to integers.

Like Lava's Dense, the output is delayed by one step (the currents computed at step t are sent
at step t + 1). Block c of the ports (``s_in`` [B·n_in], ``a_out`` [B·n_out]) is copy c.
This module imports Lava at the top: import it only where Lava is installed.
"""

from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.process.variable import Var
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol
from lava.utils.weightutils import clip_weights, determine_sign_mode, truncate_weights

__all__ = ["CopiedDense"]

#: Integers of float64 are exact below this magnitude.
_EXACT = 2.0**53


class CopiedDense(AbstractProcess):
    """``copies`` copies of the connection ``weights`` [n_out, n_in], side by side.

    Args:
        weights: one copy's weights (float, or integer mantissas for ``fixed_pt``).
        copies: B.
        weight_exp, num_weight_bits: as for Lava's ``Dense`` (``fixed_pt`` only).
    """

    def __init__(self, *, weights: np.ndarray, copies: int, weight_exp: int = 0, num_weight_bits: int = 8) -> None:
        weights = np.asarray(weights)
        if weights.ndim != 2:
            raise ValueError(f"CopiedDense weights must be [n_out, n_in], got shape {weights.shape}")
        copies = int(copies)
        if copies < 1:
            raise ValueError(f"CopiedDense copies must be >= 1, got {copies}")
        if weights.shape[1] * 256.0 >= _EXACT:  # |w| <= 256 once clipped to 8 bits (fixed_pt)
            raise ValueError(f"CopiedDense: {weights.shape[1]} inputs of 8-bit weights could leave float64's "
                             "exact integers; use Lava's Dense for this layer")
        n_out, n_in = weights.shape
        super().__init__(copies=copies, weight_exp=int(weight_exp), num_weight_bits=int(num_weight_bits))
        self.s_in = InPort(shape=(copies * n_in,))
        self.a_out = OutPort(shape=(copies * n_out,))
        self.weights = Var(shape=weights.shape, init=weights)
        self.a_buff = Var(shape=(copies * n_out,), init=0)


@implements(proc=CopiedDense, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyCopiedDenseModelFloat(PyLoihiProcessModel):
    """Float model: per copy, Lava's ``PyDenseModelFloat`` expression ``W[:, s].sum(axis=1)``."""

    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, bool, precision=1)
    a_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    a_buff: np.ndarray = LavaPyType(np.ndarray, float)
    weights: np.ndarray = LavaPyType(np.ndarray, float)

    def __init__(self, proc_params) -> None:
        super().__init__(proc_params)
        self._transposed = None  # W^T, C-contiguous: the rows of the input spikes are contiguous

    def run_spk(self) -> None:
        if self._transposed is None:
            self._transposed = np.ascontiguousarray(np.asarray(self.weights, dtype=np.float64).T)
        self.a_out.send(self.a_buff)
        spikes = self.s_in.recv().astype(bool).reshape(self.proc_params["copies"], -1)
        # W[:, s] is Fortran-ordered, so Dense's sum over axis 1 adds the selected columns one after the
        # other; W^T[s].sum(axis=0) adds the same rows in the same order, from contiguous memory.
        self.a_buff = np.concatenate([self._transposed[np.flatnonzero(row)].sum(axis=0) for row in spikes])


@implements(proc=CopiedDense, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyCopiedDenseModelFixed(PyLoihiProcessModel):
    """Bit-accurate model: Lava's ``PyDenseModelBitAcc`` weights and shift, the sums as one exact product."""

    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, bool, precision=1)
    a_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=16)
    a_buff: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=16)
    weights: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=8)

    def __init__(self, proc_params) -> None:
        super().__init__(proc_params)
        self._transposed = None  # W^T in float64, made on the first step from the truncated weights

    def run_spk(self) -> None:
        params = self.proc_params
        if self._transposed is None:
            sign_mode = params.get("sign_mode") or determine_sign_mode(self.weights)
            weights = clip_weights(self.weights, sign_mode, num_bits=8)
            weights = truncate_weights(weights, sign_mode, params.get("num_weight_bits", 8))
            self._transposed = np.ascontiguousarray(np.asarray(weights, dtype=np.float64).T)
        self.a_out.send(self.a_buff)
        spikes = self.s_in.recv().astype(bool).reshape(params["copies"], -1)
        accum = np.rint(spikes.astype(np.float64) @ self._transposed).astype(np.int64).reshape(-1)
        exp = params.get("weight_exp", 0)
        self.a_buff = np.left_shift(accum, exp) if exp > 0 else np.right_shift(accum, -exp)
