"""The noise-protocol study: every finished run's test accuracy under each protocol of `labkit.noise`.

For each finished run folder ``runs/<rule>_s<seed>/`` of the rules in `STUDY_RULES` (its
``model.pt`` and ``eval.json``), one JSON ``noise_protocols/<rule>_s<seed>.json`` holds the
accuracy under every protocol of `labkit.noise.NOISE_PROTOCOLS` at every σ of `STUDY_SIGMAS`:
σ = `FULL_SIGMA` (the paper's 0.3) on the whole test set, the other levels on its first
``subset`` digits. The run's own seed drives the noise and the spikes (the streams EVAL_NOISE and
EVAL_CODE, as in the runs' own evaluation; the STDP-only layer: its test-pass seed), and the
run's own readout reads the output, so ``pixel_clip`` at σ = 0.3 on the whole test set equals
the run's recorded ``noise_acc["0.3"]`` (each file says whether it does). Pieces are written as
they finish and reused on the next call (``scripts/noise_study.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from ..competitive import CompetitiveLayer, CompetitiveParams, classify
from ..foundation.io import load_torch, read_json, write_json
from ..foundation.seeds import Stream, epoch_generator, pass_seed
from ..models import ANNBaseline, SpikingMLP
from ..neurons import LIFParams
from ..noise import NOISE_PROTOCOLS
from ..stdp import STDPParams
from ..training import evaluate

__all__ = ["FULL_SIGMA", "STUDY_RULES", "STUDY_SIGMAS", "StudyRun", "finished_runs", "load_trained", "measure",
           "study_pieces"]

#: The models of the study (the gradient rules, the ANN, the unsupervised STDP-only layer).
STUDY_RULES = ("bp", "sum", "adaptive", "ann", "stdp_only")
STUDY_SIGMAS = (0.0, 0.1, 0.2, 0.3, 0.5)
#: The noise level measured on the whole test set (the paper's).
FULL_SIGMA = 0.3


@dataclass(frozen=True)
class StudyRun:
    """A finished run: its rule, seed, folder and the readout its eval.json names."""
    rule: str
    seed: int
    folder: Path
    readout: str

    @property
    def name(self) -> str:
        return f"{self.rule}_s{self.seed}"


def finished_runs(runs_dir: Path, rules=STUDY_RULES) -> list[StudyRun]:
    """The runs under ``runs_dir`` of ``rules`` that have finished (eval.json and model.pt), by seed then rule."""
    found = []
    for path in sorted(Path(runs_dir).glob("*/eval.json")):
        if not (path.parent / "model.pt").is_file():
            continue
        result = read_json(path, what="run result")
        if result.get("rule") in rules:
            found.append(StudyRun(result["rule"], int(result["seed"]), path.parent, result.get("readout", "count")))
    return sorted(found, key=lambda r: (r.seed, rules.index(r.rule)))


def load_trained(run: StudyRun):
    """The trained network of ``run`` on the CPU: a `SpikingMLP`, an `ANNBaseline` or a `CompetitiveLayer`."""
    state = load_torch(run.folder / "model.pt", what="trained model")
    if run.rule == "stdp_only":
        p = dict(state.pop("params"))
        params = CompetitiveParams(lif=LIFParams(**p.pop("lif")), stdp=STDPParams(**p.pop("stdp")), **p)
        layer = CompetitiveLayer(state["weight"].shape[0], state["weight"].shape[1], params, seed=0)
        layer.load_state_dict(state)
        return layer
    model = ANNBaseline(seed=0) if run.rule == "ann" else SpikingMLP(seed=0)  # weights replaced below
    model.load_state_dict(state)
    return model


def measure(model, run: StudyRun, x: torch.Tensor, y: torch.Tensor, protocol: str, sigma: float) -> float:
    """Accuracy in [0, 1] of ``run``'s trained ``model`` on ``x, y`` under ``protocol`` at ``sigma``, with the
    run's seed and readout (module docstring)."""
    if isinstance(model, CompetitiveLayer):
        counts = model.respond(x, 25, seed=pass_seed(run.seed, Stream.TEST_PASS), noise_sigma=sigma, noise=protocol,
                               noise_generator=epoch_generator(run.seed, Stream.EVAL_NOISE))
        predictions = classify(counts, model.neuron_labels.cpu(), model.n_classes)
        return (predictions == y.cpu()).double().mean().item()
    readout = run.readout if run.readout in ("count", "count_membrane", "membrane") else "count_membrane"
    return evaluate(model, x, y, noise_sigma=sigma, noise=protocol, seed=run.seed, device="cpu", readout=readout)


def study_pieces(runs: list[StudyRun], protocols=tuple(NOISE_PROTOCOLS), sigmas=STUDY_SIGMAS) -> list[tuple]:
    """Every (run, protocol, σ) to measure, σ = `FULL_SIGMA` first (the table needs it), then the others."""
    first = [(run, p, FULL_SIGMA) for run in runs for p in protocols if FULL_SIGMA in sigmas]
    rest = [(run, p, s) for s in sigmas if s != FULL_SIGMA for run in runs for p in protocols]
    return first + rest


def piece_key(sigma: float) -> str:
    return f"{sigma:g}"


def read_piece(record: dict, protocol: str, sigma: float, n_test: int) -> float | None:
    """A finished piece of a study file, if it was measured on ``n_test`` digits."""
    piece = record.get("protocols", {}).get(protocol, {}).get(piece_key(sigma))
    return piece["accuracy"] if piece and piece.get("n_test") == n_test else None


def record_piece(path: Path, record: dict, protocol: str, sigma: float, n_test: int, accuracy: float) -> None:
    """Add a measured piece to ``record`` and write it to ``path`` (atomically)."""
    record.setdefault("protocols", {}).setdefault(protocol, {})[piece_key(sigma)] = {"accuracy": accuracy,
                                                                                      "n_test": n_test}
    write_json(path, record)
