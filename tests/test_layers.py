"""The layers of labkit: imports only go down, and every file stays small.

An `ast` scan of ``labkit/`` (nothing is imported) builds the graph of labkit-to-labkit imports
and checks, for every module:

* its layer is declared in ``labkit.LAYERS`` (one table, in ``labkit/__init__.py``);
* it imports only from its own layer or the layers below (no upward import);
* the graph has no cycle;
* it imports no other module's ``_private`` name;
* a labkit import inside a function appears only in `DEFERRED`, each with its reason;
* no file is longer than 600 lines.
"""

from __future__ import annotations

import ast
import pathlib
import warnings

import pytest

import labkit

PACKAGE = pathlib.Path(labkit.__file__).parent
MAX_LINES = 600

#: Labkit imports allowed inside a function, as (module, imported module) → reason. Only to defer a
#: heavy optional third-party library that the importing module's other functions do not need.
DEFERRED: dict[tuple[str, str], str] = {
    **dict.fromkeys([("labkit.cli", "labkit.data"), ("labkit.cli", "labkit.models"), ("labkit.cli", "labkit.training")],
                    "`labkit --help`, `labkit train --help` and usage errors answer before torch is imported "
                    "(seconds on a cold start; tests/test_cli.py checks it)"),
}


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _resolve(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _scan():
    """(module → its file, edges: list of (importer, imported module, imported name or None, node, in_function))."""
    modules, edges = {}, []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = _module_name(path)
        modules[name] = path
        with warnings.catch_warnings():  # a docstring's backslash is the module's business, not the scan's
            warnings.simplefilter("ignore", SyntaxWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            tree = ast.parse(path.read_text())
        in_function = set()
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                in_function.update(id(n) for n in ast.walk(fn) if n is not fn)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                target = _resolve(name, node, path.name == "__init__.py")
                if target.split(".")[0] != "labkit":
                    continue
                for alias in node.names:
                    edges.append((name, target, alias.name, node, id(node) in in_function))
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == "labkit":
                        edges.append((name, alias.name, None, node, id(node) in in_function))
    # `from .pkg import sub` imports the module pkg.sub: point the edge at it
    resolved = []
    for importer, target, imported, node, in_fn in edges:
        if imported and f"{target}.{imported}" in modules:
            target = f"{target}.{imported}"
            imported = None
        resolved.append((importer, target, imported, node, in_fn))
    return modules, resolved


MODULES, EDGES = _scan()


def _layer_of(module: str) -> str | None:
    """The layer of ``module``: its own entry in labkit.LAYERS or that of the nearest package above it."""
    parts = module.split(".")
    while parts:
        layer = labkit.LAYERS_OF.get(".".join(parts))
        if layer is not None:
            return layer
        parts.pop()
        if parts == ["labkit"]:  # the root's own entry is for labkit/__init__.py only, not a default
            return None
    return None


def test_every_module_has_a_layer():
    missing = sorted(m for m in MODULES if _layer_of(m) is None)
    assert not missing, f"declare the layer of these modules in labkit.LAYERS: {missing}"


def upward_imports(edges, layer_of) -> list[str]:
    """Every import from a module of a higher layer."""
    rank = {layer: i for i, layer in enumerate(labkit.LAYERS)}
    return sorted({f"{a} ({layer_of(a)}) imports {b} ({layer_of(b)})" for a, b in edges
                   if rank[layer_of(b)] > rank[layer_of(a)]})


def import_cycles(edges) -> list[list[str]]:
    """The cycles of the import graph (a package importing its own modules does not count)."""
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        graph.setdefault(b, set())
        if a != b and not b.startswith(a + "."):
            graph.setdefault(a, set()).add(b)
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                cycles.append(path[path.index(n):] + [n])
            elif n not in state:
                visit(n, path + [n])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    return cycles


def private_imports(edges_with_names) -> list[str]:
    """Every ``from other import _name`` between labkit modules."""
    return sorted({f"{a} imports {b}.{name}" for a, b, name in edges_with_names
                   if name and name.startswith("_") and not name.startswith("__") and b != a})


LABKIT_EDGES = [(a, b) for a, b, _, _, _ in EDGES if b in MODULES]


def test_imports_only_go_down():
    upward = upward_imports(LABKIT_EDGES, _layer_of)
    assert not upward, "imports must go down the layers:\n" + "\n".join(upward)


def test_no_import_cycle():
    cycles = import_cycles(LABKIT_EDGES)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_no_import_of_another_modules_private_names():
    private = private_imports([(a, b, name) for a, b, name, _, _ in EDGES])
    assert not private, "import public names only (make the name public where it is defined):\n" + "\n".join(private)


def test_labkit_imports_inside_functions_only_defer_heavy_optional_libraries():
    inside = sorted({(a, b) for a, b, _, _, in_fn in EDGES if in_fn})
    unexplained = [f"{a} imports {b} inside a function" for a, b in inside if (a, b) not in DEFERRED]
    assert not unexplained, "import at the top of the module, or add the pair to DEFERRED with the reason:\n" + \
        "\n".join(unexplained)
    stale = sorted(set(DEFERRED) - set(inside))
    assert not stale, f"DEFERRED lists imports that are no longer inside a function: {stale}"


def test_the_checks_catch_what_they_are_for():
    layer = {"labkit.foundation.io": "foundation", "labkit.models": "science", "labkit.training.loop": "workflows"}.get
    assert upward_imports([("labkit.models", "labkit.training.loop")], layer) == [
        "labkit.models (science) imports labkit.training.loop (workflows)"], "a science module importing a loop"
    assert upward_imports([("labkit.training.loop", "labkit.models")], layer) == [], "downward imports are fine"
    assert import_cycles([("a", "b"), ("b", "c"), ("c", "a")]) == [["a", "b", "c", "a"]], "a three-module cycle"
    assert import_cycles([("pkg", "pkg.mod"), ("pkg.mod", "other")]) == [], "a package importing its module"
    assert private_imports([("labkit.x", "labkit.y", "_helper"), ("labkit.x", "labkit.y", "helper")]) == [
        "labkit.x imports labkit.y._helper"]
    # and the scan resolves relative imports to the modules they name
    assert ("labkit.training.loop", "labkit.models") in LABKIT_EDGES, "labkit/training/loop.py: from ..models import"
    assert ("labkit.training", "labkit.training.loop") in LABKIT_EDGES, "labkit/training/__init__.py: from .loop import"
    assert _layer_of("labkit.foundation.io") == "foundation" and _layer_of("labkit.cli") == "entry"


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_file_is_longer_than_600_lines(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(PACKAGE.parent)} has {lines} lines: split it by concept"
