r"""What one point of the plasticity study runs: a dose, a label budget, or a shift of the inputs.

Each function takes a point (`labkit.campaign.plans`) and returns its result as a plain dict of
numbers. The three regimes ask where a local rule adds something a gradient does not:

* **dose** trains a 784-500-10 network with a rule at η1⁰ (`labkit.rules`, whose steps report the
  dose ρ and the cosine to −∇L each batch) and records its test accuracy;
* **labels** gives BP only ``labels`` labelled digits, with all training images available unlabelled,
  and compares BP alone, STDP on every image before BP (``pretrain``), STDP on unlabelled batches
  between BP's labelled ones (``interleave``) and the same interleaving with a random change of the
  STDP term's norm (``random``);
* **shift** lets a BP-trained network meet shifted inputs and adapt without labels: no adaptation,
  re-centring its first layer on the mean of the shifted digits (``recentre``: b ← b − W·Δμ), STDP
  alone, and the random control of STDP's norm; accuracy after 0 … 5,000 unlabelled digits.

Settings the study chooses (η1⁰, the layers STDP reaches) are chosen on validation digits, never on
the test digits, which are scored once per point.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F

from ..data import mnist_data
from ..data.record import Data
from ..foundation.io import load_torch
from ..foundation.seeds import Stream, epoch_generator
from ..models import SpikingMLP
from ..readout import loss_function
from ..rules import make_rule
from ..training import evaluate, train
from ..training.evaluation import model_inputs
from .nmnist import load_nmnist_sim

__all__ = ["run_dose", "run_labels", "run_shift", "shift_images"]

STEPS = 25
#: the variants of the dose plan → the rule and its settings
_DOSE_RULES = {
    "bp": ("bp", {}), "sum": ("sum", {}), "adaptive": ("adaptive", {}), "rising": ("adaptive", {"c_init": 0.5}),
    "random": ("sum", {"direction": "random"}), "decay": ("sum", {"direction": "decay"}),
    "batch_sum": ("sum", {"reading": "batch_sum"}), "adam": ("sum", {"reading": "adam"}),
    "sgd": ("sum", {"reading": "sgd"}),
}


def _history_record(history) -> dict:
    return {"test_acc": history.test_acc, "train_acc": history.train_acc, "rule_stats": history.rule_stats,
            "loss": history.loss}


NOISE_CHECK = ("spike_resample", "normalized")


def run_dose(point: dict, data: Data, epochs: int, noise_protocols: tuple[str, ...] = ()) -> dict:
    """Train one network of the dose plan; its final test accuracy and the per-epoch record (dose, cosine), and
    with ``noise_protocols`` its test accuracy under σ = 0.3 noise put in by each protocol (`labkit.noise`)."""
    rule, settings = _DOSE_RULES[point["variant"]]
    if rule != "bp":
        settings = {**settings, "eta1": point["eta1"]}
    model = SpikingMLP(seed=point["seed"])
    history = train(model, rule, data, epochs, seed=point["seed"], progress=False, **settings)
    result = {"test_acc": history.test_acc[-1], "history": _history_record(history)}
    if noise_protocols:  # the protocols under which Table I's hybrid effects survived Holm's correction
        result["noise_acc"] = {p: evaluate(model, data.test_x, data.test_y, noise_sigma=0.3, noise=p,
                                           num_steps=STEPS, seed=point["seed"], readout=history.config["readout"])
                               for p in noise_protocols}
    return result


# ----------------------------------------------------------------------------- shifted inputs


def shift_images(x: torch.Tensor, shift: str, seed: int) -> torch.Tensor:
    """``x [N, 28, 28]`` in [0, 1] as the network meets it after ``shift`` (each digit's draw fixed by ``seed``):

    * ``noise``      clip(x + 0.3·z), z standard normal per pixel (the paper's σ = 0.3);
    * ``contrast``   0.3 + 0.4·x: a grey background and faded strokes;
    * ``blur``       a Gaussian blur of σ = 1 pixel (not a mean offset: the mean stays, strokes spread);
    * ``occlusion``  a bright 8×8 square at a random place in each digit.
    """
    g = torch.Generator().manual_seed(seed)
    if shift == "noise":
        return (x + 0.3 * torch.randn(x.shape, generator=g)).clamp(0.0, 1.0)
    if shift == "contrast":
        return 0.3 + 0.4 * x
    if shift == "blur":
        r = torch.arange(-2, 3, dtype=x.dtype)
        k = torch.exp(-(r**2) / 2.0)
        k = (k[:, None] * k[None, :]) / (k.sum() ** 2)
        return F.conv2d(x[:, None], k[None, None], padding=2)[:, 0].clamp(0.0, 1.0)
    if shift == "occlusion":
        out = x.clone()
        rows = torch.randint(0, 21, (len(x),), generator=g)
        cols = torch.randint(0, 21, (len(x),), generator=g)
        for i, (r0, c0) in enumerate(zip(rows.tolist(), cols.tolist())):
            out[i, r0 : r0 + 8, c0 : c0 + 8] = 1.0
        return out
    raise ValueError(f"unknown shift {shift!r}: choose noise, contrast, blur or occlusion")


def _stdp_pass(model: SpikingMLP, images: torch.Tensor, *, eta1: float, layers: tuple[int, ...] | None,
               direction: str, seed: int, encoder, checkpoints=(), on_checkpoint=None, batch_size: int = 128) -> None:
    """STDP alone (no labels, no gradient) over ``images`` in order; ``on_checkpoint(n)`` after n digits."""
    rule = make_rule("stdp", eta1=eta1, layers=layers, direction=direction)
    rule.bind(model)
    rule.set_generator(epoch_generator(seed, Stream.PERTURB, 0))
    g_code = epoch_generator(seed, Stream.RATE_CODE, 0)
    model.train()
    seen = 0
    marks = sorted(c for c in checkpoints if 0 < c <= len(images))
    while seen < len(images):
        # a batch ends at the next checkpoint, so that the network is scored after exactly that many digits
        end = min(seen + batch_size, len(images), *[c for c in marks if c > seen])
        with torch.no_grad():
            rule.step(model(model_inputs(model, images[seen:end], encoder, STEPS, g_code)), None)
        seen = end
        if seen in marks and on_checkpoint is not None:
            on_checkpoint(seen)


def _bp_network(seed: int, runs: str) -> SpikingMLP:
    """The committed Table I BP network of ``seed`` (``runs/bp_s{seed}/model.pt``), a fresh copy each call."""
    model = SpikingMLP(seed=None)
    model.load_state_dict(load_torch(Path(runs) / f"bp_s{seed}" / "model.pt", what="trained network"))
    return model


SHIFT_BUDGETS = (250, 500, 1000, 2000, 5000)
SHIFT_SETTINGS = tuple((eta1, layers) for eta1 in (0.01, 0.1, 1.0) for layers in ((0,), None))
#: the shifted test digits scored (the first 5,000 of the test set: ±0.6 points of sampling error at 90%)
SHIFT_TEST = 5000


def run_shift(point: dict, data: Data, runs: str = "results/mnist/runs") -> dict:
    """Every answer to one shift for one committed BP network: none, recentre, stdp, random, recentre+stdp.

    STDP's η1⁰ and layers are chosen on 2,000 shifted validation digits (training digits 55,000–56,999)
    after the largest budget; the random control and STDP after re-centring (on all 5,000 digits) use
    the same settings. The first 5,000 shifted test
    digits are scored after each budget of unlabelled digits (training digits 50,000–54,999, shifted).
    """
    seed, shift = point["seed"], point["shift"]
    enc = data.encoder
    adapt = shift_images(data.train_x[50_000:55_000], shift, seed=1000 + seed)
    val_x = shift_images(data.train_x[55_000:57_000], shift, seed=2000 + seed)
    val_y = data.train_y[55_000:57_000]
    test_x = shift_images(data.test_x[:SHIFT_TEST], shift, seed=3000 + seed)
    test_y = data.test_y[:SHIFT_TEST]

    def score(model, x=test_x, y=test_y) -> float:
        return evaluate(model, x, y, num_steps=STEPS, encoder=enc, seed=seed, readout="count")

    base = _bp_network(seed, runs)
    result = {"clean": score(base, data.test_x[:SHIFT_TEST]), "none": score(base), "budgets": list(SHIFT_BUDGETS),
              "test_digits": SHIFT_TEST}
    clean_mean = data.train_x[:50_000].mean(0).flatten()

    def recentred(n: int) -> SpikingMLP:
        """The network with its first layer re-centred on the mean of the first n shifted digits: b ← b − W·Δμ."""
        model = _bp_network(seed, runs)
        with torch.no_grad():
            model.layers[0].bias -= model.layers[0].weight @ (adapt[:n].mean(0).flatten() - clean_mean)
        return model

    result["recentre"] = [score(recentred(n)) for n in SHIFT_BUDGETS]
    validation = {}
    for eta1, layers in SHIFT_SETTINGS:
        model = _bp_network(seed, runs)
        _stdp_pass(model, adapt, eta1=eta1, layers=layers, direction="stdp", seed=seed, encoder=enc)
        validation[f"{eta1:g}/{'first' if layers else 'all'}"] = score(model, val_x, val_y)
    best = max(validation, key=validation.get)
    eta1, layers = SHIFT_SETTINGS[list(validation).index(best)]
    result.update(validation=validation, chosen=best)
    # STDP, its random control of the same norm, and STDP on top of the re-centred network (does it add
    # anything to the trivial baseline?), each scored after every budget of unlabelled digits
    for name, direction, start in (("stdp", "stdp", None), ("random", "random", None),
                                   ("recentre+stdp", "stdp", max(SHIFT_BUDGETS))):
        model, curve = (_bp_network(seed, runs) if start is None else recentred(start)), []
        _stdp_pass(model, adapt, eta1=eta1, layers=layers, direction=direction, seed=seed, encoder=enc,
                   checkpoints=SHIFT_BUDGETS, on_checkpoint=lambda n, m=model, c=curve: c.append(score(m)))
        result[name] = curve
    result["test_acc"] = result["stdp"][-1]
    return result


# ----------------------------------------------------------------------------- few labels

LABEL_ETA1 = (0.01, 0.1)
_VALIDATION = slice(55_000, 60_000)


def _labelled(data: Data, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` labelled digits drawn for ``seed`` from training digits 0–54,999 (all of them for n ≥ 55,000)."""
    order = torch.randperm(55_000, generator=epoch_generator(seed, Stream.UNLABELLED, 0))[: min(n, 55_000)]
    return data.train_x[order], data.train_y[order]


def _epochs_for(n: int) -> int:
    """About 250 Adam steps of batch 128 whatever the budget (at least one epoch)."""
    batches = math.ceil(min(n, 55_000) / 128)
    return max(1, min(256, math.ceil(250 / batches)))


def _interleaved(model, x, y, unlabelled, epochs: int, seed: int, eta1: float, direction: str, encoder) -> None:
    """BP on each labelled batch, then STDP (first layer, no labels) on the next unlabelled batch."""
    bp = make_rule("bp")
    bp.bind(model)
    local = make_rule("stdp", eta1=eta1, layers=(0,), direction=direction)
    local.bind(model)
    loss_of = loss_function("rate")
    g_u = epoch_generator(seed, Stream.UNLABELLED, 1)
    u_order = torch.randperm(len(unlabelled), generator=g_u)
    u_next = 0
    for epoch in range(epochs):
        order = torch.randperm(len(x), generator=epoch_generator(seed, Stream.BATCH_ORDER, epoch))
        g_code = epoch_generator(seed, Stream.RATE_CODE, epoch)
        local.set_generator(epoch_generator(seed, Stream.PERTURB, epoch))
        model.train()
        for start in range(0, len(x), 128):
            index = order[start : start + 128]
            out = model(model_inputs(model, x[index], encoder, STEPS, g_code))
            bp.step(out, loss_of(out, y[index]))
            u_index = u_order[u_next : u_next + 128]
            u_next = (u_next + 128) % (len(unlabelled) - 128)
            with torch.no_grad():
                local.step(model(model_inputs(model, unlabelled[u_index], encoder, STEPS, g_code)), None)


_PRETRAINED: dict[tuple[int, float], dict] = {}  # (seed, η1) → first-layer state after STDP on every image


def _pretrained(seed: int, eta1: float, images: torch.Tensor, encoder) -> SpikingMLP:
    """A fresh network of ``seed`` after one STDP pass (first layer, no labels) over ``images``; kept in memory,
    since every label budget of a seed starts from the same pass."""
    key = (seed, eta1)
    model = SpikingMLP(seed=seed)
    if key not in _PRETRAINED:
        _stdp_pass(model, images, eta1=eta1, layers=(0,), direction="stdp", seed=seed, encoder=encoder)
        if len(_PRETRAINED) >= 2 * len(LABEL_ETA1):  # a worker moves on seed by seed: keep this seed's passes
            _PRETRAINED.pop(next(iter(_PRETRAINED)))
        _PRETRAINED[key] = {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(_PRETRAINED[key])
    return model


def _fit_labels(variant: str, n: int, seed: int, eta1: float | None, data: Data) -> SpikingMLP:
    x, y = _labelled(data, n, seed)
    epochs, enc = _epochs_for(n), data.encoder
    model = _pretrained(seed, eta1, data.train_x, enc) if variant == "pretrain" else SpikingMLP(seed=seed)
    if variant in ("bp", "pretrain"):
        train(model, "bp", Data(x, y, x[:0], y[:0], name=f"mnist-{n}-labels"), epochs, seed=seed,
              progress=False, eval_train=False)
    else:
        _interleaved(model, x, y, data.train_x, epochs, seed, eta1, "random" if variant == "random" else "stdp", enc)
    return model


def _score(model, x, y, seed: int, encoder) -> float:
    return evaluate(model, x, y, num_steps=STEPS, encoder=encoder, seed=seed, readout="count")


def choose_label_eta1(variant: str, n: int, data: Data) -> dict:
    """η1⁰ of an STDP method at a label budget, chosen on validation digits 55,000–59,999 with seed 0's
    labelled digits and network; every seed then uses it (one choice per method and budget)."""
    val_x, val_y = data.train_x[_VALIDATION], data.train_y[_VALIDATION]
    fitted = {f"{eta1:g}": _fit_labels(variant, n, 0, eta1, data) for eta1 in LABEL_ETA1}
    validation = {key: _score(model, val_x, val_y, 0, data.encoder) for key, model in fitted.items()}
    chosen = max(validation, key=validation.get)
    # seed 0's network at the chosen η1 is the one its own point trains: handed over, not trained again
    return {"validation": validation, "chosen": chosen, "seed0_model": fitted[chosen]}


def run_labels(point: dict, data: Data, choose=choose_label_eta1) -> dict:
    """One label budget, one method, one seed; η1⁰ of the STDP methods from ``choose`` (`choose_label_eta1`)."""
    seed, n, variant = point["seed"], point["labels"], point["variant"]
    result = {"epochs": _epochs_for(n), "labelled": min(n, 55_000)}
    eta1, model = None, None
    if variant != "bp":
        choice = choose(variant, n, data)
        model = choice.pop("seed0_model", None) if seed == 0 else None
        result.update({k: v for k, v in choice.items() if k != "seed0_model"})
        eta1 = float(result["chosen"])
    if model is None:
        model = _fit_labels(variant, n, seed, eta1, data)
    result["validation_acc"] = _score(model, data.train_x[_VALIDATION], data.train_y[_VALIDATION], seed, data.encoder)
    result["test_acc"] = _score(model, data.test_x, data.test_y, seed, data.encoder)
    return result


def load_data(kind: str) -> Data:
    """The data a plan runs on: ``bundled`` (6,000 + 1,000 digits shipped with labkit), full ``mnist``, or
    ``nmnist-sim`` (simulated N-MNIST, bit-packed: `labkit.campaign.nmnist.load_nmnist_sim`)."""
    if kind == "nmnist-sim":
        return load_nmnist_sim()
    return mnist_data("bundled" if kind == "bundled" else "full")
