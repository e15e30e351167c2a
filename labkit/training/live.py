"""A live run: train one setting for one or several seeds in the background, and report as it goes.

The chapter-5 dashboard drives this; nothing here knows a widget. A `LiveRun` trains a fresh
`~labkit.models.SpikingMLP` per seed with `labkit.training.train`, in a background thread, one
seed after the other. It tests the network on the test digits a few times per epoch, and reports
every step as an event: a dict handed to each ``on_event`` callback (called in the worker
thread) and, when ``events`` is given, put on that queue for another thread to read.

==========  =============================================================================
``kind``    what else the event holds
==========  =============================================================================
start       ``seeds``, ``batches`` (training batches per seed, all epochs)
progress    ``seed``, ``epoch``, ``batch`` (0-based, over all epochs), ``batches``, ``loss``, ``dose``
point       ``seed``, ``digits`` (training digits seen), ``accuracy``, ``coefficient``, ``dose``
seed_done   ``seed``, ``result`` (a `SeedResult`: clean and noisy test accuracy)
done        ``stopped``, ``error`` (None, or the message of the exception that ended it)
==========  =============================================================================

``dose`` is the measured STDP dose of each STDP layer (`labkit.rules`): ρ = ‖η1·c·ΔW_stdp‖ over the
size of the gradient step, for the last batch (progress) or averaged since the previous point
(point); None for a rule without STDP or without a gradient step.

Seeds: seed s seeds the model's initial weights, the batch order and rate code of training, and
the test noise; so two runs with the same seed are the same run, and N seeds of one setting show
how far the result moves by chance alone. `summarize` states the spread over seeds (mean ± sd)
next to the binomial sampling error of an accuracy p measured on n test digits, √(p(1 − p)/n):
the uncertainty that more seeds on the same test digits cannot remove.
"""

from __future__ import annotations

import csv
import io
import math
import queue
import statistics
import threading
from dataclasses import dataclass, field
from typing import Callable, Iterable

from ..data.record import Data
from ..foundation.errors import LabkitError
from ..foundation.validation import check_choice, check_int, check_number
from ..models import SpikingMLP
from ..readout import DEFAULT_LOSS, NATURAL_READOUT
from ..rules import HYBRID_STDP, RULES, make_rule
from ..stdp import STDPParams
from .evaluation import evaluate
from .history import History
from .loop import train

__all__ = ["CSV_COLUMNS", "LiveRun", "LiveSettings", "RecordedRun", "RunSummary", "SeedResult", "binomial_error",
           "mean_curve", "runs_csv", "summarize"]


@dataclass(frozen=True)
class LiveSettings:
    """What one live run trains: the rule and its parameters, the network, the budget, the seeds.

    Attributes:
        rule: ``bp``, ``stdp``, ``sum`` or ``adaptive`` (`labkit.rules`).
        eta1, eta2: η1 (STDP) and η2 (Adam); the rate a rule does not use is ignored.
        kappa: κ, the step of the plasticity coefficients (``adaptive`` only).
        a_plus, a_minus: the STDP amplitudes A+ and A− (rules with STDP).
        epochs: epochs per seed.
        seeds: the seeds to train, one network each, in order.
        hidden: hidden LIF neurons of the 784-hidden-10 network (inputs taken from the data).
        batch_size: training minibatch.
        noise: test-time input noise σ of the noisy accuracy.
        evals_per_epoch: test points per epoch on the learning curve (the last at the epoch's end).
        labels: the label budget: train on the first ``labels`` training digits only (None: all of them).
    """
    rule: str = "adaptive"
    eta1: float = 0.01
    eta2: float = 1e-3
    kappa: float = 0.05
    a_plus: float = HYBRID_STDP.A_plus
    a_minus: float = HYBRID_STDP.A_minus
    epochs: int = 2
    seeds: tuple[int, ...] = (0,)
    hidden: int = 200
    batch_size: int = 64
    noise: float = 0.3
    evals_per_epoch: int = 4
    labels: int | None = None

    def __post_init__(self) -> None:
        check_choice("LiveSettings.rule", self.rule, RULES)
        for name in ("eta1", "eta2", "a_plus", "a_minus", "noise"):
            check_number(f"LiveSettings.{name}", getattr(self, name), minimum=0)
        check_number("LiveSettings.kappa", self.kappa, minimum=0, maximum=1)
        for name in ("epochs", "hidden", "batch_size", "evals_per_epoch"):
            check_int(f"LiveSettings.{name}", getattr(self, name))
        if self.labels is not None:
            check_int("LiveSettings.labels", self.labels)
        seeds = tuple(self.seeds)
        if not seeds or any(not isinstance(s, int) or isinstance(s, bool) or s < 0 for s in seeds):
            raise LabkitError(f"LiveSettings.seeds must be a non-empty sequence of integers >= 0, got {self.seeds!r}")
        if len(set(seeds)) != len(seeds):
            raise LabkitError(f"LiveSettings.seeds must differ from each other (a repeated seed repeats the same run), "
                              f"got {seeds}")
        object.__setattr__(self, "seeds", seeds)

    def rule_params(self) -> dict:
        """The keyword arguments of `labkit.rules.make_rule` for this rule (bp has no η1, stdp no η2)."""
        stdp = STDPParams(A_plus=self.a_plus, A_minus=self.a_minus, tau_plus=HYBRID_STDP.tau_plus,
                          tau_minus=HYBRID_STDP.tau_minus)
        params = {"eta1": self.eta1, "eta2": self.eta2, "kappa": self.kappa, "stdp": stdp}
        params.pop({"bp": "eta1", "stdp": "eta2"}.get(self.rule, ""), None)
        return params

    def as_row(self) -> dict:
        """The settings as flat columns (a CSV row); the rates a rule ignores are left empty."""
        row = {"rule": self.rule, "eta1": self.eta1, "eta2": self.eta2, "kappa": self.kappa,
               "a_plus": self.a_plus, "a_minus": self.a_minus}
        if self.rule == "bp":
            row.update(eta1="", kappa="", a_plus="", a_minus="")
        elif self.rule == "stdp":
            row["eta2"] = ""
        if self.rule != "adaptive":
            row["kappa"] = ""
        return {**row, "epochs": self.epochs, "hidden": self.hidden, "batch_size": self.batch_size,
                "noise_sigma": self.noise}


@dataclass
class SeedResult:
    """One seed of a live run: its learning curve and final test accuracies."""
    seed: int
    digits: list[int] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    coefficient: list[list[float]] = field(default_factory=list)  # per point: mean c of each STDP layer
    clean: float | None = None
    noisy: float | None = None
    noise_sigma: float = 0.0
    stopped: bool = False
    dose: list[list[float]] = field(default_factory=list)  # per point: mean dose ρ of each STDP layer since the last
    history: History | None = None
    model: SpikingMLP | None = field(default=None, repr=False)


def _doses(stats: dict) -> list[float]:
    """The ``dose{i}`` entries of a rule's batch statistics, layer by layer."""
    return [stats[k] for k in sorted((k for k in stats if k.startswith("dose")), key=lambda k: int(k[4:]))]


def binomial_error(p: float, n: int) -> float:
    """√(p(1 − p)/n): the standard deviation of an accuracy p measured on n independent test digits."""
    if n < 1:
        raise ValueError(f"n (test digits) must be >= 1, got {n!r}")
    return math.sqrt(max(p * (1.0 - p), 0.0) / n)


@dataclass(frozen=True)
class RunSummary:
    """Final accuracies over the seeds of a run: mean, sd over seeds, binomial error of the test set."""
    n_seeds: int
    n_test: int
    clean_mean: float
    clean_sd: float        # over seeds (0 for one seed)
    clean_binomial: float  # √(p(1 − p)/n) at the mean
    noisy_mean: float
    noisy_sd: float
    noisy_binomial: float


def _mean_sd(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def summarize(results: Iterable[SeedResult], n_test: int) -> RunSummary | None:
    """Mean ± sd over the seeds that finished, and the binomial error; None when none has."""
    done = [r for r in results if r.clean is not None and r.noisy is not None]
    if not done:
        return None
    clean, clean_sd = _mean_sd([r.clean for r in done])
    noisy, noisy_sd = _mean_sd([r.noisy for r in done])
    return RunSummary(len(done), n_test, clean, clean_sd, binomial_error(clean, n_test),
                      noisy, noisy_sd, binomial_error(noisy, n_test))


class LiveRun:
    """Train ``settings`` on ``data`` for each of its seeds, in a background thread.

    `start` begins, `stop` ends the run after the current batch (the seed in progress reports
    what it reached; later seeds are skipped), `wait` blocks until it ends. ``results`` holds
    one `SeedResult` per seed begun; `summary` the statistics of the finished ones; `retest`
    measures every trained network again at another test noise, without training.
    """

    def __init__(self, data: Data, settings: LiveSettings, *, device="cpu",
                 on_event: Callable[[dict], None] | Iterable[Callable[[dict], None]] | None = None,
                 events: queue.Queue | None = None, num_steps: int = 25, classes: int = 10):
        if len(data.train_x) == 0 or len(data.test_x) == 0:
            raise ValueError("data needs at least one training and one test image")
        self.data, self.settings, self.device, self.num_steps = data, settings, device, num_steps
        self.classes = check_int("classes", classes, 2)
        make_rule(settings.rule, **settings.rule_params())  # refuse bad rule settings before any thread starts
        self.callbacks = [on_event] if callable(on_event) else list(on_event or [])
        self.events = events
        self.results: list[SeedResult] = []
        self.error: BaseException | None = None
        self.stopped = False
        self.readout = NATURAL_READOUT[DEFAULT_LOSS]
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- control ---------------------------------------------------------------------------
    def start(self) -> "LiveRun":
        if self._thread is not None:
            raise RuntimeError("this LiveRun has already been started: make a new one for another run")
        self._thread = threading.Thread(target=self._work, daemon=True, name="labkit-live-run")
        self._thread.start()
        return self

    def run(self) -> "LiveRun":
        """Train in the calling thread (what `start` does in the background); returns when done."""
        if self._thread is not None:
            raise RuntimeError("this LiveRun has already been started: make a new one for another run")
        self._thread = threading.current_thread()
        self._work()
        return self

    def stop(self) -> None:
        """Ask the run to end after its current batch."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run ends or ``timeout`` seconds pass; True when it has ended."""
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        return not self.running

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self._thread is not threading.current_thread()

    @property
    def n_test(self) -> int:
        return len(self.data.test_x)

    def summary(self) -> RunSummary | None:
        return summarize(self.results, self.n_test)

    def batches_per_seed(self) -> int:
        return -(-len(self.train_data.train_x) // self.settings.batch_size) * self.settings.epochs

    @property
    def train_data(self) -> Data:
        """The data the networks train on: the first ``settings.labels`` training digits (all of them without
        a label budget); the test digits are always all of them."""
        labels = self.settings.labels
        if labels is None or labels >= len(self.data.train_x):
            return self.data
        return self.data._replace(train_x=self.data.train_x[:labels], train_y=self.data.train_y[:labels])

    # -- measuring ---------------------------------------------------------------------------
    def test(self, model: SpikingMLP, sigma: float, seed: int) -> float:
        """Test accuracy of ``model`` with input noise σ (noise and rate code seeded by ``seed``)."""
        return evaluate(model, self.data.test_x, self.data.test_y, noise_sigma=sigma, seed=seed,
                        num_steps=self.num_steps, device=self.device, readout=self.readout)

    def retest(self, sigma: float) -> None:
        """Measure every finished seed's network again with input noise σ (no training)."""
        check_number("sigma (σ)", sigma, minimum=0)
        for r in self.results:
            if r.model is not None and r.clean is not None:
                r.noisy, r.noise_sigma = self.test(r.model, sigma, r.seed), sigma

    # -- the worker --------------------------------------------------------------------------
    def _emit(self, kind: str, **values) -> None:
        event = {"kind": kind, **values}
        if self.events is not None:
            self.events.put(event)
        for callback in self.callbacks:
            callback(event)

    def _work(self) -> None:
        s = self.settings
        try:
            self._emit("start", seeds=s.seeds, batches=self.batches_per_seed())
            for seed in s.seeds:
                if self._stop.is_set():
                    break
                self._train_seed(seed)
        except Exception as exc:  # reported in the done event and in .error; the caller decides what to show
            self.error = exc
        finally:
            self.stopped = self._stop.is_set()
            self._emit("done", stopped=self.stopped,
                       error=None if self.error is None else f"{type(self.error).__name__}: {self.error}")

    def _point(self, result: SeedResult, rule, digits: int, accuracy: float, doses: list | None = None) -> None:
        result.digits.append(digits)
        result.accuracy.append(accuracy)
        if rule.uses_stdp:  # before train() binds the rule, c is still c_init
            result.coefficient.append([c.mean().item() for c in rule.coefficients]
                                      or [rule.params.c_init] * len(result.model.layers))
        dose = [sum(layer) / len(layer) for layer in zip(*doses)] if doses else None
        if dose is not None:
            result.dose.append(dose)
            doses.clear()
        self._emit("point", seed=result.seed, digits=digits, accuracy=accuracy,
                   coefficient=result.coefficient[-1] if result.coefficient else None, dose=dose)

    def _train_seed(self, seed: int) -> None:
        data = self.train_data
        s, n = self.settings, len(data.train_x)
        model = SpikingMLP((self.data.train_x[0].numel(), s.hidden, self.classes), seed=seed)
        rule = make_rule(s.rule, **s.rule_params())
        result = SeedResult(seed, model=model)
        self.results.append(result)
        per_epoch = -(-n // s.batch_size)
        k = max(1, min(s.evals_per_epoch, per_epoch))
        marks = {round((j + 1) * per_epoch / k) - 1 for j in range(k - 1)}  # mid-epoch test points
        seen = [0]
        doses: list[list[float]] = []  # the dose of each batch since the last point

        def callback(info: dict):
            if info["kind"] == "batch":
                b = info["batch"]
                seen[0] = info["epoch"] * n + min((b + 1) * s.batch_size, n)
                dose = _doses(info.get("stats", {}))
                if dose:
                    doses.append(dose)
                self._emit("progress", seed=seed, epoch=info["epoch"], batch=info["epoch"] * per_epoch + b,
                           batches=per_epoch * s.epochs, loss=info["loss"], dose=dose or None)
                if b in marks and not self._stop.is_set():
                    self._point(result, rule, seen[0], self.test(model, 0.0, seed), doses)
            else:  # end of an epoch: train() has just tested the network, with the same seed and readout
                self._point(result, rule, (info["epoch"] + 1) * n, info["history"].test_acc[-1], doses)
            return not self._stop.is_set()

        self._point(result, rule, 0, self.test(model, 0.0, seed))
        result.history = train(model, rule, data, s.epochs, batch_size=s.batch_size, seed=seed,
                               device=self.device, num_steps=self.num_steps, progress=False, eval_train=False,
                               readout=self.readout, callback=callback)
        result.stopped = result.history.stopped_early
        if result.stopped:  # end the curve where the run stopped
            result.clean = self.test(model, 0.0, seed)
            self._point(result, rule, seen[0], result.clean)
        else:
            result.clean = result.history.test_acc[-1]
        result.noisy, result.noise_sigma = self.test(model, s.noise, seed), s.noise
        self._emit("seed_done", seed=seed, result=result)


def mean_curve(results: Iterable[SeedResult]) -> tuple[list[int], list[float], list[float]]:
    """The learning curve averaged over seeds: (digits seen, mean accuracy, sd over seeds) at the points
    every seed reached (a stopped seed shortens the curve)."""
    curves = [r for r in results if r.digits]
    if not curves:
        return [], [], []
    length = min(len(r.digits) for r in curves)
    digits = curves[0].digits[:length]
    columns = [[r.accuracy[k] for r in curves] for k in range(length)]
    means, sds = zip(*(_mean_sd(c) for c in columns))
    return list(digits), list(means), list(sds)


@dataclass
class RecordedRun:
    """A run as the dashboard keeps and draws it: a label, the settings and each seed's curve (no models).

    ``example`` marks a run recorded earlier and shipped with the lab (drawn before the first run).
    `to_dict` / `from_dict` turn it into plain JSON values and back.
    """
    label: str
    settings: LiveSettings
    results: list[SeedResult]
    n_train: int
    n_test: int
    example: bool = False

    @classmethod
    def of(cls, live: LiveRun, label: str) -> "RecordedRun":
        """A snapshot of ``live`` without its networks (the curves are copied)."""
        results = [SeedResult(r.seed, list(r.digits), list(r.accuracy), [list(c) for c in r.coefficient], r.clean,
                              r.noisy, r.noise_sigma, r.stopped, [list(d) for d in r.dose]) for r in live.results]
        return cls(label, live.settings, results, len(live.train_data.train_x), live.n_test)

    def summary(self) -> RunSummary | None:
        return summarize(self.results, self.n_test)

    def to_dict(self) -> dict:
        settings = {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(self.settings).items()}
        results = [{k: v for k, v in vars(r).items() if k not in ("history", "model")} for r in self.results]
        return {"label": self.label, "settings": settings, "results": results, "n_train": self.n_train,
                "n_test": self.n_test, "example": self.example}

    @classmethod
    def from_dict(cls, values: dict) -> "RecordedRun":
        try:
            settings = LiveSettings(**{**values["settings"], "seeds": tuple(values["settings"]["seeds"])})
            results = [SeedResult(**r) for r in values["results"]]
            return cls(values["label"], settings, results, int(values["n_train"]), int(values["n_test"]),
                       bool(values.get("example", False)))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a recorded dashboard run ({type(exc).__name__}: {exc}); write one with "
                             "RecordedRun.to_dict") from exc


#: The columns of `runs_csv`, in order.
CSV_COLUMNS = ("run", "label", "rule", "eta1", "eta2", "kappa", "a_plus", "a_minus", "epochs", "hidden",
               "batch_size", "train_digits", "test_digits", "seed", "digits_seen", "test_accuracy",
               "coefficients", "dose", "final_clean", "final_noisy", "noise_sigma", "stopped")


def runs_csv(runs: Iterable[RecordedRun]) -> str:
    """Every run's settings and learning curve as CSV text: one row per (run, seed, curve point).

    ``runs`` are `RecordedRun` records, oldest first; the ``run`` column numbers them from 1.
    ``coefficients`` holds the mean plasticity coefficient of each STDP layer, separated by ``;``, and
    ``dose`` the measured STDP dose ρ of each STDP layer since the previous point (`labkit.rules`).
    """
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for number, run in enumerate(runs, start=1):
        base = {"run": number, "label": run.label, **run.settings.as_row(), "train_digits": run.n_train,
                "test_digits": run.n_test}
        for r in run.results:
            for k, (digits, accuracy) in enumerate(zip(r.digits, r.accuracy)):
                c = r.coefficient[k] if k < len(r.coefficient) else []
                d = r.dose[k - 1] if 0 < k <= len(r.dose) else []  # no dose before the first batch
                writer.writerow({**base, "seed": r.seed, "digits_seen": digits, "test_accuracy": f"{accuracy:.6g}",
                                 "coefficients": ";".join(f"{v:.6g}" for v in c),
                                 "dose": ";".join(f"{v:.6g}" for v in d),
                                 "final_clean": "" if r.clean is None else f"{r.clean:.6g}",
                                 "final_noisy": "" if r.noisy is None else f"{r.noisy:.6g}",
                                 "noise_sigma": r.noise_sigma, "stopped": r.stopped})
    return buffer.getvalue()
