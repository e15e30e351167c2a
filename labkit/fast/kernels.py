r"""Compiled CPU loops: the rate code drawn and listed in one pass, a list of spikes turned column by
column in two, and the LIF recurrence in one.

What these loops compute is defined by plain torch code elsewhere, which they must reproduce bit
for bit (tests/test_fast_kernels.py compares them; tests/test_encoding.py freezes the rate code):

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

import torch

from ..foundation.runtime import env_flag

__all__ = [
    "available", "draw_rate_code", "lif_forward", "lif_forward_slices", "rate_candidates",
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
    def rate_code(noise, p, columns_of, sample_starts, spikes, columns, offsets):  # pragma: no cover
        # The uniform number of candidate c at step t is noise[t, c] (torch.rand's [T, C]).
        # p [C], columns_of [C]: the pixel of each candidate; sample_starts [B + 1]: the candidates of
        # sample b are sample_starts[b]:sample_starts[b + 1]; spikes [T·B, features], or [0, features]
        # for the list alone (no dense code written)
        steps, batch, features = noise.shape[0], sample_starts.shape[0] - 1, spikes.shape[1]
        dense = spikes.shape[0] > 0
        k, row = 0, 0
        for t in range(steps):
            draws = noise[t]
            for b in range(batch):
                offsets[row] = k
                if dense:
                    out = spikes[row]  # one row of the code at a time, written while in cache
                    for f in range(features):
                        out[f] = 0.0
                row += 1
                # without a branch (about a third of the outcomes would be mispredicted): every
                # candidate writes its column (and its 0 or 1 into the code), only a spike moves k on
                if dense:
                    for c in range(sample_starts[b], sample_starts[b + 1]):
                        fired = draws[c] < p[c]
                        f = columns_of[c]
                        out[f] = fired
                        columns[k] = f
                        k += fired
                else:
                    for c in range(sample_starts[b], sample_starts[b + 1]):
                        columns[k] = columns_of[c]
                        k += draws[c] < p[c]
        offsets[row] = k
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


def draw_rate_code(
    noise: torch.Tensor,
    p: torch.Tensor,
    candidates: torch.Tensor,
    batch: int,
    features: int,
    index_type: torch.dtype,
    *,
    dense: bool = True,
    layout: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> tuple[torch.Tensor | None, torch.Tensor, torch.Tensor]:
    """The dense code ``[T · batch, features]`` and its list ``(columns, offsets)`` row by row
    (``dense=False``: the list only, and ``None`` for the code).

    ``noise [T, C]`` are the uniform numbers of the C ``candidates`` (ascending positions
    ``b·features + f``, all with p > 0), drawn by ``torch.rand``, and ``p [C]`` their firing
    probabilities (module docstring). ``layout``: the candidates' columns and where each sample's
    candidates start, as `rate_candidates` gives them (then ``candidates`` is not read; ``None``:
    found from it).
    """
    steps, n_candidates = noise.shape[0], p.numel()
    spikes = torch.empty(steps * batch if dense else 0, features, dtype=p.dtype)
    columns = torch.empty(steps * n_candidates, dtype=index_type)  # room for every candidate to fire
    offsets = torch.empty(steps * batch + 1, dtype=index_type)
    if layout is None:
        sample_starts = torch.searchsorted(candidates, torch.arange(batch + 1) * features)
        columns_of = candidates.remainder(features).to(index_type)
    else:
        columns_of, sample_starts = layout
    fired = _kernels()["rate_code"](noise.numpy(), p.numpy(), columns_of.numpy(), sample_starts.numpy(),
                                    spikes.numpy(), columns.numpy(), offsets.numpy())
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
