r"""Compiled CPU loops: the rate code drawn and listed in one pass, a list of spikes turned column by
column in two, and the LIF recurrence in one.

What these loops compute is defined by plain torch code elsewhere, which they must reproduce bit
for bit (tests/test_kernels.py compares them, and tests/test_encoding.py freezes the rate code):

* `draw_rate_code`: `labkit.fast.encoding.encode_rate_indexed` after its random numbers are drawn.
  The candidates are the pixels with p > 0, in ascending position ``b·features + f``; with the
  uniform numbers ``noise [T, candidates]`` (drawn by torch, so the random stream is torch's),
  a candidate c fires at step t when ``noise[t, c] < p[c]``. The loop writes the 1s of the dense
  code (unless only the list is wanted: `labkit.fast.encoding.list_rate`) and lists the spikes row by
  row (row ``t·batch + b``, columns ascending) in the same pass.
  torch needs about ten passes through memory for it (compare, compact, remainder, search,
  scatter), each a separate kernel.
* `lif_forward`: the forward pass of `labkit.neurons.lif_sequence`, the same operations in the
  same order per neuron, in one pass through memory instead of four per step; `lif_forward_slices`
  the same from currents left as the column slices the first layer's gather makes them in
  (`labkit.fast.lists.spike_linear_slices`), with the bias added on the way: without gradients no one
  needs the currents put together.
* `transpose_spikes`: `labkit.fast.lists.transpose_index`, the same nonzeros column by column with
  their rows ascending, by a counting sort (count per column, prefix sum, place) instead of a
  stable comparison sort: two passes over the list.

The loops are compiled by numba (a dependency of librosa and so of tonic; listed in pyproject)
on first use and cached beside this file. Without numba, or for tensors they do not cover
(``available`` says which), callers take their torch path, which gives the same result.
``LABKIT_KERNELS=0`` in the environment switches the loops off (the torch paths then run).
"""

from __future__ import annotations

import numpy as np
import torch

from ..foundation.runtime import env_flag

__all__ = [
    "available", "draw_rate_code", "draws_inline", "lif_forward", "lif_forward_slices", "rate_candidates",
    "transpose_spikes",
]

_KERNEL_DTYPES = (torch.float32, torch.float64)
_compiled: dict | None = None


def _build() -> dict:
    """Compile the loops (numba, cached on disk), or an empty dict when numba is missing or switched off.

    Long by design: the loops are defined inside this function so that numba is imported (and
    they are compiled) only on first use, and a machine without numba never touches them.
    """
    if not env_flag("LABKIT_KERNELS", default=True):
        return {}
    try:
        import numba
    except ImportError:
        return {}

    @numba.njit(cache=True, nogil=True)
    def twist(state):  # pragma: no cover
        # the Mersenne Twister's next 624 words (Matsumoto and Nishimura 1998), as at::mt19937 makes them.
        # Word j becomes state[j + 397 mod 624] ^ f(state[j], state[j + 1]). Two loops, each without a
        # choice inside: below 227 the word 397 ahead is still the old one; from 227 on, the one 227
        # back is already the new one, as the recurrence wants. Neither loop reads a word it wrote less
        # than 227 iterations before, so the compiler runs each on whole vectors of words (about four
        # times faster than one loop with the choice in it).
        upper, lower, matrix, one = np.uint32(0x80000000), np.uint32(0x7FFFFFFF), np.uint32(0x9908B0DF), np.uint32(1)
        for j in range(227):
            y = (state[j] & upper) | (state[j + 1] & lower)
            state[j] = state[j + 397] ^ (y >> one) ^ (matrix * (state[j + 1] & one))
        for j in range(227, 623):
            y = (state[j] & upper) | (state[j + 1] & lower)
            state[j] = state[j - 227] ^ (y >> one) ^ (matrix * (state[j + 1] & one))
        y = (state[623] & upper) | (state[0] & lower)
        state[623] = state[396] ^ (y >> one) ^ (matrix * (state[0] & one))

    @numba.njit(cache=True, nogil=True)
    def uniform(state, out):  # pragma: no cover
        # torch.rand's float32 from each word: tempering, then the low 24 bits times 2⁻²⁴
        for j in range(624):
            y = state[j]
            y ^= y >> np.uint32(11)
            y ^= (y << np.uint32(7)) & np.uint32(0x9D2C5680)
            y ^= (y << np.uint32(15)) & np.uint32(0xEFC60000)
            y ^= y >> np.uint32(18)
            out[j] = np.float32(y & np.uint32(0xFFFFFF)) * np.float32(1.0 / 16777216.0)

    @numba.njit(cache=True, nogil=True)
    def rate_code(noise, state, cursor, p, columns_of, sample_starts, steps, spikes, columns, offsets):  # pragma: no cover
        # The uniform number of candidate c at step t is noise[t, c], or, when noise is empty, the
        # (t·C + c)-th draw of the generator whose state and cursor [left, next] are given (the order
        # in which torch.rand fills [T, C]); the cursor is left where torch would leave it.
        # p [C], columns_of [C]: the pixel of each candidate; sample_starts [B + 1]: the candidates of
        # sample b are sample_starts[b]:sample_starts[b + 1]; spikes [T·B, features], or [0, features]
        # for the list alone (no dense code written)
        batch, features = sample_starts.shape[0] - 1, spikes.shape[1]
        dense = spikes.shape[0] > 0
        scratch = np.empty(0 if dense else features, spikes.dtype)  # stands for the code when there is none
        inline = noise.shape[0] == 0
        left, position = cursor[0], cursor[1]
        words = np.empty(624, noise.dtype)  # the numbers of one block of the generator (float32 when drawing)
        if inline:
            uniform(state, words)
        k, row = 0, 0
        for t in range(steps):
            for b in range(batch):
                offsets[row] = k
                out = spikes[row] if dense else scratch  # one row of the code at a time, written while in cache
                if dense:
                    for f in range(features):
                        out[f] = 0.0
                row += 1
                c, end = sample_starts[b], sample_starts[b + 1]
                while c < end:
                    # a run of candidates whose numbers lie side by side: in the generator's block of
                    # words until it needs a twist (torch counts `left` down before each draw and twists
                    # at 0: left − 1 words are there), or in the given row of numbers
                    if inline:
                        if left <= 1:
                            twist(state)
                            uniform(state, words)
                            left, position = 625, 0
                        n = min(end - c, left - 1)
                        source, first = words, position
                        left -= n
                        position += n
                    else:
                        n = end - c
                        source, first = noise[t], c
                    # without a branch (about a third of the outcomes would be mispredicted): every
                    # candidate writes its column (and its 0 or 1 into the code), only a spike moves k on
                    if dense:
                        for i in range(n):
                            fired = source[first + i] < p[c + i]
                            f = columns_of[c + i]
                            out[f] = fired
                            columns[k] = f
                            k += fired
                    else:
                        for i in range(n):
                            columns[k] = columns_of[c + i]
                            k += source[first + i] < p[c + i]
                    c += n
        offsets[row] = k
        cursor[0], cursor[1] = left, position
        return k

    @numba.njit(cache=True, nogil=True)
    def transpose(columns, offsets, n_columns, rows_out, column_offsets, order):  # pragma: no cover
        # counting sort by column; within a column the rows stay ascending (a stable sort)
        for k in range(columns.shape[0]):
            if columns[k] < 0 or columns[k] >= n_columns:
                return False
            column_offsets[columns[k] + 1] += 1
        for j in range(n_columns):
            column_offsets[j + 1] += column_offsets[j]
        free = column_offsets[:n_columns].copy()
        for r in range(offsets.shape[0] - 1):
            for k in range(offsets[r], offsets[r + 1]):
                j = columns[k]
                rows_out[free[j]] = r
                if order.shape[0]:
                    order[free[j]] = k
                free[j] += 1
        return True

    @numba.njit(cache=True, nogil=True)
    def lif(current, beta, theta, zero_reset, membranes, spikes):  # pragma: no cover
        # current, membranes, spikes [T, N]; beta, theta in the tensors' dtype. The operations and
        # their order are those of labkit.neurons.lif_steps, neuron by neuron, step after
        # step in memory order: every array is read or written front to back (the previous step is
        # one row behind), which the memory system streams; running blocks of neurons through all steps
        # instead (each step one row further on) ran half as fast here
        steps, n = current.shape
        zero = beta * 0
        for i in range(n):
            u = zero + current[0, i]  # β·0 + I_0
            membranes[0, i] = u
            spikes[0, i] = u > theta
        for t in range(1, steps):
            for i in range(n):
                a = beta * membranes[t - 1, i]
                r = spikes[t - 1, i]
                if zero_reset:
                    u = (a - a * r) + current[t, i]  # β (1 − r) u_{t−1} + I_t: a − a·r is a or +0, exactly
                else:
                    u = (a + current[t, i]) - theta * r  # β u_{t−1} + I_t − θ r
                membranes[t, i] = u
                spikes[t, i] = u > theta

    @numba.njit(cache=True, nogil=True)
    def lif_slices(parts, bias, beta, theta, zero_reset, membranes, spikes):  # pragma: no cover
        # `lif` with the currents given as column slices: parts[k] [T·B, width_k] side by side are the
        # rows t·B + b of I without its bias; bias [N] (empty: none) is added as torch.add(sums, bias)
        # does. membranes, spikes [T, B, N]. Row after row, in memory order: every array is read or
        # written front to back (the previous step's row is one step's rows behind), the inner loop
        # over a slice's contiguous neurons.
        steps, batch = membranes.shape[0], membranes.shape[1]
        zero = beta * 0
        with_bias = bias.shape[0] > 0
        for t in range(steps):
            for b in range(batch):
                start = 0
                for k in range(len(parts)):
                    sums = parts[k][t * batch + b]
                    width = sums.shape[0]
                    add = bias[start:start + width] if with_bias else bias
                    u_out = membranes[t, b, start:start + width]
                    s_out = spikes[t, b, start:start + width]
                    if t == 0:
                        for j in range(width):
                            u = zero + (sums[j] + add[j] if with_bias else sums[j])  # β·0 + I_0
                            u_out[j] = u
                            s_out[j] = u > theta
                    else:
                        u_prev = membranes[t - 1, b, start:start + width]
                        r_prev = spikes[t - 1, b, start:start + width]
                        for j in range(width):
                            current = sums[j] + add[j] if with_bias else sums[j]
                            a = beta * u_prev[j]
                            if zero_reset:
                                u = (a - a * r_prev[j]) + current
                            else:
                                u = (a + current) - theta * r_prev[j]
                            u_out[j] = u
                            s_out[j] = u > theta
                    start += width

    @numba.njit(cache=True, nogil=True)
    def candidates(p, features, values, columns, sample_starts):  # pragma: no cover
        # the pixels with p > 0, sample by sample: every pixel writes its p and column, only one that
        # can fire moves k on (no branch to mispredict)
        k = 0
        batch = sample_starts.shape[0] - 1
        for b in range(batch):
            sample_starts[b] = k
            base = b * features
            for f in range(features):
                v = p[base + f]
                values[k] = v
                columns[k] = f
                k += v > 0
        sample_starts[batch] = k
        return k

    return {"rate_code": rate_code, "transpose": transpose, "lif": lif, "lif_slices": lif_slices,
            "candidates": candidates}


def _kernels() -> dict:
    global _compiled
    if _compiled is None:
        _compiled = _build()
    return _compiled


def available(*tensors: torch.Tensor) -> bool:
    """True when the compiled loops exist and cover ``tensors``: CPU tensors, floats in float32 or float64."""
    if not _kernels():
        return False
    return all(t.device.type == "cpu" and (not t.is_floating_point() or t.dtype in _KERNEL_DTYPES) for t in tensors)


# torch's CPU generator state (Generator.get_state(), 5,056 bytes): the seed (uint64), `left` (int32),
# `seeded` (int32), `next` (uint64), the 624 words (each as uint64), then the normal-sampling cache
_STATE_BYTES, _LEFT, _NEXT, _WORDS = 5056, 8, 16, 24
_inline_ok: bool | None = None


def _read_state(generator: torch.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    raw = generator.get_state().numpy().copy()
    words = raw[_WORDS:_WORDS + 624 * 8].view(np.uint64).astype(np.uint32)
    cursor = np.array([raw[_LEFT:_LEFT + 4].view(np.int32)[0], raw[_NEXT:_NEXT + 8].view(np.uint64)[0]], np.int64)
    return raw, words, cursor


def _write_state(generator: torch.Generator, raw: np.ndarray, words: np.ndarray, cursor: np.ndarray) -> None:
    raw[_LEFT:_LEFT + 4].view(np.int32)[0] = cursor[0]
    raw[_NEXT:_NEXT + 8].view(np.uint64)[0] = cursor[1]
    raw[_WORDS:_WORDS + 624 * 8].view(np.uint64)[:] = words
    generator.set_state(torch.from_numpy(raw))


def draws_inline(generator: torch.Generator | None, dtype: torch.dtype) -> bool:
    """True when `draw_rate_code` can draw the uniform numbers itself, the ones ``torch.rand(..., generator,
    dtype=dtype)`` would give, and leave ``generator`` where torch.rand would: float32 from an explicit CPU
    generator whose state has the layout above (checked once against torch.rand itself; otherwise False)."""
    global _inline_ok
    if generator is None or generator.device.type != "cpu" or dtype != torch.float32 or not _kernels():
        return False
    if _inline_ok is None:
        _inline_ok = False
        if generator.get_state().numel() == _STATE_BYTES:
            probe = torch.Generator().manual_seed(20261202)
            torch.rand(100, generator=probe)  # a cursor inside the words, not at a twist
            twin = torch.Generator()
            twin.set_state(probe.get_state())
            p = torch.rand(3 * 500, generator=torch.Generator().manual_seed(1)).clamp_(min=1e-3)
            candidates = torch.arange(p.numel())
            noise = torch.rand((4, p.numel()), generator=twin)  # 6,000 draws: across several twists
            want = draw_rate_code(noise, p, candidates, 3, 500, torch.int32, None, 4)
            got = draw_rate_code(None, p, candidates, 3, 500, torch.int32, probe, 4, _checked=True)
            _inline_ok = (all(torch.equal(a, b) for a, b in zip(got, want))
                          and torch.equal(probe.get_state(), twin.get_state()))
    return _inline_ok


def draw_rate_code(
    noise: torch.Tensor | None,
    p: torch.Tensor,
    candidates: torch.Tensor,
    batch: int,
    features: int,
    index_type: torch.dtype,
    generator: torch.Generator | None = None,
    steps: int | None = None,
    *,
    dense: bool = True,
    layout: tuple[torch.Tensor, torch.Tensor] | None = None,
    _checked: bool = False,
) -> tuple[torch.Tensor | None, torch.Tensor, torch.Tensor]:
    """The dense code ``[T · batch, features]`` and its list ``(columns, offsets)`` row by row
    (``dense=False``: the list only, and ``None`` for the code).

    ``layout``: the candidates' columns and where each sample's candidates start, as
    `rate_candidates` gives them (then ``candidates`` is not read; ``None``: found from it).

    ``noise [T, C]`` are the uniform numbers of the C ``candidates`` (ascending positions
    ``b·features + f``, all with p > 0) and ``p [C]`` their firing probabilities (module docstring).
    ``noise=None``: the loop draws them itself from ``generator`` for ``steps`` steps (only where
    `draws_inline` says so), as ``torch.rand((steps, C), generator=generator)`` would.
    """
    n_candidates = p.numel()
    if noise is None:
        if not (_checked or draws_inline(generator, p.dtype)):
            raise ValueError("draw_rate_code draws its own numbers only where draws_inline() is True; pass noise")
        raw, words, cursor = _read_state(generator)
        noise_array = np.empty((0, 0), dtype=np.float32)
    else:
        steps = noise.shape[0]
        raw, words, cursor = None, np.empty(624, np.uint32), np.zeros(2, np.int64)
        noise_array = noise.numpy()
    spikes = torch.empty(steps * batch if dense else 0, features, dtype=p.dtype)
    columns = torch.empty(steps * n_candidates, dtype=index_type)  # room for every candidate to fire
    offsets = torch.empty(steps * batch + 1, dtype=index_type)
    if layout is None:
        sample_starts = torch.searchsorted(candidates, torch.arange(batch + 1) * features)
        columns_of = candidates.remainder(features).to(index_type)
    else:
        columns_of, sample_starts = layout
    fired = _kernels()["rate_code"](noise_array, words, cursor, p.numpy(), columns_of.numpy(), sample_starts.numpy(),
                                    steps, spikes.numpy(), columns.numpy(), offsets.numpy())
    if raw is not None:
        _write_state(generator, raw, words, cursor)
    return spikes if dense else None, columns[:fired], offsets


def rate_candidates(p: torch.Tensor, batch: int, features: int,
                    index_type: torch.dtype) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(p_candidates, columns, sample_starts)`` for the firing probabilities ``p [batch · features]`` (all ≥ 0):
    the pixels with p > 0 in ascending position, their p and column, and ``sample_starts [batch + 1]``, where each
    sample's candidates start. One compiled pass for what `torch.nonzero`, a gather, a search and a remainder
    give (`draw_rate_code` takes the last two as its ``layout``)."""
    values = torch.empty_like(p)
    columns = torch.empty(p.numel(), dtype=index_type)
    sample_starts = torch.empty(batch + 1, dtype=torch.long)
    found = _kernels()["candidates"](p.numpy(), features, values.numpy(), columns.numpy(), sample_starts.numpy())
    return values[:found], columns[:found], sample_starts


def lif_forward(current: torch.Tensor, beta: float, theta: float, zero_reset: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """``(spikes, membranes)`` of `labkit.neurons.lif_sequence` for a contiguous ``current [T, ...]``, from rest."""
    steps = current.shape[0]
    membranes, spikes = torch.empty_like(current), torch.empty_like(current)
    scalar = current.numpy().dtype.type  # β and θ as torch uses them: rounded to the tensors' dtype
    flat = (steps, current.numel() // steps if steps else 0)
    _kernels()["lif"](current.view(flat).numpy(), scalar(beta), scalar(theta), zero_reset,
                      membranes.view(flat).numpy(), spikes.view(flat).numpy())
    return spikes, membranes


def lif_forward_slices(parts: list[torch.Tensor], bias: torch.Tensor | None, steps: int, beta: float, theta: float,
                       zero_reset: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """``(spikes, membranes)`` ``[T, B, N]`` of `lif_forward` for the currents ``I + bias``, where ``parts``
    ``[T·B, width_k]`` are the columns of I slice by slice (side by side, in order; contiguous) and ``bias [N]``
    (or ``None``). The currents are never put together; the values are those of `lif_forward` on them."""
    rows, n = parts[0].shape[0], sum(p.shape[1] for p in parts)
    membranes = torch.empty(steps, rows // steps, n, dtype=parts[0].dtype)
    spikes = torch.empty_like(membranes)
    scalar = membranes.numpy().dtype.type
    empty = membranes.new_empty(0).numpy()
    _kernels()["lif_slices"](tuple(p.numpy() for p in parts), empty if bias is None else bias.detach().numpy(),
                             scalar(beta), scalar(theta), zero_reset, membranes.numpy(), spikes.numpy())
    return spikes, membranes


def transpose_spikes(
    columns: torch.Tensor, offsets: torch.Tensor, n_columns: int, with_order: bool
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """``(rows, column_offsets, order)``: the list ``(columns, offsets)`` column by column, rows ascending;
    ``order[k]`` is where the k-th entry of the result was in the input (``None`` unless ``with_order``)."""
    rows = torch.empty_like(columns)
    column_offsets = torch.zeros(n_columns + 1, dtype=columns.dtype)
    order = torch.empty(columns.numel() if with_order else 0, dtype=torch.long)
    if not _kernels()["transpose"](columns.numpy(), offsets.numpy(), n_columns, rows.numpy(), column_offsets.numpy(),
                                   order.numpy()):
        raise ValueError(f"the list names columns outside 0 ... {n_columns - 1}: pass the number of columns of the "
                         "tensor it lists")
    return rows, column_offsets, order if with_order else None
