"""Interactive dashboards for the chapters (ipywidgets).

Each dashboard is a pure *view* function (slider values in, ``matplotlib.figure.Figure`` out,
no pyplot and no global state) plus a thin ipywidgets wrapper that redraws the view into an
``Output`` when a control changes. A setting the model rejects shows its message in that
output instead of a traceback. Tests call the view functions directly, at every slider's ends.

One module per concept (`~labkit.widgets.neurons`, `~labkit.widgets.coding`, …), what they share in
`~labkit.widgets.core`. Every name a module lists in its ``__all__`` is also a name of this package
(``from labkit.widgets import alif_explorer``), collected when the package is imported, so a new
module or view needs no line here.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path


def _exports() -> dict[str, object]:
    """name -> object: every name in the ``__all__`` of every module of this package (ValueError on a name
    that two modules give)."""
    found: dict[str, object] = {}
    owner: dict[str, str] = {}
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for name in module.__all__:
            if name in owner:
                raise ValueError(f"labkit.widgets.{owner[name]} and labkit.widgets.{info.name} both export {name!r}: "
                                 "rename one of them")
            found[name], owner[name] = getattr(module, name), info.name
    return found


_EXPORTS = _exports()
globals().update(_EXPORTS)
__doc__ += "\nThe modules: " + ", ".join(f"`~{__name__}.{info.name}`"
                                          for info in pkgutil.iter_modules([str(Path(__file__).parent)])) + ".\n"

__all__ = sorted(_EXPORTS)
