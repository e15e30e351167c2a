"""How fast labkit trains the paper's network, next to the code a user would otherwise write.

    .venv/bin/python benchmarks/bench_training.py [--repeats 20] [--threads N] [--quick] [--epoch] [--dashboard]
                                                  [--clock cpu|wall] [--system-malloc] [--check]

One process, one batch of 128 MNIST digits, the paper's network 784-500-10 (LIF, β = 0.9),
T = 25 steps, rate-coded input, Adam (lr 1e-3). Timed, interleaved (A B C … A B C …) so that
a change in machine load hits every line alike, medians after warm-up:

* ``matmul``        the machine's fp32 throughput on the shape that dominates a step,
  [3200 × 784] · [784 × 500] (all T·B rows of the first layer at once), in GFLOP/s.
* ``reference``     an snnTorch tutorial-style training step: ``snn.Leaky(beta=0.9,
  spike_grad=surrogate.atan())`` called step by step in a Python loop, ``spikegen.rate``
  encoding, the cross-entropy of the output membrane summed over the steps, Adam. (snnTorch's
  default reset subtracts θ where labkit's model resets to zero: the arithmetic is the same.)
* ``peer torch``    the same network written multi-step in plain torch: each layer's product
  over all T·B rows at once, the LIF recurrence in a Python loop, autograd (`MultiStepNet`).
* ``peer spikingjelly``  SpikingJelly 2.0's multi-step network (``step_mode="m"``, `LIFNode`
  with τ = 10 and ``decay_input=False``, i.e. β = 0.9; skipped when SpikingJelly is absent).
  The two peers get the dense rate code ``rand < x`` and labkit's loss, so they differ from
  labkit only in how the network is computed.
* ``default bp`` / ``default adaptive``   labkit's step on its default path, the code the chapters
  teach: `labkit.encoders.RateEncoder` with a generator (random numbers only where p > 0),
  `labkit.models.SpikingMLP` forward (one product over all T·B rows that skips the zeros of the
  input spikes, `labkit.sparse`, then the fused multi-step LIF, `labkit.neurons.lif_sequence`),
  `paper_loss`, and the rule's update (`make_rule`: backward + fused Adam; A-STDP adds the STDP
  change of the same forward pass and the plasticity-coefficient update).
* ``labkit bp`` / ``labkit sum`` / ``labkit adaptive``   the same steps on the opt-in fast backend
  (`labkit.fast.FastSpikingMLP`): the spikes listed while they are drawn and never written densely
  (`labkit.fast.ListingRateEncoder`), the lists reused by the backward pass and STDP, compiled
  loops for the rate code, the LIF recurrence and the transposed list. The same sums as the
  default path (tests/test_fast.py trains bit-identical networks on both).
* ``split encode+index`` / ``split column index``   the profile split of the fast bp step: the work
  around the arithmetic, timed alone — drawing and listing the input spikes (the encoder as the
  training step calls it), and turning the list column by column for the weight gradient and
  STDP (`labkit.fast.lists.transpose_index`, in the backward pass). The rest of the step is the
  arithmetic (products, LIF, loss, backward, Adam).
* ``infer ref`` / ``infer default`` / ``infer labkit`` / ``infer encode+index``   inference (encoding
  + forward + prediction, no gradient) on a batch of 1,000 digits, in samples/s: the snnTorch
  reference, the default path, the fast backend, and the fast backend's encoding alone.

Ratios printed, with the lab's targets:

* default bp step / fastest multi-step peer  ≤ 0.6;
* fast bp step / fastest multi-step peer  ≤ 0.4, and / snnTorch tutorial step  ≤ 0.4 (the lines below
  are the fast backend's);
* A-STDP step / fastest peer's bp step  ≤ 1;
* hybrid step / bp step  ≤ 1.6   (STDP adds ≈ 19.6 M MACs per sample on the first layer);
* encoding + indexing / bp step, and inference time per digit / bp training step time per digit, are
  printed without a target: they tell where the fast step's time goes;
* effective GFLOP/s of the bp step / matmul GFLOP/s  ≥ 60 %, counting 40 MFLOP per sample for
  BPTT of this network (forward 9.93 M MACs, the weight gradients about the same again). These
  are dense-equivalent FLOPs: labkit skips the zeros of the input, so it can exceed 100 %.

All run in this one process with the opt-in allocator setting of
`labkit.foundation.allocator.keep_freed_memory` (freed blocks are reused instead of
page-faulted in again; labkit's training itself leaves glibc's defaults); ``--system-malloc``
leaves glibc's defaults here too.

``--epoch`` also runs one epoch of bp training on full MNIST (the bundled subset when
data/mnist/ is absent; the table says which) with `labkit.training.train` in a subprocess and
records its wall and CPU time and peak resident memory (``resource.getrusage`` of that
process); ``--dashboard`` does the same for the chapter-5 dashboard's default Train run
(`labkit.widgets.hybrid_dashboard`).

Every call is timed both by the wall clock and by the process's CPU time (`benchmarks/timing.py`);
the ratios and verdicts use the CPU time (``--clock wall`` for the wall clock; on a GPU always the
wall clock), because on a machine shared with other jobs the wall time also counts the waits for a
free core, which fall on whichever variant happens to run. The other clock's ratios are printed too.

The table is written to benchmarks/results.md (``--output``) with the machine's description
and the command that produced it. Timings on a shared machine are noisy; the ratios, measured
side by side in the same process, are what to compare (the wall times of the subprocesses
are not side by side: their CPU times say more on a loaded machine).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import logging
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
from labkit.encoders import RateEncoder
from labkit.fast import FastSpikingMLP, ListingRateEncoder
from labkit.fast.encoding import encode_rate_indexed
from labkit.models import SpikingMLP
from labkit.rules import make_rule
from labkit.fast.lists import transpose_index
from labkit.training import paper_loss, predict, resolve_device
from labkit.training.evaluation import model_inputs

STEPS, BATCH, INFER_BATCH = 25, 128, 1000
SIZES = (784, 500, 10)
FLOP_PER_SAMPLE = 40e6  # BPTT of 784-500-10 at T = 25 (design notes): forward 9.93 M MACs, backward as much again
TARGET_DEFAULT_VS_PEER, TARGET_BP_VS_PEER, TARGET_BP_VS_REF, TARGET_HYBRID_VS_BP, TARGET_EFFICIENCY = 0.6, 0.4, 0.4, 1.6, 0.60
ROOT = Path(__file__).resolve().parent.parent
ENCODER = RateEncoder()  # the rate code of `labkit.training.train` and `evaluate`
LISTING = ListingRateEncoder(ENCODER)  # the same code as the fast backend asks for it: its list alone
CLOCKS = {
    "cpu": "the process's CPU seconds per call: on a machine shared with other jobs they leave out the waits "
           "for a free core, which wall time mixes in",
    "wall": "wall-clock seconds per call",
}


def other(clock: str) -> str:
    return "wall" if clock == "cpu" else "cpu"


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


def rate_spikes(images: torch.Tensor) -> torch.Tensor:
    """The dense rate code the peers are given: ``rand < x`` for every pixel and step (global generator,
    as the peers' tutorials draw it)."""
    flat = images.reshape(len(images), -1)
    return (torch.rand((STEPS, *flat.shape), device=flat.device) < flat).to(flat.dtype)


class _ATanSpike(torch.autograd.Function):
    """Heaviside forward, arctangent surrogate backward (snnTorch's ``atan``, α = 2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1 + (torch.pi * x).pow(2))  # (α/2) / (1 + (π α x / 2)²) with α = 2


class MultiStepNet(nn.Module):
    """The network as one would write it in plain torch, multi-step: each layer's product over all
    T·B rows at once, then the LIF recurrence (reset to zero, reset detached) in a Python loop over
    the steps, autograd for the backward pass."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(SIZES[0], SIZES[1]), nn.Linear(SIZES[1], SIZES[2])

    @staticmethod
    def lif(current: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mem = torch.zeros_like(current[0])
        spk = torch.zeros_like(current[0])
        spikes, membranes = [], []
        for t in range(current.shape[0]):
            mem = 0.9 * mem * (1 - spk.detach()) + current[t]
            spk = _ATanSpike.apply(mem - 1.0)
            spikes.append(spk)
            membranes.append(mem)
        return torch.stack(spikes), torch.stack(membranes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        s1, _ = self.lif(self.fc1(x))
        return self.lif(self.fc2(s1))


def spikingjelly_net(device: torch.device) -> nn.Module | None:
    """SpikingJelly's multi-step network (``step_mode="m"``: `layer.Linear` over all steps, `LIFNode`
    with τ = 10 and ``decay_input=False``, i.e. u_t = 0.9 u_{t−1} + I_t, reset to 0, reset detached,
    arctangent surrogate), or ``None`` when SpikingJelly is not installed."""
    quiet = logging.getLogger("torch._library.triton")  # importing SpikingJelly logs that Triton is absent
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        from spikingjelly.activation_based import layer, neuron, surrogate
    except ImportError:
        return None
    finally:
        quiet.setLevel(level)

    def lif() -> nn.Module:
        return neuron.LIFNode(tau=10.0, decay_input=False, v_threshold=1.0, v_reset=0.0,
                              surrogate_function=surrogate.ATan(), detach_reset=True, step_mode="m", store_v_seq=True)

    return nn.Sequential(layer.Linear(SIZES[0], SIZES[1], step_mode="m"), lif(),
                         layer.Linear(SIZES[1], SIZES[2], step_mode="m"), lif()).to(device)


def make_peer_step(kind: str, images: torch.Tensor, labels: torch.Tensor, device: torch.device):
    """One training step of a multi-step peer (``"torch"`` or ``"spikingjelly"``), Adam, the loss of
    labkit's `paper_loss` on the output membrane; ``None`` when the peer is not installed."""
    if kind == "torch":
        net = MultiStepNet().to(device)

        def membrane(spikes: torch.Tensor) -> torch.Tensor:
            return net(spikes)[1]
    else:
        net = spikingjelly_net(device)
        if net is None:
            return None
        from spikingjelly.activation_based import functional

        def membrane(spikes: torch.Tensor) -> torch.Tensor:
            functional.reset_net(net)
            net(spikes)
            return net[-1].v_seq

    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3, betas=(0.9, 0.999))

    def step() -> None:
        loss = paper_loss(membrane(rate_spikes(images)), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return step


def make_labkit_step(rule_name: str, images: torch.Tensor, labels: torch.Tensor, device: torch.device,
                     network=SpikingMLP):
    """One labkit training step, the calls `labkit.training.train` makes per batch (``network``: the default path's
    `SpikingMLP` or the fast backend's `FastSpikingMLP`)."""
    model = network(SIZES, seed=0).to(device)
    rule = make_rule(rule_name)
    rule.bind(model)
    generator = torch.Generator(device=device).manual_seed(0)

    def step() -> None:
        with torch.set_grad_enabled(rule.uses_gradient):
            output = model(model_inputs(model, images, ENCODER, STEPS, generator))  # as labkit.training.train does
            loss = paper_loss(output.out_membrane, labels)
        rule.step(output, loss)

    return step


def make_labkit_inference(images: torch.Tensor, device: torch.device, network=SpikingMLP) -> Callable[[], None]:
    model = network(SIZES, seed=0).to(device).eval()
    generator = torch.Generator(device=device).manual_seed(0)

    @torch.no_grad()
    def step() -> None:
        predict(model(model_inputs(model, images, ENCODER, STEPS, generator)))  # as labkit.training.evaluate does

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
    start, cpu_start = time.perf_counter(), time.process_time()
    history = train(model, "bp", data, epochs=1, device=device, progress=False)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    peak_kib = peak / 1024 if sys.platform == "darwin" else peak
    print(json.dumps({
        "data": "full MNIST" if full else "bundled subset (full MNIST absent)",
        "train": len(data.train_x), "test": len(data.test_x), "seconds": seconds, "cpu_seconds": cpu_seconds,
        "peak_rss_mib": peak_kib / 1024, "test_acc": history.test_acc[-1],
    }))
    return 0


def dashboard_child(device: str, threads: int | None) -> int:
    """Press Train on the chapter-5 dashboard with its defaults and print the run's wall time as JSON."""
    os.environ.pop("LABKIT_FAST", None)  # the defaults of the full course, not of the test suite
    from labkit.widgets import hybrid_dashboard

    if threads is not None:
        torch.set_num_threads(threads)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dashboard = hybrid_dashboard(device=device)
    settings = dashboard.settings()
    start, cpu_start = time.perf_counter(), time.process_time()
    history = dashboard.run(wait=True)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    if history is None:
        raise RuntimeError(f"the dashboard run failed: {dashboard.error!r}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_kib = peak / 1024 if sys.platform == "darwin" else peak
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu_seconds, "hidden": dashboard.hidden,
                      "train": len(dashboard.data.train_x), "test": len(dashboard.data.test_x),
                      "peak_rss_mib": peak_kib / 1024, "test_acc": dashboard.runs[-1].summary().clean_mean,
                      **settings.as_row()}))
    return 0


def run_child(flag: str, device: torch.device, threads: int | None) -> dict:
    """Run this script with ``flag`` (an ``--_…-child`` option) in a fresh process; its JSON line."""
    cmd = [sys.executable, __file__, flag, "--device", device.type]
    if threads is not None:
        cmd += ["--threads", str(threads)]
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        raise RuntimeError(f"the {flag} subprocess failed:\n{result.stderr[-2000:]}")
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
    for package in ("snntorch", "spikingjelly"):
        try:
            version = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            continue
        lines[-1] += f"; {package} {version}"
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
                        help="keep glibc's default malloc thresholds (as labkit's training does; the benchmark raises them)")
    parser.add_argument("--dashboard", action="store_true",
                        help="also time the chapter-5 dashboard's default Train run (labkit.widgets.hybrid_dashboard)")
    parser.add_argument("--clock", choices=tuple(CLOCKS), default="cpu",
                        help="time the ratios and verdicts are computed from (default cpu; on a GPU always wall)")
    parser.add_argument("--_epoch-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--_dashboard-child", action="store_true", help=argparse.SUPPRESS)
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
    if args._dashboard_child:
        return dashboard_child(args.device, args.threads)
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
    code = encode_rate_indexed(images, STEPS, generator=torch.Generator(device=device).manual_seed(1))
    g_split = torch.Generator(device=device).manual_seed(2)

    @torch.no_grad()
    def encode_for_inference() -> None:
        LISTING(infer_images, STEPS, g_split)
    steps = {
        "matmul": matmul,
        "reference": make_reference_step(images, labels, device),
        "peer torch": make_peer_step("torch", images, labels, device),
        "peer spikingjelly": make_peer_step("spikingjelly", images, labels, device),
        "default bp": make_labkit_step("bp", images, labels, device),
        "default adaptive": make_labkit_step("adaptive", images, labels, device),
        "labkit bp": make_labkit_step("bp", images, labels, device, FastSpikingMLP),
        "labkit sum": make_labkit_step("sum", images, labels, device, FastSpikingMLP),
        "labkit adaptive": make_labkit_step("adaptive", images, labels, device, FastSpikingMLP),
        # the fast bp step's overhead around the arithmetic, timed alone: drawing and listing the input
        # spikes (row by row), and the column-by-column list the backward pass and STDP read
        "split encode+index": lambda: LISTING(images, STEPS, g_split),  # gradients on, as in training
        "split column index": lambda: transpose_index(code.index, SIZES[0]),
        "infer ref": make_reference_inference(infer_images, device),
        "infer default": make_labkit_inference(infer_images, device),
        "infer labkit": make_labkit_inference(infer_images, device, FastSpikingMLP),
        "infer encode+index": encode_for_inference,
    }
    missing = [name for name, step in steps.items() if step is None]
    steps = {name: step for name, step in steps.items() if step is not None}
    description = machine(device) + [f"malloc: {allocator}"]
    cpu_times: dict[str, list[float]] = {}
    wall_times = interleave(steps, args.repeats, args.warmup, device, cpu_times)
    clock = args.clock if device.type == "cpu" else "wall"  # a GPU's work is not the process's CPU time
    times = cpu_times if clock == "cpu" else wall_times
    med = {name: statistics.median(t) for name, t in times.items()}
    med_wall = {name: statistics.median(t) for name, t in wall_times.items()}
    med_cpu = {name: statistics.median(t) for name, t in cpu_times.items()}

    gflops = matmul_flop / med["matmul"] / 1e9
    bp_gflops = FLOP_PER_SAMPLE * BATCH / med["labkit bp"] / 1e9
    peers = {name: med[name] for name in ("peer torch", "peer spikingjelly") if name in med}
    fastest = min(peers, key=peers.get)
    overhead = med["split encode+index"] + med["split column index"]
    per_digit_infer, per_digit_bp = med["infer labkit"] / INFER_BATCH, med["labkit bp"] / BATCH
    ratios = {
        "default_vs_peer": med["default bp"] / peers[fastest],
        "bp_vs_ref": med["labkit bp"] / med["reference"],
        "bp_vs_peer": med["labkit bp"] / peers[fastest],
        "astdp_vs_peer": med["labkit adaptive"] / peers[fastest],
        "sum_vs_bp": med["labkit sum"] / med["labkit bp"],
        "adaptive_vs_bp": med["labkit adaptive"] / med["labkit bp"],
        "efficiency": bp_gflops / gflops,
        "overhead": overhead / med["labkit bp"],
        "infer_vs_bp": per_digit_infer / per_digit_bp,
    }

    rows = [f"| variant | median ms ({clock}) | IQR ms | samples/s | {other(clock)} median ms |",
            "| --- | ---: | ---: | ---: | ---: |"]
    for name, t in times.items():
        q1, m, q3 = quartiles(t)
        m_other = (med_wall if clock == "cpu" else med_cpu)[name]
        if name == "matmul":
            rate = f"{gflops:.0f} GFLOP/s"
        elif name.startswith("split"):
            rate = f"{100 * m / med['labkit bp']:.0f} % of labkit bp"
        elif name == "infer encode+index":
            rate = f"{100 * m / med['infer labkit']:.0f} % of infer labkit"
        else:
            rate = f"{(INFER_BATCH if name.startswith('infer') else BATCH) / m:,.0f}"
        rows.append(f"| {name} | {1e3 * m:.1f} | {1e3 * q1:.1f}-{1e3 * q3:.1f} | {rate} | {1e3 * m_other:.1f} |")

    def verdict(ok: bool) -> str:
        return "meets" if ok else "MISSES"

    checks = {
        "default_vs_peer": ratios["default_vs_peer"] <= TARGET_DEFAULT_VS_PEER,
        "bp_vs_peer": ratios["bp_vs_peer"] <= TARGET_BP_VS_PEER,
        "bp_vs_ref": ratios["bp_vs_ref"] <= TARGET_BP_VS_REF,
        "astdp_vs_peer": ratios["astdp_vs_peer"] <= 1.0,
        "hybrid_vs_bp": max(ratios["sum_vs_bp"], ratios["adaptive_vs_bp"]) <= TARGET_HYBRID_VS_BP,
        "efficiency": ratios["efficiency"] >= TARGET_EFFICIENCY,
    }
    summary = [
        f"- default path (`SpikingMLP`) bp step / fastest multi-step peer ({fastest}): "
        f"**{ratios['default_vs_peer']:.2f}** ({verdict(checks['default_vs_peer'])} target ≤ {TARGET_DEFAULT_VS_PEER}); "
        + ", ".join(f"{name} {1e3 * t:.1f} ms" for name, t in peers.items())
        + f"; default bp {1e3 * med['default bp']:.1f} ms, default A-STDP {1e3 * med['default adaptive']:.1f} ms",
        f"- fast backend (`labkit.fast.FastSpikingMLP`, the `labkit` lines) bp step / fastest multi-step peer: "
        f"**{ratios['bp_vs_peer']:.2f}** ({verdict(checks['bp_vs_peer'])} target ≤ {TARGET_BP_VS_PEER}); "
        f"fast bp {1e3 * med['labkit bp']:.1f} ms",
        f"- labkit (fast) bp step / snnTorch tutorial step: **{ratios['bp_vs_ref']:.2f}** "
        f"({verdict(checks['bp_vs_ref'])} target ≤ {TARGET_BP_VS_REF})",
        f"- A-STDP (adaptive) step / fastest peer's bp step: **{ratios['astdp_vs_peer']:.2f}** "
        f"({verdict(checks['astdp_vs_peer'])} target ≤ 1)",
        f"- hybrid step / bp step: sum **{ratios['sum_vs_bp']:.2f}**, adaptive **{ratios['adaptive_vs_bp']:.2f}** "
        f"({verdict(checks['hybrid_vs_bp'])} target ≤ {TARGET_HYBRID_VS_BP})",
        f"- profile split of the bp step: encoding and indexing (the split lines) "
        f"{1e3 * overhead:.1f} ms = **{100 * ratios['overhead']:.0f} %**; the arithmetic (products, LIF, loss, backward, Adam) the other "
        f"{100 * (1 - ratios['overhead']):.0f} %",
        f"- inference per digit / bp training step per digit: **{ratios['infer_vs_bp']:.2f}** "
        f"({1e3 * per_digit_infer:.3f} vs {1e3 * per_digit_bp:.3f} ms); encoding and indexing "
        f"{100 * med['infer encode+index'] / med['infer labkit']:.0f} % of inference",
        f"- bp step at 40 MFLOP/sample: {bp_gflops:.0f} GFLOP/s = **{100 * ratios['efficiency']:.0f} %** of the "
        f"matmul's {gflops:.0f} GFLOP/s ({verdict(checks['efficiency'])} target "
        f"≥ {100 * TARGET_EFFICIENCY:.0f} %)",
        f"- inference: labkit fast {INFER_BATCH / med['infer labkit']:,.0f} samples/s, default "
        f"{INFER_BATCH / med['infer default']:,.0f} samples/s, reference "
        f"{INFER_BATCH / med['infer ref']:,.0f} samples/s (ratio of times "
        f"{med['infer labkit'] / med['infer ref']:.2f})",
    ]
    by_other = med_wall if clock == "cpu" else med_cpu
    fastest_other = min(by_other[name] for name in peers)
    summary.append(
        f"- the same ratios by {other(clock)} time: default bp / fastest peer {by_other['default bp'] / fastest_other:.2f}, "
        f"fast bp / fastest peer {by_other['labkit bp'] / fastest_other:.2f}, "
        f"bp / snnTorch {by_other['labkit bp'] / by_other['reference']:.2f}, A-STDP / fastest peer's bp "
        f"{by_other['labkit adaptive'] / fastest_other:.2f}, encoding + indexing "
        f"{100 * (by_other['split encode+index'] + by_other['split column index']) / by_other['labkit bp']:.0f} % of "
        f"the bp step, inference per digit / bp step per digit "
        f"{(by_other['infer labkit'] / INFER_BATCH) / (by_other['labkit bp'] / BATCH):.2f}")
    if missing:
        summary.append(f"- not measured (not installed): {', '.join(missing)}")
    epoch = None
    if args.epoch:
        epoch = run_child("--_epoch-child", device, args.threads)
        summary.append(
            f"- one bp epoch on {epoch['data']} ({epoch['train']:,} train + {epoch['test']:,} test digits, "
            f"`labkit.training.train`): {epoch['seconds']:.1f} s wall, {epoch['cpu_seconds']:.1f} s CPU, "
            f"peak RSS {epoch['peak_rss_mib']:.0f} MiB, "
            f"test accuracy {100 * epoch['test_acc']:.2f} %"
        )

    if args.dashboard:
        run = run_child("--_dashboard-child", device, args.threads)
        summary.append(
            f"- the chapter-5 dashboard's default run (`labkit.widgets.hybrid_dashboard()`, Train: rule "
            f"{run['rule']}, {run['hidden']} hidden neurons, {run['train']:,} training digits, {run['epochs']} "
            f"epochs, batch {run['batch_size']}, tested on {run['test']:,} digits during and after the run): {run['seconds']:.1f} s wall, "
            f"{run['cpu_seconds']:.1f} s CPU, "
            f"peak RSS {run['peak_rss_mib']:.0f} MiB, test accuracy {100 * run['test_acc']:.1f} % "
            f"(benchmarks/bench_dashboard.py times it next to the bp step)"
        )

    command = "python benchmarks/bench_training.py " + " ".join(a for a in sys.argv[1:])
    report = "\n".join([
        "# Training benchmark results",
        "",
        f"Command: `{command.strip()}`",
        "",
        f"Network 784-500-10, T = {STEPS}, training batch {BATCH}, inference batch {INFER_BATCH}, "
        f"device {device.type}; {args.repeats} interleaved rounds after {args.warmup} warm-up rounds; "
        "medians and interquartile ranges per call (the matmul line times 4 products). Ratios and verdicts "
        f"from {clock} time ({CLOCKS[clock]}).",
        "",
        *(f"- {line}" for line in description),
        f"- load average at the end {os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else "",
        "",
        *rows,
        "",
        *summary,
        "",
    ])
    print(report)
    if args.output != "-":
        Path(args.output).write_text(report)
    return 1 if args.check and not all(checks.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
