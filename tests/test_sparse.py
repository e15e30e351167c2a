"""Products that skip the zeros of spike trains (labkit/sparse.py)."""

import pytest
import torch
import torch.nn.functional as F

from labkit.models import SpikingMLP
from labkit.stdp import STDPParams, stdp_update
from labkit.sparse import (
    SPARSE_MAX_DENSITY,
    SPARSE_MIN_WIDTH,
    SpikeIndex,
    SpikeList,
    choose_product,
    column_index,
    known_index,
    remember_index,
    spike_index,
    spike_linear,
    spike_matmul_t,
    transpose_index,
)


def spikes(shape, rate, seed):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(shape, generator=g) < rate).float()


def test_spike_index_lists_each_rows_nonzero_columns():
    x = torch.tensor([[0.0, 1.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]])
    index = spike_index(x)
    assert index.columns.tolist() == [1, 3, 0], "columns of the nonzeros, row by row"
    assert index.offsets.tolist() == [0, 2, 2, 3], "row r owns columns[offsets[r]:offsets[r+1]] (an empty row: none)"
    assert index.values is None, "all-ones input is spikes: no weights needed"
    transposed = spike_index(x.t())
    assert transposed.columns.tolist() == [2, 0, 0], "xᵀ, read from the transposed view"
    assert transposed.offsets.tolist() == [0, 1, 2, 2, 3], "rows of xᵀ: columns of x"
    weighted_t = spike_index((torch.tensor([[0.0, 2.5], [0.5, 0.0]])).t())
    assert weighted_t.values.tolist() == [0.5, 2.5], "entries of a transposed view, in its row-major order"
    weighted = spike_index(torch.tensor([[0.0, 2.5], [0.5, 0.0]]))
    assert weighted.values.tolist() == [2.5, 0.5], "non-binary entries are kept as weights"
    assert spike_index(torch.ones(3, 4), max_density=0.5) is None, "denser than max_density: no index"


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



def test_column_index_is_reused_for_the_same_tensor_and_rebuilt_after_a_change():
    x = spikes((50, 20), 0.1, 14)
    first = column_index(x)
    assert column_index(x.view(50, 20)) is first, "a view of the same memory and version: the stored index"
    x[0, 0] = 1.0 - x[0, 0]  # an in-place change bumps the version
    rebuilt = column_index(x)
    assert rebuilt is not first, "after an in-place change the index is built again"
    want = spike_index(x.t().contiguous())
    assert all(torch.equal(a, b) for a, b in zip(rebuilt[:2], want[:2])), "and lists the new nonzeros"
    assert column_index(x, max_density=0.01) is None, "a stored index denser than asked for is not used"


@pytest.mark.parametrize("weighted", [False, True])
def test_transpose_index_is_the_index_of_the_transpose(weighted):
    x = spikes((40, 30), 0.15, 15)
    if weighted:
        x = x * torch.rand(x.shape, generator=torch.Generator().manual_seed(16))
    got, want = transpose_index(spike_index(x), 30), spike_index(x.t())
    assert torch.equal(got.columns, want.columns), "the rows of each column's nonzeros, ascending"
    assert torch.equal(got.offsets, want.offsets), "column c owns entries offsets[c]:offsets[c + 1]"
    assert (got.values is None) == (want.values is None), "weights only for non-binary entries"
    if weighted:
        assert torch.equal(got.values, want.values), "the entries in column-by-column order"


def test_a_remembered_index_is_used_by_the_product_and_forgotten_after_a_change():
    x = spikes((5, 8, 3, 20), 0.1, 17)  # [time, batch, 3, 20]: rows of 60 features
    index = spike_index(x.view(40, 60))
    assert remember_index(x, index) is x, "returns the tensor, to pass on"
    assert known_index(x.flatten(2).reshape(-1, 60)) is index, "a view with the same rows finds the index"
    assert known_index(x.view(20, 120)) is None, "a view with other rows does not"
    # a wrong index, to show that the product takes the remembered one instead of looking again
    marked = index._replace(columns=torch.zeros_like(index.columns))
    remember_index(x, marked)
    w = torch.randn(70, 60, generator=torch.Generator().manual_seed(18))
    assert not torch.allclose(spike_linear(x.view(40, 60), w, product="sparse"), x.view(40, 60) @ w.t()), \
        "the product reads the remembered index"
    x.mul_(1.0)  # an in-place change: the list may be stale
    torch.testing.assert_close(spike_linear(x.view(40, 60), w, product="sparse"), x.view(40, 60) @ w.t(),
                               msg="after a change the nonzeros are listed afresh")
    remember_index(x, index)
    del x
    assert known_index(spikes((40, 60), 0.1, 17)) is None, "a freed tensor's index is never found again"
    with pytest.raises(ValueError, match="rows"):
        remember_index(torch.zeros(41, 60), index)


def test_encoded_input_trains_like_the_unlisted_same_spikes():
    from labkit.encoding import encode_rate_indexed

    images = torch.rand(16, 60, generator=torch.Generator().manual_seed(19)) * (torch.rand(16, 60) < 0.3)
    code = encode_rate_indexed(images, 10, generator=torch.Generator().manual_seed(20))
    grads, updates = [], []
    for x in (remember_index(code.spikes, code.index), code.spikes.clone()):
        model = SpikingMLP((60, 80, 10), seed=0, input_product="sparse")
        out = model(x)
        out.out_membrane.sum().backward()
        grads.append(model.layers[0].weight.grad)
        updates.append(stdp_update(out.spikes[0], out.spikes[1], STDPParams()))
    assert torch.equal(grads[0], grads[1]), "the weight gradient from the encoder's list equals the one found afresh"
    assert torch.equal(updates[0], updates[1]), "and so does the STDP change of the same pass"



@pytest.mark.parametrize("weighted", [False, True])
def test_cutting_the_gather_into_row_blocks_and_column_slices_changes_no_sum(monkeypatch, weighted):
    import labkit.sparse as sparse_module

    x = spikes((300, 40), 0.2, 21)
    if weighted:
        x = x * torch.rand(x.shape, generator=torch.Generator().manual_seed(22))
    w = torch.randn(150, 40, generator=torch.Generator().manual_seed(23))
    b = torch.randn(150, generator=torch.Generator().manual_seed(24))
    whole = spike_linear(x, w, b, product="sparse")
    monkeypatch.setattr(sparse_module, "ROW_BLOCK", 7)  # 43 blocks, the last one short
    monkeypatch.setattr(sparse_module, "TABLE_CHUNK", 16)  # 10 slices, the last one short
    cut = spike_linear(x, w, b, product="sparse")
    assert torch.equal(cut, whole), "every output is the same sum in the same order, however the work is cut"
    torch.testing.assert_close(cut, x @ w.t() + b, msg="and it is the product")


# ----------------------------------------------------------------------------- spikes as their list alone


def _listed_and_dense(batch=16, features=60, steps=10, seed=30):
    from labkit.encoding import encode_rate_indexed, list_rate

    images = torch.rand(batch, features, generator=torch.Generator().manual_seed(seed))
    images = images * (torch.rand(batch, features, generator=torch.Generator().manual_seed(seed + 1)) < 0.3)
    listed = list_rate(images, steps, generator=torch.Generator().manual_seed(seed + 2))
    code = encode_rate_indexed(images, steps, generator=torch.Generator().manual_seed(seed + 2))
    return listed, code.spikes.flatten(2)


def test_a_spike_list_stands_for_the_dense_spikes_it_was_drawn_with():
    listed, dense = _listed_and_dense()
    assert isinstance(listed, SpikeList) and listed.shape == tuple(dense.shape) and listed.numel() == dense.numel()
    assert torch.equal(listed.dense(), dense), "dense() makes the tensor the same draws give"
    weighted = SpikeList(SpikeIndex(listed.index.columns, listed.index.offsets,
                                    torch.arange(listed.index.columns.numel(), dtype=torch.float32)), listed.shape)
    rows, columns = dense.reshape(-1, dense.shape[-1]).nonzero(as_tuple=True)
    values = weighted.dense().reshape(-1, dense.shape[-1])[rows, columns]
    assert torch.equal(values, torch.arange(values.numel(), dtype=torch.float32)), "values land where they are listed"


@pytest.mark.parametrize("product", ["sparse", "dense"])
def test_a_layer_reads_a_spike_list_as_it_reads_the_dense_tensor(product):
    listed, dense = _listed_and_dense()
    w = torch.randn(80, 60, generator=torch.Generator().manual_seed(31), requires_grad=True)
    b = torch.randn(80, generator=torch.Generator().manual_seed(32), requires_grad=True)
    outputs, grads = [], []
    for x in (listed, dense.clone()):
        out = spike_linear(x, w, b, product=product)
        (out * torch.linspace(-1, 1, 80)).sum().backward()
        outputs.append(out)
        grads.append((w.grad.clone(), b.grad.clone()))
        w.grad = b.grad = None
    assert outputs[0].shape == (10, 16, 80)
    assert torch.equal(outputs[0], outputs[1]), f"the same currents through the {product} product"
    assert all(torch.equal(g, h) for g, h in zip(*grads)), "and the same gradients"
    g = torch.randn(160, 7, generator=torch.Generator().manual_seed(33))
    assert torch.equal(spike_matmul_t(listed, g, product), spike_matmul_t(dense.reshape(160, 60), g, product))
    with pytest.raises(ValueError, match="same number of rows"):
        spike_matmul_t(listed, g[:5])


def test_a_spiking_mlp_and_stdp_read_a_spike_list_as_they_read_the_dense_input():
    listed, dense = _listed_and_dense()
    results = []
    for x in (listed, dense.clone()):
        model = SpikingMLP((60, 80, 10), seed=0)
        out = model(x)
        out.out_membrane.sum().backward()
        results.append((out.out_spikes, out.out_membrane, model.layers[0].weight.grad,
                        stdp_update(out.layer_input(0), out.layer_input(1), STDPParams())))
    assert all(torch.equal(a, b) for a, b in zip(*results)), "outputs, gradients and the STDP change agree"
    out = SpikingMLP((60, 80, 10), seed=0)(listed)
    assert out.layer_input(0) is listed, "the layer input is handed over as given"
    assert torch.equal(out.spikes[0], dense), "and read as spikes it is the dense tensor"
    spikes, membranes = out
    assert len(spikes) == 3 and len(membranes) == 2
    with pytest.raises(ValueError, match="network expects 50"):
        SpikingMLP((50, 10))(listed)
