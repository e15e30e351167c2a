"""labkit.check's catalogues of mistakes (#37): every exercise knows at least three wrong implementations
(at least 100 in all); each one fails its check and its first hint names that mistake; the hints
never repeat the solution's code; the registry is the one list of exercises; the problems found
by working through the course are each covered."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch

from labkit import check
from labkit.check import core, reference
from labkit.check.registry import EXERCISES, by_name, by_number, table
from labkit.exercises import find_exercises, leaked_code

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SOLUTIONS = {ex.number: ex for path in sorted(NOTEBOOKS.glob("*.ipynb"))
             for ex in find_exercises(nbformat.read(path, as_version=4))}
MISTAKES = [pytest.param(e, m, id=f"{e.number}-{m.fn.__name__.lstrip('_')}") for e in EXERCISES for m in e.mistakes]


@pytest.fixture(autouse=True)
def _fresh_attempts():
    check.reset()
    yield
    check.reset()


def _lava_or_skip(exercise):
    if exercise.number == "8.3":
        from labkit.loihi.sidecar import lava_backend

        if lava_backend() is None:
            pytest.skip("Lava is not available: exercise 8.3 is checked in Lava")


def test_the_registry_lists_every_exercise_of_the_chapters_once():
    numbers = [e.number for e in EXERCISES]
    assert len(numbers) == len(set(numbers)), "each exercise is listed once"
    assert set(numbers) == set(SOLUTIONS), "the registry and the notebooks hold the same exercises"
    for e in EXERCISES:
        assert SOLUTIONS[e.number].name == e.name, f"exercise {e.number} writes {e.name} in its chapter"
        assert getattr(check, e.name) is e.check, f"check.{e.name} is the registry's check"
        assert f"| {e.number} | `{e.name}` |" in table(), "the table of exercises is made from the registry"


def test_the_registry_is_collected_from_the_declarations_in_exercise_order():
    assert EXERCISES == tuple(sorted(core.DECLARED.values(), key=lambda e: tuple(map(int, e.number.split("."))))), \
        "EXERCISES is every declaration of the package, by chapter and then by exercise (1.2 before 1.10)"
    for e in EXERCISES:
        assert by_number(e.number) is e and by_name(e.name) is e, f"exercise {e.number} is found by number and name"
        assert e.check.__name__ == e.name, f"the check of {e.number} carries the name of the student's function"


def _check_functions():
    """(module file, check name, whether it is declared) of every check written in labkit/check: a module-level
    function whose first parameter is ``fn`` and whose keyword ``quiet`` silences it."""
    found = []
    for path in sorted(Path(core.__file__).parent.glob("*.py")):
        for node in ast.parse(path.read_text()).body:
            if (isinstance(node, ast.FunctionDef) and not node.name.startswith("_") and node.args.args
                    and node.args.args[0].arg == "fn" and any(a.arg == "quiet" for a in node.args.kwonlyargs)):
                declared = any(isinstance(d, ast.Call) and getattr(d.func, "id", None) == "exercise"
                               for d in node.decorator_list)
                found.append((path.name, node.name, declared))
    return found


def test_every_check_in_the_package_is_declared_and_exported():
    checks = _check_functions()
    assert len(checks) == len(EXERCISES), f"one check per declared exercise, found {[c[:2] for c in checks]}"
    for module, name, declared in checks:
        assert declared, f"labkit/check/{module}: the check {name} declares its exercise with @exercise(...)"
        assert by_name(name).check.__module__ == f"labkit.check.{module[:-3]}", f"{name} is registered from {module}"
    assert set(check.__all__) >= {e.name for e in EXERCISES}, "labkit.check exports every check by name"
    from labkit.check import alif_update, astdp_step  # noqa: F401 (the import is the test)

    assert astdp_step is by_name("astdp_step").check, "a check named like its module is the check, not the module"


@pytest.mark.parametrize("exercise", [e for e in EXERCISES if e.fallback is not None], ids=lambda e: e.number)
def test_each_declared_fallback_passes_its_check_and_is_the_reference(exercise, capsys):
    result = exercise.check(exercise.fallback, quiet=True)
    assert result.passed, f"labkit's version of {exercise.number} passes its own check:\n" + "\n".join(result.messages)
    assert (result.exercise, result.name) == (exercise.number, exercise.name), \
        f"check.{exercise.name} reports the exercise it is declared for, not {result.exercise} ({result.name})"
    assert getattr(reference, exercise.name) is exercise.fallback, f"check.reference.{exercise.name} is the fallback"
    assert exercise.name in reference.__all__


def test_every_exercise_but_the_one_run_in_lava_declares_its_fallback():
    without = [e.number for e in EXERCISES if e.fallback is None]
    assert all(by_number(n).check.__module__ == "labkit.check.loihi" and "Lava" in by_number(n).contract
               for n in without), f"only exercises run in Lava pass their own fallback to check.use, not {without}"
    assert reference.coefficient_update is by_number("5.2").fallback, "a fallback is found by its own name too"
    with pytest.raises(AttributeError, match="fallback of every exercise"):
        reference.no_such_exercise  # noqa: B018


def test_every_exercise_has_a_catalogue_of_at_least_three_mistakes_and_100_in_all():
    short = {e.number: len(e.mistakes) for e in EXERCISES if len(e.mistakes) < 3}
    assert not short, f"exercises with fewer than three catalogued mistakes: {short}"
    total = sum(len(e.mistakes) for e in EXERCISES)
    assert total >= 100, f"the catalogues hold {total} wrong implementations, fewer than 100"
    assert set(core.CATALOGUE) <= {e.number for e in EXERCISES}, "every catalogue belongs to a listed exercise"


@pytest.mark.parametrize("exercise, entry", MISTAKES)
def test_each_catalogued_mistake_fails_and_its_first_hint_names_it(exercise, entry, capsys):
    _lava_or_skip(exercise)
    result = exercise.check(entry.fn)
    printed = capsys.readouterr().out
    assert not result.passed and not result.not_written, f"{entry.name!r} is wrong and must fail:\n{printed}"
    assert result.attempt == 1 and result.mistake == entry.name, \
        f"the first failing attempt of {entry.fn.__name__} should be diagnosed as {entry.name!r}, got " \
        f"{result.mistake!r}:\n{printed}"
    assert entry.hint in printed and "formula:" not in printed, "the first attempt shows the mistake's hint only"
    again = exercise.check(entry.fn, quiet=True)
    assert again.hint_level == 2 and any(m.startswith("    formula:") for m in again.messages), \
        "the second failing attempt also shows the formula"


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.number)
def test_no_hint_repeats_the_solutions_code(exercise):
    solution = SOLUTIONS[exercise.number].solution_source
    for entry in exercise.mistakes:
        assert not leaked_code(entry.hint, solution), f"the hint of {entry.name!r} gives solution code away"
        assert exercise.number == entry.exercise


# ----------------------------------------------------------------------------- the problems of the issue


def test_1_3_a_non_strict_threshold_fails_at_the_rate_one_third_example(capsys):
    def ceil_rate(current, beta, threshold):
        current = np.asarray(current, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            steps = threshold / current if beta == 1 else np.log(1 - threshold * (1 - beta) / current) / np.log(beta)
            return np.where(current > threshold * (1 - beta), 1 / np.maximum(np.ceil(steps), 1), 0.0)

    result = check.theoretical_rate(ceil_rate)
    assert not result.passed and "1/3" in result.failed_case, capsys.readouterr().out
    assert result.mistake and "ceil" in result.mistake


def test_1_1_a_correct_answer_written_in_place_is_diagnosed_as_in_place(capsys):
    def in_place(current, membrane, beta, threshold, reset="subtract"):
        r = (membrane > threshold) * 1.0
        membrane *= beta * (1 - r) if reset == "zero" else beta
        membrane += current - (threshold * r if reset == "subtract" else 0.0)
        return (membrane > threshold) * 1.0, membrane

    result = check.lif_update(in_place)
    printed = capsys.readouterr().out
    assert result.failed_case == "the inputs are left unchanged" and "changed in place" in printed, printed
    assert "formula:" not in printed, "the first hint is about the copy, not the formula already written"


def test_5_2_in_place_clamp_is_caught_before_the_answer_is_compared(capsys):
    def in_place(c, dw, grad, kappa):
        return c.add_(kappa * torch.cosine_similarity(dw, -grad, dim=1, eps=1e-12)).clamp_(0.0, 1.0)

    result = check.plasticity_coefficient_update(in_place)
    assert result.failed_case == "the inputs are left unchanged", capsys.readouterr().out
    assert result.mistake is not None and "in place" in result.mistake


def test_7_1_a_wrong_count_gets_the_formula_at_the_second_attempt(capsys):
    def loops(spikes, weight):
        return int(spikes.sum() * (weight != 0).sum())  # every spike times every synapse

    check.count_synaptic_ops(loops)
    second = check.count_synaptic_ops(loops, quiet=True)
    assert second.hint_level == 2 and not any("int(" in m for m in second.messages), second.messages


def test_5_3_a_missing_zero_grad_is_named(capsys):
    result = check.astdp_step(by_number("5.3").mistakes[0].fn)
    assert result.mistake == by_number("5.3").mistakes[0].name
    names = " ".join(m.name for m in by_number("5.3").mistakes)
    assert "zero_grad" in names and "rebound" in names, "5.3 catalogues a missing zero_grad and rebinding"


def test_8_2_first_hint_is_not_the_solution_and_the_check_agrees_with_the_next_cell(capsys):
    hints = [c.hint for c in _cases_of(check.quantize_weights)]
    solution = SOLUTIONS["8.2"].solution_source
    assert all(not leaked_code(h, solution) for h in hints), "no nudge of 8.2 repeats the solution"
    fits_after_rounding = next(m for m in by_number("8.2").mistakes if "after rounding" in m.name).fn
    w = torch.randn(500, 784, generator=torch.Generator().manual_seed(0)) * 0.05  # chapter 8's comparison cell
    from labkit.loihi.quantize import quantize_weights as labkit_quantize

    assert fits_after_rounding(w, 4)[1] != labkit_quantize(w, 4)[1], "the cell would print 'same as labkit: False'"
    assert not check.quantize_weights(fits_after_rounding, quiet=True).passed, "so the check must fail it too"


def _cases_of(check_fn):
    captured = {}
    original = core.run_cases

    def spy(exercise, name, fn, cases, **kw):
        captured["cases"] = cases
        return original(exercise, name, fn, cases, **kw)

    module = sys.modules[check_fn.__module__]
    module.run_cases = spy
    try:
        check_fn(lambda *a, **k: None, quiet=True)
    finally:
        module.run_cases = original
    return captured["cases"]


def test_tensor_mismatch_shows_the_first_differing_index_both_values_and_shapes():
    expected = torch.zeros(4, 50)
    got = expected.clone()
    got[2, 37] = 0.5
    with pytest.raises(core.Mismatch) as info:
        core.expect_close(got, expected, "W")
    assert "W[2, 37] = 0" in info.value.expected and "W[2, 37] = 0.5" in info.value.got
    assert "(4, 50)" in info.value.expected and "(4, 50)" in info.value.got
    assert "…" not in str(info.value) and "..." not in str(info.value), "nothing is cut short"


def test_an_endless_loop_is_stopped_with_a_clear_message(monkeypatch, capsys):
    monkeypatch.setattr(core, "TIME_LIMIT_S", 0.5)

    def forever(trace, spikes, decay):
        while True:
            pass

    result = check.trace_step(forever)
    assert not result.passed and "endless loop" in capsys.readouterr().out


def test_sys_exit_in_the_students_function_is_reported_not_raised(capsys):
    def leaves(trace, spikes, decay):
        sys.exit(1)

    result = check.trace_step(leaves)
    assert not result.passed and "sys.exit(1)" in capsys.readouterr().out


def test_every_case_has_a_formula_for_the_second_attempt():
    for exercise in EXERCISES:
        if exercise.number == "8.3":
            continue  # its cases are made only where Lava runs; they share the check's formula
        cases = _cases_of(exercise.check)  # run_cases refuses a case without a formula (ValueError)
        assert cases, f"exercise {exercise.number} has cases"


def test_a_case_without_a_formula_is_refused():
    with pytest.raises(ValueError, match="no formula"):
        core.run_cases("0.1", "double", lambda x: x, [core.Case("doubles", "look", lambda fn: None)], quiet=True)
