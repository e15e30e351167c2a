"""labkit.plotting: seed-averaged curves with their spread."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from labkit.plotting import plot_spread


def _axes():
    return Figure().subplots()


def test_plot_spread_draws_a_band_from_mean_minus_to_mean_plus_spread():
    ax = plot_spread({"bp": ([1, 2, 3], [90.0, 95.0, 96.0], [1.0, 0.5, 0.2], 3)}, _axes())
    (band,) = [c for c in ax.collections if isinstance(c, PolyCollection)]
    ys = band.get_paths()[0].vertices[:, 1]
    assert np.isclose(ys.min(), 89.0) and np.isclose(ys.max(), 96.2), "the band spans mean ± spread"
    assert ax.get_legend().get_texts()[0].get_text() == "bp (n = 3)", "the legend says how many seeds"


def test_plot_spread_bars_draw_one_error_bar_per_point():
    ax = plot_spread({"a": ([0.0, 0.3], [97.0, 70.0], [0.1, 4.0]), "b": ([0.0, 0.3], [97.5, 66.0], [0.2, 1.0])},
                     _axes(), style="bars")
    assert len(ax.containers) == 2, "one error-bar container per curve"
    assert [len(c.lines[2][0].get_segments()) for c in ax.containers] == [2, 2], "one bar per point"


def test_plot_spread_rejects_mismatched_lengths_and_unknown_styles():
    with pytest.raises(ValueError, match="same length"):
        plot_spread({"a": ([1, 2], [90.0], [1.0])}, _axes())
    with pytest.raises(ValueError, match="style"):
        plot_spread({}, _axes(), style="dots")
