"""The plasticity study's plans: each a grid of independent points (one training or adaptation run each).

A point is a plain dict, written into its result so that every number says what made it:

* ``regime``   ``dose``, ``labels``, ``shift`` or ``nmnist`` (`REGIMES`; ``nmnist``: Table I's second column,
  `labkit.campaign.nmnist`);
* ``variant``  what is compared: ``bp``, ``sum``, ``adaptive``, ``rising`` (A-STDP whose coefficients
  start at 0.5 and can rise as well as fall), the controls ``random`` and ``decay`` (BP plus a change
  of exactly the STDP term's norm, in a random direction or towards zero), the other literal readings
  ``batch_sum``, ``adam``, ``sgd`` (the dose plan); ``bp``, ``pretrain``, ``interleave``, ``random``
  (few labels); ``adapt`` (shifted inputs: one point answers a shift with no adaptation, re-centring,
  STDP and the random control, which share the choice of settings);
* ``seed`` and the regime's own settings (``eta1``, ``labels``, ``shift``).

Plans are named by regime and data: ``dose-bundled`` (the screen on the bundled 6,000 digits),
``dose-mnist`` (the confirmation on full MNIST), ``labels-mnist`` and ``shift-mnist``; ``nmnist-sim`` is
Table I's second column on simulated N-MNIST.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import nmnist

__all__ = ["PLANS", "Plan", "point_id"]

REGIMES = ("dose", "labels", "shift", "nmnist")


@dataclass(frozen=True)
class Plan:
    """A named grid: its points, the data it runs on and the epochs of each training run."""

    name: str
    regime: str
    data: str  # "bundled", "mnist" or "nmnist-sim"
    points: tuple[dict, ...]
    epochs: int = 3
    notes: str = ""
    settings: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        ids = [point_id(p) for p in self.points]
        if len(set(ids)) != len(ids):
            raise ValueError(f"plan {self.name!r} lists a point twice")


def point_id(point: dict) -> str:
    """A short, filesystem-safe, unique name: ``sum_eta1=0.1_s3``."""
    parts = [point["variant"]]
    for key in ("eta1", "labels", "shift"):
        if key in point:
            parts.append(f"{key}={point[key]:g}" if isinstance(point[key], float) else f"{key}={point[key]}")
    return "_".join(parts) + f"_s{point['seed']}"


def _dose_points(seeds, doses, readings_at: float) -> tuple[dict, ...]:
    points = []
    for seed in seeds:
        points.append({"regime": "dose", "variant": "bp", "seed": seed})
        for eta1 in doses:
            for variant in ("sum", "adaptive", "rising", "random", "decay"):
                points.append({"regime": "dose", "variant": variant, "eta1": eta1, "seed": seed})
        for variant in ("batch_sum", "adam", "sgd"):
            points.append({"regime": "dose", "variant": variant, "eta1": readings_at, "seed": seed})
    return tuple(points)


#: η1⁰ over four decades: the lab's dose (0.01, STDP ≈ 1–3% of Adam's step) up to STDP dominating.
DOSES = (0.001, 0.01, 0.1, 1.0, 10.0)
LABEL_BUDGETS = (100, 300, 1000, 3000, 60000)
SHIFTS = ("noise", "contrast", "blur", "occlusion")


def _label_points(seeds) -> tuple[dict, ...]:
    return tuple({"regime": "labels", "variant": v, "labels": n, "seed": s}
                 for s in seeds for n in LABEL_BUDGETS for v in ("bp", "pretrain", "interleave", "random"))


def _shift_points(seeds) -> tuple[dict, ...]:
    # one point answers a shift all four ways (none, recentre, stdp, random): they share the choice of settings
    return tuple({"regime": "shift", "variant": "adapt", "shift": shift, "seed": s} for s in seeds for shift in SHIFTS)


PLANS: dict[str, Plan] = {p.name: p for p in (
    Plan("dose-bundled", "dose", "bundled", _dose_points(range(5), DOSES, 0.01), epochs=3,
         notes="screen: 6,000 bundled training digits, 1,000 test digits, 3 epochs, seeds 0-4"),
    Plan("dose-mnist", "dose", "mnist",
         tuple({"regime": "dose", "variant": v, "seed": s, **({} if v == "bp" else {"eta1": eta1})}
               for s in range(5) for v, eta1 in (("bp", None), ("sum", 0.01), ("random", 0.01), ("sum", 0.1),
                                                  ("random", 0.1))), epochs=3,
         notes="confirmation on full MNIST: the lab's dose (η1 = 0.01) and the screen's largest dose that did not "
               "cost accuracy (η1 = 0.1), each against BP and its random control of the same norm, 3 epochs, "
               "seeds 0-4; test accuracy clean and under σ = 0.3 noise (protocols spike_resample and normalized, "
               "where Table I's hybrid effects survived Holm)"),
    Plan("labels-mnist", "labels", "mnist", _label_points(range(5)),
         notes="labelled digits drawn per seed from training digits 0-54,999 (the 60,000 budget: all 55,000 of "
               "them); all 60,000 training images unlabelled; η1 of each STDP method and budget chosen on "
               "validation digits 55,000-59,999 with seed 0; test set scored once"),
    Plan("shift-mnist", "shift", "mnist", _shift_points(range(5)),
         notes="committed full-MNIST BP networks bp_s0..bp_s4 adapt without labels on shifted training "
               "digits 50,000-54,999; settings chosen on shifted training digits 55,000-56,999; "
               "the first 5,000 shifted test digits scored"),
    Plan(nmnist.PLAN, "nmnist", "nmnist-sim", nmnist.nmnist_points(), epochs=nmnist.EPOCHS,
         notes=f"{nmnist.DATA_LABEL}: all 60,000 training and 10,000 test digits, T = 25; feed-forward "
               "2312-500-10 bp, sum, adaptive and the ANN on seeds 0-4, recurrent bp and adaptive on seeds 0-2"),
)}
