"""The core of `labkit.check`: verdicts, graded hints, the fallback for unwritten exercises, and the
expectations the chapters' checks are written with (`expect_close`, `expect_pair`, …).

A check is a list of cases run in order on the student's function (`run_cases`). The first
case that fails stops the check and prints what was expected, what came back and a hint. Hints
are **graded** by how often the student has tried: the first failing attempt at a check gets
only a *nudge* (where to look); from the second failing attempt on the check also prints the
*formula* (the equation to implement, never the code). `reset` forgets the attempts.

`use` lets the cells after an exercise run on the student's function while it is not written:

    lif = check.use(lif_update, fallback=labkit_lif_update, exercise="1.1")

``lif(...)`` calls ``lif_update``; while that still raises the exercise's
``NotImplementedError("Exercise 1.1: ...")`` it calls ``labkit_lif_update`` instead and says so
once. So a notebook runs top to bottom before any exercise is written, and the student's code
drives the rest of the chapter as soon as it is.

**Diagnosis by mistake.** Every exercise has a catalogue of the wrong implementations students
write (`mistake` registers one, `catalogue` lists them). The student's function runs through a
`~labkit.check.guard.Guard`: on copies of the case's inputs (an input changed in place fails at
once, before the answer is looked at), within a time limit, with every answer recorded. When a
case fails, each catalogued mistake runs the same case; the first whose answers equal the
student's, call for call, names the mistake in the hint. Otherwise the case's own nudge is shown.
Every case has a formula, shown from the second failing attempt on; no hint is the solution.

**Declared where it is checked.** A check declares its exercise with `exercise`, on the check itself::

    @exercise("1.1", "(current, membrane, beta, threshold, reset) -> (spike, membrane)", fallback=labkit_lif_update)
    def lif_update(fn, *, quiet=False) -> CheckResult: ...

Number, name (the check's own), contract, check and labkit's version to fall back to are written once,
there (`DECLARED` holds them); `~labkit.check.registry` imports every module of this package and sorts
the declarations into its list of exercises, from which the table of exercises, ``labkit.check``'s
names and ``check.reference`` are made; `use` without ``fallback=`` takes the declared one.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import torch

from .guard import Guard, InputsModified, StudentExit, TimeLimit, freeze, time_limit

__all__ = ["CATALOGUE", "DECLARED", "TIME_LIMIT_S", "CheckResult", "Case", "Exercise", "Mismatch", "Mistake", "attempts",
           "catalogue", "exercise", "expect_close", "expect_equal", "expect_pair", "expect_unchanged", "mistake",
           "numeric", "observe", "reset", "run_cases", "show", "snapshot", "to_numpy", "use"]

#: Seconds a case may take before the check stops the student's function (an endless loop).
TIME_LIMIT_S = 10.0


@dataclass
class CheckResult:
    """The outcome of one check.

    Attributes:
        exercise: the exercise number, e.g. ``"1.1"``.
        name: the function checked.
        passed: True when every case passed.
        messages: the verdict, one line per entry (what was printed).
        not_written: True when the function still raised ``NotImplementedError``.
        failed_case: the description of the first failing case (None when all passed).
        attempt: how many failing attempts at this check so far, this one included (0 when it
            passed or was not written yet).
        hint_level: 0 no hint shown, 1 the nudge, 2 the nudge and the formula.
        mistake: the name of the catalogued mistake the answer matched (None: no match).
    """

    exercise: str
    name: str
    passed: bool
    messages: list[str] = field(default_factory=list)
    not_written: bool = False
    failed_case: str | None = None
    attempt: int = 0
    hint_level: int = 0
    mistake: str | None = None

    def __repr__(self) -> str:
        state = "passed" if self.passed else ("not written yet" if self.not_written else "failed")
        return f"CheckResult(exercise {self.exercise} {self.name}: {state})"


class Mismatch(Exception):
    """A case's answer differs from the expected one (raised by a case's ``run``)."""

    def __init__(self, expected: str, got: str):
        super().__init__(f"expected {expected}, got {got}")
        self.expected, self.got = expected, got


@dataclass(frozen=True)
class Case:
    """One case of a check.

    Attributes:
        description: what the case tests, in words ("exactly at threshold is not a spike").
        hint: the nudge shown at the first failing attempt: where to look, not what to write.
        run: calls the student's function and raises `Mismatch` on a wrong answer.
        formula: the equation shown from the second failing attempt on (None: the check's formula).
    """

    description: str
    hint: str
    run: Callable[[Callable], None]
    formula: str | None = None


@dataclass(frozen=True)
class Mistake:
    """A known wrong implementation of an exercise and the hint that names its mistake.

    Attributes:
        exercise: the exercise number, e.g. ``"1.3"``.
        name: the mistake in a few words ("a non-strict threshold (>=)").
        hint: what to look at, naming the mistake (never the solution's code).
        fn: the wrong implementation, with the exercise's signature.
    """

    exercise: str
    name: str
    hint: str
    fn: Callable


#: exercise number -> its catalogue of mistakes, in the order they are tried
CATALOGUE: dict[str, list[Mistake]] = {}


def mistake(exercise: str, name: str, hint: str) -> Callable[[Callable], Callable]:
    """Register the decorated function as a catalogued wrong implementation of ``exercise``."""

    def register(fn: Callable) -> Callable:
        CATALOGUE.setdefault(exercise, []).append(Mistake(exercise, name, hint, fn))
        return fn

    return register


def catalogue(exercise: str) -> list[Mistake]:
    """The catalogued mistakes of ``exercise`` ([] when it has none)."""
    return list(CATALOGUE.get(exercise, []))


@dataclass(frozen=True)
class Exercise:
    """One exercise: its number, the function the student writes, its contract, its check and labkit's version.

    Attributes:
        number: ``"N.M"``, exercise M of chapter N.
        name: the function the student writes, and the name of its check (``check.<name>(<name>)``).
        contract: the call shape, in one line ("(trace, spikes, decay) -> trace one step later").
        check: the check, ``check(fn, *, quiet=False) -> CheckResult``.
        fallback: labkit's function of the same call shape, which `use` runs while the student's is
            not written (None: the chapter passes its own to `use`).
    """

    number: str
    name: str
    contract: str
    check: Callable
    fallback: Callable | None = None

    @property
    def chapter(self) -> int:
        return int(self.number.split(".")[0])

    @property
    def mistakes(self) -> list[Mistake]:
        """The catalogue of known wrong implementations, in the order a wrong answer is matched against them."""
        return catalogue(self.number)


#: exercise number -> its declaration (`exercise`), filled as the modules of the checks are imported
DECLARED: dict[str, Exercise] = {}
_NUMBER = re.compile(r"\d+\.\d+")


def exercise(number: str, contract: str, *, fallback: Callable | None = None) -> Callable[[Callable], Callable]:
    """Declare the decorated check as the check of exercise ``number`` (``"N.M"``) whose function has the
    check's name and the call shape ``contract``; ``fallback`` is labkit's version, for `use`.

    Raises ValueError when the number is not ``"N.M"``, or when the number or the name is already declared
    by another check (declaring the same check again, as a reloaded module does, replaces it).
    """
    if not isinstance(number, str) or not _NUMBER.fullmatch(number):
        raise ValueError(f"an exercise number is 'N.M' (chapter N, exercise M), got {number!r}")
    if fallback is not None and not callable(fallback):
        raise ValueError(f"the fallback of exercise {number} must be a function, got {fallback!r}")

    def declare(check: Callable) -> Callable:
        name = check.__name__
        same_number = DECLARED.get(number)
        if same_number is not None and same_number.name != name:
            raise ValueError(f"exercise {number} is declared twice: by the checks {same_number.name} and {name}")
        for other in DECLARED.values():
            if other.name == name and other.number != number:
                raise ValueError(f"the check {name} is declared for exercises {other.number} and {number}: "
                                 "one exercise per function name")
        DECLARED[number] = Exercise(number, name, contract, check, fallback)
        return check

    return declare


_failed_attempts: dict[str, int] = {}  # check name -> failing attempts so far
_last_passed: dict[str, bool] = {}  # exercise number -> did its last check pass
_exercise_of: dict[str, str] = {}  # check name -> its exercise number


def attempts(name: str) -> int:
    """How many failing attempts the check ``name`` has seen since the last `reset`."""
    return _failed_attempts.get(name, 0)


def reset(name: str | None = None) -> None:
    """Forget the attempts and the last verdict of the check ``name`` (of every check when None).

    The hints start again at the nudge, and `use` no longer mentions an earlier failed check.
    """
    if name is None:
        _failed_attempts.clear()
        _last_passed.clear()
    else:
        _failed_attempts.pop(name, None)
        _last_passed.pop(_exercise_of.get(name, ""), None)


def to_numpy(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def show(x, limit: int = 240) -> str:
    """A short printable form of ``x``: small arrays in full, larger ones by shape, dtype and range (never cut)."""
    if isinstance(x, (torch.Tensor, np.ndarray, list, tuple)) and not isinstance(x, str):
        try:
            a = to_numpy(x)
        except (TypeError, ValueError, RuntimeError):
            text = repr(x)
        else:
            if a.dtype == object or a.dtype.names:
                text = repr(x)
            elif a.size <= 12:
                body = " ".join(np.array2string(a, precision=6, separator=", ", threshold=100).split())
                text = f"{body} (shape {tuple(a.shape)})" if a.ndim > 1 else body
            else:
                kind = "tensor" if isinstance(x, torch.Tensor) else "array"
                values = a.astype(np.float64)
                text = (f"a {kind} of shape {tuple(a.shape)}, dtype {a.dtype}, values from {values.min():.6g} to "
                        f"{values.max():.6g}")
    else:
        text = repr(x)
    return text if len(text) <= limit else f"{type(x).__name__} ({len(text)} characters when printed)"


def _hint_lines(case: Case, attempt: int, formula: str, found: Mistake | None) -> tuple[list[str], int]:
    lines = ([f"    mistake:  {found.name}", f"    hint:     {found.hint}"] if found
             else [f"    hint:     {case.hint}"])
    if attempt >= 2:
        return lines + [f"    formula:  {formula}"], 2
    return lines + ["    (check again after a change: a second failing attempt also shows the formula)"], 1


_IN_PLACE_HINT = ("build the result in new arrays or tensors; never write into an argument (no +=, *=, "
                  "x[...] = or a method ending in _ on an input)")
_IN_PLACE_FORMULA = "new = f(old) assigned to a new name; the arguments stay as they came in"


def _replay(fn: Callable, case: Case, shared, names, seconds) -> tuple[Guard, bool]:
    """Run ``case`` on ``fn`` through a fresh `Guard`: the guard (its record) and whether the case failed."""
    guard = Guard(fn, shared=shared, names=names)
    try:
        with time_limit(seconds):
            case.run(guard)
    except (Exception, TimeLimit):
        return guard, True
    return guard, False


def _diagnose(exercise: str, fn: Callable, cases: list[Case], index: int, student: Guard, shared, names,
              seconds) -> Mistake | None:
    """The catalogued mistake that answers as the student's function did: first the failing case ``cases[index]``,
    call for call; where several mistakes answer it alike, the cases after it decide between them."""
    found = []
    for entry in CATALOGUE.get(exercise, []):
        guard, failed = _replay(entry.fn, cases[index], shared, names, seconds)
        if failed and guard.matches(student):
            found.append(entry)
    for case in cases[index + 1:]:
        if len(found) <= 1:
            break
        theirs, _ = _replay(fn, case, shared, names, seconds)
        narrowed = [entry for entry in found if _replay(entry.fn, case, shared, names, seconds)[0].matches(theirs)]
        found = narrowed or found
    return found[0] if found else None


def observe(fn, value) -> None:
    """Add ``value``, something a case derived from the student's answer (a gradient, a record made
    elsewhere), to the record of ``fn`` when it is a `Guard`, so that the diagnosis compares it too."""
    if isinstance(fn, Guard):
        fn.calls.append(("observed", freeze(value)))


def run_cases(exercise: str, name: str, fn, cases: list[Case], *, quiet: bool = False, formula: str | None = None,
              shared: Iterable[int | str] = (), names: tuple[str, ...] = (),
              seconds: float | None = None, limit: bool = True) -> CheckResult:
    """Run ``cases`` on ``fn`` in order, stop at the first failure, print and return the verdict.

    Args:
        formula: the check's formula, for the cases that have none of their own.
        shared: positions and keyword names of the arguments ``fn`` is meant to change (see `Guard`).
        names: the arguments' names by position (for the message about an input changed in place).
        seconds: the time limit of one case (None: `TIME_LIMIT_S`); ``limit=False`` runs without one.
    """
    title = f"Exercise {exercise} ({name})"
    messages: list[str] = []
    result = CheckResult(exercise, name, passed=False, messages=messages)
    seconds = (TIME_LIMIT_S if seconds is None else seconds) if limit else None
    for case in cases:
        if not (case.formula or formula):
            raise ValueError(f"the case {case.description!r} of check {name} has no formula: give it one, or give "
                             "run_cases a formula for the whole check")
    if not callable(fn):
        messages.append(f"✗ {title}: pass the function itself, e.g. check.{name}({name}), got {show(fn)}")
    else:
        passed = []
        for index, case in enumerate(cases):
            guard = Guard(fn, shared=shared, names=names)
            shown, nudge = case, None
            try:
                with time_limit(seconds):
                    case.run(guard)
            except NotImplementedError as exc:
                result.not_written = True
                result.failed_case = case.description
                messages.append(f"… {title} is not written yet: {exc}")
                break
            except InputsModified as exc:
                shown = Case("the inputs are left unchanged", _IN_PLACE_HINT, case.run, _IN_PLACE_FORMULA)
                failure = [f"✗ {title}: {len(passed)} of {len(cases)} cases passed; this one failed:",
                           f"    case:     the inputs are left unchanged (checked first, in: {case.description})",
                           "    expected: every argument as it was passed in",
                           f"    got:      {', '.join(exc.names)} changed in place"]
            except Mismatch as exc:
                failure = [f"✗ {title}: {len(passed)} of {len(cases)} cases passed; this one failed:",
                           f"    case:     {case.description}",
                           f"    expected: {exc.expected}",
                           f"    got:      {exc.got}"]
            except TimeLimit:
                failure = [f"✗ {title}: {len(passed)} of {len(cases)} cases passed; this one did not finish:",
                           f"    case:     {case.description}",
                           f"    error:    no answer within {seconds:g} s, so the check stopped your function: "
                           "an endless loop? (a while loop whose condition never changes)"]
            except StudentExit as exc:
                failure = [f"✗ {title}: {len(passed)} of {len(cases)} cases passed; this one stopped:",
                           f"    case:     {case.description}",
                           f"    error:    your function called {exc}, which would end the notebook's kernel: "
                           "return the answer instead"]
            except Exception as exc:  # the student's code raised: report it as a failing case
                failure = [f"✗ {title}: {len(passed)} of {len(cases)} cases passed; this one raised an error:",
                           f"    case:     {case.description}",
                           f"    error:    {type(exc).__name__}: {show(str(exc), 300)}"]
            else:
                passed.append(case.description)
                continue
            found = _diagnose(exercise, fn, cases, index, guard, shared, names, seconds)
            result.mistake = found.name if found else None
            result.failed_case = shown.description
            result.attempt = _failed_attempts[name] = _failed_attempts.get(name, 0) + 1
            hints, result.hint_level = _hint_lines(shown, result.attempt, shown.formula or formula, found)
            messages.extend(failure + hints)
            break
        else:
            result.passed = True
            messages.append(f"✓ {title}: all {len(cases)} cases passed.")
        if passed and not result.passed:
            messages.insert(0, f"  passed: {'; '.join(passed)}")
        if not result.not_written:
            _last_passed[exercise] = result.passed
            _exercise_of[name] = exercise
    if not quiet:
        print("\n".join(messages))
    return result


def _is_unwritten(exc: NotImplementedError) -> bool:
    return str(exc).startswith("Exercise ")


_DECLARED_FALLBACK = object()  # `use` without fallback=: the one declared with the exercise's check


def use(student_fn: Callable, *, fallback: Callable = _DECLARED_FALLBACK, exercise: str) -> Callable:
    """The student's function, or labkit's ``fallback`` while the exercise is not written.

    Without ``fallback`` it is the one declared with the exercise's check (`Exercise.fallback`), so
    ``check.use(lif_update, exercise="1.1")`` is enough.

    The returned callable calls ``student_fn``; when it raises the exercise's own
    ``NotImplementedError("Exercise N.M: ...")`` it calls ``fallback`` with the same arguments
    instead, and the first time prints "Exercise N.M not written yet: using labkit's version".
    Any other error of the student's code is raised as usual. When the exercise's last check
    failed, the first call says that the cells below use the student's version anyway.
    """
    if fallback is _DECLARED_FALLBACK:
        declared = DECLARED.get(exercise)
        fallback = declared.fallback if declared is not None else None
        if fallback is None:
            raise TypeError(f"exercise {exercise!r} declares no fallback: pass labkit's function to fall back to, "
                            "check.use(..., fallback=..., exercise=...)")
    if not callable(fallback):
        raise TypeError(f"check.use(..., fallback=...) needs labkit's function to fall back to, got {show(fallback)}")
    if not callable(student_fn):
        raise TypeError(f"check.use needs the exercise's function itself (not its result), got {show(student_fn)}")
    said: set[str] = set()

    def say_once(key: str, text: str) -> None:
        if key not in said:
            said.add(key)
            print(text)

    @functools.wraps(student_fn)
    def run(*args, **kwargs):
        try:
            out = student_fn(*args, **kwargs)
        except NotImplementedError as exc:
            if not _is_unwritten(exc):
                raise
            say_once("fallback", f"Exercise {exercise} not written yet: using labkit's version")
            return fallback(*args, **kwargs)
        if _last_passed.get(exercise) is False:
            say_once("failed", f"Exercise {exercise} did not pass its check yet: the cells below use your version "
                               "anyway (run the check again to see what is left)")
        return out

    run.exercise, run.student, run.fallback = exercise, student_fn, fallback
    return run


# ----------------------------------------------------------------------------- expectations


def numeric(got, what: str) -> np.ndarray:
    """``got`` as a float64 array, or `Mismatch` when it is not an array or tensor of numbers."""
    try:
        a = to_numpy(got)
    except (TypeError, ValueError, RuntimeError):
        raise Mismatch(f"{what}: an array or tensor", show(got)) from None
    if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        raise Mismatch(f"{what}: an array or tensor of numbers", show(got))
    return a.astype(np.float64)


def _index(idx: tuple) -> str:
    return "[" + ", ".join(str(int(i)) for i in idx) + "]"


def expect_close(got, expected, what: str, *, atol: float = 1e-6, rtol: float = 1e-6) -> None:
    """`Mismatch` unless ``got`` has ``expected``'s shape and values (within the tolerances).

    A difference is shown as the first differing index with both values and both shapes, so that
    a long tensor is never cut short.
    """
    g, e = numeric(got, what), np.asarray(to_numpy(expected), dtype=np.float64)
    if g.shape != e.shape:
        raise Mismatch(f"{what} of shape {tuple(e.shape)}", f"shape {tuple(g.shape)}: {show(got)}")
    close = np.isclose(g, e, atol=atol, rtol=rtol, equal_nan=False)
    if close.all():
        return
    if e.ndim == 0:
        raise Mismatch(f"{what} = {float(e):.10g}", f"{float(g):.10g}")
    idx = tuple(np.argwhere(~close)[0])
    count = f"{int((~close).sum())} of {e.size} entries differ"
    raise Mismatch(f"{what}{_index(idx)} = {e[idx]:.10g} (shape {tuple(e.shape)}; {count})"
                   + (f"; all expected: {show(e)}" if e.size <= 12 else ""),
                   f"{what}{_index(idx)} = {g[idx]:.10g} (shape {tuple(g.shape)})"
                   + (f"; all: {show(g)}" if g.size <= 12 else ""))


def expect_equal(got, expected, what: str) -> None:
    """`expect_close` with no tolerance."""
    expect_close(got, expected, what, atol=0.0, rtol=0.0)


def expect_pair(got, what: tuple[str, str]) -> tuple:
    """``got`` as a 2-tuple, or `Mismatch` naming the two values expected."""
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise Mismatch(f"a pair ({what[0]}, {what[1]})", show(got))
    return tuple(got)


def snapshot(*xs) -> list:
    """Copies of the arguments, to compare with after the student's function ran."""
    return [x.clone() if isinstance(x, torch.Tensor) else np.array(x, copy=True) for x in xs]


def expect_unchanged(before, after, names: str) -> None:
    """`Mismatch` when the function modified an argument in place."""
    for b, a in zip(before, after):
        same = torch.equal(b, a) if isinstance(b, torch.Tensor) else np.array_equal(b, a)
        if not same:
            raise Mismatch(f"{names} left as they were", "an argument was modified in place")
