"""Tests for labkit.experiments.statistics' equivalence tests, Holm and bootstrap, and the per-digit records."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from labkit.experiments import digits as ex_digits
from labkit.experiments import statistics as st
from labkit.experiments.verdicts import absolute_verdict


def test_t_tail_matches_closed_forms():
    # df = 1 is Cauchy: P(T > 1) = 1/4; df = 2: P(T > t) = (1 − t/√(2 + t²))/2
    assert st.t_sf(1.0, 1) == pytest.approx(0.25)
    assert st.t_sf(2.0, 2) == pytest.approx(0.5 * (1 - 2 / math.sqrt(6)))
    assert st.t_sf(-2.0, 5) == pytest.approx(1 - st.t_sf(2.0, 5)), "the t distribution is symmetric"
    assert st.t_sf(st.t90(10), 9) == pytest.approx(0.05, abs=2e-4), "t90 is the one-sided 95 % quantile"


def test_tost_on_a_hand_computed_case():
    # mean 0, s = √(0.025/4) = 0.0790569, se = s/√5 = 0.0353553, t_{0.95,4} = 2.132 → 90 % interval ±0.07538
    diffs = [0.1, -0.1, 0.0, 0.05, -0.05]
    result = st.tost(diffs, 0.1)
    assert result["high"] == pytest.approx(2.132 * 0.0353553, rel=1e-4)
    assert result["t_low"] == pytest.approx(0.1 / 0.0353553, rel=1e-4), "t against −m is (mean + m)/se"
    assert result["equivalent"] and result["p"] < 0.05, "the interval ±0.075 lies inside ±0.1"
    assert not st.tost(diffs, 0.05)["equivalent"], "but not inside ±0.05"
    with pytest.raises(ValueError, match="margin"):
        st.tost(diffs, 0.0)


def test_claim_verdicts_take_the_strongest_that_the_interval_supports():
    assert st.claim_verdict(0.1, 0.5, 0.55, 0.1) == "confirmed", "excludes zero on the claimed side"
    assert st.claim_verdict(-0.05, 0.04, 0.55, 0.1) == "equivalent within ±0.1"
    assert st.claim_verdict(-0.05, 0.12, 0.55, 0.1) == "contradicted at the paper's magnitude", "excludes +0.55"
    assert st.claim_verdict(-0.5, 1.0, 0.55, 0.1) == "not established"
    assert st.claim_verdict(-0.9, -0.2, -1.7, 0.1) == "confirmed", "a claimed loss: the interval below zero"
    assert st.claim_verdict(-0.04, 0.05, -1.7, 0.1) == "equivalent within ±0.1"


def test_holm_steps_down_and_stops_at_the_first_failure():
    # sorted: 0.005 ≤ 0.05/4, 0.01 ≤ 0.05/3, 0.03 > 0.05/2 → stop (0.04 is not rejected though ≤ 0.05)
    assert st.holm([0.01, 0.04, 0.03, 0.005]) == [True, False, False, True]
    assert st.holm([0.2, 0.3]) == [False, False]


def _correctness(rng, n_seeds=10, n_digits=2000, p=(0.97, 0.96)):
    a = rng.random((n_seeds, n_digits)) < p[0]
    b = rng.random((n_seeds, n_digits)) < p[1]
    return a, b


def test_the_seed_bootstrap_is_the_t_interval_and_two_levels_are_at_least_as_wide():
    a, b = _correctness(np.random.default_rng(0))
    seeds_only = st.bootstrap_difference(a, b, digits=False)
    both = st.bootstrap_difference(a, b, digits=True)
    diffs = list(100 * (a.mean(1) - b.mean(1)))
    t = st.t_interval(diffs, 0.90)
    assert seeds_only["low"] == pytest.approx(t["low"], abs=0.1 * (t["high"] - t["low"])), \
        "over seeds alone the bootstrap gives Student's t interval again"
    assert both["high"] - both["low"] >= seeds_only["high"] - seeds_only["low"], \
        "adding the test digits' sampling error never narrows the interval"
    assert both["mean"] == pytest.approx(float(np.mean(diffs)), abs=1e-9), "both are centred on the mean difference"
    same = st.bootstrap_difference(np.tile(a[:1], (5, 1)), np.tile(b[:1], (5, 1)), digits=False)
    assert same["high"] - same["low"] == pytest.approx(0.0, abs=1e-9), "identical seeds: no seed spread"
    with pytest.raises(ValueError, match="seeds"):
        st.bootstrap_difference(a[:1], b[:1])


def test_table_one_rows_are_judged_two_sided():
    # BP 97.86 ± 0.07 against 97.50: tolerance 2√(0.07² + 0.156²) = 0.34 → above, not "reproduced"
    verdict, tol = absolute_verdict(97.86, 0.07, 10, 97.50)
    assert verdict == "above the paper's figure" and tol == pytest.approx(0.342, abs=0.002)
    assert absolute_verdict(97.86, 0.08, 10, 98.05)[0] == "within tolerance of the paper's figure"
    assert absolute_verdict(97.0, 0.07, 10, 97.86)[0] == "below the paper's figure"


def test_packed_bits_round_trip():
    hits = torch.rand(1001, generator=torch.Generator().manual_seed(0)) < 0.9
    assert (ex_digits.unpack_bits(ex_digits.pack_bits(hits), 1001) == hits.numpy()).all()
    assert len(ex_digits.pack_bits(torch.ones(10_000, dtype=torch.bool))) < 1700, "10,000 digits in under 1.7 KB"


def test_a_digit_record_must_reproduce_the_recorded_accuracy(tmp_path):
    from labkit.data import mnist_data
    from labkit.models import SpikingMLP
    from labkit.training import evaluate

    data = mnist_data("bundled", train_limit=1, test_limit=50)
    run = tmp_path / "runs" / "bp_s3"
    run.mkdir(parents=True)
    model = SpikingMLP(seed=3)
    torch.save(model.state_dict(), run / "model.pt")
    acc = evaluate(model, data.test_x, data.test_y, seed=3, device="cpu", readout="count")
    record = {"rule": "bp", "seed": 3, "readout": "count", "test_acc": acc, "noise_acc": {}}
    (run / "eval.json").write_text(json.dumps(record))
    written = ex_digits.record_digits(run, data.test_x, data.test_y, conditions=("clean",))
    bits = ex_digits.load_correct(tmp_path / "runs", "bp_s3", "clean")
    assert bits.mean() == pytest.approx(acc) and written["correct"]["clean"]["accuracy"] == pytest.approx(acc)
    (run / "digits.json").unlink()
    (run / "eval.json").write_text(json.dumps({**record, "test_acc": acc + 0.02}))
    with pytest.raises(RuntimeError, match="eval.json records"):
        ex_digits.record_digits(run, data.test_x, data.test_y, conditions=("clean",))
    assert not (run / "digits.json").exists(), "a record that does not reproduce the run is not written"
