"""labkit.interop.neurobench: NeuroBench's own metrics on the lab's network equal labkit.energy.count_ops.

The network is the committed Loihi deployment (results/mnist/loihi/bundle.npz, trained
784-500-10), the inputs 200 bundled MNIST test digits rate-coded once and given to both.
NeuroBench 2.3 is installed by scripts/setup.sh; without it these tests skip, or fail when
CI=true (tests/peer_support.py).
"""

from __future__ import annotations

import pytest
import torch
from peer_support import import_peer

from labkit.data import mnist_data
from labkit.encoders import FrameEncoder
from labkit.energy import count_ops
from labkit.foundation.paths import REPO_ROOT
from labkit.interop.neurobench import NeuroBenchNet, neurobench_frames
from labkit.loihi.bundle import load_bundle
from labkit.loihi.quantize import model_from_bundle

NEUROBENCH = "pip install --no-deps neurobench==2.3.0"
T, DIGITS = 25, 200
WORKLOAD = ("ActivationSparsity", "MembraneUpdates", "SynapticOperations")


@pytest.fixture(scope="module")
def setting():
    import_peer("neurobench", NEUROBENCH)
    model = model_from_bundle(load_bundle(REPO_ROOT / "results" / "mnist" / "loihi" / "bundle.npz"))
    data = mnist_data("bundled", train_limit=1, test_limit=DIGITS)
    images = data.test_x[:DIGITS].reshape(DIGITS, -1).float()
    gen = torch.Generator().manual_seed(7)
    frames = neurobench_frames((torch.rand(T, DIGITS, images.shape[1], generator=gen) < images).float())
    return model, frames, data.test_y[:DIGITS]


def run_neurobench(wrapped, frames, labels) -> dict:
    """NeuroBench's Benchmark with its three workload metrics on ``wrapped`` (a NeuroBenchModel)."""
    from neurobench.benchmarks import Benchmark
    from neurobench.metrics import workload

    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(frames, labels), batch_size=100)
    bench = Benchmark(wrapped, loader, [], [], [[], [getattr(workload, name) for name in WORKLOAD]])
    return bench.run(quiet=True)


def test_neurobench_metrics_equal_labkits_counts(setting):
    from neurobench.models import SNNTorchModel

    model, frames, labels = setting
    theirs = run_neurobench(SNNTorchModel(NeuroBenchNet(model)), frames, labels)
    counts = count_ops(model, frames, encoder=FrameEncoder(), max_samples=None, device="cpu")
    ours = counts.to_neurobench()
    for op in ("Effective_ACs", "Effective_MACs", "Dense"):
        assert theirs["SynapticOperations"][op] == pytest.approx(ours["SynapticOperations"][op], rel=1e-9, abs=1e-9), \
            f"SynapticOperations {op} per digit"
    assert ours["SynapticOperations"]["Effective_ACs"] > 1e6, "the digits drive the network (over a million ACs each)"
    assert theirs["ActivationSparsity"] == pytest.approx(ours["ActivationSparsity"], rel=1e-9), \
        "the zero share of the hidden and output spikes"
    assert 0.5 < ours["ActivationSparsity"] < 1.0, "some, not all, neuron-steps are silent"
    assert theirs["MembraneUpdates"] == pytest.approx(ours["MembraneUpdates"], rel=1e-9), \
        "neuron-steps whose membrane changed, per digit"
    assert 0.999 * counts.neuron_updates <= theirs["MembraneUpdates"] <= counts.neuron_updates, \
        "almost every membrane changes at every step, never more than the T·ΣN evaluations"


def test_neurobench_sees_the_neurons_of_the_adapter(setting):
    from neurobench.models import SNNTorchModel

    model = SNNTorchModel(NeuroBenchNet(setting[0]))
    assert len(model.activation_layers()) == 2, "one LIF layer per connection layer is an activation layer"
    assert len(model.connection_layers()) == 2, "the model's own Linear layers are the connection layers"


class _WholeRun(torch.nn.Module):
    """A SpikingMLP behind NeuroBench's TorchModel: all T steps in one call, frames batch first."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, frames):
        return self.model(frames.transpose(0, 1)).out_spikes.transpose(0, 1)


def test_a_bare_spiking_mlp_hides_its_neurons_from_neurobench(setting):
    """Why the adapter exists: wrapped directly, NeuroBench finds no neuron and reports sparsity 0."""
    from neurobench.models import TorchModel

    model, frames, labels = setting
    wrapped = TorchModel(_WholeRun(model))
    assert wrapped.activation_layers() == [], "the LIF dynamics run inside SpikingMLP.forward: no module to hook"
    theirs = run_neurobench(wrapped, frames[:100], labels[:100])
    assert theirs["ActivationSparsity"] == 0.0, "no hooked activations read as 'every neuron active'"
    assert theirs["MembraneUpdates"] == 0, "and no membrane is seen to change"
    assert theirs["SynapticOperations"]["Effective_ACs"] > 0, "while the Linear layers are still counted"
