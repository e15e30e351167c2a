"""A tuning study: opened on shared storage, trials run and pruned, orphaned trials failed and re-queued."""

from __future__ import annotations

import random
import re
import time
import warnings
from dataclasses import asdict
from pathlib import Path

from ..foundation.secrets import hide_password, hide_secrets
from ..foundation.validation import check_int
from ..models import SpikingMLP
from ..training import TrainingDiverged, train
from .config import SearchSpace, TuneConfig, tuning_data

__all__ = ["default_storage", "fail_orphaned_trials", "open_storage", "open_study", "optimize"]


_FINISHED = ("COMPLETE", "PRUNED")


def default_storage(study_name: str, out: str | Path = "results/tune") -> str:
    """``sqlite:///<out>/<study>.db`` (the folder is created)."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(folder / f'{study_name}.db').as_posix()}"


#: What a database error says when trying again cannot help: the server refused the login, is not there, or the
#: file cannot be opened. Retrying a wrong password would only knock on the server six times.
_PERMANENT = re.compile(
    r"authentication|password|access denied|permission denied|not authorized|role .* does not exist|"
    r"database .* does not exist|connection refused|could not connect|could not translate host|"
    r"name or service not known|no route to host|network is unreachable|unable to open database file|"
    r"timeout expired|server closed the connection unexpectedly|ssl",
    re.IGNORECASE,
)


def _is_permanent(exc: BaseException) -> bool:
    """True for a database error that trying again cannot mend (login refused, no server, no file)."""
    from sqlalchemy.exc import ArgumentError, OperationalError

    if isinstance(exc, ArgumentError):
        return True
    return isinstance(exc, OperationalError) and _PERMANENT.search(str(exc)) is not None


def _retry(action, attempts: int = 6):
    """Run ``action()``; retry on database errors (two workers creating the same tables at once), never on
    one that trying again cannot mend (`_is_permanent`: a refused login or connection)."""
    from sqlalchemy.exc import SQLAlchemyError

    for attempt in range(attempts):
        try:
            return action()
        except SQLAlchemyError as exc:
            if attempt == attempts - 1 or _is_permanent(exc):
                raise
            time.sleep(0.2 + random.random() * (attempt + 1))  # noqa: S311 (jitter, not a simulation)


def open_storage(url: str, heartbeat: int):
    """Optuna's database storage at ``url``, with heartbeats that fail and re-queue a killed worker's trial."""
    import optuna
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    try:  # a URL SQLAlchemy cannot parse, or a dialect/driver that is not installed: say so, do not retry
        make_url(url).get_dialect()
    except (ArgumentError, ImportError) as exc:
        raise ValueError(
            f"--storage {hide_password(url)!r} is not a database URL this environment can open "
            f"({type(exc).__name__}: {hide_secrets(exc, url)}); "
            "pass e.g. sqlite:///results/tune/study.db, or postgresql+psycopg2://USER:PASSWORD@HOST/DB with "
            "the driver installed"
        ) from None
    engine_kwargs = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {"pool_pre_ping": True}
    # Optuna >= 4.9 names the re-queueing callback RetryHeartbeatStaleTrialCallback; older versions
    # (the project allows >= 3.5) call it RetryFailedTrialCallback, passed as failed_trial_callback.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if hasattr(optuna.storages, "RetryHeartbeatStaleTrialCallback"):
            retry = {"heartbeat_stale_trial_callback": optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=1)}
        else:
            retry = {"failed_trial_callback": optuna.storages.RetryFailedTrialCallback(max_retry=1)}
        try:
            return _retry(lambda: optuna.storages.RDBStorage(
                url, engine_kwargs=engine_kwargs, heartbeat_interval=heartbeat, grace_period=2 * heartbeat, **retry
            ))
        except ImportError as exc:
            raise ValueError(
                f"--storage {hide_password(url)!r} needs a database driver that is not installed "
                f"({hide_secrets(exc, url)}); install it "
                "(e.g. `pip install psycopg2-binary` for postgresql) or use a sqlite:/// URL"
            ) from None
        except RuntimeError as exc:  # Optuna: the tables were written by another Optuna version
            if "upgrad" not in str(exc) and "version" not in str(exc):
                raise
            raise ValueError(
                f"the study database --storage {hide_password(url)!r} was written by another Optuna version "
                f"({hide_secrets((str(exc).splitlines() or [''])[0], url)}); upgrade its tables with "
                f"`optuna storage upgrade --storage URL` (back the database up first), or pass another --storage"
            ) from None
        except SQLAlchemyError as exc:
            first_line = (str(exc).splitlines() or [""])[0]
            raise ValueError(
                f"cannot open the study database --storage {hide_password(url)!r} "
                f"({type(exc).__name__}: {hide_secrets(first_line, url)}); "
                "check that the server is running and the URL, user and password are right"
            ) from None


def _study_config(config: TuneConfig, space: SearchSpace) -> dict:
    d = asdict(config)
    d.update({k: list(v) for k, v in asdict(space).items() if config.rule == "adaptive" or k != "kappa_range"})
    return d


def open_study(
    config: TuneConfig,
    space: SearchSpace,
    *,
    storage: str | None = None,
    study_name: str | None = None,
    out: str | Path = "results/tune",
    heartbeat: int = 10,
    sampler_seed: int | None = None,
):
    """Create the study or join it. `ValueError` if it exists with another config or search space
    (its trials' accuracies would not be comparable with the new ones)."""
    import optuna

    if not isinstance(heartbeat, int) or heartbeat < 1:
        raise ValueError(f"heartbeat must be an integer number of seconds >= 1, got {heartbeat!r}")
    study_name = study_name or f"{config.rule}-{config.dataset}"
    url = storage or default_storage(study_name, out)
    rdb = open_storage(url, heartbeat)
    study = _retry(lambda: optuna.create_study(
        storage=rdb,
        study_name=study_name,
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=sampler_seed),
        pruner=optuna.pruners.PercentilePruner(25.0, n_startup_trials=5, n_warmup_steps=0),
        load_if_exists=True,
    ))
    # One attribute holding the whole config, so that a worker joining at the same moment sees all or none.
    wanted = _study_config(config, space)
    saved = study.user_attrs.get("labkit_config")
    if saved is None:
        _retry(lambda: study.set_user_attr("labkit_config", wanted))
        saved = wanted
    different = [f"{k}: study {saved.get(k)!r}, now {v!r}" for k, v in wanted.items() if saved.get(k) != v]
    if different:
        raise ValueError(
            f"study {study_name!r} in {hide_password(url)} was created with other settings ({'; '.join(different)}). "
            "Join it with the same settings, or pass --study NAME to start a new study."
        )
    return study


def fail_orphaned_trials(study, older_than: float) -> list[int]:
    """Fail (and re-queue once) RUNNING trials that never recorded a heartbeat and started more than
    ``older_than`` seconds ago; return their numbers.

    Optuna's own check only sees trials with a heartbeat record. A worker killed between starting a
    trial and its first heartbeat (a window of milliseconds, longer while SQLite is locked by another
    worker) would otherwise leave a trial RUNNING for ever. A live trial records its first heartbeat
    as soon as it can write to the database, so ``older_than`` must exceed the database's lock
    timeout (60 s here): `optimize` uses 2 heartbeats + 60 s.
    """
    import datetime

    import optuna
    import sqlalchemy

    storage = study._storage
    backend = getattr(storage, "_backend", storage)  # Optuna wraps an RDBStorage in a cache
    if not isinstance(backend, optuna.storages.RDBStorage):
        return []
    with backend.engine.connect() as connection:
        beating = {row[0] for row in connection.execute(sqlalchemy.text("SELECT trial_id FROM trial_heartbeats"))}
    now = datetime.datetime.now()
    orphans = [t for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
               if t._trial_id not in beating and t.datetime_start is not None
               and (now - t.datetime_start).total_seconds() > older_than]
    failed = []
    for t in orphans:
        if storage.set_trial_state_values(t._trial_id, optuna.trial.TrialState.FAIL):
            failed.append(t.number)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=1)(study, study._storage.get_trial(t._trial_id))
    return failed


def _finished(study) -> int:
    import optuna

    states = tuple(getattr(optuna.trial.TrialState, s) for s in _FINISHED)
    return len(study.get_trials(deepcopy=False, states=states))


def _objective(config: TuneConfig, space: SearchSpace, data, device: str):
    import optuna


    def objective(trial: optuna.Trial) -> float:
        params = {
            "eta1": trial.suggest_float("eta1", *space.eta1_range, log=True),
            "eta2": trial.suggest_float("eta2", *space.eta2_range, log=True),
        }
        if config.rule == "adaptive":
            params["kappa"] = trial.suggest_float("kappa", *space.kappa_range, log=True)

        def report(event: dict):
            if event["kind"] != "epoch":
                return None
            trial.report(event["history"].test_acc[-1], event["epoch"])
            if event["epoch"] + 1 < config.epochs and trial.should_prune():
                raise optuna.TrialPruned(f"validation accuracy {event['history'].test_acc[-1]:.4f} "
                                         f"in the worst quarter after epoch {event['epoch'] + 1}")
            return None

        model = SpikingMLP((784, config.hidden, 10), seed=config.seed)
        try:
            history = train(model, config.rule, data, config.epochs, seed=config.seed, device=device,
                            num_steps=config.num_steps, callback=report, progress=False, eval_train=False, **params)
        except TrainingDiverged as exc:
            trial.set_user_attr("diverged", str(exc))
            raise optuna.TrialPruned(f"diverged: {exc}") from exc
        trial.set_user_attr("val_acc", history.test_acc)
        return history.test_acc[-1]

    return objective


def optimize(
    config: TuneConfig,
    space: SearchSpace,
    trials: int,
    *,
    storage: str | None = None,
    study_name: str | None = None,
    out: str | Path = "results/tune",
    heartbeat: int = 10,
    sampler_seed: int | None = None,
    device: str = "auto",
):
    """Run trials until the study has ``trials`` finished (complete or pruned) trials in all; return it.

    Workers sharing the storage stop together once the total is reached (one trial per worker may
    overshoot it). Ctrl-C: the running trial is marked failed, `KeyboardInterrupt` propagates.
    """
    import optuna

    check_int("trials", trials, 0)
    study = open_study(config, space, storage=storage, study_name=study_name, out=out, heartbeat=heartbeat,
                       sampler_seed=sampler_seed)
    try:
        _retry(lambda: fail_orphaned_trials(study, older_than=2 * heartbeat + 60))
    except Exception as exc:  # noqa: BLE001 (tidying only: Optuna's heartbeat still handles the usual case)
        warnings.warn(f"could not check for orphaned trials ({exc}); continuing", RuntimeWarning, stacklevel=2)
    remaining = trials - _finished(study)
    if remaining <= 0:
        return study
    data = tuning_data(config)

    def stop_when_done(study: optuna.Study, _trial) -> None:
        if _finished(study) >= trials:
            study.stop()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # heartbeat, retry callback
        study.optimize(_objective(config, space, data, device), n_trials=remaining, callbacks=[stop_when_done],
                       gc_after_trial=False)
    return study
