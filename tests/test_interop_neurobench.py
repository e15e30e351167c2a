"""labkit.interop.neurobench: NeuroBench's own metrics on the lab's network equal labkit.energy.count_ops.

The network is the committed Loihi deployment (results/mnist/loihi/bundle.npz, trained
784-500-10), the inputs 200 bundled MNIST test digits rate-coded once and given to both.
"""

from __future__ import annotations

import pytest
import torch

from labkit.data import mnist_data
from labkit.encoders import FrameEncoder
from labkit.energy import count_ops
from labkit.foundation.paths import REPO_ROOT
from labkit.interop.neurobench import NeuroBenchNet, membrane_updates, neurobench_frames
from labkit.loihi.bundle import load_bundle
from labkit.loihi.export import model_from_bundle

pytest.importorskip("neurobench")

T, DIGITS = 25, 200


@pytest.fixture(scope="module")
def setting():
    model = model_from_bundle(load_bundle(REPO_ROOT / "results" / "mnist" / "loihi" / "bundle.npz"))
    data = mnist_data("bundled", train_limit=1, test_limit=DIGITS)
    images = data.test_x[:DIGITS].reshape(DIGITS, -1).float()
    gen = torch.Generator().manual_seed(7)
    frames = neurobench_frames((torch.rand(T, DIGITS, images.shape[1], generator=gen) < images).float())
    return model, frames, data.test_y[:DIGITS]


def run_neurobench(model, frames, labels) -> dict:
    from neurobench.benchmarks import Benchmark
    from neurobench.metrics.workload import ActivationSparsity, MembraneUpdates, SynapticOperations
    from neurobench.models import SNNTorchModel

    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(frames, labels), batch_size=100)
    bench = Benchmark(SNNTorchModel(NeuroBenchNet(model)), loader, [], [],
                      [[], [ActivationSparsity, MembraneUpdates, SynapticOperations]])
    return bench.run(quiet=True)


def test_neurobench_metrics_equal_labkits_counts(setting):
    model, frames, labels = setting
    theirs = run_neurobench(model, frames, labels)
    ours = count_ops(model, frames, encoder=FrameEncoder(), max_samples=None, device="cpu")
    syn = theirs["SynapticOperations"]
    assert syn["Effective_ACs"] == pytest.approx(ours.effective_acs, rel=1e-9), "spike-driven accumulates per digit"
    assert syn["Effective_MACs"] == pytest.approx(ours.effective_macs, abs=1e-9), "binary inputs: no MACs"
    assert syn["Dense"] == pytest.approx(ours.dense, rel=1e-9), "every synapse at every step"
    assert theirs["ActivationSparsity"] == pytest.approx(ours.activation_sparsity, rel=1e-9), \
        "the zero share of the hidden and output spikes"
    # NeuroBench counts the membranes that changed; labkit's neuron_updates every evaluation (T·ΣN)
    with torch.no_grad():
        changed = membrane_updates(model(frames.transpose(0, 1))) / len(frames)
    assert theirs["MembraneUpdates"] == pytest.approx(changed, rel=1e-9), "changed membranes per digit"
    assert 0.999 * ours.neuron_updates <= theirs["MembraneUpdates"] <= ours.neuron_updates, \
        "almost every membrane changes at every step, never more than T·ΣN"


def test_neurobench_sees_the_neurons_of_the_adapter(setting):
    from neurobench.models import SNNTorchModel

    model = SNNTorchModel(NeuroBenchNet(setting[0]))
    assert len(model.activation_layers()) == 2, "one LIF layer per connection layer is an activation layer"
    assert len(model.connection_layers()) == 2, "the model's own Linear layers are the connection layers"
