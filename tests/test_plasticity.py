"""Tests for labkit.stdp (traces, pair-based STDP) and labkit.competitive with its loop (the competitive STDP layer)."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest
import torch

from labkit.encoding import encode_rate
from labkit.neurons import LIFParams
from labkit.plasticity import (
    CompetitiveParams,
    STDPParams,
    assign_labels,
    classify,
    competitive_forward,
    competitive_update,
    confusion_matrix,
    decay_matrix,
    init_competitive_weights,
    normalize_weights,
    stdp_update,
    stdp_window,
    traces,
    train_competitive,
    window_matrix,
)
from labkit.training import Data

# ----------------------------------------------------------------------------- slow references


def reference_window(delta_t: float, params: STDPParams) -> float:
    """W(Δt) of the module docstring, written out for one pair (Δt = t_post − t_pre)."""
    if delta_t >= 0:
        return params.A_plus * math.exp(-delta_t / params.tau_plus)
    return -params.A_minus * math.exp(delta_t / params.tau_minus)


def reference_stdp(pre, post, params: STDPParams, weight=None) -> torch.Tensor:
    """ΔW[j, i] = (1/B) Σ_b Σ_{pairs (t_pre, t_post)} W(t_post − t_pre), with explicit loops over
    every presynaptic and every postsynaptic spike (no traces). With ``soft_bound`` the
    potentiating pairs are scaled by (w_max − w) and the depressing pairs by (w − w_min)."""
    steps, batch, n_pre = pre.shape
    n_post = post.shape[2]
    dw = torch.zeros(n_post, n_pre, dtype=torch.float64)
    for b in range(batch):
        for j in range(n_post):
            post_times = [t for t in range(steps) if post[t, b, j] > 0]
            for i in range(n_pre):
                pre_times = [t for t in range(steps) if pre[t, b, i] > 0]
                for t_post in post_times:
                    for t_pre in pre_times:
                        change = reference_window(t_post - t_pre, params)
                        if params.soft_bound:
                            w = float(weight[j, i])
                            change *= (params.w_max - w) if change >= 0 else (w - params.w_min)
                        dw[j, i] += change
    return dw / batch


def reference_traces(spikes: torch.Tensor, decay: float) -> torch.Tensor:
    """x_t = decay · x_{t−1} + s_t, one step at a time from x_{−1} = 0."""
    out = torch.zeros_like(spikes)
    x = torch.zeros_like(spikes[0])
    for t in range(spikes.shape[0]):
        x = decay * x + spikes[t]
        out[t] = x
    return out


def random_spikes(shape, rate: float, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(shape, generator=g) < rate).float()


# ----------------------------------------------------------------------------- pair-based STDP


@pytest.mark.parametrize(
    "steps, batch, n_pre, n_post, rate, seed",
    [(1, 1, 3, 2, 0.5, 0), (7, 2, 5, 4, 0.3, 1), (16, 3, 6, 5, 0.2, 2), (25, 2, 9, 3, 0.4, 3)],
)
@pytest.mark.parametrize(
    "params",
    [STDPParams(), STDPParams(A_plus=0.02, A_minus=0.005, tau_plus=2.0, tau_minus=9.0)],
    ids=["default", "asymmetric"],
)
def test_stdp_update_matches_the_sum_over_all_spike_pairs(steps, batch, n_pre, n_post, rate, seed, params):
    pre = random_spikes((steps, batch, n_pre), rate, seed)
    post = random_spikes((steps, batch, n_post), rate, seed + 100)
    got = stdp_update(pre, post, params)
    want = reference_stdp(pre, post, params)
    assert got.shape == (n_post, n_pre), "ΔW is [n_post, n_pre]"
    torch.testing.assert_close(got.double(), want, rtol=1e-5, atol=1e-7,
                               msg="the trace form equals the explicit sum of W(Δt) over every spike pair")


def test_stdp_update_soft_bound_matches_the_weighted_pair_sum():
    params = STDPParams(A_plus=0.03, A_minus=0.02, tau_plus=4.0, tau_minus=6.0, soft_bound=True, w_min=-0.5, w_max=1.5)
    pre = random_spikes((12, 2, 5), 0.3, 10)
    post = random_spikes((12, 2, 4), 0.3, 11)
    weight = torch.empty(4, 5).uniform_(-0.5, 1.5, generator=torch.Generator().manual_seed(12))
    got = stdp_update(pre, post, params, weight)
    want = reference_stdp(pre, post, params, weight)
    torch.testing.assert_close(got.double(), want, rtol=1e-5, atol=1e-7,
                               msg="soft bounds scale potentiation by (w_max − w) and depression by (w − w_min)")


def test_soft_bound_updates_vanish_at_the_bounds():
    params = STDPParams(soft_bound=True, w_min=0.0, w_max=1.0)
    pre = torch.zeros(3, 1, 1)
    post = torch.zeros(3, 1, 1)
    pre[0], post[1] = 1, 1  # pre one step before post: pure potentiation
    assert stdp_update(pre, post, params, torch.ones(1, 1)).item() == 0.0, "no potentiation at w = w_max"
    assert stdp_update(post, pre, params, torch.zeros(1, 1)).item() == 0.0, "no depression at w = w_min"
    with pytest.raises(ValueError, match="weight"):
        stdp_update(pre, post, params)


def test_pair_protocol_reproduces_the_stdp_window():
    # One trial per Δt ∈ [−50, 50]: a single pre spike at t = 60 and a single post spike at 60 + Δt.
    # Post neuron k holds trial k, so one call measures all 101 trials (batch of one).
    params = STDPParams(A_plus=0.01, A_minus=0.012, tau_plus=20.0, tau_minus=20.0)
    delta = torch.arange(-50, 51)
    steps, t_pre = 121, 60
    pre = torch.zeros(steps, 1, 1)
    pre[t_pre, 0, 0] = 1
    post = torch.zeros(steps, 1, len(delta))
    post[t_pre + delta, 0, torch.arange(len(delta))] = 1
    measured = stdp_update(pre, post, params)[:, 0]
    torch.testing.assert_close(measured, stdp_window(delta, params), rtol=1e-5, atol=1e-9,
                               msg="a pair protocol recovers W(Δt) point by point")
    assert (measured[delta >= 0] > 0).all(), "pre before post (Δt ≥ 0) potentiates"
    assert (measured[delta < 0] < 0).all(), "post before pre (Δt < 0) depresses"
    assert measured[delta == 0].item() == pytest.approx(params.A_plus), "W(0) = A+ (simultaneous spikes are causal)"
    assert measured[delta == 20].item() == pytest.approx(params.A_plus / math.e, rel=1e-5), "W(τ+) = A+/e"


def test_stdp_window_golden_values():
    params = STDPParams(A_plus=0.5, A_minus=0.25, tau_plus=10.0, tau_minus=5.0)
    # By hand: 0.5·e^(−10/10) = 0.18394, −0.25·e^(−5/5) = −0.09197.
    got = stdp_window(torch.tensor([10.0, -5.0]), params)
    torch.testing.assert_close(got, torch.tensor([0.18394, -0.09197]), atol=1e-5, rtol=0)


def test_stdp_update_averages_over_the_batch():
    pre = random_spikes((10, 1, 4), 0.4, 5)
    post = random_spikes((10, 1, 3), 0.4, 6)
    single = stdp_update(pre, post)
    doubled = stdp_update(pre.repeat(1, 4, 1), post.repeat(1, 4, 1))
    torch.testing.assert_close(single, doubled, msg="repeating a sample does not change the batch average")


def test_stdp_update_rejects_mismatched_time_or_batch():
    with pytest.raises(ValueError, match="time, batch"):
        stdp_update(torch.zeros(5, 2, 3), torch.zeros(4, 2, 3))


# ----------------------------------------------------------------------------- traces


@pytest.mark.parametrize("decay", [0.0, 0.5, math.exp(-1 / 20)])
def test_traces_equal_the_step_by_step_recursion(decay):
    spikes = random_spikes((30, 2, 7), 0.3, 4)
    torch.testing.assert_close(traces(spikes, decay), reference_traces(spikes, decay),
                               msg="the one-product trace equals x_t = λ x_{t−1} + s_t")


def test_trace_of_one_spike_decays_geometrically():
    spikes = torch.zeros(6)
    spikes[1] = 1
    # By hand: 0, 1, λ, λ², λ³, λ⁴ with λ = 0.5.
    torch.testing.assert_close(traces(spikes, 0.5), torch.tensor([0, 1, 0.5, 0.25, 0.125, 0.0625]))


def test_decay_matrix_is_lower_triangular_powers():
    d = decay_matrix(4, 0.5)
    assert torch.equal(d.triu(1), torch.zeros(4, 4)), "no influence of the future on the trace"
    assert d[3, 1].item() == 0.25 and d[2, 2].item() == 1.0, "D[t, t'] = λ^(t − t')"


# ----------------------------------------------------------------------------- parameters


@pytest.mark.parametrize("field", ["tau_plus", "tau_minus"])
@pytest.mark.parametrize("value", [-1.0, 0.0, math.inf])
def test_params_reject_non_positive_time_constants(field, value):
    with pytest.raises(ValueError, match=field):
        STDPParams(**{field: value})


@pytest.mark.parametrize("field", ["A_plus", "A_minus"])
@pytest.mark.parametrize("value", [math.nan, -0.1])
def test_params_reject_nan_or_negative_amplitudes(field, value):
    with pytest.raises(ValueError, match=field):
        STDPParams(**{field: value})


def test_params_reject_empty_weight_range():
    with pytest.raises(ValueError, match="w_min"):
        STDPParams(w_min=1.0, w_max=1.0)


def test_trace_decays_come_from_the_time_constants():
    params = STDPParams(tau_plus=4.0, tau_minus=8.0)
    assert params.decay_plus == pytest.approx(math.exp(-0.25)), "λ+ = e^(−1/τ+)"
    assert params.decay_minus == pytest.approx(math.exp(-0.125)), "λ− = e^(−1/τ−)"


def test_window_matrix_samples_the_window():
    params = STDPParams(A_plus=0.02, A_minus=0.01, tau_plus=3.0, tau_minus=7.0)
    k = window_matrix(9, params)
    lag = torch.arange(9)[:, None] - torch.arange(9)[None, :]
    torch.testing.assert_close(k, stdp_window(lag, params), msg="K[t_post, t_pre] = W(t_post − t_pre)")
    torch.testing.assert_close(window_matrix(9, params, "plus") + window_matrix(9, params, "minus"), k,
                               msg="the potentiating and depressing halves add up to the window")
    with pytest.raises(ValueError, match="part"):
        window_matrix(3, params, "both halves")


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
