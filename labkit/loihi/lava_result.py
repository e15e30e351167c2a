"""`LavaResult`: what a Lava run of a model bundle returns (a record; numpy only)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..foundation.errors import LabkitError
from .spike_readout import predict_from_spikes

__all__ = ["LavaResult", "LavaUnavailable"]


class LavaUnavailable(LabkitError, RuntimeError):
    """Neither an importable Lava nor a Lava sidecar interpreter was found."""


@dataclass
class LavaResult:
    """What a Lava run returns (time first, like the rest of the lab).

    Attributes:
        out_spikes: output-layer spikes ``[T, N, n_out]`` (bool).
        out_membrane: output-layer membrane before the reset ``[T, N, n_out]`` (float units) with
            ``record="spikes"``; None with ``record="counts"`` (no membrane probe).
        layer_counts: spikes per image per LIF layer ``[N, L]`` (int64).
        spikes: with ``record="spikes"``, every LIF layer's spikes ``[T, N, n]`` (bool); else None.
        mode: ``"float"`` or ``"fixed"``.
        backend: ``"in-process"`` or ``"sidecar"``.
        steps: simulated time steps in total (all workers).
        lava_seconds: wall time of building, running and reading the Lava networks (the slowest
            worker when several ran side by side).
        total_seconds: wall time of the call, including the sidecar's start-up and file transfer.
        workers: Lava networks run side by side, each on its share of the images.
        copies: copies of the network inside each Lava network (block-diagonal Dense layers).
    """

    out_spikes: np.ndarray
    out_membrane: np.ndarray | None
    layer_counts: np.ndarray
    spikes: list[np.ndarray] | None
    mode: str
    backend: str
    steps: int
    lava_seconds: float
    total_seconds: float
    workers: int = 1
    copies: int = 1

    @property
    def num_samples(self) -> int:
        return int(self.out_spikes.shape[1])

    @property
    def samples_per_second(self) -> float:
        """Images per second of Lava wall time (building and reading included)."""
        return self.num_samples / self.lava_seconds if self.lava_seconds > 0 else float("nan")

    @property
    def steps_per_second(self) -> float:
        """Simulated steps per second of Lava wall time, summed over the workers."""
        return self.steps / self.lava_seconds if self.lava_seconds > 0 else float("nan")

    def predictions(self, readout: str | None = None) -> np.ndarray:
        """Class per image (`labkit.loihi.spike_readout.predict_from_spikes`; ``readout`` None:
        ``count_membrane`` where the membrane was recorded, else ``count``)."""
        return predict_from_spikes(self.out_spikes, self.out_membrane, readout=readout)
