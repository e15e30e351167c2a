"""How fast the lab's Lava runner plays images through the paper's network, next to a bare Lava network.

    .venv/bin/python benchmarks/bench_lava.py [--images 512] [--repeats 2] [--check]

Both variants run the same 784-500-10 network (the deployed bundle results/mnist/loihi/bundle.npz
where present, else random weights) on the same rate-coded inputs (Bernoulli, p = 0.12, about
MNIST's mean pixel), T = 25 steps per image, in Lava's ``floating_pt`` and ``fixed_pt`` models:

* ``bare``     the smallest Lava program that runs the network: Lava's ``RingBuffer`` source →
  Dense → LIF → Dense → LIF → ``RingBuffer`` sink of the output spikes, one run of
  N·T + 3 steps, the sink read back at the end. No resets between images, no per-image readout.
* ``runner``   `labkit.loihi.lava.run_bundle`, what ``labkit deploy`` runs: LIFReset layers that
  start every image from rest, the packed-spike source, one recorder that keeps every layer's
  spike trains per image (as bit masks) and writes them to a file at the end, progress reports
  along the way.

(Copies of the network side by side in one Lava network and several networks in forked workers
were measured here before; they left the lab with issue #33: chapter 8 and ``labkit deploy`` run
one network.)

Each variant is timed end to end (building, compiling, running, reading back, stopping), in
interleaved rounds (bare, runner, …, bare, runner, …) so that a change in machine load hits all
alike; medians are printed as simulated steps per second and images per second, with the ratio
of images per second to bare's. ``running`` is the rate between the first and the last progress
report, without the start (building, compiling, starting Lava's processes: seconds, which a run
of 10,000 images amortises). Lava runs every process of a network as an operating-system
process and synchronises them at every step, so the rate depends on free cores far more than on
the arithmetic: the load average before and after is printed beside the results. Targets: the
runner ≥ 30 images/s per mode end to end (the 10,000 test digits in under 6 minutes) and
runner / bare ≥ 0.8.

Lava 0.10 needs Python 3.10: when ``import lava`` fails here, the script re-runs itself in the
Lava sidecar interpreter (``.venv-lava``, or ``$LABKIT_LAVA_PYTHON``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from labkit.loihi.bundle import Bundle, LayerBundle, load_bundle  # noqa: E402
from labkit.loihi.sidecar import lava_available, sidecar_python  # noqa: E402

STEPS, SIZES = 25, (784, 500, 10)
TARGET_IMAGES_PER_SECOND, TARGET_RATIO = 30.0, 0.8


def random_bundle(seed: int) -> Bundle:
    """A 784-500-10 bundle of He-scaled random weights (float) and matching 8-bit mantissas."""
    rng = np.random.default_rng(seed)
    layers = []
    for n_in, n_out in zip(SIZES, SIZES[1:]):
        weight = rng.normal(0.0, (2.0 / n_in) ** 0.5, (n_out, n_in)).astype(np.float32)
        scale = 254 / np.abs(weight).max()
        layers.append(LayerBundle(weight=weight, bias=np.zeros(n_out, np.float32),
                                  weight_mant=(2 * np.round(weight * scale / 2)).astype(np.int16),
                                  bias_mant=np.zeros(n_out, np.int16), weight_exp=0, bias_exp=0,
                                  vth=int(round(scale)), du=4095, dv=410, scale=float(scale)))
    return Bundle(layers=tuple(layers), beta=0.9, threshold=1.0, num_steps=STEPS)


def run_bare(bundle: Bundle, spikes: np.ndarray, mode: str) -> int:
    """The bare network on ``spikes`` [T, N, 784]; returns the steps simulated."""
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.dense.process import Dense
    from lava.proc.io.sink import RingBuffer as Sink
    from lava.proc.io.source import RingBuffer as Source
    from lava.proc.lif.process import LIF

    fixed = mode == "fixed"
    dtype = np.int32 if fixed else np.float64
    total = spikes.shape[0] * spikes.shape[1] + len(bundle.layers) + 1
    data = np.zeros((spikes.shape[2], total), dtype=dtype)
    data[:, : spikes.shape[0] * spikes.shape[1]] = spikes.transpose(2, 1, 0).reshape(spikes.shape[2], -1)
    source = Source(data=data)
    port = source.s_out
    for layer in bundle.layers:
        if fixed:
            conn = Dense(weights=layer.weight_mant.astype(np.int32), weight_exp=int(layer.weight_exp), num_weight_bits=8)
            lif = LIF(shape=(layer.n_out,), du=int(layer.du), dv=int(layer.dv), vth=int(layer.vth),
                      bias_mant=layer.bias_mant.astype(np.int32), bias_exp=int(layer.bias_exp))
        else:
            conn = Dense(weights=layer.weight.astype(np.float64))
            lif = LIF(shape=(layer.n_out,), du=1.0, dv=1.0 - bundle.beta, vth=float(bundle.threshold),
                      bias_mant=layer.bias.astype(np.float64))
        port.connect(conn.s_in)
        conn.a_out.connect(lif.a_in)
        port = lif.s_out
    sink = Sink(shape=(bundle.layers[-1].n_out,), buffer=total)
    port.connect(sink.a_in)
    try:
        source.run(condition=RunSteps(num_steps=total), run_cfg=Loihi2SimCfg(select_tag="fixed_pt" if fixed else "floating_pt"))
        sink.data.get()
    finally:
        source.stop()
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=512, help="images per timed run (default 512)")
    parser.add_argument("--repeats", type=int, default=2, help="interleaved rounds (default 2)")
    parser.add_argument("--modes", nargs="+", default=["float", "fixed"], choices=["float", "fixed"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    if not lava_available():
        python = sidecar_python()
        if python is None:
            print("Lava is not available: no importable lava-nc and no .venv-lava sidecar", file=sys.stderr)
            return 2
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
        return subprocess.call([python, *sys.argv], env=env)

    from labkit.loihi.lava import run_bundle

    deployed = ROOT / "results" / "mnist" / "loihi" / "bundle.npz"
    bundle = load_bundle(deployed) if deployed.exists() else random_bundle(args.seed)
    if bundle.sizes != SIZES:
        bundle = random_bundle(args.seed)
    rng = np.random.default_rng(args.seed)
    spikes = rng.random((STEPS, args.images, SIZES[0])) < 0.12
    reports = {}  # variant's last run: [(seconds, images done)] at its progress reports

    def runner(mode: str):
        started, marks = time.perf_counter(), []
        reports[mode, "runner"] = marks
        return run_bundle(bundle, spikes, mode, chunk_size=max(4, args.images // 20),  # about 20 reports
                          progress=lambda done, total: marks.append((time.perf_counter() - started, done)))

    variants = {"bare": lambda mode: run_bare(bundle, spikes, mode), "runner": runner}
    load_start = os.getloadavg()[0]
    print(f"network {'-'.join(map(str, bundle.sizes))} ({'deployed bundle' if deployed.exists() else 'random'}), "
          f"{args.images} images x {STEPS} steps per run, {args.repeats} rounds; "
          f"load average (1 min) {load_start:.1f} on {os.cpu_count()} CPUs", flush=True)
    seconds = {(mode, name): [] for mode in args.modes for name in variants}
    running = {(mode, name): [] for mode in args.modes for name in variants if name != "bare"}
    steps, missed = {}, []
    for _ in range(args.repeats):
        for mode in args.modes:
            for name, run in variants.items():
                started = time.perf_counter()
                result = run(mode)
                seconds[mode, name].append(time.perf_counter() - started)
                print(f"  {mode:<6} {name:<12} {seconds[mode, name][-1]:7.2f} s  (load {os.getloadavg()[0]:.1f})",
                      flush=True)
                if name == "bare":
                    steps[mode, name] = result
                    continue
                steps[mode, name] = result["steps"]
                marks = reports[mode, name]
                if len(marks) >= 2 and marks[-1][0] > marks[0][0]:
                    running[mode, name].append((marks[-1][1] - marks[0][1]) / (marks[-1][0] - marks[0][0]))
    load_end = os.getloadavg()[0]
    print(f"\n{'mode':<7}{'variant':<13}{'median s':>10}{'steps/s':>10}{'images/s':>10}{'vs bare':>9}{'running':>9}")
    for mode in args.modes:
        bare = statistics.median(seconds[mode, "bare"])
        best = 0.0
        for name in variants:
            median = statistics.median(seconds[mode, name])
            rates = running.get((mode, name))
            rate = f"{statistics.median(rates):>9.1f}" if rates else f"{'':>9}"
            print(f"{mode:<7}{name:<13}{median:>10.2f}{steps[mode, name] / median:>10.0f}{args.images / median:>10.1f}"
                  f"{bare / median:>9.2f}{rate}")
            if name != "bare":
                best = args.images / median
            if name == "runner" and bare / median < TARGET_RATIO:
                missed.append(f"{mode}: runner / bare {bare / median:.2f} < {TARGET_RATIO}")
        if best < TARGET_IMAGES_PER_SECOND:
            missed.append(f"{mode}: runner {best:.1f} images/s < {TARGET_IMAGES_PER_SECOND:.0f}")
    print(f"\nload average (1 min): {load_start:.1f} before, {load_end:.1f} after; "
          f"targets: runner >= {TARGET_IMAGES_PER_SECOND:.0f} images/s, runner / bare >= {TARGET_RATIO}")
    for line in missed:
        print("missed:", line)
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
