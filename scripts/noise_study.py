"""Test accuracy of every finished MNIST run under each noise protocol of labkit.noise.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python scripts/noise_study.py            # all runs, resumable
    .venv/bin/python scripts/noise_study.py --list                                   # what would run
    .venv/bin/python scripts/noise_study.py --only bp:0 ann:0 --protocols current    # a subset

For each finished run results/mnist/runs/<rule>_s<seed>/ (bp, sum, adaptive, ann, stdp_only) it
writes results/mnist/noise_protocols/<rule>_s<seed>.json: the accuracy under every protocol at
σ ∈ {0, 0.1, 0.2, 0.3, 0.5}, σ = 0.3 on all 10,000 test digits and the other levels on the first
--subset digits (labkit.experiments.noise_study). Pieces are written as they finish: rerunning
the command continues where it stopped. One thread; σ = 0.3 first for every run. Afterwards
`labkit reproduce --report-only --out results` writes the noise-protocol section of results/mnist/report.md.
"""

import argparse
import shlex
import sys
import warnings
from pathlib import Path

import torch
from tqdm import tqdm

from labkit.data import mnist_data
from labkit.experiments import code_version
from labkit.experiments.noise_study import (FULL_SIGMA, STUDY_SIGMAS, finished_runs, load_trained, measure,
                                            read_piece, record_piece, study_pieces)
from labkit.data.files import sha256_of as sha256_file
from labkit.foundation.io import read_json
from labkit.foundation.paths import REPO_ROOT
from labkit.noise import NOISE_PROTOCOLS


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=Path, default=REPO_ROOT / "results" / "mnist" / "runs")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "results" / "mnist" / "noise_protocols")
    parser.add_argument("--subset", type=int, default=1000, help="test digits for σ other than 0.3 (default 1000)")
    parser.add_argument("--protocols", nargs="+", default=list(NOISE_PROTOCOLS), choices=list(NOISE_PROTOCOLS))
    parser.add_argument("--sigmas", nargs="+", type=float, default=list(STUDY_SIGMAS))
    parser.add_argument("--only", nargs="+", metavar="RULE:SEED", help="only these runs, e.g. bp:0 ann:1")
    parser.add_argument("--list", action="store_true", help="print the pieces still to measure and stop")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    runs = finished_runs(args.runs)
    if args.only:
        wanted = set(args.only)
        runs = [r for r in runs if f"{r.rule}:{r.seed}" in wanted]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the data loader's note on where MNIST came from
        data = mnist_data("auto", train_limit=1)
    records = {}
    for run in runs:
        path = args.out / f"{run.name}.json"
        digest = sha256_file(run.folder / "model.pt")
        record = read_json(path, what="noise study") if path.is_file() else None
        if record is not None and record.get("model_sha256", digest) != digest:
            record = None  # the run folder holds another model now (a rerun): measure it afresh
        records[run.name] = record or {
            "rule": run.rule, "seed": run.seed, "readout": run.readout, "run": str(run.folder.relative_to(REPO_ROOT))
            if run.folder.is_relative_to(REPO_ROOT) else str(run.folder), "full_sigma": FULL_SIGMA,
            "subset": args.subset, "protocols": {}}
    todo = []
    for run, protocol, sigma in study_pieces(runs, args.protocols, args.sigmas):
        n = len(data.test_x) if sigma == FULL_SIGMA else min(args.subset, len(data.test_x))
        if read_piece(records[run.name], protocol, sigma, n) is None:
            todo.append((run, protocol, sigma, n))
    if args.list:
        for run, protocol, sigma, n in todo:
            print(f"{run.name:14s} {protocol:15s} σ = {sigma:g} on {n} digits")
        print(f"{len(todo)} pieces to measure")
        return
    command = " ".join(shlex.quote(a) for a in ["scripts/noise_study.py", *sys.argv[1:]])
    models = {}
    for run, protocol, sigma, n in tqdm(todo, desc="noise protocols", unit="piece"):
        if run.name not in models:
            models[run.name] = load_trained(run)
        accuracy = measure(models[run.name], run, data.test_x[:n], data.test_y[:n], protocol, sigma)
        record = records[run.name]
        record.update(command=command, code=code_version(), model_sha256=sha256_file(run.folder / "model.pt"))
        if protocol == "pixel_clip" and sigma == FULL_SIGMA:
            recorded = read_json(run.folder / "eval.json", what="run result")["noise_acc"].get(f"{sigma:g}")
            # the same digits right as the run's own evaluation (less than one digit apart)
            record["pixel_clip_equals_eval_json"] = recorded is not None and abs(recorded - accuracy) < 0.5 / n
        record_piece(args.out / f"{run.name}.json", record, protocol, sigma, n, accuracy)


if __name__ == "__main__":
    main()
