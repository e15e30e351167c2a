"""How long a Train press of the chapter-5 dashboard takes, next to one training step of the paper's network.

    .venv/bin/python benchmarks/bench_dashboard.py [--repeats 2] [--seeds 3] [--threads N] [--check]

In one process: the dashboard with its defaults (`labkit.widgets.hybrid_dashboard()` in the full
course's mode: adaptive, η1 = 0.01, η2 = 0.001, 784-200-10, 2,000 training and 500 test digits
of the bundled subset, 2 epochs, batch 64, four test points per epoch, live redraws) is pressed
as a student presses Train (``run(wait=True)``: the button's path, background thread included),
once with one seed and once with ``--seeds`` seeds. Between the presses, labkit's bp training
step of the paper's network (784-500-10, batch 128, T = 25: the ``labkit bp`` line of
bench_training.py) is timed ``--steps`` times. Reported, medians over ``--repeats`` rounds:

* wall and CPU seconds of each press (CPU of the whole process: the training thread's work);
* the press / bp-step ratio of wall times, measured side by side, so that the machine's load
  hits both alike: how many training steps of the paper's network a press costs;
* the accuracy reached (mean ± sd over the seeds, and the binomial error of the 500 test digits).

Target: a default press answers in ≤ 5 s on an idle core. On a shared machine the wall time
says more about the other processes than about labkit, so the check reads the CPU seconds of
the press (one thread: CPU seconds are the wall time it would take alone) and prints the wall
time and the ratio beside them. Appends nothing: prints a Markdown block to paste into
benchmarks/README.md with the command that made it.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.pop("LABKIT_FAST", None)  # the full course's defaults, not the test suite's

from bench_training import BATCH, make_labkit_step  # noqa: E402  (benchmarks/bench_training.py)
from labkit.data import mnist_data  # noqa: E402
from labkit.widgets import hybrid_dashboard  # noqa: E402

TARGET_SECONDS = 5.0


def time_steps(step, count: int) -> list[float]:
    times = []
    for _ in range(count):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return times


def press(n_seeds: int) -> dict:
    """A fresh default dashboard, N seeds, Train pressed; wall, CPU and the result."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dashboard = hybrid_dashboard(device="cpu", n_seeds=n_seeds)
    start, cpu = time.perf_counter(), time.process_time()
    history = dashboard.run(wait=True)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    if history is None:
        raise RuntimeError(f"the dashboard run failed: {dashboard.error!r}")
    summary = dashboard.runs[-1].summary()
    return {"wall": wall, "cpu": cpu, "summary": summary, "settings": dashboard.settings(),
            "n_train": len(dashboard.data.train_x)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2, help="rounds (default 2)")
    parser.add_argument("--seeds", type=int, default=3, help="seeds of the several-seeds press (default 3)")
    parser.add_argument("--steps", type=int, default=8, help="bp steps timed per round (default 8)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--check", action="store_true", help="exit 1 when the default press misses its target")
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    device = torch.device("cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = mnist_data("bundled", train_limit=BATCH)
    step = make_labkit_step("bp", data.train_x[:BATCH], data.train_y[:BATCH], device)
    time_steps(step, 2)  # warm-up
    press(1)  # warm-up: first calls fill caches and allocate
    steps, single, several = [], [], []
    for _ in range(args.repeats):
        steps += time_steps(step, args.steps)
        single.append(press(1))
        steps += time_steps(step, args.steps)
        several.append(press(args.seeds))
    step_s = statistics.median(steps)

    def line(name: str, runs: list[dict]) -> str:
        wall = statistics.median(r["wall"] for r in runs)
        cpu = statistics.median(r["cpu"] for r in runs)
        s = runs[-1]["summary"]
        spread = f" ± {100 * s.clean_sd:.1f}" if s.n_seeds > 1 else ""
        return (f"| {name} | {wall:.1f} | {cpu:.1f} | {wall / step_s:.0f} | {100 * s.clean_mean:.1f}{spread} "
                f"(±{100 * s.clean_binomial:.1f}) | {100 * s.noisy_mean:.1f} |")

    settings = single[-1]["settings"]
    cpu_default = statistics.median(r["cpu"] for r in single)
    verdict = "meets" if cpu_default <= TARGET_SECONDS else "MISSES"
    load = f", load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    print("\n".join([
        f"Command: `{' '.join(['python benchmarks/bench_dashboard.py', *sys.argv[1:]])}`",
        "",
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), Python {platform.python_version()}, "
        f"{os.cpu_count()} logical cores{load}; bp step (784-500-10, batch {BATCH}) median "
        f"{1e3 * step_s:.0f} ms over {len(steps)} steps; medians of {args.repeats} presses each.",
        f"Settings: {settings.rule}, η1 = {settings.eta1:g}, η2 = {settings.eta2:g}, κ = {settings.kappa:g}, "
        f"784-{settings.hidden}-10, {single[-1]['n_train']:,} training digits, {settings.epochs} epochs, "
        f"batch {settings.batch_size}, {settings.evals_per_epoch} test points per epoch.",
        "",
        "| Train press | wall s | CPU s | press / bp step (wall) | clean accuracy % (binomial) | noisy σ=0.3 % |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        line(f"default (seed {settings.seeds[0]})", single),
        line(f"{args.seeds} seeds", several),
        "",
        f"- default press: {cpu_default:.1f} s CPU ({verdict} the target ≤ {TARGET_SECONDS:g} s on an idle core)",
    ]))
    return 1 if args.check and cpu_default > TARGET_SECONDS else 0


if __name__ == "__main__":
    sys.exit(main())
