"""How fast the saccade simulator turns MNIST digits into events (simulated N-MNIST).

    .venv/bin/python benchmarks/bench_saccades.py [--digits 10000] [--repeats 3] [--frames]

Times `labkit.data.simulate_saccades` on ``--digits`` MNIST digits (the full test set when
``data/mnist/`` is there, else the bundled subset, repeated as needed): three saccades per
digit, 32 scene samples per saccade, the default camera (C = 0.5, 5% threshold mismatch, no
noise). The simulator is NumPy arithmetic over all pixels of a chunk of digits at once and
runs on one core. Each repeat is timed separately; the best and the median are reported,
with the events produced. The lab's target is under 60 s for 10,000 digits.

``--frames`` also times `labkit.data.nmnist_sim_data` without its cache (simulation plus
binning into 25 binary frames and bit-packing), which is what a first call costs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings

import numpy as np

from labkit import data

TARGET_SECONDS_PER_10K = 60.0


def load_digits(count: int) -> tuple[np.ndarray, str]:
    """``count`` MNIST digits as uint8 ``[count, 28, 28]`` and a description of where they came from."""
    if data.mnist_available():
        images, _ = data.load_mnist("test", source="full", dtype="uint8")
        source = "full MNIST test set"
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            train, _ = data.load_mnist("train", source="bundled", dtype="uint8")
            test, _ = data.load_mnist("test", source="bundled", dtype="uint8")
        images = np.concatenate([train.numpy(), test.numpy()])
        source = "bundled subset (7,000 digits)"
    images = np.asarray(images)
    if count > len(images):
        images = np.resize(images, (count, *images.shape[1:]))  # repeats the digits in order
        source += f", repeated to {count}"
    return images[:count], source


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits", type=int, default=10_000, help="digits per repeat (default 10,000)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats (default 3)")
    parser.add_argument("--frames", action="store_true", help="also time nmnist_sim_data without cache")
    args = parser.parse_args()
    if args.digits < 1 or args.repeats < 1:
        parser.error("--digits and --repeats must be >= 1")

    images, source = load_digits(args.digits)
    print(f"simulate_saccades on {args.digits:,} digits ({source}), default SaccadeParams, one core")
    seconds, events = [], 0
    for r in range(args.repeats):
        started = time.perf_counter()
        out = data.simulate_saccades(images, rng=np.random.default_rng(r))
        seconds.append(time.perf_counter() - started)
        events = sum(len(e) for e in out)
        del out
        print(f"  repeat {r + 1}: {seconds[-1]:6.1f} s  ({args.digits / seconds[-1]:,.0f} digits/s, "
              f"{events / args.digits:,.0f} events per digit)")
    best, median = min(seconds), statistics.median(seconds)
    per_10k = best * 10_000 / args.digits
    verdict = "met" if per_10k < TARGET_SECONDS_PER_10K else "MISSED"
    print(f"best {best:.1f} s, median {median:.1f} s  →  {per_10k:.1f} s per 10,000 digits "
          f"(target < {TARGET_SECONDS_PER_10K:.0f} s: {verdict})")

    if args.frames:
        n_test = min(args.digits, 10_000 if data.mnist_available() else 1_000)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the bundled-subset notice, when full MNIST is absent
            started = time.perf_counter()
            d = data.nmnist_sim_data(0, n_test, num_bins=25, seed=0, cache=False)
            took = time.perf_counter() - started
        del d
        print(f"nmnist_sim_data(0, {n_test:,}, num_bins=25) without cache: {took:.1f} s "
              f"({n_test / took:,.0f} digits/s: MNIST loading, simulation, binning, bit-packing)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
