"""How fast the saccade simulator turns MNIST digits into events (simulated N-MNIST).

    .venv/bin/python benchmarks/bench_saccades.py [--digits 10000] [--repeats 3] [--frames]
    OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python benchmarks/bench_saccades.py --build-cache [60000,10000]
    OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python benchmarks/bench_saccades.py --train-epoch [5000]
    OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python benchmarks/bench_saccades.py --read-nmnist [300]

Times `labkit.data.simulate_saccades` on ``--digits`` MNIST digits (the full test set when
``data/mnist/`` is there, else the bundled subset, repeated as needed): three saccades per
digit, 32 scene samples per saccade, the default camera (C = 0.5, 5% threshold mismatch, no
noise). The simulator is NumPy arithmetic over all pixels of a chunk of digits at once and
runs on one core. Each repeat is timed separately; the best and the median are reported,
with the events produced. The lab's target is under 60 s for 10,000 digits.

``--frames`` also times `labkit.data.nmnist_sim_data` without its cache (simulation plus
binning into 25 binary frames and bit-packing), which is what a first call costs.

``--build-cache N_TRAIN,N_TEST`` builds (or verifies) the cache of simulated N-MNIST that
training reads (`labkit.data.nmnist_sim.nmnist_sim_frames`, T = 25, seed 0, full MNIST),
60,000 + 10,000 digits by default, and reports the build time and the bytes on disk; a second
call only reloads and verifies it, and says how long that took.

``--train-epoch N`` times one training epoch on the first N cached simulated digits (one thread,
batch 128, T = 25, 1,000 test digits, no pass over the training set for its accuracy; the test pass
timed on its own): the
2312-500-10 network with bp and adaptive, feed-forward and with the recurrent hidden layer, and
the ANN (2312-500-10 ReLU on the frames' time average). CPU seconds (process time) are
reported beside wall time, as the machine may be shared; each is extrapolated to 60,000 digits.

``--read-nmnist N`` writes N simulated recordings in N-MNIST's file format and tonic's layout to a
temporary folder and times `labkit.data.load_nmnist` on them without its cache, with and without
tonic's Denoise: what converting the real recordings costs once.
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


def build_cache(n_train: int, n_test: int) -> int:
    """Build (or reload and verify) the simulated N-MNIST cache of both splits; print time and size."""
    from labkit.data.nmnist_sim import nmnist_sim_frames

    source = "full" if data.mnist_available() else "bundled"
    total_s, total_bytes = 0.0, 0
    for split, count in (("train", n_train), ("test", n_test)):
        started = time.perf_counter()
        packed = nmnist_sim_frames(split, count, 25, seed=0, source=source, progress=True)
        took = time.perf_counter() - started
        size = packed.path.stat().st_size if packed.path else 0
        total_s, total_bytes = total_s + took, total_bytes + size
        print(f"{split}: {count:,} digits ({source} MNIST) in {took:.1f} s, {packed.path} "
              f"{size / 1e6:.1f} MB ({size / max(count, 1):,.0f} bytes per digit)")
    print(f"total: {total_s:.1f} s, {total_bytes / 1e6:.1f} MB on disk (a second run only reloads and verifies)")
    return 0


def train_epoch(count: int) -> int:
    """One epoch of each network on ``count`` simulated digits; print seconds, digits/s and the extrapolation."""
    import torch

    from labkit.models import ANNBaseline, SpikingMLP
    from labkit.training import evaluate, train

    torch.set_num_threads(1)
    source = "full" if data.mnist_available() else "bundled"
    started = time.perf_counter()
    d = data.nmnist_sim_data(count, 1000, 25, seed=0, source=source)
    print(f"simulated N-MNIST: {count:,} train / 1,000 test digits ({source} MNIST) loaded from the cache in "
          f"{time.perf_counter() - started:.1f} s; one thread, batch 128, T = 25, one epoch each")
    sizes = (2 * 34 * 34, 500, 10)
    nets = [("bp", "feed-forward"), ("adaptive", "feed-forward"), ("bp", "recurrent"), ("adaptive", "recurrent"),
            ("ann", "feed-forward")]
    for rule, kind in nets:
        model = ANNBaseline(sizes, seed=0) if rule == "ann" else SpikingMLP(sizes, recurrent=kind == "recurrent", seed=0)
        cpu = time.process_time()
        history = train(model, "bp" if rule == "ann" else rule, d, 1, seed=0, progress=False, eval_train=False)
        cpu = time.process_time() - cpu
        started, test_cpu = time.perf_counter(), time.process_time()
        evaluate(model, d.test_x, d.test_y, encoder=d.encoder, seed=0)
        test_s, test_cpu = time.perf_counter() - started, time.process_time() - test_cpu
        # the loop's epoch time includes one test pass; that pass does not grow with the training digits
        epoch, cpu = history.epoch_time[0] - test_s, cpu - test_cpu
        full = cpu * 60_000 / count + test_cpu * 10
        print(f"  {rule:8s} {kind:12s}: training {epoch:5.1f} s wall, {cpu:5.1f} s CPU ({count / cpu:,.0f} digits per "
              f"CPU-s); test pass on 1,000 {test_cpu:4.1f} s CPU -> {full / 60:4.1f} CPU-min per epoch of 60,000 "
              f"(+ 10,000 test); test accuracy after 1 epoch {history.test_acc[0]:.3f}")
    return 0


def read_nmnist(count: int) -> int:
    """Time `load_nmnist` on ``count`` recordings written in N-MNIST's format (simulated events)."""
    import tempfile
    from pathlib import Path

    images = load_digits(count)[0]
    events = data.simulate_saccades(images, rng=np.random.default_rng(0))
    with tempfile.TemporaryDirectory() as tmp:
        for i, e in enumerate(events):
            data.write_nmnist_file(Path(tmp) / "nmnist" / "NMNIST" / "Test" / str(i % 10) / f"{i:05d}.bin", e)
        for denoise in (True, False):
            started, cpu = time.perf_counter(), time.process_time()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # far fewer recordings than N-MNIST's test split
                data.load_nmnist("test", root=tmp, denoise=denoise, cache=False, progress=False)
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
            print(f"load_nmnist on {count:,} recordings ({np.mean([len(e) for e in events]):,.0f} events each), "
                  f"denoise={denoise}: {wall:.1f} s wall, {cpu:.1f} s CPU -> {cpu / count * 70_000 / 60:.1f} CPU-min "
                  "for N-MNIST's 70,000 (once: the frames are cached)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits", type=int, default=10_000, help="digits per repeat (default 10,000)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats (default 3)")
    parser.add_argument("--frames", action="store_true", help="also time nmnist_sim_data without cache")
    parser.add_argument("--build-cache", nargs="?", const="60000,10000", default=None, metavar="N_TRAIN,N_TEST",
                        help="build the simulated N-MNIST cache (default 60000,10000) and report its cost")
    parser.add_argument("--train-epoch", nargs="?", type=int, const=5000, default=None, metavar="N",
                        help="time one epoch of each network on N simulated digits (default 5000)")
    parser.add_argument("--read-nmnist", nargs="?", type=int, const=300, default=None, metavar="N",
                        help="time reading N recordings in N-MNIST's format (default 300)")
    args = parser.parse_args()
    if args.digits < 1 or args.repeats < 1:
        parser.error("--digits and --repeats must be >= 1")
    if args.build_cache is not None:
        try:
            counts = [int(c) for c in args.build_cache.split(",")]
        except ValueError:
            counts = []
        if len(counts) != 2 or min(counts) < 0:
            parser.error(f"--build-cache takes N_TRAIN,N_TEST (two counts >= 0), got {args.build_cache!r}")
        return build_cache(*counts)
    if args.read_nmnist is not None:
        if args.read_nmnist < 1:
            parser.error("--read-nmnist takes a number of recordings >= 1")
        return read_nmnist(args.read_nmnist)
    if args.train_epoch is not None:
        if args.train_epoch < 1:
            parser.error("--train-epoch takes a number of digits >= 1")
        return train_epoch(args.train_epoch)

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
