"""What the hybrid rules cost: one training step of bp, sum and adaptive, side by side.

    .venv/bin/python benchmarks/bench_rules.py [--repeats 30] [--device auto] [--threads N]

A step is what `labkit.training.train` does per batch: rate-code a batch of 128 digits over
T = 25 steps, run the 784-500-10 spiking network forward, compute the paper's loss, and let
the rule update the weights (backprop + Adam for bp; the same plus the STDP change of the
same forward pass for sum; plus the plasticity-coefficient update for adaptive).

The three rules are timed in ONE process, interleaved (bp, sum, adaptive, bp, …), so a change
in machine load during the run affects all of them alike; the median of each is reported with
its interquartile range (CPU time on the CPU, wall time on a GPU), and the ratios hybrid / bp. The lab's target is a ratio ≤ 1.6: the
STDP product adds about 19.6 M multiply-accumulates per sample to the ~30 M of a BPTT step on
the first layer (see the design notes), so about 1.5-1.7 is what the arithmetic allows.

``adaptive, dose off`` is the adaptive step with the dose measurement of `labkit.rules` (ρ and the
cosine between the STDP change and the gradient, per layer and batch) replaced by a constant: the
difference to ``adaptive`` is what measuring the dose costs.
"""

from __future__ import annotations

import argparse
import statistics
import sys

import torch

from timing import add_timing_arguments, apply_timing_arguments, interleave  # benchmarks/timing.py, beside this script
from labkit.data import mnist_data
from labkit.encoders import RateEncoder
from labkit.models import SpikingMLP
from labkit.rules import make_rule
from labkit.training import paper_loss, resolve_device

RULES = ("bp", "sum", "adaptive")
TARGET_RATIO = 1.6


def make_step(rule_name: str, images: torch.Tensor, labels: torch.Tensor, device: torch.device, seed: int):
    """A closure that performs one training step of ``rule_name`` on a fixed batch."""
    model = SpikingMLP((784, 500, 10), seed=seed).to(device)
    rule = make_rule(rule_name)
    rule.bind(model)
    generator = torch.Generator(device=device).manual_seed(seed)

    def step() -> None:
        with torch.set_grad_enabled(rule.uses_gradient):
            output = model(RateEncoder()(images, 25, generator))  # as labkit.training encodes a batch
            loss = paper_loss(output.out_membrane, labels)
        rule.step(output, loss)

    return step


def without_dose(step):
    """``step`` with `labkit.rules`' dose measurement (its norm ratio and cosine) replaced by a constant."""
    import labkit.rules as rules

    def run() -> None:
        ratio, cosine = rules._ratio, rules._cosine
        rules._ratio = rules._cosine = lambda *args: 0.0
        try:
            step()
        finally:
            rules._ratio, rules._cosine = ratio, cosine

    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_timing_arguments(parser, repeats=30, warmup=3, per="steps per rule", batch=True)
    parser.add_argument("--check", action="store_true", help=f"exit 1 when a ratio exceeds {TARGET_RATIO}")
    args = parser.parse_args()
    apply_timing_arguments(parser, args)
    device = resolve_device(args.device)

    data = mnist_data("bundled", train_limit=args.batch)
    images, labels = data.train_x.to(device), data.train_y.to(device)
    steps = {name: make_step(name, images, labels, device, seed=0) for name in RULES}
    steps["adaptive, dose off"] = without_dose(make_step("adaptive", images, labels, device, seed=0))
    cpu_times: dict = {}
    wall = interleave(steps, args.repeats, args.warmup, device, cpu_times)
    # CPU seconds on the CPU (a shared machine's waits for a core stay out); a GPU's work is not the process's CPU time
    times = cpu_times if device.type == "cpu" else wall

    threads = torch.get_num_threads() if device.type == "cpu" else "-"
    print(f"training step, 784-500-10, T = 25, batch {args.batch}, device {device.type}, threads {threads}, "
          f"{args.repeats} steps per rule")
    print(f"{'rule':<10}{'median ms':>11}{'IQR ms':>17}{'samples/s':>11}{'ratio to bp':>13}")
    base = statistics.median(times["bp"])
    worst = 0.0
    for name in RULES:
        t = sorted(times[name])
        median = statistics.median(t)
        q1, q3 = t[len(t) // 4], t[(3 * len(t)) // 4]
        ratio = median / base
        worst = max(worst, ratio if name != "bp" else 0.0)
        print(f"{name:<10}{1e3 * median:>11.1f}{f'{1e3 * q1:.1f}-{1e3 * q3:.1f}':>17}{args.batch / median:>11.0f}"
              f"{ratio:>13.2f}")
    verdict = "within" if worst <= TARGET_RATIO else "ABOVE"
    print(f"hybrid / bp: sum {statistics.median(times['sum']) / base:.2f}, adaptive "
          f"{statistics.median(times['adaptive']) / base:.2f} ({verdict} the target {TARGET_RATIO})")
    dose = statistics.median(times["adaptive"]) - statistics.median(times["adaptive, dose off"])
    print(f"measuring the dose: {1e3 * dose:+.2f} ms per adaptive step "
          f"({100 * dose / statistics.median(times['adaptive']):+.1f} % of it)")
    return 1 if args.check and worst > TARGET_RATIO else 0


if __name__ == "__main__":
    sys.exit(main())
