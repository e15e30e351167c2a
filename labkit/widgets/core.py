"""What every dashboard shares: a view drawn into an ipywidgets Output, a message instead of a traceback."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable

import ipywidgets as widgets
from matplotlib.figure import Figure

__all__ = ["dashboard", "figure_bundle", "render_view"]


def figure_bundle(fig: Figure) -> dict:
    """A Jupyter ``display_data`` output holding the figure as PNG (works with or without a kernel)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    return {
        "output_type": "display_data",
        "data": {"image/png": base64.b64encode(buf.getvalue()).decode("ascii"), "text/plain": "<Figure>"},
        "metadata": {},
    }


def render_view(out: widgets.Output, view: Callable[..., Figure], /, **values) -> bool:
    """Draw ``view(**values)`` into ``out``; on a bad value show the error message instead.

    Returns True when a figure was drawn. Only `ValueError` and `TypeError` (the errors the
    lab raises for invalid parameters, `labkit.foundation.errors.LabkitError` among them) and
    `MemoryError` (a setting too large for this machine, past the views' own memory checks) are
    turned into messages; anything else is a bug and raises.
    """
    try:
        fig = view(**values)
    except (ValueError, TypeError) as exc:
        out.outputs = ({"output_type": "stream", "name": "stdout", "text": f"Cannot draw this setting: {exc}\n"},)
        return False
    except MemoryError:
        out.outputs = ({"output_type": "stream", "name": "stdout",
                        "text": "Cannot draw this setting: it needs more memory than this machine has; move the "
                                "sliders back towards their defaults\n"},)
        return False
    out.outputs = (figure_bundle(fig),)
    return True


def dashboard(view: Callable[..., Figure], controls: dict[str, widgets.Widget], fixed: dict | None = None,
               *, initial: dict | None = None, columns: int = 3) -> widgets.VBox:
    """Controls above an Output; any change redraws ``view(**control values, **fixed)``.

    The first drawing uses ``initial`` (the values the caller asked for) where given: a slider
    silently clamps a value outside its range, and the caller should see the message instead.
    """
    out = widgets.Output(layout=widgets.Layout(min_height="300px"))
    fixed = dict(fixed or {})

    def redraw(_change=None, overrides: dict | None = None) -> None:
        values = {name: c.value for name, c in controls.items()} | (overrides or {})
        render_view(out, view, **values, **fixed)

    for control in controls.values():
        control.observe(redraw, names="value")
    items = list(controls.values())
    rows = [widgets.HBox(items[k : k + columns]) for k in range(0, len(items), columns)]
    box = widgets.VBox([*rows, out])
    redraw(overrides=initial)
    return box
