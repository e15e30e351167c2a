"""Tests for labkit.foundation: the atomic writer, the safe loader, seed streams, validation, tables.

The reliability tests at the end go through the public API (training checkpoints, the
competitive layer, N-MNIST files, the reproduction's JSON): every file the lab writes must be
as readable as any other new file (0644 under umask 022), and a crafted checkpoint must be
refused without running the code it carries.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import math
import os
import pathlib
import stat

import numpy as np
import pytest
import torch

from labkit.foundation import io, seeds, tables, validation
from labkit.foundation.errors import LabkitError
from labkit.foundation.paths import REPO_ROOT
from labkit.neurons import LIFParams

FOUNDATION = pathlib.Path(io.__file__).parent


# ----------------------------------------------------------------------------- the layer itself


def test_foundation_imports_nothing_else_from_labkit():
    for path in sorted(FOUNDATION.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert node.level <= 1, f"{path.name} imports from above labkit.foundation ({ast.unparse(node)})"
                assert not (node.module or "").startswith("labkit"), f"{path.name}: {ast.unparse(node)}"
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("labkit") for a in node.names), f"{path.name}: {ast.unparse(node)}"


def test_repo_root_holds_the_package_and_the_data_folder():
    assert (REPO_ROOT / "labkit" / "__init__.py").is_file() and (REPO_ROOT / "data").is_dir()


# ----------------------------------------------------------------------------- atomic writer


@pytest.fixture
def umask_022():
    before = os.umask(0o022)
    yield
    os.umask(before)


def _mode(path: pathlib.Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_written_files_get_the_mode_of_an_ordinary_new_file(tmp_path, umask_022):
    for name, write in [("a.bin", lambda p: io.write_bytes(p, b"x")), ("a.txt", lambda p: io.write_text(p, "x")),
                        ("a.json", lambda p: io.write_json(p, {"a": 1})), ("a.pt", lambda p: io.save_torch(p, [1]))]:
        write(tmp_path / name)
        assert _mode(tmp_path / name) == 0o644, f"{name}: 0666 less umask 022 is 0644"
    os.umask(0o077)
    io.write_text(tmp_path / "private.txt", "x")
    assert _mode(tmp_path / "private.txt") == 0o600, "a stricter umask is respected"


def test_a_failing_write_or_check_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "f.txt"
    io.write_text(target, "old")

    def broken(f):
        f.write("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        io.write_atomic(target, broken, binary=False)

    def refuse(tmp):
        assert tmp.read_text() == "new", "the check sees the complete temporary file"
        raise ValueError("checksum mismatch")

    with pytest.raises(ValueError, match="checksum"):
        io.write_atomic(target, lambda f: f.write("new"), binary=False, check=refuse)
    assert target.read_text() == "old", "the target is replaced only by a complete, checked file"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"], "no temporary file is left behind"


# ----------------------------------------------------------------------------- safe loader


class _Payload:
    """Unpickling this touches a marker file: the code a crafted checkpoint could run."""

    def __init__(self, marker: pathlib.Path):
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (self.marker,))


def craft_checkpoint(path: pathlib.Path, marker: pathlib.Path) -> pathlib.Path:
    torch.save({"model": {}, "history": _Payload(marker), "layer": _Payload(marker)}, path)
    return path


def test_load_torch_refuses_a_crafted_pickle_without_running_it(tmp_path):
    marker = tmp_path / "ran"
    path = craft_checkpoint(tmp_path / "evil.pt", marker)
    with pytest.raises(LabkitError, match="evil.pt"):
        io.load_torch(path)
    assert not marker.exists(), "the crafted pickle's code never ran"


def test_load_torch_reads_tensors_and_plain_data_and_names_damaged_files(tmp_path):
    state = {"w": torch.arange(3.0), "config": {"rule": "bp", "sizes": [784, 10]}, "epoch": 2}
    io.save_torch(tmp_path / "ok.pt", state)
    loaded = io.load_torch(tmp_path / "ok.pt")
    assert torch.equal(loaded["w"], state["w"]) and loaded["config"] == state["config"]
    (tmp_path / "bad.pt").write_bytes(b"not a torch file")
    with pytest.raises(LabkitError, match="bad.pt"):
        io.load_torch(tmp_path / "bad.pt")
    with pytest.raises(FileNotFoundError, match="missing.pt"):
        io.load_torch(tmp_path / "missing.pt")


def test_read_json_names_a_truncated_file(tmp_path):
    (tmp_path / "eval.json").write_text('{"test_acc": 0.9')
    with pytest.raises(LabkitError, match="eval.json"):
        io.read_json(tmp_path / "eval.json")


# ----------------------------------------------------------------------------- seed streams


def test_epoch_seed_is_the_training_loops_formula_bit_for_bit():
    for seed, stream, epoch in [(0, 1, 0), (3, 2, 7), (2**62, 8, 5), (2**63 - 1, 7, 0)]:
        # the formula the committed runs were trained with
        assert seeds.epoch_seed(seed, stream, epoch) == (seed * 1_000_003 + stream * 10_007 + epoch) % 2**63
    a = torch.rand(5, generator=seeds.epoch_generator(4, seeds.Stream.RATE_CODE, 3))
    b = torch.rand(5, generator=torch.Generator().manual_seed((4 * 1_000_003 + 2 * 10_007 + 3) % 2**63))
    assert torch.equal(a, b), "the generator draws exactly what the formula's seed draws"


def test_counter_seed_is_the_competitive_layers_formula_bit_for_bit():
    seed, stream, epoch, batch = 5, 2, 1, 17
    value = ((seed * 1_000_003 + stream * 10_007) * 1_000_033 + epoch) * 1_000_033 + batch
    assert seeds.counter_seed(seed, stream, epoch, batch) == value % 2**63
    assert seeds.pass_seed(seed, seeds.Stream.TEST_PASS) == seed * 1_000_003 + 6


def test_stream_numbers_never_change():
    assert {s.name: int(s) for s in seeds.Stream} == {
        "BATCH_ORDER": 1, "RATE_CODE": 2, "LABELLING": 5, "TEST_PASS": 6, "EVAL_NOISE": 7, "EVAL_CODE": 8,
        "PERTURB": 9, "UNLABELLED": 10}


# ----------------------------------------------------------------------------- validation


def test_validation_phrases_each_kind_of_error_one_way():
    with pytest.raises(LabkitError, match=r"^epochs must be an integer >= 1, got 0$"):
        validation.check_int("epochs", 0)
    with pytest.raises(LabkitError, match="integer"):
        validation.check_int("epochs", True)
    with pytest.raises(LabkitError, match=r"^LIFParams.beta must be a finite number in \[0, 1\], got 1.5$"):
        validation.check_number("LIFParams.beta", 1.5, minimum=0, maximum=1)
    with pytest.raises(LabkitError, match=r"^tau must be a finite number > 0 \(ms\), got nan$"):
        validation.check_number("tau", float("nan"), minimum=0, above=True, unit="ms")
    with pytest.raises(LabkitError, match=r"^reset must be 'subtract' or 'zero', got 'one'$"):
        validation.check_choice("reset", "one", ("subtract", "zero"))
    assert validation.check_number("x", 2) == 2.0 and validation.check_int("n", None, allow_none=True) is None
    assert issubclass(LabkitError, ValueError), "user errors are ValueErrors"
    with pytest.raises(LabkitError, match=r"^bits must be an integer in \[2, 8\], got 9$"):
        validation.check_int("bits", 9, 2, maximum=8)
    with pytest.raises(LabkitError, match=r"^sigma must be a finite number in \[0, 0.5\) \(a fraction\), got 0.5$"):
        validation.check_number("sigma", 0.5, minimum=0, maximum=0.5, below=True, unit="a fraction")
    with pytest.raises(LabkitError, match=r"^lif must be a LIFParams, got an int$"):
        validation.check_type("lif", 3, LIFParams)
    with pytest.raises(LabkitError, match=r"^w_min must be < w_max, got 1 and 0$"):
        validation.check_order("w_min", 1, "w_max", 0)
    assert validation.check_number("tau", math.inf, minimum=0, above=True, finite=False) == math.inf, "inf allowed"
    with pytest.raises(LabkitError, match=r"^tau must be a number > 0, got nan$"):
        validation.check_number("tau", math.nan, minimum=0, above=True, finite=False)


def _records():
    """(build a record with one bad field, the field's name as the message must start) for every parameter record."""
    from labkit.competitive import CompetitiveParams
    from labkit.data import SaccadeParams
    from labkit.energy import PLATFORMS
    from labkit.loihi.bundle import Bundle
    from labkit.loihi.quantize import QuantConfig
    from labkit.neurons import ATan, FastSigmoid
    from labkit.rules import RuleParams
    from labkit.stdp import STDPParams
    from labkit.tune.config import TuneConfig

    platform = next(iter(PLATFORMS.values()))  # an EnergyModel class
    constant = dataclasses.fields(platform)[0].name
    return [
        (lambda: LIFParams(beta=1.5), "LIFParams.beta", r"in \[0, 1\]"),
        (lambda: LIFParams(reset="one"), "LIFParams.reset", "'subtract' or 'zero'"),
        (lambda: ATan(alpha=-1.0), "ATan.alpha", "> 0"),
        (lambda: FastSigmoid(slope=0.0), "FastSigmoid.slope", "> 0"),
        (lambda: STDPParams(tau_plus=0.0), "STDPParams.tau_plus", r"> 0 \(time steps\)"),
        (lambda: STDPParams(w_min=1.0, w_max=0.0), "STDPParams.w_min", "< STDPParams.w_max"),
        (lambda: CompetitiveParams(lif=LIFParams()), "CompetitiveParams.lif.reset", "'zero'"),
        (lambda: CompetitiveParams(winners=0), "CompetitiveParams.winners", "integer >= 1"),
        (lambda: CompetitiveParams(theta_tau=0.0), "CompetitiveParams.theta_tau", "> 0"),
        (lambda: RuleParams(kappa=2.0), r"kappa \(κ\)", r"in \[0, 1\]"),
        (lambda: SaccadeParams(threshold_sigma=0.5), "SaccadeParams.threshold_sigma", r"in \[0, 0.5\)"),
        (lambda: SaccadeParams(saccade_us=5), "SaccadeParams.saccade_us", r"integer in \[1000, "),
        (lambda: QuantConfig(weight_bits=9), "QuantConfig.weight_bits", r"integer in \[2, 8\]"),
        (lambda: TuneConfig(val_fraction=0.0), "val_fraction", r"in \(0, 0.5\]"),
        (lambda: platform(**{constant: -1.0}), f"{platform.__name__}.{constant}", ">= 0"),
        (lambda: Bundle(layers=(), beta=0.9, threshold=1.0), "Bundle.layers", "at least one"),
    ]


@pytest.mark.parametrize("build, field, remedy", _records(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_parameter_record_names_the_field_and_what_it_must_be(build, field, remedy):
    """One phrasing for the records' checks: ``{field} must …{what to pass}…, got {value}``."""
    with pytest.raises(LabkitError, match=rf"^{field} must .*{remedy}.*"):
        build()


# ----------------------------------------------------------------------------- tables


def test_one_formatter_writes_plain_text_and_markdown():
    rows = [{"model": "bp", "acc": 97.512, "paper": None}, {"model": "adaptive", "acc": 98.0, "paper": 98.05}]
    assert tables.format_table(rows, ["model", "acc"]).splitlines() == [
        "model     acc ", "--------  ----", "      bp  97.5", "adaptive    98"]
    assert tables.format_table(rows, style="markdown").splitlines() == [
        "| model | acc | paper |", "| --- | --- | --- |", "| bp | 97.51 | — |", "| adaptive | 98.00 | 98.05 |"]
    assert tables.format_table([], style="markdown", empty="_none_") == "_none_"


# ----------------------------------------------------------------------------- files the lab writes


@pytest.fixture(scope="module")
def tiny_data():
    from labkit.data import mnist_data
    from labkit.training import Data

    d = mnist_data("bundled", train_limit=128, test_limit=64)
    return Data(d.train_x, d.train_y, d.test_x, d.test_y, name="tiny")


def test_every_file_the_lab_writes_is_readable_by_others(tmp_path, tiny_data, umask_022):
    from labkit.data import EVENT_DTYPE, write_nmnist_file
    from labkit.models import SpikingMLP
    from labkit.training import train_competitive
    from labkit.training import train

    train(SpikingMLP((784, 8, 10), seed=0), "bp", tiny_data, 1, checkpoint=tmp_path / "ckpt.pt", batch_size=64,
          num_steps=3, progress=False, device="cpu")
    train_competitive(tiny_data, n_neurons=4, num_steps=3, progress=False, checkpoint=tmp_path / "stdp.pt")
    events = np.zeros(3, dtype=EVENT_DTYPE)
    write_nmnist_file(tmp_path / "digit.bin", events)
    for name in ("ckpt.pt", "stdp.pt", "digit.bin"):
        assert _mode(tmp_path / name) == 0o644, f"{name} is 0644 under umask 022, readable by students"


def test_a_crafted_checkpoint_never_runs_in_either_training_loop(tmp_path, tiny_data):
    from labkit.models import SpikingMLP
    from labkit.training import train_competitive
    from labkit.training import load_checkpoint, train

    marker = tmp_path / "ran"
    ckpt = craft_checkpoint(tmp_path / "checkpoint.pt", marker)
    with pytest.raises(LabkitError, match="checkpoint.pt"):
        train(SpikingMLP((784, 8, 10)), "bp", tiny_data, 1, checkpoint=ckpt, progress=False,
              device="cpu")
    with pytest.raises(LabkitError, match="checkpoint.pt"):
        load_checkpoint(SpikingMLP((784, 8, 10)), ckpt)
    with pytest.raises(LabkitError, match="checkpoint.pt"):
        train_competitive(tiny_data, n_neurons=4, num_steps=3, progress=False, checkpoint=ckpt)
    assert not marker.exists(), "no code from the file ran"
