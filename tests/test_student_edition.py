"""The whole student edition runs: every chapter, as `labkit student` writes it (stubs unwritten,
solutions as text), executes from top to bottom in fast mode from a folder outside the repository
without an error. Cells after an exercise fall back to labkit's version and say so."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

from labkit.exercises import find_exercises, write_student_edition

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
CHAPTERS = sorted(p.name for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
# Chapters whose student edition still stops with an error (#20: they call an unwritten stub
# without check.use). Strict: a chapter that is fixed fails here until it is taken off the list.
STILL_BREAKING: set[str] = set()


@pytest.fixture(scope="module")
def edition(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("work")
    write_student_edition(NOTEBOOKS, out)
    return out


def _printed(nb) -> str:
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                   if o.get("output_type") == "stream")


@pytest.mark.slow
@pytest.mark.parametrize("chapter", [
    pytest.param(c, marks=[pytest.mark.xfail(strict=True, reason="calls an unwritten stub")] if c in STILL_BREAKING else [])
    for c in CHAPTERS])
def test_student_chapter_runs_top_to_bottom_with_the_stubs_unwritten(chapter, edition, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("LABKIT_FAST", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("PYTHONHASHSEED", "0")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(NOTEBOOKS.parent), os.environ.get("PYTHONPATH")])))
    path = edition / chapter
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=900, kernel_name="python3", allow_errors=False,
                   resources={"metadata": {"path": str(edition)}}).execute()
    printed = _printed(nb)
    for ex in find_exercises(nb):
        assert f"Exercise {ex.number}" in printed and "not written yet" in printed, \
            f"{chapter}: the check of the unwritten exercise {ex.number} says so"
