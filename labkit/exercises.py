"""The chapters' exercises and the student edition of the notebooks.

Every exercise in a chapter is four cells:

1. a *stub* (tag ``exercise``): the function, whose body raises
   ``NotImplementedError("Exercise N.M: <the task>")``; the message states the task, never the answer;
2. a check right after it, ``check.<name>(<name>);`` (`labkit.check`): "not written yet" until the
   student fills the stub in, then which cases pass, with graded hints after a wrong attempt;
3. the *solution* (tag ``solution`` and ``hide-cell``, ``jupyter.source_hidden``: collapsed in
   JupyterLab, behind a toggle in the book), defining the same function;
4. a cell tagged ``solution-check`` that checks the solution and shows an example output.

Cells after the exercise call the function through ``check.use(name, fallback=..., exercise="N.M")``
so that the student's version drives the rest of the chapter, and labkit's stands in until it
is written.

The committed notebooks are the **instructor edition**: solutions included and executed. The
**student edition** (``labkit student``, ``make student``; ``make lab`` opens it) is the same
notebooks with every output and the widget state cleared, each solution turned into a collapsed
markdown cell (``<details><summary>Solution</summary>``: the code and the example output of the
solution check, not executed) and the ``solution-check`` cells removed, so that Run All uses the
student's stubs::

    labkit student                    # notebooks/*.ipynb -> work/*.ipynb
    labkit student --out handout/     # somewhere else

The student edition is the student's work folder: writing it again adds chapters that are
missing and refreshes chapters the student has not changed since they were written (a manifest,
``.labkit-student.json``, records what was written), but never overwrites a notebook the student
has edited or run. The folder can never be the instructor notebooks' own folder or inside it.
"""

from __future__ import annotations

import argparse
import ast
import copy
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .foundation.errors import LabkitError
from .foundation.io import write_atomic

__all__ = ["EXERCISE_TAG", "Exercise", "SOLUTION_CHECK_TAG", "SOLUTION_TAG", "SOLUTION_TEXT_TAG", "StudentEdition",
           "StudentEditionError", "find_exercises", "leaked_code", "mark_solution", "stub_message", "student_notebook",
           "write_student_edition"]

EXERCISE_TAG = "exercise"
SOLUTION_TAG = "solution"
SOLUTION_CHECK_TAG = "solution-check"
SOLUTION_TEXT_TAG = "solution-text"  # the student edition's collapsed markdown copy of a solution
HIDE_TAG = "hide-cell"  # Jupyter Book: show the cell behind a toggle
DEFAULT_OUT = "work"
MANIFEST = ".labkit-student.json"
_STUB = re.compile(r"raise NotImplementedError\(\s*\"Exercise (\d+\.\d+)")
_DEF = re.compile(r"^def (\w+)\(", re.MULTILINE)


class StudentEditionError(LabkitError):
    """The student edition cannot be written where it was asked to be (the message says why and what to do)."""


@dataclass(frozen=True)
class Exercise:
    """One exercise of a notebook: its number, function name and the indices of its cells."""

    number: str
    name: str
    stub_cell: int
    solution_cell: int | None
    stub_source: str
    solution_source: str | None

    @property
    def message(self) -> str:
        """The text of the stub's ``NotImplementedError`` (what the student is asked to do)."""
        return stub_message(self.stub_source)


def stub_message(source: str) -> str:
    """The message of the first ``raise NotImplementedError("...")`` in ``source`` ("" when there is none)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return ""
    for node in ast.walk(tree):
        if (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)
                and getattr(node.exc.func, "id", None) == "NotImplementedError" and node.exc.args
                and isinstance(node.exc.args[0], ast.Constant) and isinstance(node.exc.args[0].value, str)):
            return node.exc.args[0].value
    return ""


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


def mark_solution(cell: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Tag ``cell`` as a solution and collapse it: tags ``solution`` and ``hide-cell``, ``jupyter.source_hidden``."""
    tags = cell.metadata.setdefault("tags", [])
    for tag in (SOLUTION_TAG, HIDE_TAG):
        if tag not in tags:
            tags.append(tag)
    cell.metadata.setdefault("jupyter", {})["source_hidden"] = True
    return cell


def _output_text(cell) -> str:
    """The plain-text outputs of an executed cell (streams and text results), without ANSI colours."""
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif out.get("output_type") in ("execute_result", "display_data"):
            text = out.get("data", {}).get("text/plain")
            if text and "image/png" not in out.get("data", {}) and "Figure size" not in text:
                parts.append(text if text.endswith("\n") else text + "\n")
    return re.sub(r"\x1b\[[0-9;]*m", "", "".join(parts)).rstrip()


def _fence(text: str, language: str = "") -> str:
    ticks = "```"
    while ticks in text:
        ticks += "`"
    return f"{ticks}{language}\n{text}\n{ticks}"


def _solution_markdown(solution, checks: list) -> nbformat.NotebookNode:
    body = ["<details><summary>Solution</summary>", "", "Try the exercise first; the check gives hints after a "
            "wrong attempt. This is one way to write it (copy it into the cell above if you are stuck):", "",
            _fence(solution.source.rstrip(), "python")]
    example = "\n".join(t for t in (_output_text(c) for c in checks) if t)
    if example:
        body += ["", "What the check and the example print for it:", "", _fence(example, "text")]
    body += ["", "</details>"]
    text = nbformat.v4.new_markdown_cell("\n".join(body), metadata={"tags": [SOLUTION_TEXT_TAG]})
    # a fixed id (not nbformat's random one) so that the same notebook gives the same student edition
    text["id"] = (str(solution.get("id") or _digest(solution.source.encode())[:16]))[:56] + "-answer"
    return text


def student_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The student edition of ``nb``: solutions as collapsed markdown, solution checks dropped, no outputs or widget state."""
    out = copy.deepcopy(nb)
    cells = []
    for i, cell in enumerate(out.cells):
        tags = _tags(cell)
        if SOLUTION_CHECK_TAG in tags:
            continue
        if SOLUTION_TAG in tags:
            checks = []
            for later in out.cells[i + 1:]:
                if SOLUTION_CHECK_TAG not in _tags(later):
                    break
                checks.append(later)
            cells.append(_solution_markdown(cell, checks))
            continue
        cell.get("metadata", {}).pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cells.append(cell)
    out.cells = cells
    out.metadata.pop("widgets", None)
    return out


@dataclass
class StudentEdition:
    """What `write_student_edition` did, chapter by chapter (file names)."""

    folder: Path
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # edited by the student: left alone
    kept_files: list[str] = field(default_factory=list)  # figures the student changed: left alone
    exercises: int = 0

    @property
    def notebooks(self) -> list[Path]:
        return sorted(self.folder / name for name in self.added + self.updated + self.unchanged + self.kept)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _refuse_unsafe(source: Path, out: Path) -> None:
    if _inside(out, source):
        raise StudentEditionError(
            f"the student edition cannot be written to {out}: it is the instructor notebooks' folder {source} "
            f"or inside it, and would overwrite or mix with them. Pass another folder, e.g. --out {DEFAULT_OUT}")


def _read_manifest(out: Path) -> dict[str, str]:
    try:
        data = json.loads((out / MANIFEST).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return {k: v for k, v in data.get("written", {}).items() if isinstance(v, str)} if isinstance(data, dict) else {}


FIGURES = "figures"  # diagrams the chapters show (markdown links figures/NAME.svg beside the notebook)


def _target(out: Path, relative: str | Path) -> Path:
    """``out / relative``, refused (`StudentEditionError`) when an existing part of that path below ``out`` is a
    symbolic link or the path leads outside ``out``: the edition never writes through a link into someone
    else's files, and nothing outside the folder it was given."""
    target = out / relative
    part = out
    for name in Path(relative).parts:
        part = part / name
        if part.is_symlink():
            raise StudentEditionError(
                f"{part} is a symbolic link (to {part.resolve()}); the student edition does not write through links, "
                f"so that nothing outside {out} is changed. Remove the link (or pass another --out) and run this again")
    if not _inside(target.resolve(), out.resolve()):
        raise StudentEditionError(f"{target} leads outside {out}: pass another --out")
    return target


def _copy_figures(source: Path, out: Path, manifest: dict[str, str], report: StudentEdition) -> None:
    """Copy the chapters' figures folder beside the student notebooks, so their diagrams show there too. A figure
    the student has changed since it was written (its digest differs from the manifest's) is kept."""
    folder = source / FIGURES
    if not folder.is_dir():
        return
    for item in sorted(folder.rglob("*")):
        if item.is_file():
            name = (Path(FIGURES) / item.relative_to(folder)).as_posix()
            target = _target(out, name)
            data = item.read_bytes()
            if target.exists():
                current = _digest(target.read_bytes()) if target.is_file() else None
                if current == _digest(data):
                    manifest[name] = current
                    continue
                if current is None or manifest.get(name) != current:
                    report.kept_files.append(name)
                    continue
            write_atomic(target, lambda f, data=data: f.write(data))
            manifest[name] = _digest(data)


def write_student_edition(source: str | Path = "notebooks", out: str | Path = DEFAULT_OUT) -> StudentEdition:
    """Write the student edition of every ``source/*.ipynb`` into ``out`` without overwriting the student's work.

    A chapter missing from ``out`` is added; one that is still exactly as this function last
    wrote it is refreshed; one the student has changed (edited, run or saved) is kept as it is.
    A figure the student changed is kept too. Raises `StudentEditionError` when ``out`` is empty, is
    ``source`` or inside it, or when a path below ``out`` is a symbolic link (nothing is written through
    links, so nothing outside ``out``).
    """
    if str(out).strip() == "":
        raise StudentEditionError(f"the student edition's folder (--out) is empty: pass a folder, e.g. --out {DEFAULT_OUT}")
    source, out = Path(source), Path(out)
    notebooks = sorted(source.glob("*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(
            f"no notebooks in {source}: the chapters are not part of the installed labkit package. Run "
            "`labkit student` at the root of a copy of the lab's repository (git clone it), or pass "
            "--source FOLDER with the folder of its notebooks/")
    source_real, out_real = source.resolve(), out.resolve()
    _refuse_unsafe(source_real, out_real)
    if out.exists() and not out.is_dir():
        raise StudentEditionError(f"{out} is a file, not a folder: pass a folder for the student edition with --out")
    manifest = _read_manifest(out)
    report = StudentEdition(out)
    for path in notebooks:
        student = student_notebook(nbformat.read(path, as_version=4))
        report.exercises += len(find_exercises(student))
        data = (nbformat.writes(student) + "\n").encode()
        target = _target(out, path.name)
        if _inside(target.resolve(), source_real):  # e.g. a link in out pointing at an instructor notebook
            raise StudentEditionError(f"{target} leads to {target.resolve()}, an instructor notebook: remove that link")
        if target.exists():
            current = _digest(target.read_bytes())
            if current == _digest(data):
                report.unchanged.append(path.name)
                manifest[path.name] = current
                continue
            if manifest.get(path.name) != current:
                report.kept.append(path.name)
                continue
            report.updated.append(path.name)
        else:
            report.added.append(path.name)
        write_atomic(target, lambda f, data=data: f.write(data))
        manifest[path.name] = _digest(data)
    _copy_figures(source, out, manifest, report)
    record = {"about": "written by `labkit student`: the notebooks it wrote and their SHA-256 then; a notebook "
                       "whose contents differ has been changed by the student and is never overwritten",
              "written": dict(sorted(manifest.items()))}
    write_atomic(_target(out, MANIFEST), lambda f: f.write((json.dumps(record, indent=1) + "\n").encode()))
    return report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", default="notebooks", help="folder of the instructor notebooks (default: notebooks)")
    parser.add_argument("--out", default=DEFAULT_OUT,
                        help=f"the student's work folder (default: {DEFAULT_OUT}); notebooks edited there are kept")


def run(args: argparse.Namespace) -> int:
    report = write_student_edition(args.source, args.out)
    print(f"student edition in {args.out}: {len(report.notebooks)} notebooks, {report.exercises} exercises")
    for label, names in (("added", report.added), ("refreshed (not changed by you)", report.updated)):
        if names:
            print(f"  {label}: {', '.join(names)}")
    if report.kept:
        print(f"  kept as you left them (you changed them): {', '.join(report.kept)}"
              f" (to start one of them afresh, rename or delete it and run this again)")
    if report.kept_files:
        print(f"  figures kept as you left them (you changed them): {', '.join(report.kept_files)}")
    return 0


_TOKEN = re.compile(r"\*\*|//|==|!=|<=|>=|[A-Za-z_]\w*|\d+(?:\.\d*)?(?:e-?\d+)?|[-+*/%<>=@~&|^()\[\],.:]")
_OPERATORS = {"**", "//", "==", "!=", "<=", ">=", "-", "+", "*", "/", "%", "<", ">", "@", "~", "&", "|", "^"}


def _code_tokens(source: str) -> list[str]:
    """The tokens of a function's body: no ``def`` line, comments, docstrings or string literals."""
    tree = ast.parse(source)
    body = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            statements = node.body
            if statements and isinstance(statements[0], ast.Expr) and isinstance(statements[0].value, ast.Constant):
                statements = statements[1:]  # the docstring
            body.extend(ast.unparse(s) for s in statements)
        else:
            body.append(ast.unparse(node))
    code = "\n".join(body)
    code = re.sub(r"(?:[rbuf]{0,2})(\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')", " ", code)  # string literals
    return _TOKEN.findall(code)


def leaked_code(message: str, solution_source: str, *, length: int = 4) -> list[str]:
    """Pieces of the solution's code that the stub's message repeats: every run of ``length`` tokens
    holding an operator that appears both in the message and, token for token, in the solution's body
    (names, numbers and operators compared exactly, spacing ignored). [] when the message gives no code away."""
    solution = _code_tokens(solution_source)
    said = _TOKEN.findall(message)
    windows = {tuple(solution[i:i + length]) for i in range(len(solution) - length + 1)}
    found = []
    for i in range(len(said) - length + 1):
        window = tuple(said[i:i + length])
        if window in windows and _OPERATORS & set(window) and " ".join(window) not in found:
            found.append(" ".join(window))
    return found
