"""Simulated N-MNIST: MNIST digits moved along N-MNIST's three saccades in front of a simulated event camera.

N-MNIST (Orchard, Jayawant, Cohen and Thakor, Frontiers in Neuroscience 9:437, 2015) is MNIST
shown on a monitor to an ATIS event camera (Posch, Matolin and Wohlgenannt, IEEE JSSC 2011)
that is moved along three saccades forming a triangle: 34 x 34 pixels, two polarities, about
300 ms per digit. Each pixel of an event camera reports, asynchronously, a change of its log
intensity by more than a contrast threshold C (Lichtsteiner, Posch and Delbruck, IEEE JSSC
2008; Gallego et al., "Event-based vision: a survey", IEEE TPAMI 2022, eq. 1):

    ON event at time t   when  ln I(t) - ln I(t_ref) >= +C
    OFF event at time t  when  ln I(t) - ln I(t_ref) <= -C

where t_ref is the time of the pixel's previous event (the reference then moves by ±C).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from ..foundation.validation import check_int, check_number
from .events import EVENT_DTYPE, NMNIST_SENSOR_SIZE, NMNIST_TIME_BITS

__all__ = ["SaccadeParams", "iter_simulated", "saccade_path", "simulate_saccades"]


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
        check_int("SaccadeParams.saccade_us", self.saccade_us, 1_000, maximum=(2**NMNIST_TIME_BITS - 1) // 3,
                  unit="µs; three saccades must fit N-MNIST's 23-bit timestamps")
        check_number("SaccadeParams.amplitude_px", self.amplitude_px, minimum=0.0, maximum=8.0, above=True,
                     unit="pixels")
        check_number("SaccadeParams.contrast_threshold (C)", self.contrast_threshold, minimum=0.0, above=True)
        check_number("SaccadeParams.threshold_sigma", self.threshold_sigma, minimum=0.0, maximum=0.5, below=True,
                     unit="a fraction of C")
        check_number("SaccadeParams.dark_level (ε)", self.dark_level, minimum=0.0, above=True)
        check_int("SaccadeParams.steps_per_saccade", self.steps_per_saccade, 2)
        check_number("SaccadeParams.noise_rate_hz", self.noise_rate_hz, minimum=0.0, unit="events per pixel per s")

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


def iter_simulated(images, rng, params: SaccadeParams, chunk_size: int, progress: bool, desc: str):
    """Yield (start, n, b, x, y, t, p) for consecutive chunks of digits (flat, sorted by b then t)."""
    if not isinstance(params, SaccadeParams):
        raise ValueError(f"params must be a SaccadeParams, got {type(params).__name__}")
    check_int("chunk_size", chunk_size, 1)
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
    for _, n, b, x, y, t, p in iter_simulated(images, rng, params, chunk_size, progress, "simulating saccades"):
        events = np.empty(len(b), EVENT_DTYPE)
        events["x"], events["y"], events["t"], events["p"] = x, y, t, p
        out.extend(np.split(events, np.cumsum(np.bincount(b, minlength=n))[:-1]))
    return out
