"""How fast labkit trains the paper's network, next to the snnTorch code a user would otherwise write.

    .venv/bin/python benchmarks/bench_training.py [--repeats 20] [--threads N] [--quick] [--epoch] [--system-malloc]

One process, one batch of 128 MNIST digits, the paper's network 784-500-10 (LIF, β = 0.9),
T = 25 steps, rate-coded input, Adam (lr 1e-3). Timed, interleaved (A B C … A B C …) so that
a change in machine load hits every line alike, medians after warm-up:

* ``matmul``        the machine's fp32 throughput on the shape that dominates a step,
  [3200 × 784] · [784 × 500] (all T·B rows of the first layer at once), in GFLOP/s.
* ``reference``     an snnTorch tutorial-style training step: ``snn.Leaky(beta=0.9,
  spike_grad=surrogate.atan())`` called step by step in a Python loop, ``spikegen.rate``
  encoding, the cross-entropy of the output membrane summed over the steps, Adam. (snnTorch's
  default reset subtracts θ where labkit's model resets to zero: the arithmetic is the same.)
* ``labkit bp``     labkit's step on the path `labkit.training.train` takes per batch:
  `encode_rate_indexed` with a generator (random numbers only where p > 0, the spikes listed
  for the first layer), `SpikingMLP` forward (one product over all T·B rows that
  skips the zeros of the input spikes, `labkit.sparse`, then the fused multi-step LIF),
  `paper_loss`, and the rule's update (`make_rule("bp")`: backward + fused Adam).
* ``labkit sum`` / ``labkit adaptive``   the same plus the STDP change of the same forward pass
  (and, for adaptive, the plasticity-coefficient update).
* ``infer ref`` / ``infer labkit``   inference (encoding + forward + prediction, no gradient) on
  a batch of 1,000 digits, in samples/s.

Ratios printed, with the lab's targets:

* labkit bp step / reference step  ≤ 0.5   (at least twice as fast as the tutorial code);
* hybrid step / bp step            ≤ 1.6   (STDP adds ≈ 19.6 M MACs per sample on the first layer);
* effective GFLOP/s of the bp step / matmul GFLOP/s  ≥ 60 %, counting 40 MFLOP per sample for
  BPTT of this network (forward 9.93 M MACs, the weight gradients about the same again). These
  are dense-equivalent FLOPs: labkit skips the zeros of the input, so it can exceed 100 %.

Both sides run in this one process with the allocator setting `labkit.training.train` makes
(`labkit.foundation.allocator.keep_freed_memory`: freed blocks are reused instead of page-faulted in again);
``--system-malloc`` leaves glibc's defaults, which slows both sides (labkit more: its tensors
are larger).

``--epoch`` also runs one epoch of bp training on full MNIST (the bundled subset when
data/mnist/ is absent; the table says which) with `labkit.training.train` in a subprocess and
records its wall time and peak resident memory (``resource.getrusage`` of that process).

The table is written to benchmarks/results.md (``--output``) with the machine's description
and the command that produced it. Timings on a shared machine are noisy; the ratios, measured
side by side in the same process, are what to compare.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from timing import interleave  # benchmarks/timing.py, beside this script
from labkit.foundation.allocator import keep_freed_memory
from labkit.data import mnist_available, mnist_data
from labkit.encoding import encode_rate_indexed
from labkit.models import SpikingMLP
from labkit.rules import make_rule
from labkit.sparse import remember_index
from labkit.training import paper_loss, predict, resolve_device

STEPS, BATCH, INFER_BATCH = 25, 128, 1000
SIZES = (784, 500, 10)
FLOP_PER_SAMPLE = 40e6  # BPTT of 784-500-10 at T = 25 (design notes): forward 9.93 M MACs, backward as much again
TARGET_BP_VS_REF, TARGET_HYBRID_VS_BP, TARGET_EFFICIENCY = 0.5, 1.6, 0.60
ROOT = Path(__file__).resolve().parent.parent


# ----------------------------------------------------------------------------- the variants


def make_matmul(device: torch.device) -> tuple[Callable[[], None], float]:
    """A closure multiplying [T·B × 784] by [784 × 500] (fp32) and the FLOPs it performs."""
    g = torch.Generator(device=device).manual_seed(0)
    a = torch.rand((STEPS * BATCH, SIZES[0]), generator=g, device=device)
    b = torch.randn((SIZES[0], SIZES[1]), generator=g, device=device)
    out = torch.empty((STEPS * BATCH, SIZES[1]), device=device)
    repeats = 4

    def step() -> None:
        for _ in range(repeats):
            torch.mm(a, b, out=out)

    return step, repeats * 2.0 * a.shape[0] * a.shape[1] * b.shape[1]


class ReferenceNet(nn.Module):
    """The snnTorch tutorial network (tutorial 5): Linear → Leaky → Linear → Leaky, stepped in a loop."""

    def __init__(self):
        import snntorch as snn
        from snntorch import surrogate

        super().__init__()
        self.fc1, self.fc2 = nn.Linear(SIZES[0], SIZES[1]), nn.Linear(SIZES[1], SIZES[2])
        self.lif1 = snn.Leaky(beta=0.9, spike_grad=surrogate.atan())
        self.lif2 = snn.Leaky(beta=0.9, spike_grad=surrogate.atan())

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mem1, mem2 = self.lif1.init_leaky(), self.lif2.init_leaky()
        spk2_rec, mem2_rec = [], []
        for t in range(x.shape[0]):
            spk1, mem1 = self.lif1(self.fc1(x[t]), mem1)
            spk2, mem2 = self.lif2(self.fc2(spk1), mem2)
            spk2_rec.append(spk2)
            mem2_rec.append(mem2)
        return torch.stack(spk2_rec), torch.stack(mem2_rec)


def make_reference_step(images: torch.Tensor, labels: torch.Tensor, device: torch.device) -> Callable[[], None]:
    """One snnTorch tutorial-style training step (spikegen.rate draws from torch's global generator,
    as in the tutorials; nothing here seeds it)."""
    from snntorch import spikegen

    net = ReferenceNet().to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3, betas=(0.9, 0.999))
    flat = images.reshape(len(images), -1)

    def step() -> None:
        spikes = spikegen.rate(flat, num_steps=STEPS)
        _, mem_rec = net(spikes)
        loss = torch.zeros((), device=device)
        for t in range(STEPS):
            loss = loss + F.cross_entropy(mem_rec[t], labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return step


def make_reference_inference(images: torch.Tensor, device: torch.device) -> Callable[[], None]:
    from snntorch import spikegen

    net = ReferenceNet().to(device)
    flat = images.reshape(len(images), -1)

    @torch.no_grad()
    def step() -> None:
        spk_rec, _ = net(spikegen.rate(flat, num_steps=STEPS))
        spk_rec.sum(dim=0).argmax(dim=-1)

    return step


def make_labkit_step(rule_name: str, images: torch.Tensor, labels: torch.Tensor, device: torch.device):
    """One labkit training step, the calls `labkit.training.train` makes per batch."""
    model = SpikingMLP(SIZES, seed=0).to(device)
    rule = make_rule(rule_name)
    rule.bind(model)
    generator = torch.Generator(device=device).manual_seed(0)

    def step() -> None:
        spikes = remember_index(*encode_rate_indexed(images, STEPS, generator=generator))
        with torch.set_grad_enabled(rule.uses_gradient):
            output = model(spikes)
            loss = paper_loss(output.out_membrane, labels)
        rule.step(output, loss)

    return step


def make_labkit_inference(images: torch.Tensor, device: torch.device) -> Callable[[], None]:
    model = SpikingMLP(SIZES, seed=0).to(device).eval()
    generator = torch.Generator(device=device).manual_seed(0)

    @torch.no_grad()
    def step() -> None:
        predict(model(remember_index(*encode_rate_indexed(images, STEPS, generator=generator))))

    return step


# ----------------------------------------------------------------------------- timing


def quartiles(values: list[float]) -> tuple[float, float, float]:
    v = sorted(values)
    return v[len(v) // 4], statistics.median(v), v[(3 * len(v)) // 4]


# ----------------------------------------------------------------------------- one epoch, peak memory


def epoch_child(device: str, threads: int | None) -> int:
    """Train bp for one epoch (full MNIST when present) and print wall time and peak RSS as JSON."""
    from labkit.training import train

    if threads is not None:
        torch.set_num_threads(threads)
    full = mnist_available()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = mnist_data("full" if full else "bundled")
    model = SpikingMLP(SIZES, seed=0)
    start = time.perf_counter()
    history = train(model, "bp", data, epochs=1, device=device, progress=False)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    peak_kib = peak / 1024 if sys.platform == "darwin" else peak
    print(json.dumps({
        "data": "full MNIST" if full else "bundled subset (full MNIST absent)",
        "train": len(data.train_x), "test": len(data.test_x), "seconds": seconds,
        "peak_rss_mib": peak_kib / 1024, "test_acc": history.test_acc[-1],
    }))
    return 0


def run_epoch(device: torch.device, threads: int | None) -> dict:
    cmd = [sys.executable, __file__, "--_epoch-child", "--device", device.type]
    if threads is not None:
        cmd += ["--threads", str(threads)]
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        raise RuntimeError(f"the epoch subprocess failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- report


def machine(device: torch.device) -> list[str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = f"; load average at start {os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else ""
    lines = [
        f"CPU: {cpu}, {os.cpu_count()} logical cores{load}",
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; Python {platform.python_version()}",
    ]
    try:
        import snntorch

        lines[-1] += f"; snntorch {snntorch.__version__}"
    except ImportError:
        pass
    if device.type == "cuda":
        lines.append(f"GPU: {torch.cuda.get_device_name(device)}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20, help="timed rounds (default 20; --quick: 5)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed rounds first (default 3; --quick: 1)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--quick", action="store_true", help="few repeats, for a smoke test")
    parser.add_argument("--epoch", action="store_true", help="also time one full-MNIST bp epoch and its peak memory")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "results.md"),
                        help="where to write the results table ('-' : do not write)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a ratio misses its target")
    parser.add_argument("--system-malloc", action="store_true",
                        help="keep glibc's default malloc thresholds (labkit's training raises them)")
    parser.add_argument("--_epoch-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    allocator = "glibc defaults" if args.system_malloc else "freed blocks kept for reuse (labkit.foundation.allocator)"
    if not args.system_malloc:
        if not keep_freed_memory():
            allocator = "system default (not glibc)"
    if args.threads is not None:
        if args.threads < 1:
            parser.error("--threads must be >= 1")
        torch.set_num_threads(args.threads)
    if args._epoch_child:
        return epoch_child(args.device, args.threads)
    if args.quick:
        args.repeats, args.warmup = min(args.repeats, 5), min(args.warmup, 1)
    if args.repeats < 1 or args.warmup < 0:
        parser.error("--repeats must be >= 1 and --warmup >= 0")
    device = resolve_device(args.device)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the bundled subset is enough for timing
        data = mnist_data("bundled", train_limit=INFER_BATCH)
    images, labels = data.train_x[:BATCH].to(device), data.train_y[:BATCH].to(device)
    infer_images = data.train_x[:INFER_BATCH].to(device)

    matmul, matmul_flop = make_matmul(device)
    steps = {
        "matmul": matmul,
        "reference": make_reference_step(images, labels, device),
        "labkit bp": make_labkit_step("bp", images, labels, device),
        "labkit sum": make_labkit_step("sum", images, labels, device),
        "labkit adaptive": make_labkit_step("adaptive", images, labels, device),
        "infer ref": make_reference_inference(infer_images, device),
        "infer labkit": make_labkit_inference(infer_images, device),
    }
    description = machine(device) + [f"malloc: {allocator}"]
    times = interleave(steps, args.repeats, args.warmup, device)
    med = {name: statistics.median(t) for name, t in times.items()}

    gflops = matmul_flop / med["matmul"] / 1e9
    bp_gflops = FLOP_PER_SAMPLE * BATCH / med["labkit bp"] / 1e9
    ratios = {
        "bp_vs_ref": med["labkit bp"] / med["reference"],
        "sum_vs_bp": med["labkit sum"] / med["labkit bp"],
        "adaptive_vs_bp": med["labkit adaptive"] / med["labkit bp"],
        "efficiency": bp_gflops / gflops,
    }

    rows = ["| variant | median ms | IQR ms | samples/s |", "| --- | ---: | ---: | ---: |"]
    for name, t in times.items():
        q1, m, q3 = quartiles(t)
        if name == "matmul":
            rate = f"{gflops:.0f} GFLOP/s"
        else:
            rate = f"{(INFER_BATCH if name.startswith('infer') else BATCH) / m:,.0f}"
        rows.append(f"| {name} | {1e3 * m:.1f} | {1e3 * q1:.1f}-{1e3 * q3:.1f} | {rate} |")

    def verdict(ok: bool) -> str:
        return "meets" if ok else "MISSES"

    summary = [
        f"- labkit bp step / reference step: **{ratios['bp_vs_ref']:.2f}** "
        f"({verdict(ratios['bp_vs_ref'] <= TARGET_BP_VS_REF)} target ≤ {TARGET_BP_VS_REF})",
        f"- hybrid step / bp step: sum **{ratios['sum_vs_bp']:.2f}**, adaptive **{ratios['adaptive_vs_bp']:.2f}** "
        f"({verdict(max(ratios['sum_vs_bp'], ratios['adaptive_vs_bp']) <= TARGET_HYBRID_VS_BP)} "
        f"target ≤ {TARGET_HYBRID_VS_BP})",
        f"- bp step at 40 MFLOP/sample: {bp_gflops:.0f} GFLOP/s = **{100 * ratios['efficiency']:.0f} %** of the "
        f"matmul's {gflops:.0f} GFLOP/s ({verdict(ratios['efficiency'] >= TARGET_EFFICIENCY)} target "
        f"≥ {100 * TARGET_EFFICIENCY:.0f} %)",
        f"- inference: labkit {INFER_BATCH / med['infer labkit']:,.0f} samples/s, reference "
        f"{INFER_BATCH / med['infer ref']:,.0f} samples/s (ratio of times "
        f"{med['infer labkit'] / med['infer ref']:.2f})",
    ]
    epoch = None
    if args.epoch:
        epoch = run_epoch(device, args.threads)
        summary.append(
            f"- one bp epoch on {epoch['data']} ({epoch['train']:,} train + {epoch['test']:,} test digits, "
            f"`labkit.training.train`): {epoch['seconds']:.1f} s, peak RSS {epoch['peak_rss_mib']:.0f} MiB, "
            f"test accuracy {100 * epoch['test_acc']:.2f} %"
        )

    command = "python benchmarks/bench_training.py " + " ".join(a for a in sys.argv[1:])
    report = "\n".join([
        "# Training benchmark results",
        "",
        f"Command: `{command.strip()}`",
        "",
        f"Network 784-500-10, T = {STEPS}, training batch {BATCH}, inference batch {INFER_BATCH}, "
        f"device {device.type}; {args.repeats} interleaved rounds after {args.warmup} warm-up rounds; "
        "medians and interquartile ranges per call (the matmul line times 4 products).",
        "",
        *(f"- {line}" for line in description),
        "",
        *rows,
        "",
        *summary,
        "",
    ])
    print(report)
    if args.output != "-":
        Path(args.output).write_text(report)
    missed = (ratios["bp_vs_ref"] > TARGET_BP_VS_REF
              or max(ratios["sum_vs_bp"], ratios["adaptive_vs_bp"]) > TARGET_HYBRID_VS_BP
              or ratios["efficiency"] < TARGET_EFFICIENCY)
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
