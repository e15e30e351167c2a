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
from labkit.check.registry import EXERCISES as REGISTRY
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
    expected = {e.name for e in REGISTRY}  # the registry is the one list of exercises
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
# The wrong implementations students write are catalogued beside each check (labkit.check.core.mistake) and
# tested, every one, in tests/test_check_catalogue.py.


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
    from labkit.loihi.sidecar import lava_backend

    if lava_backend() is None:
        pytest.skip("Lava is not available (no .venv-lava): exercise 8.3 runs in Lava")
    source = inspect.getsource(_lava_network_dv_is_beta)
    result = check.lava_network(_define(source, "_lava_network_dv_is_beta"))
    printed = capsys.readouterr().out
    assert not result.passed and "bias alone" in (result.failed_case or ""), \
        f"Lava's dv is the decay 1 - beta, not beta: the bias-only case catches it first:\n{printed}"
    assert result.mistake == "dv set to beta" and "DECAYS" in printed, \
        f"the graph run in Lava is matched with the catalogue's model of that mistake:\n{printed}"


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
    from labkit.loihi.lava import run_network
    from labkit.loihi.sidecar import lava_backend

    if lava_backend() is None:
        pytest.skip("Lava is not available (no .venv-lava): exercise 8.3 runs in Lava")
    assert check.lava_network(run_network).passed, \
        f"labkit.loihi.lava.run_network, chapter 8's fallback, should pass check.lava_network:\n{capsys.readouterr().out}"
