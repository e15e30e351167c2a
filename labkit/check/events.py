"""Exercises 9.1 and 9.2: an event-camera pixel and binning events into frames."""

from __future__ import annotations

import math

import numpy as np

from ..data import EVENT_DTYPE
from ..data.frames import event_counts
from .core import Case, CheckResult, Mismatch, exercise, expect_equal, mistake, numeric, run_cases, show

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


def labkit_pixel_events(log_intensity, threshold):
    """labkit's version of exercise 9.1: signed event count per sample of one event-camera pixel (reference-reset model,
    Gallego et al., TPAMI 2022, eq. 1): n_k = trunc((L_k − ref) / C), then ref moves by n_k·C."""
    log_intensity = np.asarray(log_intensity, dtype=np.float64)
    counts = np.zeros(len(log_intensity), dtype=np.int64)
    level = log_intensity[0]
    for k in range(1, len(log_intensity)):
        counts[k] = math.trunc((log_intensity[k] - level) / threshold)
        level += counts[k] * threshold
    return counts


@exercise("9.1", "(log_intensity, threshold) -> signed event counts", fallback=labkit_pixel_events)
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
    return run_cases("9.1", "pixel_events", fn, cases, quiet=quiet,
                     formula="n_0 = 0, ref = L_0;  n_k = trunc((L_k − ref) / C);  ref ← ref + n_k · C",
                     names=("log_intensity", "threshold"))


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


def labkit_bin_events(events, num_bins, duration_us):
    """labkit's version of exercise 9.2: event counts ``[num_bins, 2, 34, 34]`` (bin, polarity, y, x), bin k = ⌊t ·
    num_bins / duration_us⌋."""
    return event_counts(events, num_bins, duration_us)


@exercise("9.2", "(events, num_bins, duration_us) -> counts [num_bins, 2, 34, 34]", fallback=labkit_bin_events)
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
        Case("a duration that num_bins does not divide: with 3 bins of 1000 µs, t = 333 is still in bin 0",
             "the bin of an event is its fraction of the duration times num_bins, rounded down",
             _bin_case([(1, 1, 333, True), (2, 2, 334, False), (3, 3, 999, True)], 3, 1000)),
        Case("no events, all-zero frames", "start from np.zeros((num_bins, 2, 34, 34))", _bin_case([], 3, 1000)),
        Case("2000 random events in 1, 7 and 25 bins", "use the num_bins and duration_us arguments",
              lambda fn: [_bin_case(many, T, 300_000)(fn) for T in (1, 7, 25)]),
    ]
    return run_cases("9.2", "bin_events", fn, cases, quiet=quiet,
                     formula="frames[k, p, y, x] = number of events with k = t · num_bins // duration_us at (p, y, x), "
                             "repeated events all counted", names=("events", "num_bins", "duration_us"))


# ----------------------------------------------------------------------------- the mistakes students make


def _pixel(log_intensity, threshold, *, count=math.trunc, to_sample=False, previous=False, start=None):
    counts = np.zeros(len(log_intensity), dtype=np.int64)
    reference = float(log_intensity[0]) if start is None else start
    for k in range(1 if start is None else 0, len(log_intensity)):
        base = float(log_intensity[k - 1]) if previous and k > 0 else reference
        n = count((log_intensity[k] - base) / threshold)
        counts[k] = n
        reference = float(log_intensity[k]) if to_sample and n else reference + n * threshold
    return counts


@mistake("9.1", "OFF counts rounded down (floor)", "a fall of 1.4 thresholds is ONE OFF event: round towards zero, "
         "not towards minus infinity")
def _pixel_floor(log_intensity, threshold):
    return _pixel(log_intensity, threshold, count=math.floor)


@mistake("9.1", "each sample compared with the previous sample", "small changes must add up: compare with the "
         "pixel's reference, which moves only when events fire")
def _pixel_previous(log_intensity, threshold):
    return _pixel(log_intensity, threshold, previous=True)


@mistake("9.1", "the reference moved to the sample", "after n events the reference moves by n whole thresholds; "
         "the rest of the change is kept for later")
def _pixel_to_sample(log_intensity, threshold):
    return _pixel(log_intensity, threshold, to_sample=True)


@mistake("9.1", "at most one event per sample", "a jump of several thresholds between two samples gives several "
         "events: count whole thresholds")
def _pixel_one_event(log_intensity, threshold):
    return _pixel(log_intensity, threshold, count=lambda x: int(np.sign(x)) if abs(x) >= 1 else 0)


@mistake("9.1", "the reference starting at 0", "the first sample only sets the reference: it gives no events")
def _pixel_start_zero(log_intensity, threshold):
    return _pixel(log_intensity, threshold, start=0.0)


def _bins(events, num_bins, duration_us, *, k=None, swap=False):
    frames = np.zeros((num_bins, 2, 34, 34), dtype=np.int64)
    t = events["t"].astype(np.int64)
    k = t * num_bins // duration_us if k is None else k(t)
    y, x = (events["x"], events["y"]) if swap else (events["y"], events["x"])
    np.add.at(frames, (k, events["p"].astype(np.int64), y.astype(np.int64), x.astype(np.int64)), 1)
    return frames


@mistake("9.2", "repeated events counted once", "frames[index] += 1 with a repeated index adds one only once: "
         "use an unbuffered add (np.add.at)")
def _bin_fancy_index(events, num_bins, duration_us):
    frames = np.zeros((num_bins, 2, 34, 34), dtype=np.int64)
    k = events["t"].astype(np.int64) * num_bins // duration_us
    frames[k, events["p"].astype(np.int64), events["y"].astype(np.int64), events["x"].astype(np.int64)] += 1
    return frames


@mistake("9.2", "x and y swapped", "the frames are [bin, polarity, y, x]: the row index y comes before the column x")
def _bin_swapped(events, num_bins, duration_us):
    return _bins(events, num_bins, duration_us, swap=True)


@mistake("9.2", "the bin rounded instead of floored", "an event belongs to the bin it falls IN: round down, so "
         "that an event on an edge goes to the later bin and none goes past the last")
def _bin_rounded(events, num_bins, duration_us):
    return _bins(events, num_bins, duration_us,
                 k=lambda t: np.minimum(np.round(t * num_bins / duration_us).astype(np.int64), num_bins - 1))


@mistake("9.2", "the bin width rounded first", "duration_us // num_bins drops the remainder, and late events land "
         "past the last bin: multiply by num_bins before dividing")
def _bin_width_first(events, num_bins, duration_us):
    return _bins(events, num_bins, duration_us, k=lambda t: np.minimum(t // (duration_us // num_bins), num_bins - 1))
