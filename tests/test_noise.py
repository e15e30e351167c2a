"""Tests for labkit.noise: the noise protocols' statistics, σ = 0, determinism, and where evaluation uses them."""

from __future__ import annotations

import math

import pytest
import torch

from labkit.competitive import CompetitiveLayer
from labkit.encoders import RateEncoder
from labkit.foundation.seeds import Stream, epoch_generator
from labkit.models import ANNBaseline, SpikingMLP
from labkit.noise import (DEFAULT_NOISE, MNIST_STD, NOISE_PROTOCOLS, add_noise, check_noise, noisy_input,
                          noisy_static)
from labkit.training import evaluate, predict_classes
from labkit.training.evaluation import model_inputs

ENCODER = RateEncoder()
T = 25
SIGMA = 0.3


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _inputs(name, x, sigma, seed=0, steps=T):
    return noisy_input(name, x, sigma, encoder=ENCODER, num_steps=steps, noise=_gen(seed), code=_gen(seed + 1))


def _static(name, x, sigma, seed=0):
    return noisy_static(name, x, sigma, encoder=ENCODER, num_steps=T, noise=_gen(seed))


def _digitlike(batch=64, seed=3):
    """Images with a black background (x = 0) and a bright stroke (x = 1) on a quarter of the pixels."""
    g = _gen(seed)
    return (torch.rand(batch, 28, 28, generator=g) < 0.25).float()


PROTOCOLS = pytest.mark.parametrize("name", list(NOISE_PROTOCOLS))
CODE_PROTOCOLS = pytest.mark.parametrize("name", [n for n in NOISE_PROTOCOLS if n != "current"])


# ----------------------------------------------------------------------------- the registry


def test_unknown_protocol_names_every_choice():
    with pytest.raises(ValueError) as info:
        check_noise("gaussian")
    message = str(info.value)
    assert "gaussian" in message and all(name in message for name in NOISE_PROTOCOLS), \
        "the error names the wrong protocol and lists every valid one"


def test_default_protocol_is_todays_clipped_pixel_noise():
    assert DEFAULT_NOISE == "pixel_clip" and DEFAULT_NOISE in NOISE_PROTOCOLS


@pytest.mark.parametrize("sigma", [-0.1, math.nan, math.inf])
def test_sigma_must_be_finite_and_non_negative(sigma):
    with pytest.raises(ValueError, match="noise_sigma"):
        _inputs("pixel_clip", _digitlike(2), sigma)


# ----------------------------------------------------------------------------- σ = 0 and determinism


@CODE_PROTOCOLS
def test_zero_sigma_leaves_the_clean_code_unchanged(name):
    x = _digitlike(8) * 0.7
    clean = ENCODER(x, T, _gen(1))
    assert torch.equal(_inputs(name, x, 0.0), clean), f"{name} at σ = 0 gives exactly the clean spikes"
    assert torch.equal(_static(name, x, 0.0), x), f"{name} at σ = 0 gives the ANN the clean image"


def test_zero_sigma_current_is_the_clean_image_at_every_step():
    x = _digitlike(4) * 0.6
    current = _inputs("current", x, 0.0)
    assert current.shape == (T, *x.shape)
    assert torch.equal(current, x.expand(T, *x.shape)), "direct encoding reads the clean image at every step"


@PROTOCOLS
def test_same_generators_same_input_and_another_seed_another(name):
    x = _digitlike(8) * 0.8
    a, b, other = _inputs(name, x, SIGMA, seed=0), _inputs(name, x, SIGMA, seed=0), _inputs(name, x, SIGMA, seed=7)
    assert torch.equal(a, b), f"{name}: the same generators give the same noisy input"
    assert not torch.equal(a, other), f"{name}: another seed gives other noise"


def test_pixel_clip_is_bit_identical_to_add_noise_then_the_encoder():
    x = _digitlike(16) * 0.9
    g_noise, g_code = _gen(0), _gen(1)
    expected = ENCODER(add_noise(x, SIGMA, g_noise), T, g_code)
    assert torch.equal(_inputs("pixel_clip", x, SIGMA), expected)
    reference = (x + SIGMA * torch.randn(x.shape, generator=_gen(0))).clamp(0, 1)  # the formula of the lab's runs
    assert torch.equal(_static("pixel_clip", x, SIGMA), reference)


# ----------------------------------------------------------------------------- statistics per protocol
# 64 digits · 784 pixels ≈ 50,000 pixels, three quarters black: a mean over the black pixels has a
# standard error below 0.001 for every protocol here, so 0.01 is a band of more than 10 standard errors.


def test_pixel_clip_gives_black_pixels_a_mean_intensity_of_sigma_over_root_2pi():
    x = _digitlike()
    noisy = _static("pixel_clip", x, SIGMA)
    assert noisy.min() >= 0 and noisy.max() <= 1, "clipped to [0, 1]"
    black = noisy[x == 0].mean().item()
    assert abs(black - SIGMA / math.sqrt(2 * math.pi)) < 0.01, f"E[max(0, σz)] = 0.120, got {black:.3f}"
    spikes = _inputs("pixel_clip", x, SIGMA)
    assert spikes[:, (x == 0) & (noisy == 0)].sum() == 0, "a black pixel with negative noise never fires"
    rate = spikes[:, x == 0].mean().item()
    assert abs(rate - black) < 0.01, f"black pixels fire at their clipped intensity, {rate:.3f} vs {black:.3f}"


def test_pixel_fresh_draws_new_noise_every_step_with_the_same_mean_shift():
    x = _digitlike()
    spikes = _inputs("pixel_fresh", x, SIGMA)
    rate = spikes[:, x == 0].mean().item()
    assert abs(rate - SIGMA / math.sqrt(2 * math.pi)) < 0.01, f"black-pixel rate σ/√(2π), got {rate:.3f}"
    frozen = _inputs("pixel_clip", x, SIGMA)
    never = (frozen[:, x == 0].sum(dim=0) == 0).float().mean().item()
    never_fresh = (spikes[:, x == 0].sum(dim=0) == 0).float().mean().item()
    assert never > 0.45 and never_fresh < 0.15, \
        "frozen noise leaves the half of black pixels with negative noise silent; fresh noise reaches nearly all"


def test_pixel_signed_keeps_zero_mean_noise_as_signed_spikes():
    x = _digitlike()
    spikes = _inputs("pixel_signed", x, SIGMA)
    assert set(spikes.unique().tolist()) <= {-1.0, 0.0, 1.0}, "spikes are −1, 0 or +1"
    black = spikes[:, x == 0]
    assert abs(black.mean().item()) < 0.01, "the noise adds no mean input on black pixels"
    expected = SIGMA * math.sqrt(2 / math.pi)  # E|σz|
    assert abs(black.abs().mean().item() - expected) < 0.01, f"|spikes| on black pixels at E|σz| = {expected:.3f}"
    assert _static("pixel_signed", x, SIGMA).min() < 0, "the ANN reads the unclipped (signed) intensities"


def test_normalized_noise_is_sigma_times_the_mnist_std_on_the_pixels():
    x = torch.full((64, 784), 0.5)  # mid-grey: 0.5 ± 0.09 is never clipped at 5 standard deviations
    noisy = _static("normalized", x, SIGMA)
    spread = (noisy - x).std().item()
    assert abs(spread - MNIST_STD * SIGMA) < 0.002, f"σ = 0.3 on the standardised input is {MNIST_STD * SIGMA:.4f}"


def test_spike_resample_deletes_and_inserts_at_rate_sigma_keeping_the_count():
    x = _digitlike()
    clean = ENCODER(x, T, _gen(1))
    noisy = _inputs("spike_resample", x, SIGMA)
    assert set(noisy.unique().tolist()) <= {0.0, 1.0}, "still a binary spike train"
    counts_clean, counts_noisy = clean.sum(dim=(0, 2, 3)), noisy.sum(dim=(0, 2, 3))
    ratio = (counts_noisy.sum() / counts_clean.sum()).item()
    assert abs(ratio - 1) < 0.02, f"insertions balance deletions: total count ratio {ratio:.3f}"
    rho = clean.mean().item()
    lost = 1 - noisy[:, x == 1].mean().item()  # a stroke pixel (x = 1) always fires in the clean code
    assert abs(lost - SIGMA * (1 - rho)) < 0.01, f"a spike is deleted with probability σ(1 − ρ), got {lost:.3f}"
    inserted = noisy[:, x == 0].mean().item()
    assert abs(inserted - SIGMA * rho) < 0.01, f"a black pixel fires with probability σρ, got {inserted:.3f}"
    with pytest.raises(ValueError, match="probability"):
        _inputs("spike_resample", x, 1.5)


def test_current_is_unclipped_gaussian_noise_constant_over_time():
    x = _digitlike()
    current = _inputs("current", x, SIGMA)
    assert torch.equal(current, current[0].expand_as(current)), "the same noisy current at every step"
    noise = current[0] - x
    assert current.min() < 0 and current.max() > 1, "not clipped"
    assert abs(noise.std().item() - SIGMA) < 0.01 and abs(noise.mean().item()) < 0.01, "N(0, σ²) on every pixel"
    assert torch.equal(_static("current", x, SIGMA), current[0]), "the ANN reads the same noisy current"


# ----------------------------------------------------------------------------- where evaluation uses it


def _old_predictions(model, x, sigma, readout, seed=0):
    """Today's evaluation written out: clipped pixel noise, then the model's input (the lab's runs)."""
    from labkit.readout import predict

    g_noise = epoch_generator(seed, Stream.EVAL_NOISE, 0)
    g_code = epoch_generator(seed, Stream.EVAL_CODE, 0)
    with torch.no_grad():
        batches = (add_noise(x[i:i + 50], sigma, g_noise) for i in range(0, len(x), 50))
        return torch.cat([predict(model(model_inputs(model, xb, ENCODER, T, g_code)), readout) for xb in batches])


@pytest.mark.parametrize("model", [SpikingMLP((784, 40, 10), seed=0), ANNBaseline((784, 40, 10), seed=0)],
                         ids=["snn", "ann"])
def test_evaluate_default_protocol_equals_todays_evaluation(model):
    x = _digitlike(120)
    readout = "count_membrane"  # an ANN is read by argmax whatever the readout says
    new = predict_classes(model, x, noise_sigma=SIGMA, batch_size=50, readout=readout, device="cpu")
    assert torch.equal(new, _old_predictions(model, x, SIGMA, readout)), "the same prediction for every digit"


def test_evaluate_takes_the_protocol_by_name_and_rejects_unknown_ones():
    model, x, y = SpikingMLP((784, 40, 10), seed=0), _digitlike(40), torch.arange(40) % 10
    for name in NOISE_PROTOCOLS:
        acc = evaluate(model, x, y, noise_sigma=SIGMA, noise=name, readout="count", device="cpu")
        assert 0 <= acc <= 1, f"{name} evaluates"
    with pytest.raises(ValueError, match="pixel_clip"):
        evaluate(model, x, y, noise_sigma=SIGMA, noise="salt", device="cpu")


def test_competitive_layer_default_protocol_equals_noise_added_beforehand():
    layer, x = CompetitiveLayer(30, seed=0), _digitlike(150) * 0.9
    before = layer.respond(add_noise(x, SIGMA, _gen(4)), 25, batch_size=64, seed=5)
    inside = layer.respond(x, 25, batch_size=64, seed=5, noise_sigma=SIGMA, noise_generator=_gen(4))
    assert torch.equal(before, inside), "the STDP-only layer's noisy test pass is unchanged bit for bit"
    for name in NOISE_PROTOCOLS:
        counts = layer.respond(x[:20], 25, seed=5, noise_sigma=SIGMA, noise=name, noise_generator=_gen(4))
        assert counts.shape == (20, 30) and counts.min() >= 0, f"{name} gives spike counts"
