"""labkit.loihi.deploy, the model it deploys: `labkit deploy` takes only what it can run, and any feed-forward SpikingMLP
(docs/reliability.md, issue #18 item 7).

Before these checks an ANN state_dict (the same keys as a SpikingMLP) was deployed as a spiking
network without a word, and any size other than 784-500-10 failed with a size-mismatch traceback
from ``load_state_dict``.
"""

from __future__ import annotations

import argparse
import json

import pytest
import torch

from labkit.foundation.errors import LabkitError
from labkit.loihi import deploy
from labkit.loihi.deploy import DeployModelError, load_or_train_model, spiking_mlp_from_state
from labkit.models import ANNBaseline, SpikingMLP


def saved(path, state, rule=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path)
    if rule is not None:
        (path.parent / "eval.json").write_text(json.dumps({"rule": rule, "seed": 0}))
    return path


def test_an_ann_run_is_refused_with_a_message(tmp_path):
    path = saved(tmp_path / "ann_s0" / "model.pt", ANNBaseline(seed=0).state_dict(), rule="ann")
    with pytest.raises(DeployModelError, match="trained as rule 'ann'.*an ANN has no spikes"):
        load_or_train_model(path)


def test_the_refusal_is_a_labkit_user_error(tmp_path):
    path = saved(tmp_path / "ann_s0" / "model.pt", ANNBaseline(seed=0).state_dict(), rule="ann")
    with pytest.raises(LabkitError):  # the CLI prints it as `labkit: error: ...` with exit code 2
        load_or_train_model(path)


@pytest.mark.parametrize("state, message", [
    ({"weight": torch.zeros(5, 784), "theta": torch.zeros(5), "neuron_labels": torch.zeros(5)}, "STDP-only"),
    ({"model": {}, "optimizer": {}, "epoch": 3}, "training checkpoint"),
    ({"layers.0.weight": torch.zeros(8, 784), "layers.0.bias": torch.zeros(8),
      "layers.1.weight": torch.zeros(10, 8), "layers.1.bias": torch.zeros(10),
      "recurrent.weight": torch.zeros(8, 8)}, "recurrent"),
    ({"layers.0.weight": torch.zeros(8, 100), "layers.1.weight": torch.zeros(10, 8)}, "784 inputs"),
    ({"layers.0.weight": torch.zeros(8, 784), "layers.1.weight": torch.zeros(500, 8)}, "10 outputs"),
    ({"layers.0.weight": torch.zeros(8, 784), "layers.1.weight": torch.zeros(10, 9)}, "do not chain"),
    ({"fc.weight": torch.zeros(10, 784)}, "not a SpikingMLP state_dict"),
    ([1, 2, 3], "holds a list"),
])
def test_files_that_are_not_a_feed_forward_spiking_mlp_are_named(tmp_path, state, message):
    with pytest.raises(DeployModelError, match=message):
        load_or_train_model(saved(tmp_path / "model.pt", state))


def test_other_sizes_are_deployed_with_the_sizes_of_their_weights(tmp_path):
    trained = SpikingMLP((784, 40, 20, 10), seed=3)
    model, info = load_or_train_model(saved(tmp_path / "bp_s0" / "model.pt", trained.state_dict(), rule="bp"))
    assert model.sizes == (784, 40, 20, 10) and info["sizes"] == [784, 40, 20, 10], "sizes read from the weights"
    assert info["rule"] == "bp", "the run's rule is recorded"
    for mine, theirs in zip(model.state_dict().values(), trained.state_dict().values()):
        assert torch.equal(mine, theirs), "the weights are the file's"
    no_bias = SpikingMLP((784, 16, 10), bias=False, seed=0)
    assert spiking_mlp_from_state(no_bias.state_dict()).sizes == (784, 16, 10), "a network without biases loads"


def test_deploy_runs_a_784_40_20_10_network_on_torch_and_writes_its_sizes(tmp_path):
    path = saved(tmp_path / "model.pt", SpikingMLP((784, 40, 20, 10), seed=3).state_dict())
    parser = argparse.ArgumentParser()
    deploy.add_arguments(parser)
    args = parser.parse_args(["--model", str(path), "--images", "20", "--source", "bundled", "--no-lava",
                              "--out", str(tmp_path / "out"), "--quiet"])
    assert deploy.run(args) == 0
    result = json.loads((tmp_path / "out" / "deploy.json").read_text())
    assert result["model"]["sizes"] == [784, 40, 20, 10] and result["images"] == 20
    assert len(result["spikes_per_image"]["torch_float"]) == 4, "input and three LIF layers are counted"
    assert result["readout"] == "count", "the readout every accuracy comes from is named"
