"""Tests for labkit.experiments.noise_report (the report's noise-protocol section) on a tiny fake results folder."""

from __future__ import annotations

import json

import pytest

from labkit.experiments import write_report
from labkit.experiments.noise_report import (collect_noise_study, noise_protocol_lines, noise_protocol_tables,
                                             paper_match)
from labkit.experiments.report import markdown_table

#: Made-up accuracies at σ = 0.3 per protocol, rule and seed: under "normalized" BP and the hybrid sit at the
#: paper's 88.4 / 91.6 with the hybrid ahead on every seed; under "pixel_clip" both collapse and cannot be told apart.
FAKE = {
    "normalized": {"bp": [0.884, 0.886, 0.882], "adaptive": [0.915, 0.917, 0.916], "ann": [0.95]},
    "pixel_clip": {"bp": [0.70, 0.66, 0.67], "adaptive": [0.68, 0.67, 0.66], "ann": [0.78]},
}


def _write_fake(folder, sweep_subset=200):
    folder.mkdir(parents=True)
    records = {}
    for protocol, rules in FAKE.items():
        for rule, values in rules.items():
            for seed, accuracy in enumerate(values):
                record = records.setdefault((rule, seed), {"rule": rule, "seed": seed, "protocols": {}})
                record["protocols"][protocol] = {"0.3": {"accuracy": accuracy, "n_test": 10_000},
                                                 "0": {"accuracy": 0.98, "n_test": sweep_subset}}
    for (rule, seed), record in records.items():
        (folder / f"{rule}_s{seed}.json").write_text(json.dumps(record))


def test_collect_reads_every_piece_in_percent(tmp_path):
    _write_fake(tmp_path / "noise_protocols")
    study = collect_noise_study(tmp_path / "noise_protocols")
    assert study["bp"]["normalized"]["0.3"] == {0: (88.4, 10_000), 1: (88.6, 10_000), 2: (88.2, 10_000)}
    assert set(study) == {"bp", "adaptive", "ann"}, "only the rules that have files"


def test_paper_match_allows_two_standard_deviations_of_one_run():
    close = {"n": 3, "mean": 88.0, "std": 0.3, "n_test": 10_000}
    far = {"n": 3, "mean": 70.0, "std": 2.0, "n_test": 10_000}
    assert paper_match(close, 88.4) is True, "0.4 points off with sd 0.3 and a 0.32-point sampling error"
    assert paper_match(far, 88.4) is False
    assert paper_match({"n": 0, "mean": None, "std": None, "n_test": 0}, 88.4) is None, "nothing measured"


def test_tables_give_the_verdict_per_protocol(tmp_path):
    _write_fake(tmp_path / "noise_protocols")
    t = noise_protocol_tables(collect_noise_study(tmp_path / "noise_protocols"))
    assert t["at_sigma"][0]["BP"] == 88.4 and t["at_sigma"][0]["A-STDP"] == 91.6, "the paper's row comes first"
    verdicts = {v["protocol"]: v for v in t["verdicts"]}
    assert list(verdicts) == ["pixel_clip", "normalized"], "protocols in the registry's order"
    assert verdicts["normalized"]["bp_match"] and verdicts["normalized"]["hybrid_match"]
    assert verdicts["normalized"]["paired"]["adaptive"]["verdict"] == "reproduced", "the hybrid wins on every seed"
    assert verdicts["normalized"]["paired"]["adaptive"]["mean"] == pytest.approx(3.2)
    assert not verdicts["pixel_clip"]["bp_match"] and not verdicts["pixel_clip"]["hybrid_match"]
    assert verdicts["pixel_clip"]["paired"]["adaptive"]["verdict"] == "not established"
    assert verdicts["pixel_clip"]["paired"]["sum"]["n"] == 0, "no sum runs: nothing paired"


def test_section_says_which_protocol_gives_the_papers_figures(tmp_path):
    _write_fake(tmp_path / "noise_protocols")
    text = "\n".join(noise_protocol_lines(tmp_path / "noise_protocols", markdown_table))
    assert "| paper (not stated) |" in text and "88.40" in text and "91.60" in text
    assert "88.40 ± 0.20 (n=3)" in text, "BP's mean ± sd over the three seeds under `normalized`"
    assert "first 200 test digits" in text, "the subset of the other noise levels is named"
    normalized = next(line for line in text.splitlines() if line.startswith("- `normalized`"))
    assert "**gives the paper's figures**" in normalized and "**more robust than BP**" in normalized
    clipped = next(line for line in text.splitlines() if line.startswith("- `pixel_clip`"))
    assert "**does not give the paper's figures**" in clipped and "not distinguishable from BP" in clipped
    assert "(BP / hybrid) come out under `normalized`;" in text


def test_no_study_files_no_section(tmp_path):
    assert noise_protocol_lines(tmp_path / "noise_protocols", markdown_table) == []


def test_report_only_writes_the_section(tmp_path):
    _write_fake(tmp_path / "mnist" / "noise_protocols")
    (tmp_path / "mnist" / "runs").mkdir()
    report = write_report(tmp_path, "mnist").read_text()
    assert "## Noise robustness by protocol: where the noise enters" in report
    assert report.index("by protocol") < report.index("## Ablations"), "the section follows the noise sweep"
    summary = json.loads((tmp_path / "mnist" / "summary.json").read_text())
    assert [v["protocol"] for v in summary["noise_protocols"]["verdicts"]] == ["pixel_clip", "normalized"]


def test_holm_keeps_the_clear_effect_and_the_control_is_pending_until_it_measures_the_protocol(tmp_path):
    _write_fake(tmp_path / "noise_protocols")
    t = noise_protocol_tables(collect_noise_study(tmp_path / "noise_protocols"))
    survivors = [(e["protocol"], e["rule"]) for e in t["holm"] if e["survives"]]
    # normalized: +3.1, +3.1, +3.4 on three seeds, p ≈ 0.002 ≤ 0.05/2; pixel_clip: −2, +1, −1, p ≈ 0.6
    assert survivors == [("normalized", "adaptive")], "only the effect clear on every seed survives Holm"
    control = tmp_path / "plasticity"
    text = "\n".join(noise_protocol_lines(tmp_path / "noise_protocols", markdown_table, control_root=control))
    assert "control pending" in text and "1 survive" in text, "no control results: the effect is reported as pending"
    (control / "dose").mkdir(parents=True)
    (control / "dose" / "random_eta1=0.01_s0.json").write_text(json.dumps({"regime": "dose", "test_acc": 0.9}))
    text = "\n".join(noise_protocol_lines(tmp_path / "noise_protocols", markdown_table, control_root=control))
    assert "control pending" in text and "random_eta1=0.01_s0.json" in text, \
        "a control that does not measure the protocol does not decide it, and the report says it exists"
    plan = control / "dose-mnist"
    plan.mkdir()
    for seed, (bp, hybrid, rand) in enumerate([(0.950, 0.960, 0.951), (0.948, 0.959, 0.949), (0.952, 0.961, 0.950)]):
        for variant, acc in (("bp", bp), ("sum", hybrid), ("random", rand)):
            point = {"regime": "dose", "variant": variant, "seed": seed, **({} if variant == "bp" else {"eta1": 0.01})}
            (plan / f"{variant}_s{seed}.json").write_text(json.dumps(
                {"plan": "dose-mnist", "point": point, "epochs": 3, "test_acc": acc, "noise_acc": {"normalized": acc}}))
    text = "\n".join(noise_protocol_lines(tmp_path / "noise_protocols", markdown_table, control_root=control))
    assert "control pending" not in text, "a control measured under the protocol is reported"
    # sum − BP on the three seeds: +1.0, +1.1, +0.9 points; sum − random: +0.9, +1.0, +1.1
    assert "sum − BP +1.00" in text and "sum − random control +1.00" in text and "effect shows" in text
