"""Tests of labkit.tune: validation split, range checks, and studies shared by several workers
(SQLite and a real PostgreSQL server), including workers that are interrupted or killed."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import pytest
import torch

optuna = pytest.importorskip("optuna")

from labkit import tune  # noqa: E402
from labkit.cli import main  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
# Tiny trials: ~200 training digits, 20 hidden neurons, one epoch (well under a second each).
TINY = ["--train-limit", "200", "--hidden", "20", "--epochs", "1", "--quiet"]
TINY_CONFIG = tune.TuneConfig(train_limit=200, hidden=20, epochs=1)


def _worker(storage: str, trials: int, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "labkit.tune", "--trials", str(trials), "--storage", storage,
           "--study", "shared", *TINY, *extra]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait(workers, timeout: float = 120) -> list[str]:
    logs = []
    for w in workers:
        out, _ = w.communicate(timeout=timeout)
        logs.append(out)
        assert w.returncode == 0, f"a worker failed:\n{out}"
    return logs


def _check_shared_study(storage: str, trials: int, workers: int) -> None:
    study = optuna.load_study(study_name="shared", storage=storage)
    all_trials = study.get_trials(deepcopy=False)
    numbers = [t.number for t in all_trials]
    finished = [t for t in all_trials if t.state.is_finished()]
    assert len(numbers) == len(set(numbers)), f"trial numbers are unique across workers: {sorted(numbers)}"
    assert sorted(numbers) == list(range(len(numbers))), "trial numbers run 0, 1, 2, … without gaps"
    assert trials <= len(finished) <= trials + workers - 1, (
        f"the workers together stop at the study's target of {trials} (at most one extra trial per other "
        f"worker), got {len(finished)}")


# ----------------------------------------------------------------------------- validation split


def test_validation_split_is_stratified_and_disjoint():
    labels = torch.tensor([0] * 10 + [1] * 5 + [2] * 20)[torch.randperm(35, generator=torch.Generator().manual_seed(0))]
    fit, val = tune.split_validation(labels, 0.2)
    assert sorted(torch.cat([fit, val]).tolist()) == list(range(35)), "the two parts partition the data"
    assert torch.bincount(labels[val]).tolist() == [2, 1, 4], "each class gives ceil(20 %) of its examples"
    for k in range(3):
        of_k = torch.nonzero(labels == k).flatten()
        held = of_k[-len(val[labels[val] == k]):]
        assert torch.equal(val[labels[val] == k], held), f"class {k}: the held-out digits are its last ones"


def test_tuning_never_sees_the_test_split():
    data = tune.tuning_data(TINY_CONFIG)
    from labkit.data import load_mnist

    train_x, _ = load_mnist("train", source="bundled", limit=200)
    assert len(data.train_x) + len(data.test_x) == 200, "training and validation digits come from the train split"
    assert any(torch.equal(data.test_x[0], x) for x in train_x), "validation digits are training-split digits"


# ----------------------------------------------------------------------------- invalid input


@pytest.mark.parametrize("field, bounds", [("eta1_range", (0.0, 0.1)), ("eta2_range", (1e-2, 1e-3)),
                                           ("kappa_range", (0.1, 2.0)), ("eta1_range", (1e-3, float("nan")))])
def test_invalid_ranges_are_rejected(field, bounds):
    with pytest.raises(ValueError, match=field.split("_")[0]):
        tune.SearchSpace(**{field: bounds})


def test_cli_rejects_invalid_range_before_creating_a_study(tmp_path, capsys):
    code = main(["tune", "--trials", "1", "--out", str(tmp_path), "--eta2-range", "0.01", "0.001", *TINY])
    assert code == 2, "an invalid range is a usage error"
    assert "eta2_range" in capsys.readouterr().err, "the message names the bad range"
    assert not list(tmp_path.iterdir()), "no database is created for a rejected command"


def test_joining_a_study_with_other_settings_is_refused(tmp_path):
    storage = f"sqlite:///{tmp_path / 's.db'}"
    tune.open_study(TINY_CONFIG, tune.SearchSpace(), storage=storage, study_name="s")
    with pytest.raises(ValueError, match="hidden"):
        tune.open_study(tune.TuneConfig(train_limit=200, hidden=30, epochs=1), tune.SearchSpace(),
                        storage=storage, study_name="s")


# ----------------------------------------------------------------------------- shared studies


@pytest.mark.slow
def test_two_workers_share_one_sqlite_study(tmp_path):
    storage = f"sqlite:///{tmp_path / 'shared.db'}"
    _wait([_worker(storage, 6), _worker(storage, 6)])
    _check_shared_study(storage, 6, workers=2)


@pytest.mark.slow
def test_interrupted_and_killed_workers_leave_the_study_usable(tmp_path):
    storage = f"sqlite:///{tmp_path / 'shared.db'}"
    # Longer trials (2,000 digits) so that both workers are surely inside a trial when signalled.
    longer = ["--train-limit", "2000", "--heartbeat", "1"]
    interrupted, killed = _worker(storage, 4, *longer), _worker(storage, 4, *longer)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            running = optuna.load_study(study_name="shared", storage=storage).get_trials(
                deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
        except Exception:  # noqa: BLE001 (the study may not exist yet)
            running = []
        if len(running) == 2 and _heartbeats(tmp_path / "shared.db") >= {t._trial_id for t in running}:
            break
        time.sleep(0.05)
    else:
        interrupted.kill(), killed.kill()
        pytest.fail("the two workers never ran a trial at the same time")
    interrupted.send_signal(signal.SIGINT)    # Ctrl-C
    killed.kill()                              # SIGKILL: no chance to clean up
    out, _ = interrupted.communicate(timeout=60)
    killed.communicate(timeout=60)
    assert interrupted.returncode == 130, f"Ctrl-C ends the worker with status 130:\n{out}"
    assert "study is intact" in out, "Ctrl-C says the study is intact"

    study = optuna.load_study(study_name="shared", storage=storage)
    states = sorted(t.state.name for t in study.get_trials(deepcopy=False))
    assert states.count("FAIL") >= 1, f"the interrupted trial is marked failed: {states}"
    stale = [t.number for t in study.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.RUNNING]
    assert len(stale) == 1, f"the killed worker's trial is left RUNNING: {states}"

    time.sleep(2.5)  # longer than the grace period (2 heartbeats) since the killed worker's last heartbeat
    config = tune.TuneConfig(train_limit=2000, hidden=20, epochs=1)
    study = tune.optimize(config, tune.SearchSpace(), _count(study) + 1, storage=storage, study_name="shared",
                          heartbeat=1, device="cpu")
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    assert trials[stale[0]].state == optuna.trial.TrialState.FAIL, "a new worker marks the stale trial failed"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        retried = [t for t in trials.values()
                   if optuna.storages.RetryHeartbeatStaleTrialCallback.retried_trial_number(t) == stale[0]]
    assert retried and retried[0].state == optuna.trial.TrialState.COMPLETE, (
        "the killed trial is re-run with the same parameters and completes")
    killed_params = trials[stale[0]].params  # empty if the worker died before sampling them
    assert {k: retried[0].params[k] for k in killed_params} == killed_params, (
        "the retry uses the parameters the killed trial had already drawn")


def _heartbeats(path: Path) -> set[int]:
    """Trial ids that have recorded a heartbeat (Optuna's trial_heartbeats table)."""
    import sqlite3

    with sqlite3.connect(path, timeout=30) as db:
        try:
            return {row[0] for row in db.execute("SELECT trial_id FROM trial_heartbeats")}
        except sqlite3.OperationalError:
            return set()


def test_a_trial_orphaned_before_its_first_heartbeat_is_failed_and_requeued(tmp_path):
    storage = f"sqlite:///{tmp_path / 'orphan.db'}"
    study = tune.open_study(TINY_CONFIG, tune.SearchSpace(), storage=storage, study_name="o")
    with warnings.catch_warnings():  # asking by hand, outside optimize: no heartbeat is ever recorded
        warnings.simplefilter("ignore", UserWarning)
        orphan = study.ask({"eta1": optuna.distributions.FloatDistribution(1e-4, 1e-1, log=True)})
    assert tune.fail_orphaned_trials(study, older_than=3600) == [], "a young trial may still be starting up"
    assert tune.fail_orphaned_trials(study, older_than=0) == [orphan.number], "an old silent trial is failed"
    states = [t.state.name for t in study.get_trials(deepcopy=False)]
    assert states == ["FAIL", "WAITING"], f"the failed trial is queued again with its parameters: {states}"


def _count(study) -> int:
    return len([t for t in study.get_trials(deepcopy=False) if t.state.name in ("COMPLETE", "PRUNED")])


# ----------------------------------------------------------------------------- PostgreSQL


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@pytest.fixture
def postgres_url():
    """A throw-away PostgreSQL server on a free local port (as user postgres when run as root)."""
    bindir = _postgres_bin()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (no initdb under /usr/lib/postgresql/*/bin or on PATH): "
                    "the shared-study test against PostgreSQL needs it")
    pytest.importorskip("psycopg2", reason="psycopg2 (pip install psycopg2-binary) is needed to talk to PostgreSQL")
    prefix: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="labkit-pg-"))
    if os.geteuid() == 0:  # the server refuses to run as root
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run the server as")
        os.chown(folder, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = folder / "data"
    try:
        subprocess.run([*prefix, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                        "--no-sync"], check=True, capture_output=True)
        subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-w", "-l", str(folder / "log"),
                        "-o", f"-h 127.0.0.1 -p {port} -k {folder} -c fsync=off", "start"],
                       check=True, capture_output=True)
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
def test_two_workers_share_one_postgresql_study(postgres_url):
    _wait([_worker(postgres_url, 4), _worker(postgres_url, 4)])
    _check_shared_study(postgres_url, 4, workers=2)
