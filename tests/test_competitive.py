"""Tests for labkit.competitive (the competitive STDP layer) and its loop, labkit.training.train_competitive."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest
import torch

from labkit.competitive import (
    CompetitiveParams,
    assign_labels,
    classify,
    competitive_forward,
    competitive_update,
    confusion_matrix,
    init_competitive_weights,
    normalize_weights,
)
from labkit.encoding import encode_rate
from labkit.neurons import LIFParams
from labkit.stdp import STDPParams
from labkit.training import Data, train_competitive


def random_spikes(shape, rate: float, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(shape, generator=g) < rate).float()


# ----------------------------------------------------------------------------- competitive layer


def bar_images(n_per_class: int, seed: int, side: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    """Four classes of tiny images (horizontal bar, vertical bar, two diagonals), with pixel noise."""
    g = torch.Generator().manual_seed(seed)
    protos = torch.zeros(4, side, side)
    protos[0, side // 2 - 1 : side // 2 + 1, :] = 1
    protos[1, :, side // 2 - 1 : side // 2 + 1] = 1
    protos[2] = torch.eye(side) + torch.eye(side).roll(1, 0)
    protos[3] = protos[2].flip(1)
    labels = torch.arange(4).repeat_interleave(n_per_class)
    images = protos[labels] * (0.7 + 0.3 * torch.rand(len(labels), side, side, generator=g))
    images = (images + 0.1 * torch.rand(images.shape, generator=g)).clamp(0, 1)
    order = torch.randperm(len(labels), generator=g)
    return images[order], labels[order]


@pytest.fixture(scope="module")
def bars():
    train_x, train_y = bar_images(60, 0)
    test_x, test_y = bar_images(20, 1)
    return Data(train_x, train_y, test_x, test_y, name="bars")


#: Small-scale parameters for 8 × 8 images (64 inputs): weights sum to 64 · 78/784 as in Diehl and Cook.
TINY = CompetitiveParams(lif=LIFParams(beta=0.95, threshold=5.0, reset="zero"), w_sum=6.4, theta_plus=0.5,
                         theta_tau=200.0, stdp=STDPParams(A_plus=0.01, A_minus=0.002, w_min=0.0, w_max=1.0))


@pytest.mark.parametrize(
    "bad, field",
    [({"winners": 0}, "winners"), ({"inhibition": 1.5}, "inhibition"), ({"theta_tau": 0.0}, "theta_tau"),
     ({"theta_plus": math.nan}, "theta_plus"), ({"w_sum": -1.0}, "w_sum"), ({"gain": 0.0}, "gain"),
     ({"stdp": STDPParams(w_min=-1.0)}, "w_min"), ({"lif": LIFParams(reset="subtract")}, "reset")],
)
def test_competitive_params_reject_bad_values(bad, field):
    with pytest.raises(ValueError, match=field):
        CompetitiveParams(**bad)


def test_normalised_weights_are_non_negative_and_sum_to_w_sum():
    w = torch.randn(5, 30, generator=torch.Generator().manual_seed(0))
    w[4] = -1.0  # a row with nothing left after clipping stays zero
    out = normalize_weights(w, CompetitiveParams(w_sum=3.0))
    assert (out >= 0).all(), "excitatory weights are never negative"
    torch.testing.assert_close(out[:4].sum(dim=1), torch.full((4,), 3.0), msg="every row sums to w_sum")
    assert (out[4] == 0).all(), "an all-zero row is left at zero"


def test_winner_take_all_lets_at_most_k_neurons_fire_per_step():
    spikes_in = random_spikes((20, 6, 64), 0.4, 0)
    weight = init_competitive_weights(12, 64, TINY, generator=torch.Generator().manual_seed(1))
    theta = torch.zeros(12)
    for k in (1, 3):
        out = competitive_forward(spikes_in, weight, theta, replace(TINY, winners=k))
        assert out.shape == (20, 6, 12), "output spikes are [time, batch, neurons]"
        assert out.sum(dim=2).max().item() <= k, f"lateral inhibition: at most {k} winner(s) per step and image"
        assert out.sum() > 0, "a driven layer fires"


def test_competitive_forward_treats_the_images_of_a_batch_independently():
    spikes_in = random_spikes((15, 5, 64), 0.3, 2)
    weight = init_competitive_weights(10, 64, TINY, generator=torch.Generator().manual_seed(3))
    theta = torch.rand(10, generator=torch.Generator().manual_seed(4))
    batched = competitive_forward(spikes_in, weight, theta, replace(TINY, inhibition=0.5))
    single = torch.cat([competitive_forward(spikes_in[:, b : b + 1], weight, theta, replace(TINY, inhibition=0.5))
                        for b in range(5)], dim=1)
    torch.testing.assert_close(batched, single, msg="batching images changes nothing in the forward pass")


def test_the_neuron_whose_weights_match_the_input_wins():
    x, _ = bar_images(1, 5)
    weight = normalize_weights(torch.stack([torch.rand(64, generator=torch.Generator().manual_seed(6)),
                                            x[0].flatten()]), TINY)
    spikes_in = encode_rate(x[:1].flatten(1), 25, generator=torch.Generator().manual_seed(7))
    out = competitive_forward(spikes_in, weight, torch.zeros(2), TINY)
    assert out[:, 0, 1].sum() > 0 and out[:, 0, 0].sum() == 0, "the matching prototype fires, the other is silenced"


def test_competitive_update_moves_the_winner_towards_its_input_and_raises_its_threshold():
    x, _ = bar_images(1, 8)
    spikes_in = encode_rate(x[:1].flatten(1), 25, generator=torch.Generator().manual_seed(9))
    weight = init_competitive_weights(4, 64, TINY, generator=torch.Generator().manual_seed(10))
    theta = torch.full((4,), 0.5)
    out = competitive_forward(spikes_in, weight, theta, TINY)
    winner = int(out.sum(dim=(0, 1)).argmax())
    new_w, new_theta = competitive_update(weight, theta, spikes_in, out, TINY)
    cos = torch.nn.functional.cosine_similarity
    assert cos(new_w[winner], x[0].flatten(), dim=0) > cos(weight[winner], x[0].flatten(), dim=0), \
        "STDP + normalisation turn the winner's weights towards the image it won"
    torch.testing.assert_close(new_theta, 0.5 * math.exp(-1 / TINY.theta_tau) + TINY.theta_plus * out.sum(dim=(0, 1)),
                               msg="homeostasis: θ decays by e^(−1/τθ) per image and rises by θ+ per spike")
    torch.testing.assert_close(new_w.sum(dim=1), torch.full((4,), TINY.w_sum), msg="rows stay normalised")
    silent = out.sum(dim=(0, 1)) == 0
    torch.testing.assert_close(new_w[silent], weight[silent], msg="neurons that did not fire keep their weights")


def test_labels_come_from_the_class_averaged_response():
    responses = torch.tensor([[5.0, 0, 1, 0], [4, 1, 0, 0], [0, 3, 2, 0], [1, 2, 0, 0]])
    labels = torch.tensor([0, 0, 1, 1])
    # By hand: neuron 0 averages 4.5 (class 0) vs 0.5; neuron 1 0.5 vs 2.5; neuron 2 0.5 vs 1.0; neuron 3 never fires.
    neuron_labels = assign_labels(responses, labels, 2)
    assert neuron_labels.tolist() == [0, 1, 1, -1], "argmax of the class-averaged response; silent neurons get −1"
    # Class scores = mean response of that class's neurons: [6, 0] → class 0; [0, 2.5] → class 1.
    assert classify(torch.tensor([[6.0, 0, 0, 9], [0, 3, 2, 9]]), neuron_labels, 2).tolist() == [0, 1]


def test_confusion_matrix_counts_truth_against_prediction():
    c = confusion_matrix(torch.tensor([0, 0, 1, 2, 2]), torch.tensor([0, 1, 1, 2, 0]), 3)
    assert c.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 1]], "rows: true class, columns: predicted class"


def test_train_competitive_learns_the_bar_classes(bars):
    layer, result = train_competitive(bars, n_neurons=12, epochs=2, seed=0, num_steps=20, progress=False,
                                      params=TINY, batch_size=8)
    assert result.test_acc >= 0.9, "unsupervised prototypes + label assignment separate four bar classes"
    assert sum(map(sum, result.confusion)) == len(bars.test_x), "every test image is in the confusion matrix"
    assert len(result.per_class_acc) == 4 and result.train_seconds > 0
    assert (layer.neuron_labels >= 0).sum() >= 4, "at least one labelled neuron per class"
    json.loads(result.to_json())


def test_train_competitive_resumes_exactly_from_its_checkpoint(bars, tmp_path):
    kwargs = dict(n_neurons=6, epochs=2, seed=1, num_steps=10, progress=False, params=TINY, batch_size=16)
    full_layer, full_result = train_competitive(bars, **kwargs)
    ckpt = tmp_path / "stdp.pt"

    def stop_early(info):
        return not (info["epoch"] == 1 and info["batch"] == 3)

    layer, result = train_competitive(bars, checkpoint=ckpt, callback=stop_early, **kwargs)
    assert result is None and ckpt.is_file(), "stopping writes a checkpoint and returns no result"
    resumed, result = train_competitive(bars, checkpoint=ckpt, **kwargs)
    torch.testing.assert_close(resumed.weight, full_layer.weight, rtol=0, atol=0,
                               msg="a resumed run continues with exactly the same images and spikes")
    assert result.test_acc == full_result.test_acc
    again, cached = train_competitive(bars, checkpoint=ckpt, **kwargs)
    assert cached == result, "a finished checkpoint returns its stored result"
    with pytest.raises(ValueError, match="other settings"):
        train_competitive(bars, checkpoint=ckpt, **{**kwargs, "seed": 2})
