"""Argument checks with one phrasing per kind of error.

Every check raises `LabkitError` (a `ValueError`) whose message names the argument, says what
it must be and shows what it got, always in the same words:

* ``{name} must be an integer >= {minimum}, got {value!r}``                      (`check_int`)
* ``{name} must be a finite number >= {lo}`` / ``> {lo}`` / ``in [{lo}, {hi}]``  (`check_number`)
* ``{name} must be 'a', 'b' or 'c', got {value!r}``                              (`check_choice`)

``name`` is what the user wrote: ``"epochs"`` for an argument, ``"LIFParams.beta"`` for a field.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Iterable

from .errors import LabkitError

__all__ = ["check_choice", "check_int", "check_number", "one_of"]


def check_int(name: str, value: Any, minimum: int = 1, *, allow_none: bool = False) -> Any:
    """An integer (not a bool) >= ``minimum``; returns ``value``."""
    if value is None and allow_none:
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise LabkitError(f"{name} must be an integer >= {minimum}{' or None' if allow_none else ''}, got {value!r}")
    return value


def check_number(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    above: bool = False,
    unit: str | None = None,
) -> float:
    """A finite real number (not a bool) in the given bounds; returns ``float(value)``.

    ``minimum`` alone reads ">= minimum" (``above=True``: "> minimum"); both bounds read
    "in [minimum, maximum]".
    """
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if ok and minimum is not None:
        ok = value > minimum if above else value >= minimum
    if ok and maximum is not None:
        ok = value <= maximum
    if not ok:
        if minimum is not None and maximum is not None:
            bounds = f" in [{minimum:g}, {maximum:g}]"
        elif minimum is not None:
            bounds = f" {'>' if above else '>='} {minimum:g}"
        elif maximum is not None:
            bounds = f" <= {maximum:g}"
        else:
            bounds = ""
        raise LabkitError(f"{name} must be a finite number{bounds}{f' ({unit})' if unit else ''}, got {value!r}")
    return float(value)


def one_of(choices: Iterable[Any]) -> str:
    """``'a', 'b' or 'c'``: the choices as a message lists them."""
    quoted = [repr(c) for c in choices]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """One of ``choices``; returns ``value``."""
    choices = tuple(choices)
    if value not in choices:
        raise LabkitError(f"{name} must be {one_of(choices)}, got {value!r}")
    return value
