"""Tests for the event-data part of labkit.data: the saccade simulator, N-MNIST's binary
format, binning into frames, simulated N-MNIST as training data, and the real-N-MNIST loader."""

from __future__ import annotations

import shutil
import urllib.error

import numpy as np
import pytest
import torch

from labkit import data
from labkit.data import EVENT_DTYPE, NMNIST_SENSOR_SIZE, SaccadeParams, simulate_saccades

tonic = pytest.importorskip("tonic")

SENSOR = NMNIST_SENSOR_SIZE[0]


def square_image(size: int = 20) -> np.ndarray:
    """A white square on black, centred in a 28 x 28 image (one image, [1, 28, 28])."""
    image = np.zeros((1, 28, 28), np.float32)
    lo = (28 - size) // 2
    image[0, lo : lo + size, lo : lo + size] = 1.0
    return image


def pixel_counts(events: np.ndarray, on: bool) -> np.ndarray:
    counts = np.zeros((SENSOR, SENSOR), np.int64)
    chosen = events[events["p"] == on]
    np.add.at(counts, (chosen["y"], chosen["x"]), 1)
    return counts


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    images, _ = data.load_mnist("test", source="bundled", dtype="uint8", limit=12)
    return images.numpy()


@pytest.fixture()
def bundled_root(tmp_path):
    """A data folder holding only the bundled MNIST subset (so caches land in tmp_path)."""
    shutil.copy(data.bundled_file(), tmp_path / data.MINI_FILE)
    return tmp_path


# ----------------------------------------------------------------------------- the saccades


def test_saccade_path_is_n_mnist_triangle_and_returns_to_start():
    p = SaccadeParams()
    corners = np.arange(4) * p.saccade_us
    dx, dy = data.saccade_path(corners, p)
    legs = np.diff(np.stack([dx, dy]), axis=1).T
    # N-MNIST's saccades (tonic's stabilisation code): (+3.5, +7), (+3.5, -7), (-7, 0) pixels
    assert np.allclose(legs, [[3.5, 7.0], [3.5, -7.0], [-7.0, 0.0]]), "three legs of N-MNIST's triangle"
    assert dx[0] == dx[-1] and dy[0] == dy[-1], "the image ends where it started"
    t = np.linspace(0, p.duration_us, 3 * 100 + 1)  # includes the three corners
    dx, dy = data.saccade_path(t, p)
    assert np.isclose(dx.max() + dx.min(), 0) and np.isclose(dy.max() + dy.min(), 0), "path centred on the digit"


def test_saccade_params_reject_out_of_range_values_by_name():
    with pytest.raises(ValueError, match="contrast_threshold"):
        SaccadeParams(contrast_threshold=0)
    with pytest.raises(ValueError, match="saccade_us"):
        SaccadeParams(saccade_us=3_000_000)  # three saccades would overflow 23-bit timestamps
    with pytest.raises(ValueError, match="threshold_sigma"):
        SaccadeParams(threshold_sigma=0.7)
    with pytest.raises(ValueError, match="steps_per_saccade"):
        SaccadeParams(steps_per_saccade=1)


def test_bad_images_are_refused_with_a_message():
    with pytest.raises(ValueError, match=r"\[N, H, W\]"):
        simulate_saccades(np.zeros((28, 28), np.float32))
    with pytest.raises(ValueError, match="at most 34"):
        simulate_saccades(np.zeros((1, 40, 40), np.float32))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        simulate_saccades(np.full((1, 28, 28), 2.0, np.float32))


# ----------------------------------------------------------------------------- the camera model


def test_a_dark_scene_emits_no_events():
    (events,) = simulate_saccades(np.zeros((1, 28, 28), np.float32))
    assert len(events) == 0, "no intensity change anywhere → no events"


def test_events_only_near_edges_of_a_square():
    params = SaccadeParams(threshold_sigma=0.0)
    (events,) = simulate_saccades(square_image(20), params=params)
    assert len(events) > 0, "a moving edge emits events"
    # The square covers sensor rows/cols 7..26; the path moves it by at most 3.5 px, and bilinear
    # sampling reaches one pixel further: only pixels within 5 px of its border can change.
    reach = 5
    rows, cols = events["y"], events["x"]
    outside = (rows < 7 - reach) | (rows > 26 + reach) | (cols < 7 - reach) | (cols > 26 + reach)
    inside = (rows > 7 + reach) & (rows < 26 - reach) & (cols > 7 + reach) & (cols < 26 - reach)
    assert not outside.any(), "no events far outside the square: the background there never changes"
    assert not inside.any(), "no events deep inside the square: its uniform interior never changes"


def test_events_of_digits_lie_within_reach_of_their_strokes(digits):
    for image, events in zip(digits, simulate_saccades(digits)):
        support = np.zeros((SENSOR, SENSOR), bool)
        support[3:31, 3:31] = image > 0
        # dilate the stroke pixels by the path's reach (5 px, as above)
        near = np.zeros_like(support)
        for dy in range(-5, 6):
            for dx in range(-5, 6):
                near |= np.roll(np.roll(support, dy, 0), dx, 1)
        assert near[events["y"], events["x"]].all(), "every event is within reach of a stroke"


def test_bright_edge_moving_forward_gives_on_events_ahead_of_off_events():
    params = SaccadeParams(threshold_sigma=0.0)
    (events,) = simulate_saccades(square_image(8), params=params)
    first = events[events["t"] < params.saccade_us]  # first saccade: the image moves right and down
    on, off = first[first["p"]], first[~first["p"]]
    assert on["y"].mean() > off["y"].mean() + 1, "ON (brightening) on the leading lower edge, OFF behind it"
    assert on["x"].mean() > off["x"].mean() + 1, "ON on the leading right edge, OFF behind it"


def test_every_pixel_balances_on_and_off_over_the_full_cycle(digits):
    for events in simulate_saccades(digits):
        assert np.array_equal(pixel_counts(events, True), pixel_counts(events, False)), (
            "the scene returns to its start after three saccades, so each pixel's log intensity "
            "rises as often as it falls: ON count = OFF count per pixel"
        )


def test_fewer_events_for_a_higher_contrast_threshold(digits):
    low = sum(map(len, simulate_saccades(digits, params=SaccadeParams(contrast_threshold=0.25, threshold_sigma=0))))
    high = sum(map(len, simulate_saccades(digits, params=SaccadeParams(contrast_threshold=0.5, threshold_sigma=0))))
    # each rise of ln I by h gives floor(h / C) events, and floor(2h/C) >= 2 floor(h/C)
    assert 1.9 < low / high < 2.6, "events count threshold crossings: halving C (a little more than) doubles them"


def test_timestamps_sorted_and_within_the_sample(digits):
    params = SaccadeParams(noise_rate_hz=20.0)
    for events in simulate_saccades(digits, rng=np.random.default_rng(1), params=params):
        assert events.dtype == EVENT_DTYPE == tonic.io.events_struct, "tonic's event format"
        assert np.all(np.diff(events["t"]) >= 0), "events are in time order"
        assert events["t"].min() >= 0 and events["t"].max() < params.duration_us, "times within three saccades"
        assert events["x"].max() < SENSOR and events["y"].max() < SENSOR, "pixels on the 34 x 34 sensor"


def test_noise_adds_events_at_the_requested_rate():
    params = SaccadeParams(noise_rate_hz=50.0)
    (events,) = simulate_saccades(np.zeros((1, 28, 28), np.float32), rng=np.random.default_rng(0), params=params)
    expected = 50.0 * params.duration_us * 1e-6 * SENSOR * SENSOR  # rate x duration x pixels ≈ 18,207
    assert abs(len(events) - expected) < 5 * expected**0.5, "Poisson background activity at rate x duration x pixels"
    assert abs(events["p"].mean() - 0.5) < 0.02, "noise has both polarities equally"


def test_deterministic_per_seed_and_independent_of_chunking(digits):
    params = SaccadeParams(noise_rate_hz=5.0, threshold_sigma=0.1)
    a = simulate_saccades(digits, rng=np.random.default_rng(7), params=params, chunk_size=5)
    b = simulate_saccades(digits, rng=np.random.default_rng(7), params=params, chunk_size=64)
    c = simulate_saccades(digits, rng=np.random.default_rng(8), params=params)
    assert all(np.array_equal(u, v) for u, v in zip(a, b)), "same seed, same events, whatever the chunk size"
    assert not all(np.array_equal(u, v) for u, v in zip(a, c)), "another seed, other mismatch and noise"


# ----------------------------------------------------------------------------- file format and frames


def test_binary_writer_round_trips_through_tonics_reader(tmp_path, digits):
    (events,) = simulate_saccades(digits[:1], params=SaccadeParams(noise_rate_hz=10.0))
    path = data.write_nmnist_file(tmp_path / "Train" / "7" / "00001.bin", events)
    assert path.stat().st_size == 5 * len(events), "40 bits per event"
    back = tonic.io.read_mnist_file(str(path), dtype=tonic.datasets.NMNIST.dtype)
    for field in ("x", "y", "t", "p"):
        assert np.array_equal(back[field], events[field].astype(np.int64)), f"field {field} survives the file"


def test_binary_writer_refuses_what_the_format_cannot_hold(tmp_path):
    events = np.zeros(1, EVENT_DTYPE)
    events["t"] = 2**23
    with pytest.raises(ValueError, match="23-bit"):
        data.write_nmnist_file(tmp_path / "a.bin", events)
    events["t"], events["y"] = 0, 240
    with pytest.raises(ValueError, match="overflow"):
        data.write_nmnist_file(tmp_path / "a.bin", events)
    assert not list(tmp_path.iterdir()), "nothing is left behind by a refused write"


def test_tonic_to_frame_gives_t_bins_of_both_polarities(digits):
    (events,) = simulate_saccades(digits[:1])
    frames = tonic.transforms.ToFrame(sensor_size=NMNIST_SENSOR_SIZE, n_time_bins=10)(events)
    assert frames.shape == (10, 2, SENSOR, SENSOR), "[T, polarity, y, x]"
    assert frames.sum() <= len(events) and frames.sum() > 0.9 * len(events), "frames count (almost) every event"
    assert frames[:, 1].sum() > 0 and frames[:, 0].sum() > 0, "both polarities present"


# ----------------------------------------------------------------------------- simulated N-MNIST


def test_nmnist_sim_data_shapes_labels_and_spikes(bundled_root):
    d = data.nmnist_sim_data(20, 10, num_bins=5, root=bundled_root, source="bundled")
    assert d.name == "nmnist-sim" and d.temporal, "simulated, temporal data"
    assert d.train_x.shape == (20, 5, 2, SENSOR, SENSOR) and d.test_x.shape == (10, 5, 2, SENSOR, SENSOR)
    assert d.train_x.dtype == torch.float32
    assert set(d.train_x.unique().tolist()) == {0.0, 1.0}, "inputs are spikes in {0, 1}"
    _, labels = data.load_mnist("train", source="bundled", limit=20)
    assert torch.equal(d.train_y, labels), "labels of the digits simulated, in order"


def test_nmnist_sim_frames_are_clipped_tonic_frames_of_the_simulated_events(bundled_root):
    d = data.nmnist_sim_data(6, 0, num_bins=25, seed=3, root=bundled_root, source="bundled", cache=False)
    images, _ = data.load_mnist("train", source="bundled", dtype="uint8", limit=6)
    params = SaccadeParams()
    events = simulate_saccades(images, rng=np.random.default_rng([3, 0]), params=params)
    window = params.duration_us / 25  # 12,600 µs: bins of equal length over the whole sample
    to_frame = tonic.transforms.ToFrame(
        sensor_size=NMNIST_SENSOR_SIZE, time_window=window, start_time=0, end_time=params.duration_us
    )
    expected = np.stack([np.minimum(to_frame(e), 1) for e in events])
    assert np.array_equal(d.train_x.numpy(), expected), "frames = tonic's ToFrame over fixed bins, clipped to 1"


def test_one_binning_counts_tonic_frames_and_marks_the_training_frames(digits):
    """`event_counts` is tonic's ToFrame over fixed bins; `bin_to_frames` is where it counts > 0; the
    event-camera view and the exercise's reference use `event_counts` itself."""
    from labkit.check import reference
    from labkit.data.frames import bin_to_frames, event_counts

    params = SaccadeParams()
    events = simulate_saccades(digits[:3], rng=np.random.default_rng(5), params=params)
    to_frame = tonic.transforms.ToFrame(sensor_size=NMNIST_SENSOR_SIZE, time_window=params.duration_us / 7,
                                        start_time=0, end_time=params.duration_us)
    counts = [event_counts(e, 7, params.duration_us) for e in events]
    for c, e in zip(counts, events):
        assert np.array_equal(c, to_frame(e)), "counts per bin, polarity and pixel = tonic's ToFrame"
        assert np.array_equal(reference.bin_events(e, 7, params.duration_us), c), "the reference is the same binning"
    b = np.concatenate([np.full(len(e), i) for i, e in enumerate(events)])
    flat = np.concatenate(events)
    frames = bin_to_frames(b, flat["x"], flat["y"], flat["t"], flat["p"], 3, 7, params.duration_us)
    assert np.array_equal(frames, np.stack(counts) > 0), "a training frame is 1 where at least one event fell"


def test_nmnist_sim_data_is_cached_and_reloaded(bundled_root):
    first = data.nmnist_sim_data(8, 4, num_bins=5, root=bundled_root, source="bundled")
    files = sorted((bundled_root / "cache").glob("nmnist-sim-*.npz"))
    assert [f.name.split("-")[2] for f in files] == ["test", "train"], "one cache file per split"
    assert not list((bundled_root / "cache").glob("*.part")), "written atomically: no temporary file left"
    files[0].touch()
    again = data.nmnist_sim_data(8, 4, num_bins=5, root=bundled_root, source="bundled")
    assert torch.equal(first.train_x, again.train_x) and torch.equal(first.test_y, again.test_y), "cache reloads"
    other = data.nmnist_sim_data(8, 4, num_bins=5, seed=1, root=bundled_root, source="bundled")
    assert not torch.equal(first.train_x, other.train_x), "another seed is another data set"


def test_nmnist_sim_data_refuses_more_digits_than_the_source_has(bundled_root):
    with pytest.raises(ValueError, match="has only 1000"):
        data.nmnist_sim_data(1, 1001, root=bundled_root, source="bundled", cache=False)


@pytest.mark.parametrize("rule", ["bp", "adaptive"])
def test_recurrent_spiking_mlp_trains_on_simulated_events(bundled_root, rule):
    from labkit.models import SpikingMLP
    from labkit.training import train

    d = data.nmnist_sim_data(48, 16, num_bins=8, root=bundled_root, source="bundled")
    model = SpikingMLP(sizes=(2 * SENSOR * SENSOR, 32, 10), recurrent=True, seed=0)
    before = model.recurrent.weight.detach().clone()
    history = train(model, rule, d, 1, batch_size=16, progress=False)
    assert np.isfinite(history.loss[0]), "the loss stays finite"
    assert 0 <= history.test_acc[0] <= 1
    assert not torch.equal(before, model.recurrent.weight), "the recurrent weights learn"


# ----------------------------------------------------------------------------- real N-MNIST


def test_load_nmnist_without_the_data_says_how_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="train.zip") as info:
        data.load_nmnist("test", root=tmp_path, progress=False)
    assert "nmnist_sim_data" in str(info.value), "the message offers the simulated stand-in"
    assert not data.nmnist_available(tmp_path)


def test_load_nmnist_reads_tonics_layout(tmp_path, digits):
    # A miniature N-MNIST in tonic's layout, written with the binary writer (tests/test_nmnist_real.py
    # runs `labkit reproduce` on one and damages its files).
    folder = tmp_path / "nmnist" / "NMNIST"
    folder.mkdir(parents=True)
    (folder / "test.zip").touch()
    labels = [3, 3, 5, 8]
    for i, (label, events) in enumerate(zip(labels, simulate_saccades(digits[:4]))):
        data.write_nmnist_file(folder / "Test" / str(label) / f"{i:05d}.bin", events)
    with pytest.warns(UserWarning, match="holds 4 recordings"):  # far fewer than N-MNIST's 10,000
        x, y = data.load_nmnist("test", root=tmp_path, num_bins=5, progress=False)
    assert x.shape == (4, 5, 2, SENSOR, SENSOR) and set(x.unique().tolist()) <= {0.0, 1.0}
    assert y.tolist() == labels, "labels come from the class folders"
    assert list((tmp_path / "cache").glob("nmnist-*.npz")), "converted frames are cached"


def test_fetch_nmnist_failure_explains_manual_placement(tmp_path, monkeypatch):
    def offline(self):
        raise urllib.error.URLError("no route to host")

    monkeypatch.setattr(tonic.datasets.NMNIST, "download", offline)
    with pytest.raises(FileNotFoundError, match="could not download N-MNIST") as info:
        data.fetch_nmnist(tmp_path)
    assert "Train/0/00002.bin" in str(info.value), "the message shows where the files go"

    from labkit.cli import main

    assert main(["data", "fetch", "nmnist", "--root", str(tmp_path)]) == 2, "the command fails cleanly"


# ----------------------------------------------------------------------------- the chapter's dashboard
# (labkit.widgets.event_camera_explorer draws labkit.plotting.plot_event_frames of simulated events)


@pytest.mark.parametrize("corner", [0, 1])
def test_event_camera_view_draws_at_the_ends_of_its_sliders(digits, corner):
    from matplotlib.figure import Figure

    from labkit.widgets import EVENT_CAMERA_SLIDERS, event_camera_view

    values = {name: limits[corner] for name, limits in EVENT_CAMERA_SLIDERS.items()}
    fig = event_camera_view(digits[0], **values)
    assert isinstance(fig, Figure) and len(fig.axes) >= values["num_bins"], "one panel per time bin"
