"""Self-checks for the chapters' exercises.

Each exercise in the notebooks has a check of the same name::

    from labkit import check
    check.lif_update(lif_update)

A check runs the function on cases with known answers, from the ordinary to the edge cases,
and prints a verdict: which cases passed, the first one that failed (expected against got) and
a hint. It never prints a solution. A stub that still raises ``NotImplementedError`` gets
"not written yet" with the exercise's own message, not a traceback. The check returns a
`CheckResult` (``passed``, ``messages``) so that tests can inspect it.

Reference answers come from labkit's own functions where they exist (``lif_step``,
``traces``, ``ATan``, ``effective_synaptic_ops``, ``loihi.quantize.quantize_weights``) and
otherwise from short independent formulas written here.

One module per concept (`~labkit.check.lif`, `~labkit.check.rate_code`, …; the list below is made from
the registry), each declaring its exercises on their checks (`~labkit.check.core.exercise`: number,
contract and labkit's version to fall back to); the verdicts, hints and expectations they share are in
`~labkit.check.core`. `~labkit.check.reference` gives each exercise's fallback by the exercise's name,
for `use`.

Every check calls the student's function on copies of its inputs (an input changed in place fails
first), within a time limit, and matches a wrong answer against the exercise's catalogue of known
mistakes (`~labkit.check.core.mistake`) to name the mistake in its hint. `~labkit.check.registry.EXERCISES`
collects the declarations of every module of this package; this package's names (``check.lif_update``,
``from labkit.check import lif_update``) and the table below are made from it when the package is imported.

"""

from __future__ import annotations

from . import reference, registry
from .core import CheckResult, attempts, reset, use

#: every exercise's check, by the name of the function the student writes
_CHECKS = {e.name: e.check for e in registry.EXERCISES}
globals().update(_CHECKS)  # over the modules of the same name (labkit.check.astdp_step is the check)

_MODULES = sorted({e.check.__module__ for e in registry.EXERCISES})
__doc__ += "\nThe modules of checks: " + ", ".join(f"`~{m}`" for m in _MODULES) + ".\n\n" + registry.table() + "\n"

__all__ = ["CheckResult", "attempts", "reset", "use", "reference", "registry", *sorted(_CHECKS)]
