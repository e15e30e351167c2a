"""The data folder and verified files: where datasets live, SHA-256 checks, the record of a remote file."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from ..foundation.errors import LabkitError
from ..foundation.io import check_regular_file
from ..foundation.paths import REPO_ROOT

__all__ = ["ChecksumError", "DamagedFileError", "FETCH_REMEDY", "RemoteFile", "data_dir", "data_dir_chosen", "sha256_of", "verify_file"]


class DamagedFileError(LabkitError):
    """A data file is there but damaged (wrong size or checksum): the message names it and says how to fix it."""


class ChecksumError(DamagedFileError, RuntimeError):
    """A data file's SHA-256 does not match the published one."""


@dataclass(frozen=True)
class RemoteFile:
    """One file of a dataset, declared as data: name, checksum and size when uncompressed."""
    name: str
    sha256: str
    size: int


#: How to repair each kind of file: full MNIST is downloaded again; the subset ships with the repository.
FETCH_REMEDY = "Delete it and run `labkit data fetch mnist` to download a fresh copy."


def data_dir(root: str | os.PathLike | None = None) -> Path:
    """The data folder: ``root`` if given, else ``$LABKIT_DATA``, else the repository's ``data/`` in a checkout,
    else (labkit installed with pip) the user's data folder ``$XDG_DATA_HOME/labkit`` (``~/.local/share/labkit``).

    The folder is where `labkit data fetch` puts full datasets; it may not exist yet. The bundled
    subset of MNIST does not live here: it ships inside the package (`labkit.data.bundled_file`).
    """
    if root is not None:
        return Path(root)
    env = os.environ.get("LABKIT_DATA")
    if env:
        return Path(env)
    if (REPO_ROOT / "pyproject.toml").is_file() and (REPO_ROOT / "data").is_dir():
        return REPO_ROOT / "data"
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "labkit"


def data_dir_chosen(root: str | os.PathLike | None = None) -> bool:
    """True when the data folder was named (``root`` or ``$LABKIT_DATA``), so its absence is a mistake to report."""
    return root is not None or bool(os.environ.get("LABKIT_DATA"))


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    """SHA-256 hex digest of a file, read in chunks."""
    check_regular_file(path, "data file")  # a FIFO would block the read for ever
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def verify_file(path: Path, expected_sha256: str, *, remedy: str = FETCH_REMEDY) -> None:
    """Raise `ChecksumError` naming ``path`` when its SHA-256 is not ``expected_sha256``; ``remedy`` says how
    to repair it."""
    got = sha256_of(path)
    if got != expected_sha256:
        raise ChecksumError(
            f"{path} is corrupted or truncated: SHA-256 {got[:16]}... does not match the "
            f"published {expected_sha256[:16]}.... {remedy}"
        )
