"""Where skipping the zeros of the input pays: the sparse and the dense first-layer product.

    .venv/bin/python benchmarks/bench_sparse.py [--repeats 15] [--threads N]

The product of the paper's first layer, T·B = 25·128 rows of 784 inputs times 500 outputs,
forward and weight gradient (`labkit.sparse.spike_linear` with ``product="dense"`` and
``"sparse"``), on Bernoulli spikes of a range of densities, interleaved in ONE process after
warm-up; medians. A rate-coded MNIST batch has a density of about 0.13 (printed). The line
where the ratio sparse / dense crosses 1 is what `labkit.sparse.SPARSE_MAX_DENSITY` (the
``auto`` choice) should lie below.
"""

from __future__ import annotations

import argparse
import statistics
import sys

import torch

from timing import add_timing_arguments, apply_timing_arguments, interleave  # benchmarks/timing.py, beside this script
from labkit.foundation.allocator import keep_freed_memory
from labkit.data import mnist_data
from labkit.encoding import encode_rate
from labkit.sparse import SPARSE_MAX_DENSITY, spike_linear

STEPS, BATCH, N_IN, N_OUT = 25, 128, 784, 500
DENSITIES = (0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)


def make_step(x: torch.Tensor, product: str):
    g = torch.Generator().manual_seed(1)
    weight = (torch.randn(N_OUT, N_IN, generator=g) * 0.05).requires_grad_()
    bias = torch.zeros(N_OUT, requires_grad=True)
    upstream = torch.randn(x.shape[0], N_OUT, generator=g)

    def step() -> None:
        weight.grad = bias.grad = None
        spike_linear(x, weight, bias, product).backward(upstream)

    return step


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_timing_arguments(parser, repeats=15, warmup=2, per="rounds")
    args = parser.parse_args()
    apply_timing_arguments(parser, args)
    keep_freed_memory()  # opt-in (labkit.foundation.allocator): freed blocks kept for reuse

    images = mnist_data("bundled", train_limit=BATCH).train_x
    mnist = encode_rate(images.flatten(1), STEPS, generator=torch.Generator().manual_seed(0)).reshape(-1, N_IN)
    g = torch.Generator().manual_seed(2)
    inputs = {f"{d:.2f}": (torch.rand(STEPS * BATCH, N_IN, generator=g) < d).float() for d in DENSITIES}
    inputs[f"MNIST {mnist.mean().item():.2f}"] = mnist
    steps = {(name, p): make_step(x, p) for name, x in inputs.items() for p in ("dense", "sparse")}
    times = interleave(steps, args.repeats, args.warmup, torch.device("cpu"))

    print(f"[{STEPS * BATCH} x {N_IN}] · [{N_IN} x {N_OUT}], forward + weight gradient, "
          f"{torch.get_num_threads()} threads, {args.repeats} rounds; auto uses sparse up to density "
          f"{SPARSE_MAX_DENSITY}")
    print(f"{'density':<12}{'dense ms':>10}{'sparse ms':>11}{'sparse/dense':>14}")
    for name in inputs:
        dense, sparse = (statistics.median(times[(name, p)]) for p in ("dense", "sparse"))
        print(f"{name:<12}{1e3 * dense:>10.1f}{1e3 * sparse:>11.1f}{sparse / dense:>14.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
