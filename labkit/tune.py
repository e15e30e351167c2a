r"""Tuning η1, η2 (and κ) of the hybrid rule with Optuna.

A study samples the STDP learning rate η1, the Adam learning rate η2 and, for ``adaptive``,
the coefficient step κ, each **log-uniformly** (a learning rate is a scale: 10⁻⁴ → 10⁻³ is as
large a step as 10⁻³ → 10⁻²), with the tree-structured Parzen estimator (Bergstra, Bardenet,
Bengio and Kégl, NeurIPS 2011) and maximises

.. math::  \text{objective}(\eta_1, \eta_2, \kappa) = \text{accuracy on the validation digits}

Validation digits: the **last 20 % of every class of the training split**, in the files' own
order (`split_validation`); the network trains on the other 80 %. The test split is never seen
while tuning: it is used once, by `finalize`, to report the best parameters' test accuracy over
three seeds (tuning on the test set would make that number optimistic). Every trial uses the same
training seed (network initialisation, batch order, rate-code spikes), so trials differ only in
their parameters.

Poor trials stop early: after each epoch but the last, the validation accuracy is reported to the
study, and a trial in the worst quarter of the earlier trials at the same epoch is stopped (Optuna's
``PercentilePruner`` at the 25th percentile, after 5 unpruned start-up trials; the median pruner
stopped three trials in four here, leaving too few complete ones for the contour and importance
plots). A run that diverges counts as pruned.

Several processes or machines can run one study together: they share it through any SQLAlchemy
database URL (default: an SQLite file ``results/tune/<study>.db``; for several machines a
PostgreSQL server). Each worker runs the same command, e.g.::

    labkit tune --trials 60 --storage postgresql+psycopg2://user:password@dbhost/labkit

and ``--trials`` is the number of finished trials the *study* should reach, not per worker.
Workers send a heartbeat; a trial whose worker stopped sending it (killed, machine lost) is
marked failed by the next worker that starts a trial and re-queued once with the same parameters
(Optuna's ``RetryHeartbeatStaleTrialCallback``). Ctrl-C marks the current trial failed and leaves the
study as it was.

Akiba, Sano, Yanase, Ohta and Koyama, "Optuna: a next-generation hyperparameter optimization
framework", KDD 2019.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import torch

from .foundation import paper
from .foundation.io import write_text

__all__ = [
    "DEFAULT_PARAMS",
    "SearchSpace",
    "TuneConfig",
    "add_arguments",
    "default_storage",
    "fail_orphaned_trials",
    "finalize",
    "open_study",
    "optimize",
    "run",
    "save_plots",
    "split_validation",
    "study_summary",
    "tuning_data",
]

#: The paper's learning rates and the lab's default κ: the reference `finalize` compares with.
DEFAULT_PARAMS = {"eta1": paper.ETA1, "eta2": paper.ETA2, "kappa": 0.05}  # κ: HybridParams' default
_DATASETS = {"mnist-mini": "bundled", "mnist": "full"}
_FINISHED = ("COMPLETE", "PRUNED")


def _check_range(name: str, bounds, upper: float = math.inf) -> tuple[float, float]:
    try:
        lo, hi = (float(b) for b in bounds)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be two numbers LO HI, got {bounds!r}") from exc
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo < hi <= upper):
        limit = f" <= {upper:g}" if math.isfinite(upper) else ""
        raise ValueError(
            f"{name} must satisfy 0 < LO < HI{limit} (log-uniform sampling needs positive bounds), got {lo!r} {hi!r}"
        )
    return lo, hi


@dataclass(frozen=True)
class SearchSpace:
    """Log-uniform search ranges ``(low, high)``; each must satisfy 0 < low < high (κ ≤ 1)."""

    eta1_range: tuple[float, float] = (1e-4, 1e-1)
    eta2_range: tuple[float, float] = (1e-4, 1e-2)
    kappa_range: tuple[float, float] = (1e-3, 0.5)

    def __post_init__(self) -> None:
        object.__setattr__(self, "eta1_range", _check_range("eta1_range (η1)", self.eta1_range))
        object.__setattr__(self, "eta2_range", _check_range("eta2_range (η2)", self.eta2_range))
        object.__setattr__(self, "kappa_range", _check_range("kappa_range (κ)", self.kappa_range, upper=1.0))


@dataclass(frozen=True)
class TuneConfig:
    """What every trial of a study trains; all workers of one study must agree on it.

    Attributes:
        rule: ``"sum"`` (tunes η1, η2) or ``"adaptive"`` (also κ).
        dataset: ``"mnist-mini"`` (the bundled 6,000 training digits) or ``"mnist"`` (full, 60,000).
        epochs: epochs per trial (≥ 1); pruning decisions happen after each.
        hidden: hidden LIF neurons (≥ 1); 784-hidden-10.
        train_limit: use only the first ``train_limit`` training digits (≥ 20), or all.
        seed: training seed shared by every trial (weights, batch order, spikes).
        val_fraction: share of each class held out for validation, in (0, 0.5].
        num_steps: T, time steps per sample.
    """

    rule: Literal["sum", "adaptive"] = "adaptive"
    dataset: Literal["mnist-mini", "mnist"] = "mnist-mini"
    epochs: int = 2
    hidden: int = 100
    train_limit: int | None = None
    seed: int = 0
    val_fraction: float = 0.2
    num_steps: int = 25

    def __post_init__(self) -> None:
        if self.rule not in ("sum", "adaptive"):
            raise ValueError(f"rule must be 'sum' or 'adaptive' (the rules with both η1 and η2), got {self.rule!r}")
        if self.dataset not in _DATASETS:
            raise ValueError(f"dataset must be one of {sorted(_DATASETS)}, got {self.dataset!r}")
        for name in ("epochs", "hidden", "num_steps"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if self.train_limit is not None and (not isinstance(self.train_limit, int) or self.train_limit < 20):
            raise ValueError(f"train_limit must be an integer >= 20 or None, got {self.train_limit!r}")
        if not (isinstance(self.val_fraction, (int, float)) and 0 < self.val_fraction <= 0.5):
            raise ValueError(f"val_fraction must be in (0, 0.5], got {self.val_fraction!r}")


# ----------------------------------------------------------------------------- data


def split_validation(labels: torch.Tensor, fraction: float = 0.2) -> tuple[torch.Tensor, torch.Tensor]:
    """Class-stratified hold-out: the last ``ceil(fraction · n_k)`` examples of each class k.

    "Last" is in the data's own order, so the split is deterministic and needs no random numbers;
    every class keeps the same share in both parts. Returns sorted index tensors
    ``(train_index, validation_index)`` that partition ``range(len(labels))``.
    """
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be in (0, 1), got {fraction!r}")
    labels = torch.as_tensor(labels).reshape(-1)
    held = []
    for k in torch.unique(labels):
        index = torch.nonzero(labels == k).flatten()
        held.append(index[len(index) - math.ceil(fraction * len(index)):])
    mask = torch.zeros(len(labels), dtype=torch.bool)
    if held:
        mask[torch.cat(held)] = True
    return torch.nonzero(~mask).flatten(), torch.nonzero(mask).flatten()


def tuning_data(config: TuneConfig):
    """The training split as a `labkit.training.Data` whose *test* part is the validation digits."""
    from .data import load_mnist
    from .training import Data

    x, y = load_mnist("train", source=_DATASETS[config.dataset], limit=config.train_limit)
    fit, val = split_validation(y, config.val_fraction)
    return Data(x[fit], y[fit], x[val], y[val], name=f"{config.dataset}-train-minus-validation")


# ----------------------------------------------------------------------------- study


def default_storage(study_name: str, out: str | Path = "results/tune") -> str:
    """``sqlite:///<out>/<study>.db`` (the folder is created)."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(folder / f'{study_name}.db').as_posix()}"


def _retry(action, attempts: int = 6):
    """Run ``action()``; retry on database errors (two workers creating the same tables at once)."""
    from sqlalchemy.exc import SQLAlchemyError

    for attempt in range(attempts):
        try:
            return action()
        except SQLAlchemyError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.2 + random.random() * (attempt + 1))  # noqa: S311 (jitter, not a simulation)


def _storage(url: str, heartbeat: int):
    import optuna
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    try:  # a URL SQLAlchemy cannot parse, or a dialect/driver that is not installed: say so, do not retry
        make_url(url).get_dialect()
    except (ArgumentError, ImportError) as exc:
        raise ValueError(
            f"--storage {url!r} is not a database URL this environment can open ({type(exc).__name__}: {exc}); "
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
                f"--storage {url!r} needs a database driver that is not installed ({exc}); install it "
                "(e.g. `pip install psycopg2-binary` for postgresql) or use a sqlite:/// URL"
            ) from None
        except SQLAlchemyError as exc:
            raise ValueError(
                f"cannot open the study database --storage {url!r} "
                f"({type(exc).__name__}: {str(exc).splitlines()[0]}); "
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
    rdb = _storage(url, heartbeat)
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
            f"study {study_name!r} in {url} was created with other settings ({'; '.join(different)}). "
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

    from .models import SpikingMLP
    from .training import TrainingDiverged, train

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

    if not isinstance(trials, int) or trials < 0:
        raise ValueError(f"trials must be an integer >= 0, got {trials!r}")
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


# ----------------------------------------------------------------------------- results


def study_summary(study) -> dict:
    """Counts by state and the best trial (``None`` before the first completed trial)."""
    counts: dict[str, int] = {}
    for t in study.get_trials(deepcopy=False):
        counts[t.state.name.lower()] = counts.get(t.state.name.lower(), 0) + 1
    try:
        best = study.best_trial
    except ValueError:
        best = None
    return {
        "study": study.study_name,
        "trials": counts,
        "best_trial": None if best is None else best.number,
        "best_validation_accuracy": None if best is None else best.value,
        "params": None if best is None else dict(best.params),
    }


def _test_runs(config: TuneConfig, params: dict, seeds, device: str) -> dict:
    from .data import mnist_data
    from .models import SpikingMLP
    from .training import train

    source = _DATASETS[config.dataset]
    data = mnist_data(source, train_limit=config.train_limit)
    accuracy = []
    for seed in seeds:
        model = SpikingMLP((784, config.hidden, 10), seed=seed)
        history = train(model, config.rule, data, config.epochs, seed=seed, device=device,
                        num_steps=config.num_steps, progress=False, eval_train=False, **params)
        accuracy.append(history.test_acc[-1])
    t = torch.tensor(accuracy, dtype=torch.float64)
    return {"params": params, "seeds": list(seeds), "test_accuracy": accuracy, "mean": t.mean().item(),
            "std": t.std().item() if len(t) > 1 else 0.0}


def finalize(
    study,
    config: TuneConfig,
    *,
    seeds=(0, 1, 2),
    out: str | Path = "results/tune",
    device: str = "auto",
    compare_default: bool = True,
) -> dict:
    """Retrain the best parameters on the whole training split (training + validation digits) once per
    seed, measure the **test** accuracy, and write ``<out>/best.json``.

    With ``compare_default`` the paper's η1 = 0.01, η2 = 0.001 (κ = 0.05) are trained on the same
    seeds, so the gain of tuning is read against the seed-to-seed spread.
    """
    summary = study_summary(study)
    if summary["params"] is None:
        raise ValueError(f"study {study.study_name!r} has no completed trial yet: run some trials first")
    names = ("eta1", "eta2", "kappa") if config.rule == "adaptive" else ("eta1", "eta2")
    n_train = len(tuning_data(config).train_x)
    result = {
        **summary,
        "config": asdict(config),
        "validation": f"last {config.val_fraction:.0%} of each class of the training split; trained on the other "
                      f"{n_train:,} digits",
        "test": _test_runs(config, summary["params"], seeds, device),
    }
    if compare_default:
        result["default"] = _test_runs(config, {k: DEFAULT_PARAMS[k] for k in names}, seeds, device)
    write_text(Path(out) / "best.json", json.dumps(result, indent=1) + "\n")
    return result


def _importance_evaluator():
    """fANOVA (Hutter, Hoos and Leyton-Brown, ICML 2014) needs scikit-learn; PED-ANOVA
    (Watanabe, Bansal and Hutter, IJCAI 2023) needs nothing beyond Optuna."""
    import optuna

    try:
        import sklearn  # noqa: F401
    except ImportError:
        return optuna.importance.PedAnovaImportanceEvaluator(), "PED-ANOVA"
    return optuna.importance.FanovaImportanceEvaluator(seed=0), "fANOVA"


def save_plots(study, out: str | Path = "results/tune") -> list[Path]:
    """Optimisation history, η1 × η2 contour and parameter importances as PNG files in ``out``."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import optuna
    from optuna.visualization import matplotlib as ovm

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    completed = [t for t in study.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.COMPLETE]
    if len(completed) < 2:
        raise ValueError("plots need at least 2 completed trials")
    evaluator, evaluator_name = _importance_evaluator()
    saved = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        for name, draw, title in (
            ("history", lambda: ovm.plot_optimization_history(study, target_name="validation accuracy"),
             "validation accuracy per trial"),
            ("contour_eta1_eta2", lambda: ovm.plot_contour(study, params=["eta1", "eta2"],
                                                         target_name="validation accuracy"),
             "validation accuracy over η1 × η2"),
            ("importances", lambda: ovm.plot_param_importances(study, evaluator=evaluator,
                                                               target_name="validation accuracy"),
             f"parameter importances ({evaluator_name})"),
        ):
            ax = draw()
            ax = ax.flat[0] if hasattr(ax, "flat") else ax
            for loc in ("left", "center", "right"):  # replace Optuna's own title
                ax.set_title("", loc=loc)
            ax.set_title(title)
            if name == "contour_eta1_eta2":
                ax.set_xlabel("η1 (STDP learning rate)")
                ax.set_ylabel("η2 (Adam learning rate)")
            fig = ax.figure
            fig.set_size_inches(6.4, 4.2)
            path = folder / f"{name}.png"
            fig.savefig(path, dpi=100, bbox_inches="tight")
            plt.close(fig)
            saved.append(path)
    return saved


# ----------------------------------------------------------------------------- command line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    space = SearchSpace()
    parser.epilog = (
        "Several workers, one study: run the same command on each machine with a shared database, e.g. "
        "`labkit tune --trials 200 --storage postgresql+psycopg2://USER:PASSWORD@DBHOST/labkit`; "
        "--trials counts the study's finished trials over all workers."
    )
    parser.add_argument("--trials", type=int, default=30,
                        help="finished trials the study should reach, counted over all workers (default 30)")
    parser.add_argument("--storage", default=None,
                        help="SQLAlchemy URL of the study database (default sqlite:///OUT/STUDY.db); "
                             "several workers share one study through e.g. postgresql+psycopg2://user:pw@host/db")
    parser.add_argument("--rule", default="adaptive", choices=["sum", "adaptive"])
    parser.add_argument("--dataset", default="mnist-mini", choices=sorted(_DATASETS))
    parser.add_argument("--epochs", type=int, default=2, help="epochs per trial (default 2)")
    parser.add_argument("--hidden", type=int, default=100, help="hidden LIF neurons (default 100)")
    parser.add_argument("--train-limit", type=int, default=None, help="use only the first n training digits")
    parser.add_argument("--study", default=None, help="study name (default RULE-DATASET)")
    parser.add_argument("--seed", type=int, default=0, help="training seed shared by all trials (default 0)")
    parser.add_argument("--sampler-seed", type=int, default=None,
                        help="seed of the TPE sampler (default: random, so parallel workers propose different points)")
    parser.add_argument("--eta1-range", nargs=2, type=float, default=space.eta1_range, metavar=("LO", "HI"))
    parser.add_argument("--eta2-range", nargs=2, type=float, default=space.eta2_range, metavar=("LO", "HI"))
    parser.add_argument("--kappa-range", nargs=2, type=float, default=space.kappa_range, metavar=("LO", "HI"))
    parser.add_argument("--heartbeat", type=int, default=10,
                        help="seconds between a worker's heartbeats; a trial silent for twice as long is failed "
                             "and retried (default 10)")
    parser.add_argument("--out", default="results/tune", help="folder for the SQLite file, best.json and plots")
    parser.add_argument("--plots", action="store_true", help="save history, contour and importance plots as PNG")
    parser.add_argument("--finalize", action="store_true",
                        help="retrain the best parameters over 3 seeds and write their test accuracy to best.json")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--quiet", action="store_true", help="no line per trial")


def run(args: argparse.Namespace) -> int:
    import optuna

    # Everything is checked before the database is touched or a trial starts.
    space = SearchSpace(tuple(args.eta1_range), tuple(args.eta2_range), tuple(args.kappa_range))
    config = TuneConfig(rule=args.rule, dataset=args.dataset, epochs=args.epochs, hidden=args.hidden,
                        train_limit=args.train_limit, seed=args.seed)
    if args.trials < 0:
        raise ValueError(f"--trials must be >= 0, got {args.trials}")
    optuna.logging.set_verbosity(optuna.logging.WARNING if args.quiet else optuna.logging.INFO)
    try:
        study = optimize(config, space, args.trials, storage=args.storage, study_name=args.study, out=args.out,
                         heartbeat=args.heartbeat, sampler_seed=args.sampler_seed, device=args.device)
    except KeyboardInterrupt:
        print("labkit tune: interrupted; the running trial is marked failed, the study is intact "
              "(run the same command to continue)", file=sys.stderr)
        return 130
    summary = study_summary(study)
    print(f"study {summary['study']}: {summary['trials']}")
    if summary["params"] is not None:
        params = ", ".join(f"{k} = {v:.3g}" for k, v in summary["params"].items())
        print(f"best trial {summary['best_trial']}: validation accuracy {summary['best_validation_accuracy']:.4f} "
              f"({params})")
    if args.plots:
        for path in save_plots(study, args.out):
            print(f"saved {path}")
    if args.finalize:
        result = finalize(study, config, out=args.out, device=args.device)
        t = result["test"]
        print(f"best parameters, test accuracy over seeds {t['seeds']}: {t['mean']:.4f} ± {t['std']:.4f}")
        if "default" in result:
            d = result["default"]
            print(f"default parameters (η1 = 0.01, η2 = 0.001), same seeds: {d['mean']:.4f} ± {d['std']:.4f}")
        print(f"wrote {Path(args.out) / 'best.json'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m labkit.tune …``: the same as ``labkit tune …`` with fewer imports (a quicker worker start)."""
    parser = argparse.ArgumentParser(prog="python -m labkit.tune", description="sweep η1, η2 (and κ) with Optuna")
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except (ValueError, FileNotFoundError) as exc:
        print(f"labkit tune: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
