"""labkit.interop.nir: the NIR export run by snnTorch, Norse and SpikingJelly, and their exports read back.

The network is the committed Loihi deployment (results/mnist/loihi/bundle.npz, a trained
784-500-10 SpikingMLP in float), the inputs 200 bundled MNIST test digits rate-coded once with
a fixed generator and fed unchanged to every simulator, so spikes can be compared one by one.
The peers (snnTorch 1.0, Norse 1.1, SpikingJelly 2.0, with nir 1.0.8 and nirtorch 2.6) are
installed by scripts/setup.sh; a missing one skips its tests, or fails them when CI=true
(tests/peer_support.py).
"""

from __future__ import annotations

import contextlib
import io
import logging

import nir
import numpy as np
import pytest
import torch
from peer_support import import_peer

from labkit.data import mnist_data
from labkit.interop.nir import NIR_DT, from_nir, to_nir
from labkit.loihi.bundle import load_bundle
from labkit.loihi.quantize import model_from_bundle
from labkit.foundation.paths import REPO_ROOT
from labkit.models import SpikingMLP
from labkit.neurons import LIFParams

SNNTORCH = "pip install snntorch (a dependency of labkit)"
NORSE = "pip install nirtorch==2.6 torchvision==0.28.0 && pip install --no-deps norse==1.1.0"
SPIKINGJELLY = "pip install spikingjelly==2.0.0"

T = 25
DIGITS = 200


@pytest.fixture(scope="module")
def model() -> SpikingMLP:
    return model_from_bundle(load_bundle(REPO_ROOT / "results" / "mnist" / "loihi" / "bundle.npz"))


@pytest.fixture(scope="module")
def spikes_in() -> torch.Tensor:
    data = mnist_data("bundled", train_limit=1, test_limit=DIGITS)
    images = data.test_x[:DIGITS].reshape(DIGITS, -1).float()
    gen = torch.Generator().manual_seed(23)
    return (torch.rand(T, DIGITS, images.shape[1], generator=gen) < images).float()


@pytest.fixture(scope="module")
def hidden(model, spikes_in) -> torch.Tensor:
    with torch.no_grad():
        return model(spikes_in).spikes[1]


def agreement(reference: torch.Tensor, other: torch.Tensor) -> tuple[float, float]:
    """(share of the reference's spikes reproduced, extra spikes per reference spike)."""
    other = other.reshape(reference.shape).float()
    n = reference.sum()
    return float((other * reference).sum() / n), float((other * (1 - reference)).sum() / n)


def recorded(module: torch.nn.Module, run) -> torch.Tensor:
    """The spikes ``module`` emits while ``run()`` runs, stacked over its calls."""
    seen: list[torch.Tensor] = []
    hook = module.register_forward_hook(
        lambda m, args, out: seen.append((out[0] if isinstance(out, tuple) else out).detach().clone()))
    try:
        with torch.no_grad():
            run()
    finally:
        hook.remove()
    return torch.cat(seen) if seen[0].dim() == 3 else torch.stack(seen)


def run_stepwise(net, spikes_in) -> None:
    """Feed [T, B, n] one step at a time to a graph module whose forward is (x, state) -> (y, state)."""
    state = None
    for x in spikes_in:
        _, state = net(x) if state is None else net(x, state)


# ----------------------------------------------------------------------------- the export's form


def test_default_export_folds_the_gain_into_the_weights(model):
    graph = to_nir(model)
    assert graph.metadata["form"] == "unit_r"
    lif, affine = graph.nodes["lif0"], graph.nodes["affine0"]
    # β = 0.9, Δt = 1e-4: τ = Δt/(1 − β) = 1e-3 s; R = 1 and W' = W/(1 − β) = 10 W
    assert np.allclose(lif.tau, 1e-3) and np.all(lif.r == 1.0), "τ = Δt/(1 − β), R = 1"
    assert np.allclose(affine.weight, 10 * model.layers[0].weight.detach().numpy(), rtol=1e-6), "the gain 1/(1 − β) is in W"
    r_tau = to_nir(model, form="r_tau")
    assert np.allclose(r_tau.nodes["lif0"].r, 10.0) and np.array_equal(
        r_tau.nodes["affine0"].weight, model.layers[0].weight.detach().numpy()), "r_tau: weights as trained, R = τ/Δt"
    with pytest.raises(ValueError, match="subtract"):
        to_nir(SpikingMLP((4, 3, 2), lif=LIFParams(reset="subtract")))
    with pytest.raises(ValueError, match="form"):
        to_nir(model, form="snntorch")


@pytest.mark.parametrize("form", ["unit_r", "r_tau"])
def test_labkit_reads_its_own_export_to_the_same_spikes(model, spikes_in, hidden, tmp_path, form):
    from labkit.interop.nir import export_nir

    back = from_nir(export_nir(model, tmp_path / "m.nir", form=form))
    assert back.lif == model.lif, "β, θ and the reset survive the file"
    with torch.no_grad():
        out = back(spikes_in)
    assert torch.equal(out.spikes[1], hidden), "every hidden spike of every digit and step is the same"


# ----------------------------------------------------------------------------- peers read labkit's export


def test_snntorch_runs_the_default_export_to_labkits_spikes(model, spikes_in, hidden):
    import_peer("snntorch", SNNTORCH)
    from snntorch.import_nir import import_from_nir

    with contextlib.redirect_stdout(io.StringIO()):  # snnTorch prints a notice about the weight scale
        net = import_from_nir(to_nir(model))
    same, extra = agreement(hidden, recorded(net.lif0, lambda: run_stepwise(net, spikes_in)))
    assert same >= 0.99 and extra <= 0.01, f"snnTorch reproduces {same:.2%} of labkit's hidden spikes (+{extra:.2%})"


def test_norse_runs_the_default_export_to_labkits_spikes(model, spikes_in, hidden):
    norse = import_peer("norse.torch", NORSE)
    graph = to_nir(model)
    # Norse's from_nir ignores the graph's Δt (its default is 1 ms): pass it
    net = norse.from_nir(graph, dt=graph.metadata["dt"])
    same, extra = agreement(hidden, recorded(net.lif0, lambda: run_stepwise(net, spikes_in)))
    assert same >= 0.99 and extra <= 0.01, f"Norse reproduces {same:.2%} of labkit's hidden spikes (+{extra:.2%})"


def test_spikingjelly_runs_the_default_export_to_labkits_spikes(model, spikes_in, hidden):
    import_peer("spikingjelly", SPIKINGJELLY)
    from spikingjelly.activation_based.nir_exchange import import_from_nir

    net = import_from_nir(to_nir(model), step_mode="m")
    same, extra = agreement(hidden, recorded(net.lif0, lambda: net(spikes_in)))
    assert same >= 0.99 and extra <= 0.01, f"SpikingJelly reproduces {same:.2%} of labkit's hidden spikes (+{extra:.2%})"


# ----------------------------------------------------------------------------- labkit reads the peers' exports


def labkit_hidden(graph, spikes_in, **kwargs) -> torch.Tensor:
    with torch.no_grad():
        return from_nir(graph, **kwargs)(spikes_in).spikes[1]


def test_labkit_reads_snntorchs_own_export(model, spikes_in):
    snn = import_peer("snntorch", SNNTORCH)
    from snntorch.export_nir import export_to_nir
    from snntorch import utils

    # snnTorch 1.0's exporter under nir 1.0.8 needs per-neuron β and θ: with scalars (beta=0.9) it
    # fails its own graph check, "ValueError: Type inference error: type mismatch: 0.output:
    # [[500]] -> 1.input: []" (the LIF node gets the scalar's shape, not the layer's)
    w = [layer.weight.detach().clone() for layer in model.layers]
    b = [layer.bias.detach().clone() for layer in model.layers]
    net = torch.nn.Sequential(
        torch.nn.Linear(784, 500), snn.Leaky(beta=torch.full((500,), 0.9), threshold=torch.ones(500),
                                             reset_mechanism="zero", init_hidden=True),
        torch.nn.Linear(500, 10), snn.Leaky(beta=torch.full((10,), 0.9), threshold=torch.ones(10),
                                            reset_mechanism="zero", init_hidden=True, output=True))
    with torch.no_grad():
        for linear, weight, bias in zip((net[0], net[2]), w, b):
            linear.weight.copy_(weight)
            linear.bias.copy_(bias)
    graph = export_to_nir(net, torch.zeros(1, 784), ignore_dims=[0])
    assert np.allclose(graph.nodes["1"].r, 10.0), "snnTorch writes R = τ/Δt"

    def run():
        utils.reset(net)
        for x in spikes_in:
            net(x)

    theirs = recorded(net[1], run)
    same, extra = agreement(theirs, labkit_hidden(graph, spikes_in))
    assert same == 1.0 and extra == 0.0, f"labkit reproduces {same:.2%} of snnTorch's hidden spikes (+{extra:.2%})"


def test_labkit_reads_norses_own_export(model, spikes_in):
    norse = import_peer("norse.torch", NORSE)
    from norse.torch.module.lif_box import LIFBoxCell, LIFBoxParameters

    dt = 1e-3  # Norse's default step; τ_inv = (1 − β)/Δt gives β = 0.9, an input gain of 1 − β

    def lif(n):
        return LIFBoxCell(LIFBoxParameters(tau_mem_inv=torch.full((n,), 0.1 / dt), v_th=torch.ones(n),
                                           v_leak=torch.zeros(n), v_reset=torch.zeros(n)), dt=dt)

    net = norse.SequentialState(torch.nn.Linear(784, 500), lif(500), torch.nn.Linear(500, 10), lif(10))
    with torch.no_grad():
        for linear, layer in zip((net[0], net[2]), model.layers):
            linear.weight.copy_(layer.weight * 10)  # Norse scales its input by 1 − β; labkit's W is 10 W·(1 − β)
            linear.bias.copy_(layer.bias * 10)
    graph = norse.to_nir(net, torch.zeros(1, 784), dt=dt)
    assert np.allclose(np.asarray(graph.nodes["1"].tau), dt * 0.01), "Norse 1.1 writes τ·Δt where τ belongs"
    theirs = recorded(net[1], lambda: run_stepwise(net, spikes_in))
    same, extra = agreement(theirs, labkit_hidden(graph, spikes_in, dt=dt**2))
    assert same >= 0.999 and extra <= 0.001, f"labkit reproduces {same:.2%} of Norse's hidden spikes (+{extra:.2%})"


def test_labkit_reads_spikingjellys_own_export(model, spikes_in):
    import_peer("spikingjelly", SPIKINGJELLY)
    from spikingjelly.activation_based import functional, layer, neuron
    from spikingjelly.activation_based.nir_exchange import export_to_nir

    net = torch.nn.Sequential(
        layer.Linear(784, 500), neuron.LIFNode(tau=10.0, decay_input=True, v_reset=0.0, v_threshold=1.0),
        layer.Linear(500, 10), neuron.LIFNode(tau=10.0, decay_input=True, v_reset=0.0, v_threshold=1.0))
    with torch.no_grad():
        for linear, lab in zip((net[0], net[2]), model.layers):
            linear.weight.copy_(lab.weight * 10)  # decay_input: the input enters as x/τ
            linear.bias.copy_(lab.bias * 10)
    functional.set_step_mode(net, "m")
    graph = export_to_nir(net, torch.zeros(1, 1, 784))
    functional.reset_net(net)
    theirs = recorded(net[1], lambda: net(spikes_in))
    same, extra = agreement(theirs, labkit_hidden(graph, spikes_in))
    assert same >= 0.999 and extra <= 0.001, f"labkit reproduces {same:.2%} of SpikingJelly's hidden spikes (+{extra:.2%})"


# ----------------------------------------------------------------------------- the reader's parameterisations


def one_layer_graph(*, tau, r, v_threshold, v_leak=0.0, v_reset=0.0, weight, bias, dt=NIR_DT):
    n, k = weight.shape
    full = lambda v: np.broadcast_to(np.asarray(v, dtype=np.float64), (n,)).copy()
    nodes = {"input": nir.Input(input_type=np.array([k])), "fc": nir.Affine(weight=weight, bias=bias),
             "lif": nir.LIF(tau=full(tau), r=full(r), v_leak=full(v_leak), v_threshold=full(v_threshold),
                            v_reset=full(v_reset)),
             "output": nir.Output(output_type=np.array([n]))}
    return nir.NIRGraph(nodes=nodes, edges=[("input", "fc"), ("fc", "lif"), ("lif", "output")],
                        metadata={"dt": dt})


def euler_lif(graph, x: torch.Tensor, dt: float) -> torch.Tensor:
    """NIR's LIF by forward Euler in float64, reset to v_reset after a spike (the reference)."""
    fc, lif = graph.nodes["fc"], graph.nodes["lif"]
    current = x.double() @ torch.as_tensor(fc.weight, dtype=torch.float64).T + torch.as_tensor(fc.bias, dtype=torch.float64)
    tau, r, leak, thr, reset = (torch.as_tensor(np.asarray(getattr(lif, a)), dtype=torch.float64)
                                for a in ("tau", "r", "v_leak", "v_threshold", "v_reset"))
    v = torch.zeros(current.shape[1:], dtype=torch.float64)
    out = []
    for i in current:
        v = v + dt / tau * ((leak - v) + r * i)
        s = (v > thr).double()
        v = torch.where(s > 0, reset, v)
        out.append(s)
    return torch.stack(out)


def test_reader_accepts_any_r_leak_and_per_neuron_thresholds():
    gen = torch.Generator().manual_seed(5)
    n, k = 40, 30
    weight = (torch.randn(n, k, generator=gen) * 0.4).numpy().astype(np.float32)
    bias = (torch.randn(n, generator=gen) * 0.05).numpy().astype(np.float32)
    x = (torch.rand(50, 8, k, generator=gen) < 0.3).float()
    thr = (0.5 + torch.rand(n, generator=gen)).numpy()
    r = (0.5 + 3 * torch.rand(n, generator=gen)).numpy()  # R ≠ τ/Δt, different per neuron
    graph = one_layer_graph(tau=5e-4, r=r, v_threshold=thr, v_leak=0.2, weight=weight, bias=bias)
    expected = euler_lif(graph, x, NIR_DT)
    with torch.no_grad():
        got = from_nir(graph)(x).spikes[1].double()
    assert expected.sum() > 100, "the reference network spikes"
    same, extra = agreement(expected, got)
    assert same >= 0.995 and extra <= 0.005, f"labkit reproduces {same:.2%} of NIR's Euler spikes (+{extra:.2%})"


def test_reader_refuses_what_a_spiking_mlp_cannot_run_and_says_why():
    weight, bias = np.ones((3, 2), np.float32), np.zeros(3, np.float32)
    with pytest.raises(ValueError, match="tau differs"):
        from_nir(one_layer_graph(tau=[1e-3, 2e-3, 1e-3], r=1.0, v_threshold=1.0, weight=weight, bias=bias))
    with pytest.raises(ValueError, match="v_reset"):
        from_nir(one_layer_graph(tau=1e-3, r=1.0, v_threshold=1.0, v_reset=0.5, weight=weight, bias=bias))
    with pytest.raises(ValueError, match="dt"):
        from_nir(one_layer_graph(tau=1e-3, r=1.0, v_threshold=1.0, weight=weight, bias=bias), dt=1e-2)


def test_plain_layers_export_to_the_same_graph_as_the_model(model):
    layers = [(linear.weight.detach().numpy(), linear.bias.detach().numpy()) for linear in model.layers]
    plain, from_model = to_nir(layers, lif=model.lif, num_steps=25), to_nir(model)
    for name, node in from_model.nodes.items():
        for key, value in node.__dict__.items():
            if isinstance(value, np.ndarray):
                assert np.array_equal(getattr(plain.nodes[name], key), value), f"{name}.{key}: plain weights export alike"
    assert plain.metadata["num_steps"] == 25, "the number of steps given is kept in the metadata"
    with pytest.raises(ValueError, match="LIFParams"):
        to_nir(layers)
    with pytest.raises(ValueError, match="weight, bias"):
        to_nir("model.pt")


def test_nir_export_does_not_import_the_loihi_package():
    import subprocess
    import sys

    code = "import sys, labkit.interop.nir; sys.exit(any(m.startswith('labkit.loihi') for m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, "labkit.interop.nir imports nothing of labkit.loihi (loihi may import interop): " + done.stderr[-300:]
