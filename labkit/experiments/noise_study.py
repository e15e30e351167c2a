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

import math
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

__all__ = ["PLACEMENTS", "copy_with_zeroed_inputs", "mean_haze", "never_lit_pixels", "noise_placements", "read_mechanism", "recentre_first_layer", "FULL_SIGMA", "STUDY_RULES", "STUDY_SIGMAS", "StudyRun", "finished_runs", "load_trained", "measure",
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


# --- Where the noise is put, and what it costs: the mechanism of the collapse under pixel_clip noise ---

#: The placements `noise_placements` measures, with what each puts where.
PLACEMENTS = {
    "clean": "no noise",
    "all pixels": "clip(x + σz) on every pixel (the protocol pixel_clip)",
    "never-lit pixels only": "clip(x + σz) on the pixels that are 0 in every training digit, the rest clean",
    "this digit's lit pixels only": "clip(x + σz) where x > 0, the background clean",
    "this digit's background only": "clip(x + σz) where x = 0 (never-lit included), the strokes clean",
    "mean haze, no randomness": "every pixel replaced by E[clip(x + σz)] (closed form), nothing random",
    "all pixels, never-lit weights zeroed": "all-pixel noise into a copy whose first-layer weights from never-lit "
                                            "pixels are 0",
    "all pixels, input re-centred (remedy)": "all-pixel noise, the first layer's bias lowered by W·m, m the mean "
                                             "pixel shift of the noisy test digits against the training digits "
                                             "(no labels used)",
}


def mean_haze(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """E[clip(x + σZ, 0, 1)] for Z ~ N(0, 1), element-wise, in closed form (no randomness).

    With a = −x/σ and b = (1 − x)/σ: E = x·(Φ(b) − Φ(a)) + σ·(φ(a) − φ(b)) + (1 − Φ(b)). On a black pixel
    (x = 0) it is σ/√(2π) ≈ 0.12 at σ = 0.3: the background brightens on average, though no draw is made.
    """
    if sigma <= 0:
        return x.clone()
    a, b = -x / sigma, (1 - x) / sigma
    phi = lambda u: torch.exp(-0.5 * u * u) / math.sqrt(2 * math.pi)  # noqa: E731 (the standard normal density)
    cdf = torch.special.ndtr
    return x * (cdf(b) - cdf(a)) + sigma * (phi(a) - phi(b)) + (1 - cdf(b))


def recentre_first_layer(model, train_x: torch.Tensor, noisy_x: torch.Tensor):
    """A copy of ``model`` whose first layer's bias is lowered by W·m, m = mean(noisy_x) − mean(train_x) per pixel.

    The remedy for a shift of mean brightness: the rate code's spikes have the pixel values as their mean, so the
    first layer's mean current moves by W·m under the noise; subtracting it re-centres the current the trained
    weights expect. It uses only unlabelled noisy digits (their mean), no labels."""
    import copy

    fixed = copy.deepcopy(model)
    m = (noisy_x.flatten(1).mean(0) - train_x.flatten(1).mean(0)).to(torch.float32)
    first = fixed.layers[0]
    with torch.no_grad():
        first.bias -= first.weight @ m
    return fixed


def noise_placements(model, train_x: torch.Tensor, test_x: torch.Tensor, test_y: torch.Tensor, *,
                     sigma: float = 0.3, seed: int = 0, readout: str = "count") -> dict[str, float]:
    """Accuracy (%) of ``model`` (a `SpikingMLP` or `ANNBaseline`) on ``test_x`` with the noise of level ``sigma``
    put in each place of `PLACEMENTS`; every placement uses the same draw z (``torch.Generator`` seeded with
    ``seed``) and the same rate-code seed, so the rows differ only in where the noise is."""
    never_lit = never_lit_pixels(train_x)
    z = torch.randn(test_x.shape, generator=torch.Generator().manual_seed(seed))
    noisy = (test_x + sigma * z).clamp(0, 1)
    lit = test_x > 0
    inputs = {
        "clean": test_x,
        "all pixels": noisy,
        "never-lit pixels only": torch.where(never_lit, noisy, test_x),
        "this digit's lit pixels only": torch.where(lit, noisy, test_x),
        "this digit's background only": torch.where(lit, test_x, noisy),
        "mean haze, no randomness": mean_haze(test_x, sigma),
    }
    read = readout if isinstance(model, SpikingMLP) else "count_membrane"  # an ANN is read by argmax anyway
    out = {name: 100 * evaluate(model, x, test_y, seed=seed, device="cpu", readout=read) for name, x in inputs.items()}
    zeroed = copy_with_zeroed_inputs(model, never_lit.flatten())
    out["all pixels, never-lit weights zeroed"] = 100 * evaluate(zeroed, noisy, test_y, seed=seed, device="cpu",
                                                                  readout=read)
    out["all pixels, input re-centred (remedy)"] = 100 * evaluate(recentre_first_layer(model, train_x, noisy), noisy,
                                                                   test_y, seed=seed, device="cpu", readout=read)
    out["never-lit pixels"] = int(never_lit.sum())
    return out


def never_lit_pixels(train_x: torch.Tensor) -> torch.Tensor:
    """The boolean mask (an image's shape) of the pixels that are 0 in every image of ``train_x``."""
    return (train_x.flatten(1) == 0).all(0).reshape(train_x.shape[1:])


def copy_with_zeroed_inputs(model, pixels: torch.Tensor):
    """A copy of ``model`` whose first-layer weights from the input pixels ``pixels`` (a boolean mask) are 0."""
    import copy

    fixed = copy.deepcopy(model)
    with torch.no_grad():
        fixed.layers[0].weight[:, pixels] = 0.0
    return fixed


def read_mechanism(folder: Path) -> dict:
    """The noise-mechanism measurements the report wrote (``<folder>/noise_mechanism.json``): ``{"runs": {run:
    {placement: accuracy %}}, "never_lit": the mask of never-lit pixels [28, 28] or None}``; empty runs if absent."""
    path = Path(folder) / "noise_mechanism.json"
    record = read_json(path, what="noise mechanism") if path.is_file() else {}
    mask = None
    if "never_lit_pixels" in record:
        mask = torch.zeros(784, dtype=torch.bool)
        mask[torch.tensor(record["never_lit_pixels"], dtype=torch.long)] = True
        mask = mask.reshape(28, 28)
    return {"runs": {k: v for k, v in record.items() if isinstance(v, dict)}, "never_lit": mask}
