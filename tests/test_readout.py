"""Tests for labkit.readout: the losses, the readouts and the silent/tied tally."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from labkit.models import SNNOutput, SpikingMLP
from labkit.readout import (
    LOSSES,
    NATURAL_READOUT,
    READOUTS,
    ReadoutTally,
    count_loss,
    count_mse_loss,
    loss_function,
    membrane_loss,
    predict,
    rate_loss,
    silent,
    silent_fraction,
    tied,
)


def _output(spikes: torch.Tensor, membrane: torch.Tensor | None = None) -> SNNOutput:
    membrane = torch.zeros_like(spikes) if membrane is None else membrane
    return SNNOutput(spikes=(torch.zeros(spikes.shape[0], spikes.shape[1], 4), spikes), membranes=(membrane,))


def _example() -> tuple[SNNOutput, torch.Tensor]:
    """Four samples, three classes, T = 4: a clear winner, a tie, silence, a membrane-only favourite."""
    steps, classes = 4, 3
    spikes = torch.zeros(steps, 4, classes)
    membrane = torch.zeros(steps, 4, classes)
    spikes[:3, 0, 1] = 1                       # sample 0: class 1 spikes 3 times, class 0 twice
    spikes[:2, 0, 0] = 1
    membrane[:, 0, 0] = 5.0                    #   ... although class 0 has the larger membrane
    spikes[:2, 1, 0] = 1                       # sample 1: classes 0 and 2 tie on 2 spikes
    spikes[2:, 1, 2] = 1
    membrane[:, 1, 2], membrane[:, 1, 1] = 0.5, 9.0  #   class 2 wins the tie-break; class 1 is not tied
    membrane[:, 2, 2] = 0.3                    # sample 2: silent; the membrane favours class 2
    spikes[0, 3, 2] = 1                        # sample 3: one spike of class 2, membrane favours class 0
    membrane[:, 3, 0] = 1.0
    return _output(spikes, membrane), torch.tensor([1, 2, 2, 2])


def test_readouts_count_spikes_and_differ_only_in_how_ties_and_membranes_count():
    output, _ = _example()
    assert predict(output, "count").tolist() == [1, 0, 0, 2], \
        "spike count alone: most spikes wins, ties (silence included) go to the lowest class index"
    assert predict(output, "count_membrane").tolist() == [1, 2, 2, 2], \
        "ties (and silence) go to the largest summed membrane among the tied classes"
    assert predict(output, "membrane").tolist() == [0, 1, 2, 0], "membrane readout ignores the spikes"
    assert predict(torch.tensor([[0.1, 2.0, -1.0]]), "count").tolist() == [1], "ANN logits: argmax"


def test_silent_and_tied_flag_the_samples_a_spike_count_cannot_decide():
    output, _ = _example()
    assert silent(output).tolist() == [False, False, True, False], "silent = no output spike at any step"
    assert tied(output).tolist() == [False, True, True, False], "tied = top spike count shared (silence too)"
    assert silent_fraction(output) == pytest.approx(0.25)


def test_tally_over_batches_equals_one_pass_over_everything():
    output, labels = _example()
    whole = ReadoutTally()
    whole.add(output, labels)
    split = ReadoutTally()
    for part in (slice(0, 1), slice(1, 4)):
        split.add(SNNOutput(tuple(s[:, part] for s in output.spikes), tuple(m[:, part] for m in output.membranes)),
                  labels[part])
    assert whole.summary() == split.summary(), "counts add up across batches"
    summary = whole.summary()
    assert summary["accuracy"] == {"count": 0.5, "count_membrane": 1.0, "membrane": 0.25}
    assert summary["silent_fraction"] == 0.25 and summary["tie_fraction"] == 0.5 and summary["n"] == 4


def test_tally_of_ann_logits_has_one_readout_and_no_silent_fraction():
    tally = ReadoutTally()
    tally.add(torch.tensor([[0.0, 1.0], [2.0, 0.0]]), torch.tensor([1, 1]))
    assert tally.summary() == {"n": 2, "accuracy": {"argmax": 0.5}, "silent_fraction": None, "tie_fraction": None}


def test_membrane_and_rate_losses_are_the_time_average_of_per_step_cross_entropy():
    g = torch.Generator().manual_seed(0)
    u = torch.randn(7, 5, 10, generator=g)
    s = (torch.rand(7, 5, 10, generator=g) < 0.3).float()
    y = torch.randint(0, 10, (5,), generator=g)
    torch.testing.assert_close(membrane_loss(u, y), torch.stack([F.cross_entropy(u[t], y) for t in range(7)]).mean())
    torch.testing.assert_close(rate_loss(s, y), torch.stack([F.cross_entropy(s[t], y) for t in range(7)]).mean(),
                               msg="rate: (1/T) Σ_t CE(s_t, y)")
    torch.testing.assert_close(count_loss(s, y), F.cross_entropy(s.sum(0), y), msg="count: CE(Σ_t s_t, y)")


def test_loss_golden_values():
    y = torch.tensor([0, 4, 9])
    silent_out = torch.zeros(25, 3, 10)
    # all-zero logits → uniform softmax → CE = ln 10 for membrane, rate and count alike
    for loss in (membrane_loss, rate_loss, count_loss):
        assert loss(silent_out, y).item() == pytest.approx(math.log(10))
    # silence against targets 0.8 (label) and 0.2 (others): (0.8² + 9·0.2²) / 10 = 0.1
    assert count_mse_loss(silent_out, y).item() == pytest.approx(0.1)
    perfect = torch.zeros(25, 3, 10)
    perfect[:20, torch.arange(3), y] = 1  # label spikes 20 of 25 steps (0.8)
    perfect[:5] = 1  # every class spikes in the first 5 of 25 steps (0.2); the label's 20 include them
    assert count_mse_loss(perfect, y).item() == pytest.approx(0.0, abs=1e-12), "rates on target → no loss"


def test_spike_losses_reach_the_weights_through_the_surrogate():
    x = (torch.rand(10, 8, 20, generator=torch.Generator().manual_seed(0)) < 0.5).float()
    y = torch.arange(8) % 3
    for name in LOSSES:
        model = SpikingMLP((20, 16, 3), seed=1)
        loss_function(name)(model(x), y).backward()
        grad = model.layers[0].weight.grad
        assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0, \
            f"loss {name!r} gives a nonzero finite gradient to the first layer"


def test_unknown_names_say_the_choices():
    with pytest.raises(ValueError, match="count_mse"):
        loss_function("spikes")
    with pytest.raises(ValueError, match="count_membrane"):
        predict(_example()[0], "first")
    assert set(NATURAL_READOUT) == set(LOSSES) and set(NATURAL_READOUT.values()) <= set(READOUTS)
