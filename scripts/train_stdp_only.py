"""Train the STDP-only baseline on MNIST: an unsupervised competitive layer, then label assignment.

    nice -n 10 .venv/bin/python scripts/train_stdp_only.py --neurons 500 --epochs 1 --seed 0 \\
        --out results/mnist/runs/stdp_only_s0

Runs `labkit.training.train_competitive` (Diehl and Cook, Front. Comput. Neurosci. 9:99, 2015,
with batched presentation) on full MNIST (``--source full``, the default; ``bundled`` for the
6,000/1,000 subset) and writes into ``--out``:

* ``result.json``  test accuracy, per-class accuracy, confusion matrix, neurons per class, the
  setup (all parameters), train / label / test seconds, the wall time and the command line;
* ``model.pt``     the learned layer: ``{"weight" [N, 784], "theta" [N], "neuron_labels" [N]}``
  (a `labkit.competitive.CompetitiveLayer` state dict) plus its parameters;
* ``checkpoint.pt`` while it runs: an interrupted run started again with the same arguments
  continues where it stopped (exactly: the same images and spikes as an uninterrupted run).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import torch

from labkit.data import mnist_data
from labkit.competitive import CompetitiveParams
from labkit.training import train_competitive


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o644)  # mkstemp creates the file private; results are for everyone to read
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, default=500, help="excitatory neurons (paper: 500)")
    parser.add_argument("--epochs", type=int, default=1, help="passes over the training images")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("results/mnist/runs/stdp_only_s0"))
    parser.add_argument("--source", default="full", choices=["full", "bundled", "auto"])
    parser.add_argument("--train-limit", type=int, default=None, help="use only the first N training images")
    parser.add_argument("--num-steps", type=int, default=25, help="time steps per image (paper: 25)")
    parser.add_argument("--test-steps", type=int, default=None, help="time steps for labelling and testing")
    parser.add_argument("--batch-size", type=int, default=32, help="images presented at once")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (1 is fastest on a busy CPU)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    data = mnist_data(args.source)
    params = CompetitiveParams()
    layer, result = train_competitive(
        data, n_neurons=args.neurons, epochs=args.epochs, seed=args.seed, num_steps=args.num_steps,
        progress=not args.quiet, checkpoint=args.out / "checkpoint.pt", params=params,
        batch_size=args.batch_size, test_steps=args.test_steps, train_limit=args.train_limit,
        device=args.device, threads=args.threads,
    )
    wall = time.perf_counter() - started
    torch.save({**{k: v.cpu() for k, v in layer.state_dict().items()}, "params": asdict(params)},
               args.out / "model.pt")
    record = {
        "rule": "stdp_only",
        "dataset": data.name,
        "test_acc": result.test_acc,
        **{k: v for k, v in asdict(result).items() if k != "test_acc"},
        "wall_seconds_this_invocation": wall,
        "torch": torch.__version__,
        "threads": args.threads,
        "command": " ".join(shlex.quote(a) for a in ["python", *sys.argv]),
    }
    write_atomic(args.out / "result.json", json.dumps(record, indent=1) + "\n")
    print(f"STDP only, {args.neurons} neurons, {data.name}: test accuracy {100 * result.test_acc:.2f}% "
          f"(train {result.train_seconds:.0f} s, label {result.label_seconds:.0f} s, test {result.test_seconds:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
