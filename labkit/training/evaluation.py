"""Evaluation: a trained network's test accuracy, its predicted classes, and every readout at once.

Each evaluator runs the same forward passes over the test inputs in batches: input noise of
level σ as the protocol ``noise`` puts it in (`labkit.noise.NOISE_PROTOCOLS`; the default
``"pixel_clip"`` adds ``σ·N(0, 1)`` to the pixels and clips to [0, 1]; the paper's robustness
test uses σ = 0.3), through the inputs' encoder (`labkit.encoders`: the rate code for images,
frames made time-first for event data; compact frames become float32 one batch at a time). Noise
and spikes come from the named streams EVAL_NOISE and EVAL_CODE of
`labkit.foundation.seeds`, so a given seed gives the same numbers every time and in every
evaluator: ``evaluate(..., readout=r)`` equals ``evaluate_readouts(...)["accuracy"][r]`` and is
the share of `predict_classes` that matches the labels.
"""

from __future__ import annotations

import math
from typing import Iterator

import torch
from torch import nn

from ..encoders import Encoder, FrameEncoder, RateEncoder, frames_if_temporal
from ..foundation.errors import LabkitError
from ..foundation.io import check_finite
from ..foundation.runtime import resolve_device
from ..foundation.seeds import Stream, epoch_generator
from ..models import ANNBaseline
from ..noise import DEFAULT_NOISE, LIST_TRANSPARENT, check_noise, noisy_input, noisy_static
from ..readout import DEFAULT_LOSS, NATURAL_READOUT, ReadoutTally, check_readout, predict
from .inputs import as_images, as_labels

__all__ = ["default_readout", "evaluate", "evaluate_readouts", "model_inputs", "predict_classes"]


def default_readout() -> str:
    """The readout of ``readout=None``: the natural readout of the default loss (`labkit.readout.NATURAL_READOUT`),
    the one `labkit.training.train` reports its accuracies with when given no loss and no readout."""
    return NATURAL_READOUT[DEFAULT_LOSS]


def model_inputs(model: nn.Module, x: torch.Tensor, encoder: Encoder, num_steps: int,
                 generator: torch.Generator | None) -> torch.Tensor:
    """What ``model`` reads for the batch ``x``: time-first input ``[T, B, …]`` from ``encoder``, or one static
    input per sample for the ANN baseline. A model may ask for its own form of the same input (`_encoder_for`)."""
    if isinstance(model, ANNBaseline):
        return encoder.static(x)
    return _encoder_for(model, encoder, x)(x, num_steps, generator)


def _encoder_for(model: nn.Module, encoder: Encoder, x: torch.Tensor) -> Encoder:
    """``encoder``, or the one a model of the fast backend asks for (``input_encoder``: the same spikes as their
    list alone, `labkit.fast.FastSpikingMLP`)."""
    ask = getattr(model, "input_encoder", None)
    return encoder if ask is None else ask(encoder, x)


def _test_outputs(model, x, y, *, noise_sigma, noise, num_steps, encoder, batch_size, seed, device) -> Iterator:
    """Forward passes over ``x`` in batches: yields ``(output, labels)`` (labels None without ``y``)."""
    if not (math.isfinite(noise_sigma) and noise_sigma >= 0):
        raise ValueError(f"noise_sigma must be a finite number >= 0, got {noise_sigma!r}")
    check_noise(noise)
    encoder = encoder or RateEncoder()
    x = as_images(x, "x", temporal=encoder.temporal)
    if y is not None:
        y = as_labels(y, "y", count=len(x), classes=model.sizes[-1] if hasattr(model, "sizes") else None)
        if len(x) != len(y):
            raise LabkitError(f"x and y must have the same length, got {len(x)} images and {len(y)} labels")
    check_finite(dict(model.named_parameters()), f"{type(model).__name__} being evaluated")  # NaN reads as class 0
    device = resolve_device(device)
    model = model.to(device).eval()
    g_noise = epoch_generator(seed, Stream.EVAL_NOISE, 0, device)
    g_code = epoch_generator(seed, Stream.EVAL_CODE, 0, device)
    # compact frames (bool, uint8, bit-packed) become float32 one batch at a time, before any noise is added
    frames, encoder = (encoder.frames, FrameEncoder()) if isinstance(encoder, FrameEncoder) else (None, encoder)
    try:
        for start in range(0, len(x), batch_size):
            xb = x[start : start + batch_size].to(device)
            xb = xb if frames is None else frames(xb)
            labels = None if y is None else y[start : start + batch_size]
            if isinstance(model, ANNBaseline):
                inputs = noisy_static(noise, xb, noise_sigma, encoder=encoder, num_steps=num_steps, noise=g_noise)
            else:
                # protocols that pass the encoder's spikes on as they are may pass on the model's form of them
                own = noise in LIST_TRANSPARENT or noise_sigma == 0
                inputs = noisy_input(noise, xb, noise_sigma, encoder=_encoder_for(model, encoder, xb) if own else encoder,
                                     num_steps=num_steps, noise=g_noise, code=g_code)
            yield model(inputs), labels
    finally:
        model.train()


@torch.no_grad()
def predict_classes(
    model: nn.Module,
    x: torch.Tensor,
    *,
    noise_sigma: float = 0.0,
    noise: str = DEFAULT_NOISE,
    num_steps: int = 25,
    encoder: Encoder | None = None,
    batch_size: int = 1000,
    seed: int = 0,
    device: str | torch.device = "auto",
    readout: str | None = None,
    temporal: bool | None = None,
) -> torch.Tensor:
    """The class ``model`` predicts for every input of ``x`` (read with ``readout``), as a CPU tensor.

    ``readout`` None: the readout `labkit.training.train` reports with by default (`default_readout`).

    ``noise``: where noise of level ``noise_sigma`` enters (`labkit.noise.NOISE_PROTOCOLS`).
    ``encoder``: how inputs become spikes (default: the rate code; `labkit.encoders.FrameEncoder`
    for frames ``[N, T, …]``). ``temporal`` is deprecated (``temporal=True`` is ``encoder=FrameEncoder()``).
    """
    readout = default_readout() if readout is None else check_readout(readout)
    encoder = frames_if_temporal(encoder, temporal)
    predictions = [predict(output, readout).cpu() for output, _ in _test_outputs(
        model, x, None, noise_sigma=noise_sigma, noise=noise, num_steps=num_steps, encoder=encoder,
        batch_size=batch_size, seed=seed, device=device)]
    return torch.cat(predictions) if predictions else torch.zeros(0, dtype=torch.long)


@torch.no_grad()
def evaluate(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    noise_sigma: float = 0.0,
    noise: str = DEFAULT_NOISE,
    num_steps: int = 25,
    encoder: Encoder | None = None,
    batch_size: int = 1000,
    seed: int = 0,
    device: str | torch.device = "auto",
    readout: str | None = None,
    temporal: bool | None = None,
) -> float:
    """Test accuracy in [0, 1] read with ``readout`` (`labkit.readout.READOUTS`), optionally under
    input noise ``noise_sigma`` put in by the protocol ``noise`` (module docstring); the predictions
    themselves: `predict_classes`.

    ``readout`` None (the default): the readout `labkit.training.train` reports with by default
    (`default_readout`: spike counts alone, the natural readout of the default rate loss), so
    ``evaluate(model, data.test_x, data.test_y)`` after ``train(model, rule, data, epochs)`` is
    ``history.test_acc[-1]``. A model trained with another loss is read with its own readout:
    pass ``readout=history.config["readout"]``."""
    readout = default_readout() if readout is None else check_readout(readout)
    encoder = frames_if_temporal(encoder, temporal)
    predictions, targets = [], []
    for output, labels in _test_outputs(model, x, y, noise_sigma=noise_sigma, noise=noise, num_steps=num_steps,
                                        encoder=encoder, batch_size=batch_size, seed=seed, device=device):
        predictions.append(predict(output, readout).cpu())
        targets.append(labels.cpu())
    if not targets:
        return float("nan")
    return (torch.cat(predictions) == torch.cat(targets)).float().mean().item()


@torch.no_grad()
def evaluate_readouts(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    noise_sigma: float = 0.0,
    noise: str = DEFAULT_NOISE,
    num_steps: int = 25,
    encoder: Encoder | None = None,
    batch_size: int = 1000,
    seed: int = 0,
    device: str | torch.device = "auto",
    temporal: bool | None = None,
) -> dict:
    """Accuracy of every readout from the same forward passes, and the fractions of silent and tied
    digits: `labkit.readout.ReadoutTally.summary`."""
    encoder = frames_if_temporal(encoder, temporal)
    tally = ReadoutTally()
    for output, labels in _test_outputs(model, x, y, noise_sigma=noise_sigma, noise=noise, num_steps=num_steps,
                                        encoder=encoder, batch_size=batch_size, seed=seed, device=device):
        tally.add(output, labels)
    return tally.summary()
