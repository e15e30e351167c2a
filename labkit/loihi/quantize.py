r"""Loihi's fixed-point LIF, quantisation of a trained network, and a torch emulation of both.

**What the chip computes.** Loihi (Davies et al., IEEE Micro 38(1), 2018) keeps every number
as a small integer. Lava's bit-accurate models (``lava.proc.dense.models.PyDenseModelBitAcc``,
``lava.proc.lif.models.PyLifModelBitAcc``, lava-nc 0.10) describe one time step of a
Dense → LIF layer as::

    a   = (Σ_i m_ij s_i) · 2^e_w                 synaptic input; m: 8-bit weight mantissas
    u  ← u·(4096 − du − 1) / 4096  +  a · 2^6    current (24 bit); du = 4095 → no memory
    v  ← v·(4096 − dv) / 4096  +  u  +  b_m·2^e_b  voltage (24 bit), bias mantissa and exponent
    s   = v > vth · 2^6                           spike; threshold mantissa vth (17 bit)
    v  ← 0 where s                                reset to zero, no refractory period

where each product with a decay is rounded towards zero (``sign(x)·(|x| >> 12)``), ``u``
wraps around at ±2^23 and ``v`` saturates there. Mixed-sign weights lose their least
significant bit (Lava shifts them right and left by one), so the usable mantissas are the even
numbers −254 … 254. (Mantissa 255 is never produced here.)

**The float model it approximates.** With du = 4095 the current forgets at once (u = a), and
the voltage is exactly the lab's LIF (`labkit.neurons`, reset "zero"; ``lif_step`` writes the reset
one step later, the same spikes, and records the membrane before the reset, Lava after it):

.. math::  v_t = \beta\, v_{t-1} + W s_t + b, \qquad s_t = H(v_t - \theta), \qquad v_t \leftarrow 0 \text{ if } s_t

**The mapping.** Choose, per layer, a scale σ (integer units per unit of membrane): then

.. math::

    m_{ij}\, 2^{e_w} \approx \sigma W_{ij}, \qquad vth = \theta\sigma, \qquad
    b_m 2^{e_b} \approx 2^6 \sigma b, \qquad dv = \mathrm{round}(4096(1-\beta)), \quad du = 4095

σ is picked so that the largest weight uses the largest mantissa (254) and the threshold is an
exact integer: ``vth = floor(θ · 254 · 2^e_w / max|W|)``, ``σ = vth / θ``; the weight exponent
e_w is raised from 0 until vth ≥ ``min_vth`` (so θ is resolved finely) and lowered while
vth exceeds its 17 bits. The weights are then the only coarse part: their rounding error is at
most half a mantissa step, ``2^e_w / σ`` (≈ max|W| / 254) in float units.

`emulate_fixed_point` runs the integer recurrence in torch (int64), so the accuracy lost to
quantisation is measured without Lava; the tests check it against Lava's ``fixed_pt`` models spike
for spike. `model_from_bundle` gives back the float `SpikingMLP` a bundle was made from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ..foundation.validation import check_int
from ..models import SNNOutput, SpikingMLP
from ..neurons import LIFParams
from .bundle import Bundle, LayerBundle

__all__ = ["DECAY_UNITY", "QuantConfig", "decay_register", "dequantize_layer", "emulate_fixed_point", "emulate_float",
           "loihi_dense", "loihi_lif_step", "model_from_bundle", "quantization_errors", "quantize_layer",
           "quantize_model", "quantize_weights"]

#: 2^12: decays are 12-bit fractions of this.
DECAY_UNITY = 4096
#: Synaptic input and threshold are shifted left by 6 bits to align with the 24-bit state.
STATE_SHIFT = 6
#: u and v are 24-bit signed registers.
STATE_LIMIT = 2**23
VTH_MAX = 2**17 - 1
BIAS_MANT_MIN, BIAS_MANT_MAX = -(2**12), 2**12 - 1
BIAS_EXP_MAX = 7


@dataclass(frozen=True)
class QuantConfig:
    """Settings of the float → Loihi mapping.

    Attributes:
        weight_bits: bits of the weight mantissa including sign, 2…8 (Lava's ``num_weight_bits``;
            Loihi: 8). With b bits the mantissas are multiples of 2^(9−b) up to 256 − 2^(9−b).
        min_vth: smallest acceptable threshold mantissa, 1…2^17−1; the weight exponent is raised
            until θ·σ reaches it (θ is then represented within 1/min_vth).
    """

    weight_bits: int = 8
    min_vth: int = 128

    def __post_init__(self) -> None:
        check_int("QuantConfig.weight_bits", self.weight_bits, 2, maximum=8)
        check_int("QuantConfig.min_vth", self.min_vth, 1, maximum=VTH_MAX)

    @property
    def mant_step(self) -> int:
        """Spacing of the usable mantissas: 2^(9 − weight_bits) (2 for 8 bits)."""
        return 2 ** (9 - self.weight_bits)

    @property
    def mant_max(self) -> int:
        """Largest usable mantissa: 256 − step (254 for 8 bits)."""
        return 256 - self.mant_step


def quantize_weights(w: torch.Tensor | np.ndarray, bits: int = 8) -> tuple[torch.Tensor, int]:
    r"""Symmetric power-of-two quantisation ``w ≈ mantissa · 2^exponent``, the "block floating point" of
    Loihi's synapses (one exponent per layer, a small mantissa per synapse): integer mantissas in
    :math:`[-(2^{b-1}-1),\ 2^{b-1}-1]` and the smallest exponent that fits the largest weight,

    .. math::  e = \lceil \log_2(\max|w| / (2^{b-1}-1)) \rceil, \qquad m = \mathrm{round}(w / 2^e)

    so the error is at most :math:`2^{e-1}` per weight. All-zero ``w`` gives exponent 0.
    """
    if not (isinstance(bits, int) and 2 <= bits <= 32):
        raise ValueError(f"bits must be an integer in [2, 32], got {bits!r}")
    w = torch.as_tensor(w, dtype=torch.float64)
    largest = 2 ** (bits - 1) - 1
    peak = w.abs().max().item() if w.numel() else 0.0
    if peak == 0:
        return torch.zeros_like(w, dtype=torch.int64), 0
    exponent = math.ceil(math.log2(peak / largest))
    if peak / 2.0**exponent > largest:  # guard against log2 rounding at exact powers of two
        exponent += 1
    elif peak / 2.0 ** (exponent - 1) <= largest:
        exponent -= 1
    mantissa = torch.round(w / 2.0**exponent).clamp_(-largest, largest).to(torch.int64)
    return mantissa, exponent


def decay_register(beta: float) -> int:
    """dv = round(4096 · (1 − β)), the 12-bit voltage decay for a float decay β (0…4095)."""
    if not 0.0 <= beta <= 1.0:
        raise ValueError(f"beta must lie in [0, 1], got {beta!r}")
    return int(min(DECAY_UNITY - 1, round(DECAY_UNITY * (1.0 - beta))))


def _weight_exponent(peak: float, threshold: float, config: QuantConfig) -> tuple[int, int]:
    """(e_w, vth) with vth = floor(θ·m_max·2^e_w / peak) in [min_vth, VTH_MAX] where possible."""
    if peak == 0:
        return 0, min(VTH_MAX, max(config.min_vth, 1))
    exponent = 0
    vth = math.floor(threshold * config.mant_max * 2.0**exponent / peak)
    while vth < config.min_vth and exponent < 30:
        exponent += 1
        vth = math.floor(threshold * config.mant_max * 2.0**exponent / peak)
    while vth > VTH_MAX:
        exponent -= 1
        vth = math.floor(threshold * config.mant_max * 2.0**exponent / peak)
    if vth < 1:
        raise ValueError(f"cannot represent threshold {threshold} next to weights up to {peak:.3g} in Loihi's "
                         "format; rescale the layer")
    return exponent, vth


def quantize_layer(weight: torch.Tensor | np.ndarray, bias: torch.Tensor | np.ndarray | None, *, beta: float,
                   threshold: float, config: QuantConfig = QuantConfig()) -> LayerBundle:
    """Map one float Dense → LIF layer to Loihi's registers (the mapping of the module docstring); the
    bias exponent e_b is the smallest in 0…7 with |b_m| < 2^12."""
    w = torch.as_tensor(weight, dtype=torch.float64).detach().cpu()
    b = torch.zeros(w.shape[0], dtype=torch.float64) if bias is None else torch.as_tensor(bias, dtype=torch.float64).detach().cpu()
    if w.dim() != 2 or b.shape != (w.shape[0],):
        raise ValueError(f"weight must be [n_out, n_in] and bias [n_out], got {tuple(w.shape)} and {tuple(b.shape)}")
    if not (torch.isfinite(w).all() and torch.isfinite(b).all()):
        raise ValueError("weights and biases must be finite to be quantised")
    if not threshold > 0:
        raise ValueError(f"threshold must be > 0, got {threshold!r}")
    peak = w.abs().max().item() if w.numel() else 0.0
    exponent, vth = _weight_exponent(peak, threshold, config)
    scale = vth / threshold
    step = config.mant_step
    mant = torch.round(w * scale / (2.0**exponent * step)) * step
    mant = mant.clamp_(-config.mant_max, config.mant_max).to(torch.int16)

    target = b * scale * 2**STATE_SHIFT
    bias_exp = 0
    while bias_exp < BIAS_EXP_MAX and target.abs().max().item() / 2**bias_exp > BIAS_MANT_MAX:
        bias_exp += 1
    bias_mant = torch.round(target / 2**bias_exp).clamp_(BIAS_MANT_MIN, BIAS_MANT_MAX).to(torch.int16)
    return LayerBundle(weight=w.to(torch.float32).numpy(), bias=b.to(torch.float32).numpy(), weight_mant=mant.numpy(),
                       bias_mant=bias_mant.numpy(), weight_exp=int(exponent), bias_exp=int(bias_exp), vth=int(vth),
                       du=DECAY_UNITY - 1, dv=decay_register(beta), scale=float(scale))


def dequantize_layer(layer: LayerBundle) -> tuple[torch.Tensor, torch.Tensor]:
    """The float weights and biases the fixed-point layer represents: m·2^e_w/σ and b_m·2^e_b/(2^6 σ)."""
    w = torch.as_tensor(layer.weight_mant, dtype=torch.float64) * 2.0**layer.weight_exp / layer.scale
    b = torch.as_tensor(layer.bias_mant, dtype=torch.float64) * 2.0**layer.bias_exp / (layer.scale * 2**STATE_SHIFT)
    return w, b


def quantization_errors(bundle: Bundle) -> list[dict[str, float]]:
    """Per layer: the spacing of representable weights (mantissa step · 2^e_w / σ; rounding keeps
    |W − Ŵ| within half of it), max and RMS |W − Ŵ|, max |b − b̂|, θ − vth/σ and the effective β."""
    mant_step = QuantConfig(weight_bits=int(bundle.metadata.get("weight_bits", 8))).mant_step
    rows = []
    for layer in bundle.layers:
        w_hat, b_hat = dequantize_layer(layer)
        dw = torch.as_tensor(layer.weight, dtype=torch.float64) - w_hat
        db = torch.as_tensor(layer.bias, dtype=torch.float64) - b_hat
        rows.append({"weight_step": mant_step * 2.0**layer.weight_exp / layer.scale,
                     "weight_max_error": dw.abs().max().item(), "weight_rms_error": dw.pow(2).mean().sqrt().item(),
                     "bias_max_error": db.abs().max().item() if db.numel() else 0.0,
                     "threshold_error": bundle.threshold - layer.vth / layer.scale,
                     "effective_beta": 1.0 - layer.dv / DECAY_UNITY})
    return rows


def quantize_model(model: torch.nn.Module, *, config: QuantConfig = QuantConfig(), num_steps: int = 25,
                   metadata: dict | None = None) -> Bundle:
    """Quantise a feed-forward `labkit.models.SpikingMLP` with reset "zero" (Lava's LIF implements no other
    reset and no recurrence) into a `Bundle`."""
    lif, layers = getattr(model, "lif", None), getattr(model, "layers", None)
    if lif is None or layers is None:
        raise ValueError("quantize_model expects a labkit.models.SpikingMLP")
    if getattr(model, "recurrent", None) is not None:
        raise ValueError("recurrent SpikingMLPs are not supported on the Lava path; train a feed-forward one")
    if lif.reset != "zero":
        raise ValueError(f"Lava's LIF resets to zero after a spike, but this model was trained with "
                         f"reset={lif.reset!r}; train with LIFParams(reset='zero') (SpikingMLP's default)")
    quantised = tuple(quantize_layer(layer.weight, layer.bias, beta=lif.beta, threshold=lif.threshold, config=config)
                      for layer in layers)
    meta = {"weight_bits": config.weight_bits, "min_vth": config.min_vth, "reset": lif.reset, **(metadata or {})}
    return Bundle(layers=quantised, beta=float(lif.beta), threshold=float(lif.threshold), num_steps=num_steps,
                  metadata=meta)


def _decay(x: torch.Tensor, d: int) -> torch.Tensor:
    """x · (4096 − d) / 4096 rounded towards zero, as Lava does: sign(p)·(|p| >> 12)."""
    p = x * (DECAY_UNITY - d)
    return torch.sign(p) * (p.abs() >> 12)


def loihi_dense(spikes: torch.Tensor, layer: LayerBundle) -> torch.Tensor:
    """Synaptic input a = (Σ_i m_ij s_i) · 2^e_w (right shift rounds down for e_w < 0), int64, of spikes
    ``[..., n_in]`` (0/1). The sum is exact (|Σ| ≤ 254 · n_in < 2^53 in float64)."""
    mant = torch.as_tensor(layer.weight_mant, dtype=torch.float64, device=spikes.device)
    a = (spikes.to(torch.float64) @ mant.T).to(torch.int64)
    e = layer.weight_exp
    return a << e if e >= 0 else a >> (-e)


def loihi_lif_step(a: torch.Tensor, u: torch.Tensor, v: torch.Tensor,
                   layer: LayerBundle) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One bit-accurate step of Lava's fixed-point LIF: ``s, u, v = loihi_lif_step(a, u, v, layer)``.

    Written like `labkit.neurons.lif_step`: ``v`` is the voltage *before* its reset, and the previous step's
    reset is applied first (Lava applies it at the end of a step: the same spikes). All int64::

        r = v > vth·2^6                     the previous step's spikes
        u = wrap24(decay(u, du + 1) + a·2^6)
        v = clip24(decay((1 − r)·v, dv) + u + b_m·2^e_b)
        s = v > vth·2^6
    """
    threshold = layer.vth << STATE_SHIFT
    v = v.masked_fill(v > threshold, 0)
    u = _decay(u, layer.du + 1) + (a << STATE_SHIFT)
    wrapped = torch.where(u > STATE_LIMIT, u - 2 * STATE_LIMIT, u)
    u = torch.where(wrapped <= -STATE_LIMIT, u + 2 * STATE_LIMIT, wrapped)
    bias = torch.as_tensor(layer.bias_mant, dtype=torch.int64, device=a.device) << layer.bias_exp
    v = (_decay(v, layer.dv) + u + bias).clamp(-STATE_LIMIT + 1, STATE_LIMIT - 1)
    return v > threshold, u, v


@torch.no_grad()
def emulate_fixed_point(bundle: Bundle, spikes: torch.Tensor) -> SNNOutput:
    """Run the quantised network on input spikes ``[T, B, n_in]`` with Loihi's integer arithmetic.

    Each sample starts from u = v = 0, as each image does in `labkit.loihi.lava.run_bundle`. Returns the
    spikes and, as membranes, the voltage registers before the reset in float units, v / (2^6 σ).
    """
    if spikes.dim() < 3 or spikes[0, 0].numel() != bundle.sizes[0]:
        raise ValueError(f"spikes must be [time, batch, features...] with {bundle.sizes[0]} features for this bundle, "
                         f"got shape {tuple(spikes.shape)}")
    steps = spikes.shape[0]
    s = spikes.reshape(steps, spikes.shape[1], -1).to(torch.float32)
    layer_spikes, membranes = [s], []
    for layer in bundle.layers:
        a = loihi_dense(s, layer)
        u, v = torch.zeros_like(a[0]), torch.zeros_like(a[0])
        out, trace = torch.empty(a.shape, dtype=torch.bool, device=a.device), torch.empty_like(a)
        for t in range(steps):
            out[t], u, v = loihi_lif_step(a[t], u, v, layer)
            trace[t] = v
        s = out.to(torch.float32)
        layer_spikes.append(s)
        membranes.append(trace.to(torch.float64) / (layer.scale * 2**STATE_SHIFT))
    return SNNOutput(tuple(layer_spikes), tuple(membranes))


@torch.no_grad()
def emulate_float(bundle: Bundle, spikes: torch.Tensor, *, dtype: torch.dtype = torch.float64) -> SNNOutput:
    """The bundle's float network, as Lava's floating-point models run it (`model_from_bundle` in ``dtype``):
    ``v = β·v + W s + b; s = v > θ; v = 0 after a spike``, membranes recorded before the reset."""
    return model_from_bundle(bundle).to(dtype)(spikes.to(dtype))


def model_from_bundle(bundle: Bundle) -> SpikingMLP:
    """The float `SpikingMLP` a bundle was made from (weights, biases, β, θ, reset "zero")."""
    model = SpikingMLP(bundle.sizes, lif=LIFParams(beta=bundle.beta, threshold=bundle.threshold, reset="zero"), seed=0)
    with torch.no_grad():
        for linear, layer in zip(model.layers, bundle.layers):
            linear.weight.copy_(torch.as_tensor(layer.weight))
            linear.bias.copy_(torch.as_tensor(layer.bias))
    return model
