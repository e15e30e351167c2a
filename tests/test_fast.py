"""The opt-in fast backend (labkit/fast/): the spikes listed once and reused, compiled loops, and
`FastSpikingMLP`, which must compute exactly what the default path computes."""

import subprocess
import sys

import pytest
import torch

from labkit.fast import FastSpikingMLP, accelerate
from labkit.fast.lists import (
    SpikeIndex,
    SpikeList,
    column_index,
    known_index,
    remember_index,
    spike_index,
    spike_linear,
    spike_matmul_t,
    transpose_index,
)
from labkit.models import SpikingMLP
from labkit.neurons import LIFParams
from labkit.stdp import STDPParams, stdp_update


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
    from labkit.fast.encoding import encode_rate_indexed

    images = torch.rand(16, 60, generator=torch.Generator().manual_seed(19)) * (torch.rand(16, 60) < 0.3)
    code = encode_rate_indexed(images, 10, generator=torch.Generator().manual_seed(20))
    grads, updates = [], []
    for x in (remember_index(code.spikes, code.index), code.spikes.clone()):
        model = FastSpikingMLP((60, 80, 10), seed=0, input_product="sparse")
        out = model(x)
        out.out_membrane.sum().backward()
        grads.append(model.layers[0].weight.grad)
        updates.append(stdp_update(out.spikes[0], out.spikes[1], STDPParams()))
    assert torch.equal(grads[0], grads[1]), "the weight gradient from the encoder's list equals the one found afresh"
    assert torch.equal(updates[0], updates[1]), "and so does the STDP change of the same pass"


@pytest.mark.parametrize("weighted", [False, True])
def test_cutting_the_gather_into_row_blocks_and_column_slices_changes_no_sum(monkeypatch, weighted):
    import labkit.fast.lists as sparse_module

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


def _listed_and_dense(batch=16, features=60, steps=10, seed=30):
    from labkit.fast.encoding import encode_rate_indexed, list_rate

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
        model = FastSpikingMLP((60, 80, 10), seed=0)
        out = model(x)
        out.out_membrane.sum().backward()
        results.append((out.out_spikes, out.out_membrane, model.layers[0].weight.grad,
                        stdp_update(out.layer_input(0), out.layer_input(1), STDPParams())))
    assert all(torch.equal(a, b) for a, b in zip(*results)), "outputs, gradients and the STDP change agree"
    out = FastSpikingMLP((60, 80, 10), seed=0)(listed)
    assert out.layer_input(0) is listed, "the layer input is handed over as given"
    assert torch.equal(out.spikes[0], dense), "and read as spikes it is the dense tensor"
    spikes, membranes = out
    assert len(spikes) == 3 and len(membranes) == 2
    with pytest.raises(ValueError, match="network expects 50"):
        FastSpikingMLP((50, 10))(listed)


# ----------------------------------------------------------------------------- the backend against the default path


def _small_data(n_train=256, n_test=128):
    from labkit.data import mnist_data

    data = mnist_data("bundled")
    return data._replace(train_x=data.train_x[:n_train], train_y=data.train_y[:n_train],
                         test_x=data.test_x[:n_test], test_y=data.test_y[:n_test])


@pytest.mark.parametrize("rule", ["bp", "sum", "adaptive"])
def test_the_fast_backend_trains_the_same_network_as_the_default_path_bit_for_bit(rule):
    from labkit.training import evaluate, train

    data = _small_data()
    runs = {}
    for cls in (SpikingMLP, FastSpikingMLP):
        model = cls(seed=0)
        history = train(model, rule, data, 2, batch_size=64, seed=1, progress=False)
        runs[cls.__name__] = (history.loss, history.test_acc, [p.detach().clone() for p in model.parameters()],
                              evaluate(model, data.test_x, data.test_y, noise_sigma=0.3, seed=2))
    default, fast = runs["SpikingMLP"], runs["FastSpikingMLP"]
    assert default[:2] == fast[:2], "the same losses and accuracies, epoch by epoch"
    assert all(torch.equal(a, b) for a, b in zip(default[2], fast[2])), "the same weights, bit for bit"
    assert default[3] == fast[3], "and the same accuracy under noise"


def test_the_listed_rate_code_is_the_default_encoders_code():
    from labkit.encoders import RateEncoder
    from labkit.fast import ListingRateEncoder

    images = _small_data().train_x[:32]
    dense = RateEncoder(gain=0.8)(images, 25, torch.Generator().manual_seed(4))
    listed = ListingRateEncoder(RateEncoder(gain=0.8))(images, 25, torch.Generator().manual_seed(4))
    assert torch.equal(listed.dense(), dense.flatten(2)), "the same draws, the same spikes"
    assert ListingRateEncoder(RateEncoder(gain=0.8)).gain == 0.8, "everything else is the encoder's own"


def test_accelerate_copies_a_network_onto_the_fast_backend():
    model = SpikingMLP((30, 20, 5), seed=3, recurrent=True)
    fast = accelerate(model)
    assert isinstance(fast, FastSpikingMLP) and fast is not model and fast.is_recurrent
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), fast.state_dict().values()))
    x = spikes((6, 4, 30), 0.3, 5)
    assert torch.equal(model(x).out_membrane, fast(x).out_membrane), "the same network"
    back = SpikingMLP((30, 20, 5), seed=None, recurrent=True)
    back.load_state_dict(fast.state_dict())  # the state dict is the default class's


def test_the_default_path_imports_no_numba():
    code = ("import sys; from labkit.data import mnist_data; from labkit.models import SpikingMLP; "
            "from labkit.training import evaluate, train; d = mnist_data('bundled'); "
            "d = d._replace(train_x=d.train_x[:64], train_y=d.train_y[:64], test_x=d.test_x[:32], test_y=d.test_y[:32]); "
            "m = SpikingMLP(seed=0); train(m, 'adaptive', d, 1, seed=0, progress=False); "
            "evaluate(m, d.test_x, d.test_y); print('numba' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "False", "training and testing with the defaults never load the compiled loops"


@pytest.mark.parametrize("reset, bias", [("zero", True), ("subtract", True), ("zero", False)])
def test_a_pass_without_gradients_gives_what_the_pass_with_them_gives(reset, bias):
    # without gradients the first layer's currents stay in the slices its gather makes them in
    # (labkit.fast.lists.spike_linear_slices, labkit.fast.kernels.lif_forward_slices): the same values, bit for bit,
    # and the default path's
    from labkit.fast.encoding import list_rate

    model = FastSpikingMLP((784, 300, 10), seed=2, lif=LIFParams(beta=0.9, threshold=0.6, reset=reset), bias=bias)
    if bias:
        with torch.no_grad():
            model.layers[0].bias.normal_(0.0, 0.3, generator=torch.Generator().manual_seed(3))
    images = torch.rand(70, 784, generator=torch.Generator().manual_seed(4))
    images[images < 0.8] = 0.0
    default = SpikingMLP((784, 300, 10), seed=2, lif=model.lif, bias=bias)
    default.load_state_dict(model.state_dict())
    for x in (spikes((12, 70, 784), 0.12, 4), list_rate(images, 12, generator=torch.Generator().manual_seed(5))):
        with_grad = model(x)
        with torch.no_grad():
            without = model(x)
            plain = default(x if isinstance(x, torch.Tensor) else x.dense())
        for a, b, c in zip(with_grad.spikes[1:] + with_grad.membranes, without.spikes[1:] + without.membranes,
                           plain.spikes[1:] + plain.membranes):
            assert torch.equal(a.detach(), b) and torch.equal(b, c), "every layer's spikes and membranes agree"
        assert 0.02 < with_grad.spikes[1].mean() < 0.6, "the hidden layer fires now and then: resets are exercised"
