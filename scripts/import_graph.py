"""Counts of labkit's import graph from an `ast` scan of a checkout (nothing is imported).

    python3 scripts/import_graph.py [ROOT]          ROOT: the folder holding labkit/ (default: this checkout)

Prints the number of modules, of labkit-to-labkit imports at module level and inside functions,
the files over 600 lines and the five largest files. Compare trees with ``git archive REV labkit | tar
-x -C /tmp/REV`` and ``python3 scripts/import_graph.py /tmp/REV``.
"""

from __future__ import annotations

import ast
import pathlib
import sys


def counts(root: pathlib.Path) -> dict:
    """modules, top-level and in-function labkit imports, and the files' line counts, largest first."""
    top = inner = 0
    sizes = []
    files = sorted((root / "labkit").rglob("*.py"))
    for path in files:
        text = path.read_text()
        sizes.append((len(text.splitlines()), str(path.relative_to(root))))
        tree = ast.parse(text)
        in_function = {id(node) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                       for node in ast.walk(f)}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                labkit = node.level > 0 or (node.module or "").split(".")[0] == "labkit"
            elif isinstance(node, ast.Import):
                labkit = any(alias.name.split(".")[0] == "labkit" for alias in node.names)
            else:
                continue
            if labkit:
                inner, top = (inner + 1, top) if id(node) in in_function else (inner, top + 1)
    return {"modules": len(files), "top_level": top, "in_functions": inner, "sizes": sorted(sizes, reverse=True)}


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parents[1])
    c = counts(root)
    print(f"modules {c['modules']}, labkit imports at module level {c['top_level']}, "
          f"inside functions {c['in_functions']}")
    print("files over 600 lines:", ", ".join(f"{f} ({n})" for n, f in c["sizes"] if n > 600) or "none")
    print("largest:", ", ".join(f"{f} ({n})" for n, f in c["sizes"][:5]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
