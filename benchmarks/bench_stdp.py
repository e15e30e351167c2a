"""What pair-based STDP costs next to the forward pass it learns from.

    .venv/bin/python benchmarks/bench_stdp.py [--repeats 30] [--batch 128] [--device auto] [--threads N]

One layer of the paper's network, 784 inputs → 500 LIF neurons, T = 25 steps, a batch of 128
rate-coded digits. Timed in ONE process, interleaved (forward, stdp, traces, forward, …), so a
change in machine load hits every line alike; medians after warm-up steps:

* ``forward``  one forward pass of the layer as `SpikingMLP` runs it: the input currents of all
  T·B rows as one product that skips the zeros of the input (`labkit.sparse.spike_linear`),
  then the fused multi-step LIF (`labkit.neurons.lif_sequence`).
* ``stdp``     `labkit.stdp.stdp_update` on that pass's input and output spikes:
  the window matrix Kᵀ along time on the output spikes (a T × T product), then one
  [784 × T·B] · [T·B × 500] product that skips the zeros of the input as well.
* ``traces``   for comparison, the textbook trace form: pre and post traces, then the
  potentiation and depression terms as two products of the same size.

The arithmetic: the dense forward product is T·B·784·500 ≈ 1.25 G multiply-accumulates (at an
input density of 0.13, about a seventh of that are additions that matter); ``stdp`` is one product
of the same size plus T²·B·500 ≈ 40 M for K, so a ratio near 1 is what it allows (``traces``
needs two dense products). The lab's target is stdp / forward ≤ 2.
"""

from __future__ import annotations

import argparse
import statistics
import sys

import torch

from timing import add_timing_arguments, apply_timing_arguments, interleave  # benchmarks/timing.py, beside this script
from labkit.data import mnist_data
from labkit.encoding import encode_rate
from labkit.models import PAPER_LIF, he_init_
from labkit.neurons import lif_sequence
from labkit.stdp import STDPParams, stdp_update, traces
from labkit.sparse import spike_linear
from labkit.training import resolve_device

TARGET_RATIO = 2.0
STEPS, N_IN, N_OUT = 25, 784, 500


def stdp_by_traces(pre: torch.Tensor, post: torch.Tensor, params: STDPParams) -> torch.Tensor:
    """ΔW = (1/B) Σ_{t,b} [A+ post_t ⊗ x_t − A− λ− y_{t−1} ⊗ pre_t], with the traces x, y (two products)."""
    steps, batch = pre.shape[:2]
    x_pre = traces(pre, params.decay_plus)
    y_post = traces(post, params.decay_minus)
    y_before = torch.zeros_like(y_post)
    y_before[1:] = params.decay_minus * y_post[:-1]
    rows = steps * batch
    potentiation = post.reshape(rows, -1).T @ x_pre.reshape(rows, -1)
    depression = y_before.reshape(rows, -1).T @ pre.reshape(rows, -1)
    return (params.A_plus * potentiation - params.A_minus * depression) / batch



def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_timing_arguments(parser, repeats=30, warmup=3, per="calls per line", batch=True)
    parser.add_argument("--check", action="store_true", help=f"exit 1 when stdp / forward exceeds {TARGET_RATIO}")
    args = parser.parse_args()
    apply_timing_arguments(parser, args)
    device = resolve_device(args.device)

    generator = torch.Generator().manual_seed(0)
    layer = torch.nn.Linear(N_IN, N_OUT)
    he_init_(layer, generator)
    layer = layer.to(device)
    images = mnist_data("bundled", train_limit=args.batch).train_x.to(device)
    pre = encode_rate(images.flatten(1), STEPS, generator=torch.Generator(device=device).manual_seed(1))
    params = STDPParams()

    @torch.no_grad()
    def forward() -> torch.Tensor:
        return lif_sequence(spike_linear(pre, layer.weight, layer.bias), PAPER_LIF)[0]

    post = forward()
    lines = {
        "forward": forward,
        "stdp": lambda: stdp_update(pre, post, params),
        "traces": lambda: stdp_by_traces(pre, post, params),
    }
    torch.testing.assert_close(lines["stdp"](), lines["traces"](), rtol=1e-4, atol=1e-5,
                               msg="both STDP forms compute the same ΔW")
    times = interleave(lines, args.repeats, args.warmup, device)

    threads = torch.get_num_threads() if device.type == "cpu" else "-"
    print(f"layer {N_IN}x{N_OUT}, T = {STEPS}, batch {args.batch}, device {device.type}, threads {threads}, "
          f"{args.repeats} calls per line; output spike rate {post.mean().item():.3f} per neuron and step")
    print(f"{'line':<10}{'median ms':>11}{'IQR ms':>17}{'ratio to forward':>18}")
    base = statistics.median(times["forward"])
    for name, t in times.items():
        t = sorted(t)
        q1, q3 = t[len(t) // 4], t[(3 * len(t)) // 4]
        print(f"{name:<10}{1e3 * statistics.median(t):>11.1f}{f'{1e3 * q1:.1f}-{1e3 * q3:.1f}':>17}"
              f"{statistics.median(t) / base:>18.2f}")
    ratio = statistics.median(times["stdp"]) / base
    verdict = "within" if ratio <= TARGET_RATIO else "ABOVE"
    print(f"stdp_update / forward = {ratio:.2f} ({verdict} the target {TARGET_RATIO:g})")
    return 1 if args.check and ratio > TARGET_RATIO else 0


if __name__ == "__main__":
    sys.exit(main())
