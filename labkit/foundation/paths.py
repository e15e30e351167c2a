"""The one repository root: the folder that holds ``labkit/``, ``data/``, ``results/`` and ``.venv-lava/``.

Everything that looks for a file of the repository (the bundled data, the committed results,
the Lava sidecar interpreter, the git commit of the code) starts from `REPO_ROOT`.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["REPO_ROOT"]

#: labkit/foundation/paths.py → the checkout (or site-packages for an installed labkit).
REPO_ROOT: Path = Path(__file__).resolve().parents[2]
