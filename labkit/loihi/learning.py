r"""STDP on Loihi's learning engine next to the lab's STDP (`labkit.stdp.stdp_update`).

Loihi learns on chip with *sum-of-products* rules evaluated at the end of every learning epoch
(Davies et al., IEEE Micro 38(1), 2018, section "Learning"), strings over dependencies (``x0``,
``y0``: the pre- or postsynaptic neuron spiked this epoch), traces (``x1``, ``y1``) and constants
mantissa·2^exponent. Pair-based STDP is Lava's ``STDPLoihi``::

    dw = A+ · x1 · y0  −  A− · y1 · x0

(potentiate by the presynaptic trace when the post neuron fires, depress by the postsynaptic
trace when the pre neuron fires). The same spike trains give, with the lab's rule,

.. math::

    \Delta W^{lab} = \sum_t A_+\, s^{post}_t \otimes x_t \;-\; A_-\, \lambda_- y_{t-1} \otimes s^{pre}_t

and with Lava's floating-point engine (``t_epoch = 1``, traces with impulse 1)

.. math::

    \Delta W^{Lava} = \sum_t \hat A_+\, s^{post}_t \otimes x_t \;-\; \hat A_-\, y_t \otimes s^{pre}_t

Two differences, both exact:

1. **Amplitudes are powers of two.** ``STDPLoihi`` writes every constant as mantissa·2^e
   with mantissa 1 below one (``lava.magma.core.learning.utils.float_to_literal``):
   :math:`\hat A = 2^{\mathrm{round}(\log_2 A)}`, e.g. A+ = 0.01 → 2⁻⁷ = 0.0078.
2. **Coincident spikes also depress.** Lava evaluates the postsynaptic trace at the
   presynaptic spike *after* adding the impulse of a postsynaptic spike in the same step
   (:math:`y_t = \lambda_- y_{t-1} + s^{post}_t`); the lab reads the trace of strictly earlier
   post spikes. The difference is :math:`-\hat A_- \sum_t s^{post}_t \otimes s^{pre}_t`, one
   depression per coincidence.

`lava_equivalent_stdp` is the lab's rule with both changes; it reproduces Lava's float engine
to float32 precision. In ``fixed_pt`` the traces are 7-bit integers decayed with stochastic
rounding and the weight changes are integers, so what remains is rounding noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ..stdp import STDPParams, stdp_update
from .lava import lava_stdp
from .sidecar import in_lava

__all__ = ["STDPComparison", "coincidences", "compare_stdp", "demo_spike_trains", "lava_amplitude",
           "lava_equivalent_stdp", "loihi_literal"]


def loihi_literal(value: float) -> float:
    """The value Lava's ``float_to_literal`` makes of a learning constant: below 1 in magnitude,
    sign · 2^round(log2 |value|); above, int(|value|) · 2^round(log2(|value| / int(|value|)))."""
    if value == 0:
        return 0.0
    magnitude = abs(value)
    mantissa = max(int(magnitude), 1)
    remainder = magnitude / mantissa
    exponent = 0 if remainder == 1 else int(np.round(np.log2(remainder)))
    return math.copysign(mantissa * 2.0**exponent, value)


def coincidences(pre_spikes: torch.Tensor, post_spikes: torch.Tensor) -> torch.Tensor:
    """C[j, i] = Σ_{t,b} s^post_{t,b,j} · s^pre_{t,b,i} / B: same-step pre/post pairs ``[n_post, n_pre]``."""
    steps, batch = pre_spikes.shape[:2]
    return post_spikes.reshape(steps * batch, -1).T @ pre_spikes.reshape(steps * batch, -1) / batch


def lava_amplitude(amplitude: float, *, impulse: int = 1, weight_scale: float = 1.0) -> float:
    """The constant Lava's rule gets for a lab amplitude A: A·σ/impulse (σ: weight units per lab
    unit; the traces count ``impulse`` per spike), rounded as ``float_to_literal`` rounds it."""
    return loihi_literal(amplitude * weight_scale / impulse)


def lava_equivalent_stdp(pre_spikes: torch.Tensor, post_spikes: torch.Tensor, params: STDPParams, *,
                         impulse: int = 1, weight_scale: float = 1.0) -> torch.Tensor:
    """Lava's floating-point ``STDPLoihi`` update written with the lab's functions (module docstring): amplitudes
    rounded where Lava rounds them, as A·σ/impulse (`lava_amplitude`), and the coincidence term.
    ``[time, batch, n]`` spikes in, ``[n_post, n_pre]`` out, in the lab's weight units."""
    def effective(a: float) -> float:
        return lava_amplitude(a, impulse=impulse, weight_scale=weight_scale) * impulse / weight_scale

    rounded = STDPParams(A_plus=effective(params.A_plus), A_minus=effective(params.A_minus),
                         tau_plus=params.tau_plus, tau_minus=params.tau_minus)
    return stdp_update(pre_spikes, post_spikes, rounded) - rounded.A_minus * coincidences(pre_spikes, post_spikes)


def demo_spike_trains(n_pre: int = 20, n_post: int = 10, steps: int = 200, *, rate: float = 0.05, causal: float = 0.5,
                      lag: int = 2, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Pre- and postsynaptic spike trains ``[T, 1, n]`` with some structure to learn.

    Every neuron fires at random with probability ``rate`` per step; in addition, post neuron
    j fires ``lag`` steps after a spike of pre neuron j with probability ``causal`` (j < n_pre),
    so pairs (j, j) should potentiate and the rest stay near zero on average.
    """
    if not (0 <= rate <= 1 and 0 <= causal <= 1):
        raise ValueError(f"rate and causal are probabilities in [0, 1], got {rate!r} and {causal!r}")
    if not (isinstance(lag, int) and 0 <= lag < steps):
        raise ValueError(f"lag must be an integer in [0, steps), got {lag!r}")
    pre = (torch.rand((steps, 1, n_pre), generator=generator) < rate).float()
    post = (torch.rand((steps, 1, n_post), generator=generator) < rate).float()
    drive = torch.zeros_like(post)
    k = min(n_pre, n_post)
    drive[lag:, :, :k] = pre[: steps - lag, :, :k]
    follow = torch.rand(drive.shape, generator=generator) < causal
    post = torch.clamp(post + drive * follow, max=1.0)
    return pre, post


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.ravel(), b.ravel()
    return float(np.corrcoef(a, b)[0, 1]) if a.std() > 0 and b.std() > 0 else float("nan")


@dataclass
class STDPComparison:
    """The lab's and Lava's weight changes for the same spike trains (all ``[n_post, n_pre]``)."""

    mode: str
    rule: str
    dw_lab: np.ndarray  #: `labkit.stdp.stdp_update` with the given parameters
    dw_lava: np.ndarray  #: Lava's ΔW divided by σ (the lab's units)
    dw_explained: np.ndarray  #: `lava_equivalent_stdp`: the lab's rule with Lava's two differences
    amplitudes: tuple[float, float]  #: the constants in Lava's rule (A·σ/impulse, rounded to powers of two)
    coincident_pairs: int

    @property
    def correlation(self) -> float:
        """Pearson correlation of the lab's and Lava's ΔW (over all synapses)."""
        return _correlation(self.dw_lab, self.dw_lava)

    @property
    def correlation_explained(self) -> float:
        """Correlation of Lava's ΔW with `lava_equivalent_stdp` (1 up to rounding)."""
        return _correlation(self.dw_explained, self.dw_lava)

    @property
    def residual(self) -> float:
        """max |ΔW_Lava − ΔW_explained|: what the two differences do not account for."""
        return float(np.abs(self.dw_lava - self.dw_explained).max())


def compare_stdp(pre_spikes: torch.Tensor, post_spikes: torch.Tensor, params: STDPParams = STDPParams(), *,
                 mode: str = "float", impulse: int = 1, weight_scale: float = 1.0, seed: int = 0) -> STDPComparison:
    """Run the same spike trains ``[T, 1, n]`` through `stdp_update` and, where Lava runs (`in_lava`), through
    ``LearningDense`` with ``STDPLoihi`` (`labkit.loihi.lava.lava_stdp`: weights from zero, one learning epoch
    per step, ``post`` driving the back-propagating action potential port).

    ``impulse`` is Lava's trace increment per spike (at most 127 in fixed point, where the traces are 7-bit
    integers with stochastic rounding seeded by ``seed``). ``weight_scale`` σ expresses the weights in Lava's
    units: on the chip they are integers, σ per unit of the lab's weights (`labkit.loihi.quantize`: several
    hundred for the paper's network). Lava's rule gets the amplitudes A·σ/impulse (`lava_amplitude`), so
    that its ΔW, divided by σ, is in the lab's units.
    """
    if mode not in ("float", "fixed"):
        raise ValueError(f"mode must be 'float' or 'fixed', got {mode!r}")
    if not weight_scale > 0:
        raise ValueError(f"weight_scale must be > 0, got {weight_scale!r}")
    if pre_spikes.dim() != 3 or pre_spikes.shape[1] != 1 or post_spikes.shape[:2] != pre_spikes.shape[:2]:
        raise ValueError("pass one pair of trains: pre [T, 1, n_pre] and post [T, 1, n_post]")
    if params.soft_bound:
        raise ValueError("Lava's STDPLoihi is additive; compare with soft_bound=False")
    dw_lab = stdp_update(pre_spikes, post_spikes, params).double().numpy()
    explained = lava_equivalent_stdp(pre_spikes.double(), post_spikes.double(), params, impulse=impulse,
                                     weight_scale=weight_scale).numpy()
    a_plus = lava_amplitude(params.A_plus, impulse=impulse, weight_scale=weight_scale)
    a_minus = lava_amplitude(params.A_minus, impulse=impulse, weight_scale=weight_scale)
    for name, value in (("A_plus", a_plus), ("A_minus", a_minus)):
        if value and abs(value) < 2.0**-7:
            raise ValueError(f"{name}·σ/impulse rounds to {value:.3g}: Loihi's learning constants are mantissa·2^e "
                             "with e in −7…9, so at least 2^-7; raise weight_scale or lower impulse")
    options = {"A_plus": a_plus, "A_minus": a_minus, "tau_plus": float(params.tau_plus),
               "tau_minus": float(params.tau_minus), "mode": mode, "impulse": int(impulse), "seed": int(seed)}
    lava = in_lava(lava_stdp)(pre_spikes[:, 0].bool().numpy(), post_spikes[:, 0].bool().numpy(), options)
    return STDPComparison(mode=mode, rule=str(lava["rule"]), dw_lab=dw_lab, dw_explained=explained,
                          dw_lava=np.asarray(lava["dw"]) / weight_scale, amplitudes=(a_plus, a_minus),
                          coincident_pairs=int(coincidences(pre_spikes, post_spikes).sum().item()))
