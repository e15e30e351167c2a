"""labkit.check: every chapter's solution passes its check, every stub is reported as not written,
and wrong answers are caught at the right case with a hint."""

from __future__ import annotations

import ast
import inspect
import linecache
import math
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch

from labkit import check
from labkit.exercises import find_exercises

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _all_exercises():
    found = []
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        for ex in find_exercises(nbformat.read(path, as_version=4)):
            found.append(pytest.param(ex, id=f"{ex.number}-{ex.name}"))
    return found


EXERCISES = _all_exercises()


@pytest.fixture(autouse=True)
def _fresh_attempts():
    """Hints are graded by attempt: every test starts from a first attempt."""
    check.reset()
    yield
    check.reset()


def _define(source: str, name: str):
    """Execute a cell's imports, function and class definitions (not its demo lines) and return ``name``.

    The source is registered with `linecache`, as IPython does for a notebook cell, so that
    `inspect.getsource` finds it (exercise 8.3's function is sent to Lava's interpreter as source).
    """
    tree = ast.parse(source)
    kept = (ast.FunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)  # a class: an autograd.Function (4.2)
    tree.body = [node for node in tree.body if isinstance(node, kept)]
    namespace = {"np": np, "torch": torch, "math": math}
    filename = f"<cell {name} {abs(hash(source))}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    exec(compile(tree, filename, "exec"), namespace)
    return namespace[name]


def test_every_exercise_has_a_check_and_a_solution():
    names = {ex.values[0].name for ex in EXERCISES}
    expected = {"class_mean", "lif_update", "simulate_lif", "theoretical_rate", "rate_encode", "predicted_rmse",
                "latency_encode", "latency_decode", "trace_step", "stdp_pairs", "name_neurons", "atan_surrogate_grad", "plasticity_coefficient_update",
                "count_synaptic_ops", "quantize_weights", "pixel_events", "bin_events", "activation_sparsity", "energy_uj",
                "loihi_lif_step", "lava_network", "recurrent_lif"}
    assert expected <= names, f"the chapters should hold the exercises {sorted(expected - names)}"
    for param in EXERCISES:
        ex = param.values[0]
        assert callable(getattr(check, ex.name, None)), f"labkit.check should have a check for exercise {ex.number}"
        assert ex.solution_source is not None, f"exercise {ex.number} should have a cell tagged 'solution'"


@pytest.mark.parametrize("ex", EXERCISES)
def test_solution_passes_its_check(ex, capsys):
    result = getattr(check, ex.name)(_define(ex.solution_source, ex.name))
    printed = capsys.readouterr().out
    assert result.passed, f"the notebook's solution of exercise {ex.number} should pass its check:\n{printed}"
    assert "all" in printed and "passed" in printed, "a passing check should say so"


@pytest.mark.parametrize("ex", EXERCISES)
def test_stub_is_reported_as_not_written(ex, capsys):
    result = getattr(check, ex.name)(_define(ex.stub_source, ex.name))
    printed = capsys.readouterr().out
    message = f"Exercise {ex.number}:"
    assert not result.passed and result.not_written, f"the stub of exercise {ex.number} should not pass"
    assert "not written yet" in printed and message in printed, \
        f"the verdict on a stub should repeat the exercise's own message, got {printed!r}"
    assert "Traceback" not in printed, "a stub should get a friendly verdict, not a traceback"


# ----------------------------------------------------------------------------- wrong answers


def _lif_greater_equal(current, membrane, beta, threshold, reset="subtract"):
    r = (membrane >= threshold) * 1.0
    if reset == "subtract":
        membrane = beta * membrane + current - threshold * r
    else:
        membrane = beta * (1.0 - r) * membrane + current
    return (membrane >= threshold) * 1.0, membrane


def _lif_reset_from_new(current, membrane, beta, threshold, reset="subtract"):
    membrane = beta * membrane + current
    spike = (membrane > threshold) * 1.0
    return spike, membrane - threshold * spike


def _trace_in_place(trace, spikes, decay):
    trace *= decay
    trace += spikes
    return trace


def _ops_positive_only(spikes, weight):
    return int(((spikes != 0).reshape(-1, weight.shape[1]).sum(0) * (weight > 0).sum(0)).sum())


def _ops_tensor(spikes, weight):
    return ((spikes != 0).reshape(-1, weight.shape[1]).sum(0) * (weight != 0).sum(0)).sum()


def _pixel_floor(log_intensity, threshold):
    counts, reference = np.zeros(len(log_intensity), dtype=int), log_intensity[0]
    for k in range(1, len(log_intensity)):
        counts[k] = int(np.floor((log_intensity[k] - reference) / threshold))
        reference += counts[k] * threshold
    return counts


def _bin_fancy_index(events, num_bins, duration_us):
    frames = np.zeros((num_bins, 2, 34, 34), dtype=int)
    k = events["t"].astype(np.int64) * num_bins // duration_us
    frames[k, events["p"].astype(int), events["y"], events["x"]] += 1  # drops repeated indices
    return frames


def _quantize_no_abs(w, bits=8):
    w = torch.as_tensor(w, dtype=torch.float64)
    largest = 2 ** (bits - 1) - 1
    peak = w.max().item()
    e = math.ceil(math.log2(peak / largest)) if peak > 0 else 0
    return torch.round(w / 2.0**e).clamp(-largest, largest).to(torch.int64), e


def _coefficient_with_plus_grad(c, dw, grad, kappa):
    return (c + kappa * torch.cosine_similarity(dw, grad, dim=1, eps=1e-12)).clamp(0, 1)


def _atan_without_alpha(x, alpha):
    return 0.5 / (1 + (math.pi / 2 * alpha * x) ** 2)


def _rate_same_draw_every_step(images, num_steps, generator):
    once = (torch.rand(images.shape, generator=generator) < images).float()
    return once.expand(num_steps, *images.shape).clone()


def _simulate_own_neuron(current, beta, threshold, reset, step):
    from labkit.neurons import LIFParams, lif_sequence

    return lif_sequence(current, LIFParams(beta=beta, threshold=threshold, reset=reset))  # ignores step


def _rate_closed_form_only(current, beta, threshold):
    current = np.asarray(current, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        n_star = np.floor(np.log(1 - threshold * (1 - beta) / current) / np.log(beta)) + 1
    return np.where(current > threshold * (1 - beta), 1 / n_star, 0.0)


def _latency_decode_without_fired(spikes):
    return 1 - spikes.argmax(dim=0).float() / (spikes.shape[0] - 1)


def _stdp_post_trace_first(pre, post, params):
    x, y = torch.zeros_like(pre[0]), torch.zeros_like(post[0])
    dw = torch.zeros(post.shape[1], pre.shape[1], dtype=pre.dtype)
    for t in range(pre.shape[0]):
        x = params.decay_plus * x + pre[t]
        y = params.decay_minus * y + post[t]  # too early: simultaneous spikes now also depress
        dw += params.A_plus * torch.outer(post[t], x) - params.A_minus * torch.outer(y, pre[t])
    return dw


def _names_by_sum(responses, labels, n_classes):
    names = (torch.nn.functional.one_hot(labels, n_classes).to(responses.dtype).T @ responses).argmax(dim=0)
    names[responses.sum(dim=0) == 0] = -1
    return names


def _mean_forgot_to_divide(images, labels, digit):
    return images[labels == digit].sum(dim=0)


def _sparsity_mean_of_layers(outputs):
    return float(np.mean([float((o == 0).float().mean()) for o in outputs]))


def _energy_in_picojoules(counts, e_mac_pj, e_ac_pj, e_neuron_pj):
    return counts.effective_macs * e_mac_pj + counts.effective_acs * e_ac_pj + counts.neuron_updates * e_neuron_pj


def _loihi_step_floor_decay(a, u, v, layer):
    threshold = layer.vth << 6
    v = torch.where(v > threshold, 0, v)
    u = (u * (4096 - layer.du - 1) >> 12) + (a << 6)
    bias = torch.as_tensor(layer.bias_mant, dtype=torch.int64) << layer.bias_exp
    v = ((v * (4096 - layer.dv) >> 12) + u + bias).clamp(-(2**23 - 1), 2**23 - 1)  # >> rounds down, not to zero
    return v > threshold, u, v


def _recurrent_untransposed(current, weight, params):
    from labkit.neurons import lif_step

    u, s, spikes, membranes = torch.zeros_like(current[0]), torch.zeros_like(current[0]), [], []
    for t in range(current.shape[0]):
        s, u = lif_step(current[t] + s @ weight, u, params)  # V s needs V's transpose here
        spikes.append(s)
        membranes.append(u)
    return torch.stack(spikes), torch.stack(membranes)


WRONG = [
    (check.lif_update, _lif_greater_equal, "exactly at threshold", ">="),
    (check.lif_update, _lif_reset_from_new, "crossing the threshold", "BEFORE its reset"),
    (check.trace_step, _trace_in_place, "not modified", "instead of"),
    (check.count_synaptic_ops, _ops_positive_only, "negative weights", "weight != 0"),
    (check.count_synaptic_ops, _ops_tensor, "Python int", "int("),
    (check.pixel_events, _pixel_floor, "OFF", "np.trunc"),
    (check.bin_events, _bin_fancy_index, "repeated events", "np.add.at"),
    (check.quantize_weights, _quantize_no_abs, "fits exactly", "abs"),
    (check.plasticity_coefficient_update, _coefficient_with_plus_grad, "agreeing rows", "MINUS grad"),
    (check.atan_surrogate_grad, _atan_without_alpha, "peak at x = 0", "at its highest"),
    (check.rate_encode, _rate_same_draw_every_step, "rate equal to its intensity", "each step"),
    (check.simulate_lif, _simulate_own_neuron, "step function passed in", "call step"),
    (check.theoretical_rate, _rate_closed_form_only, "beta = 1", "ln(beta) = 0"),
    (check.latency_decode, _latency_decode_without_fired, "no spike means black", "fired"),
    (check.stdp_pairs, _stdp_post_trace_first, "simultaneous spikes", "BEFORE this step's post spikes"),
    (check.name_neurons, _names_by_sum, "MEAN response", "divide by"),
    (check.class_mean, _mean_forgot_to_divide, "their average, not their sum", "divide by"),
    (check.activation_sparsity, _sparsity_mean_of_layers, "pooled, not averaged", "do not average"),
    (check.energy_uj, _energy_in_picojoules, "1,000,000 MACs", "10^-6"),
    (check.loihi_lif_step, _loihi_step_floor_decay, "rounded towards zero", "magnitude"),
    (check.recurrent_lif, _recurrent_untransposed, "V[j, i]", "TRANSPOSE"),
]


@pytest.mark.parametrize("run_check, wrong, case, hint", WRONG, ids=[w[1].__name__.lstrip("_") for w in WRONG])
def test_wrong_answer_fails_at_the_right_case(run_check, wrong, case, hint, capsys):
    result = run_check(wrong)
    printed = capsys.readouterr().out
    assert not result.passed and not result.not_written, f"{wrong.__name__} is wrong and should fail"
    assert case in (result.failed_case or ""), f"{wrong.__name__} should first fail the case about {case!r}:\n{printed}"
    assert "expected:" in printed and "got:" in printed, "a failing case shows expected against got"
    assert hint in printed, f"the first hint for {wrong.__name__} should mention {hint!r}:\n{printed}"
    again = run_check(wrong, quiet=True)
    assert again.attempt == 2 and again.hint_level >= 1 and any(hint in m for m in again.messages), \
        f"a second wrong attempt at {wrong.__name__} keeps the nudge (and adds the formula where the case has one)"


def test_an_error_in_student_code_is_a_failing_case_not_a_crash(capsys):
    def broken(current, membrane, beta, threshold, reset="subtract"):
        return undefined_name  # noqa: F821

    result = check.lif_update(broken)
    printed = capsys.readouterr().out
    assert not result.passed and "NameError" in printed and "hint:" in printed, \
        "an exception raised by the student's function is reported with the case and a hint"


def test_passing_something_that_is_not_a_function_is_explained():
    result = check.trace_step(None, quiet=True)
    assert not result.passed and "pass the function itself" in result.messages[0], \
        "check.trace_step(None) should explain how to call the check"


@pytest.mark.parametrize("ex", EXERCISES)
def test_verdict_never_prints_a_line_of_the_solution(ex, capsys):
    getattr(check, ex.name)(_define(ex.stub_source, ex.name))
    getattr(check, ex.name)(lambda *args, **kwargs: 0)
    getattr(check, ex.name)(lambda *args, **kwargs: 0)  # the second wrong attempt shows the formula
    printed = capsys.readouterr().out
    code = [line.split("#")[0].strip() for line in ex.solution_source.splitlines()]
    leaked = [line for line in code if len(line) > 12 and not line.startswith(("def ", '"""')) and line in printed]
    assert not leaked, f"the verdicts of exercise {ex.number} should not show solution code, found {leaked}"


def test_quiet_check_prints_nothing_but_keeps_messages(capsys):
    result = check.atan_surrogate_grad(lambda x, alpha: (alpha / 2) / (1 + (math.pi / 2 * alpha * x) ** 2), quiet=True)
    assert capsys.readouterr().out == "", "quiet=True should print nothing"
    assert result.passed and result.messages, "the result keeps the verdict as messages"


def _lava_network_dv_is_beta(spikes, layers, beta, threshold):
    import numpy as np
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.dense.process import Dense
    from lava.proc.io.source import RingBuffer
    from lava.proc.lif.process import LIF
    from lava.proc.monitor.process import Monitor

    steps = len(spikes) + len(layers)
    data = np.zeros((spikes.shape[1], steps))
    data[:, : len(spikes)] = spikes.T
    source = RingBuffer(data=data)
    port = source.s_out
    for weight, bias in layers:
        dense, lif = Dense(weights=weight), LIF(shape=(len(bias),), du=1.0, dv=beta, vth=threshold, bias_mant=bias)
        port.connect(dense.s_in)
        dense.a_out.connect(lif.a_in)
        port = lif.s_out
    monitor = Monitor()
    monitor.probe(port, steps)
    source.run(condition=RunSteps(num_steps=steps), run_cfg=Loihi2SimCfg(select_tag="floating_pt"))
    record = monitor.get_data()[lif.name]["s_out"]
    source.stop()
    return record


def test_a_lava_graph_with_beta_as_dv_fails_at_the_bias_case(capsys):
    from labkit.loihi.lava_runner import lava_backend

    if lava_backend() is None:
        pytest.skip("Lava is not available (no .venv-lava): exercise 8.3 runs in Lava")
    source = inspect.getsource(_lava_network_dv_is_beta)
    result = check.lava_network(_define(source, "_lava_network_dv_is_beta"))
    printed = capsys.readouterr().out
    assert not result.passed and "bias alone" in (result.failed_case or ""), \
        f"Lava's dv is the decay 1 - beta, not beta: the bias-only case catches it first:\n{printed}"
    assert "dv is what decays" in printed, "the hint says what dv means"


FALLBACKS = [("activation_sparsity", "labkit.check.reference"), ("energy_uj", "labkit.check.reference"),
             ("pixel_events", "labkit.check.reference"), ("bin_events", "labkit.check.reference"),
             ("recurrent_lif", "labkit.check.reference"), ("loihi_lif_step", "labkit.loihi.quantize"),
             ("quantize_weights", "labkit.loihi.quantize")]


@pytest.mark.parametrize("name, module", FALLBACKS, ids=[f[0] for f in FALLBACKS])
def test_the_fallback_of_chapters_7_to_9_passes_the_exercises_check(name, module, capsys):
    import importlib

    fallback = getattr(importlib.import_module(module), name)
    result = getattr(check, name)(fallback)
    assert result.passed, f"{module}.{name}, what check.use runs while exercise {result.exercise} is unwritten, " \
                          f"should pass its check:\n{capsys.readouterr().out}"


def test_the_lab_graph_passes_the_lava_network_check(capsys):
    from labkit.loihi.graph import run_network
    from labkit.loihi.lava_runner import lava_backend

    if lava_backend() is None:
        pytest.skip("Lava is not available (no .venv-lava): exercise 8.3 runs in Lava")
    assert check.lava_network(run_network).passed, \
        f"labkit.loihi.graph.run_network, chapter 8's fallback, should pass check.lava_network:\n{capsys.readouterr().out}"
