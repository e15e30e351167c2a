"""The event format the lab uses (tonic's): one record per event, and N-MNIST's sensor and clock."""

from __future__ import annotations

import numpy as np

__all__ = ["EVENT_DTYPE", "NMNIST_SENSOR_SIZE", "NMNIST_TIME_BITS"]


#: Sensor size in tonic's order (width x, height y, polarities p).
NMNIST_SENSOR_SIZE: tuple[int, int, int] = (34, 34, 2)


#: One event, as `tonic.io.events_struct`: pixel (x, y), time t in µs, polarity p (True = ON).
EVENT_DTYPE = np.dtype([("x", np.int16), ("y", np.int16), ("t", np.int64), ("p", bool)])


#: Bit layout of N-MNIST's binary files: 5 bytes (40 bits) per event.
NMNIST_TIME_BITS = 23
