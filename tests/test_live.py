"""Tests for labkit.training.live: a run in the background, its events, seeds, statistics and export."""

from __future__ import annotations

import csv
import io
import json
import queue
import threading

import pytest

from labkit.data import mnist_data
from labkit.training.live import (
    CSV_COLUMNS,
    LiveRun,
    LiveSettings,
    RecordedRun,
    SeedResult,
    binomial_error,
    mean_curve,
    runs_csv,
    summarize,
)

TIMEOUT = 120


@pytest.fixture(scope="module")
def digits():
    return mnist_data("bundled", train_limit=64, test_limit=32)


def tiny(**kwargs) -> LiveSettings:
    return LiveSettings(**{"hidden": 16, "batch_size": 32, "epochs": 1, "evals_per_epoch": 2, **kwargs})


def test_a_live_run_trains_in_the_background_and_reports_on_a_queue(digits):
    events: queue.Queue = queue.Queue()
    seen_threads = set()
    live = LiveRun(digits, tiny(seeds=(0, 1)), events=events,
                   on_event=lambda e: seen_threads.add(threading.current_thread().name))
    assert live.start() is live
    assert live.wait(TIMEOUT) and not live.running and live.error is None
    kinds = []
    while not events.empty():
        kinds.append(events.get()["kind"])
    assert kinds[0] == "start" and kinds[-1] == "done", "a run opens with start and closes with done"
    assert kinds.count("seed_done") == 2 and kinds.count("progress") == 2 * 2, "two seeds of two batches each"
    assert seen_threads == {"labkit-live-run"}, "callbacks run in the worker thread, not the caller's"
    assert [r.seed for r in live.results] == [0, 1] and all(r.clean is not None for r in live.results)


def test_a_seed_repeats_exactly_and_another_seed_differs(digits):
    a, b, c = (LiveRun(digits, tiny(seeds=(s,))).run() for s in (3, 3, 4))
    assert a.results[0].accuracy == b.results[0].accuracy and a.results[0].noisy == b.results[0].noisy
    assert (a.results[0].accuracy, a.results[0].noisy) != (c.results[0].accuracy, c.results[0].noisy)


def test_stop_ends_the_seed_in_progress_and_skips_the_rest(digits):
    stop_after = []

    def on_event(event):
        if event["kind"] == "progress" and not stop_after:
            stop_after.append(event)
            live.stop()

    live = LiveRun(digits, tiny(seeds=(0, 1, 2), batch_size=8, epochs=5), on_event=on_event)
    live.start().wait(TIMEOUT)
    assert live.stopped and len(live.results) == 1, "the seeds after the stopped one never start"
    assert live.results[0].stopped and live.results[0].clean is not None, "the stopped seed reports where it got"
    assert live.results[0].digits[-1] < 5 * 64


def test_kappa_and_amplitudes_reach_the_rule():
    params = LiveSettings(rule="adaptive", kappa=0.3, a_plus=0.002, a_minus=0.004).rule_params()
    assert params["kappa"] == 0.3 and params["stdp"].A_plus == 0.002 and params["stdp"].A_minus == 0.004
    assert "eta1" not in LiveSettings(rule="bp").rule_params(), "bp takes no η1"
    assert "eta2" not in LiveSettings(rule="stdp").rule_params(), "stdp takes no η2"


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"rule": "hebb"}, "rule"), ({"seeds": ()}, "seeds"), ({"seeds": (1, 1)}, "differ"), ({"kappa": 1.5}, "kappa"),
    ({"epochs": 0}, "epochs"), ({"eta2": -1.0}, "eta2"),
])
def test_bad_settings_are_refused_with_their_name(kwargs, words):
    with pytest.raises(ValueError, match=words):
        LiveSettings(**kwargs)


def test_binomial_error_and_summary_over_seeds():
    assert binomial_error(0.8, 500) == pytest.approx(0.01789, abs=1e-5), "√(0.8·0.2/500)"
    results = [SeedResult(s, clean=c, noisy=c - 0.1) for s, c in enumerate((0.7, 0.8, 0.9))]
    summary = summarize(results, 100)
    assert summary.n_seeds == 3 and summary.clean_mean == pytest.approx(0.8)
    assert summary.clean_sd == pytest.approx(0.1), "sample sd of 0.7, 0.8, 0.9"
    assert summary.clean_binomial == pytest.approx(0.04) and summary.noisy_mean == pytest.approx(0.7)
    assert summarize([SeedResult(0)], 100) is None, "no finished seed, no summary"


def test_mean_curve_averages_the_points_every_seed_reached():
    results = [SeedResult(0, digits=[0, 10, 20], accuracy=[0.1, 0.5, 0.7]),
               SeedResult(1, digits=[0, 10], accuracy=[0.1, 0.7])]
    digits, mean, sd = mean_curve(results)
    assert digits == [0, 10] and mean == pytest.approx([0.1, 0.6]) and sd[1] == pytest.approx(0.1414, abs=1e-4)


def test_recorded_runs_survive_json_and_export_as_csv(digits):
    live = LiveRun(digits, tiny(seeds=(0, 1))).run()
    record = RecordedRun.of(live, "#1 test")
    again = RecordedRun.from_dict(json.loads(json.dumps(record.to_dict())))
    assert again.settings == record.settings and again.summary() == record.summary()
    rows = list(csv.DictReader(io.StringIO(runs_csv([record, again]))))
    assert tuple(rows[0]) == CSV_COLUMNS
    points = sum(len(r.digits) for r in record.results)
    assert len(rows) == 2 * points, "one row per run, seed and curve point"
    with pytest.raises(ValueError, match="recorded dashboard run"):
        RecordedRun.from_dict({"label": "x"})


def test_retest_measures_again_without_training(digits):
    live = LiveRun(digits, tiny(noise=0.0)).run()
    before = live.results[0].noisy
    weights = live.results[0].model.layers[0].weight.detach().clone()
    live.retest(1.0)
    assert live.results[0].noise_sigma == 1.0 and live.results[0].clean is not None
    assert (live.results[0].model.layers[0].weight == weights).all(), "re-testing does not train"
    assert before == live.results[0].clean, "σ = 0 at first: the noisy accuracy was the clean one"


def test_a_label_budget_trains_on_that_many_digits_and_reports_the_dose():
    import torch

    from labkit.data.record import Data
    from labkit.training.live import LiveRun, LiveSettings

    g = torch.Generator().manual_seed(0)
    data = Data(torch.rand(96, 28, 28, generator=g) * 0.5, torch.randint(0, 10, (96,), generator=g),
                torch.rand(20, 28, 28, generator=g) * 0.5, torch.randint(0, 10, (20,), generator=g))
    live = LiveRun(data, LiveSettings(rule="sum", epochs=1, hidden=16, batch_size=16, labels=32, evals_per_epoch=1))
    assert len(live.train_data.train_x) == 32 and live.batches_per_seed() == 2
    events = []
    live.callbacks.append(events.append)
    live.start()
    live.wait(timeout=300)
    assert live.error is None, live.error
    points = [e for e in events if e["kind"] == "point"]
    assert points[-1]["digits"] == 32, "the curve counts the labelled digits seen, not the whole set"
    assert points[-1]["dose"] is not None and len(points[-1]["dose"]) == 2, "the dose of both STDP layers"
    with pytest.raises(ValueError, match="labels"):
        LiveSettings(labels=0)
