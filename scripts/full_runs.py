"""The full-MNIST runs behind results/mnist/.

    OMP_NUM_THREADS=1 .venv/bin/python scripts/full_runs.py
    OMP_NUM_THREADS=1 .venv/bin/python scripts/full_runs.py --only adaptive:2 sum:1   # a subset

On a 2-core machine two single-threaded processes with disjoint `--only` lists get through the
plan about 1.3 times as fast as one process with two threads (measured here: each process trains
a bp epoch in 21 s, a hybrid epoch in 24 s; one two-threaded process a bp epoch in 14 s).

Each entry is (rule, seed, epochs). Runs are resumable and finished ones are reused
(labkit.experiments.run_one), so rerunning this script continues where it stopped; an entry
with more epochs than a finished run of the same rule and seed extends it from its committed
checkpoint.
Afterwards `labkit reproduce --report-only` rewrites results/mnist/report.md. `make reproduce`
runs the complete plan (all rules, 3 seeds, 15 epochs) in one process: about an hour on a
2-core laptop CPU.
"""

import argparse
import warnings
from pathlib import Path

from labkit.data import mnist_data
from labkit.experiments import STDP_ONLY_EPOCHS, RunSpec, run_one

PLAN = [
    # one thread each on a quiet 2-core machine: bp about 5 min, the hybrids about 7, stdp_only 6
    ("ann", 0, 15),
    ("stdp_only", 0, STDP_ONLY_EPOCHS),
    ("bp", 0, 15),
    ("adaptive", 0, 15),
    ("sum", 0, 15),
    ("stdp", 0, 3),
    # the two further seeds the paper's comparison needs
    ("bp", 1, 15),
    ("adaptive", 1, 15),
    ("bp", 2, 15),
    ("adaptive", 2, 15),
    ("sum", 1, 15),
    ("sum", 2, 15),
]

if __name__ == "__main__":
    warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", metavar="RULE:SEED", help="run only these entries of the plan")
    args = parser.parse_args()
    plan = PLAN
    if args.only:
        wanted = set(args.only)
        known = {f"{rule}:{seed}" for rule, seed, _ in PLAN}
        unknown = sorted(wanted - known)
        if unknown:
            parser.error(f"not in the plan: {', '.join(unknown)} (choose from {', '.join(sorted(known))})")
        plan = [entry for entry in PLAN if f"{entry[0]}:{entry[1]}" in wanted]
    data = mnist_data("full")
    for rule, seed, epochs in plan:
        result = run_one(RunSpec("mnist", rule, seed, epochs), data, Path("results"), progress=False)
        print(f"{rule} seed {seed}, {epochs} epochs: test accuracy {result['test_acc']:.4f}", flush=True)
