"""labkit.check.core: graded hints (a nudge first, the formula from the second failing attempt),
`reset`, and `use`, which runs the student's function or labkit's while the exercise is unwritten."""

from __future__ import annotations

import pytest

from labkit import check
from labkit.check import core
from labkit.check.core import Case, Mismatch, run_cases


def _double_cases():
    def run(fn):
        if fn(3) != 6:
            raise Mismatch("6", repr(fn(3)))

    return [Case("doubles 3", "look at the factor", run, formula="y = 2 x")]


@pytest.fixture(autouse=True)
def _fresh_attempts():
    check.reset()
    yield
    check.reset()


def test_first_failing_attempt_gets_the_nudge_only(capsys):
    result = run_cases("0.1", "double", lambda x: x + 1, _double_cases())
    printed = capsys.readouterr().out
    assert not result.passed and result.attempt == 1 and result.hint_level == 1, "first failure: attempt 1, the nudge"
    assert "look at the factor" in printed and "y = 2 x" not in printed, "the first failing attempt hides the formula"


def test_second_failing_attempt_adds_the_formula_and_reset_starts_again(capsys):
    run_cases("0.1", "double", lambda x: x + 1, _double_cases())
    second = run_cases("0.1", "double", lambda x: x * 3, _double_cases())
    printed = capsys.readouterr().out.split("✗")[-1]
    assert second.attempt == 2 and second.hint_level == 2, "the second failure counts as attempt 2"
    assert "look at the factor" in printed and "formula:  y = 2 x" in printed, "from attempt 2 on the formula shows"
    check.reset("double")
    third = run_cases("0.1", "double", lambda x: x + 1, _double_cases(), quiet=True)
    assert third.attempt == 1 and third.hint_level == 1, "after reset the hints start again at the nudge"


def test_unwritten_stub_does_not_count_as_an_attempt(capsys):
    def stub(x):
        raise NotImplementedError("Exercise 0.1: double x")

    result = run_cases("0.1", "double", stub, _double_cases())
    assert result.not_written and result.attempt == 0 and check.attempts("double") == 0, \
        "running the check on the untouched stub is not a wrong attempt"
    assert "not written yet: Exercise 0.1: double x" in capsys.readouterr().out


def test_use_falls_back_to_labkit_while_the_stub_is_unwritten_and_says_so_once(capsys):
    def stub(x):
        raise NotImplementedError("Exercise 0.1: double x")

    fn = check.use(stub, fallback=lambda x: 2 * x, exercise="0.1")
    assert fn(4) == 8 and fn(5) == 10, "the fallback computes the answer while the stub is unwritten"
    printed = capsys.readouterr().out
    assert printed.count("Exercise 0.1 not written yet: using labkit's version") == 1, \
        f"the fallback is announced exactly once, got {printed!r}"


def test_use_runs_the_students_function_once_written(capsys):
    fn = check.use(lambda x: x + 100, fallback=lambda x: 2 * x, exercise="0.1")
    assert fn(1) == 101, "a written function is used, even when it differs from labkit's"
    assert capsys.readouterr().out == "", "nothing is announced when the student's function runs"


def test_use_says_when_the_students_function_has_failed_its_check(capsys):
    wrong = lambda x: x + 1  # noqa: E731
    run_cases("0.1", "double", wrong, _double_cases(), quiet=True)
    fn = check.use(wrong, fallback=lambda x: 2 * x, exercise="0.1")
    assert fn(3) == 4 and fn(3) == 4, "a failing function still drives the cells below"
    assert capsys.readouterr().out.count("did not pass its check yet") == 1, "the failed check is mentioned once"


def test_use_lets_other_errors_of_the_students_code_through():
    def broken(x):
        raise NotImplementedError("this branch is not done")  # not the exercise's own stub message

    with pytest.raises(NotImplementedError, match="branch"):
        check.use(broken, fallback=lambda x: x, exercise="0.1")(1)
    with pytest.raises(ZeroDivisionError):
        check.use(lambda x: 1 / 0, fallback=lambda x: x, exercise="0.1")(1)


def test_use_without_a_function_is_explained():
    with pytest.raises(TypeError, match="fallback"):
        check.use(lambda x: x, fallback=None, exercise="0.1")
    with pytest.raises(TypeError, match="function itself"):
        check.use(3, fallback=lambda x: x, exercise="0.1")


def test_use_without_fallback_takes_the_one_declared_with_the_check(capsys):
    def stub(trace, spikes, decay):
        raise NotImplementedError("Exercise 3.1: the trace one step later")

    step = check.use(stub, exercise="3.1")
    assert step(2.0, 1.0, 0.5) == 2.0, "0.5 * 2 + 1 by labkit's version of exercise 3.1"
    assert step.fallback is check.registry.by_number("3.1").fallback
    assert "Exercise 3.1 not written yet" in capsys.readouterr().out
    with pytest.raises(TypeError, match="declares no fallback"):
        check.use(stub, exercise="0.99")


def test_exercise_declares_a_check_once_by_number_and_name(monkeypatch):
    monkeypatch.setattr(core, "DECLARED", {})

    def double(fn, *, quiet=False):
        return run_cases("0.1", "double", fn, _double_cases(), quiet=quiet)

    assert core.exercise("0.1", "(x) -> 2 x", fallback=lambda x: 2 * x)(double) is double, "the check itself"
    declared = core.DECLARED["0.1"]
    assert (declared.name, declared.contract, declared.check, declared.fallback(4)) == ("double", "(x) -> 2 x", double, 8)
    core.exercise("0.1", "(x) -> 2 x")(double)  # declared again (a reloaded module): replaced, no error
    with pytest.raises(ValueError, match="declared twice"):
        core.exercise("0.1", "(x) -> 3 x")(lambda fn: None)
    with pytest.raises(ValueError, match="exercises 0.1 and 0.2"):
        core.exercise("0.2", "(x) -> 2 x")(double)
    with pytest.raises(ValueError, match="'N.M'"):
        core.exercise("1", "(x) -> x")
    with pytest.raises(ValueError, match="must be a function"):
        core.exercise("0.3", "(x) -> x", fallback=3)


def test_reset_also_forgets_the_failed_verdict(capsys):
    wrong = lambda x: x + 1  # noqa: E731
    run_cases("0.1", "double", wrong, _double_cases(), quiet=True)
    check.reset("double")
    fn = check.use(wrong, fallback=lambda x: 2 * x, exercise="0.1")
    fn(3)
    assert capsys.readouterr().out == "", "after reset the earlier failed check is not mentioned"
