"""Tests for labkit.models: the spiking MLP and the ANN baseline."""

from __future__ import annotations

import math

import pytest
import torch

from labkit.models import ANNBaseline, SNNOutput, SpikingMLP, he_init_
from labkit.neurons import ALIF, ATan, LIFParams, lif_step


def _spikes(shape, p=0.3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(shape, generator=g) < p).float()


def _hand_set(model: SpikingMLP, weights: list[float], recurrent: float | None = None) -> SpikingMLP:
    """Set every weight of a one-neuron-per-layer network by hand (biases zero)."""
    with torch.no_grad():
        for layer, w in zip(model.layers, weights):
            layer.weight.fill_(w)
            layer.bias.zero_()
        if recurrent is not None:
            model.recurrent.weight.fill_(recurrent)
    return model


# ----------------------------------------------------------------------------- shapes and defaults


def test_forward_shapes_are_time_first_and_spikes_binary():
    model = SpikingMLP()
    x = _spikes((5, 3, 28, 28))
    out = model(x)
    assert isinstance(out, SNNOutput)
    assert [tuple(s.shape) for s in out.spikes] == [(5, 3, 784), (5, 3, 500), (5, 3, 10)], \
        "spikes are [time, batch, n] for the input (flattened), hidden and output layers"
    assert [tuple(u.shape) for u in out.membranes] == [(5, 3, 500), (5, 3, 10)], \
        "one membrane record [time, batch, n] per LIF layer"
    assert out.out_spikes is out.spikes[-1] and out.out_membrane is out.membranes[-1]
    for s in out.spikes[1:]:
        assert torch.all((s == 0) | (s == 1)), "a LIF neuron either spikes (1) or not (0) at each step"


def test_defaults_are_the_papers_network():
    model = SpikingMLP()
    assert model.sizes == (784, 500, 10), "paper: 784 input, 500 hidden, 10 output"
    assert model.lif == LIFParams(beta=0.9, threshold=1.0, reset="zero"), "paper: β = 0.9, θ = 1; Loihi reset to zero"
    assert isinstance(model.surrogate, ATan), "paper: arctangent surrogate"
    assert model.recurrent is None and not model.is_recurrent, "feed-forward unless asked"


def test_ann_baseline_shapes():
    ann = ANNBaseline()
    assert ann.sizes == (784, 500, 10)
    assert ann(torch.rand(7, 28, 28)).shape == (7, 10), "the ANN maps [batch, 28, 28] images to 10 logits"


# ----------------------------------------------------------------------------- initialisation and seeds


@pytest.mark.parametrize("fan_in, fan_out", [(784, 500), (500, 10)])
def test_he_init_std_is_sqrt_two_over_fan_in(fan_in, fan_out):
    model = SpikingMLP((784, 500, 10), seed=3)
    layer = model.layers[0] if fan_in == 784 else model.layers[1]
    w = layer.weight.detach()
    expected = math.sqrt(2.0 / fan_in)
    # the sample std of n normal draws has relative standard error 1/sqrt(2n): 0.1% (n = 392,000), 1% (n = 5,000)
    tolerance = 5 / math.sqrt(2 * w.numel())
    assert abs(w.std().item() / expected - 1) < tolerance, "He initialisation: std = sqrt(2 / fan_in)"
    assert abs(w.mean().item()) < 5 * expected / math.sqrt(w.numel()), "He initialisation is zero-mean"
    assert torch.all(layer.bias == 0), "biases start at zero"


def test_he_init_helper_on_a_single_layer():
    layer = torch.nn.Linear(200, 300)
    he_init_(layer, torch.Generator().manual_seed(0))
    assert abs(layer.weight.std().item() / math.sqrt(2 / 200) - 1) < 0.02


def test_same_seed_same_weights_and_global_rng_untouched():
    state = torch.get_rng_state()
    a, b, c = SpikingMLP((20, 16, 5), seed=7), SpikingMLP((20, 16, 5), seed=7), SpikingMLP((20, 16, 5), seed=8)
    assert torch.equal(torch.get_rng_state(), state), "a seeded model draws from its own generator, not the global one"
    for pa, pb, pc in zip(a.parameters(), b.parameters(), c.parameters()):
        assert torch.equal(pa, pb), "same seed → identical initial weights"
    assert not torch.equal(a.layers[0].weight, c.layers[0].weight), "another seed → other weights"
    r1, r2 = SpikingMLP((20, 16, 5), recurrent=True, seed=1), SpikingMLP((20, 16, 5), recurrent=True, seed=1)
    assert torch.equal(r1.recurrent.weight, r2.recurrent.weight), "the recurrent weights are seeded too"
    assert torch.equal(ANNBaseline(seed=2).layers[0].weight, ANNBaseline(seed=2).layers[0].weight)


# ----------------------------------------------------------------------------- recurrent hidden layer


def test_recurrent_pulse_persists_with_a_strong_self_connection():
    # 1 input → 1 hidden → 1 output. One input spike at t = 0 drives the hidden membrane to 2 > θ.
    # With a self-connection V = 2 every hidden spike re-excites the neuron past threshold at the
    # next step (the zero reset clears u, then I = V·1 = 2), so the pulse never dies out.
    steps = 12
    x = torch.zeros(steps, 1, 1)
    x[0] = 1.0
    strong = _hand_set(SpikingMLP((1, 1, 1), recurrent=True), [2.0, 2.0], recurrent=2.0)
    weak = _hand_set(SpikingMLP((1, 1, 1), recurrent=True), [2.0, 2.0], recurrent=0.5)
    plain = _hand_set(SpikingMLP((1, 1, 1)), [2.0, 2.0])
    hidden = lambda m: m(x).spikes[1][:, 0, 0]  # noqa: E731
    assert hidden(strong).sum() == steps, "V = 2 > θ: a single input spike starts self-sustained firing"
    assert hidden(weak).sum() == 1, "V = 0.5 < θ: the recurrent echo decays below threshold"
    assert hidden(plain).sum() == 1, "without recurrence one input spike gives one hidden spike"
    assert strong(x).out_spikes.sum() == steps, "the persistent hidden pulse drives the output every step"


def test_recurrent_weights_receive_gradient():
    model = SpikingMLP((20, 16, 5), recurrent=True, seed=0)
    with torch.no_grad():
        model.layers[0].weight.mul_(3)
    out = model(_spikes((10, 4, 20)))
    out.out_membrane.sum().backward()
    assert model.recurrent.weight.grad is not None and model.recurrent.weight.grad.abs().sum() > 0, \
        "BPTT through the recurrent layer reaches V"


# ----------------------------------------------------------------------------- reset modes


@pytest.mark.parametrize("reset", ["zero", "subtract"])
def test_reset_mode_is_honoured(reset):
    # A constant current I = 1.5 each step. t = 0: u = 1.5 > θ → spike. t = 1 (β = 0.9, θ = 1):
    #   zero:     u = β·0 + 1.5           = 1.5
    #   subtract: u = β·1.5 + 1.5 − θ     = 1.85
    model = _hand_set(SpikingMLP((1, 1, 1), lif=LIFParams(0.9, 1.0, reset)), [1.5, 1.0])
    u = model(torch.ones(3, 1, 1)).membranes[0][:, 0, 0]
    expected = 1.5 if reset == "zero" else 0.9 * 1.5 + 1.5 - 1.0
    assert u[0].item() == pytest.approx(1.5)
    assert u[1].item() == pytest.approx(expected), f"reset={reset!r}: membrane after the first spike"
    assert model.lif.reset == reset


# ----------------------------------------------------------------------------- bad sizes and inputs


@pytest.mark.parametrize("sizes", [(784,), (), (784, 0, 10), (784, -5, 10), (784, 2.5, 10), ("a", 10), 784,
                                   (784, True, 10)])
def test_bad_sizes_raise_value_error(sizes):
    with pytest.raises(ValueError, match="sizes"):
        SpikingMLP(sizes)
    with pytest.raises(ValueError, match="sizes"):
        ANNBaseline(sizes)


def test_recurrent_needs_a_hidden_layer():
    with pytest.raises(ValueError, match="hidden layer"):
        SpikingMLP((784, 10), recurrent=True)


@pytest.mark.parametrize(
    "x, match",
    [
        (torch.zeros(3, 784), "time, batch"),  # no batch axis
        (torch.zeros(0, 2, 784), "time step"),  # zero time steps
        (torch.zeros(3, 2, 100), "features"),  # wrong width
        (torch.zeros(3, 2, 784, dtype=torch.long), "floating"),  # integer spikes
    ],
)
def test_bad_inputs_raise_value_error(x, match):
    with pytest.raises(ValueError, match=match):
        SpikingMLP(seed=0)(x)


@pytest.mark.parametrize("x", [torch.zeros(784), torch.zeros(2, 100), torch.zeros(2, 784, dtype=torch.uint8)])
def test_ann_bad_inputs_raise_value_error(x):
    with pytest.raises(ValueError):
        ANNBaseline()(x)


# ----------------------------------------------------------------------------- fused path = per-step loop


def _per_step_reference(model: SpikingMLP, x: torch.Tensor) -> SNNOutput:
    """The network written out with lif_step, one step at a time (no fused kernel)."""
    s = x.flatten(2)
    spikes, membranes = [s], []
    for layer in model.layers:
        current = layer(s)
        u = torch.zeros_like(current[0])
        layer_spikes, layer_membranes = [], []
        for t in range(current.shape[0]):
            spk, u = lif_step(current[t], u, model.lif, model.surrogate)
            layer_spikes.append(spk)
            layer_membranes.append(u)
        s = torch.stack(layer_spikes)
        spikes.append(s)
        membranes.append(torch.stack(layer_membranes))
    return SNNOutput(tuple(spikes), tuple(membranes))


@pytest.mark.parametrize("reset", ["zero", "subtract"])
def test_fused_forward_and_gradients_equal_the_per_step_loop(reset):
    model = SpikingMLP((20, 16, 5), lif=LIFParams(0.9, 1.0, reset), seed=0)
    with torch.no_grad():
        model.layers[1].weight.mul_(2)  # make the output layer fire too
    x = _spikes((12, 4, 20))

    fused = model(x)
    loss = fused.out_membrane.pow(2).mean() + fused.out_spikes.sum() + fused.membranes[0].mean()
    fused_grads = torch.autograd.grad(loss, list(model.parameters()))

    ref = _per_step_reference(model, x)
    loss_ref = ref.out_membrane.pow(2).mean() + ref.out_spikes.sum() + ref.membranes[0].mean()
    ref_grads = torch.autograd.grad(loss_ref, list(model.parameters()))

    assert fused.spikes[1].sum() > 0 and fused.out_spikes.sum() > 0, "test needs spikes in both layers"
    for a, b in zip(fused.spikes, ref.spikes):
        assert torch.equal(a, b), "fused lif_sequence spikes = lif_step loop spikes"
    for a, b in zip(fused.membranes, ref.membranes):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6, msg="fused membranes = lif_step loop membranes")
    for a, b in zip(fused_grads, ref_grads):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6, msg="fused BPTT gradient = autograd through lif_step")



# ----------------------------------------------------------------------------- the neuron seam


def _spikes_input(seed: int, shape=(12, 5, 784)) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(shape, generator=g) < 0.2).float()


def test_default_neuron_is_lif_and_the_explicit_lif_neuron_gives_the_same_bits():
    x = _spikes_input(0)
    default, explicit = SpikingMLP(seed=3), SpikingMLP(seed=3, neuron=LIFParams(beta=0.9, threshold=1.0, reset="zero"))
    assert default.neuron == default.lif == LIFParams(beta=0.9, threshold=1.0, reset="zero")
    for grad in (True, False):
        with torch.set_grad_enabled(grad):
            a, b = default(x), explicit(x)
        assert all(torch.equal(p, q) for p, q in zip(a.spikes, b.spikes)), "neuron=LIF is the default network"
        assert all(torch.equal(p, q) for p, q in zip(a.membranes, b.membranes))


@pytest.mark.parametrize("recurrent", [False, True])
def test_an_alif_network_runs_its_neuron_in_every_layer(recurrent):
    x = _spikes_input(1, shape=(12, 5, 20))
    model = SpikingMLP((20, 16, 4), neuron=ALIF(beta_a=0.4, reset="zero"), recurrent=recurrent, seed=0)
    out = model(x)
    assert [tuple(s.shape) for s in out.spikes] == [(12, 5, 20), (12, 5, 16), (12, 5, 4)]
    if not recurrent:
        hidden = out.spikes[1]
        current = model.layers[1](hidden)
        expected, _ = ALIF(beta_a=0.4, reset="zero").sequence(current)
        assert torch.equal(out.spikes[2], expected), "the output layer is the ALIF sequence of its currents"
    with torch.no_grad():
        again = model(x)
    assert all(torch.equal(p, q) for p, q in zip(out.spikes, again.spikes)), "no LIF fast path for another neuron"
    loss = out.out_membrane.sum() + out.out_spikes.sum()
    loss.backward()
    assert model.layers[0].weight.grad is not None, "gradients reach the first layer through the ALIF"


def test_an_alif_network_differs_from_lif_and_refuses_the_lif_exporters():
    x = _spikes_input(2, shape=(25, 5, 784))
    lif_out = SpikingMLP(seed=0)(x).spikes[1]
    alif_model = SpikingMLP(seed=0, neuron=ALIF(beta_a=1.0, reset="zero"))
    assert alif_model(x).spikes[1].sum() < lif_out.sum(), "adaptation lowers the hidden layer's spike count"
    with pytest.raises(ValueError, match="not LIF"):
        alif_model.lif


def test_neuron_arguments_are_checked():
    with pytest.raises(ValueError, match="either lif= .* or neuron="):
        SpikingMLP(lif=LIFParams(), neuron=ALIF())
    with pytest.raises(ValueError, match="lacks"):
        SpikingMLP(neuron=0.9)
