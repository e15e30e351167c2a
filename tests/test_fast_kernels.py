"""labkit.fast.kernels: the compiled loops give exactly what the torch code they replace gives."""

from __future__ import annotations

import pytest
import torch

from labkit.encoding import encode_rate
from labkit.fast import kernels
from labkit.fast.encoding import encode_rate_indexed
from labkit.fast.lists import SpikeIndex, spike_index, transpose_index

pytestmark = pytest.mark.skipif(not kernels.available(torch.zeros(1)),
                                reason="numba is not installed (or LABKIT_KERNELS=0): only the torch paths run")


@pytest.fixture
def torch_paths(monkeypatch):
    """Switch the compiled loops off for the duration of a call: ``with torch_paths(): ...``."""
    import contextlib

    @contextlib.contextmanager
    def switched_off():
        with monkeypatch.context() as m:
            m.setattr(kernels, "_compiled", {})
            yield
    return switched_off


def _images(shape, seed, black=0.6):
    x = torch.rand(shape, generator=torch.Generator().manual_seed(seed))
    x[x < black] = 0.0  # MNIST-like: most pixels black, some saturated
    x[x > 0.95] = 1.0
    return x


CASES = [
    ((32, 28, 28), 25, 1.0, torch.float32),
    ((7, 784), 9, 1.7, torch.float32),  # gain: probabilities clipped at 1
    ((5, 3, 20), 4, 0.5, torch.float64),
    ((1, 10), 30, 1.0, torch.float32),
    ((200,), 6, 1.0, torch.float32),  # one feature per sample
]


@pytest.mark.parametrize("shape, steps, gain, dtype", CASES)
def test_the_compiled_rate_code_is_the_torch_code_bit_for_bit(torch_paths, shape, steps, gain, dtype):
    x = _images(shape, 1).to(dtype)
    x[0] = 0.0  # a black digit: its rows are empty
    got = encode_rate_indexed(x, steps, gain=gain, generator=torch.Generator().manual_seed(2))
    g_want = torch.Generator().manual_seed(2)
    with torch_paths():
        assert not kernels.available(x), "the fixture switches the loops off"
        want = encode_rate_indexed(x, steps, gain=gain, generator=g_want)
    assert got.spikes.dtype == want.spikes.dtype and got.spikes.shape == want.spikes.shape, "same dtype and shape"
    assert torch.equal(got.spikes, want.spikes), "the same spikes"
    readable = encode_rate(x, steps, gain=gain, generator=torch.Generator().manual_seed(2), silent_draws=False)
    assert torch.equal(got.spikes, readable), "the default path's rate code (labkit.encoding), draw for draw"
    for name in ("columns", "offsets"):
        a, b = getattr(got.index, name), getattr(want.index, name)
        assert a.dtype == b.dtype and torch.equal(a, b), f"the same list of spikes ({name}, dtype {b.dtype})"
    assert got.index.values is None, "spikes are ones: no weights"


def test_both_paths_leave_the_generator_where_the_next_draw_continues_the_stream(torch_paths):
    x = _images((16, 784), 3)
    g_got, g_want = torch.Generator().manual_seed(4), torch.Generator().manual_seed(4)
    for _ in range(3):
        encode_rate_indexed(x, 25, generator=g_got)
        with torch_paths():
            encode_rate_indexed(x, 25, generator=g_want)
        assert torch.equal(g_got.get_state(), g_want.get_state()), "the compiled path draws exactly the same numbers"
    assert torch.equal(torch.rand(1000, generator=g_got), torch.rand(1000, generator=g_want)), \
        "and torch.rand continues from there as after its own draws"


@pytest.mark.parametrize("weighted", [False, True])
def test_the_compiled_transpose_is_the_stable_sort(torch_paths, weighted):
    x = (torch.rand(300, 70, generator=torch.Generator().manual_seed(5)) < 0.15).float()
    x[7] = 0.0  # an empty row
    x[:, 3] = 0.0  # an empty column
    if weighted:
        x = x * torch.rand(x.shape, generator=torch.Generator().manual_seed(6))
    rows = spike_index(x)
    got = transpose_index(rows, 70)
    with torch_paths():
        want = transpose_index(rows, 70)
    for a, b in zip(got[:2], want[:2]):
        assert a.dtype == b.dtype and torch.equal(a, b), "the same rows and column offsets"
    assert (got.values is None) == (not weighted), "weights only for weighted entries"
    if weighted:
        assert torch.equal(got.values, want.values), "the entries in column-by-column order"
    assert all(torch.equal(a, b) for a, b in zip(got[:2], spike_index(x.t())[:2])), "the index of the transpose"


def test_the_compiled_transpose_refuses_columns_out_of_range():
    bad = SpikeIndex(torch.tensor([0, 5], dtype=torch.int32), torch.tensor([0, 1, 2], dtype=torch.int32), None)
    with pytest.raises(ValueError, match="outside 0"):
        transpose_index(bad, 4)


def test_tensors_the_loops_do_not_cover_take_the_torch_path():
    assert not kernels.available(torch.zeros(3, dtype=torch.float16)), "half precision: torch"
    assert kernels.available(torch.zeros(3), torch.zeros(3, dtype=torch.int32)), "float32 and integer CPU tensors"
    x = _images((4, 50), 7).half()
    code = encode_rate_indexed(x, 5, generator=torch.Generator().manual_seed(8))
    assert code.spikes.dtype == torch.float16, "half precision still encodes, on the torch path"


@pytest.mark.parametrize("reset", ["zero", "subtract"])
@pytest.mark.parametrize("beta, theta, dtype", [(0.9, 1.0, torch.float32), (0.85, 0.3, torch.float32),
                                                (0.95, 0.7, torch.float64)])
def test_the_compiled_lif_is_the_torch_recurrence_bit_for_bit(torch_paths, reset, beta, theta, dtype):
    # β = 0.85 and θ = 0.3 are not exact in binary: they must be rounded to the tensors' dtype as torch
    # rounds them, and the neurons (3 · 700 = 2,100, not a multiple of the loop's block) all updated
    from labkit.fast import CompiledLIFSequence
    from labkit.neurons import ATan, LIFParams, lif_sequence

    current = (torch.randn(30, 3, 700, generator=torch.Generator().manual_seed(9)) * 0.5 + 0.2).to(dtype)
    params = LIFParams(beta, theta, reset)
    got = CompiledLIFSequence.apply(current, params, ATan())
    want = lif_sequence(current, params)  # the default path: torch operations
    for name, a, b in zip(("spikes", "membranes"), got, want):
        assert a.dtype == b.dtype and torch.equal(a, b), f"the same {name}"
    assert 0.02 < want[0].mean() < 0.8, "the neurons fire now and then, so resets are exercised"


@pytest.mark.parametrize("kernels_on", [True, False], ids=["compiled", "torch"])
def test_list_rate_lists_the_spikes_of_the_indexed_code_and_leaves_the_generator_alike(kernels_on, monkeypatch):
    from labkit.fast.encoding import list_rate

    if not kernels_on:
        monkeypatch.setattr(kernels, "_compiled", {})
    images = torch.rand(9, 28, 28, generator=torch.Generator().manual_seed(40))
    images[images < 0.6] = 0.0
    g_list, g_code = torch.Generator().manual_seed(41), torch.Generator().manual_seed(41)
    listed = list_rate(images, 12, gain=1.3, generator=g_list)
    code = encode_rate_indexed(images, 12, gain=1.3, generator=g_code)
    assert listed.shape == (12, 9, 784) and listed.dtype == images.dtype
    assert torch.equal(listed.index.columns, code.index.columns) and torch.equal(listed.index.offsets, code.index.offsets)
    assert torch.equal(listed.dense(), code.spikes.flatten(2)), "the same spikes"
    assert torch.equal(g_list.get_state(), g_code.get_state()), "and the stream continues where it would"
