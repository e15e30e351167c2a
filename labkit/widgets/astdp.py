"""The A-STDP dashboard: train rules side by side with chosen η1, η2 and input noise, and watch them learn."""

from __future__ import annotations

import html
import math
import threading
import time
from dataclasses import dataclass, field

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from ..data import fast_mode, mnist_data
from ..foundation.memory import check_memory
from ..foundation.validation import check_int
from ..models import SpikingMLP
from ..plotting import plot_run_curves
from ..rules import make_rule
from ..training import TrainingDiverged, evaluate, train
from ..training.inputs import as_data
from .core import dashboard, figure_bundle

__all__ = [
    "HYBRID_EPOCH_SLIDER", "HYBRID_ETA1_CHOICES", "HYBRID_ETA2_CHOICES", "HYBRID_NOISE_SLIDER", "HYBRID_RULES",
    "HybridDashboard", "HybridRun", "hybrid_config_error", "hybrid_dashboard", "hybrid_view",
]


#: η1 choices of `hybrid_dashboard`: 0 (STDP off) and a log scale from 1e-4 to 1e-1.
HYBRID_ETA1_CHOICES = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)


#: η2 choices: 0 (gradient off) and a log scale from 1e-5 to 1e-2.
HYBRID_ETA2_CHOICES = (0.0, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2)


#: (min, max, step) of the test-noise σ slider and of the epochs slider.
HYBRID_NOISE_SLIDER = (0.0, 1.0, 0.05)
HYBRID_EPOCH_SLIDER = (1, 10, 1)


#: The rules of `hybrid_dashboard`, with the tooltip that explains each.
HYBRID_RULES = {
    "bp": "surrogate-gradient backprop with Adam (η1 = 0)",
    "stdp": "STDP alone on the same network (η2 = 0)",
    "sum": "the paper's literal rule: η1·STDP + Adam step, c ≡ 1",
    "adaptive": "A-STDP: η1·diag(c)·STDP + Adam step, c adapted from the gradient",
}


def _rate_label(value: float) -> str:
    """0 → "0", 3e-4 → "3e-4" (a short log-scale label)."""
    if value == 0:
        return "0"
    mantissa, exponent = f"{value:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def hybrid_config_error(rule: str, eta1: float, eta2: float) -> str | None:
    """Why (rule, η1, η2) cannot train, in words, or None when it can.

    ``bp`` learns only through η2 and ``stdp`` only through η1; ``sum`` and ``adaptive`` need
    at least one of the two. Anything else `labkit.rules.make_rule` rejects is reported too.
    """
    if rule == "bp" and eta2 == 0:
        return "the rule bp learns only through the gradient, and η2 = 0: nothing would learn. Raise η2."
    if rule == "stdp" and eta1 == 0:
        return "the rule stdp learns only through STDP, and η1 = 0: nothing would learn. Raise η1."
    if eta1 == 0 and eta2 == 0:
        return f"η1 = η2 = 0 with the rule {rule}: nothing would learn. Raise η1 or η2."
    try:
        make_rule(rule, **_rule_rates(rule, eta1, eta2))
    except ValueError as exc:
        return str(exc)
    return None


def _rule_rates(rule: str, eta1: float, eta2: float) -> dict:
    """The rates a rule takes: bp ignores η1, stdp ignores η2 (their sliders are greyed out)."""
    return {"bp": {"eta2": eta2}, "stdp": {"eta1": eta1}}.get(rule, {"eta1": eta1, "eta2": eta2})


@dataclass
class HybridRun:
    """One run of the dashboard: its settings, test-accuracy curve and mean plasticity coefficients."""
    rule: str
    eta1: float
    eta2: float
    epochs: int
    digits: list[int] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    coefficient: list[list[float]] = field(default_factory=list)  # per point: mean c of each STDP layer
    clean: float | None = None
    noisy: float | None = None
    noise_sigma: float = 0.0
    stopped: bool = False
    error: str | None = None

    @property
    def label(self) -> str:
        rates = {"bp": f"η2={_rate_label(self.eta2)}", "stdp": f"η1={_rate_label(self.eta1)}"}.get(
            self.rule, f"η1={_rate_label(self.eta1)}, η2={_rate_label(self.eta2)}")
        return f"{self.rule} ({rates})"


def hybrid_view(runs, *, max_digits: int | None = None) -> Figure:
    """Test accuracy against training digits seen (left) and mean plasticity coefficient c (right).

    ``runs`` are `HybridRun` records, oldest first; the last is drawn in colour. Pure: no state.
    """
    fig = Figure(figsize=(9, 3.3), layout="constrained")
    ax_acc, ax_c = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    shown = [r for r in runs if r.digits][-8:]
    plot_run_curves([(r.label, r.digits, r.accuracy) for r in shown], ax_acc, scale=100, ylim=(0, 100),
                    title="test accuracy during training")
    if max_digits:
        ax_acc.set_xlim(0, max_digits)
    with_c = [r for r in shown if r.coefficient]
    for k, r in enumerate(with_c):
        current = r is shown[-1]
        c = np.asarray(r.coefficient, dtype=float)
        for layer in range(c.shape[1]):
            ax_c.plot(r.digits[: len(c)], c[:, layer], "-" if layer == 0 else "--",
                      color=f"C{layer}" if current else "0.7", lw=1.8 if current else 0.9,
                      label=(f"layer {layer + 1}" if current else None))
    ax_c.set_ylim(-0.03, 1.05)
    ax_c.set_xlabel("training digits seen")
    ax_c.set_ylabel("mean plasticity coefficient c")
    ax_c.set_title("A-STDP: c per layer (sum: c ≡ 1)")
    if max_digits:
        ax_c.set_xlim(0, max_digits)
    if ax_c.lines and shown[-1].coefficient:
        ax_c.legend(fontsize="x-small", loc="lower left")
    elif shown and not shown[-1].coefficient:
        ax_c.text(0.5, 0.5, f"{shown[-1].rule}: no STDP, no c", transform=ax_c.transAxes, ha="center", color="0.4")
    ax_c.grid(alpha=0.3)
    return fig


class HybridDashboard:
    """Train a small spiking network with bp, stdp, sum or adaptive (A-STDP) from sliders.

    The controls are attributes: ``rule``, ``eta1``, ``eta2``, ``noise`` (test-time σ),
    ``epochs``, ``train_button``, ``stop_button``; the outcome shows in ``result`` (an HTML
    widget: the final clean and noisy test accuracy, or a message saying what went wrong),
    ``status``, ``progress`` and ``plot``. Training runs in a background thread, so the notebook
    stays responsive; `run` starts one (``wait=True`` blocks until it ends, for tests and
    scripts), `stop` ends it after the current batch. Every finished run stays in ``runs``
    and is drawn, in grey, under the next one. Display the dashboard by ending a cell with it.
    """
    def __init__(self, data, *, hidden: int, batch_size: int, seed: int, device, rule: str, eta1: float,
                 eta2: float, noise: float, epochs: int, evals_per_epoch: int = 4):
        self.data, self.hidden, self.batch_size, self.seed = data, hidden, batch_size, seed
        self.device, self.evals_per_epoch = device, evals_per_epoch
        self.runs: list[HybridRun] = []
        self.current: HybridRun | None = None
        self.model = None
        self.history = None
        self.rule_object = None
        self.error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._draw_lock = threading.Lock()
        self._drawn_at = -math.inf
        self.redraw_interval = 1.0  # seconds between live redraws during a run (a redraw takes ~0.1 s)

        style = {"description_width": "initial"}
        layout = widgets.Layout(width="340px")
        self.rule = widgets.ToggleButtons(options=list(HYBRID_RULES), value=rule, description="rule",
                                          style=style, tooltips=[HYBRID_RULES[r] for r in HYBRID_RULES])
        self.eta1 = widgets.SelectionSlider(options=[(_rate_label(v), v) for v in HYBRID_ETA1_CHOICES], value=eta1,
                                            description="η1 (STDP)", continuous_update=False, style=style,
                                            layout=layout)
        self.eta2 = widgets.SelectionSlider(options=[(_rate_label(v), v) for v in HYBRID_ETA2_CHOICES], value=eta2,
                                            description="η2 (Adam)", continuous_update=False, style=style,
                                            layout=layout)
        lo, hi, step = HYBRID_NOISE_SLIDER
        self.noise = widgets.FloatSlider(value=noise, min=lo, max=hi, step=step, description="test noise σ",
                                         continuous_update=False, readout_format=".2f", style=style, layout=layout)
        lo, hi, step = HYBRID_EPOCH_SLIDER
        self.epochs = widgets.IntSlider(value=epochs, min=lo, max=hi, step=step, description="epochs",
                                        continuous_update=False, style=style, layout=layout)
        self.train_button = widgets.Button(description="Train", button_style="primary", icon="play",
                                           tooltip="train a fresh network with these settings")
        self.stop_button = widgets.Button(description="Stop", button_style="warning", icon="stop", disabled=True,
                                          tooltip="stop the run after the current batch")
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="", layout=widgets.Layout(width="200px"))
        self.status = widgets.Label(value="")
        self.result = widgets.HTML(value=self._hint())
        self.plot = widgets.Output(layout=widgets.Layout(min_height="280px"))
        for w, css in ((self.rule, "labkit-rule"), (self.eta1, "labkit-eta1"), (self.eta2, "labkit-eta2"),
                       (self.noise, "labkit-noise"), (self.epochs, "labkit-epochs"),
                       (self.train_button, "labkit-train"), (self.stop_button, "labkit-stop"),
                       (self.result, "labkit-result"), (self.status, "labkit-status")):
            w.add_class(css)
        self.train_button.on_click(lambda _button: self.run(wait=False))
        self.stop_button.on_click(lambda _button: self.stop())
        self.rule.observe(self._on_rule, names="value")
        self.noise.observe(self._on_noise, names="value")
        self._on_rule()
        self._redraw()
        self.widget = widgets.VBox([
            self.rule,
            widgets.HBox([self.eta1, self.eta2]),
            widgets.HBox([self.noise, self.epochs]),
            widgets.HBox([self.train_button, self.stop_button, self.progress, self.status]),
            self.result,
            self.plot,
        ])

    # -- display ---------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def _hint(self) -> str:
        n_train, n_test = len(self.data.train_x), len(self.data.test_x)
        return (f"Choose a rule and rates, then press <b>Train</b>: a {self.data.train_x[0].numel()}-{self.hidden}-10 "
                f"spiking network learns from {n_train:,} digits and is tested on {n_test:,} others.")

    def _show(self, html: str) -> None:
        self.result.value = html

    def _redraw(self) -> None:
        runs = self.runs + ([self.current] if self.current is not None and self.current not in self.runs else [])
        max_digits = max((r.epochs for r in runs), default=1) * len(self.data.train_x)
        with self._draw_lock:
            self.plot.outputs = (figure_bundle(hybrid_view(runs, max_digits=max_digits)),)
            self._drawn_at = time.monotonic()

    # -- controls --------------------------------------------------------------------------
    def _on_rule(self, _change=None) -> None:
        self.eta1.disabled = self.rule.value == "bp"
        self.eta2.disabled = self.rule.value == "stdp"

    def _on_noise(self, _change=None) -> None:
        """A new σ after a run: re-test the trained network (no retraining)."""
        run = self.runs[-1] if self.runs else None
        if self.running or self.model is None or run is None or run.clean is None:
            return
        run.noisy, run.noise_sigma = self._test(self.noise.value), self.noise.value
        self._show(self._result_html(run))

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def settings(self) -> dict:
        """The current control values: rule, eta1, eta2, noise, epochs."""
        return {"rule": self.rule.value, "eta1": self.eta1.value, "eta2": self.eta2.value,
                "noise": self.noise.value, "epochs": self.epochs.value}

    # -- running ---------------------------------------------------------------------------
    def run(self, wait: bool = False, timeout: float | None = None):
        """Train a fresh network with the current settings (what the Train button does).

        Returns immediately, or with ``wait=True`` once the run ended, returning its
        `labkit.training.History` (None when the settings were refused or the run failed:
        ``result`` then says why). While a run is going on, a second call does nothing.
        """
        if self.running:
            return self.wait(timeout) if wait else None
        s = self.settings()
        problem = hybrid_config_error(s["rule"], s["eta1"], s["eta2"])
        if problem is not None:
            self._show(f"<span style='color:#b00'><b>Cannot train:</b> {html.escape(problem)}</span>")
            return None

        self.rule_object = make_rule(s["rule"], **_rule_rates(s["rule"], s["eta1"], s["eta2"]))
        self.model = SpikingMLP((self.data.train_x[0].numel(), self.hidden, 10), seed=self.seed)
        self.current = HybridRun(s["rule"], s["eta1"], s["eta2"], s["epochs"])
        self.history, self.error = None, None
        self._stop.clear()
        self.train_button.disabled, self.stop_button.disabled = True, False
        batches = -(-len(self.data.train_x) // self.batch_size)
        self.progress.max, self.progress.value = batches * s["epochs"], 0
        self.status.value = "starting…"
        self._show(f"Training <b>{html.escape(self.current.label)}</b> for {s['epochs']} epoch(s)… "
                   "the result appears here when the run ends.")
        self._thread = threading.Thread(target=self._work, args=(self.current, s), daemon=True,
                                        name="labkit-hybrid-dashboard")
        self._thread.start()
        return self.wait(timeout) if wait else None

    def stop(self) -> None:
        """Ask the running training to stop after its current batch (what the Stop button does)."""
        if self.running:
            self._stop.set()
            self.status.value = "stopping…"

    def wait(self, timeout: float | None = None):
        """Block until the current run ends (or ``timeout`` seconds pass); returns its History or None."""
        if self._thread is not None:
            self._thread.join(timeout)
        return None if self.running else self.history

    def _test(self, sigma: float) -> float:

        return evaluate(self.model, self.data.test_x, self.data.test_y, noise_sigma=sigma, seed=self.seed,
                        device=self.device)

    def _record(self, run: HybridRun, digits: int, accuracy: float) -> None:
        run.digits.append(digits)
        run.accuracy.append(accuracy)
        rule = self.rule_object
        if rule is not None and rule.uses_stdp:  # before train() binds the rule, c is still c_init
            run.coefficient.append([c.mean().item() for c in rule.coefficients]
                                   or [rule.params.c_init] * len(self.model.layers))
        if time.monotonic() - self._drawn_at >= self.redraw_interval:
            self._redraw()

    def _work(self, run: HybridRun, s: dict) -> None:
        """The background thread: train, record test accuracy a few times per epoch, report."""
        n = len(self.data.train_x)
        marks: set[int] = set()
        seen = [0]  # training digits seen so far

        def callback(info: dict):
            if info["kind"] == "batch":
                b, batches = info["batch"], info["batches"]
                if not marks:
                    k = max(1, min(self.evals_per_epoch, batches))
                    marks.update(round((j + 1) * batches / k) - 1 for j in range(k - 1))
                self.progress.value = info["epoch"] * batches + b + 1
                seen[0] = info["epoch"] * n + min((b + 1) * self.batch_size, n)
                self.status.value = f"epoch {info['epoch'] + 1}/{s['epochs']}, batch {b + 1}/{batches}"
                if b in marks and not self._stop.is_set():
                    self._record(run, seen[0], self._test(0.0))
            else:  # end of an epoch: train() has just tested the network
                self._record(run, (info["epoch"] + 1) * n, info["history"].test_acc[-1])
            return not self._stop.is_set()

        try:
            self._record(run, 0, self._test(0.0))
            self.history = train(self.model, self.rule_object, self.data, s["epochs"], batch_size=self.batch_size,
                                 seed=self.seed, device=self.device, progress=False, eval_train=False,
                                 callback=callback)
            run.stopped = self.history.stopped_early
            run.clean, run.noise_sigma = self._test(0.0), self.noise.value
            run.noisy = self._test(run.noise_sigma)
            if run.stopped:  # end the curve where the run stopped
                self._record(run, seen[0], run.clean)
            self._show(self._result_html(run))
        except TrainingDiverged as exc:
            self.error, run.error = exc, str(exc)
            self._show(f"<span style='color:#b00'><b>The run diverged.</b> {html.escape(str(exc))}</span>")
        except Exception as exc:  # a failed run shows a message in the dashboard, never a traceback
            self.error, run.error = exc, f"{type(exc).__name__}: {exc}"
            self._show(f"<span style='color:#b00'><b>The run failed</b> ({html.escape(run.error)}).</span>")
        finally:
            self.runs.append(run)
            self.current = None
            self.train_button.disabled, self.stop_button.disabled = False, True
            self.status.value = "stopped" if run.stopped else ("failed" if run.error else "done")
            try:
                self._redraw()
            except Exception as exc:  # drawing must not hide the result above
                self.status.value = f"(plot failed: {type(exc).__name__})"

    def _result_html(self, run: HybridRun) -> str:
        head = (f"Stopped early: test accuracy so far of <b>{html.escape(run.label)}</b>"
                if run.stopped else
                f"Test accuracy of <b>{html.escape(run.label)}</b> after {run.epochs} epoch(s)")
        note = ""
        if run.rule == "adaptive" and run.eta2 == 0:
            note = " (with η2 = 0 there is no gradient, so c never adapts: this is the stdp rule)"
        return (f"{head} on {len(self.data.test_x):,} test digits: clean <b>{100 * run.clean:.1f} %</b>, "
                f"with input noise σ = {run.noise_sigma:.2f}: <b>{100 * run.noisy:.1f} %</b>{note}")


def hybrid_dashboard(data=None, *, hidden: int | None = None, train_size: int | None = None,
                     test_size: int | None = None, rule: str = "adaptive", eta1: float = 0.01, eta2: float = 1e-3,
                     noise: float = 0.3, epochs: int | None = None, batch_size: int = 128, seed: int = 0,
                     device: str = "auto") -> HybridDashboard:
    """A dashboard that trains a spiking network with the chosen rule, live (chapter 5).

    Args:
        data: a `labkit.training.Data` of images; default the bundled MNIST subset, of which
            ``train_size`` / ``test_size`` digits are used (2,000 / 500; 600 / 200 in fast mode).
        hidden: hidden LIF neurons (default 200; 50 in fast mode; the paper uses 500).
        rule, eta1, eta2, noise, epochs: the controls' initial values (η1 and η2 must be among
            ``HYBRID_ETA1_CHOICES`` and ``HYBRID_ETA2_CHOICES``).
        batch_size, seed, device: passed to `labkit.training.train`.

    Returns:
        a `HybridDashboard`; end a cell with it to display it.
    """
    fast = fast_mode()
    hidden = hidden if hidden is not None else (50 if fast else 200)
    epochs = epochs if epochs is not None else (1 if fast else 2)
    train_size = train_size if train_size is not None else (None if data is not None else (600 if fast else 2000))
    test_size = test_size if test_size is not None else (None if data is not None else (200 if fast else 500))
    if rule not in HYBRID_RULES:
        raise ValueError(f"rule must be one of {', '.join(HYBRID_RULES)}, got {rule!r}")
    if eta1 not in HYBRID_ETA1_CHOICES:
        raise ValueError(f"eta1 (η1) must be one of {HYBRID_ETA1_CHOICES}, got {eta1!r}")
    if eta2 not in HYBRID_ETA2_CHOICES:
        raise ValueError(f"eta2 (η2) must be one of {HYBRID_ETA2_CHOICES}, got {eta2!r}")
    lo, hi, _ = HYBRID_NOISE_SLIDER
    if not lo <= noise <= hi:
        raise ValueError(f"noise (test-time σ) must be in [{lo}, {hi}], got {noise!r}")
    lo, hi, _ = HYBRID_EPOCH_SLIDER
    if not (isinstance(epochs, int) and lo <= epochs <= hi):
        raise ValueError(f"epochs must be an integer in [{lo}, {hi}], got {epochs!r}")
    for name, value in (("hidden", hidden), ("batch_size", batch_size), ("train_size", train_size),
                        ("test_size", test_size)):
        check_int(name, value, 1, allow_none=True)
    # The network's weights, gradients and Adam's two moments (16 B per weight), and a batch's spikes,
    # membranes and their gradients over T = 25 steps (about 8 tensors of 4 B per neuron-step).
    inputs = 784 if data is None or not hasattr(data, "train_x") else int(np.prod(data.train_x.shape[1:]))
    check_memory(16 * (inputs + 10) * hidden + 32 * batch_size * 25 * (hidden + 10),
                 f"a {inputs}-{hidden}-10 network trained in batches of {batch_size}",
                 "use fewer hidden neurons or a smaller batch_size")
    if data is None:
        data = mnist_data("bundled", train_limit=train_size, test_limit=test_size)
    else:
        data = as_data(data, classes=10)
        if data.encoder.temporal:
            raise ValueError("hybrid_dashboard trains on images ([N, ...] in [0, 1]), not temporal (event) data")
        data = data._replace(train_x=data.train_x[:train_size], train_y=data.train_y[:train_size],
                             test_x=data.test_x[:test_size], test_y=data.test_y[:test_size])
    if len(data.train_x) == 0 or len(data.test_x) == 0:
        raise ValueError("data needs at least one training and one test image")
    return HybridDashboard(data, hidden=hidden, batch_size=batch_size, seed=seed, device=device, rule=rule,
                           eta1=eta1, eta2=eta2, noise=noise, epochs=epochs)
