"""Exercises 9.1 and 9.2: an event-camera pixel and binning events into frames."""

from __future__ import annotations

import math

import numpy as np

from ..data import EVENT_DTYPE
from .core import Case, CheckResult, Mismatch, expect_equal, numeric, run_cases, show

__all__ = ["bin_events", "pixel_events"]


def _pixel_reference(log_intensity, threshold) -> np.ndarray:
    """Reference-reset pixel: n_k = trunc((L_k − ref)/C), ref += n_k·C (Gallego et al., TPAMI 2022, eq. 1)."""
    counts, reference = np.zeros(len(log_intensity), dtype=np.int64), float(log_intensity[0])
    for k in range(1, len(log_intensity)):
        n = math.trunc((log_intensity[k] - reference) / threshold)
        counts[k], reference = n, reference + n * threshold
    return counts


def _pixel_case(log_intensity, threshold, expected=None, what="event counts"):
    def run(fn):
        li = np.asarray(log_intensity, dtype=np.float64)
        want = _pixel_reference(li, threshold) if expected is None else np.asarray(expected)
        got = fn(li.copy(), threshold)
        a = numeric(got, what)
        if a.shape == want.shape and not np.array_equal(a, np.round(a)):
            raise Mismatch("whole numbers of events", show(got))
        expect_equal(got, want, what)

    return run


def pixel_events(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 9.1, ``pixel_events(log_intensity, threshold) -> signed event count per sample``."""
    walk = np.cumsum(np.random.default_rng(9).normal(0.0, 0.4, 300))
    cases = [
        Case("no change, no events", "count whole thresholds between the log intensity and the reference",
              _pixel_case(np.zeros(20), 0.5, np.zeros(20, dtype=int))),
        Case("one count per sample, the first always 0", "the first sample only sets the reference",
              _pixel_case([0.7, 0.7, 0.7], 0.5, [0, 0, 0])),
        Case("several crossings between two samples all count", "n = trunc((L - reference) / threshold), not 0/1",
              _pixel_case([0.0, 1.0, 2.0], 0.5, [0, 2, 2])),
        Case("small changes add up against the reference", "compare with the reference, not with the previous sample",
              _pixel_case([0.0, 0.3, 0.6, 0.9], 0.5, [0, 0, 1, 0])),
        Case("the reference moves by whole thresholds, never to the sample",
              "after n events move the reference by n * threshold",
              _pixel_case([0.0, 0.7, 1.1], 0.5, [0, 1, 1])),
        Case("falling intensity gives negative (OFF) counts, rounded towards zero",
              "use np.trunc, not np.floor: -1.4 thresholds is one OFF event",
              _pixel_case([0.0, -0.6, -1.2], 0.5, [0, -1, -1])),
        Case("up and back down", "a fall gives negative counts", _pixel_case([0.0, 1.1, 0.0], 0.5, [0, 2, -2])),
        Case("a 300-sample random walk with threshold 0.3", "use the threshold argument",
              _pixel_case(walk, 0.3)),
    ]
    return run_cases("9.1", "pixel_events", fn, cases, quiet=quiet)


def _events(rows) -> np.ndarray:
    return np.array([tuple(r) for r in rows], dtype=EVENT_DTYPE)


def _bin_reference(events: np.ndarray, num_bins: int, duration_us: int) -> np.ndarray:
    """Counts[k, p, y, x] with k = floor(t · T / D), one loop over events (independent of tonic)."""
    frames = np.zeros((num_bins, 2, 34, 34), dtype=np.int64)
    for e in events:
        frames[int(e["t"]) * num_bins // duration_us, int(e["p"]), int(e["y"]), int(e["x"])] += 1
    return frames


def _bin_case(rows_or_events, num_bins, duration_us, what="frames"):
    def run(fn):
        events = rows_or_events if isinstance(rows_or_events, np.ndarray) else _events(rows_or_events)
        want = _bin_reference(events, num_bins, duration_us)
        got = fn(events.copy(), num_bins, duration_us)
        a = numeric(got, what)
        if a.shape != want.shape:
            raise Mismatch(f"shape {want.shape} (num_bins, 2, 34, 34)", f"shape {a.shape}")
        if a.sum() != len(events):
            raise Mismatch(f"{len(events)} events counted in total", f"{a.sum():g}")
        diff = np.argwhere(a != want)
        if len(diff):
            k, p, y, x = (int(v) for v in diff[0])
            raise Mismatch(f"{want[k, p, y, x]} at [bin {k}, p {p}, y {y}, x {x}]", f"{a[k, p, y, x]:g} there")

    return run


def _random_events(n: int, duration_us: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ev = np.zeros(n, dtype=EVENT_DTYPE)
    ev["x"], ev["y"] = rng.integers(0, 34, n), rng.integers(0, 34, n)
    ev["t"], ev["p"] = np.sort(rng.integers(0, duration_us, n)), rng.integers(0, 2, n).astype(bool)
    return ev


def bin_events(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 9.2, ``bin_events(events, num_bins, duration_us) -> counts[num_bins, 2, 34, 34]``."""
    many = _random_events(2000, 300_000, 11)
    cases = [
        Case("one ON event at t = 0", "frames[k, p, y, x] += 1 with k = t * num_bins // duration_us",
              _bin_case([(3, 5, 0, True)], 4, 1000)),
        Case("axes are [bin, polarity, y, x]", "the row index y comes before the column x, as in tonic",
              _bin_case([(30, 2, 10, False), (1, 20, 10, True)], 2, 1000)),
        Case("an event exactly on a bin edge goes to the later bin", "integer division: t * num_bins // duration_us",
              _bin_case([(0, 0, 250, True), (0, 0, 249, True)], 4, 1000)),
        Case("the last microsecond falls in the last bin", "k = t * num_bins // duration_us < num_bins for t < D",
              _bin_case([(33, 33, 999, False)], 7, 1000)),
        Case("repeated events at one pixel all count", "frames[idx] += 1 counts a repeated index once: use np.add.at",
              _bin_case([(4, 4, 10, True)] * 3 + [(4, 4, 11, True)], 1, 1000)),
        Case("no events, all-zero frames", "start from np.zeros((num_bins, 2, 34, 34))", _bin_case([], 3, 1000)),
        Case("2000 random events in 1, 7 and 25 bins", "use the num_bins and duration_us arguments",
              lambda fn: [_bin_case(many, T, 300_000)(fn) for T in (1, 7, 25)]),
    ]
    return run_cases("9.2", "bin_events", fn, cases, quiet=quiet)
