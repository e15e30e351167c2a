"""Products that skip the zeros of spike trains (labkit/sparse.py): the default path's."""

import pytest
import torch
import torch.nn.functional as F

from labkit.models import SpikingMLP
from labkit.stdp import STDPParams, stdp_update
from labkit.sparse import (
    SPARSE_MAX_DENSITY,
    SPARSE_MIN_WIDTH,
    choose_product,
    nonzeros_by_column,
    nonzeros_by_row,
    spike_linear,
    spike_matmul_t,
)


def spikes(shape, rate, seed):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(shape, generator=g) < rate).float()


def test_nonzeros_are_listed_row_by_row_and_column_by_column():
    x = torch.tensor([[0.0, 1.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]])
    rows = nonzeros_by_row(x)
    assert rows.columns.tolist() == [1, 3, 0], "columns of the nonzeros, row by row"
    assert rows.offsets.tolist() == [0, 2, 2, 3], "row r owns columns[offsets[r]:offsets[r+1]] (an empty row: none)"
    assert rows.values is None, "all-ones input is spikes: no weights needed"
    columns = nonzeros_by_column(rows, 4)
    assert columns.columns.tolist() == [2, 0, 0], "the rows of each column's nonzeros, ascending"
    assert columns.offsets.tolist() == [0, 1, 2, 2, 3], "column c owns entries offsets[c]:offsets[c + 1]"
    weighted = nonzeros_by_row(torch.tensor([[0.0, 2.5], [0.5, 0.0]]))
    assert weighted.values.tolist() == [2.5, 0.5], "non-binary entries are kept as weights"
    assert nonzeros_by_column(weighted, 2).values.tolist() == [0.5, 2.5], "in column-by-column order"


@pytest.mark.parametrize("weighted", [False, True])
def test_the_column_list_made_from_the_row_list_is_the_list_of_the_transpose(weighted):
    x = spikes((40, 30), 0.15, 15)
    if weighted:
        x = x * torch.rand(x.shape, generator=torch.Generator().manual_seed(16))
    got, want = nonzeros_by_column(nonzeros_by_row(x), 30), nonzeros_by_row(x.t())
    assert torch.equal(got.columns, want.columns) and torch.equal(got.offsets, want.offsets)
    assert (got.values is None) == (want.values is None)
    if weighted:
        assert torch.equal(got.values, want.values)


@pytest.mark.parametrize("weighted", [False, True])
def test_cutting_the_table_into_column_slices_changes_no_sum(monkeypatch, weighted):
    import labkit.sparse as sparse_module

    x = spikes((300, 40), 0.2, 21)
    if weighted:
        x = x * torch.rand(x.shape, generator=torch.Generator().manual_seed(22))
    w = torch.randn(150, 40, generator=torch.Generator().manual_seed(23))
    b = torch.randn(150, generator=torch.Generator().manual_seed(24))
    whole = spike_linear(x, w, b, product="sparse")
    monkeypatch.setattr(sparse_module, "TABLE_CHUNK", 16)  # 10 slices, the last one short
    cut = spike_linear(x, w, b, product="sparse")
    assert torch.equal(cut, whole), "every output is the same sum in the same order, however the table is cut"
    torch.testing.assert_close(cut, x @ w.t() + b, msg="and it is the product")


@pytest.mark.parametrize("rate", [0.02, 0.13, 0.25])
@pytest.mark.parametrize("bias", [True, False])
def test_sparse_linear_equals_the_dense_product_and_its_gradients(rate, bias):
    x = spikes((25, 16, 60), rate, 0)
    g = torch.Generator().manual_seed(1)
    w = torch.randn(30, 60, generator=g)
    b = torch.randn(30, generator=g) if bias else None
    upstream = torch.randn(25, 16, 30, generator=g)
    results = {}
    for product in ("dense", "sparse"):
        w_ = w.clone().requires_grad_()
        b_ = b.clone().requires_grad_() if bias else None
        out = spike_linear(x, w_, b_, product)
        out.backward(upstream)
        results[product] = (out, w_.grad, b_.grad if bias else None)
    dense, sparse = results["dense"], results["sparse"]
    torch.testing.assert_close(sparse[0], dense[0], msg="x Wᵀ + b: the same sum over the nonzeros of x")
    torch.testing.assert_close(sparse[1], dense[1], msg="∇W = Gᵀ x: the same sum over the nonzeros of x")
    if bias:
        torch.testing.assert_close(sparse[2], dense[2], msg="∇b = Σ_rows G")


def test_sparse_linear_weights_non_binary_inputs_and_passes_a_gradient_to_them():
    g = torch.Generator().manual_seed(2)
    x = spikes((40, 20), 0.1, 3) * torch.rand(40, 20, generator=g) * 3  # event counts, say
    w = torch.randn(7, 20, generator=g)
    x_sparse, x_dense = x.clone().requires_grad_(), x.clone().requires_grad_()
    out = spike_linear(x_sparse, w, None, "sparse")
    torch.testing.assert_close(out, F.linear(x, w), msg="values enter as weights of the gathered rows")
    out.sum().backward()
    F.linear(x_dense, w).sum().backward()
    torch.testing.assert_close(x_sparse.grad, x_dense.grad, msg="an input that needs a gradient gets G W")


def test_spike_matmul_t_equals_the_transposed_product():
    x = spikes((300, 50), 0.1, 4)
    g = torch.randn(300, 9, generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(spike_matmul_t(x, g, "sparse"), x.T @ g, msg="xᵀ g over the nonzeros of x")
    with pytest.raises(ValueError, match="same number of rows"):
        spike_matmul_t(x, g[:-1])


def test_all_zero_input_gives_the_bias_and_no_weight_gradient():
    w = torch.randn(5, 8, requires_grad=True)
    b = torch.randn(5, requires_grad=True)
    out = spike_linear(torch.zeros(3, 8), w, b, "sparse")
    torch.testing.assert_close(out, b.detach().expand(3, 5), msg="no spikes: the current is the bias")
    out.sum().backward()
    assert torch.count_nonzero(w.grad) == 0, "no spikes: no weight gradient"


def test_auto_chooses_by_density_on_the_cpu():
    assert choose_product(spikes((100, 100), SPARSE_MAX_DENSITY / 3, 6)) == "sparse", "sparse input on the CPU"
    assert choose_product(spikes((100, 100), 0.6, 7)) == "dense", "dense input: the BLAS product"
    assert choose_product(spikes((100, 100), 0.6, 7), "sparse") == "sparse", "an explicit choice is kept"
    narrow = choose_product(spikes((100, 100), 0.05, 6), width=SPARSE_MIN_WIDTH - 1)
    assert narrow == "dense", "few outputs per nonzero: finding the nonzeros would cost more than it saves"
    with pytest.raises(ValueError, match="product must be one of"):
        choose_product(torch.zeros(2, 2), "fast")
    with pytest.raises(ValueError, match="product must be one of"):
        SpikingMLP((4, 3, 2), input_product="fast")


def test_spiking_mlp_gives_the_same_spikes_with_either_product():
    x = spikes((25, 32, 784), 0.1, 8)
    model = SpikingMLP(seed=0)
    dense = SpikingMLP(seed=0, input_product="dense")
    a, b = model(x), dense(x)
    torch.testing.assert_close(a.membranes[0], b.membranes[0], rtol=1e-5, atol=1e-5,
                               msg="hidden membranes agree up to rounding")
    assert torch.equal(a.out_spikes, b.out_spikes), "the same output spikes (this seed: no threshold flips)"


def test_sparse_training_is_deterministic():
    x = spikes((10, 16, 100), 0.1, 9)
    target = torch.randint(0, 5, (16,), generator=torch.Generator().manual_seed(10))

    def run():
        model = SpikingMLP((100, 40, 5), seed=3, input_product="sparse")
        opt = torch.optim.Adam(model.parameters(), lr=1e-2)
        for _ in range(5):
            loss = F.cross_entropy(model(x).out_membrane.sum(0), target)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return model.layers[0].weight.detach().clone()

    assert torch.equal(run(), run()), "same seed, same weights, bit for bit"


@pytest.mark.parametrize("soft_bound", [False, True])
def test_stdp_update_is_the_same_through_the_sparse_product(soft_bound, monkeypatch):
    import labkit.stdp as plasticity

    params = STDPParams(A_plus=0.03, A_minus=0.02, tau_plus=4.0, tau_minus=6.0, soft_bound=soft_bound,
                        w_min=-0.5, w_max=1.5)
    pre, post = spikes((20, 8, 30), 0.05, 11), spikes((20, 8, 12), 0.2, 12)
    weight = torch.rand(12, 30, generator=torch.Generator().manual_seed(13)) * 2 - 0.5
    sparse = stdp_update(pre, post, params, weight)
    monkeypatch.setattr(plasticity, "spike_matmul_t", lambda x, g: spike_matmul_t(x, g, "dense"))
    dense = stdp_update(pre, post, params, weight)
    torch.testing.assert_close(sparse, dense, msg="ΔW through the sparse product equals the dense one")
