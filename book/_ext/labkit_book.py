"""A small Sphinx extension for the lab's book (loaded through _config.yml's local_extensions).

It removes duplicate inline scripts from each page. sphinx-thebe and sphinx-togglebutton register
their configuration scripts (``const THEBE_JS_URL = ...``) in two ways, so a page carries them twice, and
the browser then stops with "Identifier 'THEBE_JS_URL' has already been declared". Scripts
with a file name are already unique; this makes inline ones unique too, keeping the first.
"""

from __future__ import annotations


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
    # Late priority: after sphinx.ext.mathjax and myst-nb add their per-page scripts.
    app.connect("html-page-context", _unique_scripts, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
