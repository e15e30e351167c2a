"""Tests for labkit.interop.snntorch: SpikingMLP ⇄ snnTorch, the rules on snnTorch networks, the export.

The round trips run the paper's 784-500-10 network on 1,000 bundled digits (T = 25); the rules are
checked on small networks of other depths; one slow test trains both forms for an epoch.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import snntorch as snn
import torch
from snntorch import surrogate, utils
from torch import nn

from labkit.data import mnist_data
from labkit.foundation.paths import REPO_ROOT
from labkit.interop.snntorch import SnnTorchNetwork, export_run, from_snntorch, to_snntorch, wrap
from labkit.models import SpikingMLP
from labkit.neurons import ATan, FastSigmoid, LIFParams
from labkit.readout import loss_function
from labkit.rules import make_rule
from labkit.training import Data, evaluate, train

T = 25


def leaky(**kwargs) -> snn.Leaky:
    return snn.Leaky(beta=0.9, spike_grad=surrogate.atan(), init_hidden=True, reset_mechanism="zero", **kwargs)


def hand_built(sizes=(784, 500, 10)) -> nn.Sequential:
    """The issue's network, written the ordinary snnTorch way (reset to zero, as the lab's neuron)."""
    modules: list[nn.Module] = [nn.Flatten()]
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        modules += [nn.Linear(n_in, n_out), leaky(output=i == len(sizes) - 2)]
    return nn.Sequential(*modules)


def copy_weights(net: nn.Sequential, model: SpikingMLP) -> nn.Sequential:
    with torch.no_grad():
        for linear, layer in zip(wrap(net).layers, model.layers):
            linear.weight.copy_(layer.weight)
            linear.bias.copy_(layer.bias)
    return net


@pytest.fixture(scope="module")
def digits() -> Data:
    return mnist_data("bundled")


@pytest.fixture(scope="module")
def spikes_in(digits) -> torch.Tensor:
    """Rate-coded spikes of the first 1,000 test digits, [T, 1000, 784]."""
    x = digits.test_x[:1000].flatten(1)
    return (torch.rand((T, *x.shape), generator=torch.Generator().manual_seed(0)) < x).float()


def tutorial_loop(net: nn.Sequential, spikes_in: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """snnTorch's own way: reset, then call the network once per step on [batch, 1, 28, 28]."""
    utils.reset(net)
    steps = [net(spikes_in[t].reshape(-1, 1, 28, 28)) for t in range(spikes_in.shape[0])]
    return torch.stack([s for s, _ in steps]), torch.stack([u for _, u in steps])


# ----------------------------------------------------------------------------- both ways, exactly


@pytest.mark.parametrize("reset", ["zero", "subtract"])
def test_to_snntorch_gives_the_same_spikes_at_every_step_on_1000_digits(spikes_in, reset):
    # the dense product: labkit's default first layer skips the input's zeros ("auto"), which rounds its
    # sums in another order (1e-5), enough to move a membrane that sits on θ to the other side
    model = SpikingMLP(seed=0, lif=LIFParams(reset=reset), input_product="dense")
    net = to_snntorch(model)
    assert [type(m).__name__ for m in net] == ["Flatten", "Linear", "Leaky", "Linear", "Leaky"]
    assert net[2]._reset_mechanism == reset and net[2].init_hidden and net[4].output
    with torch.no_grad():
        ours = model(spikes_in)
        spikes, membranes = tutorial_loop(net, spikes_in)
        wrapped = wrap(net)(spikes_in)
    assert ours.out_spikes.sum() > 0 and ours.spikes[1].mean() > 0.05, "the network is active"
    assert torch.equal(spikes, ours.out_spikes), "same weights → same output spikes at every step"
    assert torch.equal(membranes, ours.out_membrane), "same output membrane at every step, bit for bit"
    for i, (a, b) in enumerate(zip(ours.spikes, wrapped.spikes)):
        assert torch.equal(a, b), f"spikes entering layer {i} differ between SpikingMLP and the wrapped net"


def test_from_snntorch_round_trip_gives_identical_spikes(spikes_in):
    model = SpikingMLP(seed=3)
    back = from_snntorch(to_snntorch(model))
    assert back.sizes == model.sizes and back.lif == model.lif and back.surrogate == model.surrogate
    for a, b in zip(back.parameters(), model.parameters()):
        assert torch.equal(a, b), "the round trip keeps the weights bit for bit"
    with torch.no_grad():
        assert all(torch.equal(a, b) for a, b in zip(back(spikes_in).spikes, model(spikes_in).spikes))


def test_from_snntorch_reads_a_hand_built_network():
    net = nn.Sequential(nn.Linear(20, 8), snn.Leaky(beta=0.8, threshold=0.5, spike_grad=surrogate.fast_sigmoid(10),
                                                    init_hidden=True),
                        nn.Linear(8, 3), snn.Leaky(beta=0.8, threshold=0.5, spike_grad=surrogate.fast_sigmoid(10),
                                                   init_hidden=True, output=True))
    model = from_snntorch(net)
    assert model.sizes == (20, 8, 3)
    assert model.lif == LIFParams(beta=0.8, threshold=0.5, reset="subtract"), "snnTorch's default reset is subtract"
    assert model.surrogate == FastSigmoid(slope=10.0)
    assert torch.equal(model.layers[1].weight, net[2].weight)


def test_same_gradients_within_float_tolerance(spikes_in, digits):
    model = SpikingMLP(seed=1, input_product="dense")
    wrapped = wrap(to_snntorch(model))
    labels = digits.test_y[:200]
    loss = loss_function("rate")
    for network in (model, wrapped):
        loss(network(spikes_in[:, :200]), labels).backward()
    for ours, theirs in zip(model.layers, wrapped.layers):
        scale = ours.weight.grad.abs().max()
        assert scale > 0
        torch.testing.assert_close(theirs.weight.grad, ours.weight.grad, atol=1e-5 * scale, rtol=1e-4)
        torch.testing.assert_close(theirs.bias.grad, ours.bias.grad, atol=1e-5 * scale, rtol=1e-4)


# ----------------------------------------------------------------------------- refusals


@pytest.mark.parametrize("net, says", [
    (lambda: nn.Sequential(nn.Conv2d(1, 4, 3), leaky()), "convolutions are not supported"),
    (lambda: nn.Sequential(nn.Linear(4, 3), snn.RLeaky(beta=0.9, linear_features=3, init_hidden=True)),
     "recurrent neurons"),
    (lambda: nn.Sequential(nn.Linear(4, 3), snn.Synaptic(alpha=0.8, beta=0.9, init_hidden=True)),
     "only snn.Leaky"),
    (lambda: nn.Sequential(nn.Linear(4, 3), snn.Leaky(beta=0.9)), "init_hidden=True"),
    (lambda: nn.Sequential(nn.Linear(4, 3)), "not followed by an snn.Leaky"),
    (lambda: nn.Sequential(nn.Linear(4, 3), leaky(), nn.Linear(5, 2), leaky()), "do not chain"),
])
def test_networks_the_rules_cannot_run_are_refused_with_what_is_supported(net, says):
    with pytest.raises(ValueError, match=says):
        wrap(net())
    with pytest.raises(ValueError, match=says):
        train(net(), "adaptive", mnist_data("bundled", train_limit=8, test_limit=8), 1, progress=False)


def test_a_rule_bound_to_an_unwrapped_network_says_how_to_wrap_it():
    with pytest.raises(ValueError, match=r"interop.snntorch.wrap"):
        make_rule("adaptive").bind(hand_built((784, 8, 10)))


# ----------------------------------------------------------------------------- the rules on snnTorch networks


@pytest.mark.parametrize("rule, options", [
    ("bp", {}), ("stdp", {}), ("sum", {}), ("adaptive", {}), ("adaptive", {"reading": "adam"}),
    ("sum", {"reading": "sgd"}), ("adaptive", {"direction": "random"}), ("sum", {"direction": "decay"}),
])
def test_every_rule_trains_an_snntorch_network_of_three_layers(digits, rule, options):
    # the He initialisation of the lab's network of this size and seed: nn.Linear's own draws from the global
    # generator, which the tests before this one have moved, and its small weights may leave a layer silent
    net = copy_weights(hand_built((784, 48, 24, 10)), SpikingMLP((784, 48, 24, 10), seed=0))
    before = [p.detach().clone() for p in net.parameters()]
    small = Data(digits.train_x[:256], digits.train_y[:256], digits.test_x[:64], digits.test_y[:64], name="small")
    batches = []
    history = train(net, rule, small, 1, batch_size=64, num_steps=8, progress=False, device="cpu",
                    callback=lambda event: batches.append(event) and None, **options)
    assert history.config["model"] == "SnnTorchNetwork" and history.config["sizes"] == [784, 48, 24, 10]
    assert all(not torch.equal(a, b) for a, b in zip(before, net.parameters()) if a.dim() == 2), \
        "the network's own weights were trained"
    stats = batches[0]["stats"]
    if rule != "bp":
        assert {"dose0", "dose1", "dose2"} <= set(stats) or rule == "stdp", stats
        assert len(history.spike_rate[0]) == 3
    if rule == "adaptive":
        assert {"c0", "c1", "c2", "cos0"} <= set(stats)


def test_an_stdp_step_on_the_snntorch_form_equals_the_step_on_the_spikingmlp(spikes_in, digits):
    model = SpikingMLP(seed=2, input_product="dense")
    wrapped = wrap(to_snntorch(model))
    for network in (model, wrapped):
        rule = make_rule("stdp")
        rule.bind(network)
        with torch.no_grad():
            rule.step(network(spikes_in[:, :128]), torch.zeros(()))
    for ours, theirs in zip(model.layers, wrapped.layers):
        torch.testing.assert_close(theirs.weight, ours.weight, atol=1e-7, rtol=0)


@pytest.mark.slow
def test_adaptive_on_the_hand_built_network_reaches_the_spikingmlps_accuracy(digits):
    """The acceptance test of the issue: one epoch of A-STDP on the 6,000 bundled digits, same seed, same
    initial weights. Measured: snnTorch form 81.6 %, SpikingMLP 82.4 % (1,000 test digits)."""
    torch.manual_seed(0)
    model = SpikingMLP(seed=0)
    net = copy_weights(hand_built(), model)
    ours = train(model, "adaptive", digits, 1, seed=0, progress=False, device="cpu")
    theirs = train(net, "adaptive", digits, 1, seed=0, progress=False, device="cpu")
    assert ours.test_acc[0] > 0.7
    assert abs(theirs.test_acc[0] - ours.test_acc[0]) <= 0.02, (theirs.test_acc, ours.test_acc)
    assert evaluate(wrap(net), digits.test_x, digits.test_y, num_steps=T, device="cpu",
                    readout="count") == pytest.approx(theirs.test_acc[0])


# ----------------------------------------------------------------------------- out of the lab


def test_a_run_folder_exports_to_a_file_that_loads_with_snntorch_alone(tmp_path, spikes_in):
    run = REPO_ROOT / "results" / "mnist" / "runs" / "bp_s0"
    out = export_run(run, tmp_path / "export")
    spec = json.loads((out / "snntorch_model.json").read_text())
    assert spec["sizes"] == [784, 500, 10] and spec["reset_mechanism"] == "zero" and spec["beta"] == 0.9
    torch.save(spikes_in[:, :100].clone(), tmp_path / "x.pt")
    script = (
        "import sys, runpy, torch\n"
        "sys.modules['labkit'] = None  # loading must not need labkit\n"
        f"load = runpy.run_path({str(out / 'load_snntorch.py')!r})['load']\n"
        "from snntorch import utils\n"
        f"net = load(); x = torch.load({str(tmp_path / 'x.pt')!r}, weights_only=True)\n"
        "utils.reset(net)\n"
        f"torch.save(torch.stack([net(x[t])[0] for t in range(x.shape[0])]), {str(tmp_path / 'y.pt')!r})\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=tmp_path, timeout=120)
    model = SpikingMLP(seed=0)
    model.load_state_dict(torch.load(run / "model.pt", weights_only=True))
    with torch.no_grad():
        expected = model(spikes_in[:, :100]).out_spikes
    assert torch.equal(torch.load(tmp_path / "y.pt", weights_only=True), expected), \
        "the exported network, loaded in a fresh process without labkit, spikes as the run's SpikingMLP"


def test_export_refuses_a_folder_without_a_spiking_network(tmp_path):
    with pytest.raises(ValueError, match="not a run folder"):
        export_run(tmp_path / "missing")
    (tmp_path / "ann").mkdir()
    (tmp_path / "ann" / "history.json").write_text(json.dumps({"config": {"model": "ANNBaseline"}}))
    with pytest.raises(ValueError, match="only spiking networks"):
        export_run(tmp_path / "ann")


def test_surrogates_map_to_snntorchs():
    for surrogate_ in (ATan(alpha=3.0), FastSigmoid(slope=7.0)):
        assert from_snntorch(to_snntorch(SpikingMLP((6, 4, 2), surrogate=surrogate_))).surrogate == surrogate_
    assert isinstance(wrap(to_snntorch(SpikingMLP((6, 4, 2)))), SnnTorchNetwork)


def test_the_export_commands_options_write_the_files(tmp_path, capsys):
    import argparse

    from labkit.interop import snntorch as bridge

    parser = argparse.ArgumentParser()
    bridge.add_arguments(parser)
    args = parser.parse_args([str(REPO_ROOT / "results" / "mnist" / "runs" / "bp_s0"), "--out", str(tmp_path)])
    assert bridge.run(args) == 0
    assert {p.name for p in tmp_path.iterdir()} == {"snntorch_model.pt", "snntorch_model.json", "load_snntorch.py"}
    assert "load it with snnTorch alone" in capsys.readouterr().out


def test_to_snntorch_refuses_neurons_other_than_lif():
    from labkit.neurons import ALIF

    with pytest.raises(ValueError, match="not LIF"):
        to_snntorch(SpikingMLP((6, 4, 2), neuron=ALIF()))
