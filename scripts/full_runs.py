"""The full-MNIST runs behind results/mnist/: ten seeds of bp, sum, A-STDP and the ANN.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python scripts/full_runs.py --shard 1/2 &
    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python scripts/full_runs.py --shard 2/2 &
    OMP_NUM_THREADS=1 .venv/bin/python scripts/full_runs.py --only adaptive:2 sum:1   # a subset
    .venv/bin/python scripts/full_runs.py --list --shard 1/2                            # what would run

Two single-threaded processes with the two shards (or disjoint ``--only`` lists) side by side
suit a 2-core machine: measured here, each trains a bp epoch in 21 s and a hybrid epoch in 24 s
when the machine is otherwise quiet, against 14 s for one two-threaded process.

Each entry is (rule, seed, epochs); every spiking run trains with the loss
`labkit.readout.DEFAULT_LOSS` (``rate``: cross-entropy of the output spikes at each step, averaged
over T; chosen with scripts/compare_losses.py) and reads its accuracy by spike counts alone. The shards split
the plan by its expected cost (a hybrid epoch about 1.15 bp epochs, an ANN epoch about 0.1), in
plan order, so the two processes finish the same seeds at about the same time and a report
written midway compares paired seeds.

Runs are resumable (labkit.experiments.run_one): a killed process continues each run from its
checkpoint, and finished runs are reused, so rerunning the same command continues where it
stopped. A run folder holding a run trained with another loss (the earlier membrane-loss runs)
is replaced. A finished run keeps eval.json, history.json and model.pt; its checkpoint is deleted.
Afterwards `labkit reproduce --report-only --out results` rewrites results/mnist/report.md.
"""

import argparse
import warnings
from pathlib import Path

from labkit.experiments import STDP_ONLY_EPOCHS, RunSpec, prune_finished, run_one

EPOCHS = 15
SEEDS = range(10)
PLAN = [(rule, seed, EPOCHS) for seed in SEEDS for rule in ("bp", "adaptive", "sum", "ann")] + [
    ("stdp", 0, 3),  # the ablation "disable backprop" (η2 = 0)
    ("stdp_only", 0, STDP_ONLY_EPOCHS),
]
#: Expected cost of one epoch relative to a bp epoch (measured here: bp 21 s, hybrids 24 s, ANN about 2 s).
COST = {"bp": 1.0, "sum": 1.15, "adaptive": 1.15, "stdp": 1.15, "ann": 0.1, "stdp_only": 1.0}


def shard(plan: list, index: int, count: int) -> list:
    """Entries of shard ``index`` (1-based) of ``count``: each entry goes, in plan order, to the shard with the
    least expected work so far (ties to the lowest shard); the shards are disjoint and cover the plan."""
    load = [0.0] * count
    mine = []
    for entry in plan:
        k = min(range(count), key=lambda i: (load[i], i))
        load[k] += COST[entry[0]] * entry[2]
        if k == index - 1:
            mine.append(entry)
    return mine


def _parse_shard(text: str) -> tuple[int, int]:
    try:
        index, count = (int(p) for p in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--shard takes i/n, e.g. 1/2; got {text!r}") from None
    if not 1 <= index <= count:
        raise argparse.ArgumentTypeError(f"--shard i/n needs 1 <= i <= n; got {text!r}")
    return index, count


if __name__ == "__main__":
    warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", metavar="RULE:SEED", help="run only these entries of the plan")
    parser.add_argument("--shard", type=_parse_shard, metavar="I/N", help="run shard I of N of the plan (1-based)")
    parser.add_argument("--list", action="store_true", help="print the entries that would run, and stop")
    parser.add_argument("--out", type=Path, default=Path("results"), help="results folder (default: results/)")
    args = parser.parse_args()
    plan = PLAN
    if args.only:
        wanted = set(args.only)
        known = {f"{rule}:{seed}" for rule, seed, _ in PLAN}
        unknown = sorted(wanted - known)
        if unknown:
            parser.error(f"not in the plan: {', '.join(unknown)} (choose from {', '.join(sorted(known))})")
        plan = [entry for entry in plan if f"{entry[0]}:{entry[1]}" in wanted]
    if args.shard:
        plan = shard(plan, *args.shard)
    if args.list:
        print("\n".join(f"{rule}:{seed} ({epochs} epochs)" for rule, seed, epochs in plan))
        raise SystemExit(0)
    from labkit.data import mnist_data

    for folder in sorted((args.out / "mnist" / "runs").glob("*")):
        prune_finished(folder)  # checkpoints of runs finished before this rule existed
    data = mnist_data("full")
    for rule, seed, epochs in plan:
        result = run_one(RunSpec("mnist", rule, seed, epochs), data, args.out, progress=False, stale="replace")
        readout = result.get("readout", "spike-count readout")
        silent = result.get("silent_fraction")
        silent = "" if silent is None else f", {100 * silent:.1f}% silent test digits"
        print(f"{rule} seed {seed}, {epochs} epochs: test accuracy {result['test_acc']:.4f} ({readout}){silent}",
              flush=True)
