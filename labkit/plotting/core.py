"""What every plot helper shares: arrays from tensors, time-first traces, an Axes to draw into."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

__all__ = ["as_numpy", "as_traces", "new_axes"]


def as_numpy(x) -> np.ndarray:
    """A tensor (any device, with or without grad) or array-like as a NumPy array."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def as_traces(x) -> np.ndarray:
    """``[T]`` or ``[T, 1, ..., K]`` as a 2-D ``[T, K]`` array (one column per trace)."""
    a = as_numpy(x)
    return a.reshape(a.shape[0], -1) if a.ndim else a.reshape(1, 1)


def new_axes(ax: Axes | None, figsize=(6.4, 3.2)) -> Axes:
    if ax is not None:
        return ax
    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax
