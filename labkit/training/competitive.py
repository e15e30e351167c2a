"""The competitive layer's training loop: unsupervised STDP, then label assignment and a test pass.

`train_competitive` presents the training images in batches (seeded order and rate code,
`labkit.foundation.seeds`: counter streams per epoch and batch), lets `labkit.competitive`'s
layer learn with STDP, labels every neuron from its responses to the labelled training images
(learning off) and classifies the test images. Its checkpoint follows the one resume rule of
`labkit.training.checkpoint`.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import torch

from ..competitive import CompetitiveLayer, CompetitiveParams, classify, confusion_matrix
from ..foundation.runtime import cpu_threads, resolve_device
from ..foundation.validation import check_int
from ..foundation.seeds import Stream, counter_generator, pass_seed
from .checkpoint import check_resumable, data_identity, read_checkpoint, write_checkpoint

__all__ = ["CompetitiveResult", "train_competitive"]


@dataclass
class CompetitiveResult:
    """What `train_competitive` measured (fractions in [0, 1], times in seconds)."""
    test_acc: float
    per_class_acc: list[float]
    confusion: list[list[int]]
    train_seconds: float
    label_seconds: float
    test_seconds: float
    neurons_per_class: list[int]
    silent_neurons: int
    spikes_per_image: float
    config: dict = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)


def train_competitive(
    data,
    n_neurons: int = 500,
    epochs: int = 1,
    seed: int = 0,
    num_steps: int = 25,
    progress: bool = True,
    checkpoint: str | os.PathLike | None = None,
    *,
    params: CompetitiveParams = CompetitiveParams(),
    batch_size: int = 32,
    test_steps: int | None = None,
    train_limit: int | None = None,
    checkpoint_every: int = 200,
    device: str | torch.device = "cpu",
    threads: int | None = 1,
    callback: Callable[[dict], bool | None] | None = None,
    encoder=None,
) -> tuple[CompetitiveLayer, CompetitiveResult | None]:
    """Train a competitive STDP layer without labels, label its neurons, classify the test set.

    Args:
        data: a `labkit.training.Data` tuple (images ``[N, 28, 28]`` in [0, 1]).
        n_neurons: excitatory neurons (paper: 500; Diehl and Cook: 100 … 6400).
        epochs: passes over the training images (with a checkpoint: the target, not the number left).
        seed: seeds the initial weights, the image order and the rate code.
        num_steps: T, time steps per image while learning.
        progress: show a tqdm bar.
        checkpoint: file written atomically every ``checkpoint_every`` batches, at the end of
            every epoch and when done; if it exists, training resumes from it exactly.
        params: the layer's parameters.
        batch_size: images presented at once with shared W and θ (module docstring).
        test_steps: time steps per image for labelling and testing (default ``num_steps``).
        train_limit: use only the first ``train_limit`` training images.
        device: ``"cpu"``, ``"cuda"`` or ``"auto"``.
        threads: CPU threads while training (1 is fastest on a busy or two-core CPU; None: leave
            torch's setting); restored afterwards.
        encoder: what turns a batch of ``data`` into input spikes: None (default) is the layer's rate code of
            images; an encoder of `labkit.encoders` (e.g. ``data.encoder`` of simulated N-MNIST, a
            `FrameEncoder`) makes the layer read that encoder's spikes, its inputs counted per step.
        callback: called after every batch with ``{"epoch", "batch", "batches", "layer"}``;
            returning False stops (after writing the checkpoint) and returns ``(layer, None)``.

    Returns:
        ``(layer, result)``; labels come from the responses to the training images (learning off).
    """
    for name, value in (("n_neurons", n_neurons), ("epochs", epochs), ("batch_size", batch_size),
                        ("num_steps", num_steps), ("checkpoint_every", checkpoint_every)):
        check_int(name, value)
    test_steps = num_steps if test_steps is None else test_steps
    check_int("test_steps", test_steps)
    device = resolve_device(device)
    train_x, train_y = data.train_x, data.train_y
    if train_limit is not None:
        check_int("train_limit", train_limit)
        train_x, train_y = train_x[:train_limit], train_y[:train_limit]
    if len(train_x) == 0 or len(data.test_x) == 0:
        raise ValueError("train_competitive needs training and test images")
    n_classes = int(max(train_y.max(), data.test_y.max())) + 1
    config = {
        "n_neurons": n_neurons, "epochs": epochs, "seed": seed, "num_steps": num_steps, "test_steps": test_steps,
        "batch_size": batch_size, "params": asdict(params), **({} if encoder is None else {"encoder": repr(encoder)}),
        **data_identity(getattr(data, "name", "data"), train_x, train_y, data.test_x, data.test_y),
    }
    n_inputs = train_x[0].numel() if encoder is None else encoder.static(train_x[:1])[0].numel()
    layer = CompetitiveLayer(n_neurons, n_inputs, params, seed=seed, n_classes=n_classes, encoder=encoder).to(device)
    start_epoch, start_batch, train_seconds = 0, 0, 0.0
    ckpt = Path(checkpoint) if checkpoint is not None else None
    if ckpt is not None and ckpt.is_file():
        state = read_checkpoint(ckpt, map_location=device,
                                required=("layer", "config", "epoch", "batch", "train_seconds"))
        check_resumable(ckpt, state["config"], config, [k for k in config if k != "epochs"])
        if state["epoch"] > epochs:
            raise ValueError(f"checkpoint {ckpt} already holds {state['epoch']} epochs, more than epochs={epochs}")
        layer.load_state_dict(state["layer"])
        start_epoch, start_batch, train_seconds = state["epoch"], state["batch"], state["train_seconds"]
        if state.get("result") is not None and state["epoch"] == epochs:
            return layer, CompetitiveResult(**state["result"])

    def save(epoch: int, batch: int, result: CompetitiveResult | None = None) -> None:
        if ckpt is not None:
            write_checkpoint(ckpt, {"layer": layer.state_dict(), "config": {**config, "epochs": epochs}, "epoch": epoch,
                          "batch": batch, "train_seconds": train_seconds,
                          "result": None if result is None else asdict(result)})

    from tqdm.auto import tqdm

    n = len(train_x)
    batches = math.ceil(n / batch_size)
    with cpu_threads(device, threads):
        for epoch in range(start_epoch, epochs):
            order = torch.randperm(n, generator=counter_generator(seed, Stream.BATCH_ORDER, epoch))
            first = start_batch if epoch == start_epoch else 0
            bar = tqdm(range(first, batches), desc=f"STDP epoch {epoch + 1}/{epochs}", disable=not progress,
                       initial=first, total=batches, leave=False)
            started = time.perf_counter()
            for b in bar:
                x = train_x[order[b * batch_size : (b + 1) * batch_size]].to(device)
                g_code = counter_generator(seed, Stream.RATE_CODE, epoch, b, device=device)
                spikes_in = layer.encode(x, num_steps, g_code)
                with torch.no_grad():
                    layer.learn(spikes_in, layer(spikes_in))
                stop = callback is not None and callback(
                    {"epoch": epoch, "batch": b, "batches": batches, "layer": layer}) is False
                if stop or (b + 1) % checkpoint_every == 0 or b + 1 == batches:
                    train_seconds += time.perf_counter() - started
                    started = time.perf_counter()
                    save(epoch + 1, 0) if b + 1 == batches else save(epoch, b + 1)
                if stop:
                    bar.close()
                    return layer, None
            bar.close()
        passes = _label_and_classify(layer, train_x, train_y, data.test_x, test_steps, seed, n_classes)
    result = _result(layer, passes, data.test_y, n_classes, train_seconds, config)
    save(epochs, 0, result)
    return layer, result


def _label_and_classify(layer: CompetitiveLayer, train_x, train_y, test_x, test_steps: int, seed: int,
                        n_classes: int) -> tuple[torch.Tensor, torch.Tensor, float, float]:
    """The labelling pass over the training images and the test pass (learning off):
    ``(train_counts, predictions, label_seconds, test_seconds)``."""
    started = time.perf_counter()
    train_counts = layer.fit_labels(train_x, train_y, test_steps, seed=pass_seed(seed, Stream.LABELLING))
    label_seconds = time.perf_counter() - started
    started = time.perf_counter()
    test_counts = layer.respond(test_x, test_steps, seed=pass_seed(seed, Stream.TEST_PASS))
    predictions = classify(test_counts, layer.neuron_labels.cpu(), n_classes)
    return train_counts, predictions, label_seconds, time.perf_counter() - started


def _result(layer: CompetitiveLayer, passes, test_y: torch.Tensor, n_classes: int, train_seconds: float,
            config: dict) -> CompetitiveResult:
    """The `CompetitiveResult` of a trained and labelled layer from `_label_and_classify`'s passes."""
    train_counts, predictions, label_seconds, test_seconds = passes
    confusion = confusion_matrix(test_y.cpu(), predictions, n_classes)
    labels = layer.neuron_labels.cpu()
    return CompetitiveResult(
        test_acc=(predictions == test_y.cpu()).double().mean().item(),
        per_class_acc=(confusion.diag().double() / confusion.sum(dim=1).clamp(min=1).double()).tolist(),
        confusion=confusion.tolist(),
        train_seconds=train_seconds,
        label_seconds=label_seconds,
        test_seconds=test_seconds,
        neurons_per_class=torch.bincount(labels[labels >= 0], minlength=n_classes).tolist(),
        silent_neurons=int((labels < 0).sum()),
        spikes_per_image=float(train_counts.sum(dim=1).mean()),
        config=config,
    )
