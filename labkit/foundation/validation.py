"""Argument checks with one phrasing per kind of error.

Every check raises `LabkitError` (a `ValueError`) whose message names the argument, says what
it must be (the remedy: pass such a value) and shows what it got, always in the same words:

* ``{name} must be an integer >= {lo}`` / ``in [{lo}, {hi}]``, ``got {value!r}``               (`check_int`)
* ``{name} must be a finite number >= {lo}`` / ``> {lo}`` / ``in [{lo}, {hi})`` …, ``got …``  (`check_number`)
* ``{name} must be 'a', 'b' or 'c', got {value!r}``                                          (`check_choice`)
* ``{name} must be a {Type}, got an {OtherType}``                                            (`check_type`)
* ``{low_name} must be < {high_name}, got {low!r} and {high!r}``                               (`check_order`)

A note in parentheses after the bounds gives the unit or meaning (``(µs)``, ``(decay per step)``).
``name`` is what the user wrote: ``"epochs"`` for an argument, ``"LIFParams.beta"`` for a field.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Iterable

from .errors import LabkitError

__all__ = ["check_choice", "check_int", "check_number", "check_order", "check_type", "one_of"]


def _a(noun: str) -> str:
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def _note(unit: str | None) -> str:
    return f" ({unit})" if unit else ""


def check_int(name: str, value: Any, minimum: int = 1, *, maximum: int | None = None, allow_none: bool = False,
              unit: str | None = None) -> Any:
    """An integer (not a bool) >= ``minimum`` (and <= ``maximum``); returns ``value``."""
    if value is None and allow_none:
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum or (
            maximum is not None and value > maximum):
        bounds = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
        raise LabkitError(f"{name} must be an integer {bounds}{' or None' if allow_none else ''}{_note(unit)}, "
                          f"got {value!r}")
    return value


def check_number(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    above: bool = False,
    below: bool = False,
    finite: bool = True,
    unit: str | None = None,
) -> float:
    """A real number (not a bool; finite unless ``finite=False``) in the given bounds; returns ``float(value)``.

    ``minimum`` alone reads ">= minimum" (``above=True``: "> minimum"), ``maximum`` alone "<= maximum"
    (``below=True``: "< maximum"); both read as an interval, "in [minimum, maximum]", with a round
    bracket on an open end. ``finite=False`` admits ±inf within the bounds (never nan).
    """
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and not math.isnan(value)
    ok = ok and (math.isfinite(value) or not finite)
    if ok and minimum is not None:
        ok = value > minimum if above else value >= minimum
    if ok and maximum is not None:
        ok = value < maximum if below else value <= maximum
    if not ok:
        if minimum is not None and maximum is not None:
            bounds = f" in {'(' if above else '['}{minimum:g}, {maximum:g}{')' if below else ']'}"
        elif minimum is not None:
            bounds = f" {'>' if above else '>='} {minimum:g}"
        elif maximum is not None:
            bounds = f" {'<' if below else '<='} {maximum:g}"
        else:
            bounds = ""
        kind = "a finite number" if finite else "a number"
        raise LabkitError(f"{name} must be {kind}{bounds}{_note(unit)}, got {value!r}")
    return float(value)


def one_of(choices: Iterable[Any]) -> str:
    """``'a', 'b' or 'c'``: the choices as a message lists them."""
    quoted = [repr(c) for c in choices]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def check_choice(name: str, value: Any, choices: Iterable[Any], *, unit: str | None = None) -> Any:
    """One of ``choices``; returns ``value``."""
    choices = tuple(choices)
    if value not in choices:
        raise LabkitError(f"{name} must be {one_of(choices)}{_note(unit)}, got {value!r}")
    return value


def check_type(name: str, value: Any, kind: type) -> Any:
    """An instance of ``kind``; returns ``value``."""
    if not isinstance(value, kind):
        raise LabkitError(f"{name} must be {_a(kind.__name__)}, got {_a(type(value).__name__)}")
    return value


def check_order(low_name: str, low: Any, high_name: str, high: Any, *, unit: str | None = None) -> None:
    """``low < high`` for two settings that bound a range (each already checked on its own)."""
    if not low < high:
        raise LabkitError(f"{low_name} must be < {high_name}{_note(unit)}, got {low!r} and {high!r}")
