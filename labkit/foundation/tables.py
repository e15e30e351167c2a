"""The one table formatter: rows of dicts as a plain-text or a Markdown table.

Cells: ``None`` is shown as "—", floats with ``float_format`` (plain text: 3 significant
digits; Markdown: 2 decimals, the report's format), everything else with ``str``.
"""

from __future__ import annotations

from typing import Literal, Mapping, Sequence

__all__ = ["format_table"]

_DEFAULT_FLOAT = {"text": "{:.3g}", "markdown": "{:.2f}"}


def format_table(
    rows: Sequence[Mapping],
    columns: Sequence[str] | None = None,
    *,
    style: Literal["text", "markdown"] = "text",
    float_format: str | None = None,
    empty: str | None = None,
) -> str:
    """Format ``rows`` under ``columns`` (default: the keys of the first row).

    Plain text: headers left-aligned, a rule of dashes, values right-aligned, two spaces between
    columns. Markdown: a pipe table. ``empty``, if given, is returned when there are no rows.
    """
    if style not in _DEFAULT_FLOAT:
        raise ValueError(f"style must be 'text' or 'markdown', got {style!r}")
    if not rows and empty is not None:
        return empty
    columns = list(rows[0].keys()) if columns is None and rows else list(columns or [])
    number = float_format or _DEFAULT_FLOAT[style]

    def cell(value) -> str:
        if value is None:
            return "—"
        if isinstance(value, float):
            return number.format(value)
        return str(value)

    body = [[cell(r.get(c)) for c in columns] for r in rows]
    if style == "markdown":
        lines = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
        return "\n".join(lines + ["| " + " | ".join(line) + " |" for line in body])
    widths = [max(len(c), *(len(line[i]) for line in body)) if body else len(c) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths)), "  ".join("-" * w for w in widths)]
    return "\n".join(lines + ["  ".join(v.rjust(w) for v, w in zip(line, widths)) for line in body])
