"""Tests for where the noise is put and what it costs (labkit.experiments.noise_study), and its remedy."""

from __future__ import annotations

import math

import pytest
import torch

from labkit.data import mnist_available, mnist_data
from labkit.experiments import noise_study as ns
from labkit.foundation.paths import REPO_ROOT
from labkit.models import SpikingMLP


def test_the_mean_haze_is_the_expectation_of_clipped_noise():
    x = torch.tensor([0.0, 0.3, 0.7, 1.0])
    haze = ns.mean_haze(x, 0.3)
    # a black pixel: E[max(σZ, 0)] = σ/√(2π) (the upper clip at 1 is 3.3 σ away and changes the 4th decimal only)
    assert haze[0] == pytest.approx(0.3 / math.sqrt(2 * math.pi), abs=1e-3)
    assert haze[3] == pytest.approx(1 - 0.3 / math.sqrt(2 * math.pi), abs=1e-3), "a white pixel darkens by as much"
    draws = (x + 0.3 * torch.randn(200_000, 4, generator=torch.Generator().manual_seed(0))).clamp(0, 1).mean(0)
    assert torch.allclose(haze, draws, atol=2e-3), "the closed form agrees with the average of many draws"


def test_re_centring_restores_the_first_layers_mean_current():
    g = torch.Generator().manual_seed(0)
    train_x = torch.rand(64, 28, 28, generator=g) * (torch.rand(64, 28, 28, generator=g) < 0.2)
    noisy = (train_x + 0.3 * torch.randn(64, 28, 28, generator=g)).clamp(0, 1)
    model = SpikingMLP(seed=0)
    fixed = ns.recentre_first_layer(model, train_x, noisy)
    w, b = model.layers[0].weight, model.layers[0].bias
    clean_current = w @ train_x.flatten(1).mean(0) + b
    fixed_current = fixed.layers[0].weight @ noisy.flatten(1).mean(0) + fixed.layers[0].bias
    assert torch.allclose(fixed_current, clean_current, atol=1e-4), \
        "on the noisy digits' mean, the re-centred layer sees the current of the clean training mean"
    assert torch.equal(model.layers[0].bias, b) and model.layers[0].bias is not fixed.layers[0].bias, \
        "the model itself is not changed"


def test_zeroing_never_lit_inputs_leaves_the_other_weights():
    model = SpikingMLP(seed=0)
    mask = torch.zeros(784, dtype=torch.bool)
    mask[:5] = True
    fixed = ns.copy_with_zeroed_inputs(model, mask)
    assert (fixed.layers[0].weight[:, :5] == 0).all() and torch.equal(fixed.layers[0].weight[:, 5:],
                                                                      model.layers[0].weight[:, 5:])


@pytest.mark.skipif(not mnist_available() or not (REPO_ROOT / "results/mnist/runs/bp_s0/model.pt").is_file(),
                    reason="needs full MNIST and the committed run bp_s0")
def test_on_bp_s0_the_damage_is_the_mean_haze_and_re_centring_recovers_most_of_it():
    data = mnist_data("full")
    run = ns.StudyRun("bp", 0, REPO_ROOT / "results/mnist/runs/bp_s0", "count")
    acc = ns.noise_placements(ns.load_trained(run), data.train_x, data.test_x[:500], data.test_y[:500])
    assert acc["never-lit pixels"] == 67, "67 pixels are 0 in every training digit"
    assert acc["clean"] - acc["never-lit pixels only"] < 1.5, "noise on never-lit pixels alone costs about nothing"
    assert acc["clean"] - acc["mean haze, no randomness"] > 20, "the deterministic haze alone does the damage"
    assert acc["all pixels, input re-centred (remedy)"] > acc["all pixels"] + 15, \
        "re-centring the first layer's input recovers most of the loss"
    assert abs(acc["all pixels, never-lit weights zeroed"] - acc["all pixels"]) < 3, "zeroing never-lit weights does not"
