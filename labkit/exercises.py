"""The chapters' exercises and the student edition of the notebooks.

Every exercise in a chapter is three cells (and two checks):

1. a *stub*: the function, whose body raises ``NotImplementedError("Exercise N.M: ...")``;
2. a check right after it, ``check.<name>(<name>)`` (`labkit.check`), which says "not written
   yet" until the student fills the stub in, then which cases pass;
3. a *solution* cell tagged ``solution`` that defines the same function, followed by a cell
   tagged ``solution-check`` that checks the solution.

The committed notebooks are the instructor edition: solutions included and executed. The
student edition (``labkit student``, ``make student``) is the same notebooks with the cells
tagged ``solution`` or ``solution-check`` removed and all outputs and widget state cleared;
the stubs and their checks stay::

    labkit student                       # notebooks/*.ipynb -> build/student/*.ipynb
    labkit student --out handout/        # somewhere else
"""

from __future__ import annotations

import argparse
import copy
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

__all__ = ["Exercise", "SOLUTION_CHECK_TAG", "SOLUTION_TAG", "find_exercises", "student_notebook",
           "write_student_edition"]

SOLUTION_TAG = "solution"
SOLUTION_CHECK_TAG = "solution-check"
_REMOVED_TAGS = {SOLUTION_TAG, SOLUTION_CHECK_TAG}
_STUB = re.compile(r"raise NotImplementedError\(\s*\"Exercise (\d+\.\d+)")
_DEF = re.compile(r"^def (\w+)\(", re.MULTILINE)


@dataclass(frozen=True)
class Exercise:
    """One exercise of a notebook: its number, function name and the indices of its cells."""

    number: str
    name: str
    stub_cell: int
    solution_cell: int | None
    stub_source: str
    solution_source: str | None


def _tags(cell) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def find_exercises(nb: nbformat.NotebookNode) -> list[Exercise]:
    """The exercises of a notebook in order: each stub and the solution cell that defines the same name."""
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or SOLUTION_TAG in _tags(cell):
            continue
        stub = _STUB.search(cell.source)
        name = _DEF.search(cell.source)
        if not (stub and name):
            continue
        solution = next(
            (j for j in range(i + 1, len(nb.cells))
             if SOLUTION_TAG in _tags(nb.cells[j]) and re.search(rf"^def {name.group(1)}\(", nb.cells[j].source, re.M)),
            None,
        )
        found.append(Exercise(stub.group(1), name.group(1), i, solution, cell.source,
                              None if solution is None else nb.cells[solution].source))
    return found


def student_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` without solution cells, outputs, execution counts and widget state."""
    out = copy.deepcopy(nb)
    out.cells = [cell for cell in out.cells if not (_tags(cell) & _REMOVED_TAGS)]
    for cell in out.cells:
        cell.get("metadata", {}).pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    out.metadata.pop("widgets", None)
    return out


def write_student_edition(source: str | Path = "notebooks", out: str | Path = "build/student") -> list[Path]:
    """Write the student edition of every ``source/*.ipynb`` into ``out``; returns the files written."""
    source, out = Path(source), Path(out)
    notebooks = sorted(source.glob("*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"no notebooks in {source}: run from the repository root or pass --source")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        target = out / path.name
        nbformat.write(student_notebook(nb), target)
        written.append(target)
    return written


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", default="notebooks", help="folder of the instructor notebooks (default: notebooks)")
    parser.add_argument("--out", default="build/student", help="folder to write to (default: build/student)")


def run(args: argparse.Namespace) -> int:
    written = write_student_edition(args.source, args.out)
    exercises = sum(len(find_exercises(nbformat.read(p, as_version=4))) for p in written)
    print(f"student edition: {len(written)} notebooks with {exercises} exercises written to {args.out}")
    return 0
