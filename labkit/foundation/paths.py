"""The one repository root: the folder that holds ``labkit/``, ``data/``, ``results/`` and ``.venv-lava/``.

Everything that looks for a file of the repository (the bundled data, the committed results,
the Lava sidecar interpreter, the git commit of the code) starts from `REPO_ROOT`.

`trial_folder` is the one rule for a command's default output: a command run without an
explicit output option never writes into a folder that already holds results (the committed
ones above all); it writes into a new folder of its own beside it.
"""

from __future__ import annotations

import time
from pathlib import Path

__all__ = ["REPO_ROOT", "trial_folder"]

#: labkit/foundation/paths.py → the checkout (or site-packages for an installed labkit).
REPO_ROOT: Path = Path(__file__).resolve().parents[2]


def _holds_files(folder: Path) -> bool:
    return folder.is_dir() and any(item.is_file() or item.is_symlink() for item in folder.rglob("*"))


def trial_folder(default: str | Path, *, clock=time.time) -> Path:
    """Where a command writes when no output option was given: ``default`` while it is missing or holds no
    file, else a new folder ``<default>-trial-<UTC date-time>`` beside it (created, so two trials never
    share one). Results already there, committed or not, are never replaced by a run that was not told to."""
    default = Path(default)
    if not _holds_files(default):
        return default
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(clock()))
    for n in range(1000):
        candidate = default.with_name(f"{default.name}-trial-{stamp}{'' if n == 0 else f'-{n}'}")
        try:
            candidate.mkdir(parents=True)
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"no free trial folder name beside {default}: pass --out")
