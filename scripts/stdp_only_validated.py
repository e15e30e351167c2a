"""STDP-only baseline: choose its settings on held-out training digits, test once, size curve.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python scripts/stdp_only_validated.py --stage all
    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python scripts/stdp_only_validated.py --stage select
    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python scripts/stdp_only_validated.py --stage final
    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python scripts/stdp_only_validated.py --stage sizes

Stages (labkit.stdp_baseline): ``select`` scores the 25 settings of GRID on the validation digits
(500 neurons, one pass each; ``--theta-plus`` and ``--threshold`` compare fewer); ``final`` trains the chosen one on the whole training split
(STDP_ONLY_EPOCHS passes) and scores the test set once, as results/mnist/runs/stdp_only_s0;
``sizes`` runs 100, 400 and 1,600 neurons with the chosen setting (one pass each). Everything
is resumable: finished pieces are JSON files under results/mnist/stdp_only_validated/ and are
reused, a killed training continues from its checkpoint. ``all`` runs the three in order and
writes summary.md there.
"""

import argparse
import warnings
from pathlib import Path

from labkit import stdp_baseline as sb
from labkit.foundation.io import read_json


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", choices=["select", "final", "sizes", "all"], default="all")
    parser.add_argument("--out", type=Path, default=Path("results"), help="results folder (default: results/)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--source", default="full", choices=["full", "bundled"],
                        help="full MNIST (default) or the bundled subset (a quick check)")
    parser.add_argument("--select-neurons", type=int, default=500)
    parser.add_argument("--theta-plus", type=float, nargs="+", default=list(sb.GRID["theta_plus"]),
                        help="threshold steps θ₊ to compare (default: the 5 of labkit.stdp_baseline.GRID)")
    parser.add_argument("--threshold", type=float, nargs="+", default=list(sb.GRID["threshold"]),
                        help="base thresholds ϑ to compare (default: the 5 of GRID)")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(sb.SIZES))
    parser.add_argument("--size-epochs", type=int, default=1, help="passes of each size-curve run")
    parser.add_argument("--progress", action="store_true")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
    from labkit.data import mnist_data

    data = mnist_data(args.source)
    study = args.out / "mnist" / "stdp_only_validated"
    selected_path = study / "selected.json"
    if args.stage in ("select", "all"):
        grid = {"theta_plus": tuple(args.theta_plus), "threshold": tuple(args.threshold)}
        selected = sb.select(data, study, n_neurons=args.select_neurons, seed=args.seed, grid=grid,
                             progress=args.progress)
        print(f"chosen on the validation digits: θ₊ = {selected['theta_plus']:g}, ϑ = {selected['threshold']:g} "
              f"({100 * selected['validation_acc']:.2f}%)", flush=True)
    if not selected_path.is_file():
        parser.error(f"{selected_path} is missing: run --stage select first")
    selected = read_json(selected_path, what="selection")
    final_result = None
    if args.stage in ("final", "all"):
        final_result = sb.final(data, args.out, selected, seed=args.seed, progress=args.progress)
        print(f"test accuracy (scored once): {100 * final_result['test_acc']:.2f}%", flush=True)
    elif (args.out / "mnist" / "runs" / f"stdp_only_s{args.seed}" / "eval.json").is_file():
        result = read_json(args.out / "mnist" / "runs" / f"stdp_only_s{args.seed}" / "eval.json", what="run")
        final_result = result if result.get("selection") else None
    rows = []
    if args.stage in ("sizes", "all"):
        rows = sb.size_curve(data, study, selected, sizes=args.sizes, epochs=args.size_epochs, seed=args.seed,
                             progress=args.progress)
        for row in rows:
            print(f"{row['n_neurons']} neurons, {row['epochs']} pass(es): {100 * row['test_acc']:.2f}%", flush=True)
    print(f"written: {sb.write_summary(study, selected, rows, final_result)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
