"""The model ``labkit deploy`` deploys: a trained `SpikingMLP` from its file, checked before any work.

A model file is a plain ``state_dict`` (``torch.save(model.state_dict(), path)``), and the
state_dict of the ANN baseline has exactly the keys of a `SpikingMLP` (``layers.{i}.weight``,
``layers.{i}.bias``), so the file alone cannot say what it holds. The run folder can: the
lab's runs write ``eval.json`` (and ``history.json``) beside ``model.pt`` with the rule, and
``rule: ann`` is refused. Everything else that is not a feed-forward `SpikingMLP` is refused
with a message too: a training checkpoint, the STDP-only layer (``weight``, ``theta``,
``neuron_labels``), a recurrent network (Lava's path here is feed-forward), a network whose
input is not 784 pixels or whose output is not 10 classes. Any hidden sizes and depth are
deployed: the sizes come from the weights.
"""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from pathlib import Path

import torch

from ..data import mnist_data
from ..foundation.errors import LabkitError
from ..foundation.io import check_finite, check_regular_file, load_torch, save_torch
from ..foundation.paths import REPO_ROOT
from ..models import SpikingMLP
from ..training import train

__all__ = ["DeployModelError", "default_model_path", "load_or_train_model", "repo_relative", "spiking_mlp_from_state"]


_LAYER_KEY = re.compile(r"layers\.(\d+)\.(weight|bias)")
#: Files beside a model that may name the rule it was trained with.
_RUN_RECORDS = ("eval.json", "history.json", "config.json")


class DeployModelError(LabkitError):
    """The model file is not a feed-forward SpikingMLP that can be deployed (the message says why)."""


def default_model_path() -> Path:
    """``results/mnist/runs/bp_s0/model.pt`` in the repository."""
    return REPO_ROOT / "results" / "mnist" / "runs" / "bp_s0" / "model.pt"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def repo_relative(path: Path | None) -> str | None:
    """``path`` relative to the repository where it lies inside it, else its file name (for records)."""
    if path is None:
        return None
    try:
        return str(Path(path).resolve().relative_to(REPO_ROOT))
    except ValueError:
        return Path(path).name


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
        raise DeployModelError(
            f"{path} was trained as rule {recorded[0]!r} ({recorded[1]} beside it says so): "
            + ("an ANN has no spikes to run on Loihi" if recorded[0] == "ann" else "it is not a SpikingMLP")
            + "; deploy a spiking network, e.g. results/mnist/runs/bp_s0/model.pt"
        )
    state = load_torch(path, what="model")  # tensors and plain data only; a crafted pickle is refused
    model = spiking_mlp_from_state(state, str(path))
    info = {"path": repo_relative(path), "sha256": _sha256(path), "trained_here": False, "sizes": list(model.sizes)}
    if recorded is not None:
        info["rule"] = recorded[0]
    return model, info


def load_or_train_model(
    path: str | Path | None = None,
    *,
    fallback: str | Path | None = None,
    source: str = "auto",
    epochs: int = 1,
    seed: int = 0,
    progress: bool = True,
) -> tuple[SpikingMLP, dict]:
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

    warnings.warn(
        f"{repo_relative(default_model_path())} not found (`make reproduce` writes it); training a stand-in: "
        f"rule bp, {epochs} epoch(s)",
        stacklevel=2,
    )
    model = SpikingMLP()
    data = mnist_data(source)
    history = train(model, "bp", data, epochs, seed=seed, device="cpu", progress=progress)
    info = {"path": None, "trained_here": True, "rule": "bp", "epochs": epochs, "seed": seed,
            "data": data.name, "test_acc": history.test_acc[-1], "sizes": list(model.sizes)}
    if fallback is not None:
        fallback = Path(fallback)
        save_torch(fallback, model.state_dict())
        info.update(path=repo_relative(fallback), sha256=_sha256(fallback))
    return model, info
