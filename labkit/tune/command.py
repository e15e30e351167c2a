"""``labkit tune`` (and ``python -m labkit.tune``): the command line of a tuning worker."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..foundation.paths import trial_folder
from ..foundation.secrets import hide_secrets
from ..foundation.seeds import check_seed
from ..foundation.validation import check_int
from .config import DATASETS, SearchSpace, TuneConfig
from .results import finalize, save_plots, study_summary
from .study import optimize

__all__ = ["DEFAULT_OUT", "add_arguments", "main", "run"]

#: Where a study goes when --out is not given, while that folder holds nothing (`trial_folder`).
DEFAULT_OUT = "results/tune"


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
    parser.add_argument("--dataset", default="mnist-mini", choices=sorted(DATASETS))
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
    parser.add_argument("--out", default=None,
                        help="folder for the SQLite file, best.json and plots (default results/tune while it holds "
                             "nothing; else a new folder results/tune-trial-DATE, so earlier studies stay as they are)")
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
    check_seed(args.seed, "--seed")
    if args.sampler_seed is not None:  # numpy's generator behind TPE takes 32 bits
        check_int("--sampler-seed", args.sampler_seed, 0, maximum=2**32 - 1)
    if args.out is None:  # never into a folder that holds earlier results (the committed study, above all)
        args.out = str(trial_folder(DEFAULT_OUT)) if args.storage is None or args.plots or args.finalize else DEFAULT_OUT
        if args.out != DEFAULT_OUT and not args.quiet:
            print(f"labkit tune: {DEFAULT_OUT} holds earlier results, so this study goes to {args.out} "
                  f"(pass --out {DEFAULT_OUT} to join the study there)", file=sys.stderr)
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
        print(f"labkit tune: error: {hide_secrets(str(exc), args.storage)}", file=sys.stderr)
        return 2
