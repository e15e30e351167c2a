"""``labkit reproduce``: run what is missing, then write the summary, tables, figures and report."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from .. import data as data_module
from ..data import mnist_data
from ..data.record import Data
from ..foundation.errors import LabkitError
from ..foundation.paths import trial_folder
from ..foundation.validation import check_int
from .claims import DEFAULT_EPOCHS, RUN_ORDER
from .report import write_report
from .runs import RunSpec, STDP_ONLY_EPOCHS, check_run_folders, run_one

__all__ = ["add_arguments", "reproduce", "run"]


def _load_data(dataset: str, quick: bool) -> Data:

    if dataset == "mnist":
        if quick:
            return mnist_data("bundled", train_limit=2000, test_limit=500)
        return mnist_data("full")

    if dataset == "nmnist-sim":
        n_train, n_test = (1000, 300) if quick else (10_000, 2_000)
        return data_module.nmnist_sim_data(n_train, n_test, seed=0)
    if quick:  # at most 2,000 / 500 recordings, evenly spaced over the classes
        return data_module.load_nmnist_data(2000, 500)
    return data_module.load_nmnist_data()


def reproduce(
    dataset: str = "mnist",
    *,
    quick: bool = False,
    seeds: int | None = None,
    epochs: int | None = None,
    rules: tuple[str, ...] | None = None,
    device: str = "auto",
    out: str | os.PathLike = "results",
    report_only: bool = False,
    progress: bool = True,
) -> Path:
    """Run every missing experiment of ``dataset`` and write its report; returns report.md's path.

    ``quick``: bundled subset (2,000 train / 500 test), 1 epoch, 1 seed, written under
    ``<out>/<dataset>-quick/`` so it never mixes with full runs. The STDP-only layer always
    makes `STDP_ONLY_EPOCHS` passes (it needs no labels and is cheap per image). ``seeds``: 3 by
    default (1 with ``quick``, which takes no other number). ``rules`` None: all of them; an empty
    selection is an error. Every option is checked, against the others too, before any work starts.
    """
    _check_options(dataset, quick=quick, seeds=seeds, epochs=epochs, rules=rules, out=out, report_only=report_only)
    rules = tuple(rules) if rules is not None else RUN_ORDER
    seeds = seeds if seeds is not None else (1 if quick else 3)
    if quick:
        seeds, epochs = 1, epochs or 1
    epochs = epochs or DEFAULT_EPOCHS[dataset]
    label = f"{dataset}-quick" if quick else dataset
    out_root = Path(out)
    command = "labkit " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[0].endswith("labkit") else None
    if not report_only:
        data = _load_data(dataset, quick)
        if data.encoder.temporal and "stdp_only" in rules:
            rules = tuple(r for r in rules if r != "stdp_only")  # the competitive layer is for static images
        from tqdm.auto import tqdm

        todo = [RunSpec(label, rule, seed, STDP_ONLY_EPOCHS if rule == "stdp_only" else epochs)
                for seed in range(seeds) for rule in rules]
        for spec in tqdm(todo, desc=f"reproduce {label}", disable=not progress):
            run_one(spec, data, out_root, device=device, progress=progress)
    runs_dir = out_root / label / "runs"
    finished = check_run_folders(runs_dir)  # every eval.json and history.json readable, before the report is written
    if report_only and not finished:
        raise LabkitError(f"--report-only: no finished run under {runs_dir}, so there is nothing to report: check "
                          f"--out (the folder that holds {label}/runs/), or run without --report-only")
    return write_report(out_root, label, command=command)


def _check_options(dataset: str, *, quick: bool, seeds, epochs, rules, out, report_only: bool) -> None:
    """The options alone and together, before any work: `LabkitError` naming the option and what to pass."""
    if dataset not in DEFAULT_EPOCHS:
        raise LabkitError(f"--dataset must be {', '.join(repr(d) for d in DEFAULT_EPOCHS)}, got {dataset!r}")
    if seeds is not None:
        check_int("--seeds", seeds, 1)
        if quick and seeds != 1:
            raise LabkitError(f"--quick runs one seed, but --seeds {seeds} asks for {seeds}: drop --quick to run "
                              f"{seeds} seeds of the full experiment, or drop --seeds")
    if epochs is not None:
        check_int("--epochs", epochs, 1)
    if rules is not None:
        rules = tuple(rules)
        if not rules or any(not isinstance(r, str) or not r.strip() for r in rules):
            raise LabkitError(f"--rules is empty or has an empty entry ({','.join(map(str, rules))!r}): pass a "
                              f"comma-separated subset of {','.join(RUN_ORDER)}, or leave --rules out for all")
        unknown = sorted(set(rules) - set(RUN_ORDER))
        if unknown:
            raise LabkitError(f"unknown runs {unknown}: choose from {', '.join(RUN_ORDER)}")
    if str(out).strip() == "":
        raise LabkitError("--out is empty: pass the results folder, e.g. --out results")
    if report_only and not Path(out).is_dir():
        raise LabkitError(f"--report-only reads finished runs from --out {out}, which does not exist: check the "
                          "folder name (default: results)")


def add_arguments(parser) -> None:
    parser.add_argument("--quick", action="store_true", help="bundled subset, 1 epoch, 1 seed (a few minutes)")
    parser.add_argument("--dataset", default="mnist", choices=["mnist", "nmnist-sim", "nmnist"])
    parser.add_argument("--seeds", type=int, default=None, help="number of seeds (default 3; --quick: 1)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs per run (default: 15 for MNIST)")
    parser.add_argument("--rules", default=None, help=f"comma-separated subset of {','.join(RUN_ORDER)}")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", default=None,
                        help="results folder; without it the runs and report go to results/ while that is empty, "
                             "else to a new results-trial-<UTC time>/ (results already there are never written over "
                             "unless you name the folder, e.g. --out results)")
    parser.add_argument("--report-only", action="store_true", help="only rewrite the report from finished runs")


def run(args) -> int:
    rules = tuple(args.rules.split(",")) if args.rules is not None else None
    out = args.out
    if out is None:
        if args.report_only:
            raise LabkitError("--report-only rewrites the report inside the results folder: name it, e.g. "
                              "--out results (a committed report is rewritten only when you say so)")
        _check_options(args.dataset, quick=args.quick, seeds=args.seeds, epochs=args.epochs, rules=rules,
                       out="results", report_only=False)
        out = str(trial_folder("results"))
        print(f"no --out given: runs and report go to {out}/ (pass --out results to add to the committed results)")
    report = reproduce(args.dataset, quick=args.quick, seeds=args.seeds, epochs=args.epochs, rules=rules,
                       device=args.device, out=out, report_only=args.report_only)
    print(f"report written: {report}")
    return 0
