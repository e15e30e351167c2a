"""labkit.exercises: the instructor notebooks hold stub → check → solution → check for every exercise,
and the student edition keeps the stubs and checks but no solution, output or widget state."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

from labkit.cli import main
from labkit.exercises import SOLUTION_CHECK_TAG, SOLUTION_TAG, find_exercises, student_notebook

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
CHAPTERS = sorted(p for p in NOTEBOOKS.glob("*.ipynb") if find_exercises(nbformat.read(p, as_version=4)))
# chapters whose exercises are wired to labkit.check (stub → check → solution → check)
WIRED = {"01_lif_neuron", "02_rate_coding", "03_stdp", "04_surrogate_gradient", "05_astdp", "07_energy", "08_loihi",
         "09_event_data"}


def _tags(cell) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


@pytest.mark.parametrize("path", [p for p in CHAPTERS if p.stem in WIRED], ids=lambda p: p.stem)
def test_instructor_notebook_has_checks_after_stub_and_solution(path):
    nb = nbformat.read(path, as_version=4)
    for ex in find_exercises(nb):
        call = f"check.{ex.name}({ex.name})"
        assert call in nb.cells[ex.stub_cell + 1].source, f"{path.name}: the cell after stub {ex.number} runs {call}"
        assert ex.solution_cell is not None, f"{path.name}: exercise {ex.number} has a solution cell"
        after = nb.cells[ex.solution_cell + 1]
        assert call in after.source and SOLUTION_CHECK_TAG in _tags(after), \
            f"{path.name}: the cell after solution {ex.number} is tagged {SOLUTION_CHECK_TAG!r} and runs {call}"


def _sample_notebook():
    nb = nbformat.v4.new_notebook()
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    stub = nbformat.v4.new_code_cell('def f(x):\n    raise NotImplementedError("Exercise 1.1: return x")')
    stub.outputs = [nbformat.v4.new_output("stream", text="something\n")]
    stub.execution_count = 3
    solution = nbformat.v4.new_code_cell("def f(x):\n    return x", metadata={"tags": [SOLUTION_TAG]})
    after = nbformat.v4.new_code_cell("check.f(f);", metadata={"tags": [SOLUTION_CHECK_TAG]})
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), stub, nbformat.v4.new_code_cell("check.f(f);"),
                solution, after]
    return nb


def test_student_notebook_removes_solutions_outputs_and_widget_state():
    nb = _sample_notebook()
    student = student_notebook(nb)
    assert [c.source for c in student.cells] == [c.source for c in nb.cells[:3]], \
        "the student edition keeps prose, stub and check, and drops the solution and its check"
    assert all(c.outputs == [] and c.execution_count is None for c in student.cells if c.cell_type == "code"), \
        "the student edition has no outputs"
    assert "widgets" not in student.metadata, "the student edition has no stored widget state"
    assert len(nb.cells) == 5 and nb.cells[1].outputs, "the instructor notebook itself is left unchanged"


def test_labkit_student_writes_every_chapter_without_solutions(tmp_path, capsys):
    assert main(["student", "--source", str(NOTEBOOKS), "--out", str(tmp_path)]) == 0
    written = sorted(tmp_path.glob("*.ipynb"))
    assert [p.name for p in written] == sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")), \
        "one student notebook per chapter"
    for path in written:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        assert not any(_tags(c) & {SOLUTION_TAG, SOLUTION_CHECK_TAG} for c in nb.cells), \
            f"{path.name}: no cell tagged solution in the student edition"
        assert not any(c.get("outputs") for c in nb.cells), f"{path.name}: outputs cleared"
        assert "widgets" not in nb.metadata, f"{path.name}: widget state cleared"
        instructor = find_exercises(nbformat.read(NOTEBOOKS / path.name, as_version=4))
        assert [e.number for e in find_exercises(nb)] == [e.number for e in instructor], \
            f"{path.name}: every stub is kept"
    assert "student edition" in capsys.readouterr().out


def test_labkit_student_without_notebooks_is_an_error(tmp_path, capsys):
    assert main(["student", "--source", str(tmp_path / "none"), "--out", str(tmp_path / "out")]) == 2
    assert "no notebooks" in capsys.readouterr().err, "a missing source folder is explained"


@pytest.mark.parametrize("chapter", ["03_stdp.ipynb"])
def test_student_edition_runs_up_to_the_first_exercise(chapter, tmp_path):
    """Execute the student edition from the top to the first stub's check: it must say 'not written yet'."""
    from nbclient import NotebookClient

    nb = student_notebook(nbformat.read(NOTEBOOKS / chapter, as_version=4))
    first = find_exercises(nb)[0]
    nb.cells = nb.cells[: first.stub_cell + 2]
    os.environ.setdefault("LABKIT_FAST", "1")
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    printed = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.output_type == "stream")
    assert f"Exercise {first.number}" in printed and "not written yet" in printed, \
        f"the student's first check cell reports the unwritten exercise, got {printed!r}"
