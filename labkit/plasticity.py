"""The old import path of `STDPParams` and `stdp_update`; import them from `labkit.stdp`.

The competitive layer is `labkit.competitive`, its training loop `labkit.training.train_competitive`.
"""

from __future__ import annotations

from .stdp import STDPParams, stdp_update

__all__ = ["STDPParams", "stdp_update"]
