"""Which test digits each finished run gets right: a packed bit array per run, for resampling digits.

A run's ``eval.json`` holds its accuracy; the statistics of `labkit.experiments.statistics` also
need to know *which* digits were right, so that a bootstrap can resample the test set as well as
the seeds (the test set is one sample of digits; its sampling error belongs in every interval).

`record_digits` re-evaluates a run's ``model.pt`` with the seed and readout its ``eval.json``
names (the same streams EVAL_NOISE and EVAL_CODE, `labkit.training.predict_classes`) and writes
``digits.json`` beside ``eval.json``::

    {"rule", "seed", "readout", "n_test",
     "correct": {"clean": {"accuracy": 0.9773, "bits": "<base64 of 10,000 packed bits>"},
                 "pixel_clip@0.3": {...}, "spike_resample@0.3": {...}, "normalized@0.3": {...}}}

About 1.7 KB of text per condition. Every condition that ``eval.json`` also records (clean, and
``pixel_clip`` at σ = 0.3), or the noise-protocol study
(`labkit.experiments.noise_study`, the other two), must reproduce the recorded accuracy exactly, or nothing is written.
"""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import torch

from ..foundation.io import read_json, write_json
from ..training import predict_classes
from .noise_study import StudyRun, load_trained

__all__ = ["CONDITIONS", "DIGITS_FILE", "load_correct", "pack_bits", "record_digits", "unpack_bits"]

DIGITS_FILE = "digits.json"

#: The conditions recorded: ``(protocol, σ)``; the clean test is ``("pixel_clip", 0.0)``.
CONDITIONS = {"clean": ("pixel_clip", 0.0), "pixel_clip@0.3": ("pixel_clip", 0.3),
              "spike_resample@0.3": ("spike_resample", 0.3), "normalized@0.3": ("normalized", 0.3)}


def pack_bits(correct: torch.Tensor) -> str:
    """A boolean vector as base64 text of its packed bits (8 digits a byte, the first digit the high bit)."""
    return base64.b64encode(np.packbits(np.asarray(correct, dtype=bool)).tobytes()).decode("ascii")


def unpack_bits(text: str, n: int) -> np.ndarray:
    """The boolean vector of length ``n`` that `pack_bits` wrote as ``text``."""
    return np.unpackbits(np.frombuffer(base64.b64decode(text), dtype=np.uint8))[:n].astype(bool)


def _recorded(result: dict, study: dict, name: str, n_test: int) -> float | None:
    """The accuracy eval.json (or the run's noise-protocol study file) recorded for condition ``name``, if any."""
    if name == "clean":
        return result["test_acc"]
    if name == "pixel_clip@0.3" and result.get("noise_protocol", "pixel_clip") == "pixel_clip":
        return result.get("noise_acc", {}).get("0.3")
    protocol, sigma = CONDITIONS[name]
    piece = study.get("protocols", {}).get(protocol, {}).get(f"{sigma:g}")
    return piece["accuracy"] if piece and piece.get("n_test") == n_test else None


def record_digits(run_folder: Path, test_x: torch.Tensor, test_y: torch.Tensor, conditions=tuple(CONDITIONS)) -> dict:
    """Re-evaluate the run in ``run_folder`` under ``conditions`` and write its ``digits.json`` (see the module
    docstring); conditions already in the file are kept. Raises `RuntimeError` when a recorded accuracy is
    not reproduced exactly (a different readout, seed or code path would make the bits describe another
    evaluation)."""
    folder = Path(run_folder)
    result = read_json(folder / "eval.json", what="run result")
    readout = result.get("readout", "count")
    run = StudyRun(result["rule"], int(result["seed"]), folder, readout)
    path = folder / DIGITS_FILE
    record = read_json(path, what="digit record") if path.is_file() else {}
    if record.get("n_test") not in (None, len(test_y)):
        record = {}
    record.update({"rule": run.rule, "seed": run.seed, "readout": readout, "n_test": len(test_y)})
    correct = record.setdefault("correct", {})
    study_file = folder.parent.parent / "noise_protocols" / f"{run.name}.json"
    study = read_json(study_file, what="noise study") if study_file.is_file() else {}
    model = load_trained(run)
    for name in conditions:
        if name in correct:
            continue
        protocol, sigma = CONDITIONS[name]
        read = readout if readout in ("count", "count_membrane", "membrane") else "count_membrane"
        pred = predict_classes(model, test_x, noise_sigma=sigma, noise=protocol, seed=run.seed, device="cpu",
                               readout=read)
        hits = (pred == test_y.cpu()).numpy()
        accuracy = int(hits.sum()) / len(hits)
        expected = _recorded(result, study, name, len(test_y))
        if expected is not None and abs(accuracy - expected) > 1e-6:
            raise RuntimeError(f"{folder.name}: {name} gives {accuracy:.4f}, eval.json records {expected:.4f}; the "
                               "per-digit record would describe another evaluation, so it is not written")
        correct[name] = {"accuracy": accuracy, "bits": pack_bits(hits)}
        write_json(path, record)
    return record


def load_correct(runs_dir: Path, name: str, condition: str = "clean") -> np.ndarray | None:
    """The per-digit correctness of run ``name`` (e.g. ``"bp_s0"``) under ``condition``, or ``None`` if not recorded."""
    path = Path(runs_dir) / name / DIGITS_FILE
    if not path.is_file():
        return None
    record = read_json(path, what="digit record")
    piece = record.get("correct", {}).get(condition)
    return None if piece is None else unpack_bits(piece["bits"], int(record["n_test"]))
