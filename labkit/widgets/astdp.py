"""The A-STDP dashboard: train rules with chosen η1, η2, κ, STDP amplitudes and seeds, and watch them learn.

The dashboard is the controls around a `labkit.training.live.LiveRun` (which trains in the
background and knows nothing of widgets) and the pure figure `labkit.widgets.astdp_view.hybrid_view`.
"""

from __future__ import annotations

import base64
import html
import math
import threading
import time
from pathlib import Path

import ipywidgets as widgets
import matplotlib
import numpy as np

from ..data import fast_mode, mnist_data
from ..foundation.io import read_json, write_text
from ..foundation.memory import check_memory
from ..foundation.paths import REPO_ROOT
from ..foundation.validation import check_int
from ..rules import HYBRID_STDP, make_rule
from ..training import TrainingDiverged
from ..training.inputs import as_data
from ..training.live import LiveRun, LiveSettings, RecordedRun, runs_csv
from .astdp_view import hybrid_view, rate_label, run_label
from .core import figure_bundle

__all__ = [
    "EXAMPLE_RUNS", "HYBRID_A_RANGE", "HYBRID_EPOCH_SLIDER", "HYBRID_ETA1_RANGE", "HYBRID_ETA2_RANGE",
    "HYBRID_KAPPA_SLIDER", "HYBRID_NOISE_SLIDER", "HYBRID_RULES", "HYBRID_SEEDS_SLIDER", "HybridDashboard",
    "hybrid_config_error", "hybrid_dashboard", "load_example_runs",
]

#: (min, max) of the log sliders, and their step in decades (10 steps per decade: ×1.26 a step).
HYBRID_ETA1_RANGE = (1e-4, 10.0)
HYBRID_ETA2_RANGE = (1e-5, 1e-2)
HYBRID_A_RANGE = (1e-4, 1e-1)
LOG_STEP = 0.1

#: (min, max, step) of the linear sliders.
HYBRID_NOISE_SLIDER = (0.0, 1.0, 0.05)
HYBRID_EPOCH_SLIDER = (1, 10, 1)
HYBRID_KAPPA_SLIDER = (0.0, 1.0, 0.01)
HYBRID_SEEDS_SLIDER = (1, 10, 1)

#: The rules of `hybrid_dashboard`, with the tooltip that explains each.
HYBRID_RULES = {
    "bp": "surrogate-gradient backprop with Adam (η1 = 0)",
    "stdp": "STDP alone on the same network (η2 = 0)",
    "sum": "the paper's literal rule: η1·STDP + Adam step, c ≡ 1",
    "adaptive": "A-STDP: η1·diag(c)·STDP + Adam step, c adapted from the gradient",
}

#: Presentation mode (a projector): larger widget text, through the CSS variables ipywidgets reads.
PRESENTATION_CSS = """<style>
.labkit-dashboard { --jp-widgets-font-size: 19px; --jp-widgets-inline-height: 36px;
  --jp-widgets-inline-label-width: 220px; --jp-ui-font-size1: 19px; font-size: 19px; }
.labkit-dashboard .widget-label, .labkit-dashboard .widget-readout, .labkit-dashboard button,
.labkit-dashboard .widget-html-content, .labkit-dashboard .lm-AccordionPanel-title,
.labkit-dashboard .jupyter-widget-Collapse-header { font-size: 19px; }
.labkit-dashboard .labkit-plot img { max-width: 100%; height: auto; }
</style>"""

#: The example the figure shows before the first run (written by scripts/dashboard_example.py).
EXAMPLE_RUNS = REPO_ROOT / "results" / "dashboard" / "example_runs.json"


def _percent(ratio: float) -> str:
    """A dose ratio as a readable share: 0.0123 → '1.2%', 3.4 → '340%'."""
    return f"{100 * ratio:.2g}%" if ratio < 0.1 else f"{100 * ratio:.0f}%"


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
    rates = {"bp": {"eta2": eta2}, "stdp": {"eta1": eta1}}.get(rule, {"eta1": eta1, "eta2": eta2})
    try:
        make_rule(rule, **rates)
    except ValueError as exc:
        return str(exc)
    return None


def load_example_runs(path=EXAMPLE_RUNS) -> list[RecordedRun]:
    """The recorded example runs at ``path`` (each marked ``example``); [] when the file is absent."""
    path = Path(path)
    if not path.is_file():
        return []
    records = [RecordedRun.from_dict(values) for values in read_json(path, what="dashboard example")["runs"]]
    for r in records:
        r.example = True
    return records


def _log_slider(description: str, value: float, bounds: tuple[float, float], css: str, layout, style):
    lo, hi = (math.log10(b) for b in bounds)
    slider = widgets.FloatLogSlider(value=value, base=10, min=lo, max=hi, step=LOG_STEP, description=description,
                                    continuous_update=False, readout_format=".2e", style=style, layout=layout)
    slider.add_class(css)
    return slider


class HybridDashboard:
    """Train a small spiking network with bp, stdp, sum or adaptive (A-STDP) from sliders.

    The controls are attributes: ``rule``, ``eta1``, ``eta2`` (log sliders), ``noise`` (test-time
    σ), ``epochs``, ``seed`` and ``n_seeds`` (a run trains seeds seed, seed + 1, … seed + N − 1),
    and, in the ``advanced`` accordion, ``kappa`` (κ, adaptive only), ``a_plus`` and ``a_minus``
    (the STDP amplitudes); ``train_button``, ``stop_button``, ``export_button``. The outcome
    shows in ``result`` (mean ± sd over seeds and the binomial sampling error, or a message
    saying what went wrong), ``status``, ``progress`` and ``plot``.

    Training runs in the background (`labkit.training.live.LiveRun`), so the notebook stays
    responsive; `run` starts one (``wait=True`` blocks until it ends), `stop` ends it after the
    current batch. Every run is kept in ``runs`` (`RecordedRun`, labelled ``#1``, ``#2``, …),
    drawn beside the next ones and written by `export_csv`. Before the first run the figure
    shows ``examples`` (runs recorded earlier). Display the dashboard by ending a cell with it.
    """

    def __init__(self, data, *, hidden: int, batch_size: int, seed: int, device, rule: str, eta1: float,
                 eta2: float, noise: float, epochs: int, n_seeds: int = 1, kappa: float = 0.05,
                 a_plus: float = HYBRID_STDP.A_plus, a_minus: float = HYBRID_STDP.A_minus, evals_per_epoch: int = 4,
                 examples: list[RecordedRun] | None = None, presentation: bool = False,
                 export_path: str | Path = "dashboard_runs.csv"):
        self.data, self.hidden, self.batch_size = data, hidden, batch_size
        self.device, self.evals_per_epoch, self.presentation = device, evals_per_epoch, presentation
        self.export_path = Path(export_path)
        self.examples = list(examples or [])
        self.runs: list[RecordedRun] = []
        self.live: LiveRun | None = None
        self._drawing_live: LiveRun | None = None  # the run in progress, drawn until it is recorded in runs
        self.model = None
        self.history = None
        self.error: BaseException | None = None
        self._draw_lock = threading.Lock()
        self._drawn_at = -math.inf
        self._drawn_cpu_at, self._draw_cpu = -math.inf, 0.0
        self.redraw_interval = 1.0  # seconds between live redraws during a run, at the least
        self.draw_share = 0.2  # live redraws take at most about this share of the run's CPU time

        self._build_controls(rule=rule, eta1=eta1, eta2=eta2, noise=noise, epochs=epochs, seed=seed, n_seeds=n_seeds,
                             kappa=kappa, a_plus=a_plus, a_minus=a_minus)
        self.train_button.on_click(lambda _button: self.run(wait=False))
        self.stop_button.on_click(lambda _button: self.stop())
        self.export_button.on_click(lambda _button: self._export_clicked())
        self.rule.observe(self._on_rule, names="value")
        self.noise.observe(self._on_noise, names="value")
        self._on_rule()
        self._redraw()
        self.widget = widgets.VBox([
            *([widgets.HTML(PRESENTATION_CSS)] if presentation else []),
            self.rule,
            widgets.HBox([self.eta1, self.eta2]),
            widgets.HBox([self.noise, self.epochs]),
            widgets.HBox([self.n_seeds, self.seed, self.labels]),
            self.advanced,
            widgets.HBox([self.train_button, self.stop_button, self.progress, self.status, self.export_button]),
            self.result,
            self.export_link,
            self.plot,
        ])
        self.widget.add_class("labkit-dashboard")

    def _build_controls(self, *, rule, eta1, eta2, noise, epochs, seed, n_seeds, kappa, a_plus, a_minus) -> None:
        """The widgets, each with the CSS class (labkit-…) that browser tests and screenshots look for."""
        style = {"description_width": "initial"}
        layout = widgets.Layout(width="420px" if self.presentation else "340px")
        self.rule = widgets.ToggleButtons(options=list(HYBRID_RULES), value=rule, description="rule", style=style,
                                          tooltips=[HYBRID_RULES[r] for r in HYBRID_RULES])
        self.eta1 = _log_slider("η1 (STDP)", eta1, HYBRID_ETA1_RANGE, "labkit-eta1", layout, style)
        self.eta2 = _log_slider("η2 (Adam)", eta2, HYBRID_ETA2_RANGE, "labkit-eta2", layout, style)
        lo, hi, step = HYBRID_NOISE_SLIDER
        self.noise = widgets.FloatSlider(value=noise, min=lo, max=hi, step=step, description="test noise σ",
                                         continuous_update=False, readout_format=".2f", style=style, layout=layout)
        lo, hi, step = HYBRID_EPOCH_SLIDER
        self.epochs = widgets.IntSlider(value=epochs, min=lo, max=hi, step=step, description="epochs",
                                        continuous_update=False, style=style, layout=layout)
        self.seed = widgets.BoundedIntText(value=seed, min=0, max=10**6, description="seed", style=style,
                                           layout=widgets.Layout(width="160px"))
        lo, hi, step = HYBRID_SEEDS_SLIDER
        self.n_seeds = widgets.IntSlider(value=n_seeds, min=lo, max=hi, step=step, description="seeds (N)",
                                         continuous_update=False, style=style, layout=layout,
                                         tooltip="train N seeds of these settings: seed, seed + 1, …")
        lo, hi, step = HYBRID_KAPPA_SLIDER
        self.kappa = widgets.FloatSlider(value=kappa, min=lo, max=hi, step=step, description="κ (c step, adaptive)",
                                         continuous_update=False, readout_format=".2f", style=style, layout=layout)
        self.a_plus = _log_slider("A+ (potentiation)", a_plus, HYBRID_A_RANGE, "labkit-a-plus", layout, style)
        self.a_minus = _log_slider("A− (depression)", a_minus, HYBRID_A_RANGE, "labkit-a-minus", layout, style)
        n_train = len(self.data.train_x)
        budgets = [("all", None)] + [(f"{n:,}", n) for n in (100, 300, 1000, 3000) if n < n_train]
        self.labels = widgets.Dropdown(options=budgets, value=None, description="labelled digits", style=style,
                                       layout=widgets.Layout(width="220px"),
                                       tooltip="the label budget: train on only the first n training digits")
        self.advanced = widgets.Accordion(children=[widgets.VBox([self.kappa, widgets.HBox([self.a_plus,
                                                                                            self.a_minus])])])
        self.advanced.set_title(0, "advanced: κ and the STDP amplitudes")
        self.advanced.selected_index = None
        self.train_button = widgets.Button(description="Train", button_style="primary", icon="play",
                                           tooltip="train fresh networks with these settings")
        self.stop_button = widgets.Button(description="Stop", button_style="warning", icon="stop", disabled=True,
                                          tooltip="stop the run after the current batch")
        self.export_button = widgets.Button(description="Export CSV", icon="download", disabled=True,
                                            tooltip="every run's settings and curve as a CSV file",
                                            layout=widgets.Layout(width="auto"))
        self.progress = widgets.IntProgress(value=0, min=0, max=1, layout=widgets.Layout(width="200px"))
        self.status = widgets.Label(value="")
        self.result = widgets.HTML(value=self._hint())
        self.export_link = widgets.HTML(value="")
        self.plot = widgets.Output(layout=widgets.Layout(min_height="330px"))
        for w, css in ((self.rule, "labkit-rule"), (self.noise, "labkit-noise"), (self.epochs, "labkit-epochs"),
                       (self.labels, "labkit-labels"),
                       (self.seed, "labkit-seed"), (self.n_seeds, "labkit-seeds"), (self.kappa, "labkit-kappa"),
                       (self.train_button, "labkit-train"), (self.stop_button, "labkit-stop"),
                       (self.export_button, "labkit-export"), (self.result, "labkit-result"),
                       (self.status, "labkit-status"), (self.plot, "labkit-plot")):
            w.add_class(css)

    # -- display ---------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def _hint(self) -> str:
        n_train, n_test = len(self.data.train_x), len(self.data.test_x)
        return (f"Choose a rule and rates, then press <b>Train</b>: a {self.data.train_x[0].numel()}-{self.hidden}-10 "
                f"spiking network learns from {n_train:,} digits and is tested on {n_test:,} others "
                f"(on so few, a score near 80 % carries a binomial sampling error of ±"
                f"{100 * math.sqrt(0.16 / n_test):.1f} points: use several seeds to see what else moves it).")

    def _show(self, text: str) -> None:
        self.result.value = text

    def shown_runs(self) -> list[RecordedRun]:
        """What the figure draws: the finished runs and the one in progress (the examples while there are none)."""
        runs = list(self.runs)
        live = self._drawing_live
        if live is not None:
            runs.append(RecordedRun.of(live, run_label(live.settings, len(self.runs) + 1)))
        return runs or self.examples

    def _redraw(self) -> None:
        runs = self.shown_runs()
        max_digits = max((r.settings.epochs * r.n_train for r in runs), default=None)
        scale = 1.35 if self.presentation else 1.0
        with self._draw_lock, matplotlib.rc_context({"font.size": 10 * scale}):
            cpu = time.process_time()
            self.plot.outputs = (figure_bundle(hybrid_view(runs, max_digits=max_digits, scale=scale)),)
            self._drawn_at, self._drawn_cpu_at = time.monotonic(), time.process_time()
            self._draw_cpu = self._drawn_cpu_at - cpu

    def _redraw_due(self) -> bool:
        """A live redraw is due when ``redraw_interval`` seconds have passed and the training has had
        (1 − draw_share)/draw_share times the last drawing's CPU time since: on a busy machine, where
        seconds pass slowly for the run, the figure is redrawn less often instead of slowing it down."""
        cpu_since = time.process_time() - self._drawn_cpu_at
        return (time.monotonic() - self._drawn_at >= self.redraw_interval
                and cpu_since * self.draw_share >= self._draw_cpu * (1 - self.draw_share))

    # -- controls --------------------------------------------------------------------------
    def _on_rule(self, _change=None) -> None:
        rule = self.rule.value
        self.eta1.disabled = self.a_plus.disabled = self.a_minus.disabled = rule == "bp"
        self.eta2.disabled = rule == "stdp"
        self.kappa.disabled = rule != "adaptive"

    def _on_noise(self, _change=None) -> None:
        """A new σ after a run: re-test the trained networks of the last run (no retraining)."""
        if self.running or self.live is None or not self.runs or self.live.error is not None:
            return
        self.live.retest(self.noise.value)
        self.runs[-1] = RecordedRun.of(self.live, self.runs[-1].label)
        self._show(self._result_html(self.runs[-1]))

    @property
    def running(self) -> bool:
        return self.live is not None and self.live.running

    def settings(self) -> LiveSettings:
        """The run the controls describe now (`LiveSettings`)."""
        seeds = tuple(range(self.seed.value, self.seed.value + self.n_seeds.value))
        return LiveSettings(rule=self.rule.value, eta1=self.eta1.value, eta2=self.eta2.value, kappa=self.kappa.value,
                            a_plus=self.a_plus.value, a_minus=self.a_minus.value, epochs=self.epochs.value,
                            seeds=seeds, hidden=self.hidden, batch_size=self.batch_size, noise=self.noise.value,
                            evals_per_epoch=self.evals_per_epoch, labels=self.labels.value)

    # -- running ---------------------------------------------------------------------------
    def run(self, wait: bool = False, timeout: float | None = None):
        """Train fresh networks with the current settings (what the Train button does).

        Returns immediately, or with ``wait=True`` once the run ended, returning the `History`
        of its last seed (None when the settings were refused or the run failed: ``result``
        then says why). While a run is going on, a second call does nothing.
        """
        if self.running:
            return self.wait(timeout) if wait else None
        try:
            settings = self.settings()
            live = LiveRun(self.data, settings, device=self.device, on_event=self._on_event)
        except ValueError as exc:
            self._show(f"<span style='color:#b00'><b>Cannot train:</b> {html.escape(str(exc))}</span>")
            return None
        self.live, self.history, self.model, self.error = live, None, None, None
        self.train_button.disabled, self.stop_button.disabled = True, False
        self.progress.max, self.progress.value = live.batches_per_seed() * len(settings.seeds), 0
        self.status.value = "starting…"
        seeds = len(settings.seeds)
        self._show(f"Training <b>{html.escape(run_label(settings, len(self.runs) + 1))}</b> for {settings.epochs} "
                   f"epoch(s){f' per seed ({seeds} networks)' if seeds > 1 else ''}… the result appears here when "
                   "the run ends.")
        self._drawing_live = live
        live.start()
        return self.wait(timeout) if wait else None

    def stop(self) -> None:
        """Ask the running training to stop after its current batch (what the Stop button does)."""
        if self.running:
            self.live.stop()
            self.status.value = "stopping…"

    def wait(self, timeout: float | None = None):
        """Block until the current run ends (or ``timeout`` seconds pass); returns its last History or None."""
        if self.live is not None:
            self.live.wait(timeout)  # the live run's last event (done) is handled in its thread before it ends
        return None if self.running else self.history

    def _on_event(self, event: dict) -> None:
        """Called by the live run's thread for every event."""
        kind, live = event["kind"], self.live
        if kind == "progress":
            done = live.settings.seeds.index(event["seed"]) * event["batches"] + event["batch"] + 1
            self.progress.value = done
            seeds = live.settings.seeds
            prefix = f"seed {event['seed']} ({seeds.index(event['seed']) + 1}/{len(seeds)}), " if len(seeds) > 1 else ""
            dose = event.get("dose")
            dose_text = ("; STDP dose ρ " + ", ".join(f"layer {i + 1} {_percent(d)}" for i, d in enumerate(dose))
                         + " of the gradient step") if dose else ""
            self.status.value = (f"{prefix}epoch {event['epoch'] + 1}/{live.settings.epochs}, "
                                 f"batch {event['batch'] + 1}/{event['batches']}{dose_text}")
        elif kind == "point" and self._redraw_due():
            self._redraw()
        elif kind == "done":
            self._done(event)

    def _done(self, event: dict) -> None:
        live, self._drawing_live = self.live, None
        try:
            record = RecordedRun.of(live, run_label(live.settings, len(self.runs) + 1))
            finished = [r for r in live.results if r.history is not None]
            if finished:
                self.model, self.history = finished[-1].model, finished[-1].history
            if any(r.digits for r in record.results):
                self.runs.append(record)
            self.error = live.error
            self.export_button.disabled = not self.runs
            try:  # the figure first: when the result text says the run is over, the plot shows all of it
                self._redraw()
            except Exception as exc:  # drawing must not hide the result below
                self.status.value = f"(plot failed: {type(exc).__name__})"
            if isinstance(live.error, TrainingDiverged):
                self._show(f"<span style='color:#b00'><b>The run diverged.</b> {html.escape(str(live.error))}</span>")
            elif live.error is not None:
                self._show(f"<span style='color:#b00'><b>The run failed</b> ({html.escape(event['error'])}).</span>")
            else:
                self._show(self._result_html(record))
            if not self.status.value.startswith("(plot failed"):
                self.status.value = "stopped" if live.stopped else ("failed" if live.error else "done")
        finally:
            self.train_button.disabled, self.stop_button.disabled = False, True

    def _result_html(self, record: RecordedRun) -> str:
        summary = record.summary()
        if summary is None:
            return f"<b>{html.escape(record.label)}</b> stopped before its first seed finished."
        stopped = any(r.stopped for r in record.results) or summary.n_seeds < len(record.settings.seeds)
        seeds = [r.seed for r in record.results if r.clean is not None]
        head = ("Stopped early: test accuracy so far" if stopped else
                f"Test accuracy after {record.settings.epochs} epoch(s)")
        n = f"{summary.n_test:,} test digits"
        if summary.n_seeds == 1:
            spread = (f"clean <b>{100 * summary.clean_mean:.1f} %</b> (± {100 * summary.clean_binomial:.1f} binomial "
                      f"sampling error of the {n}), with input noise σ = {record.results[0].noise_sigma:.2f}: "
                      f"<b>{100 * summary.noisy_mean:.1f} %</b> (± {100 * summary.noisy_binomial:.1f})")
            who = f"seed {seeds[0]}"
        else:
            spread = (f"clean <b>{100 * summary.clean_mean:.1f} ± {100 * summary.clean_sd:.1f} %</b> (mean ± sd over "
                      f"{summary.n_seeds} seeds; binomial sampling error of the {n} ± "
                      f"{100 * summary.clean_binomial:.1f}), with input noise σ = "
                      f"{record.results[0].noise_sigma:.2f}: <b>{100 * summary.noisy_mean:.1f} ± "
                      f"{100 * summary.noisy_sd:.1f} %</b> (± {100 * summary.noisy_binomial:.1f})")
            who = f"seeds {', '.join(map(str, seeds))}"
        note = ""
        if record.settings.rule == "adaptive" and record.settings.eta2 == 0:
            note = " (with η2 = 0 there is no gradient, so c never adapts: this is the stdp rule)"
        return f"{head} of <b>{html.escape(record.label)}</b> ({who}) on {n}: {spread}{note}"

    # -- export ------------------------------------------------------------------------------
    def export_csv(self, path: str | Path | None = None) -> str:
        """Every run's settings and curve as CSV (`labkit.training.live.runs_csv`); also written to ``path``."""
        text = runs_csv(self.runs)
        if path is not None:
            write_text(path, text)
        return text

    def _export_clicked(self) -> None:
        text = self.export_csv(self.export_path)
        data = base64.b64encode(text.encode()).decode("ascii")
        self.export_link.value = (f"Wrote {len(self.runs)} run(s) to <code>{html.escape(str(self.export_path))}</code>"
                                  f" — <a download='{html.escape(self.export_path.name)}' "
                                  f"href='data:text/csv;base64,{data}'>download</a>")


def _check_initial(rule, eta1, eta2, noise, epochs, n_seeds, seed, kappa, a_plus, a_minus) -> None:
    if rule not in HYBRID_RULES:
        raise ValueError(f"rule must be one of {', '.join(HYBRID_RULES)}, got {rule!r}")
    for name, value, (lo, hi) in (("eta1 (η1)", eta1, HYBRID_ETA1_RANGE), ("eta2 (η2)", eta2, HYBRID_ETA2_RANGE),
                                  ("a_plus (A+)", a_plus, HYBRID_A_RANGE), ("a_minus (A−)", a_minus, HYBRID_A_RANGE)):
        if not (isinstance(value, (int, float)) and lo <= value <= hi):
            raise ValueError(f"{name} must be in [{lo:g}, {hi:g}] (the slider's range), got {value!r}")
    for name, value, (lo, hi, _) in (("noise (test-time σ)", noise, HYBRID_NOISE_SLIDER),
                                     ("kappa (κ)", kappa, HYBRID_KAPPA_SLIDER)):
        if not (isinstance(value, (int, float)) and lo <= value <= hi):
            raise ValueError(f"{name} must be in [{lo}, {hi}], got {value!r}")
    for name, value, (lo, hi, _) in (("epochs", epochs, HYBRID_EPOCH_SLIDER), ("n_seeds", n_seeds, HYBRID_SEEDS_SLIDER)):
        if not (isinstance(value, int) and lo <= value <= hi):
            raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {value!r}")
    if not (isinstance(seed, int) and 0 <= seed <= 10**6):
        raise ValueError(f"seed must be an integer in [0, 1000000], got {seed!r}")


def hybrid_dashboard(data=None, *, hidden: int | None = None, train_size: int | None = None,
                     test_size: int | None = None, rule: str = "adaptive", eta1: float = 0.01, eta2: float = 1e-3,
                     noise: float = 0.3, epochs: int | None = None, n_seeds: int = 1, seed: int = 0,
                     kappa: float = 0.05, a_plus: float = HYBRID_STDP.A_plus, a_minus: float = HYBRID_STDP.A_minus,
                     batch_size: int = 64, evals_per_epoch: int = 4, device: str = "auto", example: bool = True,
                     presentation: bool = False) -> HybridDashboard:
    """A dashboard that trains a spiking network with the chosen rule, live (chapter 5).

    Args:
        data: a `labkit.training.Data` of images; default the bundled MNIST subset, of which
            ``train_size`` / ``test_size`` digits are used (2,000 / 500; 600 / 200 in fast mode).
        hidden: hidden LIF neurons (default 200; 50 in fast mode; the paper uses 500).
        rule, eta1, eta2, noise, epochs, n_seeds, seed, kappa, a_plus, a_minus: the controls'
            initial values (within the sliders' ranges, ``HYBRID_*``).
        batch_size: training minibatch (64: twice the updates of the paper's 128 on this small budget).
        evals_per_epoch: test points per epoch on the learning curve.
        device: ``"auto"``, ``"cpu"`` or ``"cuda"``.
        example: show the committed example runs (`EXAMPLE_RUNS`) before the first run.
        presentation: larger controls and figure (a projector; `make demo`).

    Returns:
        a `HybridDashboard`; end a cell with it to display it.
    """
    fast = fast_mode()
    hidden = hidden if hidden is not None else (50 if fast else 200)
    epochs = epochs if epochs is not None else (1 if fast else 2)
    train_size = train_size if train_size is not None else (None if data is not None else (600 if fast else 2000))
    test_size = test_size if test_size is not None else (None if data is not None else (200 if fast else 500))
    _check_initial(rule, eta1, eta2, noise, epochs, n_seeds, seed, kappa, a_plus, a_minus)
    for name, value in (("hidden", hidden), ("batch_size", batch_size), ("train_size", train_size),
                        ("test_size", test_size), ("evals_per_epoch", evals_per_epoch)):
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
                           eta1=eta1, eta2=eta2, noise=noise, epochs=epochs, n_seeds=n_seeds, kappa=kappa,
                           a_plus=a_plus, a_minus=a_minus, evals_per_epoch=evals_per_epoch,
                           examples=load_example_runs() if example else [], presentation=presentation)
