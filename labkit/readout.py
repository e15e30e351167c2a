r"""Losses and readouts of the output layer, as named choices.

A forward pass of `labkit.models.SpikingMLP` gives the output spikes :math:`s_t \in \{0, 1\}^C`
and membranes :math:`u_t` for t = 1 … T. The *loss* says what training asks of the output layer,
the *readout* how a class is read from it.

Losses (``LOSSES``; y is the label, :math:`n = \sum_t s_t` the spike counts, CE the
cross-entropy of softmax logits):

===============  ===============================================================  ==========
name             formula                                                          reads
===============  ===============================================================  ==========
``membrane``     :math:`\frac1T \sum_t \mathrm{CE}(u_t, y)`                         membrane
``rate``         :math:`\frac1T \sum_t \mathrm{CE}(s_t, y)` (snnTorch ``ce_rate_loss``)  spikes
``count``        :math:`\mathrm{CE}(n, y)` (snnTorch ``ce_count_loss``)              spikes
``count_mse``    :math:`\frac1C \sum_k (n_k/T - r_k)^2`, r = 0.8 for y, 0.2 else       spikes
                 (snnTorch ``mse_count_loss``)
===============  ===============================================================  ==========

The paper computes its loss "from the accumulated output spikes" and predicts from "the output
spike count accumulated across time" (Gajbhiye and Sontakke, Sec. III). ``membrane`` reads no
spike at all: a network trained with it can decide in its analogue membrane while its output
neurons stay silent (chapter 4 shows how often). The three spike losses reach the membrane
only through the surrogate derivative of the spike. ``count_mse`` also asks every output
neuron for a target *rate*, so a silent output layer is always penalised, and a loud one too.

Readouts (``READOUTS``), all from one forward pass:

* ``count``: the class with the most output spikes; ties, silence included, go to the lowest
  class index (what a spike counter on Loihi reports; no membrane needed).
* ``count_membrane``: the most output spikes, ties broken by the largest summed membrane among
  the tied classes (the lab's earlier readout).
* ``membrane``: the largest summed membrane, spikes ignored.

Which loss the paper's runs use (``DEFAULT_LOSS = "rate"``): measured on full MNIST, 784-500-10,
bp, seed 0, 2 epochs, every readout of the same network on the 10,000 test digits
(``OMP_NUM_THREADS=1 python scripts/compare_losses.py --epochs 2``; accuracy %, after epoch 2):

==========  =======  ================  ========  ========  ======
loss        count    count_membrane    membrane  silent %  tied %
==========  =======  ================  ========  ========  ======
membrane    39.28    96.37             96.37     62.86     62.86
rate        95.66    95.64             95.57     0.00      0.69
count       95.35    95.84             95.84     0.00      1.51
count_mse   95.88    95.94             95.65     0.00      1.27
==========  =======  ================  ========  ========  ======

``rate`` and ``count_mse`` both keep the output layer honest (no silent digit, spike counts
alone within 0.3 points of the best readout; ``count`` leaves 0.49 points to the membrane
tie-break); ``rate`` is the paper's formula, the temporal average of a per-step cross-entropy,
read from the output spikes, so it is the default.

`ReadoutTally` counts, over any number of batches, the correct predictions of every readout,
the digits with no output spike at all (*silent*) and those whose top spike count is shared
(*tied*, silent ones included): the two numbers that say whether a spike-count accuracy can be
trusted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Literal, get_args

import torch
import torch.nn.functional as F

from .models import SNNOutput

__all__ = [
    "DEFAULT_LOSS",
    "LOSSES",
    "NATURAL_READOUT",
    "READOUTS",
    "LossName",
    "ReadoutName",
    "ReadoutTally",
    "check_readout",
    "count_loss",
    "count_mse_loss",
    "loss_function",
    "membrane_loss",
    "paper_loss",
    "predict",
    "rate_loss",
    "silent",
    "silent_fraction",
    "tied",
]

LossName = Literal["membrane", "rate", "count", "count_mse"]
ReadoutName = Literal["count", "count_membrane", "membrane"]
READOUTS: tuple[str, ...] = get_args(ReadoutName)

#: The loss of the paper's runs (chosen by measurement: see the table in the module docstring).
DEFAULT_LOSS: str = "rate"


# ----------------------------------------------------------------------------- losses


def membrane_loss(output_membrane: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """L = (1/T) Σ_t CE(u_t, y) for output membranes ``[T, B, classes]``."""
    steps, batch, classes = output_membrane.shape
    return F.cross_entropy(output_membrane.reshape(steps * batch, classes), labels.repeat(steps))


#: The lab's earlier name of `membrane_loss` (notebooks call ``paper_loss(out.out_membrane, y)``).
paper_loss = membrane_loss


def rate_loss(output_spikes: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """L = (1/T) Σ_t CE(s_t, y): the spikes of each step ``[T, B, classes]`` as logits."""
    return membrane_loss(output_spikes, labels)  # the same formula, read from the spikes


def count_loss(output_spikes: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """L = CE(Σ_t s_t, y): the accumulated spike counts as logits."""
    return F.cross_entropy(output_spikes.sum(dim=0), labels)


def count_mse_loss(output_spikes: torch.Tensor, labels: torch.Tensor, *, correct_rate: float = 0.8,
                   incorrect_rate: float = 0.2) -> torch.Tensor:
    """L = mean over classes of (n_k / T − r_k)², r = ``correct_rate`` for the label, else ``incorrect_rate``."""
    steps, _, classes = output_spikes.shape
    target = torch.full_like(output_spikes[0], incorrect_rate)
    target.scatter_(1, labels[:, None], correct_rate)
    return F.mse_loss(output_spikes.sum(dim=0) / steps, target)


Loss = Callable[[SNNOutput, torch.Tensor], torch.Tensor]

LOSSES: dict[str, Loss] = {
    "membrane": lambda output, labels: membrane_loss(output.out_membrane, labels),
    "rate": lambda output, labels: rate_loss(output.out_spikes, labels),
    "count": lambda output, labels: count_loss(output.out_spikes, labels),
    "count_mse": lambda output, labels: count_mse_loss(output.out_spikes, labels),
}

#: The readout that matches each loss: a spike loss is read by spike counts alone.
NATURAL_READOUT: dict[str, str] = {"membrane": "count_membrane", "rate": "count", "count": "count",
                                   "count_mse": "count"}


def loss_function(name: str) -> Loss:
    """The loss called ``name`` as ``loss(output, labels)``; `ValueError` names the choices."""
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}: choose one of {', '.join(map(repr, LOSSES))}")
    return LOSSES[name]


def check_readout(name: str) -> str:
    """``name`` if it is a readout of `READOUTS`, else `ValueError` naming the choices."""
    if name not in READOUTS:
        raise ValueError(f"unknown readout {name!r}: choose one of {', '.join(map(repr, READOUTS))}")
    return name


# ----------------------------------------------------------------------------- readouts


def predict(output: SNNOutput | torch.Tensor, readout: ReadoutName = "count_membrane") -> torch.Tensor:
    """Class per sample from a forward pass (see the module docstring for the readouts).

    An ANN's logits ``[B, classes]`` are read by argmax whatever ``readout`` says.
    """
    if torch.is_tensor(output):
        return output.argmax(dim=-1)
    check_readout(readout)
    counts = output.out_spikes.sum(dim=0)
    if readout == "count":
        return counts.argmax(dim=-1)  # torch.argmax returns the first (lowest) index among equal maxima
    membrane = output.out_membrane.sum(dim=0)
    if readout == "membrane":
        return membrane.argmax(dim=-1)
    best = counts == counts.max(dim=-1, keepdim=True).values
    return membrane.masked_fill(~best, -math.inf).argmax(dim=-1)


def silent(output: SNNOutput) -> torch.Tensor:
    """``[B]`` bool: True where no output neuron spiked at any step."""
    return output.out_spikes.sum(dim=(0, 2)) == 0


def tied(output: SNNOutput) -> torch.Tensor:
    """``[B]`` bool: True where two or more classes share the largest spike count (silent samples too)."""
    counts = output.out_spikes.sum(dim=0)
    return (counts == counts.max(dim=-1, keepdim=True).values).sum(dim=-1) > 1


def silent_fraction(output: SNNOutput) -> float:
    """Fraction of the samples of ``output`` with no output spike."""
    return silent(output).float().mean().item()


@dataclass
class ReadoutTally:
    """Correct predictions of every readout, silent and tied samples, summed over batches.

    >>> tally = ReadoutTally()
    >>> for output, labels in batches:      # doctest: +SKIP
    ...     tally.add(output, labels)
    >>> tally.summary()                     # doctest: +SKIP
    {'n': 10000, 'accuracy': {'count': 0.97, ...}, 'silent_fraction': 0.01, 'tie_fraction': 0.02}

    ANN logits are tallied under the single readout ``"argmax"`` (no silent or tied fractions).
    """

    n: int = 0
    correct: dict[str, int] = field(default_factory=dict)
    silent: int = 0
    tied: int = 0
    spiking: bool = True

    def add(self, output: SNNOutput | torch.Tensor, labels: torch.Tensor) -> None:
        labels = labels.to(output.device if torch.is_tensor(output) else output.out_spikes.device)
        self.n += len(labels)
        if torch.is_tensor(output):
            self.spiking = False
            readouts = {"argmax": output.argmax(dim=-1)}
        else:
            readouts = {name: predict(output, name) for name in READOUTS}
            self.silent += int(silent(output).sum())
            self.tied += int(tied(output).sum())
        for name, pred in readouts.items():
            self.correct[name] = self.correct.get(name, 0) + int((pred == labels).sum())

    def summary(self) -> dict:
        """``{"n", "accuracy": {readout: fraction}, "silent_fraction", "tie_fraction"}`` (fractions in [0, 1];
        the two fractions are ``None`` for an ANN)."""
        frac = (lambda k: k / self.n) if self.n else (lambda k: math.nan)
        return {
            "n": self.n,
            "accuracy": {name: frac(k) for name, k in self.correct.items()},
            "silent_fraction": frac(self.silent) if self.spiking else None,
            "tie_fraction": frac(self.tied) if self.spiking else None,
        }
