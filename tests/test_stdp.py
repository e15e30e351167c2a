"""Tests for labkit.stdp: traces, pair-based STDP and its window, checked against explicit loops over spike pairs."""

from __future__ import annotations

import math

import pytest
import torch

from labkit.stdp import STDPParams, decay_matrix, stdp_update, stdp_window, traces, window_matrix

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
