"""How a check calls the student's function: on copies of its inputs, within a time limit, recording what
came back so that a wrong answer can be matched against the catalogue of known mistakes.

* **Copies first.** `Guard` hands the student's function deep copies of the case's arrays, tensors,
  lists, dicts and random generators, so the case computes its expected answer from data the
  student's code never touched. After the call it compares the copies with the originals: a function
  that changed an input in place fails at once with "the inputs are left unchanged", before its
  answer is looked at. Arguments a function is *meant* to change (a model, an optimiser, a list of
  state tensors) are named in ``shared`` and passed on as they are.
* **A time limit.** `time_limit` raises `TimeLimit` (a `BaseException`, so that a student's
  ``except Exception`` cannot swallow it) in the main thread after a few seconds, through
  ``SIGALRM`` (Linux and macOS, the Jupyter kernel's main thread); elsewhere the call runs unlimited.
* **A record.** Every call is recorded as a frozen copy of its answer and of the shared arguments'
  state after it (`freeze`), or the name of the exception it raised; `same` compares two records.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import signal
import threading
from collections.abc import Callable, Iterable

import numpy as np
import torch

__all__ = ["Guard", "InputsModified", "StudentExit", "TimeLimit", "freeze", "same", "time_limit"]


class TimeLimit(BaseException):
    """The student's function ran past the case's time limit."""


class StudentExit(Exception):
    """The student's function called ``sys.exit()`` (or raised `SystemExit`)."""


class InputsModified(Exception):
    """The student's function changed one of its inputs in place."""

    def __init__(self, names: list[str]):
        super().__init__(", ".join(names))
        self.names = names


@contextlib.contextmanager
def time_limit(seconds: float | None):
    """Raise `TimeLimit` in the block after ``seconds`` (None: no limit; only in the main thread with SIGALRM)."""
    if (seconds is None or not hasattr(signal, "setitimer")
            or threading.current_thread() is not threading.main_thread()):
        yield
        return

    def on_alarm(signum, frame):
        raise TimeLimit(f"no answer within {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# ----------------------------------------------------------------------------- copies


def _copy(x, memo: dict):
    """A copy of ``x`` that shares nothing the student could change (see the module's docstring)."""
    key = id(x)
    if key in memo:
        return memo[key]
    if isinstance(x, torch.Tensor):
        out = x if x.requires_grad else x.clone()  # a tensor in a graph must stay in it (backward)
    elif isinstance(x, np.ndarray):
        out = x.copy()
    elif isinstance(x, torch.Generator):
        out = torch.Generator(device=x.device)
        out.set_state(x.get_state())
    elif type(x) in (list, tuple):
        out = type(x)(_copy(v, memo) for v in x)
    elif type(x) is dict:
        out = {k: _copy(v, memo) for k, v in x.items()}
    else:
        out = x  # numbers, strings, functions, frozen records, models: passed on as they are
    memo[key] = out
    return out


def _unchanged(a, b) -> bool:
    """True when the copy ``b`` still equals the original ``a`` (exactly, NaN equal to NaN)."""
    if isinstance(a, torch.Tensor):
        if not isinstance(b, torch.Tensor) or a.shape != b.shape or a.dtype != b.dtype:
            return False
        a, b = a.detach(), b.detach()
        if torch.equal(a, b):
            return True
        nan = torch.isnan(a) if a.is_floating_point() else None
        return nan is not None and torch.equal(nan, torch.isnan(b)) and torch.equal(a[~nan], b[~nan])
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and (
            np.array_equal(a, b, equal_nan=a.dtype.kind in "fc") if a.dtype.kind in "fc" else np.array_equal(a, b))
    if type(a) in (list, tuple):
        return type(b) is type(a) and len(a) == len(b) and all(_unchanged(u, v) for u, v in zip(a, b))
    if type(a) is dict:
        return type(b) is dict and a.keys() == b.keys() and all(_unchanged(a[k], b[k]) for k in a)
    if isinstance(a, torch.Generator):
        return True  # drawing numbers is what a generator is for
    return True


# ----------------------------------------------------------------------------- records


def freeze(x):
    """A comparable, independent copy of ``x``: arrays and tensors as (kind, float64 values), containers
    element by element, a model by its parameters, numbers by kind and value."""
    if isinstance(x, torch.Tensor):
        return ("tensor", x.detach().cpu().to(torch.float64).numpy().copy() if x.dtype != torch.bool
                else x.detach().cpu().numpy().astype(np.float64))
    if isinstance(x, np.ndarray):
        if x.dtype.names:  # a structured array (events)
            return ("records", x.copy())
        try:
            return ("array", x.astype(np.float64))
        except (TypeError, ValueError):
            return ("array", repr(x))
    if isinstance(x, torch.nn.Module):
        return ("module", tuple(freeze(p) for p in x.parameters()))
    if isinstance(x, bool):
        return ("bool", x)
    if isinstance(x, numbers.Integral):
        return ("int", int(x))
    if isinstance(x, numbers.Real):
        return ("float", float(x))
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, tuple(freeze(v) for v in x))
    if isinstance(x, dict):
        return ("dict", tuple((k, freeze(v)) for k, v in x.items()))
    if x is None or isinstance(x, str):
        return ("value", x)
    return ("object", type(x).__name__)


def same(a, b) -> bool:
    """Do the frozen records ``a`` and ``b`` agree (values to 1e-6 relative, 1e-9 absolute)?"""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        if a.dtype.names:
            return bool(np.array_equal(a, b))
        return bool(np.allclose(a, b, rtol=1e-6, atol=1e-9, equal_nan=True))
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)
    if isinstance(a, tuple):
        return len(a) == len(b) and all(same(u, v) for u, v in zip(a, b))
    return a == b


class Guard:
    """Calls ``fn`` the way a check should (see the module's docstring) and records every call.

    Args:
        fn: the student's function (or a catalogued wrong one).
        shared: positions and keyword names of the arguments the function is meant to change.
        names: the arguments' names by position, for the message about an input changed in place.
    """

    def __init__(self, fn: Callable, *, shared: Iterable[int | str] = (), names: tuple[str, ...] = ()):
        self.fn, self.shared, self.names = fn, frozenset(shared), names
        self.calls: list = []
        self.__name__ = getattr(fn, "__name__", "function")
        for attribute in ("record_model",):
            if hasattr(fn, attribute):
                setattr(self, attribute, getattr(fn, attribute))

    def _name(self, key: int | str) -> str:
        if isinstance(key, int):
            return self.names[key] if key < len(self.names) else f"argument {key + 1}"
        return key

    def __call__(self, *args, **kwargs):
        memo: dict = {}
        copies = [a if k in self.shared else _copy(a, memo) for k, a in enumerate(args)]
        kw = {k: v if k in self.shared else _copy(v, memo) for k, v in kwargs.items()}
        try:
            out = self.fn(*copies, **kw)
        except SystemExit as exc:
            self.calls.append(("raised", "SystemExit"))
            raise StudentExit(f"sys.exit({exc.code!r})" if exc.code is not None else "sys.exit()") from None
        except (Exception, TimeLimit) as exc:
            self.calls.append(("raised", type(exc).__name__))
            raise
        state = tuple(freeze(args[k]) for k in sorted(k for k in self.shared if isinstance(k, int)) if k < len(args))
        changed = [self._name(k) for k, (a, c) in enumerate(zip(args, copies))
                   if k not in self.shared and not _unchanged(a, c)]
        changed += [k for k, v in kwargs.items() if k not in self.shared and not _unchanged(v, kw[k])]
        self.calls.append(("returned", freeze(out), state, tuple(changed)))
        if changed:
            raise InputsModified(changed)
        return out

    def matches(self, other: "Guard") -> bool:
        """Did this guard's calls give what ``other``'s gave, call for call, as far as ``other`` got?"""
        if not other.calls or len(self.calls) < len(other.calls):
            return False
        return all(same(a, b) for a, b in zip(self.calls, other.calls))

