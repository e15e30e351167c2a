"""``labkit deploy``: a trained network on Loihi's arithmetic, four ways, on the same spikes.

The paper trains offline and runs inference on Loihi through Lava. Without the chip, the lab
runs one trained `SpikingMLP` on the *same* rate-coded test inputs as torch float (the model
itself), torch quantised (`labkit.loihi.quantize.emulate_fixed_point`: Loihi's integer arithmetic),
Lava float (``floating_pt``) and Lava fixed point (``fixed_pt``: what the chip computes), and
reports each one's accuracy, how often two of them give an image the same class and identical
output spike trains, the spikes per image in every layer, and Lava's speed. Each reads the class
by spike count (most output spikes, ties to the lowest class), as a spike counter on the chip does.

Usage::

    labkit deploy                         # 1,000 test images, default model, all four
    labkit deploy --images 10000          # the whole test set
    labkit deploy --fixed-point           # Lava in fixed point only (the chip's arithmetic)
    labkit deploy --model path/model.pt   # another SpikingMLP state_dict (reset "zero")

The default model is ``results/mnist/runs/bp_s0/model.pt`` (``make reproduce`` writes it); when it
is missing, one epoch of surrogate-gradient training makes a stand-in (and the JSON says so).
Which files are accepted: `load_or_train_model`. The result goes to ``--out``'s ``deploy.json``,
beside the model bundle (``bundle.npz``) and its NIR graph (``model.nir``), once all runs have
finished. Without ``--out`` it goes to ``results/<dataset>/loihi/`` only while that folder holds
nothing, else into a new ``results/<dataset>/loihi-trial-<UTC time>/``
(`labkit.foundation.paths.trial_folder`): pass ``--out results/mnist/loihi`` to replace the
committed results on purpose.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import re
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..data import fast_mode, load_mnist, mnist_available, mnist_data, sha256_of
from ..encoding import encode_rate
from ..energy import LayerOps, OpCounts, energy_from_counts
from ..foundation.errors import LabkitError
from ..foundation.io import check_finite, check_free_space, check_regular_file, load_torch, save_torch, write_json
from ..foundation.paths import REPO_ROOT, trial_folder
from ..foundation.seeds import check_seed
from ..interop.nir import export_nir
from ..models import SpikingMLP
from ..training import train
from .bundle import Bundle, LavaResult, predict_from_spikes, save_bundle
from .quantize import QuantConfig, emulate_fixed_point, quantization_errors, quantize_model
from .sidecar import lava_backend, run_lava

__all__ = ["BACKENDS", "Comparison", "DeployModelError", "LABELS", "READOUT", "add_arguments", "compare",
           "default_model_path", "encode_inputs", "format_comparison", "lava_op_counts", "load_or_train_model", "run",
           "spiking_mlp_from_state"]


# A model file is a plain ``state_dict``, and the ANN baseline's has the keys of a `SpikingMLP`: only the run
# folder's records (eval.json, history.json) can say that it is an ANN's. Any hidden sizes and depth deploy.

_LAYER_KEY = re.compile(r"layers\.(\d+)\.(weight|bias)")
#: Files beside a model that may name the rule it was trained with.
_RUN_RECORDS = ("eval.json", "history.json", "config.json")


class DeployModelError(LabkitError):
    """The model file is not a feed-forward SpikingMLP that can be deployed (the message says why)."""


def default_model_path() -> Path:
    """``results/mnist/runs/bp_s0/model.pt`` in the repository."""
    return REPO_ROOT / "results" / "mnist" / "runs" / "bp_s0" / "model.pt"


def repo_relative(path: Path | None) -> str | None:
    """``path`` relative to the repository where it lies inside it, else its file name (for records)."""
    if path is None:
        return None
    path = Path(path).resolve()
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else path.name


def _recorded_rule(path: Path) -> tuple[str, str] | None:
    """(rule, record file) from the run records beside ``path``. Every record is read: one that names the ANN
    (``rule: ann``, or ``model: ANNBaseline`` at the top or in its ``config``, as history.json has it) wins
    over any other, so a folder whose eval.json is missing or says otherwise is still known as an ANN's."""
    found = None
    for name in _RUN_RECORDS:
        record = path.parent / name
        try:
            data = json.loads(record.read_text())
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict):
            continue
        config = data.get("config") if isinstance(data.get("config"), dict) else {}
        if "ANNBaseline" in (data.get("model"), config.get("model")):
            return "ann", name
        for value in (data.get("rule"), config.get("rule")):
            if isinstance(value, str) and found is None:
                found = (value, name)
            if value in ("ann", "stdp_only"):
                return value, name
    return found


def spiking_mlp_from_state(state, source: str = "the model file", *, inputs: int = 784, classes: int = 10) -> SpikingMLP:
    """A `SpikingMLP` sized from ``state`` (a SpikingMLP state_dict), or `DeployModelError` saying what it is."""
    if not isinstance(state, dict) or not state:
        raise DeployModelError(f"{source} holds a {type(state).__name__}, not a SpikingMLP state_dict "
                               "(save one with torch.save(model.state_dict(), path))")
    keys = set(state)
    if {"weight", "theta", "neuron_labels"} <= keys:
        raise DeployModelError(f"{source} is the STDP-only competitive layer, not a SpikingMLP: deploy a network "
                               "trained with `labkit train --rule bp|sum|adaptive`")
    if {"model", "optimizer"} & keys or "epoch" in keys:
        raise DeployModelError(f"{source} is a training checkpoint, not a model: pass the run's model.pt "
                               "(written beside checkpoint.pt when training finishes)")
    if any(key.startswith("recurrent.") for key in keys):
        raise DeployModelError(f"{source} is a recurrent SpikingMLP; Lava deployment supports feed-forward networks only")
    unknown = sorted(key for key in keys if not _LAYER_KEY.fullmatch(key))
    if unknown:
        raise DeployModelError(f"{source} is not a SpikingMLP state_dict: unexpected entries {', '.join(unknown[:5])}")
    count = 1 + max(int(_LAYER_KEY.fullmatch(key).group(1)) for key in keys)
    weights = [state.get(f"layers.{i}.weight") for i in range(count)]
    if any(not torch.is_tensor(w) or w.dim() != 2 for w in weights):
        raise DeployModelError(f"{source}: every layer needs a 2-D weight (layers.0.weight … layers.{count - 1}.weight)")
    sizes = (int(weights[0].shape[1]), *(int(w.shape[0]) for w in weights))
    for i, (w, n_in) in enumerate(zip(weights, sizes)):
        if w.shape[1] != n_in:
            raise DeployModelError(f"{source}: layer {i} takes {w.shape[1]} inputs but the layer before has {n_in} "
                                   "outputs; the layers do not chain")
    if sizes[0] != inputs or sizes[-1] != classes:
        raise DeployModelError(f"{source} is a {'-'.join(map(str, sizes))} network; deployment on MNIST needs "
                               f"{inputs} inputs (28×28 pixels) and {classes} outputs (the digits)")
    biases = [f"layers.{i}.bias" in keys for i in range(count)]
    if len(set(biases)) != 1:
        raise DeployModelError(f"{source}: some layers have a bias and some do not; SpikingMLP uses one setting")
    check_finite(state, source)  # a NaN network would deploy and report class 0 for every image
    model = SpikingMLP(sizes, bias=biases[0], seed=0)
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:  # a bias of another length
        raise DeployModelError(f"{source}: its tensors do not fit a {'-'.join(map(str, sizes))} SpikingMLP "
                               f"({(str(exc).splitlines() or [''])[-1].strip()})") from None
    return model


def _load(path: Path) -> tuple[SpikingMLP, dict]:
    check_regular_file(path, "model")  # a FIFO would block the read; a folder is not a model
    if not path.is_file():
        raise FileNotFoundError(f"no model at {path}; train one with `labkit train` or `make reproduce`")
    recorded = _recorded_rule(path)
    if recorded is not None and recorded[0] in ("ann", "stdp_only"):
        why = "an ANN has no spikes to run on Loihi" if recorded[0] == "ann" else "it is not a SpikingMLP"
        raise DeployModelError(f"{path} was trained as rule {recorded[0]!r} ({recorded[1]} beside it says so): {why}; "
                               "deploy a spiking network, e.g. results/mnist/runs/bp_s0/model.pt")
    state = load_torch(path, what="model")  # tensors and plain data only; a crafted pickle is refused
    model = spiking_mlp_from_state(state, str(path))
    info = {"path": repo_relative(path), "sha256": sha256_of(path), "trained_here": False, "sizes": list(model.sizes)}
    if recorded is not None:
        info["rule"] = recorded[0]
    return model, info


def load_or_train_model(path: str | Path | None = None, *, fallback: str | Path | None = None, source: str = "auto",
                        epochs: int = 1, seed: int = 0, progress: bool = True) -> tuple[SpikingMLP, dict]:
    """The model to deploy and a description of where it came from.

    ``path`` given: load that `SpikingMLP` state_dict (FileNotFoundError if missing,
    `DeployModelError` if it is not a deployable SpikingMLP). ``path`` None: the default model
    if present, else ``fallback`` if present, else train a stand-in with rule ``bp`` for
    ``epochs`` on MNIST and save it to ``fallback`` (when given).
    """
    if path is not None:
        return _load(Path(path))
    for candidate in (default_model_path(), Path(fallback) if fallback else None):
        if candidate is not None and candidate.exists():
            model, info = _load(candidate)
            info["trained_here"] = candidate != default_model_path()
            return model, info

    warnings.warn(f"{repo_relative(default_model_path())} not found (`make reproduce` writes it); training a "
                  f"stand-in: rule bp, {epochs} epoch(s)", stacklevel=2)
    model = SpikingMLP()
    data = mnist_data(source)
    history = train(model, "bp", data, epochs, seed=seed, device="cpu", progress=progress)
    info = {"path": None, "trained_here": True, "rule": "bp", "epochs": epochs, "seed": seed,
            "data": data.name, "test_acc": history.test_acc[-1], "sizes": list(model.sizes)}
    if fallback is not None:
        fallback = Path(fallback)
        save_torch(fallback, model.state_dict())
        info.update(path=repo_relative(fallback), sha256=sha256_of(fallback))
    return model, info


#: The readout every back end is compared by (`labkit.readout`): most output spikes, ties to the lowest class.
READOUT = "count"
#: The four executions, in the order they are reported.
BACKENDS = ("torch_float", "torch_quantized", "lava_float", "lava_fixed")
LABELS = {"torch_float": "torch float", "torch_quantized": "torch quantised", "lava_float": "Lava float",
          "lava_fixed": "Lava fixed point"}


def encode_inputs(images: torch.Tensor, num_steps: int = 25, *, seed: int = 0, batch_size: int = 500) -> np.ndarray:
    """Rate-code ``images`` ``[N, 28, 28]`` once, for every back end: bool ``[T, N, 784]``, drawn batch after batch
    from one `torch.Generator` seeded with ``seed`` (so the spikes depend only on images, num_steps and seed)."""
    generator = torch.Generator().manual_seed(seed)
    return np.concatenate([encode_rate(images[start : start + batch_size], num_steps, generator=generator)
                           .reshape(num_steps, -1, images[0].numel()).bool().numpy()
                           for start in range(0, len(images), batch_size)], axis=1)


@dataclass
class Comparison:
    """The four executions on the same inputs (see `compare`); `summary` is what goes into the JSON."""

    labels: np.ndarray
    predictions: dict[str, np.ndarray]
    out_spikes: dict[str, np.ndarray]  #: [T, N, n_out] bool per back end
    spikes_per_image: dict[str, list[float]]  #: mean spikes per image: input, hidden…, output
    lava: dict[str, LavaResult] = field(default_factory=dict)
    quantization: list[dict] = field(default_factory=list)
    readout: str = READOUT

    def summary(self) -> dict:
        """Per back end its accuracy and the fraction of images with no output spike ("silent"); per pair of back
        ends the fraction of images given the same class ("agreement") and identical output spike trains."""
        names = [b for b in BACKENDS if b in self.predictions]
        pairs = [(a, b, f"{a}/{b}") for a, b in itertools.combinations(names, 2)]
        out = self.out_spikes
        n = len(self.labels)
        lava = {mode: {"backend": r.backend, "samples_per_second": n / r.lava_seconds, "steps": r.steps,
                       "steps_per_second": r.steps / r.lava_seconds, "seconds": r.lava_seconds,
                       "seconds_with_startup": r.total_seconds, "seconds_per_1000_images": 1000.0 * r.lava_seconds / n}
                for mode, r in self.lava.items()}
        return {"images": n, "readout": self.readout,
                "accuracy": {b: float((self.predictions[b] == self.labels).mean()) for b in names},
                "agreement": {key: float((self.predictions[a] == self.predictions[b]).mean()) for a, b, key in pairs},
                "identical_output_spikes": {key: float((out[a] == out[b]).all(axis=(0, 2)).mean())
                                            for a, b, key in pairs},
                "silent_fraction": {b: float((~out[b].any(axis=(0, 2))).mean()) for b in names},
                "spikes_per_image": self.spikes_per_image, "lava": lava, "quantization": self.quantization}


def _torch_runs(model: SpikingMLP, bundle: Bundle, spikes: np.ndarray, batch_size: int) -> tuple[dict, dict]:
    """Per torch back end, its output spikes [T, N, C] and its layer counts [N, L]."""
    runs = {"torch_float": ([], []), "torch_quantized": ([], [])}
    model = model.to("cpu").eval()
    with torch.no_grad():
        for start in range(0, spikes.shape[1], batch_size):
            x = torch.from_numpy(spikes[:, start : start + batch_size]).float()
            for name, out in (("torch_float", model(x)), ("torch_quantized", emulate_fixed_point(bundle, x))):
                runs[name][0].append(out.out_spikes.numpy() > 0)
                runs[name][1].append(np.stack([s.sum(dim=(0, 2)).long().numpy() for s in out.spikes[1:]], axis=1))
    return ({name: np.concatenate(outs, axis=1) for name, (outs, _) in runs.items()},
            {name: np.concatenate(counts) for name, (_, counts) in runs.items()})


def compare(model: SpikingMLP, spikes: np.ndarray, labels: np.ndarray | torch.Tensor, *, bundle: Bundle | None = None,
            config: QuantConfig = QuantConfig(), lava_modes: tuple[str, ...] = ("float", "fixed"),
            chunk_size: int = 500, batch_size: int = 250, progress: bool = False) -> Comparison:
    """Run the four back ends on input spikes ``[T, N, n_in]`` and collect everything `Comparison` reports.

    ``lava_modes`` selects the Lava runs (empty: torch only, e.g. where Lava is absent). Every back end is
    read out by spike count (`READOUT`).
    """
    labels = np.asarray(labels)
    if spikes.shape[1] != len(labels):
        raise ValueError(f"{spikes.shape[1]} encoded images but {len(labels)} labels")
    if bundle is None:
        bundle = quantize_model(model, config=config, num_steps=spikes.shape[0])
    outs, counts = _torch_runs(model, bundle, spikes, batch_size)
    from tqdm.auto import tqdm

    lava = {}
    for mode in lava_modes:  # one after the other, each with a progress bar where ``progress``
        with tqdm(total=spikes.shape[1], desc=f"Lava {mode}", unit="img", disable=not progress) as bar:
            lava[mode] = run_lava(bundle, spikes, mode=mode, chunk_size=chunk_size,
                                  progress=lambda done, total: bar.update(done - bar.n))
    for mode, result in lava.items():
        outs[f"lava_{mode}"], counts[f"lava_{mode}"] = result.out_spikes, result.layer_counts
    predictions = {name: predict_from_spikes(out) for name, out in outs.items()}
    input_spikes = float(spikes.sum()) / spikes.shape[1]
    per_image = {name: [input_spikes, *map(float, c.mean(axis=0))] for name, c in counts.items()}
    quant = [{"weight_exp": layer.weight_exp, "vth": layer.vth, "bias_exp": layer.bias_exp, "du": layer.du,
              "dv": layer.dv, "scale": layer.scale, **err}
             for layer, err in zip(bundle.layers, quantization_errors(bundle))]
    return Comparison(labels, predictions, outs, per_image, lava, quant, READOUT)


def lava_op_counts(bundle: Bundle, spikes_per_image: list[float]):
    """`labkit.energy.OpCounts` per inference from spike counts per image (input, hidden…, output).

    On Loihi a Dense layer stores every synapse, so each spike costs its full fan-out of
    n_out synaptic operations (Effective_ACs = spikes × n_out; weights that quantised to zero
    are still visited). Every neuron is updated at every step; all updates are counted as
    active (the hidden layer receives over a hundred input spikes per step, the output layer
    hundreds of hidden ones).
    """
    steps = bundle.num_steps
    layers = tuple(LayerOps(name=f"layers.{i}", n_in=layer.n_in, n_out=layer.n_out, effective_macs=0.0,
                            dense=float(steps * layer.n_in * layer.n_out), input_events=spikes_per_image[i],
                            effective_acs=spikes_per_image[i] * layer.n_out, active_updates=float(steps * layer.n_out))
                   for i, layer in enumerate(bundle.layers))
    neurons = sum(bundle.sizes[1:])
    mantissas = sum(np.size(layer.weight_mant) for layer in bundle.layers)
    zeros = sum(int((np.asarray(layer.weight_mant) == 0).sum()) for layer in bundle.layers)
    return OpCounts(kind="snn", num_steps=steps, samples=1, layers=layers, neuron_updates=float(steps * neurons),
                    active_neuron_updates=float(steps * neurons), spikes=tuple(float(s) for s in spikes_per_image),
                    synaptic_updates=0.0, activation_sparsity=1.0 - sum(spikes_per_image[1:]) / (steps * neurons),
                    connection_sparsity=zeros / mantissas,
                    footprint_bytes=int(mantissas + 2 * sum(layer.n_out for layer in bundle.layers)))


def format_comparison(summary: dict, *, speed: bool = True) -> str:
    """The summary as a small text table (accuracy, agreement, spikes and, with ``speed``, Lava's speed)."""
    acc = summary["accuracy"]
    readout = summary.get("readout", "count_membrane")
    silent = summary.get("silent_fraction", {})
    lines = [f"{summary['images']} test images, readout {readout!r} (labkit.readout)", "",
             f"{'back end':<18}{'accuracy':>10}{'silent':>9}{'spikes/image (in, hidden, out)':>36}"]
    for name, value in acc.items():
        spikes = ", ".join(f"{s:.1f}" for s in summary["spikes_per_image"][name])
        quiet = f"{100 * silent[name]:.1f}%" if name in silent else "-"
        lines.append(f"{LABELS[name]:<18}{100 * value:>9.2f}%{quiet:>9}{spikes:>36}")
    lines += ["", "per-image agreement (same class) and identical output spike trains:"]
    for pair, value in summary["agreement"].items():
        a, b = pair.split("/")
        same = summary["identical_output_spikes"][pair]
        lines.append(f"  {LABELS[a]:>16} vs {LABELS[b]:<17}{100 * value:7.2f}%   spikes identical {100 * same:6.2f}%")
    for mode, info in (summary.get("lava", {}) if speed else {}).items():
        lines.append(f"Lava {mode}: {info['samples_per_second']:.1f} images/s ({info['steps_per_second']:.0f} "
                     f"steps/s), {info['seconds_per_1000_images']:.0f} s per 1,000 images ({info['backend']})")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--fixed-point", action="store_true",
                        help="run Lava in fixed point only (the chip's arithmetic); default: float and fixed point")
    parser.add_argument("--images", type=int, help="test images to run (default 1,000; 50 with LABKIT_FAST=1)")
    parser.add_argument("--model", help="SpikingMLP state_dict to deploy (default results/mnist/runs/bp_s0/model.pt)")
    parser.add_argument("--source", default="auto", choices=["auto", "full", "bundled"], help="MNIST source")
    parser.add_argument("--seed", type=int, default=0, help="seed of the rate code")
    parser.add_argument("--num-steps", type=int, default=25, help="time steps per image T")
    parser.add_argument("--chunk-size", type=int, default=500, help="images between two progress reports of Lava")
    parser.add_argument("--weight-bits", type=int, default=8, help="weight mantissa bits (Loihi: 8)")
    parser.add_argument("--out", help="output folder (default results/<dataset>/loihi while it holds nothing, else "
                        "a new results/<dataset>/loihi-trial-TIME: results already there are never replaced unless "
                        "--out names their folder)")
    parser.add_argument("--no-lava", action="store_true", help="torch float and quantised only")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    images = args.images if args.images is not None else (50 if fast_mode() else 1000)
    for option, value in (("--images", images), ("--chunk-size", args.chunk_size)):
        if value < 1:
            raise LabkitError(f"{option} must be >= 1, got {value}")
    check_seed(args.seed, "--seed")  # the rate code's seed: a negative or huge one would alias another
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    modes = () if args.no_lava else (("fixed",) if args.fixed_point else ("float", "fixed"))
    if modes and lava_backend() is None:
        raise LabkitError("Lava is not available (no importable lava-nc and no .venv-lava sidecar): run `make setup`, "
                          "set LABKIT_LAVA_PYTHON, or pass --no-lava")
    x, y = load_mnist("test", source=args.source, limit=images)
    dataset = "mnist" if args.source == "full" or (args.source == "auto" and mnist_available()) else "mnist-mini"
    out_dir = Path(args.out) if args.out else trial_folder(REPO_ROOT / "results" / dataset / "loihi")
    check_free_space(out_dir, "deploy's output folder")
    model, model_info = load_or_train_model(args.model, fallback=out_dir / "standin_bp_e1.pt", source=args.source,
                                            progress=not args.quiet)
    config = QuantConfig(weight_bits=args.weight_bits)
    bundle = quantize_model(model, config=config, num_steps=args.num_steps,
                            metadata={"model": model_info.get("path"), "model_sha256": model_info.get("sha256")})
    spikes = encode_inputs(x, args.num_steps, seed=args.seed)
    summary = compare(model, spikes, y.numpy(), bundle=bundle, lava_modes=modes, chunk_size=args.chunk_size,
                      progress=not args.quiet).summary()
    summary["energy_loihi_per_inference"] = _energy(bundle, summary)
    result = {"command": " ".join(["labkit", *sys.argv[1:]]) if sys.argv[1:2] == ["deploy"] else "labkit deploy",
              "dataset": dataset, "model": model_info, "num_steps": args.num_steps,
              "encoding": {"kind": "rate", "seed": args.seed, "gain": 1.0},
              "readout_rule": "most output spikes, ties to the lowest class index (labkit.readout 'count'); "
                              "the same for all four back ends, so Lava needs no membrane probe",
              "quant_config": {"weight_bits": config.weight_bits, "min_vth": config.min_vth}, **summary,
              "targets": _targets(summary),
              "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "torch": torch.__version__,
                          "load_average_1min_at_start": load_before[0] if load_before else None,
                          "load_average_1min_at_end": os.getloadavg()[0] if load_before else None},
              "wall_seconds": time.perf_counter() - started}
    out_dir.mkdir(parents=True, exist_ok=True)
    save_bundle(bundle, out_dir / "bundle.npz")
    export_nir(model, out_dir / "model.nir")
    write_json(out_dir / "deploy.json", result)
    print(format_comparison(summary))
    for name, info in summary["energy_loihi_per_inference"].items():
        print(f"Loihi energy per inference from {LABELS[name]} spike counts: {info['energy_uJ']:.1f} µJ")
    print(f"wrote {repo_relative(out_dir / 'deploy.json')}, bundle.npz and model.nir")
    return 0


def _energy(bundle: Bundle, summary: dict) -> dict:
    """Loihi energy per inference (`labkit.energy`) from each Lava back end's spike counts."""
    energy = {}
    for name in (n for n in summary["accuracy"] if n.startswith("lava")):
        estimate = energy_from_counts(lava_op_counts(bundle, summary["spikes_per_image"][name]), "loihi")
        energy[name] = {"energy_uJ": estimate.total_uj, "breakdown_uJ": {k: v * 1e6 for k, v in estimate.breakdown}}
    return energy


def _targets(summary: dict) -> dict:
    """The deployment's targets, each True or False: Lava within a point of torch, ≥ 99% agreement."""
    acc, agreement, targets = summary["accuracy"], summary["agreement"], {}
    if "lava_fixed" in acc:
        targets["lava_fixed_within_1_point_of_torch_float"] = abs(acc["lava_fixed"] - acc["torch_float"]) <= 0.01
        targets["agreement_lava_fixed_vs_torch_float_at_least_99"] = agreement["torch_float/lava_fixed"] >= 0.99
    if "lava_float" in acc:
        targets["agreement_lava_float_vs_torch_float_at_least_99"] = agreement["torch_float/lava_float"] >= 0.99
    return targets

