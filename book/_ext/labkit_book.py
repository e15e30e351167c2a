"""A small Sphinx extension for the lab's book (loaded through _config.yml's local_extensions).

On every notebook page it

* labels the toggle of a collapsed solution (a cell tagged ``solution``) "Show solution" /
  "Hide solution" instead of myst-nb's "Show code cell content";
* strips nbval's marker comments (``# NBVAL_CHECK_OUTPUT`` and the like) from the code shown:
  they are for the test suite, not for readers;
* puts a note under every widget drawn from saved state: it looks live but needs a running
  kernel, and the note says how to get one (the launch buttons, when the repository's public
  address is set, or `make lab`).

And it removes duplicate inline scripts from each page. sphinx-thebe and sphinx-togglebutton register
their configuration scripts (``const THEBE_JS_URL = ...``) in two ways, so a page carries them twice, and
the browser then stops with "Identifier 'THEBE_JS_URL' has already been declared". Scripts
with a file name are already unique; this makes inline ones unique too, keeping the first.
"""

from __future__ import annotations

import re

from docutils import nodes
from sphinx.transforms.post_transforms import SphinxPostTransform

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
NBVAL_MARKER = re.compile(r"^[ \t]*# NBVAL_[A-Z_]+[ \t]*\n?", re.M)


def widget_note(repository: str) -> list[nodes.Node]:
    """What a reader sees under a widget that the book shows from its saved state."""
    how = ([nodes.Text("launch this chapter with the rocket button at the top of the page (Binder or Colab), "
                       "or run it on your own machine with "), nodes.literal("", "make lab")] if repository else
           [nodes.Text("run this chapter on your own machine: "), nodes.literal("", "make lab"),
            nodes.Text(" in a copy of the lab's repository")])
    return [nodes.Text("This control is a still picture: moving it needs a running Python kernel. To use it, "),
            *how, nodes.Text(".")]


def _tags(container: nodes.Element) -> list[str]:
    return list((container.get("cell_metadata") or {}).get("tags", []))


class NotebookPageTouches(SphinxPostTransform):
    """Solution toggles, nbval markers and widget notes (runs before myst-nb wraps hidden cells, at 199)."""

    default_priority = 190
    formats = ("html",)

    def run(self, **kwargs) -> None:
        show, hide = self.config.labkit_solution_prompts
        repository = self.config.labkit_repository
        for cell in list(self.document.findall(nodes.container)):
            if cell.get("nb_element") != "cell_code":
                continue
            if "solution" in _tags(cell) and cell.get("hide_mode"):
                cell["prompt_show"], cell["prompt_hide"] = show, hide
            for block in cell.findall(nodes.literal_block):
                text = block.astext()
                if "NBVAL_" in text:
                    stripped = NBVAL_MARKER.sub("", text)
                    block.children = [nodes.Text(stripped)]
                    block.rawsource = stripped
            for output in [c for c in cell.children if c.get("nb_element") == "cell_code_output"]:
                if any(WIDGET_VIEW in raw.astext() for raw in output.findall(nodes.raw)):
                    output.append(nodes.paragraph("", "", *widget_note(repository), classes=["labkit-widget-note"]))


def _unique_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        attributes = getattr(script, "attributes", {}) or {}
        # Sphinx compares scripts including their priority; the same script added twice
        # with two priorities (or with a file name of None and of "") is still the same script.
        key = (str(getattr(script, "filename", script) or ""), tuple(sorted((k, str(v)) for k, v in attributes.items())))
        if key in seen:
            continue
        seen.add(key)
        unique.append(script)
    scripts[:] = unique


def setup(app):
    app.add_config_value("labkit_repository", "", "html")
    app.add_config_value("labkit_solution_prompts", ["Show solution", "Hide solution"], "html")
    app.add_post_transform(NotebookPageTouches)
    # Late priority: after sphinx.ext.mathjax and myst-nb add their per-page scripts.
    app.connect("html-page-context", _unique_scripts, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
