r"""Products with spike trains that skip the zeros.

A spike is 0 or 1. So the input current of a layer, :math:`I = S W^\top` for the spikes S of all
T·B rows (one per time step and sample), is row by row the sum of the columns of W whose input
spiked, and the weight gradient :math:`\nabla_W L = G^\top S` of the backward pass sums, for each
input, the rows of G where that input spiked:

.. math::

    I[r, :] = \sum_{i:\,S[r, i] = 1} W^\top[i, :], \qquad
    (S^\top G)[i, :] = \sum_{r:\,S[r, i] = 1} G[r, :]

`torch.nn.functional.embedding_bag` (mode ``"sum"``) computes exactly such sums of selected rows
of a table, given the selected row numbers as one list and where each bag starts (``offsets``).
A rate-coded MNIST digit makes about 13 % of its pixels spike at each step, so this is about a
seventh of the arithmetic of the dense product. The sums are the dense product's up to float
rounding (the additions come in another order), not bit for bit.

`spike_linear` takes this product on the CPU when at most `SPARSE_MAX_DENSITY` of the input is
nonzero and the layer has at least `SPARSE_MIN_WIDTH` outputs, and the dense product otherwise
(always on a GPU, whose dense products are what it is built for). Inputs that are not 0/1 (a
noisy current) enter with their values as weights. `spike_matmul_t` is the transposed product
STDP needs (`labkit.stdp.stdp_update`). The opt-in fast backend (`labkit.fast`) computes the same
sums with the spikes listed once while they are drawn, and compiled loops.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["PRODUCTS", "SPARSE_MAX_DENSITY", "SPARSE_MIN_WIDTH", "TABLE_CHUNK", "Nonzeros", "Product", "SpikeLinear",
           "check_product", "choose_product", "nonzeros_by_column", "nonzeros_by_row", "spike_linear", "spike_matmul_t",
           "sum_rows"]

Product = Literal["auto", "dense", "sparse"]
PRODUCTS: tuple[str, ...] = ("auto", "dense", "sparse")

#: Up to this fraction of nonzero entries ``auto`` takes the sparse product. benchmarks/bench_sparse.py
#: measures where it stops paying: at a density of about 0.35 with one thread and 0.31 with two
#: on the 2-core machine of benchmarks/results.md; 0.25 stays below both.
SPARSE_MAX_DENSITY = 0.25

#: Finding the nonzeros costs about as much as a dense product with this many outputs per row,
#: so narrower products (the 10 outputs of the paper's last layer) stay dense.
SPARSE_MIN_WIDTH = 64


class Nonzeros(NamedTuple):
    """The nonzeros of a matrix ``x [rows, features]``, row by row, as `embedding_bag` reads them.

    Row r owns the entries ``k in offsets[r]:offsets[r + 1]``, at ``x[r, columns[k]]`` (columns
    ascending); ``values`` are those entries, or ``None`` when every one is 1 (spikes).
    """

    columns: torch.Tensor
    offsets: torch.Tensor
    values: torch.Tensor | None


def nonzeros_by_row(x: torch.Tensor) -> Nonzeros:
    """The nonzeros of ``x [rows, features]``, row by row (`Nonzeros`)."""
    rows, columns = x.nonzero(as_tuple=True)  # row-major order: rows ascending, then columns
    offsets = torch.searchsorted(rows, torch.arange(x.shape[0] + 1, device=x.device))
    values = x[rows, columns]
    return Nonzeros(columns, offsets, None if bool((values == 1).all()) else values)


def nonzeros_by_column(nonzeros: Nonzeros, features: int) -> Nonzeros:
    """The same nonzeros column by column (those of ``xᵀ``, rows ascending within a column), from the row-by-row
    list: a stable sort of the column numbers, instead of a second search through x."""
    rows = torch.repeat_interleave(torch.arange(len(nonzeros.offsets) - 1, device=nonzeros.columns.device),
                                   nonzeros.offsets.diff(), output_size=nonzeros.columns.numel())
    keys = nonzeros.columns.to(torch.int16) if features < 2**15 else nonzeros.columns  # 16-bit keys sort faster
    columns, order = torch.sort(keys, stable=True)
    offsets = torch.searchsorted(columns, torch.arange(features + 1, device=columns.device, dtype=columns.dtype))
    return Nonzeros(rows[order], offsets, None if nonzeros.values is None else nonzeros.values[order])


#: Columns of the table per `embedding_bag` call: a 64-wide slice of a 784-row table (200 KB) stays in a
#: core's cache while every row's nonzeros are gathered from it, about 1.5 times faster than one call
#: over all 500 columns. Each output element is the same sum in the same order either way.
TABLE_CHUNK = 64


def sum_rows(table: torch.Tensor, nonzeros: Nonzeros) -> torch.Tensor:
    """``out[r] = Σ_k x[r, columns[k]] · table[columns[k]]`` over the nonzeros of row r: ``x @ table``."""
    return torch.cat([F.embedding_bag(nonzeros.columns, table[:, i:i + TABLE_CHUNK].contiguous(), nonzeros.offsets,
                                      mode="sum", per_sample_weights=nonzeros.values, include_last_offset=True)
                      for i in range(0, table.shape[1], TABLE_CHUNK)], dim=1)


def check_product(product: str) -> None:
    """`ValueError` unless ``product`` is one of `PRODUCTS`."""
    if product not in PRODUCTS:
        raise ValueError(f"product must be one of {', '.join(map(repr, PRODUCTS))}, got {product!r}")


def choose_product(x: torch.Tensor, product: Product = "auto", width: int = 500) -> Literal["dense", "sparse"]:
    """Which product multiplies ``x [rows, features]`` by ``width`` outputs: ``auto`` is sparse on the CPU when
    at most `SPARSE_MAX_DENSITY` of x is nonzero and ``width`` is at least `SPARSE_MIN_WIDTH`."""
    return "dense" if _sparse_plan(x, product, width) is None else "sparse"


def _sparse_plan(x: torch.Tensor, product: Product, width: int) -> Nonzeros | None:
    """The nonzeros of ``x [rows, features]`` when the sparse product is the one to take, else None."""
    check_product(product)
    if product == "dense" or (product == "auto" and (x.device.type != "cpu" or width < SPARSE_MIN_WIDTH)):
        return None
    nonzeros = nonzeros_by_row(x)
    if product == "auto" and nonzeros.columns.numel() > SPARSE_MAX_DENSITY * x.numel():
        return None
    return nonzeros


class _SpikeProduct(torch.autograd.Function):
    """``x Wᵀ + b`` as sums of the columns of W selected by x; backward ∇W = (xᵀ G)ᵀ the same way, ∇b = Σ_r G[r]."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, nonzeros: Nonzeros):
        current = sum_rows(weight.detach().t(), nonzeros)
        ctx.save_for_backward(weight)
        ctx.nonzeros, ctx.features, ctx.has_bias = nonzeros, x.shape[1], bias is not None
        return current if bias is None else current.add_(bias.detach())

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (weight,) = ctx.saved_tensors
        grad_x = grad @ weight if ctx.needs_input_grad[0] else None
        grad_w = (sum_rows(grad, nonzeros_by_column(ctx.nonzeros, ctx.features)).t()
                  if ctx.needs_input_grad[1] else None)
        grad_b = grad.sum(dim=0) if ctx.has_bias and ctx.needs_input_grad[2] else None
        return grad_x, grad_w, grad_b, None


def spike_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
                 product: Product = "auto") -> torch.Tensor:
    """``x @ weight.T + bias`` for ``x [..., in]``, ``weight [out, in]``, skipping the zeros of x where that pays
    (`choose_product`); the value of `torch.nn.functional.linear` up to rounding, with its gradients."""
    if x.shape[-1] != weight.shape[1]:
        raise ValueError(f"x has {x.shape[-1]} features, weight expects {weight.shape[1]} (weight is [out, in])")
    flat = x.reshape(-1, x.shape[-1])
    nonzeros = _sparse_plan(flat, product, weight.shape[0])
    if nonzeros is None:
        return F.linear(x, weight, bias)
    return _SpikeProduct.apply(flat, weight, bias, nonzeros).view(*x.shape[:-1], weight.shape[0])


def spike_matmul_t(x: torch.Tensor, g: torch.Tensor, product: Product = "auto") -> torch.Tensor:
    """``x.T @ g`` for ``x [rows, features]`` (mostly zeros) and ``g [rows, n]``: ``[features, n]``."""
    if x.shape[0] != g.shape[0]:
        raise ValueError(f"x and g must have the same number of rows, got {x.shape[0]} and {g.shape[0]}")
    nonzeros = _sparse_plan(x, product, g.shape[1])
    if nonzeros is None:
        return x.t() @ g
    return sum_rows(g, nonzeros_by_column(nonzeros, x.shape[1]))


class SpikeLinear(nn.Linear):
    """An `nn.Linear` whose product skips the zeros of its input (`spike_linear`).

    The same parameters (and state dict) as `nn.Linear`, so hooks and tools that look for
    ``nn.Linear`` layers see it as one. ``product`` as in `spike_linear`.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None,
                 product: Product = "auto"):
        check_product(product)
        super().__init__(in_features, out_features, bias, device, dtype)
        self.product = product

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return spike_linear(x, self.weight, self.bias, self.product)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, product={self.product!r}"
