"""Tests for labkit.widgets: each dashboard's view at the ends of every slider, and bad values."""

from __future__ import annotations

import csv
import io
import itertools
import re

import matplotlib.pyplot as plt
import numpy as np
import pytest
import ipywidgets
import torch
from matplotlib.figure import Figure

import labkit.training
import labkit.training.live
from labkit import widgets as w
from labkit.data import mnist_data
from labkit.widgets.neurons import ALIF_EXPLORER_SLIDERS, alif_explorer, alif_view

# ----------------------------------------------------------------------------- lif_explorer, rate_coding_explorer


def _ends(ranges: dict) -> dict:
    return {name: (lo, hi) for name, (lo, hi, _step) in ranges.items()}


LIF_ENDS = _ends(w.LIF_EXPLORER_SLIDERS)
LIF_CORNERS = [
    dict(zip(LIF_ENDS, values)) | {"reset": reset}
    for values in itertools.product(*LIF_ENDS.values())
    for reset in ("subtract", "zero")
]


@pytest.fixture(scope="module")
def digit() -> torch.Tensor:
    # A synthetic "digit" with black, grey and white pixels (no data files needed).
    x = torch.zeros(28, 28)
    x[6:22, 12:16] = 1.0
    x[6:10, 8:20] = 0.5
    return x


@pytest.mark.parametrize("values", LIF_CORNERS, ids=lambda v: "-".join(f"{k}={v[k]}" for k in v))
def test_lif_view_draws_at_every_corner_of_the_sliders(values):
    fig = w.lif_view(**values, num_steps=60)
    assert isinstance(fig, Figure), "the view returns a matplotlib Figure"
    assert len(fig.axes) == 3, "input current, membrane and spike panels"
    trace = fig.axes[1].lines[0].get_ydata()
    assert len(trace) == 60 and np.all(np.isfinite(trace)), "a finite membrane value at every step"


def test_lif_view_physics_at_the_extremes():
    lo, hi = LIF_ENDS["current"]
    silent = w.lif_view(beta=0.9, threshold=3.0, current=lo, noise=0.0, num_steps=60)
    assert len(silent.axes[2].collections[0].get_segments()) == 0, "negative input → no spikes"
    busy = w.lif_view(beta=0.9, threshold=0.1, current=hi, noise=0.0, reset="zero", num_steps=60, onset=10)
    assert len(busy.axes[2].collections[0].get_segments()) == 50, "I > θ fires at every step after the onset"


@pytest.mark.parametrize("num_steps", _ends(w.RATE_EXPLORER_SLIDERS)["num_steps"])
@pytest.mark.parametrize("gain", _ends(w.RATE_EXPLORER_SLIDERS)["gain"])
def test_rate_view_draws_at_the_ends_of_the_sliders(digit, num_steps, gain):
    fig = w.rate_view(digit, num_steps, gain)
    assert isinstance(fig, Figure) and len(fig.axes) == 3, "image, raster and reconstruction panels"
    recon = fig.axes[2].images[0].get_array()
    assert np.all(np.isfinite(recon)), "the reconstruction is finite even at gain 0"


def test_rate_view_accepts_numpy_images(digit):
    assert isinstance(w.rate_view(digit.numpy(), 25, 1.0), Figure), "a NumPy image works like a tensor"


def test_views_do_not_open_pyplot_figures(digit):
    before = plt.get_fignums()
    w.lif_view(0.9, 1.0, 0.3, 0.1)
    w.rate_view(digit, 25, 1.0)
    w.lif_explorer()
    assert plt.get_fignums() == before, "views draw on their own Figure, not on pyplot's global state"


def test_lif_explorer_draws_and_redraws_when_a_slider_moves():
    box = w.lif_explorer()
    out = box.children[-1]
    assert out.outputs[0]["output_type"] == "display_data", "the dashboard opens with a figure"
    first = out.outputs[0]["data"]["image/png"]
    sliders = [c for row in box.children[:-1] for c in row.children]
    threshold = next(c for c in sliders if c.description.startswith("threshold"))
    threshold.value = 0.5
    assert out.outputs[0]["data"]["image/png"] != first, "moving a slider redraws the figure"


@pytest.mark.parametrize("values", [dict(zip(ALIF_EXPLORER_SLIDERS, ends)) for ends in itertools.product(
    *[(lo, hi) for lo, hi, _ in ALIF_EXPLORER_SLIDERS.values()])])
def test_alif_view_draws_at_the_ends_of_every_slider(values):
    fig = alif_view(**values)
    assert isinstance(fig, Figure) and "spikes" in fig.axes[0].get_title()


def test_alif_explorer_redraws_and_names_a_bad_value():
    box = alif_explorer()
    out = box.children[-1]
    first = out.outputs[0]["data"]["image/png"]
    raise_slider = next(c for row in box.children[:-1] for c in row.children if "β_a" in c.description)
    raise_slider.value = 1.5
    assert out.outputs[0]["data"]["image/png"] != first, "moving the threshold raise redraws the figure"
    (output,) = alif_explorer(rho=1.5).children[-1].outputs
    assert output["output_type"] == "stream" and "ALIF.rho" in output["text"], "the message names the bad field"


@pytest.mark.parametrize(
    "bad, field",
    [({"beta": 1.5}, "beta"), ({"threshold": -1.0}, "threshold"), ({"reset": "none"}, "reset"),
     ({"noise": -0.1}, "noise")],
)
def test_lif_explorer_shows_a_message_for_a_bad_value(bad, field):
    box = w.lif_explorer(**bad)  # must not raise
    (output,) = box.children[-1].outputs
    assert output["output_type"] == "stream" and field in output["text"], "the message names the bad field"
    assert "Traceback" not in output["text"], "a message, not a traceback"


@pytest.mark.parametrize(
    "image, words",
    [(torch.full((28, 28), 200, dtype=torch.uint8), "floating"), (torch.full((28, 28), 2.0), "[0, 1]"),
     (torch.full((28, 28), float("nan")), "NaN")],
    ids=["uint8", "above1", "nan"],
)
def test_rate_coding_explorer_shows_a_message_for_a_bad_image(image, words):
    box = w.rate_coding_explorer(image)
    (output,) = box.children[-1].outputs
    assert output["output_type"] == "stream" and words in output["text"], "the message says what is wrong"


def test_render_view_lets_real_bugs_raise():
    def broken(**_):
        raise ZeroDivisionError("bug")

    with pytest.raises(ZeroDivisionError):
        w.render_view(ipywidgets.Output(), broken)


# ----------------------------------------------------------------------------- energy_explorer


@pytest.fixture(scope="module")
def energy_counts():
    from labkit.energy import count_ops
    from labkit.models import ANNBaseline, SpikingMLP

    images = torch.rand(8, 28, 28, generator=torch.Generator().manual_seed(0)) * 0.5
    return {
        "ANN": count_ops(ANNBaseline(sizes=(784, 30, 10)), images, device="cpu"),
        "SNN": count_ops(SpikingMLP(sizes=(784, 30, 10)), images, num_steps=10, device="cpu"),
    }


ENERGY_ENDS = _ends(w.ENERGY_EXPLORER_SLIDERS)
ENERGY_DEFAULTS = {"num_steps": 25, "e_mac_pj": 4.6, "e_ac_pj": 0.9, "e_neuron_pj": 9.2, "e_sop_pj": 23.6}
ENERGY_CASES = [ENERGY_DEFAULTS | {name: end} for name, ends in ENERGY_ENDS.items() for end in ends]
ENERGY_CASES += [{name: ends[i] for name, ends in ENERGY_ENDS.items()} for i in (0, 1)]  # all low, all high


@pytest.mark.parametrize("values", ENERGY_CASES, ids=lambda v: "-".join(f"{k}={v[k]}" for k in v))
def test_energy_view_draws_at_the_ends_of_every_slider(energy_counts, values):
    fig = w.energy_view(energy_counts, **values)
    assert isinstance(fig, Figure) and len(fig.axes) == 2, "totals and shares panels"
    bars = w.energy_bars(energy_counts, **values)
    assert len(bars) == 5, "ANN on 2 platforms, SNN on 3 (no ANN on Loihi)"
    totals = [sum(parts.values()) for parts in bars.values()]
    assert all(np.isfinite(t) and t >= 0 for t in totals), "energies are finite and never negative"


def test_energy_bars_physics_at_the_extremes(energy_counts):
    lo_t, hi_t = ENERGY_ENDS["num_steps"]
    low = w.energy_bars(energy_counts, **ENERGY_DEFAULTS | {"num_steps": lo_t})
    high = w.energy_bars(energy_counts, **ENERGY_DEFAULTS | {"num_steps": hi_t})
    assert sum(high["SNN · gpu_dense"].values()) == pytest.approx(
        hi_t / lo_t * sum(low["SNN · gpu_dense"].values())), "a dense SNN's energy grows linearly with T"
    assert high["ANN · gpu_dense"] == low["ANN · gpu_dense"], "an ANN has no time steps: T changes nothing"
    base = w.energy_bars(energy_counts, **ENERGY_DEFAULTS)
    cheap = w.energy_bars(energy_counts, **ENERGY_DEFAULTS | {"e_ac_pj": ENERGY_ENDS["e_ac_pj"][0]})
    assert cheap["SNN · digital45"]["ACs"] == pytest.approx(
        base["SNN · digital45"]["ACs"] * ENERGY_ENDS["e_ac_pj"][0] / 0.9), "AC energy is proportional to its price"


def test_energy_explorer_redraws_and_reports_bad_counts(energy_counts):
    box = w.energy_explorer(energy_counts)
    out = box.children[-1]
    first = out.outputs[0]["data"]["image/png"]
    sliders = [c for row in box.children[:-1] for c in row.children]
    steps = next(c for c in sliders if c.description.startswith("time steps"))
    steps.value = 5
    assert out.outputs[0]["data"]["image/png"] != first, "moving T redraws the figure"
    (message,) = w.energy_explorer({}).children[-1].outputs
    assert message["output_type"] == "stream" and "counts is empty" in message["text"]


# ----------------------------------------------------------------------------- surrogate_explorer, TrainingMonitor
# (chapter 4)

SURROGATE_ENDS = _ends(w.SURROGATE_EXPLORER_SLIDERS)["alpha"]


@pytest.mark.parametrize("alpha", [*SURROGATE_ENDS, 2.0])
def test_surrogate_view_draws_the_step_and_the_arctangent_derivative(alpha):
    import math

    fig = w.surrogate_view(alpha)
    assert isinstance(fig, Figure) and len(fig.axes) == 2, "forward and backward panels"
    step, smooth = fig.axes[0].lines[:2]
    x, s = step.get_xdata(), step.get_ydata()
    assert np.array_equal(s, (x > 0).astype(float)), "the forward pass is the exact step H(x)"
    x, g = fig.axes[1].lines[0].get_xdata(), fig.axes[1].lines[0].get_ydata()
    expected = (alpha / 2) / (1 + (math.pi / 2 * alpha * x) ** 2)
    np.testing.assert_allclose(g, expected, rtol=1e-12, err_msg="backward = (α/2) / (1 + (π/2·α·x)²)")
    assert g.max() == pytest.approx(alpha / 2), "the surrogate peaks at α/2 at the threshold"
    # area over [−2, 2]: the primitive ½ + arctan(π/2·α·x)/π rises by (2/π)·arctan(π·α) there
    area = float(((g[1:] + g[:-1]) / 2 * np.diff(x)).sum())  # trapezoid rule (np.trapezoid needs NumPy 2)
    assert area == pytest.approx(2 / math.pi * math.atan(math.pi * alpha), rel=1e-3), \
        "the curve integrates to the rise of the smooth step it stands for"


def test_surrogate_explorer_redraws_and_reports_a_bad_alpha():
    box = w.surrogate_explorer()
    out = box.children[-1]
    first = out.outputs[0]["data"]["image/png"]
    slider = box.children[0].children[0]
    slider.value = 10.0
    assert out.outputs[0]["data"]["image/png"] != first, "moving α redraws the figure"
    (message,) = w.surrogate_explorer(alpha=0.0).children[-1].outputs
    assert message["output_type"] == "stream" and "alpha" in message["text"], "α ≤ 0 gives a message naming α"


def test_surrogate_view_opens_no_pyplot_figure():
    before = plt.get_fignums()
    w.surrogate_view(2.0)
    w.TrainingMonitor(show=False).figure()
    assert plt.get_fignums() == before, "views draw on their own Figure"


def _event_history(epochs: int):
    from labkit.training import History

    return History(loss=[2.0 - 0.5 * e for e in range(epochs)], train_acc=[0.3 + 0.1 * e for e in range(epochs)],
                   test_acc=[0.35 + 0.1 * e for e in range(epochs)])


def test_training_monitor_records_batches_and_redraws_every_n():
    monitor = w.TrainingMonitor("SNN", max_epochs=2, every=3, show=False,
                                reference={"ANN": [_event_history(2), _event_history(2)]})
    for b in range(7):
        assert monitor({"kind": "batch", "epoch": 0, "batch": b, "batches": 7, "loss": 2.3 - 0.1 * b}) is None, \
            "the monitor never stops a run"
    assert monitor.redraws == 2, "7 batches, redrawn after batches 3 and 6"
    monitor({"kind": "epoch", "epoch": 0, "history": _event_history(1)})
    assert monitor.redraws == 3, "and at the end of every epoch"
    assert monitor.batch_loss[-1] == (1.0, pytest.approx(1.7)), "the last batch of epoch 0 sits at x = 1"
    fig = monitor.figure()
    ax_loss, ax_acc = fig.axes
    assert len(ax_loss.lines) == 3, "per-batch loss, the run's epoch loss, the reference's loss"
    assert len(ax_acc.collections) == 2, "two reference seeds → a min–max band for test and train accuracy"
    with pytest.raises(ValueError, match="every"):
        w.TrainingMonitor(every=0)


def test_training_monitor_as_a_train_callback():
    from labkit.models import SpikingMLP
    from labkit.training import Data, train

    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(64, 28, 28, generator=g), torch.randint(0, 10, (64,), generator=g)
    monitor = w.TrainingMonitor(every=1, show=False)
    history = train(SpikingMLP((784, 8, 10)), "bp", Data(x, y, x[:16], y[:16]), 2, batch_size=32, num_steps=4,
                    progress=False, device="cpu", callback=monitor)
    assert history.epochs == 2 and monitor.history is history, "the monitor sees the run's own history"
    assert len(monitor.batch_loss) == 4 and monitor.redraws == 4 + 2


def test_plot_history_accepts_one_run_a_list_or_a_dict():
    from labkit.plotting import plot_history

    h = _event_history(3)
    for runs in (h, [h, h], {"bp": h, "ann": [h, h]}):
        fig = plot_history(runs, fig=Figure())
        assert len(fig.axes) == 2, "loss and accuracy panels"
        acc = fig.axes[1].lines[0].get_ydata()
        np.testing.assert_allclose(acc, [35, 45, 55], err_msg="accuracy is drawn in percent, epochs from 1")


# ----------------------------------------------------------------------------- stdp_window_explorer (chapter 3)

STDP_ENDS = _ends(w.STDP_WINDOW_SLIDERS)
STDP_CORNERS = [dict(zip(STDP_ENDS, values)) for values in itertools.product(*STDP_ENDS.values())]


@pytest.mark.parametrize("values", STDP_CORNERS, ids=lambda v: "-".join(f"{k}={v[k]}" for k in v))
def test_stdp_window_view_draws_at_every_corner_of_the_sliders(values):
    fig = w.stdp_window_view(**values, span=30)
    assert isinstance(fig, Figure) and len(fig.axes) == 1, "one panel: the window"
    ax = fig.axes[0]
    curve = np.concatenate([line.get_ydata() for line in ax.lines[:2]])
    assert np.all(np.isfinite(curve)), "the window is finite at every slider end"
    assert np.all(curve[: len(ax.lines[0].get_ydata())] >= 0), "the Δt ≥ 0 branch never depresses"
    assert np.all(ax.lines[1].get_ydata() <= 0), "the Δt < 0 branch never potentiates"


def test_stdp_window_view_pair_protocol_lies_on_the_curve():
    from labkit.stdp import STDPParams, stdp_window

    fig = w.stdp_window_view(0.01, 0.012, 20.0, 10.0, span=40, protocol_every=5)
    dots = next(line for line in fig.axes[0].lines if line.get_marker() == "o")
    want = stdp_window(dots.get_xdata(), STDPParams(A_plus=0.01, A_minus=0.012, tau_plus=20.0, tau_minus=10.0))
    np.testing.assert_allclose(dots.get_ydata(), want.numpy(), rtol=1e-5, atol=1e-9,
                               err_msg="the simulated pair protocol measures the analytic window")


def test_stdp_window_view_says_which_side_wins():
    assert "depression wins" in w.stdp_window_view(0.01, 0.01, 10.0, 20.0).axes[0].get_title(), \
        "A+τ+ < A−τ−: uncorrelated firing weakens the synapse"
    assert "potentiation wins" in w.stdp_window_view(0.02, 0.01, 10.0, 10.0).axes[0].get_title(), \
        "A+τ+ > A−τ−: uncorrelated firing strengthens the synapse"


def test_stdp_window_explorer_draws_and_redraws():
    box = w.stdp_window_explorer()
    out = box.children[-1]
    first = out.outputs[0]["data"]["image/png"]
    sliders = [c for row in box.children[:-1] for c in row.children]
    assert len(sliders) == 4, "sliders for A+, A−, τ+ and τ−"
    next(c for c in sliders if c.description.startswith("τ−")).value = 5.0
    assert out.outputs[0]["data"]["image/png"] != first, "moving a slider redraws the window"


@pytest.mark.parametrize("bad, field", [({"tau_plus": -1.0}, "tau_plus"), ({"A_minus": float("nan")}, "A_minus")])
def test_stdp_window_explorer_shows_a_message_for_a_bad_value(bad, field):
    (output,) = w.stdp_window_explorer(**bad).children[-1].outputs
    assert output["output_type"] == "stream" and field in output["text"], "the message names the bad field"


# ----------------------------------------------------------------------------- hybrid_dashboard (chapter 5, A-STDP)
# Drives the dashboard as a student would: set the controls, press Train, wait, read the result.

RUN_TIMEOUT = 120  # seconds; a tiny run takes well under one


@pytest.fixture(scope="module")
def tiny_digits():
    """64 training and 32 test digits of the bundled subset: a run takes a fraction of a second."""
    return mnist_data("bundled", train_limit=64, test_limit=32)


def tiny_dashboard(data, **kwargs) -> w.HybridDashboard:
    return w.hybrid_dashboard(data, **{"hidden": 16, "batch_size": 32, "epochs": 1, "example": False, **kwargs})


def accuracies(text: str) -> list[float]:
    """The bold percentages a result text reports (clean first, then noisy): the means."""
    return [float(v) for v in re.findall(r"<b>(\d+(?:\.\d+)?)(?: ± \d+(?:\.\d+)?)? %</b>", text)]


def press_train(dash: w.HybridDashboard):
    dash.train_button.click()
    history = dash.wait(RUN_TIMEOUT)
    assert not dash.running, "the run ended within the timeout"
    return history


def test_hybrid_dashboard_exposes_its_controls_for_browser_tests(tiny_digits):
    dash = tiny_dashboard(tiny_digits)
    assert dash.train_button.description == "Train" and dash.stop_button.description == "Stop"
    for control, css in ((dash.eta1, "labkit-eta1"), (dash.result, "labkit-result"), (dash.seed, "labkit-seed"),
                         (dash.n_seeds, "labkit-seeds"), (dash.kappa, "labkit-kappa"),
                         (dash.export_button, "labkit-export")):
        assert css in control._dom_classes, f"the control carries the CSS class {css} browser tests look for"
    assert "accuracy" not in dash.result.value.lower(), "before a run the result text shows no accuracy yet"
    assert list(dash.rule.options) == ["bp", "stdp", "sum", "adaptive"]
    assert isinstance(dash.widget, ipywidgets.VBox) and "application/vnd.jupyter.widget-view+json" in \
        dash._repr_mimebundle_(), "ending a cell with the dashboard displays it"
    assert dash.plot.outputs, "a frame is drawn before the first run"
    assert isinstance(dash.advanced, ipywidgets.Accordion), "κ and the STDP amplitudes sit in an accordion"
    assert dash.export_button.disabled, "nothing to export before a run"


def test_rate_sliders_are_log_sliders_fine_enough_to_tune(tiny_digits):
    dash = tiny_dashboard(tiny_digits)
    for slider, (lo, hi) in ((dash.eta1, w.HYBRID_ETA1_RANGE), (dash.eta2, w.HYBRID_ETA2_RANGE),
                             (dash.a_plus, w.HYBRID_A_RANGE), (dash.a_minus, w.HYBRID_A_RANGE)):
        assert isinstance(slider, ipywidgets.FloatLogSlider) and slider.base == 10
        assert (10 ** slider.min, 10 ** slider.max) == pytest.approx((lo, hi)), "the slider spans its range"
        assert 10 ** slider.step <= 1.3, "each notch multiplies the rate by at most 1.3 (10 notches a decade)"
    dash.eta1.value = 0.02
    assert dash.eta1.value == pytest.approx(0.02, rel=0.15), "a rate between the old 1-3-10 grid can be chosen"
    assert w.HYBRID_ETA1_RANGE[1] >= 1, "η1 reaches the values where chapter 5 sees STDP hurt"


def test_train_button_trains_and_reports_clean_and_noisy_accuracy(tiny_digits):
    dash = tiny_dashboard(tiny_digits, epochs=2)
    history = press_train(dash)
    assert history is not None and history.epochs == 2, "a run of the chosen number of epochs"
    text = dash.result.value
    assert "accuracy" in text.lower() and "binomial" in text, "the result names the accuracy and its sampling error"
    clean, noisy = accuracies(text)
    assert 0 <= clean <= 100 and 0 <= noisy <= 100, "two percentages: clean and noisy test accuracy"
    (result,) = dash.runs[-1].results
    assert result.digits[0] == 0 and result.digits[-1] == 2 * 64, "the curve runs from 0 to epochs × training digits"
    assert len(result.coefficient) == len(result.digits), "adaptive: one mean c per curve point"
    assert all(0 <= c <= 1 for point in result.coefficient for c in point), "plasticity coefficients stay in [0, 1]"
    assert result.clean == history.test_acc[-1], "the final accuracy is the end-of-run test, read as training read it"
    assert not dash.train_button.disabled and dash.stop_button.disabled, "buttons are reset after the run"
    assert dash.plot.outputs and "image/png" in dash.plot.outputs[0]["data"], "the learning curve is drawn"
    assert dash.runs[-1].label.startswith("#1 adaptive"), "runs are numbered and named by their rule"


def test_three_seeds_give_a_band_and_mean_plus_minus_sd(tiny_digits):
    """The acceptance test of the several-seeds mode: three seeds, a mean curve with a band, mean ± sd."""
    dash = tiny_dashboard(tiny_digits, n_seeds=3, seed=4)
    press_train(dash)
    run = dash.runs[-1]
    assert [r.seed for r in run.results] == [4, 5, 6], "N seeds from the chosen one: seed, seed + 1, seed + 2"
    finals = [r.clean for r in run.results]
    curves = {tuple(r.accuracy) for r in run.results}
    assert len(curves) > 1, "different seeds give different runs"
    summary = run.summary()
    assert summary.n_seeds == 3 and summary.clean_mean == pytest.approx(np.mean(finals))
    assert summary.clean_sd == pytest.approx(np.std(finals, ddof=1)), "sd over the three seeds (n − 1)"
    p = summary.clean_mean
    assert summary.clean_binomial == pytest.approx((p * (1 - p) / 32) ** 0.5), "binomial error of 32 test digits"
    text = dash.result.value
    assert f"{100 * p:.1f} ± {100 * summary.clean_sd:.1f} %" in text and "3 seeds" in text, \
        "the result states mean ± sd over the seeds"
    assert f"± {100 * summary.clean_binomial:.1f}" in text, "and the binomial sampling error"
    fig = w.hybrid_view(dash.runs)
    bands = [c for c in fig.axes[0].collections if type(c).__name__ in ("PolyCollection", "FillBetweenPolyCollection")]
    assert len(bands) == 1, "the accuracy panel draws one band (± sd over seeds) for the three-seed run"
    vertices = bands[0].get_paths()[0].vertices
    lo, hi = 100 * (summary.clean_mean - summary.clean_sd), 100 * (summary.clean_mean + summary.clean_sd)
    at_end = vertices[np.isclose(vertices[:, 0], 64)][:, 1]
    assert min(at_end) == pytest.approx(lo, abs=1e-6) and max(at_end) == pytest.approx(hi, abs=1e-6), \
        "at the last point the band spans mean − sd to mean + sd"


def test_seed_control_makes_runs_repeatable_and_distinct(tiny_digits):
    dash = tiny_dashboard(tiny_digits)
    press_train(dash)
    press_train(dash)
    dash.seed.value = 1
    press_train(dash)
    a, b, c = (r.results[0] for r in dash.runs)
    assert a.accuracy == b.accuracy and a.clean == b.clean, "the same seed repeats the same run"
    assert (a.accuracy, a.noisy) != (c.accuracy, c.noisy), "another seed is another run"


def test_kappa_control_changes_the_runs_settings(tiny_digits):
    """The acceptance test of the κ control: what the slider says is what the run trains with."""
    dash = tiny_dashboard(tiny_digits)
    assert not dash.kappa.disabled, "κ can be set for adaptive"
    dash.kappa.value = 0.5
    dash.a_plus.value, dash.a_minus.value = 0.002, 0.003
    assert dash.settings().kappa == 0.5
    press_train(dash)
    assert dash.live.settings.kappa == 0.5 and "κ=0.5" in dash.runs[-1].label
    params = dash.live.settings.rule_params()
    assert params["kappa"] == 0.5 and params["stdp"].A_plus == pytest.approx(0.002) \
        and params["stdp"].A_minus == pytest.approx(0.003), "κ and A± reach the rule"
    dash.kappa.value = 0.0
    press_train(dash)
    c_frozen = dash.runs[-1].results[0].coefficient
    assert all(c == [1.0, 1.0] for c in c_frozen), "κ = 0: the coefficients never move from c = 1"
    assert any(c != [1.0, 1.0] for c in dash.runs[-2].results[0].coefficient), "κ = 0.5: they do"
    dash.rule.value = "sum"
    assert dash.kappa.disabled, "κ is greyed out for the rules without adaptation"


def test_csv_export_holds_every_run(tiny_digits, tmp_path):
    """The acceptance test of the export: every run's settings and every seed's curve, by button and by call."""
    dash = tiny_dashboard(tiny_digits)
    press_train(dash)
    dash.rule.value, dash.n_seeds.value = "bp", 2
    press_train(dash)
    text = dash.export_csv()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["run"] for r in rows} == {"1", "2"}, "both runs are exported"
    assert [r["label"] for r in rows if r["run"] == "2"][0] == dash.runs[1].label
    for number, run in enumerate(dash.runs, start=1):
        for seed_result in run.results:
            mine = [r for r in rows if r["run"] == str(number) and r["seed"] == str(seed_result.seed)]
            assert [int(r["digits_seen"]) for r in mine] == seed_result.digits, "every curve point of every seed"
            assert [float(r["test_accuracy"]) for r in mine] == pytest.approx(seed_result.accuracy, rel=1e-5)
    assert {r["rule"] for r in rows} == {"adaptive", "bp"} and all(r["eta1"] == "" for r in rows if r["rule"] == "bp")
    dash.export_path = tmp_path / "runs.csv"
    assert not dash.export_button.disabled
    dash.export_button.click()
    assert (tmp_path / "runs.csv").read_text() == text, "the button writes the same CSV"
    assert "download" in dash.export_link.value and "data:text/csv;base64," in dash.export_link.value


@pytest.mark.parametrize("rule", ["bp", "stdp", "sum", "adaptive"])
def test_every_rule_trains_from_the_dashboard(tiny_digits, rule):
    dash = tiny_dashboard(tiny_digits, rule=rule)
    assert dash.eta1.disabled == (rule == "bp") and dash.eta2.disabled == (rule == "stdp"), \
        "the rate a rule ignores is greyed out"
    assert press_train(dash) is not None, f"{rule} trains"
    assert "accuracy" in dash.result.value.lower() and len(accuracies(dash.result.value)) == 2
    assert bool(dash.runs[-1].results[0].coefficient) == (rule != "bp"), \
        "c is recorded exactly for the rules that use STDP"


ENDS = {
    "eta1": (10 ** -4, 10.0),
    "eta2": (10 ** -5, 10 ** -2),
    "noise": (w.HYBRID_NOISE_SLIDER[0], w.HYBRID_NOISE_SLIDER[1]),
    "epochs": (w.HYBRID_EPOCH_SLIDER[0], w.HYBRID_EPOCH_SLIDER[1]),
    "kappa": (w.HYBRID_KAPPA_SLIDER[0], w.HYBRID_KAPPA_SLIDER[1]),
    "a_plus": w.HYBRID_A_RANGE,
    "a_minus": w.HYBRID_A_RANGE,
}


@pytest.mark.parametrize(("name", "value"), [(n, v) for n, ends in ENDS.items() for v in ends])
def test_every_slider_at_its_extremes_gives_a_result(tiny_digits, name, value):
    dash = tiny_dashboard(tiny_digits)
    getattr(dash, name).value = value
    assert getattr(dash, name).value == pytest.approx(value), f"{name} can be set to {value}"
    press_train(dash)
    assert dash.error is None, f"{name} = {value}: the run ends without an error"
    text = dash.result.value
    assert "accuracy" in text.lower() and len(accuracies(text)) == 2, f"{name} = {value}: an accuracy is shown"
    if name == "noise":
        assert f"σ = {value:.2f}" in text, "the result states the test noise it used"
    if name == "epochs":
        assert dash.history.epochs == value and dash.runs[-1].results[0].digits[-1] == value * 64


def test_bad_settings_show_a_message_instead_of_training(tiny_digits, monkeypatch):
    dash = tiny_dashboard(tiny_digits)
    monkeypatch.setattr(dash, "settings", lambda: labkit.training.LiveSettings(seeds=(1, 1)))
    dash.train_button.click()
    assert not dash.running and not dash.runs, "refused settings start no run"
    assert "Cannot train" in dash.result.value and "differ" in dash.result.value and \
        "Traceback" not in dash.result.value


def test_stop_button_stops_a_run(tiny_digits):
    dash = tiny_dashboard(tiny_digits, batch_size=8, epochs=10, n_seeds=3)  # 240 batches: far longer than the click
    dash.train_button.click()
    assert dash.running and not dash.stop_button.disabled, "while training, Stop is enabled"
    dash.train_button.click()  # a second press while running is ignored
    dash.stop_button.click()
    history = dash.wait(RUN_TIMEOUT)
    assert history is not None and history.stopped_early, "Stop ends the run early"
    assert dash.progress.value < dash.progress.max, "fewer batches ran than the run would have had"
    (result,) = dash.runs[-1].results
    assert len(dash.runs) == 1 and result.stopped, "one run, one seed begun, marked as stopped"
    assert result.digits[-1] < 10 * 64, "the curve ends where the run stopped"
    assert "Stopped" in dash.result.value and len(accuracies(dash.result.value)) == 2, \
        "a stopped run still reports the accuracy it reached"


def test_divergence_shows_a_message_not_a_traceback(tiny_digits, monkeypatch):
    def diverging_train(*args, **kwargs):
        raise labkit.training.TrainingDiverged("training diverged at epoch 1, batch 3: the loss became nan.")

    monkeypatch.setattr(labkit.training.live, "train", diverging_train)
    dash = tiny_dashboard(tiny_digits)
    assert press_train(dash) is None, "a diverged run returns no history"
    assert "diverged" in dash.result.value and "Traceback" not in dash.result.value
    assert isinstance(dash.error, labkit.training.TrainingDiverged)
    assert not dash.train_button.disabled, "after a failed run the next one can start"


def test_an_unexpected_failure_is_reported_in_the_dashboard(tiny_digits, monkeypatch):
    def broken_train(*args, **kwargs):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(labkit.training.live, "train", broken_train)
    dash = tiny_dashboard(tiny_digits)
    press_train(dash)
    assert "failed" in dash.result.value and "out of memory" in dash.result.value


def test_noise_slider_after_a_run_retests_without_retraining(tiny_digits):
    dash = tiny_dashboard(tiny_digits, noise=0.0, n_seeds=2)
    press_train(dash)
    clean, noisy = accuracies(dash.result.value)
    assert clean == noisy, "σ = 0: the noisy accuracy is the clean one"
    weights = dash.model.layers[0].weight.detach().clone()
    dash.noise.value = 1.0
    assert "σ = 1.00" in dash.result.value and accuracies(dash.result.value)[0] == clean, \
        "moving σ re-tests the same networks: clean accuracy unchanged, the noisy one updated"
    assert all(r.noise_sigma == 1.0 for r in dash.runs[-1].results), "every seed's network is re-tested"
    assert torch.equal(weights, dash.model.layers[0].weight), "re-testing does not train"
    assert len(dash.runs) == 1


def test_earlier_runs_stay_on_the_plot_labelled(tiny_digits):
    dash = tiny_dashboard(tiny_digits)
    press_train(dash)
    dash.rule.value = "bp"
    press_train(dash)
    assert [r.settings.rule for r in dash.runs] == ["adaptive", "bp"], "each finished run is kept for comparison"
    fig = w.hybrid_view(dash.runs)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == [r.label for r in dash.runs], "accuracy panel: one labelled curve per run, the current one last"
    assert [t.get_text() for t in fig.axes[1].get_xticklabels()] == ["#1", "#2"], "final accuracies by run number"


def test_accuracy_axis_is_scaled_to_the_runs():
    """A fixed 0–100 % axis hid differences of half a point; the axis now fits the curves and their error bars."""
    settings = labkit.training.LiveSettings(seeds=(0, 1))
    results = [labkit.training.live.SeedResult(s, digits=[0, 100, 200], accuracy=[0.1, a - 0.05, a], clean=a, noisy=a)
               for s, a in ((0, 0.80), (1, 0.81))]
    run = labkit.training.RecordedRun("#1 sum", settings, results, n_train=100, n_test=10_000)
    lo, hi = w.hybrid_view([run]).axes[0].get_ylim()
    assert 70 < lo < 75 and 81 < hi < 85, f"the axis fits 75–81 % (not 0–100): got {lo:.1f}–{hi:.1f}"


def test_static_readers_see_the_committed_example_before_a_run(tiny_digits):
    examples = w.load_example_runs()
    assert examples, f"{w.EXAMPLE_RUNS} holds the example runs (scripts/dashboard_example.py writes it)"
    assert all(r.example and r.summary() is not None for r in examples)
    assert all(len(r.results) >= 2 for r in examples), "the example shows a band: several seeds"
    dash = w.hybrid_dashboard(tiny_digits, hidden=16, batch_size=32, epochs=1)
    assert dash.shown_runs() == dash.examples, "before the first run the figure draws the example"
    fig = w.hybrid_view(dash.shown_runs())
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == [r.label for r in examples]
    press_train(dash)
    assert dash.shown_runs() == dash.runs, "after a run the figure shows the student's runs"


def test_hybrid_view_draws_without_pyplot():
    before = plt.get_fignums()
    settings = labkit.training.LiveSettings()
    result = labkit.training.live.SeedResult(0, digits=[0, 10], accuracy=[0.1, 0.5], coefficient=[[1, 1], [0.9, 1]],
                                             clean=0.5, noisy=0.4)
    run = labkit.training.RecordedRun("#1 adaptive", settings, [result], n_train=10, n_test=20)
    assert isinstance(w.hybrid_view([]), Figure) and isinstance(w.hybrid_view([run], scale=1.4), Figure)
    assert plt.get_fignums() == before, "the view opens no pyplot figure"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"rule": "hebb"}, "rule"), ({"eta1": 20.0}, "eta1"), ({"eta2": 0.5}, "eta2"), ({"noise": 1.5}, "noise"),
     ({"epochs": 0}, "epochs"), ({"hidden": 0}, "hidden"), ({"n_seeds": 11}, "n_seeds"), ({"kappa": 2.0}, "kappa"),
     ({"a_plus": 0.0}, "a_plus"), ({"seed": -1}, "seed")],
)
def test_hybrid_dashboard_rejects_bad_initial_values(tiny_digits, kwargs, field):
    with pytest.raises(ValueError, match=field):
        tiny_dashboard(tiny_digits, **kwargs)


def test_hybrid_config_error_explains_each_bad_combination():
    assert w.hybrid_config_error("adaptive", 0.01, 1e-3) is None
    assert w.hybrid_config_error("bp", 0.0, 1e-3) is None and w.hybrid_config_error("stdp", 0.01, 0.0) is None
    assert "η2 = 0" in w.hybrid_config_error("bp", 0.01, 0.0)
    assert "η1 = 0" in w.hybrid_config_error("stdp", 0.0, 1e-3)
    assert "η1 = η2 = 0" in w.hybrid_config_error("sum", 0.0, 0.0)


# ----------------------------------------------------------------------------- noise_explorer (chapter 6, ablations)

# Two made-up sweeps (accuracy in % at each σ); the numbers only need to differ and fall with σ.
NOISE_CURVES = {
    "surrogate BP": {0.0: 97.0, 0.1: 95.0, 0.2: 90.0, 0.3: 85.0, 0.5: 60.0},
    "hybrid A-STDP (adaptive)": {0.0: 97.5, 0.1: 96.0, 0.2: 92.0, 0.3: 88.0, 0.5: 70.0},
}


@pytest.mark.parametrize("sigma", [min(w.noise_sigmas(NOISE_CURVES)), max(w.noise_sigmas(NOISE_CURVES))])
def test_noise_view_at_the_ends_of_the_slider(sigma):
    fig = w.noise_view(NOISE_CURVES, sigma, paper={"surrogate BP": {0.3: 88.4}})
    assert isinstance(fig, Figure) and len(fig.axes) == 2, "curves and bars"
    bars = fig.axes[1].patches
    assert [b.get_width() for b in bars] == [NOISE_CURVES[m][sigma] for m in NOISE_CURVES], \
        "one bar per model, as long as its accuracy at the chosen σ"
    assert f"{sigma:g}" in fig.axes[1].get_title(), "the title names the chosen σ"
    plt.close("all")


def test_noise_view_rejects_unmeasured_levels_and_empty_input():
    with pytest.raises(ValueError, match="measured noise levels"):
        w.noise_view(NOISE_CURVES, 0.25)
    with pytest.raises(ValueError, match="make reproduce"):
        w.noise_view({}, 0.3)


def test_noise_curves_from_summary_reads_means_in_percent():
    summary = {"rules": {
        "bp": {"label": "surrogate BP", "noise_acc": {"0": {"mean": 97.0}, "0.3": {"mean": 85.0}}},
        "stdp": {"label": "no sweep"},
    }}
    assert w.noise_curves_from_summary(summary) == {"surrogate BP": {0.0: 97.0, 0.3: 85.0}}, \
        "σ strings become floats; runs without a sweep are left out"


def test_noise_explorer_slider_stops_at_measured_levels():
    box = w.noise_explorer(NOISE_CURVES, sigma=0.3)
    slider = box.children[0].children[0]
    assert [v for _, v in slider.options] == [0.0, 0.1, 0.2, 0.3, 0.5], "one stop per measured σ"
    assert box.children[-1].outputs[0]["output_type"] == "display_data", "the first drawing is a figure"
    slider.value = 0.5
    assert box.children[-1].outputs[0]["output_type"] == "display_data", "moving the slider redraws"
    empty = w.noise_explorer({})
    assert "make reproduce" in empty.children[-1].outputs[0]["text"], "no runs → a message, not a traceback"


# ----------------------------------------------------------------------------- extreme values (#18 item 9)


def test_event_camera_explorer_refuses_a_threshold_that_would_exhaust_memory(digit):
    """#18 item 9: event_camera_explorer(contrast_threshold=1e-6) grew to 24 GB and the kernel was killed; the
    view estimates the events first and shows a message instead, having allocated little."""
    import tracemalloc

    tracemalloc.start()
    try:
        box = w.event_camera_explorer(digit, contrast_threshold=1e-6)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    (output,) = box.children[-1].outputs
    assert output["output_type"] == "stream", "a message, not a figure"
    assert "memory" in output["text"] and "raise the contrast threshold C" in output["text"], output["text"]
    assert peak < 200 * 2**20, f"the refusal allocated {peak / 2**20:.0f} MB; it must come before the events"


def test_memory_budget_follows_its_environment_variable(monkeypatch, digit):
    """The budget is LABKIT_MEMORY_BUDGET_MB when set: a 1 MB budget refuses what the default allows."""
    from labkit.foundation.memory import MemoryBudgetError, check_memory, memory_budget

    monkeypatch.setenv("LABKIT_MEMORY_BUDGET_MB", "1")
    assert memory_budget() == 2**20
    with pytest.raises(MemoryBudgetError, match="LABKIT_MEMORY_BUDGET_MB"):
        check_memory(2 * 2**20, "two megabytes", "ask for less")
    box = w.event_camera_explorer(digit, contrast_threshold=0.05)
    assert "memory" in box.children[-1].outputs[0]["text"], "the event camera view obeys the budget"
    monkeypatch.delenv("LABKIT_MEMORY_BUDGET_MB")
    check_memory(2 * 2**20, "two megabytes", "ask for less")  # within the default budget


#: Constructor arguments that used to raise (a torch allocation failure, a RuntimeError, a matplotlib error, a
#: MemoryError) or to allocate without bound: each widget shows a message naming what to change.
EXTREMES = {
    "lif num_steps 1e9": (lambda d: w.lif_explorer(num_steps=10**9), "fewer time steps"),
    "rate image None": (lambda d: w.rate_coding_explorer(None), "one digit"),
    "rate image batch": (lambda d: w.rate_coding_explorer(d[None]), "images[0]"),
    "rate num_steps 1e7": (lambda d: w.rate_coding_explorer(d, num_steps=10**7), "fewer time steps"),
    "event num_bins 1e6": (lambda d: w.event_camera_explorer(d, num_bins=10**6), "num_bins must be an integer in"),
    "event noise 1e9 Hz": (lambda d: w.event_camera_explorer(d, noise_rate_hz=1e9), "lower the noise rate"),
    "event image None": (lambda d: w.event_camera_explorer(None), "one digit"),
    "surrogate alpha inf": (lambda d: w.surrogate_explorer(alpha=float("inf")), "finite number > 0"),
}


@pytest.mark.parametrize("make, words", EXTREMES.values(), ids=EXTREMES.keys())
def test_widget_at_an_extreme_value_shows_a_message(make, words, digit):
    """#18 item 9: widget constructors raised tracebacks (or grew without bound) on bad values."""
    box = make(digit)  # must not raise
    (output,) = box.children[-1].outputs
    assert output["output_type"] == "stream" and words in output["text"], output.get("text")
    assert "Traceback" not in output["text"], "a message, not a traceback"


@pytest.mark.parametrize("kwargs, words", [
    ({"data": (1, 2)}, r"Data\(train_x, train_y, test_x, test_y\)"),
    ({"hidden": 10**7}, "fewer hidden neurons"),
], ids=["plain tuple", "huge hidden layer"])
def test_hybrid_dashboard_refuses_bad_data_and_sizes_before_building(kwargs, words):
    """#18 item 9: hybrid_dashboard(data=(x, y)) failed with AttributeError; a huge hidden layer allocated
    without a check."""
    with pytest.raises(ValueError, match=words):
        w.hybrid_dashboard(**kwargs)


# ----------------------------------------------------------------------------- quantization_explorer (chapter 8)


@pytest.fixture(scope="module")
def quantization_case():
    from labkit.models import SpikingMLP

    model = SpikingMLP((30, 12, 4), seed=1)
    g = torch.Generator().manual_seed(0)
    spikes = (torch.rand(8, 20, 30, generator=g) < 0.3).numpy()
    labels = torch.randint(0, 4, (20,), generator=g)
    return model, spikes, labels, w.quantization_sweep(model, spikes, labels)


def test_quantization_view_draws_at_both_ends_of_the_slider(quantization_case):
    sweep = quantization_case[3]
    lo, hi, _step = w.QUANTIZATION_BITS
    assert sweep.bits == tuple(range(lo, hi + 1)), "the sweep holds every width the slider offers"
    for bits in (lo, hi):
        fig = w.quantization_view(sweep, bits)
        assert isinstance(fig, Figure) and len(fig.axes) == 2, f"accuracy and rounding errors drawn at {bits} bits"


def test_quantization_sweep_rounding_shrinks_with_every_bit(quantization_case):
    sweep = quantization_case[3]
    assert all(a > b for a, b in zip(sweep.steps, sweep.steps[1:])), "one more bit, a finer weight step"
    for errors, step in zip(sweep.errors, sweep.steps):
        assert np.abs(errors).max() <= step / 2 + 1e-9, "rounding to nearest keeps every error within half a step"
    assert all(0.0 <= a <= 1.0 for a in sweep.accuracy + sweep.agreement), "accuracies are fractions"


def test_quantization_view_refuses_a_width_it_did_not_compute(quantization_case):
    with pytest.raises(ValueError, match="bits must be one of"):
        w.quantization_view(quantization_case[3], 9)


def test_quantization_explorer_draws_and_redraws(quantization_case):
    model, spikes, labels, _ = quantization_case
    box = w.quantization_explorer(model, spikes, labels, bits=8)
    slider, out = box.children[0].children[0], box.children[-1]
    assert out.outputs and "image/png" in out.outputs[0]["data"], "the explorer draws at once"
    out.outputs = ()
    slider.value = 3
    assert out.outputs and "image/png" in out.outputs[0]["data"], "moving the slider redraws"


def test_plot_spike_differences_counts_the_spikes_that_differ():
    from labkit.plotting import plot_spike_differences

    a = np.zeros((5, 3, 4), dtype=bool)
    a[:2, 0, 1] = True                      # image 0: class 1 leads by 2 spikes
    b = a.copy()
    b[1, 0, 1], b[3, 0, 2] = False, True     # one spike lost, one gained: 2 differ
    fig = plot_spike_differences(a, b)
    heights = [patch.get_height() for patch in fig.axes[0].patches]
    assert heights[:3] == [2, 0, 1], "two images identical, one with 2 differing spikes"
    with pytest.raises(ValueError, match="time, images, classes"):
        plot_spike_differences(a, b[:, :2])
