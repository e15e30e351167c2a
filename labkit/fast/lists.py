r"""The fast backend's products with spike trains: the spikes listed once, the lists kept and reused.

The same sums as `labkit.sparse` (read it first: :math:`I[r] = \sum_{i: S[r,i]=1} W^\top[i]` and
:math:`(S^\top G)[i] = \sum_{r: S[r,i]=1} G[r]` through `embedding_bag`), with the work around them cut:

* an encoder that knows where it put its spikes (`labkit.fast.encoding.encode_rate_indexed`) hands
  the list over with `remember_index`, so the first layer does not look for the nonzeros again;
* the column-by-column list the weight gradient and STDP read is made from the row-by-row one
  (`transpose_index`, a counting sort compiled in `labkit.fast.kernels`), once per batch
  (`column_index` keeps the last one per thread);
* where nobody needs the dense tensor at all (the training loop and the evaluators of a
  `labkit.fast.FastSpikingMLP`), the encoder hands over a `SpikeList`: the list alone, with the
  shape of the spikes it stands for; ``dense()`` makes the tensor when something wants it;
* the table is gathered in slices of `TABLE_CHUNK` columns that stay in a core's cache.

Every sum is the one `labkit.sparse` adds, in the same order, so the two agree bit for bit on
the same spikes (tests/test_fast.py).
"""

from __future__ import annotations

import threading
import weakref
from typing import NamedTuple

import torch
import torch.nn.functional as F

from ..sparse import SPARSE_MAX_DENSITY, SPARSE_MIN_WIDTH, TABLE_CHUNK, Product, check_product
from . import kernels

__all__ = [
    "ROW_BLOCK",
    "SpikeIndex",
    "SpikeList",
    "column_index",
    "known_index",
    "remember_index",
    "spike_index",
    "transpose_index",
    "spike_linear",
    "spike_linear_slices",
    "spike_matmul_t",
]


class SpikeIndex(NamedTuple):
    """The nonzeros of a 2-D tensor ``x``, row by row, in the layout `embedding_bag` reads.

    Row r owns nonzeros ``k in offsets[r]:offsets[r + 1]``, at ``x[r, columns[k]]`` (columns
    ascending); ``values`` are the entries, or ``None`` when every one is 1 (spikes).
    """

    columns: torch.Tensor
    offsets: torch.Tensor
    values: torch.Tensor | None


class SpikeList(NamedTuple):
    """Spikes ``[time, batch, features]`` held as the list of their nonzeros only (`SpikeIndex`, one row per
    time step and sample: row ``t·batch + b``), without the dense tensor.

    `spike_linear`, `spike_matmul_t` and `labkit.models.SpikingMLP` take it where they take a dense
    tensor; ``dense()`` makes that tensor (the same values), for plots, for teaching and for code
    that wants one.
    """

    index: SpikeIndex
    shape: tuple[int, int, int]
    dtype: torch.dtype = torch.float32

    @property
    def device(self) -> torch.device:
        return self.index.columns.device

    def matrix_shape(self) -> tuple[int, int]:
        """``(rows, features)``: the spikes read as the matrix the first layer multiplies."""
        return self.shape[0] * self.shape[1], self.shape[2]

    def numel(self) -> int:
        return self.shape[0] * self.shape[1] * self.shape[2]

    def matmul_t(self, g: torch.Tensor) -> torch.Tensor:
        """``spikesᵀ @ g`` for the spikes read as their matrix (`spike_matmul_t`): what STDP multiplies."""
        return spike_matmul_t(self, g)

    def dense(self) -> torch.Tensor:
        """The spikes as a dense tensor ``[time, batch, features]`` (zeros, the listed entries 1 or their values)."""
        n_rows, n_columns = self.matrix_shape()
        index = self.index
        rows = torch.repeat_interleave(torch.arange(n_rows, device=self.device), index.offsets.diff().long(),
                                       output_size=index.columns.numel())
        out = torch.zeros(n_rows * n_columns, dtype=self.dtype, device=self.device)
        flat = rows.mul_(n_columns).add_(index.columns)
        if index.values is None:
            out.index_fill_(0, flat, 1.0)
        else:
            out.index_copy_(0, flat, index.values.to(self.dtype))
        return out.view(self.shape)


def _densify(x: torch.Tensor | SpikeList) -> torch.Tensor:
    """``x`` as a dense ``[rows, features]`` matrix; a `SpikeList` made dense with its list remembered."""
    if isinstance(x, SpikeList):
        return remember_index(x.dense().view(x.matrix_shape()), x.index)
    return x


def spike_index(
    x: torch.Tensor,
    *,
    max_density: float = 1.0,
    binary: bool | None = None,
    nonzero: torch.Tensor | None = None,
) -> SpikeIndex | None:
    """The nonzeros of ``x [rows, features]``, row by row (`SpikeIndex`).

    Returns ``None`` instead when more than ``max_density`` of the entries are nonzero.
    ``binary`` says whether every nonzero is 1 and ``nonzero`` is ``x != 0``, when the caller
    knows them (``None``: look).
    """
    n_rows, n_columns = x.shape
    nonzero = (x != 0 if nonzero is None else nonzero).contiguous()  # contiguous: x may be a transpose
    flat = nonzero.view(-1).nonzero().squeeze(1)  # positions r·n_columns + c, ascending
    if flat.numel() > max_density * x.numel():
        return None
    row_starts = torch.arange(n_rows + 1, device=x.device) * n_columns
    offsets = torch.searchsorted(flat, row_starts)  # the first nonzero at or after each row's start
    values = None
    if binary is not True:
        values = _entries(x, flat)
        if binary is None and bool((values == 1).all()):
            values = None  # spikes: weights of 1 need not be passed
    # int32 indices: `embedding_bag` reads them faster (a tensor of at most 2³¹ entries)
    index_type = torch.int32 if x.numel() < 2**31 else torch.long
    return SpikeIndex(flat.remainder(n_columns).to(index_type), offsets.to(index_type), values)


def _entries(x: torch.Tensor, flat: torch.Tensor) -> torch.Tensor:
    """The entries of ``x`` at row-major positions ``flat``, read straight from memory when x is
    contiguous or the transpose of a contiguous tensor."""
    if x.is_contiguous():
        return x.view(-1).index_select(0, flat)
    if x.t().is_contiguous():
        rows, columns = flat.div(x.shape[1], rounding_mode="floor"), flat.remainder(x.shape[1])
        return x.t().reshape(-1).index_select(0, columns * x.shape[0] + rows)
    return x.reshape(-1).index_select(0, flat)


def transpose_index(index: SpikeIndex, n_columns: int) -> SpikeIndex:
    """The `SpikeIndex` of ``xᵀ`` from that of ``x [rows, n_columns]``: the same nonzeros, column by column.

    A stable sort of the column numbers puts each column's nonzeros together with their rows
    still ascending, so the result is the one `spike_index` builds from ``xᵀ`` (entry for entry),
    without transposing and scanning the dense tensor.
    """
    n_rows = index.offsets.numel() - 1
    device, index_type = index.columns.device, index.columns.dtype
    if kernels.available(index.columns) and index.offsets.dtype == index_type and (
            index.values is None or kernels.available(index.values)):
        # a counting sort in two compiled passes: the same result as the stable sort below
        rows, offsets, order = kernels.transpose_spikes(index.columns, index.offsets, n_columns,
                                                        with_order=index.values is not None)
        return SpikeIndex(rows, offsets, None if order is None else index.values.index_select(0, order))
    # sorting 16-bit keys is about twice as fast as 32-bit ones on the CPU
    keys = index.columns.to(torch.int16) if n_columns <= 2**15 - 1 else index.columns
    sorted_columns, order = torch.sort(keys, stable=True)
    rows = torch.repeat_interleave(torch.arange(n_rows, device=device, dtype=index_type),
                                   index.offsets.diff(), output_size=index.columns.numel())
    offsets = torch.searchsorted(sorted_columns, torch.arange(n_columns + 1, device=device, dtype=keys.dtype))
    values = None if index.values is None else index.values.index_select(0, order)
    return SpikeIndex(rows.index_select(0, order), offsets.to(index_type), values)


def _key(x: torch.Tensor) -> tuple:
    """What identifies the memory and the contents of ``x``: an in-place change bumps ``_version``."""
    return (x.data_ptr(), x.shape, x.stride(), x.dtype, x.device, x._version)


class _KnownIndex(threading.local):
    """The row-by-row index of the last tensor an encoder listed the spikes of (`remember_index`), per thread.

    It holds a weak reference to the tensor: while the tensor lives, no other tensor occupies its
    memory, so a tensor with the same address, shape, strides and version is a view of it with
    the same contents; once it is freed, the entry never matches again.
    """

    key: tuple | None = None
    ref: weakref.ref | None = None
    index: SpikeIndex | None = None


_known_index = _KnownIndex()


def remember_index(x: torch.Tensor, index: SpikeIndex) -> torch.Tensor:
    """Record that ``index`` lists the nonzeros of ``x`` read as a matrix of ``len(index.offsets) − 1``
    rows (``[time, batch, ...]`` spikes: one row per time step and sample), and return ``x``.

    `spike_linear` and `spike_matmul_t` then take the index instead of looking for the nonzeros
    again (`labkit.fast.encoding.encode_rate_indexed` builds it while drawing the spikes). Only the
    latest tensor is remembered, per thread; changing ``x`` in place forgets it.
    """
    n_rows = index.offsets.numel() - 1
    if n_rows < 1 or x.numel() % n_rows or not x.is_contiguous():
        raise ValueError(f"index lists {n_rows} rows: x must be a contiguous tensor whose entries split into "
                         f"that many rows, got shape {tuple(x.shape)}{'' if x.is_contiguous() else ' (not contiguous)'}")
    cache = _known_index
    cache.key, cache.ref, cache.index = _key(x.view(n_rows, x.numel() // n_rows)), weakref.ref(x), index
    return x


def known_index(x: torch.Tensor) -> SpikeIndex | None:
    """The index `remember_index` recorded for ``x [rows, features]``, or ``None``."""
    cache = _known_index
    if cache.ref is None or cache.ref() is None or cache.key != _key(x):
        return None
    return cache.index


class _LastColumnIndex(threading.local):
    """The column-by-column index of the last input seen, per thread.

    The backward pass of `spike_linear` and the STDP change of the same batch
    (`spike_matmul_t`) both need the nonzeros of the same input spikes column by column;
    the second asks for what the first built. The entry holds its tensor, so no other tensor
    can occupy the same memory while it is stored; an in-place change of the tensor bumps its
    version and misses.
    """

    key: tuple | None = None
    tensor: torch.Tensor | None = None
    index: SpikeIndex | None = None


_last_column_index = _LastColumnIndex()


def column_index(
    x: torch.Tensor | SpikeList,
    *,
    binary: bool | None = None,
    max_density: float = 1.0,
    nonzero: torch.Tensor | None = None,
    rows: SpikeIndex | None = None,
) -> SpikeIndex | None:
    """`spike_index` of ``xᵀ``: the nonzeros of ``x [rows, features]``, column by column (cached, see
    `_LastColumnIndex`); ``binary`` and ``nonzero`` (``x != 0``) as in `spike_index`. ``rows``,
    the row-by-row index of x when the caller has it (or one `remember_index` recorded), is
    transposed instead of scanning x (`transpose_index`)."""
    if isinstance(x, SpikeList):  # its list is its identity; it transposes to the one wanted
        key, rows = ("list", *_key(x.index.columns), x.shape), x.index
    else:
        key = _key(x)
    cache = _last_column_index
    if cache.key == key and cache.index is not None:
        return cache.index if cache.index.columns.numel() <= max_density * x.numel() else None
    rows = known_index(x) if rows is None else rows
    if rows is not None:
        if rows.columns.numel() > max_density * x.numel():
            return None
        index = transpose_index(rows, x.shape[-1])
    else:
        index = spike_index(x.t(), binary=binary, max_density=max_density,
                            nonzero=None if nonzero is None else nonzero.t())
    if index is not None:
        cache.key, cache.tensor, cache.index = key, x, index
    return index




#: Rows per pass of `_gather_rows`: the nonzeros of 4,096 rows of MNIST spikes (about 1.6 MB of
#: indices) stay in the cache while all slices of the table are gathered for them; a list over
#: the 25,000 rows of an inference batch of 1,000 digits (10 MB) would be read from memory once
#: per slice. A training batch (128 digits, 3,200 rows) is one block.
ROW_BLOCK = 4096


def _gather_rows(index: SpikeIndex, table: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """out[r] = Σ_i x[r, i] · table[i] (+ bias) over the nonzeros of row r (see `SpikeIndex`).

    ``table`` may be any view (a transposed weight): each slice is made contiguous once, here.
    The rows are gathered in blocks of `ROW_BLOCK`, each block through every slice of `TABLE_CHUNK`
    columns, and each slice's sums are written into their place in the result with the bias added
    on the way. Every row's sum is the same, in the same order, however the work is cut.
    """
    width, rows = table.shape[1], index.offsets.numel() - 1
    if width <= TABLE_CHUNK and rows <= ROW_BLOCK:
        out = F.embedding_bag(index.columns, table.contiguous(), index.offsets, mode="sum",
                              per_sample_weights=index.values, include_last_offset=True)
        return out if bias is None else out.add_(bias)
    slices = [slice(i, i + TABLE_CHUNK) for i in range(0, width, TABLE_CHUNK)]
    parts = [table[:, columns].contiguous() for columns in slices]
    out = torch.empty(rows, width, dtype=table.dtype, device=table.device)
    for first in range(0, rows, ROW_BLOCK):
        block = slice(first, min(first + ROW_BLOCK, rows))
        offsets = index.offsets[block.start:block.stop + 1]
        if rows > ROW_BLOCK:
            start, stop = int(offsets[0]), int(offsets[-1])
            columns, values, offsets = index.columns[start:stop], None if index.values is None else \
                index.values[start:stop], offsets - offsets[0]
        else:
            columns, values = index.columns, index.values
        for part, where in zip(parts, slices):
            sums = F.embedding_bag(columns, part, offsets, mode="sum", per_sample_weights=values,
                                   include_last_offset=True)
            if bias is None:
                out[block, where] = sums
            else:
                torch.add(sums, bias[where], out=out[block, where])
    return out


def spike_linear_slices(x: torch.Tensor | SpikeList, weight: torch.Tensor,
                        product: Product = "auto") -> list[torch.Tensor] | None:
    """``x @ weight.T`` for ``x [..., in]`` (or a `SpikeList`) as its columns cut into slices of `TABLE_CHUNK`:
    one ``[rows, width_s]`` tensor per slice, side by side the product without the bias, no gradient.

    For a reader that takes the slices as they come (`labkit.fast.kernels.lif_forward_slices`): each
    slice is one gather over all rows, and no pass puts them together. ``None`` where `spike_linear`
    would not take the sparse product. Every sum is the one `spike_linear` adds the bias to.
    """
    flat = x if isinstance(x, SpikeList) else x.reshape(-1, x.shape[-1])
    index = _plan(flat, product, weight.shape[0])
    if index is None:
        return None
    table = weight.detach().t()
    return [F.embedding_bag(index.columns, table[:, i:i + TABLE_CHUNK].contiguous(), index.offsets, mode="sum",
                            per_sample_weights=index.values, include_last_offset=True)
            for i in range(0, table.shape[1], TABLE_CHUNK)]


def _max_density(x: torch.Tensor | SpikeList, product: Product, width: int) -> float | None:
    """Up to which density the sparse product is to be used for ``x [rows, features]``; ``None``: never.

    ``width`` is the number of outputs each nonzero contributes to (the other factor's columns).
    ``auto`` considers it on the CPU for wide enough products only (then density decides).
    """
    check_product(product)
    if product == "sparse":
        return 1.0
    if product == "auto" and x.device.type == "cpu" and x.numel() > 0 and width >= SPARSE_MIN_WIDTH:
        return SPARSE_MAX_DENSITY
    return None


def _plan(x: torch.Tensor | SpikeList, product: Product, width: int) -> SpikeIndex | None:
    """The row-by-row index of ``x [rows, features]`` when the sparse product is to be used, else ``None``
    (the one `remember_index` recorded for x, if any; a `SpikeList`'s own)."""
    max_density = _max_density(x, product, width)
    if max_density is None:
        return None
    index = x.index if isinstance(x, SpikeList) else known_index(x)
    if index is not None:
        return index if index.columns.numel() <= max_density * x.numel() else None
    return spike_index(x, max_density=max_density)


class _SparseLinear(torch.autograd.Function):
    """x Wᵀ + b through `embedding_bag`; backward ∇W = (xᵀ G)ᵀ the same way, ∇b = Σ_r G[r]."""

    @staticmethod
    def forward(ctx, x: torch.Tensor | SpikeList, weight: torch.Tensor, bias: torch.Tensor | None, index: SpikeIndex):
        out = _gather_rows(index, weight.t(), None if bias is None else bias.detach())
        listed = isinstance(x, SpikeList)  # not a tensor: autograd neither tracks nor saves it
        ctx.save_for_backward(None if listed else x, weight)
        ctx.listed, ctx.index, ctx.has_bias = x if listed else None, index, bias is not None
        return out

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        x, weight = ctx.saved_tensors
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = grad @ weight
        if ctx.needs_input_grad[1]:
            by_column = column_index(x if ctx.listed is None else ctx.listed, rows=ctx.index)
            grad_w = _gather_rows(by_column, grad).t().contiguous()
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_b = grad.sum(dim=0)
        return grad_x, grad_w, grad_b, None


def spike_linear(
    x: torch.Tensor | SpikeList,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    product: Product = "auto",
) -> torch.Tensor:
    """``x @ weight.T + bias`` for ``x [..., in]`` (or a `SpikeList`), ``weight [out, in]``, skipping the zeros of x.

    Same value as `torch.nn.functional.linear` up to rounding (module docstring), gradients
    for ``weight`` and ``bias`` (and for ``x`` when it needs one, through the dense product).
    """
    if x.shape[-1] != weight.shape[1]:
        raise ValueError(f"x has {x.shape[-1]} features, weight expects {weight.shape[1]} (weight is [out, in])")
    flat = x if isinstance(x, SpikeList) else x.reshape(-1, x.shape[-1])
    index = _plan(flat, product, weight.shape[0])
    if index is None:
        return F.linear(_densify(x).view(*x.shape), weight, bias)
    return _SparseLinear.apply(flat, weight, bias, index).view(*x.shape[:-1], weight.shape[0])


def spike_matmul_t(x: torch.Tensor | SpikeList, g: torch.Tensor, product: Product = "auto") -> torch.Tensor:
    """``x.T @ g`` for ``x [rows, features]`` (mostly zeros; or a `SpikeList`, read as its rows) and
    ``g [rows, n]``: ``[features, n]``."""
    rows = x.matrix_shape()[0] if isinstance(x, SpikeList) else x.shape[0]
    if rows != g.shape[0]:
        raise ValueError(f"x and g must have the same number of rows, got {rows} and {g.shape[0]}")
    max_density = _max_density(x, product, g.shape[1])
    by_column = None if max_density is None else column_index(x, max_density=max_density)
    if by_column is None:
        return _densify(x).t() @ g
    return _gather_rows(by_column, g)
