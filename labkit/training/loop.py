r"""The training loop of every update rule, and its evaluation.

The loss and the readout are named choices of `labkit.readout` (``loss="rate"``, the default:
the per-step cross-entropy of the output spikes, averaged over T; ``"membrane"``: the earlier
per-step cross-entropy of the output membrane; ``"count"``, ``"count_mse"``). A run records both
in its config, and its test accuracy is read with ``readout`` (by default the loss's own:
spike counts alone for the spike losses).

`train` works for every rule of `labkit.rules` and for the ANN baseline (``bp`` only). It is
deterministic for a given seed: the batch order and the rate-code spikes of epoch e come from
generators seeded by (seed, e), so a run resumed from the checkpoint of epoch e continues with
exactly the random numbers an uninterrupted run would have drawn.
"""

from __future__ import annotations

import inspect
import math
import os
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ..data.record import Data
from ..encoding import check_intensities
from ..foundation.errors import LabkitError
from ..foundation.runtime import resolve_device
from ..foundation.seeds import Stream, epoch_generator
from ..foundation.validation import check_int
from ..interop.snntorch import SnnTorchNetwork, is_snntorch_network, wrap
from ..models import ANNBaseline, SNNOutput, SpikingMLP
from ..readout import DEFAULT_LOSS, NATURAL_READOUT, check_readout, loss_function, paper_loss, predict
from ..rules import RuleParams, UpdateRule, make_rule
from .checkpoint import DATA_KEYS, check_resumable, data_identity, read_checkpoint, write_checkpoint
from .evaluation import evaluate, model_inputs
from .history import History, TrainingDiverged
from .inputs import as_data, check_keywords, rule_keywords

__all__ = ["load_checkpoint", "paper_loss", "predict", "train"]


def _forward(model: nn.Module, inputs: torch.Tensor, labels: torch.Tensor, loss: str = DEFAULT_LOSS):
    output = model(inputs)
    if isinstance(output, SNNOutput):
        return output, loss_function(loss)(output, labels)
    return output, F.cross_entropy(output, labels)


# ----------------------------------------------------------------------------- checkpoints


def _check_loss(loss: torch.Tensor, epoch: int, batch: int, rule: UpdateRule) -> None:
    """Before the update: a non-finite loss must not reach the weights (the model stays as it was)."""
    if not torch.isfinite(loss):
        raise TrainingDiverged(
            f"training diverged at epoch {epoch + 1}, batch {batch + 1}: the loss became {loss.item()}. Try a "
            f"smaller learning rate (η2 = {rule.params.eta2:g}, η1 = {rule.params.eta1:g}). Checkpoints already "
            "saved are kept."
        )


def _check_weights(model: nn.Module, epoch: int, batch: int, rule: UpdateRule) -> None:
    where = f"epoch {epoch + 1}, batch {batch + 1}"
    for name, p in model.named_parameters():
        if not torch.isfinite(p).all():
            raise TrainingDiverged(
                f"training diverged at {where}: weights {name} are no longer finite. Try a smaller learning "
                f"rate (η2 = {rule.params.eta2:g}, η1 = {rule.params.eta1:g}). Checkpoints already saved are kept."
            )


#: Settings that must match for a resumed run to continue the interrupted one exactly (Adam would silently
#: keep its old η2, another seed would draw other batches, other data would make a result of neither run).
_RESUME_KEYS = ("rule", "eta1", "eta2", "kappa", "batch_size", "seed", "num_steps", "model", "sizes", *DATA_KEYS,
                "loss", "readout", "c_init", "reading", "direction")
#: What a checkpoint written before the loss and readout were recorded was trained and read with.
_EARLIER = {"SpikingMLP": {"loss": "membrane", "readout": "count_membrane"},
            "ANNBaseline": {"loss": "cross_entropy", "readout": "argmax"}}
#: The rule settings every run before the plasticity study's options had (c starts at 1, the lab's reading).
_RULE_DEFAULTS = {"c_init": 1.0, "reading": "mean", "direction": "stdp"}


def _resume(ckpt: Path | None, model: nn.Module, rule: UpdateRule, history: History, epochs: int,
            device: torch.device) -> History:
    """The history a run continues: ``history`` itself, or, when the checkpoint file exists and was
    written with the same settings, the checkpoint's (the model and the rule take its state)."""
    if ckpt is None or not ckpt.is_file():
        return history
    state = read_checkpoint(ckpt, map_location=device, required=("model", "rule", "history"))
    saved = state["history"]["config"]
    check_resumable(ckpt, {**_RULE_DEFAULTS, **_EARLIER.get(saved.get("model"), {}), **saved}, history.config,
                    _RESUME_KEYS)
    model.load_state_dict(state["model"])
    rule.load_state_dict(state["rule"])
    history = History(**state["history"])
    history.config = {**_EARLIER.get(history.config.get("model"), {}), **history.config}
    if history.epochs > epochs:
        raise ValueError(
            f"checkpoint {ckpt} already holds {history.epochs} epochs, more than the {epochs} asked for: "
            f"ask for at least {history.epochs} epochs, or use another checkpoint file"
        )
    history.config["epochs"] = epochs
    return history


# ----------------------------------------------------------------------------- training


Callback = Callable[[dict], "bool | None"]


@dataclass
class _Tally:
    """One epoch's sums over its batches, each batch weighted by its size."""

    spikes: list[float]
    loss: float = 0.0
    correct: int = 0
    seen: int = 0
    stats: dict[str, float] = field(default_factory=dict)

    def add(self, output, batch_loss: torch.Tensor, labels: torch.Tensor, stats: dict, readout: str | None) -> None:
        """Count one batch; ``readout`` None: no training accuracy."""
        self.loss += batch_loss.item() * len(labels)
        self.seen += len(labels)
        if readout is not None:
            self.correct += (predict(output, readout) == labels).sum().item()
        if isinstance(output, SNNOutput):
            for i, s in enumerate(output.spikes[1:]):
                self.spikes[i] += s.detach().mean().item() * len(labels)
        for key, value in stats.items():
            self.stats[key] = self.stats.get(key, 0.0) + value * len(labels)


def _check_arguments(model, rule, data, epochs, batch_size, num_steps, checkpoint, resume, loss, readout,
                     rule_params) -> tuple[Data, str]:
    """`train`'s argument checks, before any work: the data as the loop uses it and the readout."""
    check_int("epochs", epochs, 1)
    check_int("batch_size", batch_size, 1)
    check_int("num_steps", num_steps, 1)
    if resume and checkpoint is None:
        raise ValueError("resume=True needs a checkpoint path")
    if not isinstance(model, (SpikingMLP, ANNBaseline, SnnTorchNetwork)):
        raise ValueError(f"train expects a SpikingMLP, an ANNBaseline or an snnTorch network of Linear + Leaky layers, "
                         f"got {type(model).__name__}")
    data = as_data(data, classes=model.sizes[-1])
    if len(data.train_x) == 0:
        raise ValueError("data.train_x is empty: there is nothing to train on")
    if not data.encoder.temporal:
        check_intensities(data.train_x)
    if not isinstance(rule, UpdateRule):
        check_keywords("train", rule_params, [*_TRAIN_KEYWORDS, *rule_keywords(RuleParams)])
    loss_function(loss)
    return data, check_readout(NATURAL_READOUT[loss] if readout is None else readout)


def train(
    model: nn.Module,
    rule: str | UpdateRule,
    data: Data,
    epochs: int,
    *,
    batch_size: int = 128,
    seed: int = 0,
    device: str | torch.device = "auto",
    num_steps: int = 25,
    checkpoint: str | os.PathLike | None = None,
    resume: bool | None = None,
    callback: Callback | None = None,
    progress: bool = True,
    eval_train: bool = True,
    loss: str = DEFAULT_LOSS,
    readout: str | None = None,
    **rule_params,
) -> History:
    """Train ``model`` with ``rule`` for ``epochs`` epochs and return its `History`.

    Args:
        model: a `SpikingMLP` (any rule), an snnTorch network of ``nn.Linear`` + ``snn.Leaky(init_hidden=True)``
            layers (any rule; its own weights are trained, `labkit.interop.snntorch`) or `ANNBaseline` (``"bp"`` only).
        rule: ``"bp"``, ``"stdp"``, ``"sum"``, ``"adaptive"`` or a rule object; ``rule_params``
            (``eta1``, ``eta2``, ``kappa``, …) go to `labkit.rules.make_rule`.
        data: a `Data` tuple.
        epochs: total number of epochs (when resuming a checkpoint, the target, not the number still to run).
        batch_size: minibatch size (paper: 128).
        seed: seeds the batch order and the rate code (model weights are seeded by the model).
        device: ``"auto"``, ``"cpu"`` or ``"cuda"``.
        num_steps: T, time steps per sample (paper: 25).
        checkpoint: file to write atomically after every epoch (model, rule state, history). If it
            exists, the run resumes from it when it was written with the same settings (`labkit.training.checkpoint`).
        resume: deprecated (warns): the checkpoint rule above is the only one. ``True`` also demanded a
            checkpoint path; ``False`` refused to start when the checkpoint file exists (delete it, or
            pass another path, to start afresh).
        callback: called with a dict after every batch (``kind="batch"``, with the rule's ``stats`` of that
            batch: the dose and cosine of each STDP layer, `labkit.rules`) and epoch (``kind="epoch"``);
            returning ``False`` stops training after that batch.
        progress: show a tqdm progress bar.
        eval_train: also measure training accuracy (on the batches as they are trained).
        loss: the loss of a `SpikingMLP` (`labkit.readout.LOSSES`; default ``"rate"``, the per-step
            cross-entropy of the output spikes averaged over T). The ANN always uses cross-entropy of its logits.
        readout: how accuracies are read (`labkit.readout.READOUTS`); default: the loss's own
            (`labkit.readout.NATURAL_READOUT`: spike counts alone for the spike losses).

    Raises:
        ValueError: bad arguments, before any work starts; a checkpoint written with other settings
            (rule, learning rates, κ, batch size, seed, T, data and its size, model, loss, readout) or not by
            labkit.
        TrainingDiverged: the loss or weights became NaN/inf (says where; nothing is saved over;
            a non-finite loss is caught before it reaches the weights).
    """
    if resume is not None:
        warnings.warn("train(resume=) is deprecated: pass only checkpoint=PATH, which resumes when the file exists "
                      "and was written with the same settings and starts afresh when it does not; to start afresh "
                      "over an existing file, delete it or pass another path", DeprecationWarning, stacklevel=2)
    if is_snntorch_network(model) or isinstance(model, nn.Sequential):  # run as the rules need (labkit.interop.snntorch)
        model = wrap(model)
    data, readout = _check_arguments(model, rule, data, epochs, batch_size, num_steps, checkpoint, resume, loss,
                                     readout, rule_params)
    rule = make_rule(rule, **rule_params)
    device = resolve_device(device)
    model.to(device)
    rule.bind(model)
    history = History(config={
        "rule": rule.name, "eta1": rule.params.eta1, "eta2": rule.params.eta2, "kappa": rule.params.kappa,
        "c_init": rule.params.c_init, "reading": rule.params.reading, "direction": rule.params.direction,
        "epochs": epochs, "batch_size": batch_size, "seed": seed, "num_steps": num_steps,
        **data_identity(data.name, data.train_x, data.train_y, data.test_x, data.test_y),
        "model": type(model).__name__, "sizes": list(model.sizes), "device": device.type,
        **({"loss": loss, "readout": readout} if not isinstance(model, ANNBaseline) else _EARLIER["ANNBaseline"]),
    })
    ckpt = Path(checkpoint) if checkpoint is not None else None
    if resume is False and ckpt is not None and ckpt.is_file():
        raise LabkitError(f"checkpoint {ckpt} exists and resume=False: delete it or pass another checkpoint path "
                          "to start afresh, or leave resume out to continue it")
    history = _resume(ckpt, model, rule, history, epochs, device)

    from tqdm.auto import tqdm

    n = len(data.train_x)
    batches = math.ceil(n / batch_size)
    for epoch in range(history.epochs, epochs):
        model.train()
        started = time.perf_counter()
        order = torch.randperm(n, generator=epoch_generator(seed, Stream.BATCH_ORDER, epoch))
        g_code = epoch_generator(seed, Stream.RATE_CODE, epoch, device)
        rule.set_generator(epoch_generator(seed, Stream.PERTURB, epoch, device))
        tally = _Tally(spikes=[0.0] * (len(model.sizes) - 1))
        bar = tqdm(range(batches), desc=f"{rule.name} epoch {epoch + 1}/{epochs}", disable=not progress, leave=False)
        stop = False
        for b in bar:
            index = order[b * batch_size : (b + 1) * batch_size]
            xb, yb = data.train_x[index].to(device), data.train_y[index].to(device)
            with torch.set_grad_enabled(rule.uses_gradient):
                output, batch_loss = _forward(model, model_inputs(model, xb, data.encoder, num_steps, g_code), yb, loss)
            _check_loss(batch_loss.detach(), epoch, b, rule)
            stats = rule.step(output, batch_loss)
            _check_weights(model, epoch, b, rule)
            tally.add(output, batch_loss, yb, stats, readout if eval_train else None)
            bar.set_postfix(loss=f"{tally.loss / tally.seen:.3f}",
                            acc=f"{tally.correct / tally.seen:.3f}" if eval_train else "-")
            if callback is not None and callback({"kind": "batch", "epoch": epoch, "batch": b, "batches": batches,
                                                  "loss": batch_loss.item(), "stats": stats}) is False:
                stop = True
                break
        bar.close()
        if stop:
            history.stopped_early = True
            break
        rule.end_epoch()
        history.loss.append(tally.loss / tally.seen)
        history.train_acc.append(tally.correct / tally.seen if eval_train else float("nan"))
        history.test_acc.append(
            evaluate(model, data.test_x, data.test_y, num_steps=num_steps, encoder=data.encoder, seed=seed,
                     device=device, readout=readout)
            if len(data.test_x) else float("nan")
        )
        history.epoch_time.append(time.perf_counter() - started)
        history.spike_rate.append([s / tally.seen for s in tally.spikes] if not isinstance(model, ANNBaseline) else [])
        history.rule_stats.append({k: v / tally.seen for k, v in tally.stats.items()})
        if ckpt is not None:
            write_checkpoint(ckpt, {"model": model.state_dict(), "rule": rule.state_dict(), "history": asdict(history)})
        if progress:
            tqdm.write(
                f"{rule.name} epoch {epoch + 1}/{epochs}: loss {history.loss[-1]:.4f}  "
                f"train {history.train_acc[-1]:.4f}  test {history.test_acc[-1]:.4f}  "
                f"({history.epoch_time[-1]:.1f} s)"
            )
        if callback is not None and callback({"kind": "epoch", "epoch": epoch, "history": history}) is False:
            history.stopped_early = epoch + 1 < epochs
            break
    return history


#: train()'s own keyword arguments (the rest go to the rule's parameters).
_TRAIN_KEYWORDS = [name for name in inspect.signature(train).parameters if name != "rule_params"]


def load_checkpoint(model: nn.Module, checkpoint: str | os.PathLike) -> History:
    """Load a checkpoint's weights into ``model`` and return its history."""
    state = read_checkpoint(checkpoint, required=("model", "history"))
    model.load_state_dict(state["model"])
    return History(**state["history"])
