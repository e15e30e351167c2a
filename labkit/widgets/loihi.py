"""The quantisation explorer (chapter 8): weight bits against the accuracy of the network in Loihi's integers."""

from __future__ import annotations

from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure

from ..loihi import quantize as lq
from ..training import predict
from .core import dashboard

__all__ = ["QUANTIZATION_BITS", "QuantizationSweep", "quantization_explorer", "quantization_sweep", "quantization_view"]

#: The weight bits `quantization_explorer` offers (Lava's Dense takes 2 … 8 bits including the sign).
QUANTIZATION_BITS = (2, 8, 1)


@dataclass(frozen=True)
class QuantizationSweep:
    """What the quantisation explorer shows, computed once: accuracy and weight error per weight width.

    Attributes:
        bits: the weight widths, ascending.
        accuracy: fraction correct of the fixed-point network (torch emulation) at each width.
        agreement: fraction of images whose class equals the float network's, at each width.
        float_accuracy: the float network's fraction correct on the same spikes.
        errors: per width, the first layer's weight errors W − Ŵ (float units, flattened).
        steps: per width, the spacing of the first layer's representable weights.
        images: how many test images the accuracies are measured on.
    """

    bits: tuple[int, ...]
    accuracy: tuple[float, ...]
    agreement: tuple[float, ...]
    float_accuracy: float
    errors: tuple[np.ndarray, ...]
    steps: tuple[float, ...]
    images: int


def quantization_sweep(model, spikes, labels, bits=range(2, 9)) -> QuantizationSweep:
    """Quantise ``model`` to each width in ``bits`` and run the integer network on ``spikes`` ``[T, N, 784]``."""
    x = torch.as_tensor(np.asarray(spikes), dtype=torch.float32)
    y = torch.as_tensor(np.asarray(labels))
    with torch.no_grad():
        reference = predict(model(x))
    widths = tuple(sorted(int(b) for b in bits))
    accuracy, agreement, errors, steps = [], [], [], []
    for b in widths:
        bundle = lq.quantize_model(model, config=lq.QuantConfig(weight_bits=b), num_steps=x.shape[0])
        predicted = predict(lq.emulate_fixed_point(bundle, x))
        accuracy.append(float((predicted == y).float().mean()))
        agreement.append(float((predicted == reference).float().mean()))
        w_hat, _ = lq.dequantize_layer(bundle.layers[0])
        errors.append((np.asarray(bundle.layers[0].weight, dtype=np.float64) - w_hat.double().numpy()).ravel())
        steps.append(lq.quantization_errors(bundle)[0]["weight_step"])
    return QuantizationSweep(widths, tuple(accuracy), tuple(agreement), float((reference == y).float().mean()),
                             tuple(errors), tuple(steps), int(len(y)))


def quantization_view(sweep: QuantizationSweep, bits: int) -> Figure:
    """Accuracy against weight bits with ``bits`` marked, and the first layer's rounding errors at ``bits``."""
    if bits not in sweep.bits:
        raise ValueError(f"bits must be one of {list(sweep.bits)}, got {bits!r}")
    k = sweep.bits.index(bits)
    fig = Figure(figsize=(9.5, 3.4), layout="constrained")
    left, right = fig.subplots(1, 2)
    left.axhline(100 * sweep.float_accuracy, color="0.4", ls="--", lw=1, label="float network")
    left.plot(sweep.bits, [100 * a for a in sweep.accuracy], "o-", color="C0", label="Loihi integers (emulated)")
    left.plot([bits], [100 * sweep.accuracy[k]], "o", ms=11, mfc="none", mec="C3", mew=2)
    left.set_xlabel("weight bits (sign included)")
    left.set_ylabel(f"test accuracy (%), {sweep.images} images")
    left.set_ylim(0, 100)
    left.legend(loc="lower right", fontsize="small")
    left.set_title(f"{bits} bits: {100 * sweep.accuracy[k]:.1f}% correct, same class as float for "
                   f"{100 * sweep.agreement[k]:.1f}%", fontsize="medium")
    span = 0.5 * max(sweep.steps)  # one x range for every width, so the histograms compare
    right.hist(sweep.errors[k], bins=np.linspace(-span, span, 61), color="C0")
    for x in (-sweep.steps[k] / 2, sweep.steps[k] / 2):
        right.axvline(x, color="0.3", ls="--", lw=1)
    rms = float(np.sqrt(np.mean(sweep.errors[k] ** 2)))
    right.set_xlabel("W − Ŵ, layer 1 (float weight units)")
    right.set_ylabel("synapses")
    right.set_title(f"weight step {sweep.steps[k]:.3g}, rms error {rms:.2g}", fontsize="medium")
    return fig


def quantization_explorer(model, spikes, labels, *, bits: int = 8) -> widgets.VBox:
    """A slider for the weight width (2 … 8 bits) → accuracy of the network in Loihi's integers and
    the rounding errors of its first layer. All widths are computed once (`quantization_sweep`)."""
    sweep = quantization_sweep(model, spikes, labels, range(QUANTIZATION_BITS[0], QUANTIZATION_BITS[1] + 1))
    lo, hi, step = QUANTIZATION_BITS
    controls = {"bits": widgets.IntSlider(value=bits, min=lo, max=hi, step=step, description="weight bits",
                                          continuous_update=False)}
    return dashboard(quantization_view, controls, {"sweep": sweep}, initial={"bits": bits})
