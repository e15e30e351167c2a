"""``labkit reproduce``: run what is missing, then write the summary, tables, figures and report."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from .. import data as data_module
from ..data import mnist_data
from ..data.record import Data
from .claims import DEFAULT_EPOCHS, RUN_ORDER
from .report import write_report
from .runs import RunSpec, STDP_ONLY_EPOCHS, run_one

__all__ = ["add_arguments", "reproduce", "run"]


def _load_data(dataset: str, quick: bool) -> Data:

    if dataset == "mnist":
        if quick:
            return mnist_data("bundled", train_limit=2000, test_limit=500)
        return mnist_data("full")

    if dataset == "nmnist-sim":
        n_train, n_test = (1000, 300) if quick else (10_000, 2_000)
        return data_module.nmnist_sim_data(n_train, n_test, seed=0)
    return data_module.load_nmnist_data()


def reproduce(
    dataset: str = "mnist",
    *,
    quick: bool = False,
    seeds: int = 3,
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
    makes `STDP_ONLY_EPOCHS` passes (it needs no labels and is cheap per image).
    """
    if seeds < 1:
        raise ValueError(f"--seeds must be >= 1, got {seeds}")
    if epochs is not None and epochs < 1:
        raise ValueError(f"--epochs must be >= 1, got {epochs}")
    rules = tuple(rules) if rules else RUN_ORDER
    unknown = set(rules) - set(RUN_ORDER)
    if unknown:
        raise ValueError(f"unknown runs {sorted(unknown)}: choose from {', '.join(RUN_ORDER)}")
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
    return write_report(out_root, label, command=command)


def add_arguments(parser) -> None:
    parser.add_argument("--quick", action="store_true", help="bundled subset, 1 epoch, 1 seed (a few minutes)")
    parser.add_argument("--dataset", default="mnist", choices=["mnist", "nmnist-sim", "nmnist"])
    parser.add_argument("--seeds", type=int, default=3, help="number of seeds (default 3)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs per run (default: 15 for MNIST)")
    parser.add_argument("--rules", default=None, help=f"comma-separated subset of {','.join(RUN_ORDER)}")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", default="results", help="results folder (default: results/)")
    parser.add_argument("--report-only", action="store_true", help="only rewrite the report from finished runs")


def run(args) -> int:
    report = reproduce(
        args.dataset, quick=args.quick, seeds=args.seeds, epochs=args.epochs,
        rules=tuple(args.rules.split(",")) if args.rules else None, device=args.device, out=args.out,
        report_only=args.report_only,
    )
    print(f"report written: {report}")
    return 0
