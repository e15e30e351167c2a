"""Tests for the `labkit` command line, and its hostile-input harness.

The harness (`CASES`) is the command-line part of the log in docs/reliability.md: every
subcommand fed the bad inputs a hurried or hostile user would type. Each must end in one line
``labkit: error: …`` that names the option (or file) and says what to do, with exit status 2
and no traceback; output paths are refused before any work starts.
"""

from __future__ import annotations

import json
import contextlib
import io
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import torch

from labkit import cli
from labkit import data as data_pkg

REPO = Path(__file__).resolve().parent.parent


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def test_help_lists_the_commands():
    out = subprocess.run([sys.executable, "-m", "labkit.cli", "--help"], capture_output=True, text=True, check=True,
                         env=_env())
    for command in ("data", "train"):
        assert command in out.stdout, f"--help mentions `{command}`"


def test_data_fetch_help():
    out = subprocess.run([sys.executable, "-m", "labkit.cli", "data", "--help"], capture_output=True, text=True,
                         check=True, env=_env())
    assert "fetch" in out.stdout and "mnist" in out.stdout


def test_python_dash_m_labkit_is_the_labkit_command():
    """#18 item 6: `python -m labkit` did not work (no labkit/__main__.py)."""
    out = subprocess.run([sys.executable, "-m", "labkit", "--help"], capture_output=True, text=True, env=_env())
    assert out.returncode == 0 and "train" in out.stdout, "python -m labkit --help lists the commands"
    out = subprocess.run([sys.executable, "-m", "labkit", "train", "--train-limit", "0"], capture_output=True,
                         text=True, env=_env())
    assert out.returncode == 2, "a user error exits with status 2"
    assert "Traceback" not in out.stderr, "no traceback for a user error"
    assert "labkit: error: argument --train-limit" in out.stderr, "the message names the option"


def test_bad_arguments_exit_with_a_message(capsys):
    code = cli.main(["train", "--epochs", "0", "--source", "bundled", "--train-limit", "10", "--test-limit", "10"])
    assert code == 2, "a user error exits with status 2"
    assert "--epochs: must be an integer >= 1" in capsys.readouterr().err, "the message says what was wrong"


# ----------------------------------------------------------------------------- the hostile-input harness


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """Files a user might pass by mistake (or on purpose), and a data folder with only the bundled subset."""
    from labkit.models import ANNBaseline, SpikingMLP

    tmp = tmp_path_factory.mktemp("hostile")
    data = tmp / "data"
    data.mkdir()
    shutil.copy(data_pkg.bundled_file(), data / "mnist-mini.npz")
    (tmp / "garbage.pt").write_bytes(bytes(range(256)) * 8)
    torch.save(torch.zeros(3), tmp / "tensor.pt")
    torch.save({"weights": [1, 2, 3]}, tmp / "foreign.pt")
    torch.save(ANNBaseline().state_dict(), tmp / "ann.pt")
    torch.save(SpikingMLP(sizes=(784, 100, 10)).state_dict(), tmp / "small.pt")
    (tmp / "a-file").write_text("not a folder\n")
    # Full MNIST cut short by an interrupted copy (the training labels hold half their bytes) beside the subset.
    damaged = tmp / "data-damaged"
    (damaged / "mnist").mkdir(parents=True)
    shutil.copy(data_pkg.bundled_file(), damaged / "mnist-mini.npz")
    (damaged / "mnist" / "train-labels-idx1-ubyte").write_bytes(bytes([0, 0, 8, 1, 0, 0, 0xEA, 0x60]) + bytes(30_000))
    # The bundled subset with one byte flipped.
    corrupt = tmp / "data-corrupt"
    corrupt.mkdir()
    raw = bytearray((data_pkg.bundled_file()).read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    (corrupt / "mnist-mini.npz").write_bytes(bytes(raw))
    (tmp / "a-folder").mkdir()
    # A crafted pickle: loading it with pickle's full powers would create the file PWNED.
    torch.save({"model": _Crafted(tmp / "PWNED"), "rule": {}, "history": {}}, tmp / "crafted.pt")
    # An ANN's run folder: its model.pt has a SpikingMLP's keys; eval.json says what it is.
    (tmp / "ann_s0").mkdir()
    torch.save(ANNBaseline().state_dict(), tmp / "ann_s0" / "model.pt")
    (tmp / "ann_s0" / "eval.json").write_text('{"rule": "ann", "seed": 0}')
    # A checkpoint of a run on 20 digits (to be resumed on 40).
    code = cli.main(["train", "--source", "bundled", "--train-limit", "20", "--test-limit", "20",
                     "--checkpoint", str(tmp / "limit20.pt")])
    assert code == 0, "the checkpoint to resume was written"
    # A reproduction whose eval.json was cut short (a full disk).
    run = tmp / "results" / "mnist" / "runs" / "bp_s0"
    run.mkdir(parents=True)
    (run / "eval.json").write_text('{"rule": "bp", "seed": 0, "test_acc": 0.9')
    # Instructor notebooks (one, small).
    import nbformat

    (tmp / "notebooks").mkdir()
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# a chapter")]),
                   tmp / "notebooks" / "01_a.ipynb")
    # A checkpoint-shaped file cut in half (a copy interrupted by a full disk).
    torch.save({"model": SpikingMLP(sizes=(784, 20, 10)).state_dict(), "history": {}}, tmp / "whole.pt")
    whole = (tmp / "whole.pt").read_bytes()
    (tmp / "truncated.pt").write_bytes(whole[: len(whole) // 2])
    return tmp


class _Crafted:
    """Unpickled with pickle's full powers, this creates ``marker``: the code a crafted checkpoint would run."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


@dataclass(frozen=True)
class Case:
    """One bad input: the command line (``{tmp}`` is the workspace) and what the message must say."""

    id: str
    item: int  # the item of issue #18 (docs/reliability.md)
    argv: tuple[str, ...]
    names: tuple[str, ...]  # what the message must name (the option, the file)
    remedy: str  # a phrase of the advice it must give
    before_work: bool = False  # refused before any data is loaded or anything is written
    xfail: str | None = None  # a fault still open, with the item that fixes it
    data: str = "data"  # the workspace's data folder to use as LABKIT_DATA
    env: dict = field(default_factory=dict)


TINY = ("--source", "bundled", "--train-limit", "20", "--test-limit", "20")

CASES = [
    # train: numbers
    Case("train-epochs-0", 6, ("train", "--epochs", "0", *TINY), ("--epochs",), ">= 1", before_work=True),
    Case("train-epochs-word", 6, ("train", "--epochs", "two", *TINY), ("--epochs",), "int", before_work=True),
    Case("train-train-limit-0", 6, ("train", "--source", "bundled", "--train-limit", "0"), ("--train-limit",),
         ">= 1", before_work=True),
    Case("train-train-limit-negative", 6, ("train", "--source", "bundled", "--train-limit", "-5"),
         ("--train-limit",), ">= 1", before_work=True),
    Case("train-test-limit-0", 6, ("train", "--source", "bundled", "--test-limit", "0"), ("--test-limit",), ">= 1",
         before_work=True),
    Case("train-seed-huge", 6, ("train", "--seed", str(2**70), *TINY), ("--seed",), "2**63 - 1", before_work=True),
    Case("train-seed-negative", 6, ("train", "--seed", "-1", *TINY), ("--seed",), "from 0", before_work=True),
    Case("train-eta2-nan", 6, ("train", "--eta2", "nan", *TINY), ("eta2",), "finite number"),
    Case("train-eta1-negative", 6, ("train", "--rule", "sum", "--eta1", "-1", *TINY), ("eta1",), ">= 0"),
    Case("train-device-unknown", 6, ("train", "--device", "tpu", *TINY), ("tpu",), "use 'auto', 'cpu' or 'cuda'"),
    Case("train-diverges", 6, ("train", "--rule", "sum", "--eta1", "1e300", "--source", "bundled",
                               "--train-limit", "256", "--test-limit", "20"), ("η1",), "smaller learning rate"),
    Case("train-source-full-missing", 8, ("train", "--source", "full", "--train-limit", "20"), ("mnist",),
         "labkit data fetch mnist"),
    Case("train-full-mnist-truncated", 8, ("train", "--train-limit", "20", "--test-limit", "20"),
         ("train-labels-idx1-ubyte", "30,008 bytes, expected 60,008"), "labkit data fetch mnist",
         data="data-damaged"),
    Case("train-bundled-subset-corrupted", 8, ("train", *TINY), ("mnist-mini.npz",),
         "labkit then reads its own copy", data="data-corrupt"),
    Case("deploy-full-mnist-truncated", 8, ("deploy", "--no-lava", "--images", "5", "--model", "{tmp}/small.pt"),
         ("train-labels-idx1-ubyte",), "labkit data fetch mnist", data="data-damaged"),
    # train: the checkpoint path
    Case("train-checkpoint-is-a-folder", 6, ("train", *TINY, "--checkpoint", "{tmp}/a-folder"), ("--checkpoint",),
         "pass a file name", before_work=True),
    Case("train-checkpoint-under-a-file", 6, ("train", *TINY, "--checkpoint", "{tmp}/a-file/ckpt.pt"),
         ("--checkpoint", "a-file"), "folder is expected", before_work=True),
    Case("train-checkpoint-unwritable", 6, ("train", *TINY, "--checkpoint", "/proc/labkit-test/ckpt.pt"),
         ("--checkpoint", "/proc"), "folder you can write to", before_work=True),
    Case("train-checkpoint-garbage", 6, ("train", *TINY, "--checkpoint", "{tmp}/garbage.pt"), ("garbage.pt",),
         "checkpoint"),
    Case("train-checkpoint-a-tensor", 6, ("train", *TINY, "--checkpoint", "{tmp}/tensor.pt"), ("tensor.pt",),
         "checkpoint"),
    Case("train-checkpoint-foreign-dict", 6, ("train", *TINY, "--checkpoint", "{tmp}/foreign.pt"),
         ("foreign.pt",), "checkpoint"),
    Case("train-checkpoint-crafted-pickle", 2, ("train", *TINY, "--checkpoint", "{tmp}/crafted.pt"),
         ("crafted.pt",), "could run code"),
    Case("train-resume-other-train-limit", 3, ("train", "--source", "bundled", "--train-limit", "40",
                                               "--test-limit", "20", "--checkpoint", "{tmp}/limit20.pt"),
         ("limit20.pt", "n_train: checkpoint 20, now 40"), "pass a new checkpoint path"),
    Case("train-checkpoint-truncated", 6, ("train", *TINY, "--checkpoint", "{tmp}/truncated.pt"),
         ("truncated.pt",), "checkpoint"),
    Case("train-checkpoint-a-model-file", 6, ("train", *TINY, "--checkpoint", "{tmp}/small.pt"), ("small.pt",),
         "checkpoint"),
    # reproduce
    Case("reproduce-seeds-0", 6, ("reproduce", "--seeds", "0"), ("--seeds",), ">= 1", before_work=True),
    Case("reproduce-epochs-0", 6, ("reproduce", "--epochs", "0"), ("--epochs",), ">= 1", before_work=True),
    Case("reproduce-rules-unknown", 6, ("reproduce", "--rules", "bp,foo"), ("foo",), "choose from",
         before_work=True),
    Case("reproduce-out-is-a-file", 6, ("reproduce", "--quick", "--rules", "bp", "--out", "{tmp}/a-file"),
         ("--out",), "pass a folder", before_work=True),
    Case("reproduce-eval-json-truncated", 11, ("reproduce", "--report-only", "--out", "{tmp}/results"),
         ("results/mnist/runs/bp_s0/eval.json",), "truncated"),
    Case("reproduce-out-unwritable", 6, ("reproduce", "--quick", "--rules", "bp", "--out", "/proc/labkit-test"),
         ("--out",), "folder you can write to", before_work=True),
    # deploy
    Case("deploy-images-0", 6, ("deploy", "--no-lava", "--images", "0"), ("--images",), ">= 1", before_work=True),
    Case("deploy-model-missing", 6, ("deploy", "--no-lava", "--images", "5", "--model", "{tmp}/missing.pt"),
         ("missing.pt",), "labkit train"),
    Case("deploy-model-garbage", 6, ("deploy", "--no-lava", "--images", "5", "--model", "{tmp}/garbage.pt"),
         ("garbage.pt",), "not a torch file"),
    Case("deploy-model-crafted-pickle", 2, ("deploy", "--no-lava", "--images", "5", "--model", "{tmp}/crafted.pt"),
         ("crafted.pt",), "could run code"),
    Case("deploy-model-an-ann-run", 7, ("deploy", "--no-lava", "--images", "5", "--model", "{tmp}/ann_s0/model.pt"),
         ("ann_s0",), "no spikes"),
    Case("deploy-model-a-checkpoint", 7, ("deploy", "--no-lava", "--images", "5", "--model", "{tmp}/limit20.pt"),
         ("limit20.pt",), "checkpoint"),
    Case("deploy-weight-bits-0", 6, ("deploy", "--no-lava", "--images", "5", "--weight-bits", "0",
                                     "--model", "{tmp}/small.pt"), ("weight_bits",), "[2, 8]"),
    Case("deploy-num-steps-0", 6, ("deploy", "--no-lava", "--images", "5", "--num-steps", "0",
                                   "--model", "{tmp}/small.pt"), ("num_steps",), ">= 1"),
    Case("deploy-chunk-size-0", 6, ("deploy", "--images", "5", "--chunk-size", "0", "--model", "{tmp}/small.pt"),
         ("--chunk-size",), ">= 1"),
    Case("deploy-lava-sidecar-fails", 6, ("deploy", "--images", "5", "--model", "{tmp}/small.pt",
                                          "--out", "{tmp}/deployed"), ("/bin/false",), "--no-lava",
         env={"LABKIT_LAVA_PYTHON": "/bin/false"}),
    Case("deploy-out-is-a-file", 6, ("deploy", "--no-lava", "--images", "5", "--out", "{tmp}/a-file"), ("--out",),
         "pass a folder", before_work=True),
    # tune
    Case("tune-storage-unknown-dialect", 6, ("tune", "--trials", "1", "--storage", "nosuch://x",
                                             "--out", "{tmp}/tune"), ("--storage",), "sqlite:///", before_work=True),
    Case("tune-storage-not-a-url", 6, ("tune", "--trials", "1", "--storage", "results/tune.db",
                                       "--out", "{tmp}/tune"), ("--storage",), "sqlite:///", before_work=True),
    Case("tune-storage-unopenable", 6, ("tune", "--trials", "1", "--storage", "sqlite:////proc/labkit-test/s.db",
                                        "--out", "{tmp}/tune"), ("--storage",), "check", before_work=True),
    Case("tune-trials-negative", 6, ("tune", "--trials", "-1"), ("--trials",), ">= 0", before_work=True),
    Case("tune-epochs-0", 6, ("tune", "--epochs", "0"), ("epochs",), ">= 1", before_work=True),
    Case("tune-hidden-0", 6, ("tune", "--hidden", "0"), ("hidden",), ">= 1", before_work=True),
    Case("tune-range-reversed", 6, ("tune", "--eta1-range", "1", "0"), ("eta1_range",), "LO < HI",
         before_work=True),
    Case("tune-out-is-a-file", 6, ("tune", "--trials", "0", "--out", "{tmp}/a-file"), ("--out",), "pass a folder",
         before_work=True),
    # student
    Case("student-source-missing", 6, ("student", "--source", "{tmp}/missing", "--out", "{tmp}/student"),
         ("missing",), "--source"),
    Case("student-out-is-the-source", 1, ("student", "--source", "{tmp}/notebooks", "--out", "{tmp}/notebooks"),
         ("--out",), "Pass another folder"),
    Case("student-out-inside-the-source", 1, ("student", "--source", "{tmp}/notebooks",
                                               "--out", "{tmp}/notebooks/student"), ("--out",), "Pass another folder"),
    Case("student-out-is-a-file", 6, ("student", "--out", "{tmp}/a-file"), ("--out",), "pass a folder",
         before_work=True),
    # data
    Case("data-root-is-a-file", 6, ("data", "fetch", "mnist", "--root", "{tmp}/a-file", "--quiet"), ("--root",),
         "pass a folder", before_work=True),
    Case("data-root-unwritable", 6, ("data", "fetch", "mnist", "--root", "/proc/labkit-test", "--quiet"),
         ("--root",), "folder you can write to", before_work=True),
    Case("campaign-plan-unknown", 6, ("campaign", "run", "dose-everything"), ("dose-everything",), "dose-bundled",
         before_work=True),
    Case("campaign-plan-missing", 6, ("campaign", "run"), ("PLAN",), "dose-bundled", before_work=True),
    Case("campaign-max-points-0", 6, ("campaign", "run", "dose-bundled", "--max-points", "0", "--out", "{tmp}/c"),
         ("--max-points",), ">= 1", before_work=True),
    Case("campaign-out-is-a-file", 6, ("campaign", "status", "dose-bundled", "--out", "{tmp}/a-file"), ("--out",),
         "pass a folder", before_work=True),
    Case("campaign-collect-without-storage", 6, ("campaign", "collect", "dose-bundled", "--out", "{tmp}/c"),
         ("--storage",), "the database the workers shared", before_work=True),
    Case("export-not-a-run-folder", 7, ("export", "{tmp}", "--out", "{tmp}/export"), ("model.pt",), "check the path"),
    Case("export-out-is-a-file", 6, ("export", "{tmp}", "--out", "{tmp}/a-file"), ("--out",), "pass a folder",
         before_work=True),
    Case("reproduce-report-only-without-out", 6, ("reproduce", "--report-only"), ("--out",), "--out results",
         before_work=True),
    Case("campaign-report-without-out", 6, ("campaign", "report"), ("--out",), "--out results/plasticity",
         before_work=True),
    Case("train-history-exists", 6, ("train", *TINY, "--history", "{tmp}/a-file"), ("--history",),
         "pass another file name", before_work=True),
]


def _forbid_work(monkeypatch) -> None:
    """Make every way into the work fail loudly: a refusal must come before any of it."""
    import labkit.data
    import labkit.exercises

    def started(*args, **kwargs):
        raise AssertionError("the work started before the bad input was refused")

    for name in ("load_mnist", "mnist_data", "fetch_mnist"):
        monkeypatch.setattr(labkit.data, name, started)
    monkeypatch.setattr(labkit.exercises, "write_student_edition", started)


def run_labkit(argv: list[str]) -> tuple[int, str, str]:
    """``labkit ARGV`` in this process: (exit status, stdout, stderr); an escaping exception fails the test."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(argv)
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code
    return code, out.getvalue(), err.getvalue()


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(
    "case", [pytest.param(c, id=c.id, marks=[pytest.mark.xfail(reason=c.xfail)] if c.xfail else []) for c in CASES]
)
def test_hostile_input_ends_in_one_clear_message(case, workspace, monkeypatch, tmp_path):
    """#18 item 6 (and the items named in each case): no traceback, exit status 2, `labkit: error:` naming the
    option or file and saying what to do."""
    monkeypatch.setenv("LABKIT_DATA", str(workspace / case.data))
    monkeypatch.chdir(tmp_path)  # default outputs (results/, build/) land in a scratch folder
    for key, value in case.env.items():
        monkeypatch.setenv(key, value)
    if case.before_work:
        _forbid_work(monkeypatch)
    argv = [a.replace("{tmp}", str(workspace)) for a in case.argv]
    code, _, err = run_labkit(argv)
    assert code == 2, f"exit status 2 for a user error, got {code}: {err[-500:]}"
    assert "Traceback" not in err, "no traceback"
    lines = [line for line in err.splitlines() if line.startswith("labkit: error: ")]
    assert len(lines) == 1, f"exactly one `labkit: error:` line, got {err[-500:]!r}"
    message = lines[0]
    for name in case.names:
        assert name.replace("{tmp}", str(workspace)) in message, f"the message names {name!r}: {message}"
    assert case.remedy in message, f"the message says what to do ({case.remedy!r}): {message}"
    assert not (workspace / "PWNED").exists(), "no crafted pickle ran"


def test_every_command_is_in_the_harness():
    """The harness covers every subcommand the parser offers."""
    parser = cli.build_parser()
    commands = set(parser._subparsers._group_actions[0].choices)  # noqa: SLF001 (argparse has no public API)
    covered = {c.argv[0] for c in CASES}
    assert commands <= covered, f"commands without hostile inputs: {sorted(commands - covered)}"


# ----------------------------------------------------------------------------- Ctrl-C


def test_interrupt_without_checkpoint_says_nothing_was_saved(monkeypatch):
    """#18 items 4 and 6: Ctrl-C said "finished work is saved" when nothing was."""
    import labkit.training

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(labkit.training, "train", interrupted)
    code, _, err = run_labkit(["train", *TINY])
    assert code == 130, "Ctrl-C exits with 130"
    assert "nothing was saved" in err and "--checkpoint" in err, f"says nothing was saved and how to keep work: {err}"


def test_interrupt_with_a_checkpoint_names_it(monkeypatch, tmp_path):
    """#18 item 6: Ctrl-C names the checkpoint that holds the finished epochs, or says none was written."""
    import labkit.training

    ckpt = tmp_path / "run.pt"

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(labkit.training, "train", interrupted)
    _, _, err = run_labkit(["train", *TINY, "--checkpoint", str(ckpt)])
    assert f"{ckpt} was not written" in err, f"no epoch finished: the checkpoint was not written: {err}"
    ckpt.write_bytes(b"")
    _, _, err = run_labkit(["train", *TINY, "--checkpoint", str(ckpt)])
    assert f"are in {ckpt}" in err and "resume" in err, f"names the checkpoint to resume from: {err}"


def test_interrupted_deploy_says_its_results_were_not_written(monkeypatch):
    """#18 item 4: Ctrl-C during `labkit deploy` said "finished work is saved" when nothing was."""
    import labkit.loihi.deploy

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(labkit.loihi.deploy, "run", interrupted)
    code, _, err = run_labkit(["deploy", "--no-lava", "--images", "5"])
    assert code == 130 and "none was written" in err, f"says that no result was written: {err}"
    assert "saved" not in err, "never claims that work was saved"


def test_output_path_check_creates_nothing(tmp_path):
    """Checking an output path before the work writes nothing there."""
    target = tmp_path / "new" / "deeper" / "ckpt.pt"
    cli.check_output_path(target, "--checkpoint", "file")
    assert not (tmp_path / "new").exists(), "no folder is created by the check"
    assert list(tmp_path.iterdir()) == [], "no temporary file is left behind"


# ----------------------------------------------------------------------------- start-up


def test_help_and_usage_errors_import_no_command_module():
    """`labkit --help`, `labkit train --help` and a mistyped command answer before torch, nbformat or any
    contributed command's module is imported (a fresh interpreter: this one has them loaded already)."""
    heavy = ["torch", "nbformat", "optuna", *(module for module, _ in cli.COMMANDS.values())]
    script = ("import sys, contextlib, io\nfrom labkit import cli\n"
              "for argv in (['--help'], ['train', '--help'], ['bogus']):\n"
              "    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
              "        assert cli.main(argv) in (0, 2)\n"
              f"print(sorted(m for m in {heavy!r} if m in sys.modules))\n")
    env = {**os.environ, "PYTHONPATH": str(Path(cli.__file__).parents[1])}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]", f"imported for help alone: {done.stdout.strip()}"


def test_a_contributed_command_loads_its_own_module_only():
    parser = cli.build_parser(load=["tune"])
    choices = parser._subparsers._group_actions[0].choices  # noqa: SLF001 (argparse has no public API)
    assert set(cli.COMMANDS) <= set(choices), "every command is listed"
    assert choices["tune"].get_default("func") is not None, "the chosen command has its options and handler"
    assert choices["reproduce"].get_default("func") is None, "the others only their one-line help"


def test_train_writes_its_history_with_the_measured_dose(tmp_path):
    """`labkit train --history FILE` keeps, per epoch, the dose ρ and cosine of each STDP layer."""
    path = tmp_path / "history.json"
    code, out, err = run_labkit(["train", "--rule", "sum", *TINY, "--history", str(path)])
    assert code == 0, err
    record = json.loads(path.read_text())
    stats = record["rule_stats"][0]
    assert {"dose0", "dose1", "cos0", "cos1"} <= set(stats) and stats["dose0"] > 0
    assert record["config"]["reading"] == "mean" and "STDP dose" in out


def test_reproduce_without_out_never_writes_into_results_that_exist(tmp_path, monkeypatch):
    """A run not told where to write goes to a new trial folder when results/ already holds files."""
    import labkit.experiments.command as command

    monkeypatch.chdir(tmp_path)
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "report.md").write_text("committed")
    seen = {}
    monkeypatch.setattr(command, "reproduce", lambda *a, **k: seen.update(k) or tmp_path / "r.md")
    code, out, err = run_labkit(["reproduce", "--quick"])
    assert code == 0, err
    assert seen["out"].startswith("results-trial-") and "results-trial-" in out
    assert (tmp_path / "results" / "report.md").read_text() == "committed"
