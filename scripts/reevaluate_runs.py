"""Re-evaluate the committed Table I runs from the default path and compare them digit by digit.

    .venv/bin/python scripts/reevaluate_runs.py [--runs results/mnist/runs] [--conditions clean pixel_clip@0.3]

Every run folder holds its trained network (``model.pt``), the accuracies its evaluation recorded
(``eval.json``) and which test digits it got right under each condition (``digits.json``,
`labkit.experiments.digits`). This loads each network into the class a chapter builds
(`labkit.models.SpikingMLP`, `ANNBaseline`, the competitive layer), evaluates it with the run's
seed and readout, and prints the recorded and the new accuracy and how many of the 10,000 digits
changed their verdict. It reads full MNIST (data/mnist/, `labkit fetch mnist`) and writes nothing.
Exit status 1 when a run does not reproduce.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from labkit.data import mnist_data
from labkit.experiments.digits import CONDITIONS, load_correct
from labkit.experiments.noise_study import StudyRun, load_trained
from labkit.foundation.io import read_json
from labkit.training import predict_classes

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", default=str(ROOT / "results" / "mnist" / "runs"), help="folder of run folders")
    parser.add_argument("--conditions", nargs="+", default=["clean", "pixel_clip@0.3"], choices=tuple(CONDITIONS))
    args = parser.parse_args()
    data = mnist_data("full")
    rows, failed = [], 0
    for folder in sorted(Path(args.runs).iterdir()):
        if not (folder / "eval.json").is_file() or not (folder / "digits.json").is_file():
            continue
        result = read_json(folder / "eval.json", what="run result")
        if result["rule"] == "stdp_only":
            continue  # the competitive layer has its own evaluation (labkit.competitive), not this path
        readout = result.get("readout", "count")
        run = StudyRun(result["rule"], int(result["seed"]), folder, readout)
        model = load_trained(run)
        read = readout if readout in ("count", "count_membrane", "membrane") else "count_membrane"
        for name in args.conditions:
            recorded = load_correct(folder.parent, folder.name, name)
            if recorded is None:
                continue
            protocol, sigma = CONDITIONS[name]
            hits = (predict_classes(model, data.test_x, noise_sigma=sigma, noise=protocol, seed=run.seed,
                                    device="cpu", readout=read) == data.test_y).numpy()
            changed = int((hits != recorded).sum())
            failed += changed > 0
            rows.append(f"| {folder.name} | {name} | {100 * recorded.mean():.2f} | {100 * hits.mean():.2f} | {changed} |")
            print(rows[-1], flush=True)
    print(f"\n{len(rows)} evaluations; {failed} with a digit whose verdict changed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
