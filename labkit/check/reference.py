"""labkit's version of every exercise, by the exercise's name: the fallback its check declares.

``check.reference.lif_update`` is exercise 1.1's fallback, declared beside its check in
`~labkit.check.lif` (``@exercise("1.1", ..., fallback=labkit_lif_update)``). Where labkit has a
function of the exercise's call shape, that function is the fallback itself
(``check.reference.stdp_change`` is `labkit.stdp.stdp_update`); otherwise the check's
module holds a short one (``labkit_<name>``) that calls labkit's own. `check.use` runs it while
the student's function is not written::

    step = check.use(train_step, fallback=check.reference.train_step, exercise="4.3")
    step = check.use(train_step, exercise="4.3")    # the same: the declared fallback

A fallback is also found by its own name (chapter 5 calls exercise 5.2's
``check.reference.coefficient_update``). Nothing is listed here: the names are read from
`~labkit.check.registry.EXERCISES` when they are asked for.
"""

from __future__ import annotations

from collections.abc import Callable

from . import registry


def _fallbacks() -> dict[str, Callable]:
    """name -> fallback: each exercise's by its name, then each fallback by its own name (never overriding)."""
    found = {e.name: e.fallback for e in registry.EXERCISES if e.fallback is not None}
    for e in registry.EXERCISES:
        own = getattr(e.fallback, "__name__", "")
        if own.isidentifier() and not own.startswith("_"):
            found.setdefault(own, e.fallback)
    return found


def __getattr__(name: str) -> Callable | list[str]:
    if name == "__all__":
        return [e.name for e in registry.EXERCISES if e.fallback is not None]
    try:
        return _fallbacks()[name]
    except KeyError:
        without = [e.name for e in registry.EXERCISES if e.fallback is None]
        raise AttributeError(f"labkit.check.reference has no {name!r}: it holds the fallback of every exercise that "
                             f"declares one, by the exercise's name (none declared by: {', '.join(without) or '-'})") \
            from None


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_fallbacks()))
