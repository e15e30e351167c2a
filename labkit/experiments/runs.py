"""One run of the paper's experiments: trained (or resumed, or reused) in its own folder, evaluated, recorded."""

from __future__ import annotations

import math
import shlex
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch

from ..competitive import CompetitiveParams, classify
from ..foundation.errors import LabkitError
from ..foundation.io import read_json, read_json_record, save_torch, write_json, write_text
from ..foundation.paths import REPO_ROOT
from ..foundation.seeds import Stream, epoch_generator, pass_seed
from ..models import ANNBaseline, SpikingMLP
from ..noise import DEFAULT_NOISE
from ..readout import DEFAULT_LOSS
from ..training import Data, History, evaluate_readouts, train
from ..training.competitive import train_competitive

__all__ = ["FINISHED_FILES", "GRADIENT_RULES", "NOISE_LEVELS", "RunSpec", "STDP_ONLY_EPOCHS", "check_run_folders",
           "code_version", "load_history", "prune_finished", "read_history", "read_run_result", "recorded_loss",
           "run_one", "run_stdp_only"]


NOISE_LEVELS = (0.0, 0.1, 0.2, 0.3, 0.5)


GRADIENT_RULES = ("bp", "sum", "adaptive", "stdp", "ann")


#: Passes of the competitive STDP layer over the training images (scripts/train_stdp_only.py uses the same).
STDP_ONLY_EPOCHS = 3


@dataclass(frozen=True)
class RunSpec:
    """One training run. ``loss`` (`labkit.readout.LOSSES`) applies to the spiking rules; the ANN
    trains on the cross-entropy of its logits and the STDP-only layer on no loss at all.
    ``recurrent``: the spiking network's hidden layer has recurrent weights (the paper's N-MNIST
    configuration); its folder is then ``<rule>_rec_s<seed>``."""
    dataset: str
    rule: str
    seed: int
    epochs: int
    loss: str = DEFAULT_LOSS
    recurrent: bool = False

    def __post_init__(self) -> None:
        if self.recurrent and self.rule in ("ann", "stdp_only"):
            raise ValueError(f"recurrent=True is for the spiking networks trained by a rule, not {self.rule!r}")

    @property
    def name(self) -> str:
        return f"{self.rule}{'_rec' if self.recurrent else ''}_s{self.seed}"

    @property
    def run_loss(self) -> str | None:
        """The loss this run trains with (``None`` for the STDP-only layer)."""
        return {"ann": "cross_entropy", "stdp_only": None}.get(self.rule, self.loss)


def recorded_loss(result: dict) -> str | None:
    """The loss a finished run's eval.json says it trained with (runs from before it was recorded: the membrane)."""
    if "loss" in result:
        return result["loss"]
    return {"ann": "cross_entropy", "stdp_only": None}.get(result.get("rule"), "membrane")


#: What a finished run keeps; everything else in its folder (the checkpoint) is deleted.
FINISHED_FILES = ("eval.json", "history.json", "model.pt")


def _make_model(spec: RunSpec, data: Data):
    n_in = int(math.prod(data.encoder.static(data.train_x[:1]).shape[1:]))  # features per step, from the encoder
    sizes = (n_in, 500, 10)
    if spec.rule == "ann":
        return ANNBaseline(sizes, seed=spec.seed)
    return SpikingMLP(sizes, recurrent=spec.recurrent, seed=spec.seed)


def _hidden_sparsity(model, data: Data, device) -> float | None:
    """Hidden-layer spikes per neuron per step on the first 1,000 test inputs, encoded by the data's encoder."""
    if not isinstance(model, SpikingMLP):
        return None

    x = data.test_x[:1000].to(device)
    inputs = data.encoder(x, 25, torch.Generator(device).manual_seed(0))
    with torch.no_grad():
        out = model.to(device)(inputs)
    return out.spikes[1].mean().item()


def run_one(spec: RunSpec, data: Data, out_root: Path, *, device="auto", progress=True,
            stale: str = "error") -> dict:
    """Train (or resume, or reuse) one run and evaluate it; returns the contents of eval.json.

    A finished run with the same epochs and loss is reused. A folder holding a run with another
    loss (or a checkpoint written with other settings) is *stale*: ``stale="error"`` raises
    `ValueError` saying so, ``stale="replace"`` deletes its files (they stay in git history) and
    trains afresh. A finished run keeps only `FINISHED_FILES`: its checkpoint is deleted.
    """
    if stale not in ("error", "replace"):
        raise ValueError(f"stale must be 'error' or 'replace', got {stale!r}")
    folder = Path(out_root) / spec.dataset / "runs" / spec.name
    done = folder / "eval.json"
    if done.is_file():
        result = read_run_result(done)
        if recorded_loss(result) != spec.run_loss:
            _replace_stale(folder, stale, f"it was trained with loss {recorded_loss(result)!r}, this run asks for "
                                          f"{spec.run_loss!r}")
        elif result.get("epochs") == spec.epochs:
            return result
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    # what runs: read before training, since the checkout may change while a long run goes on
    provenance = {"code": code_version(), "threads": torch.get_num_threads()}
    if spec.rule == "stdp_only":
        result = _run_stdp_only(spec, data, folder, progress=progress, provenance=provenance)
        prune_finished(folder)
        return result
    model = _make_model(spec, data)
    rule = "bp" if spec.rule == "ann" else spec.rule
    checkpoint = folder / "checkpoint.pt"
    try:
        history = train(model, rule, data, spec.epochs, seed=spec.seed, device=device, checkpoint=checkpoint,
                        progress=progress, loss=spec.loss)
    except ValueError as exc:
        if not str(exc).startswith("cannot resume") or stale == "error":
            raise
        _replace_stale(folder, stale, str(exc))
        model = _make_model(spec, data)
        history = train(model, rule, data, spec.epochs, seed=spec.seed, device=device, checkpoint=checkpoint,
                        progress=progress, loss=spec.loss)
    history.config["recurrent"] = spec.recurrent
    write_text(folder / "history.json", history.to_json())
    save_torch(folder / "model.pt", model.state_dict())
    readout = history.config["readout"]
    noise = {
        f"{sigma:g}": evaluate_readouts(model, data.test_x, data.test_y, noise_sigma=sigma, noise=DEFAULT_NOISE,
                                        encoder=data.encoder, seed=spec.seed, device=device)
        for sigma in (NOISE_LEVELS if not data.encoder.temporal else (0.0,))  # pixel noise is for images, not frames
    }
    clean = noise["0"]
    result = {
        "dataset": spec.dataset,
        "rule": spec.rule,
        "seed": spec.seed,
        "epochs": spec.epochs,
        "recurrent": spec.recurrent,
        "loss": history.config["loss"],
        "readout": readout,
        "test_acc": clean["accuracy"][readout],
        "test_readouts": clean["accuracy"],
        "silent_fraction": clean["silent_fraction"],
        "tie_fraction": clean["tie_fraction"],
        "noise_protocol": DEFAULT_NOISE,
        "noise_acc": {sigma: r["accuracy"][readout] for sigma, r in noise.items()},
        "noise_readouts": noise,
        "hidden_spikes_per_neuron_step": _hidden_sparsity(model, data, next(model.parameters()).device),
        "epochs_to_90": history.epochs_to(0.90),
        "epochs_to_95": history.epochs_to(0.95),
        "train_seconds": sum(history.epoch_time),
        "wall_seconds_this_session": time.perf_counter() - started,
        "command": " ".join(shlex.quote(a) for a in sys.argv),
        **provenance,
    }
    write_json(done, result)
    prune_finished(folder)
    return result


def _replace_stale(folder: Path, stale: str, why: str) -> None:
    if stale == "error":
        raise ValueError(f"{folder} holds another run: {why}. Delete the folder, choose another results folder, "
                         "or pass stale='replace' (scripts/full_runs.py does) to train it afresh.")
    warnings.warn(f"replacing {folder}: {why}", stacklevel=3)
    for path in folder.iterdir():
        if path.is_file():
            path.unlink()


def prune_finished(folder: Path) -> list[Path]:
    """Delete what a finished run (one with eval.json) no longer needs; returns the deleted paths."""
    folder = Path(folder)
    if not (folder / "eval.json").is_file():
        return []
    removed = [p for p in folder.iterdir() if p.is_file() and p.name not in FINISHED_FILES]
    for path in removed:
        path.unlink()
    return removed


def code_version() -> str | None:
    """The git commit of the labkit checkout (``+changes`` when labkit/ differs from it), or ``None``
    outside a git checkout: floating-point results depend on it. A run records it when it starts
    (a resumed run: when this session's part started)."""
    root = REPO_ROOT
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        changed = subprocess.run(["git", "status", "--porcelain", "--", "labkit"], cwd=root, capture_output=True,
                                 text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+changes" if changed else "") if commit else None


def run_stdp_only(spec: RunSpec, data: Data, out_root: Path, *, params=None, extra: dict | None = None,
                  progress: bool = True) -> dict:
    """Train and test the STDP-only layer of ``spec`` with ``params`` (default: `CompetitiveParams()`) into
    its run folder, replacing a finished run there; ``extra`` is merged into eval.json (e.g. how the
    settings were chosen). Returns eval.json's contents."""
    if spec.rule != "stdp_only":
        raise ValueError(f"run_stdp_only trains the rule 'stdp_only', got {spec.rule!r}")
    folder = Path(out_root) / spec.dataset / "runs" / spec.name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "eval.json").unlink(missing_ok=True)
    provenance = {"code": code_version(), "threads": torch.get_num_threads()}
    result = _run_stdp_only(spec, data, folder, progress=progress, provenance=provenance, params=params,
                            extra=extra)
    prune_finished(folder)
    return result


def _run_stdp_only(spec: RunSpec, data: Data, folder: Path, *, progress: bool, provenance: dict, params=None,
                   extra: dict | None = None) -> dict:
    """The unsupervised baseline: `labkit.training.train_competitive` (as scripts/train_stdp_only.py).

    Writes model.pt (the layer's state dict and parameters, as the script does) and eval.json with
    the fields of the gradient runs (``noise_acc`` from the same noisy pixels, rate code and label
    assignment; ``hidden_spikes_per_neuron_step`` from the labelling pass; no history, so the
    epochs-to-x% fields are None) plus the competitive layer's own measurements.
    """
    from dataclasses import asdict


    started = time.perf_counter()
    params = CompetitiveParams() if params is None else params
    num_steps = 25
    layer, res = train_competitive(data, n_neurons=500, epochs=spec.epochs, seed=spec.seed, num_steps=num_steps,
                                   progress=progress, checkpoint=folder / "checkpoint.pt", params=params)
    if res is None:
        raise RuntimeError(f"the STDP-only run {folder} stopped before it finished; run it again to resume")
    save_torch(folder / "model.pt", {**{k: v.cpu() for k, v in layer.state_dict().items()}, "params": asdict(params)})
    labels = layer.neuron_labels.cpu()
    n_classes = len(res.neurons_per_class)
    test_seed = pass_seed(spec.seed, Stream.TEST_PASS)  # the seed train_competitive uses for its test pass
    noise = {}
    for sigma in NOISE_LEVELS:
        if sigma == 0:
            noise["0"] = res.test_acc
            continue
        counts = layer.respond(data.test_x, num_steps, seed=test_seed, noise_sigma=sigma, noise=DEFAULT_NOISE,
                               noise_generator=epoch_generator(spec.seed, Stream.EVAL_NOISE))
        pred = classify(counts, labels, n_classes)
        noise[f"{sigma:g}"] = (pred == data.test_y.cpu()).double().mean().item()
    details = asdict(res)
    result = {
        "dataset": spec.dataset,
        "rule": spec.rule,
        "seed": spec.seed,
        "epochs": spec.epochs,
        "test_acc": res.test_acc,
        "readout": "labelled-neuron vote",
        "noise_protocol": DEFAULT_NOISE,
        "noise_acc": noise,
        "hidden_spikes_per_neuron_step": res.spikes_per_image / (layer.n_neurons * num_steps),
        "epochs_to_90": None,
        "epochs_to_95": None,
        "train_seconds": res.train_seconds,
        "wall_seconds_this_session": time.perf_counter() - started,
        "command": " ".join(shlex.quote(a) for a in sys.argv),
        **provenance,
        **{k: v for k, v in details.items() if k not in ("test_acc", "train_seconds")},
        **(extra or {}),
    }
    write_json(folder / "eval.json", result)
    return result


#: What a run's eval.json must hold, and the types of the entries the report reads when they are there.
RESULT_REQUIRED = {"rule": str, "seed": int, "test_acc": float}
_NULL = type(None)
RESULT_OPTIONAL = {"dataset": str, "epochs": int, "recurrent": bool, "loss": (str, _NULL), "readout": (str, _NULL),
                   "noise_acc": dict,
                   "test_readouts": (dict, _NULL), "silent_fraction": (float, _NULL), "tie_fraction": (float, _NULL),
                   "command": (str, _NULL)}


def read_run_result(path: str | Path) -> dict:
    """The one loader of a run's ``eval.json``: a JSON object with a rule (a string), a seed (an integer) and a
    finite test accuracy in [0, 1]; `LabkitError` naming the file and what to do otherwise."""
    result = read_json_record(path, what="run result", required=RESULT_REQUIRED, optional=RESULT_OPTIONAL)
    if not 0.0 <= result["test_acc"] <= 1.0:
        raise LabkitError(f"run result {path}: test_acc must be an accuracy in [0, 1], got {result['test_acc']!r}: the "
                          "file is damaged; delete the run folder's eval.json to evaluate the run again")
    return result


_HISTORY_TYPES = {"loss": list, "train_acc": list, "test_acc": list, "epoch_time": list, "spike_rate": list,
                  "rule_stats": list, "config": dict, "stopped_early": bool}


def read_history(path: str | Path) -> History:
    """The one loader of a run's ``history.json``: the entries `History` has, of its types; `LabkitError` naming
    the file otherwise (an unknown entry: written by a newer labkit)."""
    data = read_json_record(path, what="run history", optional=_HISTORY_TYPES)
    unknown = sorted(set(data) - set(_HISTORY_TYPES))
    if unknown:
        raise LabkitError(f"run history {path} has entries this labkit does not know ({', '.join(unknown)}): it was "
                          "written by a newer labkit; update labkit, or delete the run folder to run it again")
    return History(**data)


def load_history(out_root: Path, dataset: str, name: str) -> History | None:
    path = Path(out_root) / dataset / "runs" / name / "history.json"
    return read_history(path) if path.is_file() else None


def check_run_folders(runs_dir: str | Path) -> list[Path]:
    """Read every run's eval.json and history.json under ``runs_dir`` with the loaders above, before a report is
    written from them; return the eval.json files. `LabkitError` naming every damaged file and what to do, so
    that the report never stops half-way with a traceback (nor counts a run with a missing rule)."""
    runs_dir = Path(runs_dir)
    results, problems = [], []
    for path in sorted(runs_dir.glob("*/eval.json")):
        try:
            result = read_run_result(path)
            if (path.parent / "history.json").exists():
                read_history(path.parent / "history.json")
            results.append(path)
        except (LabkitError, OSError) as exc:
            problems.append(str(exc))
            continue
        if result["rule"] + ("_rec" if result.get("recurrent") else "") != path.parent.name.rsplit("_s", 1)[0]:
            problems.append(f"run result {path} says rule {result['rule']!r}, but its folder is "
                            f"{path.parent.name!r}: move it to the folder of its rule, or delete it")
    if problems:  # one line: every damaged file, then that no report was written
        raise LabkitError(" | ".join(problems) + f" (so no report was written from {runs_dir})")
    return results
