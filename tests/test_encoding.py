"""Tests for labkit.encoding: Bernoulli rate code, latency code, decoding."""

from __future__ import annotations

import math

import pytest
import torch

from labkit.encoding import check_intensities, decode_rate, encode_latency, encode_rate


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ----------------------------------------------------------------------------- rate code


@pytest.mark.parametrize("p", [0.02, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99])
def test_rate_code_fires_with_probability_equal_to_intensity(p):
    # n = T · pixels = 100 · 2,000 = 200,000 independent Bernoulli(p) draws. Their mean has the
    # binomial standard deviation σ = sqrt(p(1 − p)/n) ≤ 0.0011; a 5σ band is exceeded by chance
    # with probability 6e-7, and the generator is seeded, so the test is deterministic anyway.
    steps, pixels = 100, 2000
    spikes = encode_rate(torch.full((pixels,), p), steps, generator=_gen(0))
    n = steps * pixels
    sigma = math.sqrt(p * (1 - p) / n)
    rate = spikes.mean().item()
    assert abs(rate - p) < 5 * sigma, f"spike rate {rate:.4f} matches intensity {p} within 5σ = {5 * sigma:.4f}"


def test_rate_code_per_pixel_counts_are_binomial():
    # Each pixel's count over T steps is Binomial(T, x): its standardised deviations across
    # 784 pixels have mean ≈ 0 (std 1/sqrt(784) = 0.036) and variance ≈ 1 (std sqrt(2/784) = 0.05).
    steps = 400
    x = torch.rand(784, generator=_gen(1)) * 0.8 + 0.1  # keep p away from 0 and 1
    counts = encode_rate(x, steps, generator=_gen(2)).sum(0)
    z = (counts - steps * x) / torch.sqrt(steps * x * (1 - x))
    assert abs(z.mean().item()) < 5 * 0.036, "per-pixel counts are unbiased: E[count] = T x"
    assert abs(z.var().item() - 1) < 5 * 0.05, "per-pixel counts have binomial variance T x (1 − x)"


def test_rate_code_gain_scales_probability_and_clips_at_one():
    x = torch.full((4000,), 0.2)
    rate = encode_rate(x, 50, gain=2.0, generator=_gen(3)).mean().item()
    sigma = math.sqrt(0.4 * 0.6 / (50 * 4000))  # binomial std of the mean, as above
    assert abs(rate - 0.4) < 5 * sigma, "gain 2 doubles the firing probability"
    assert encode_rate(torch.full((10,), 0.6), 20, gain=2.0, generator=_gen(4)).min() == 1, "g x ≥ 1 fires always"
    assert encode_rate(x, 20, gain=0.0, generator=_gen(5)).sum() == 0, "gain 0 silences every pixel"


def test_rate_code_same_seed_same_spikes_and_other_seed_other_spikes():
    x = torch.rand(3, 28, 28, generator=_gen(6))
    a = encode_rate(x, 25, generator=_gen(42))
    b = encode_rate(x, 25, generator=_gen(42))
    c = encode_rate(x, 25, generator=_gen(43))
    assert torch.equal(a, b), "the same generator seed reproduces the same spike trains"
    assert not torch.equal(a, c), "a different seed gives different spike trains"


def test_rate_code_does_not_touch_the_global_generator():
    x = torch.rand(100, generator=_gen(7))
    torch.manual_seed(0)
    expected = torch.rand(5)
    torch.manual_seed(0)
    encode_rate(x, 25, generator=_gen(8))
    assert torch.equal(torch.rand(5), expected), "randomness comes only from the explicit generator"


def test_rate_code_zero_pixels_never_spike_and_one_pixels_always_do():
    x = torch.zeros(2, 28, 28)
    x[:, 10:18, 10:18] = 1.0
    spikes = encode_rate(x, 500, generator=_gen(9))
    assert spikes[:, x == 0].sum() == 0, "a black pixel (x = 0) never fires"
    assert spikes[:, x == 1].min() == 1, "a white pixel (x = 1) fires at every step"


def test_rate_code_shape_dtype_and_values():
    x = torch.rand(5, 28, 28, generator=_gen(10), dtype=torch.float64)
    spikes = encode_rate(x, 7, generator=_gen(11))
    assert spikes.shape == (7, 5, 28, 28), "time first: [T, *image shape]"
    assert spikes.dtype == torch.float64, "spikes keep the images' floating dtype"
    assert set(spikes.unique().tolist()) <= {0.0, 1.0}, "spikes are 0 or 1"


@pytest.mark.parametrize(
    "images, match",
    [
        (torch.tensor([0.5, -0.01]), r"\[0, 1\]"),
        (torch.tensor([0.5, 1.01]), r"\[0, 1\]"),
        (torch.tensor([0.5, float("nan")]), "NaN"),
        (torch.tensor([0.5, float("inf")]), "NaN or infinite"),
        (torch.tensor([0, 255], dtype=torch.uint8), "floating"),
    ],
    ids=["below0", "above1", "nan", "inf", "uint8"],
)
@pytest.mark.parametrize("encode", [encode_rate, encode_latency])
def test_encoders_reject_values_outside_unit_interval(encode, images, match):
    with pytest.raises(ValueError, match=match):
        encode(images, 10)


@pytest.mark.parametrize("num_steps", [0, -1, 2.5, "25"])
@pytest.mark.parametrize("encode", [encode_rate, encode_latency])
def test_encoders_reject_num_steps_below_one_or_not_an_integer(encode, num_steps):
    with pytest.raises(ValueError, match="num_steps"):
        encode(torch.rand(4, generator=_gen(12)), num_steps)


@pytest.mark.parametrize("gain", [-0.5, float("nan")])
def test_rate_code_rejects_negative_or_nan_gain(gain):
    with pytest.raises(ValueError, match="gain"):
        encode_rate(torch.rand(4, generator=_gen(13)), 10, gain=gain)


def test_check_intensities_accepts_the_closed_interval_and_empty_input():
    check_intensities(torch.tensor([0.0, 0.5, 1.0]))
    check_intensities(torch.empty(0, 28, 28))


def test_decode_rate_recovers_intensity_with_binomial_error():
    # decode_rate is the spike count / T, an unbiased estimate of x with variance x(1 − x)/T:
    # averaged over pixels, the root-mean-square error is sqrt(mean x(1 − x) / T) (the 1/sqrt(T) law).
    x = torch.rand(20, 784, generator=_gen(14))
    expected = torch.sqrt((x * (1 - x)).mean()).item()
    for steps in (4, 25, 400):
        rmse = (decode_rate(encode_rate(x, steps, generator=_gen(steps))) - x).pow(2).mean().sqrt().item()
        predicted = expected / math.sqrt(steps)
        # The MSE averages 15,680 squared errors: its relative spread is about sqrt(2/15,680) ≈ 1%,
        # so the RMSE's is about 0.6%; 5% is a wide, deterministic (seeded) margin.
        assert abs(rmse / predicted - 1) < 0.05, f"T = {steps}: RMSE {rmse:.4f} ≈ sqrt(x(1 − x)/T) {predicted:.4f}"


# ----------------------------------------------------------------------------- latency code


def test_latency_code_fires_once_per_pixel_brighter_earlier():
    x = torch.rand(2, 28, 28, generator=_gen(15))
    x[0, :5] = 0.0
    steps = 25
    spikes = encode_latency(x, steps)
    assert spikes.shape == (steps, 2, 28, 28), "time first: [T, *image shape]"
    counts = spikes.sum(0)
    assert torch.equal(counts, (x > 0).to(counts.dtype)), "each non-black pixel fires exactly once, black never"
    t_spike = spikes.argmax(0).float()  # the step of the single spike
    lit = x > 0
    order = torch.argsort(x[lit])
    assert torch.all(t_spike[lit][order].diff() <= 0), "brighter pixels fire earlier (or at the same step)"


@pytest.mark.parametrize("steps", [1, 2, 25, 100])
def test_latency_code_spike_time_is_linear_in_intensity(steps):
    x = torch.linspace(0.01, 1.0, 100)
    t_spike = encode_latency(x, steps).argmax(0)
    expected = torch.round((1 - x) * (steps - 1)).long()
    assert torch.equal(t_spike, expected), "t_spike = round((1 − x)(T − 1)): x = 1 at t = 0, faint near T − 1"
    assert t_spike[-1] == 0, "the brightest pixel fires at the first step"


def test_latency_code_min_intensity_silences_faint_pixels():
    x = torch.tensor([0.05, 0.1, 0.11, 0.5])
    counts = encode_latency(x, 25, min_intensity=0.1).sum(0)
    assert counts.tolist() == [0.0, 0.0, 1.0, 1.0], "pixels at or below min_intensity never fire"


def test_latency_code_is_deterministic_and_sparser_than_rate_code():
    x = torch.rand(4, 784, generator=_gen(16))
    assert torch.equal(encode_latency(x, 25), encode_latency(x, 25)), "latency code has no randomness"
    n_latency = encode_latency(x, 25).sum().item()
    n_rate = encode_rate(x, 25, generator=_gen(17)).sum().item()
    assert n_latency <= x.numel() < n_rate, "at most one spike per pixel, far fewer than the rate code's T x"
