"""Spread the repository's public address from the one place that holds it to where it is used.

    .venv/bin/python scripts/sync_repository.py            # after changing [tool.labkit] repository
    flock /tmp/notebooks.lock .venv/bin/python scripts/sync_repository.py   # where others edit notebooks

The one place is ``[tool.labkit] repository`` in pyproject.toml (empty while the lab has no public
home). From it come: setup.py's project URLs and the book's launch buttons and repository link
(scripts/build_book.py reads it when the book is built), and, written by this script:

* the first code cell of every chapter (tag ``install-labkit``): it installs labkit only when
  ``import labkit`` fails, as on Colab, and does nothing where labkit is installed. The cell is
  inserted after the chapter's title, or updated in place; nothing else in the notebook changes,
  and its stored output stays empty (what it prints where labkit is installed);
* the launch badges between the ``launch-badges`` markers of README.md;
* ``repository-code`` in CITATION.cff.

Idempotent: a second run changes nothing.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
INSTALL_TAG = "install-labkit"
BADGES = re.compile(r"(<!-- launch-badges -->\n).*?(<!-- /launch-badges -->)", re.S)
CHAPTER = re.compile(r"^\d\d_[A-Za-z0-9_]+\.ipynb$")


def repository(pyproject: Path = ROOT / "pyproject.toml") -> str:
    """The public address (``https://github.com/ORG/NAME``), or "" while it is unset."""
    config = tomllib.loads(pyproject.read_text())
    return str(config.get("tool", {}).get("labkit", {}).get("repository", "")).strip().rstrip("/")


def install_cell_source(url: str) -> str:
    """The chapters' first code cell: install labkit where it is missing (Colab), else nothing."""
    if url:
        missing = ("    import subprocess\n"
                   "    import sys\n\n"
                   f'    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "labkit @ git+{url}"], check=True)\n'
                   "    import labkit  # noqa: F401")
    else:  # no public address to install from: say what to do
        missing = ('    raise ModuleNotFoundError("labkit is not installed in this kernel: run `pip install .` in a copy '
                   'of the lab\'s repository, or choose the kernel of the environment that has it") from None')
    return ("# Runs anywhere: where labkit is missing (Colab, a fresh kernel) this installs it; elsewhere it does nothing.\n"
            "try:\n"
            "    import labkit  # noqa: F401\n"
            "except ImportError:\n"
            f"{missing}")


def write_install_cell(path: Path, url: str) -> bool:
    """Insert or update the install cell of one notebook; True when the file changed."""
    nb = nbformat.read(path, as_version=4)
    source = install_cell_source(url)
    cell = next((c for c in nb.cells if INSTALL_TAG in c.get("metadata", {}).get("tags", [])), None)
    if cell is None:
        cell = nbformat.v4.new_code_cell(source)
        cell.id = INSTALL_TAG
        at = 1 if nb.cells and nb.cells[0].cell_type == "markdown" else 0  # after the title
        nb.cells.insert(at, cell)
    elif cell.source == source:
        return False
    cell.source = source
    cell.outputs = []
    cell.execution_count = None
    # remove-cell: the book is for reading, the cell is for running; the student edition keeps it
    tags = cell.metadata.setdefault("tags", [])
    for tag in (INSTALL_TAG, "remove-cell"):
        if tag not in tags:
            tags.append(tag)
    nbformat.validate(nb)
    text = nbformat.writes(nb) + "\n"
    path.write_text(text)
    return True


def badges(url: str) -> str:
    """README launch badges (Binder, Colab), or a note while the address is unset."""
    if not url:
        return ("<!-- No badges yet: set [tool.labkit] repository in pyproject.toml and run "
                "scripts/sync_repository.py. -->\n")
    github = re.match(r"https://github\.com/([^/]+/[^/]+)$", url)
    lines = [f"[![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/{github.group(1)}/main"
             f"?urlpath=lab/tree/notebooks/00_welcome.ipynb)"] if github else []
    if github:
        lines.append(f"[![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
                     f"(https://colab.research.google.com/github/{github.group(1)}/blob/main/notebooks/00_welcome.ipynb)")
    lines.append(f"[Repository]({url})")
    return " ".join(lines) + "\n"


def sync_readme(url: str, path: Path = ROOT / "README.md") -> bool:
    text = path.read_text()
    new = BADGES.sub(lambda m: m.group(1) + badges(url) + m.group(2), text)
    if new != text:
        path.write_text(new)
    return new != text


def sync_citation(url: str, path: Path = ROOT / "CITATION.cff") -> bool:
    text = path.read_text()
    new = re.sub(r"^repository-code: .*\n", "", text, flags=re.M)
    if url:
        new = new.replace("\nlicense: MIT\n", f"\nlicense: MIT\nrepository-code: \"{url}\"\n")
    if new != text:
        path.write_text(new)
    return new != text


def main(argv: list[str] | None = None) -> int:
    url = repository()
    changed = [p.name for p in sorted((ROOT / "notebooks").glob("*.ipynb"))
               if CHAPTER.match(p.name) and write_install_cell(p, url)]
    changed += [name for name, done in (("README.md", sync_readme(url)), ("CITATION.cff", sync_citation(url))) if done]
    print(f"repository: {url or '(unset: launch buttons and badges stay hidden)'}")
    print("updated: " + (", ".join(changed) if changed else "nothing (already in step)"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
