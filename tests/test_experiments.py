"""Tests for labkit.experiments: `labkit reproduce --quick` end to end, reuse of finished runs, resume.

The runs train on a tiny slice of the bundled MNIST subset (300 training and 100 test digits,
one epoch), so the numbers are meaningless; what is checked is the machinery: which files appear,
their schema, that the report only shows numbers that are in summary.json, that finished runs
are not trained again and that a killed run continues from its checkpoint.
"""

from __future__ import annotations

import csv
import json
import re

import pytest
import torch

import labkit.experiments as ex
from labkit.experiments import command as ex_command
from labkit.experiments import report as ex_report
from labkit.experiments import runs as ex_runs
from labkit import cli
from labkit.data import mnist_data
from labkit.training import train

RULES = ("ann", "bp", "adaptive", "stdp", "stdp_only")


def _tiny_data(dataset: str, quick: bool):
    return mnist_data("bundled", train_limit=300, test_limit=100)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """`labkit reproduce --quick` into a temporary folder, on the tiny data set."""
    out = tmp_path_factory.mktemp("results")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ex_command, "_load_data", _tiny_data)
        code = cli.main(["reproduce", "--quick", "--rules", ",".join(RULES), "--out", str(out)])
    assert code == 0, "`labkit reproduce --quick` exits with status 0"
    return out / "mnist-quick"


@pytest.mark.slow  # shares a ~20 s quick reproduction (module fixture)
def test_quick_reproduction_writes_every_file(quick_run):
    for name in ("summary.json", "table1.csv", "noise.csv", "ablation.csv", "convergence.png", "noise.png",
                 "report.md"):
        path = quick_run / name
        assert path.is_file() and path.stat().st_size > 0, f"the report folder holds a non-empty {name}"
    for rule in RULES:
        run = quick_run / "runs" / f"{rule}_s0"
        assert (run / "eval.json").is_file(), f"{rule}: eval.json marks the run as finished"
        assert (run / "model.pt").is_file(), f"{rule}: the trained weights are kept"
        if rule != "stdp_only":
            assert (run / "history.json").is_file(), f"{rule}: the per-epoch history is kept"


@pytest.mark.slow  # shares a ~20 s quick reproduction (module fixture)
def test_eval_json_has_the_same_fields_for_every_run(quick_run):
    keys = {"dataset", "rule", "seed", "epochs", "test_acc", "noise_acc", "hidden_spikes_per_neuron_step",
            "epochs_to_90", "epochs_to_95", "train_seconds", "command"}
    for rule in RULES:
        result = json.loads((quick_run / "runs" / f"{rule}_s0" / "eval.json").read_text())
        assert keys <= set(result), f"{rule}: eval.json lacks {sorted(keys - set(result))}"
        assert 0.0 <= result["test_acc"] <= 1.0, f"{rule}: accuracy is a fraction"
        assert set(result["noise_acc"]) == {f"{s:g}" for s in ex.NOISE_LEVELS}, f"{rule}: every noise level"
        assert result["noise_acc"]["0"] == pytest.approx(result["test_acc"]), f"{rule}: σ = 0 is the clean test"
    stdp_only = json.loads((quick_run / "runs" / "stdp_only_s0" / "eval.json").read_text())
    assert stdp_only["epochs"] == ex.STDP_ONLY_EPOCHS == 3, "the STDP-only layer makes 3 passes, as the full run"
    assert len(stdp_only["neurons_per_class"]) == 10, "the competitive layer's own measurements are kept"


@pytest.mark.slow  # shares a ~20 s quick reproduction (module fixture)
def test_summary_schema(quick_run):
    summary = json.loads((quick_run / "summary.json").read_text())
    assert summary["dataset"] == "mnist-quick"
    assert set(summary["rules"]) == set(RULES), "one entry per finished run"
    for rule, entry in summary["rules"].items():
        acc = entry["test_acc"]
        assert acc["n"] == 1 and acc["values"] == [pytest.approx(acc["mean"])], f"{rule}: one seed"
        assert 0.0 <= acc["mean"] <= 100.0, f"{rule}: accuracies are in percent"
        assert set(entry["noise_acc"]) == {f"{s:g}" for s in ex.NOISE_LEVELS}
    assert len(summary["rules"]["bp"]["test_acc_per_epoch"]) == 1, "one epoch → a one-point curve"
    for table in ("table1", "noise_table", "ablation_table"):
        assert summary[table], f"summary.json holds the {table} rows"


@pytest.mark.slow  # shares a ~20 s quick reproduction (module fixture)
def test_csv_tables_match_summary(quick_run):
    summary = json.loads((quick_run / "summary.json").read_text())
    for name, key in (("table1.csv", "table1"), ("noise.csv", "noise_table"), ("ablation.csv", "ablation_table")):
        with open(quick_run / name, newline="") as f:
            rows = list(csv.DictReader(f))
        assert len(rows) == len(summary[key]), f"{name}: one row per row of summary.json's {key}"
        assert list(rows[0]) == list(summary[key][0]), f"{name}: the same columns as summary.json"


def _table1_rows(report: str) -> list[list[str]]:
    section = report.split("## Table I", 1)[1].split("\n## ", 1)[0]
    lines = [ln for ln in section.splitlines() if ln.startswith("|")]
    return [[c.strip() for c in ln.strip("|").split("|")] for ln in lines[2:]]  # skip header and rule


@pytest.mark.slow  # shares a ~20 s quick reproduction (module fixture)
def test_every_number_of_table1_in_the_report_comes_from_summary(quick_run):
    summary = json.loads((quick_run / "summary.json").read_text())
    by_rule = {row["rule"]: row for row in summary["table1"]}
    rows = _table1_rows((quick_run / "report.md").read_text())
    assert len(rows) == len(by_rule), "Table I in report.md has one row per model"
    allowed = set()
    for row in summary["table1"]:
        for key in ("paper", "lab_mean", "difference", "tolerance"):
            if row[key] is not None:
                allowed |= {f"{row[key]:.2f}", f"{row[key]:+.2f}"}
        rule = summary["rules"].get(row["rule"])
        if rule:
            allowed |= {f"{rule['test_acc']['mean']:.2f}", f"{rule['test_acc']['std']:.2f}"}
    for cells in rows:
        numbers = re.findall(r"[+\-−]?\d+\.\d+", " ".join(cells))
        for number in numbers:
            assert number in allowed, f"report.md's Table I shows {number}, which is not in summary.json"
        assert cells[1] in by_rule, f"row {cells} names a rule of summary.json"


@pytest.mark.slow  # shares a ~20 s quick reproduction (module fixture)
def test_second_call_reuses_finished_runs(quick_run, monkeypatch):
    mtimes = {p: p.stat().st_mtime_ns for p in quick_run.glob("runs/*/*")}

    def no_training(*args, **kwargs):
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(ex_command, "_load_data", _tiny_data)
    monkeypatch.setattr(ex_runs, "train", no_training)
    monkeypatch.setattr(ex_runs, "train_competitive", no_training)
    ex.reproduce("mnist", quick=True, rules=RULES, out=quick_run.parent, progress=False)
    assert {p: p.stat().st_mtime_ns for p in quick_run.glob("runs/*/*")} == mtimes, \
        "no file of a finished run is rewritten"


def test_killed_run_resumes_from_its_checkpoint(tmp_path, monkeypatch):
    data = mnist_data("bundled", train_limit=128, test_limit=50)
    spec = ex.RunSpec("mnist-quick", "bp", 0, 2)
    folder = tmp_path / "mnist-quick" / "runs" / spec.name
    # A run "killed" after epoch 1 of 2: its checkpoint holds one epoch.
    first = train(ex_runs._make_model(spec, data), "bp", data, 1, seed=0, checkpoint=folder / "checkpoint.pt",
                  progress=False)
    calls = []

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return train(*args, **kwargs)

    monkeypatch.setattr(ex_runs, "train", spy)
    result = ex.run_one(spec, data, tmp_path, device="cpu", progress=False)
    history = json.loads((folder / "history.json").read_text())
    assert calls and calls[0]["checkpoint"] == folder / "checkpoint.pt" and "resume" not in calls[0], \
        "run_one passes its checkpoint, which resumes (train's one rule; resume= is deprecated)"
    assert len(history["test_acc"]) == 2 and result["epochs"] == 2, "the run finishes both epochs"
    assert history["epoch_time"][0] == first.epoch_time[0], \
        "epoch 1 comes from the checkpoint (same recorded time), only epoch 2 is trained"
    assert history["test_acc"][0] == first.test_acc[0], "the first epoch's accuracy is kept, not recomputed"
    assert sorted(p.name for p in folder.iterdir()) == sorted(ex.FINISHED_FILES), \
        "a finished run keeps eval.json, history.json and model.pt; its checkpoint is deleted"
    assert (result["loss"], result["readout"]) == (ex.DEFAULT_LOSS, "count"), "a spike loss, read by spike counts"
    assert result["test_acc"] == result["test_readouts"]["count"] == result["noise_acc"]["0"], \
        "the run's accuracy is that of its own readout"
    assert set(result["test_readouts"]) == {"count", "count_membrane", "membrane"}
    assert 0 <= result["silent_fraction"] <= result["tie_fraction"] <= 1
    assert set(result["noise_readouts"]) == set(result["noise_acc"]), "every noise level has every readout"


def test_a_run_with_another_loss_is_refused_or_replaced(tmp_path):
    data = mnist_data("bundled", train_limit=64, test_limit=20)
    old = ex.RunSpec("mnist-quick", "bp", 0, 1, loss="membrane")
    first = ex.run_one(old, data, tmp_path, device="cpu", progress=False)
    assert first["loss"] == "membrane" and first["readout"] == "count_membrane"
    new = ex.RunSpec("mnist-quick", "bp", 0, 1)
    with pytest.raises(ValueError, match="trained with loss 'membrane'"):
        ex.run_one(new, data, tmp_path, device="cpu", progress=False)
    with pytest.warns(UserWarning, match="replacing"):
        second = ex.run_one(new, data, tmp_path, device="cpu", progress=False, stale="replace")
    assert second["loss"] == ex.DEFAULT_LOSS, "the stale run was trained afresh with the asked-for loss"
    assert ex.run_one(new, data, tmp_path, device="cpu", progress=False) == second, "and is reused from then on"


def test_reproduce_rejects_unknown_runs(tmp_path):
    with pytest.raises(ValueError, match="unknown runs"):
        ex.reproduce("mnist", quick=True, rules=("bogus",), out=tmp_path)


def test_energy_rows_are_modelled_like_for_like_first_with_an_interval(tmp_path):
    from labkit.experiments.energy_study import energy_rows
    from labkit.models import ANNBaseline, SpikingMLP

    for name, model in (("ann_s0", ANNBaseline(seed=0)), ("bp_s0", SpikingMLP(seed=0))):
        (tmp_path / name).mkdir()
        torch.save(model.state_dict(), tmp_path / name / "model.pt")
    data = mnist_data("bundled", train_limit=1, test_limit=200)
    rows = energy_rows(tmp_path, data.test_x, n_samples=200)
    assert rows[0]["platform"] == "digital45" and rows[1]["platform"] == "digital45", "like for like first"
    assert {r["platform"] for r in rows} >= {"digital45_int8", "digital45_mem", "a100", "loihi"}
    assert all("modelled" in key for r in rows for key in r if "µJ" in key and "paper" not in key), \
        "every lab figure is labelled modelled"
    assert all(r["95% low"] <= r["lab µJ (modelled)"] <= r["95% high"] and r["digits"] == 200 for r in rows)
    a100 = [r for r in rows if r["platform"] == "a100" and r["model"] == ex.LABELS["ann"]][0]
    assert a100["paper µJ (kind not stated)"] == 1350.0, "the paper's Table II figure sits beside the lab's"


def test_paired_differences_compare_only_seeds_both_rules_ran():
    def entry(seeds, values):
        return {"seeds": seeds, "test_acc": {"values": values}}

    rules = {"bp": entry([0, 1, 2], [97.0, 97.5, 98.0]), "adaptive": entry([0, 2, 3], [97.25, 97.5, 99.0])}
    diffs = ex.paired_differences(rules, "adaptive", "bp")
    assert diffs == {0: 0.25, 2: -0.5}, "seed by seed, hybrid minus BP, only where both ran (seed 1 and 3 drop out)"
    assert ex.paired_differences(rules, "sum", "bp") == {}, "a rule that never ran: nothing to pair"


def test_difference_verdict_needs_the_whole_interval_on_one_side():
    verdict, half = ex.difference_verdict([0.1, 0.2, 0.15])
    assert verdict == "reproduced" and half < 0.15, "three seeds all about +0.15 with little spread: established"
    assert ex.difference_verdict([-0.13, 0.23, 0.10])[0] == "not established", "mixed signs: within the noise"
    assert ex.difference_verdict([-1.0, -1.2, -0.9])[0] == "contradicted", "consistently worse"
    single, half_single = ex.difference_verdict([0.3])
    # one seed: ± 2·√2 standard errors of an accuracy near 97.5 % on 10,000 digits = 0.44 points
    assert single == "not established" and half_single == pytest.approx(0.4416, abs=1e-3)
    rules = {"bp": {"seeds": [0], "noise_acc": {"0.3": {"values": [70.0]}}},
             "adaptive": {"seeds": [0], "noise_acc": {"0.3": {"values": [66.0]}}}}
    assert ex.paired_differences(rules, "adaptive", "bp", ("noise_acc", "0.3")) == {0: -4.0}, "a nested statistic"


def test_claims_on_one_seed_are_not_established_and_ten_equal_seeds_are_decided(tmp_path):
    from labkit.experiments.verdicts import claim_records

    def rules(diffs):
        seeds = list(range(len(diffs)))
        return {"bp": {"seeds": seeds, "test_acc": {"values": [97.5] * len(diffs)}},
                "adaptive": {"seeds": seeds, "test_acc": {"values": [97.5 + d for d in diffs]}}}
    one = claim_records(rules([1.0]), tmp_path)[0]
    assert one["verdict"] == "not established", "one seed cannot decide a difference"
    ten = claim_records(rules([0.01, -0.02, 0.0, 0.03, -0.01, 0.02, -0.03, 0.0, 0.01, -0.01]), tmp_path)[0]
    assert ten["decided_by"].startswith("Student's t"), "without per-digit records the t interval decides, and says so"
    assert ten["verdict"] == "equivalent within ±0.1" and ten["old_verdict"] == "not established"


def test_t95_matches_the_tables_and_approaches_the_normal_quantile():
    assert ex.t95(10) == 2.262, "9 degrees of freedom (Student's t tables)"
    assert ex.t95(31) == pytest.approx(2.042) and abs(ex.t95(32) - 2.0395) < 0.001, \
        "the expansion joins the table (exact t quantile for 31 degrees of freedom: 2.0395)"
    assert 1.96 < ex.t95(1000) < 1.963, "large n: the normal quantile"
    with pytest.raises(ValueError, match="at least 2"):
        ex.t95(1)


def test_paired_comparison_gives_the_t_interval_and_says_it_in_words():
    def entry(seeds, values):
        return {"seeds": seeds, "test_acc": {"values": values, "mean": sum(values) / len(values)}}

    rules = {"bp": entry(list(range(4)), [97.0, 97.2, 97.4, 97.6]),
             "adaptive": entry(list(range(4)), [97.3, 97.4, 97.8, 97.9]),
             "sum": entry([0, 1, 2], [96.0, 97.6, 97.2])}
    c = ex.paired_comparison(rules, "adaptive")
    # differences 0.3, 0.2, 0.4, 0.3: mean 0.3, s = 0.0816, half-width t(3 df) · s / √4 = 3.182 · 0.0408 = 0.130
    assert c["n"] == 4 and c["mean"] == pytest.approx(0.3)
    assert (c["low"], c["high"]) == (pytest.approx(0.170, abs=1e-3), pytest.approx(0.430, abs=1e-3))
    assert c["verdict"] == "reproduced" and "beats surrogate BP" in c["in_words"]
    mixed = ex.paired_comparison(rules, "sum")
    assert mixed["n"] == 3 and mixed["verdict"] == "not established" and "cannot be told apart" in mixed["in_words"]
    assert ex.paired_comparison(rules, "stdp")["in_words"].startswith("No seed"), "nothing to pair yet"


def test_a_run_on_event_frames_sizes_and_probes_its_network_through_the_data_encoder():
    """Frames [N, T, 2, 4, 4]: the network takes 2·4·4 inputs per step, and the hidden sparsity is
    measured on the frames made time-first (the FrameEncoder), not on a rate code of them."""
    from labkit.training import Data

    g = torch.Generator().manual_seed(0)
    frames = (torch.rand(6, 5, 2, 4, 4, generator=g) < 0.3).float()
    data = Data(frames, torch.arange(6) % 10, frames, torch.arange(6) % 10, temporal=True, name="nmnist-sim")
    model = ex_runs._make_model(ex_runs.RunSpec("nmnist-sim", "bp", 0, 1), data)
    assert model.sizes[0] == 2 * 4 * 4, "features per time step, not T times them"
    with torch.no_grad():
        expected = model(frames.transpose(0, 1)).spikes[1].mean().item()
    assert ex_runs._hidden_sparsity(model, data, torch.device("cpu")) == expected, "frames are fed as stored"
