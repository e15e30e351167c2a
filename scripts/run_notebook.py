"""Execute notebooks in place, the way they are committed: outputs and widget state stored.

    .venv/bin/python scripts/run_notebook.py notebooks/01_lif_neuron.ipynb [more.ipynb ...]

Runs from the notebooks/ folder with the main environment's kernel. Pass --fast to execute
with LABKIT_FAST=1 (what the tests use); committed notebooks are executed without it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def run(path: Path, *, fast: bool, timeout: int) -> float:
    nb = nbformat.read(path, as_version=4)
    os.environ["LABKIT_FAST"] = "1" if fast else "0"
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    os.environ["PYTHONHASHSEED"] = "0"
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        store_widget_state=True,
    )
    started = time.perf_counter()
    client.execute()
    for cell in nb.cells:  # execution metadata holds timestamps: keep diffs clean
        cell.get("metadata", {}).pop("execution", None)
    nbformat.write(nb, path)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--fast", action="store_true", help="execute with LABKIT_FAST=1")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    args = parser.parse_args()
    for path in args.notebooks:
        seconds = run(path, fast=args.fast, timeout=args.timeout)
        print(f"{path}: executed in {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
