"""N-MNIST's binary file format: 5 bytes (40 bits) per event, written by `write_nmnist_file`, read by `read_nmnist_file`."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..foundation.io import write_bytes
from .events import EVENT_DTYPE, NMNIST_SENSOR_SIZE, NMNIST_TIME_BITS
from .files import DamagedFileError

__all__ = ["read_nmnist_file", "write_nmnist_file"]


_OVERFLOW_Y = 240  # a y byte of 240 marks a timestamp-overflow record in N-MNIST files


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


#: What a timestamp-overflow record adds to the timestamps after it (the value of tonic's reader, after Orchard's code).
_OVERFLOW_INCREMENT_US = 2**13


def read_nmnist_file(path: str | os.PathLike, *, remedy: str = "Replace it with a good copy or delete it.") -> np.ndarray:
    """The events of one N-MNIST recording as `EVENT_DTYPE` records (x, y, t in µs, p), checked.

    Decodes the layout of `write_nmnist_file` as ``tonic.io.read_mnist_file`` does (a y byte of 240
    marks a timestamp overflow that adds 2^13 µs to the events after it; those records are dropped).
    A file that cannot be a recording raises `DamagedFileError` naming it, followed by ``remedy``:
    empty, a size that is not a whole number of 5-byte events (a truncated copy), or an event
    outside the 34 x 34 sensor (not an N-MNIST file). A missing file raises `FileNotFoundError`.
    """
    path = Path(path)
    raw = np.fromfile(path, dtype=np.uint8)
    if len(raw) == 0 or len(raw) % 5:
        what = "is empty" if len(raw) == 0 else f"has {len(raw):,} bytes, not a whole number of 5-byte events"
        raise DamagedFileError(f"{path} is truncated or damaged: it {what}. {remedy}")
    record = raw.reshape(-1, 5).astype(np.int64)
    x, y = record[:, 0], record[:, 1]
    overflow = y == _OVERFLOW_Y
    sensor = NMNIST_SENSOR_SIZE[0]
    outside = np.flatnonzero(~overflow & ((x >= sensor) | (y >= sensor)))
    if len(outside):
        k = int(outside[0])
        raise DamagedFileError(
            f"{path} is not an N-MNIST recording: event {k:,} of {len(record):,} lies at pixel ({x[k]}, {y[k]}), "
            f"outside the {sensor} x {sensor} sensor ({len(outside):,} such events). {remedy}"
        )
    t = ((record[:, 2] & 0x7F) << 16) | (record[:, 3] << 8) | record[:, 4]
    t = t + _OVERFLOW_INCREMENT_US * np.cumsum(overflow)
    kept = ~overflow
    events = np.empty(int(kept.sum()), EVENT_DTYPE)
    events["x"], events["y"], events["t"] = x[kept], y[kept], t[kept]
    events["p"] = (record[kept, 2] >> 7).astype(bool)
    return events
