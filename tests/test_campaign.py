"""The plasticity study's campaign: plans, the resumable grid over Optuna storage, and its verdicts."""

from __future__ import annotations

import json

import optuna
import pytest
import torch

from labkit.campaign import PLANS, Plan, missing_points, point_id, run_plan
from labkit.campaign import runner as runner_module
from labkit.campaign.regimes import shift_images
from labkit.campaign.verdicts import compare, regime_tables, write_report
from labkit.experiments.statistics import holm
from labkit.data.record import Data


@pytest.fixture(autouse=True)
def one_code_version(monkeypatch):
    """Every run of a test is made by one code version (the tree may gain commits while the tests run)."""
    monkeypatch.setattr(runner_module, "code_version", lambda: "abc1234")


def tiny_data(n: int = 96, seed: int = 0) -> Data:
    g = torch.Generator().manual_seed(seed)
    images = torch.rand(n, 28, 28, generator=g) * (torch.rand(n, 28, 28, generator=g) < 0.2)
    labels = torch.randint(0, 10, (n,), generator=g)
    return Data(images[: n - 32], labels[: n - 32], images[n - 32 :], labels[n - 32 :], name="tiny")


def tiny_plan(name: str = "dose-tiny") -> Plan:
    points = tuple({"regime": "dose", "variant": v, "seed": s, **({} if v == "bp" else {"eta1": 0.1})}
                   for s in (0, 1) for v in ("bp", "sum", "random"))
    return Plan(name, "dose", "bundled", points, epochs=1, notes="test plan")


def test_every_plan_lists_each_point_once_with_a_seed():
    for name, plan in PLANS.items():
        ids = [point_id(p) for p in plan.points]
        assert len(ids) == len(set(ids)), f"{name}: point names are unique"
        assert all("seed" in p for p in plan.points)
    dose = PLANS["dose-bundled"]
    etas = sorted({p["eta1"] for p in dose.points if "eta1" in p})
    assert etas[-1] / etas[0] >= 1e4, "the dose sweep spans at least four decades of η1"
    assert {p["variant"] for p in dose.points} >= {"bp", "sum", "adaptive", "rising", "random", "decay",
                                                    "batch_sum", "adam", "sgd"}
    assert sorted({p["labels"] for p in PLANS["labels-mnist"].points}) == [100, 300, 1000, 3000, 60000]
    assert len({p["seed"] for p in PLANS["labels-mnist"].points}) >= 5


def test_a_plan_runs_every_point_once_and_resumes_without_rerunning(tmp_path):
    plan = tiny_plan()
    assert run_plan(plan, out=tmp_path, data=tiny_data(), progress=False) == len(plan.points)
    assert missing_points(tmp_path, plan) == []
    record = json.loads((tmp_path / plan.name / "sum_eta1=0.1_s0.json").read_text())
    assert record["point"] == {"regime": "dose", "variant": "sum", "seed": 0, "eta1": 0.1}
    assert record["cpu_seconds"] >= 0 and "commit" in record
    assert {"dose0", "cos0"} <= set(record["history"]["rule_stats"][0]), "every result keeps the measured dose"
    assert run_plan(plan, out=tmp_path, data=tiny_data(), progress=False) == 0, "a finished plan runs nothing again"


def test_a_point_whose_worker_died_is_run_again(tmp_path):
    plan = tiny_plan()
    run_plan(plan, out=tmp_path, data=tiny_data(), progress=False, max_points=2)
    lost = tmp_path / plan.name / f"{point_id(plan.points[0])}.json"
    lost.unlink()  # as if the worker had died before writing its result
    study = optuna.load_study(study_name=plan.name, storage=f"sqlite:///{tmp_path / 'campaign.db'}")
    assert study.trials, "the study in the shared storage knows the points already started"
    run_plan(plan, out=tmp_path, data=tiny_data(), progress=False)
    assert lost.is_file() and missing_points(tmp_path, plan) == []


def test_same_seed_same_result(tmp_path):
    plan = tiny_plan()
    for folder in ("a", "b"):
        run_plan(plan, out=tmp_path / folder, data=tiny_data(), progress=False, max_points=3)
    for p in plan.points[:3]:
        a = json.loads((tmp_path / "a" / plan.name / f"{point_id(p)}.json").read_text())
        b = json.loads((tmp_path / "b" / plan.name / f"{point_id(p)}.json").read_text())
        assert a["test_acc"] == b["test_acc"] and a["history"] == b["history"]


def test_a_plan_folder_made_by_another_commit_is_not_mixed_into(tmp_path, monkeypatch):
    plan = tiny_plan()
    run_plan(plan, out=tmp_path, data=tiny_data(), progress=False, max_points=1)
    path = next((tmp_path / plan.name).glob("*.json"))
    record = json.loads(path.read_text())
    path.write_text(json.dumps({**record, "commit": "0000000"}))
    monkeypatch.setattr(runner_module, "code_version", lambda: "1111111")
    with pytest.raises(ValueError, match="mix code versions"):
        run_plan(plan, out=tmp_path, data=tiny_data(), progress=False)


def test_report_section_has_a_verdict_for_every_comparison(tmp_path):
    plan = tiny_plan("dose-bundled")  # the report reads plans by name
    run_plan(plan, out=tmp_path, data=tiny_data(), progress=False)
    tables = regime_tables(tmp_path)
    rows = tables["dose-bundled"]["rows"]
    names = [r["comparison"] for r in rows]
    assert "sum (η1 = 0.1) − BP" in names and "sum − random control (η1 = 0.1)" in names
    assert all(r["verdict"] in ("**helps**", "**hurts**", "no effect shown") for r in rows)
    text = write_report(tmp_path).read_text()
    assert "Where local plasticity helps" in text and "partial" in text, "an unfinished plan says it is partial"
    assert (tmp_path / "dose-bundled.png").is_file()


def test_holm_rejects_step_down():
    # alpha 0.05, three tests: 0.01 ≤ 0.05/3, 0.02 ≤ 0.05/2, 0.04 ≤ 0.05/1 → all three rejected
    assert holm([0.04, 0.01, 0.02]) == [True, True, True]
    # 0.03 > 0.05/2 stops the procedure: only the smallest is rejected, and 0.04 after it is not
    assert holm([0.01, 0.03, 0.04]) == [True, False, False]
    assert holm([0.2]) == [False]


def test_paired_comparison_of_a_constant_difference_is_certain():
    c = compare({0: 0.90, 1: 0.91, 2: 0.92}, {0: 0.89, 1: 0.90, 2: 0.91})
    assert c["mean"] == pytest.approx(1.0) and c["low"] == pytest.approx(1.0) and c["p"] == 0.0
    c = compare({0: 0.90, 1: 0.92}, {0: 0.91, 1: 0.91})  # +1 and −1 point: no effect
    assert c["mean"] == pytest.approx(0.0, abs=1e-12) and c["p"] == pytest.approx(1.0)
    assert compare({0: 0.9}, {0: 0.8}) is None, "one pair is no comparison"


@pytest.mark.parametrize("shift", ["noise", "contrast", "blur", "occlusion"])
def test_shifts_keep_pixels_in_range_and_are_seeded(shift):
    x = tiny_data().train_x[:8]
    a, b = shift_images(x, shift, seed=3), shift_images(x, shift, seed=3)
    assert torch.equal(a, b) and a.shape == x.shape
    assert a.min() >= 0 and a.max() <= 1 and not torch.equal(a, x)


def test_blur_keeps_the_mean_of_a_centred_digit():
    x = torch.zeros(1, 28, 28)
    x[0, 10:18, 12:16] = 1.0
    assert shift_images(x, "blur", 0).sum().item() == pytest.approx(x.sum().item(), rel=1e-5), \
        "a blur spreads the strokes without adding or removing ink (not a mean offset)"


def test_seed_zero_of_a_label_budget_reuses_the_network_its_eta1_choice_trained(monkeypatch):
    """The η1 choice trains seed 0's network at every candidate; seed 0's own point must not train it again."""
    from labkit.campaign import regimes
    from labkit.models import SpikingMLP

    fits, scored = [], []
    monkeypatch.setattr(regimes, "_fit_labels", lambda v, n, s, eta1, data: fits.append((s, eta1)) or SpikingMLP((4, 3, 2)))
    monkeypatch.setattr(regimes, "_score", lambda model, x, y, seed, enc: scored.append(model) or 0.5)
    data = tiny_data()
    for seed in (0, 1):
        result = regimes.run_labels({"seed": seed, "labels": 100, "variant": "interleave"}, data)
        assert "seed0_model" not in result and result["chosen"] in ("0.01", "0.1")
    assert fits == [(0, 0.01), (0, 0.1), (0, 0.01), (0, 0.1), (1, 0.01)], \
        "seed 0: the two candidates only; seed 1 (whose choice is made again here): candidates, then its own fit"
