"""Table I's second column on simulated N-MNIST: packed frames through training and evaluation, the
recurrent switch of a run, the campaign plan and its report section (labkit.campaign.nmnist)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from labkit import experiments as ex
from labkit.campaign import PLANS, Plan, missing_points, point_id, run_plan
from labkit.campaign.nmnist import DATA_LABEL, nmnist_points, nmnist_section, write_nmnist_report
from labkit.campaign.verdicts import write_report
from labkit.data.frames import pack
from labkit.encoders import FrameEncoder, unpack_bits
from labkit.experiments import runs as ex_runs
from labkit.models import ANNBaseline, SpikingMLP
from labkit.training import Data, evaluate, train
from labkit.training.inputs import as_data

SHAPE = (5, 2, 4, 4)  # T, polarity, y, x: 32 inputs per step


def frames(n: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, *SHAPE, generator=g) < 0.3


def frame_data(storage: str, n: int = 48, n_test: int = 16) -> Data:
    """The same random binary frames stored as float32, uint8 or bit-packed rows."""
    x, t = frames(n), frames(n_test, 1)
    y, y_test = torch.arange(n) % 10, torch.arange(n_test) % 10
    if storage == "packed":
        return Data(torch.from_numpy(pack(x.numpy().astype(np.uint8))), y, torch.from_numpy(pack(t.numpy().astype(
            np.uint8))), y_test, temporal=True, name="frames", encoding=FrameEncoder(packed=SHAPE))
    if storage == "uint8":
        return Data(x.to(torch.uint8), y, t.to(torch.uint8), y_test, temporal=True, name="frames")
    return Data(x.float(), y, t.float(), y_test, temporal=True, name="frames")


def test_unpacking_bits_in_torch_gives_numpys_unpackbits_order():
    g = np.random.default_rng(0)
    for shape in ((3, 2, 2), (25, 2, 34, 34), (1, 7)):  # 12, 57,800 and 7 values: whole and partial last bytes
        values = (g.random((4, *shape)) < 0.4).astype(np.uint8)
        got = unpack_bits(torch.from_numpy(pack(values)), shape)
        assert got.dtype == torch.float32 and torch.equal(got, torch.from_numpy(values).float()), \
            f"bit k of a row is value k of the sample (shape {shape})"


def test_packed_and_uint8_frames_train_and_test_exactly_as_float_frames():
    """The compact forms are only storage: the same seeds give the same losses and accuracies, for the
    spiking network (feed-forward and recurrent) and for the ANN on the frames' average over time."""
    for make in (lambda: SpikingMLP((32, 20, 10), seed=0), lambda: SpikingMLP((32, 20, 10), recurrent=True, seed=0),
                 lambda: ANNBaseline((32, 20, 10), seed=0)):
        runs = {}
        for storage in ("float", "uint8", "packed"):
            model = make()
            history = train(model, "bp", frame_data(storage), 2, batch_size=16, seed=3, progress=False)
            runs[storage] = (history.loss, history.train_acc, history.test_acc)
        assert runs["uint8"] == runs["float"] == runs["packed"], \
            f"{type(model).__name__}: the same numbers in every storage"


def test_compact_frames_are_not_copied_to_float_for_the_whole_set():
    for storage in ("uint8", "packed"):
        data = frame_data(storage)
        checked = as_data(data, classes=10)
        assert checked.train_x is data.train_x and checked.train_x.dtype == torch.uint8, \
            f"{storage} frames stay 1 byte per value (or per 8 values) in memory; batches are converted"


def test_evaluation_of_packed_frames_with_noise_adds_it_to_the_unpacked_frames():
    model = SpikingMLP((32, 20, 10), seed=0)
    packed, plain = frame_data("packed"), frame_data("float")
    for sigma in (0.0, 0.3):
        a = evaluate(model, packed.test_x, packed.test_y, noise_sigma=sigma, encoder=packed.encoder)
        b = evaluate(model, plain.test_x, plain.test_y, noise_sigma=sigma, encoder=plain.encoder)
        assert a == b, f"σ = {sigma}: noise falls on the frames, not on their packed bits"


def test_a_packed_frame_encoder_refuses_rows_of_the_wrong_size_and_says_what_it_reads():
    with pytest.raises(ValueError, match="uint8 rows of 20 bytes"):
        FrameEncoder(packed=SHAPE)(torch.zeros(2, 19, dtype=torch.uint8))
    with pytest.raises(ValueError, match="shape"):
        FrameEncoder(packed=(0, 3))


def test_nmnist_sim_data_packed_holds_the_cache_bits_and_encodes_as_the_float_frames(tmp_path):
    from labkit import data as data_module

    kwargs = dict(num_bins=5, source="bundled", root=tmp_path, progress=False)
    packed = data_module.nmnist_sim_data(12, 4, frames="packed", **kwargs)
    plain = data_module.nmnist_sim_data(12, 4, **kwargs)
    assert packed.train_x.dtype == torch.uint8 and packed.train_x.shape == (12, -(-5 * 2312 // 8))
    assert torch.equal(packed.encoder(packed.train_x), plain.encoder(plain.train_x)), "same frames, time-first"
    with pytest.raises(ValueError, match="frames must be one of"):
        data_module.nmnist_sim_data(2, 2, frames="bits", **kwargs)


# ----------------------------------------------------------------------------- the recurrent switch


def test_a_run_spec_chooses_feed_forward_or_recurrent_explicitly():
    data = frame_data("float")._replace(name="nmnist-sim")
    forward = ex.RunSpec("nmnist-sim", "bp", 0, 1)
    recurrent = ex.RunSpec("nmnist-sim", "bp", 0, 1, recurrent=True)
    assert ex_runs._make_model(forward, data).recurrent is None, "N-MNIST data alone no longer makes a run recurrent"
    assert ex_runs._make_model(recurrent, data).recurrent is not None
    assert (forward.name, recurrent.name) == ("bp_s0", "bp_rec_s0"), "the two columns live in separate folders"
    with pytest.raises(ValueError, match="recurrent"):
        ex.RunSpec("nmnist-sim", "ann", 0, 1, recurrent=True)


def test_a_recurrent_run_records_it_in_eval_and_history(tmp_path):
    data = frame_data("packed")._replace(name="nmnist-sim")
    result = ex.run_one(ex.RunSpec("nmnist-sim", "bp", 0, 1, recurrent=True), data, tmp_path, progress=False)
    folder = tmp_path / "nmnist-sim" / "runs" / "bp_rec_s0"
    assert result["recurrent"] is True and json.loads((folder / "eval.json").read_text())["recurrent"] is True
    assert json.loads((folder / "history.json").read_text())["config"]["recurrent"] is True
    assert ex_runs.check_run_folders(folder.parent) == [folder / "eval.json"], "a _rec folder holds its rule's run"


# ----------------------------------------------------------------------------- the plan and its report


def test_the_nmnist_plan_is_table_one_second_column():
    plan = PLANS["nmnist-sim"]
    assert plan.regime == "nmnist" and plan.data == "nmnist-sim" and DATA_LABEL.startswith("simulated N-MNIST")
    seeds = {v: sorted(p["seed"] for p in plan.points if p["variant"] == v) for v in
             ("bp", "sum", "adaptive", "ann", "bp_rec", "adaptive_rec")}
    assert all(seeds[v] == [0, 1, 2, 3, 4] for v in ("bp", "sum", "adaptive", "ann")), "feed-forward: 5 paired seeds"
    assert seeds["bp_rec"] == seeds["adaptive_rec"] == [0, 1, 2], "recurrent: 3 paired seeds"
    assert len(plan.points) == 27 and plan.epochs == 5, "one number of epochs for every gradient-trained rule"
    ids = [point_id(p) for p in plan.points]
    assert ids[:6] == ["bp_s0", "sum_s0", "adaptive_s0", "ann_s0", "bp_rec_s0", "adaptive_rec_s0"], "seed by seed"
    assert ids[-1] == "stdp_only_s0", "the STDP-only classifier, with its own choice of settings, comes last"


def test_the_stdp_only_classifier_reads_event_frames_and_chooses_its_settings_on_held_out_digits():
    from labkit.campaign.nmnist import run_stdp_only_frames, stdp_only_params

    data = frame_data("packed", n=60, n_test=20)
    grid = {"theta_plus": (0.5,), "threshold": (2.0, 40.0)}
    result = run_stdp_only_frames(data, 0, grid, n_neurons=12, epochs=1)
    assert result["sizes"] == [32, 12], "32 inputs per step (the unpacked frame), not the 20 packed bytes"
    assert [t["threshold"] for t in result["selection"]["trials"]] == [2.0, 40.0]
    best = max(result["selection"]["trials"], key=lambda t: t["validation_acc"])
    assert result["selection"]["chosen"]["threshold"] == best["threshold"], "the best validation score is chosen"
    assert 0.0 <= result["test_acc"] <= 1.0 and result["stdp_epochs"] == 1
    assert stdp_only_params(0.5, 15.0, 2312).w_sum == pytest.approx(78.0 * 2312 / 784), \
        "the mean initial weight of the MNIST layer"
    again = run_stdp_only_frames(data, 0, grid, n_neurons=12, epochs=1)
    assert again == result, "the same seed gives the same result"


@pytest.mark.slow
def test_a_pilot_plan_runs_through_the_campaign_runner_and_its_report_section(tmp_path):
    """End to end on 2,000 simulated digits (bundled MNIST, packed frames): 3 variants × 2 seeds × 1 epoch
    through Optuna's grid, results as JSON, then the column's section with its paired differences."""
    from labkit import data as data_module

    data = data_module.nmnist_sim_data(2000, 500, source="bundled", cache=False, frames="packed")
    plan = Plan("nmnist-pilot", "nmnist", "nmnist-sim", nmnist_points(range(2), range(2), ("bp", "adaptive"),
                                                                      ("bp_rec",), ()), epochs=1, notes="pilot")
    out = tmp_path / "campaign"
    assert run_plan(plan, out=out, data=data, progress=False, max_points=5) == 5
    partial = nmnist_section(out, plan)
    assert "**partial: 5 of 6 points**" in partial
    # allow_mixed: a commit made elsewhere while this test runs must not count as another code version
    assert run_plan(plan, out=out, data=data, progress=False, allow_mixed=True) == 1
    assert missing_points(out, plan) == []
    record = json.loads((out / plan.name / "bp_rec_s1.json").read_text())
    assert record["point"] == {"regime": "nmnist", "variant": "bp_rec", "seed": 1} and record["recurrent"] is True
    assert len(record["history"]["test_acc"]) == len(record["history"]["train_acc"]) == 1
    assert record["n_train"] == 2000 and record["cpu_seconds"] > 0
    assert not list(out.rglob("*.pt")), "results only: no checkpoint or model is left behind"
    accuracies = [json.loads(p.read_text())["test_acc"] for p in (out / plan.name).glob("*.json")]
    assert min(accuracies) > 0.3, "one epoch on 2,000 simulated digits learns (well above the 10% of chance)"
    section = nmnist_section(out, plan)
    assert DATA_LABEL in section and "complete" in section and "partial" not in section
    for row in ("| surrogate BP | 95.20 |", "| hybrid, A-STDP (adaptive) | 96.48 |",
                "| STDP-only (competitive layer) | 88.40 |",
                "| A-STDP − BP, feed-forward |", "| recurrent − feed-forward, BP |"):
        assert row in section, f"the section has the row {row!r}"
    assert "A-STDP − BP, recurrent" in section.split("Not yet comparable")[1], "a pair not in the plan is named"
    assert write_nmnist_report(out, plan).read_text() == section
    for path in (out / plan.name).glob("*_s*.json"):  # the same records as the real plan's first points
        (out / "nmnist-sim").mkdir(exist_ok=True)
        (out / "nmnist-sim" / path.name).write_text(path.read_text())
    report = write_report(out).read_text()
    assert "`nmnist-sim/report.md`" in report and DATA_LABEL not in report, "the plasticity report links the column"
    column = (out / "nmnist-sim" / "report.md").read_text()
    assert DATA_LABEL in column and "**partial: 6 of 27 points**" in column, "labkit campaign report writes it"
