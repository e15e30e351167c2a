"""Tests for labkit.stdp_baseline: settings chosen without the test set, resumable stages."""

from __future__ import annotations

import json

import pytest

import labkit.stdp_baseline as sb
from labkit.data import mnist_data

TINY_GRID = {"theta_plus": (0.5, 1.0), "threshold": (30.0,)}


@pytest.fixture(scope="module")
def digits():
    return mnist_data("bundled", train_limit=300, test_limit=100)


def test_validation_digits_come_from_the_training_split(digits):
    val = sb.validation_data(digits)
    assert len(val.train_x) + len(val.test_x) == len(digits.train_x), "fit + validation = the training split"
    assert len(val.test_x) == pytest.approx(0.2 * len(digits.train_x), abs=10), "a fifth held out"
    assert sorted(set(val.test_y.tolist())) == sorted(set(digits.train_y.tolist())), "every class in both parts"


def test_selection_never_sees_the_test_set_and_is_reused(digits, tmp_path, monkeypatch):
    no_test = digits._replace(test_x=digits.test_x[:0], test_y=digits.test_y[:0])  # nothing to peek at
    selected = sb.select(no_test, tmp_path, n_neurons=16, grid=TINY_GRID)
    assert len(selected["trials"]) == 2 and selected["theta_plus"] in (0.5, 1.0)
    best = max(t["validation_acc"] for t in selected["trials"])
    assert selected["validation_acc"] == best, "the best validation accuracy wins"
    assert not list(tmp_path.glob("select/*.pt")), "finished trials keep no checkpoint"

    def no_training(*args, **kwargs):
        raise AssertionError("a finished trial was trained again")

    monkeypatch.setattr(sb, "train_competitive", no_training)
    assert sb.select(no_test, tmp_path, n_neurons=16, grid=TINY_GRID) == selected, "finished trials are reused"


def test_final_and_size_curve_use_the_chosen_setting(digits, tmp_path):
    selected = {"theta_plus": 0.5, "threshold": 30.0, "validation_acc": 0.5, "trials": [], "validation": "v"}
    result = sb.final(digits, tmp_path, selected)
    assert result["settings_chosen_on"].startswith("held-out") and result["selection"]["theta_plus"] == 0.5
    assert json.loads((tmp_path / "mnist" / "runs" / "stdp_only_s0" / "eval.json").read_text()) == result
    rows = sb.size_curve(digits, tmp_path, selected, sizes=(8, 16))
    assert [r["n_neurons"] for r in rows] == [8, 16] and all(0 <= r["test_acc"] <= 1 for r in rows)
    summary = sb.write_summary(tmp_path, selected, rows, result).read_text()
    assert "θ₊ = 0.5, ϑ = 30" in summary, "the chosen setting is named"
    assert f"{100 * result['test_acc']:.2f}%" in summary, "the test accuracy is printed once, from the run"


def test_summary_puts_diehl_and_cooks_figure_beside_the_same_size_and_says_it_is_unverified(tmp_path):
    selected = {"theta_plus": 1.0, "threshold": 30.0, "validation_acc": 0.9, "trials": [], "validation": "v"}
    rows = [{"n_neurons": 100, "epochs": 1, "test_acc": 0.8}]
    summary = sb.write_summary(tmp_path, selected, rows).read_text()
    line = next(ln for ln in summary.splitlines() if ln.startswith("| 100 "))
    assert "80.00" in line and "82.90" in line and "unverified" in line, line
