"""The one list of the chapters' exercises, collected from their checks: number, function, contract, check,
labkit's version to fall back to, and catalogue of mistakes.

Each check declares its exercise where it is written (`core.exercise`) and registers its catalogue of
mistakes beside it (`core.mistake`). Importing this module imports every module of `labkit.check`
(found by listing the package, so a new module of checks needs no line anywhere else) and sorts
their declarations by exercise number into `EXERCISES`. The table of exercises (`table`),
``labkit.check``'s names and documentation, ``check.reference``, `core.use` and the tests all
read `EXERCISES`.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from . import core
from .core import Exercise

__all__ = ["EXERCISES", "Exercise", "by_name", "by_number", "table"]


def _import_checks() -> None:
    """Import every module of this package, so that each check's `core.exercise` declaration has run."""
    package = __name__.rpartition(".")[0]
    for module in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if f"{package}.{module.name}" != __name__:
            importlib.import_module(f"{package}.{module.name}")


def _order(exercise: Exercise) -> tuple[int, ...]:
    return tuple(int(part) for part in exercise.number.split("."))


_import_checks()

#: every declared exercise, by number (1.2 before 1.10)
EXERCISES: tuple[Exercise, ...] = tuple(sorted(core.DECLARED.values(), key=_order))


def by_number(number: str) -> Exercise:
    """The exercise numbered ``number`` (KeyError naming the numbers there are)."""
    for exercise in EXERCISES:
        if exercise.number == number:
            return exercise
    raise KeyError(f"no exercise {number!r}; the exercises are {', '.join(e.number for e in EXERCISES)}")


def by_name(name: str) -> Exercise:
    """The exercise whose function is called ``name``."""
    for exercise in EXERCISES:
        if exercise.name == name:
            return exercise
    raise KeyError(f"no exercise writes a function {name!r}")


def table() -> str:
    """The exercises as a Markdown table: number, check, contract and how many mistakes its catalogue knows."""
    rows = ["| exercise | check | contract | mistakes catalogued |", "| --- | --- | --- | --- |"]
    rows += [f"| {e.number} | `{e.name}` | ``{e.contract}`` | {len(e.mistakes)} |" for e in EXERCISES]
    return "\n".join(rows)
