"""The rules on an snnTorch network: one training step beside the same step on SpikingMLP and snnTorch's own loop.

    .venv/bin/python benchmarks/bench_snntorch.py [--repeats 20] [--threads 1] [--rules bp adaptive]

A step is what `labkit.training.train` does per batch of 128 digits, T = 25, 784-500-10:

* ``SpikingMLP <rule>``: the lab's network, its input as `train` gives it (the rate code's spike list
  on the CPU), the rate loss, ``rule.step``;
* ``snnTorch <rule>``: the same network written in snnTorch (`labkit.interop.snntorch.to_snntorch`),
  run by `labkit.interop.snntorch.SnnTorchNetwork` (dense input, one product per Linear layer over all
  T·B rows, the Leaky called step by step), the same loss and the same ``rule.step``;
* ``snnTorch tutorial``: snnTorch's own training step as its tutorial 5 writes it: ``spikegen.rate``,
  ``utils.reset``, the network called once per step, cross-entropy of each step's output membrane
  summed over T, Adam (backprop only, so compare it with the ``bp`` rows).

All variants run in ONE process with one thread (unless ``--threads``), interleaved; the median of
each and its ratio to the tutorial step and to SpikingMLP's step of the same rule are printed.
"""

from __future__ import annotations

import argparse
import statistics
import sys

import torch
from torch import nn

from timing import add_timing_arguments, apply_timing_arguments, interleave  # benchmarks/timing.py, beside this script
from labkit.data import mnist_data
from labkit.encoders import RateEncoder
from labkit.interop.snntorch import to_snntorch, wrap
from labkit.models import SpikingMLP
from labkit.readout import loss_function
from labkit.rules import make_rule
from labkit.training import resolve_device
from labkit.training.evaluation import model_inputs

T = 25


def lab_step(model: nn.Module, rule_name: str, images, labels, device: torch.device):
    """One step of ``rule_name`` as `labkit.training.train` takes it, on ``model`` (a SpikingMLP or a wrapped net)."""
    rule = make_rule(rule_name)
    rule.bind(model)
    generator = torch.Generator(device=device).manual_seed(0)
    loss = loss_function("rate")

    def step() -> None:
        with torch.set_grad_enabled(rule.uses_gradient):
            output = model(model_inputs(model, images, RateEncoder(), T, generator))
            batch_loss = loss(output, labels)
        rule.step(output, batch_loss)

    return step


def tutorial_step(net: nn.Sequential, images, labels):
    """snnTorch tutorial 5's training step (rate code, per-step loop, membrane cross-entropy summed over T, Adam)."""
    from snntorch import spikegen, utils

    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3, betas=(0.9, 0.999))
    criterion = nn.CrossEntropyLoss()
    x = images.unsqueeze(1)  # [B, 1, 28, 28], as a torchvision MNIST batch

    def step() -> None:
        spikes = spikegen.rate(x, num_steps=T)
        utils.reset(net)
        loss = torch.zeros((), device=x.device)
        for t in range(T):
            _, membrane = net(spikes[t])
            loss = loss + criterion(membrane, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return step


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_timing_arguments(parser, repeats=20, warmup=3, per="steps per variant", batch=True)
    parser.add_argument("--rules", nargs="+", default=["bp", "adaptive"], choices=["bp", "stdp", "sum", "adaptive"])
    parser.set_defaults(threads=1)
    args = parser.parse_args()
    apply_timing_arguments(parser, args)
    device = resolve_device(args.device)

    data = mnist_data("bundled", train_limit=args.batch)
    images, labels = data.train_x.to(device), data.train_y.to(device)
    steps = {"snnTorch tutorial": tutorial_step(to_snntorch(SpikingMLP(seed=0)).to(device), images, labels)}
    for rule in args.rules:
        steps[f"SpikingMLP {rule}"] = lab_step(SpikingMLP(seed=0).to(device), rule, images, labels, device)
        steps[f"snnTorch {rule}"] = lab_step(wrap(to_snntorch(SpikingMLP(seed=0))).to(device), rule, images, labels,
                                             device)
    times = interleave(steps, args.repeats, args.warmup, device)

    threads = torch.get_num_threads() if device.type == "cpu" else "-"
    print(f"training step, 784-500-10, T = {T}, batch {args.batch}, device {device.type}, threads {threads}, "
          f"{args.repeats} steps per variant")
    print(f"{'variant':<20}{'median ms':>11}{'IQR ms':>17}{'samples/s':>11}{'× tutorial':>12}{'× SpikingMLP':>14}")
    tutorial = statistics.median(times["snnTorch tutorial"])
    for name, t in times.items():
        t = sorted(t)
        median = statistics.median(t)
        q1, q3 = t[len(t) // 4], t[(3 * len(t)) // 4]
        rule = name.split()[-1]
        mlp = f"{median / statistics.median(times[f'SpikingMLP {rule}']):.2f}" if f"SpikingMLP {rule}" in times else "-"
        print(f"{name:<20}{1e3 * median:>11.1f}{f'{1e3 * q1:.1f}-{1e3 * q3:.1f}':>17}{args.batch / median:>11.0f}"
              f"{median / tutorial:>12.2f}{mlp:>14}")
    print("(× tutorial < 1: faster than snnTorch's own loop; the tutorial step is backprop only)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
