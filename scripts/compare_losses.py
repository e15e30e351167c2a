"""Which loss keeps the output layer spiking? Short bp runs on full MNIST, one per loss.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python scripts/compare_losses.py --epochs 2
    OMP_NUM_THREADS=1 .venv/bin/python scripts/compare_losses.py --losses count rate --rule adaptive --epochs 1

For every loss of `labkit.readout.LOSSES` (or those named) it trains the paper's 784-500-10
network from the same seed and prints, after every epoch, the test accuracy of every readout,
the fraction of test digits with no output spike (silent) and with a tied top spike count, and
whether the loss meets the lab's bar for the paper's runs: under 5% silent digits and a
spike-count-only accuracy within 0.3 points of the best readout. The table is also written as
JSON (``--out``) so the numbers quoted elsewhere come from a file.
"""

import argparse
import json
import time
import warnings
from pathlib import Path

import torch

from labkit.data import mnist_data
from labkit.models import SpikingMLP
from labkit.readout import LOSSES, READOUTS
from labkit.training import evaluate_readouts, train

SILENT_LIMIT, GAP_LIMIT = 0.05, 0.3  # the bar: fraction of silent test digits; points behind the best readout


def measure(loss: str, rule: str, epochs: int, seed: int, data) -> list[dict]:
    """Train with ``loss`` and return one row per epoch (readouts measured on ``data``'s test set)."""
    rows = []

    def after_epoch(event):
        if event["kind"] != "epoch":
            return None
        summary = evaluate_readouts(model, data.test_x, data.test_y, seed=seed, device="cpu")
        acc = {r: 100 * a for r, a in summary["accuracy"].items()}
        gap = max(acc.values()) - acc["count"]
        row = {"loss": loss, "rule": rule, "epoch": event["epoch"] + 1, **{f"acc_{r}": acc[r] for r in READOUTS},
               "silent_%": 100 * summary["silent_fraction"], "tied_%": 100 * summary["tie_fraction"],
               "count_gap_points": gap, "seconds": time.perf_counter() - started,
               "meets_bar": summary["silent_fraction"] < SILENT_LIMIT and gap <= GAP_LIMIT}
        rows.append(row)
        print(" ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()), flush=True)
        return None

    model = SpikingMLP(seed=seed)
    started = time.perf_counter()
    no_test = data._replace(test_x=data.test_x[:0], test_y=data.test_y[:0])  # after_epoch measures the test set
    train(model, rule, no_test, epochs, seed=seed, loss=loss, device="cpu", progress=False, eval_train=False,
          callback=after_epoch)
    return rows


if __name__ == "__main__":
    warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--losses", nargs="+", default=list(LOSSES), choices=list(LOSSES))
    parser.add_argument("--rule", default="bp")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="write the rows as JSON here")
    args = parser.parse_args()
    print(f"torch threads: {torch.get_num_threads()}", flush=True)
    data = mnist_data("full")
    rows = []
    for loss in args.losses:
        rows += measure(loss, args.rule, args.epochs, args.seed, data)
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1))
