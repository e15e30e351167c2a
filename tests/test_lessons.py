"""The lessons the chapters' prose states still show in fast mode (LABKIT_FAST=1, the settings the tests run).

Each test repeats the computation of a chapter cell with the settings that cell uses in fast mode,
and asserts what the prose after it says.
"""

from __future__ import annotations

import pytest
import torch

from labkit.data import mnist_data
from labkit.experiments import noise_study
from labkit.foundation.paths import REPO_ROOT
from labkit.models import SpikingMLP
from labkit.noise import add_noise
from labkit.training import evaluate, evaluate_readouts, train

RESULTS = REPO_ROOT / "results" / "mnist"


def test_chapter_4_training_on_the_membranes_leaves_most_test_digits_silent():
    # chapter 4, sections 4.5-4.7 in fast mode: 1,000 bundled training digits, 300 test digits, EPOCHS = 3
    data = mnist_data("bundled", train_limit=1000, test_limit=300)
    membrane, rate = SpikingMLP(seed=0), SpikingMLP(seed=0)
    train(membrane, "bp", data, 3, seed=0, progress=False, loss="membrane")
    train(rate, "bp", data, 3, seed=0, progress=False, loss="rate")
    silent = evaluate_readouts(membrane, data.test_x, data.test_y, seed=0)["silent_fraction"]
    assert silent > 0.5, f"most test digits give no output spike after training on the membranes ({silent:.0%})"
    after = evaluate_readouts(rate, data.test_x, data.test_y, seed=0)["silent_fraction"]
    assert after < 0.1, f"the loss on the spikes makes the silent digits (nearly) disappear ({after:.0%})"


@pytest.mark.skipif(not (RESULTS / "noise_mechanism.json").is_file(), reason="needs the report's noise mechanism")
def test_chapter_6_weights_from_never_lit_pixels_never_move():
    never = noise_study.read_mechanism(RESULTS)["never_lit"]
    assert never is not None and int(never.sum()) == 67, "the report stores full MNIST's 67 never-lit pixels"
    for run in noise_study.finished_runs(RESULTS / "runs", rules=("bp", "adaptive", "sum")):
        if run.seed != 0:
            continue
        trained = noise_study.load_trained(run).layers[0].weight
        initial = SpikingMLP(seed=run.seed).layers[0].weight
        assert torch.equal(trained[:, never.flatten()], initial[:, never.flatten()]), \
            f"{run.name}: the weights from pixels black in every training digit are exactly their initialisation"


def test_chapter_6_training_with_noise_helps_under_clipped_noise():
    # chapter 6, "the standard remedy" in fast mode: 3,000 training digits, 200 test digits, 500 hidden, 1 epoch
    subset = mnist_data("bundled", train_limit=3000, test_limit=200)
    noisy = subset._replace(train_x=add_noise(subset.train_x, 0.3, torch.Generator().manual_seed(0)))
    scores = {}
    for label, data in (("clean", subset), ("noisy", noisy)):
        net = SpikingMLP((784, 500, 10), seed=0)
        readout = train(net, "bp", data, 1, seed=0, progress=False).config["readout"]
        scores[label] = evaluate(net, subset.test_x, subset.test_y, noise_sigma=0.3, noise="pixel_clip", seed=0,
                                 readout=readout)
    assert scores["noisy"] > scores["clean"] + 0.03, f"training with the haze helps under it: {scores}"


