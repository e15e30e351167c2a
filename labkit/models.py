"""The networks of the paper: a spiking MLP and its ANN baseline.

`SpikingMLP` is the paper's 784 → 500 LIF → 10 LIF network (β = 0.9, θ = 1.0, arctangent
surrogate, He initialisation, no batch norm or dropout), fully connected, with an optional
recurrent hidden layer (used for event data). Each layer is::

    I_t = W s_t^{in} + b   (+ V s_{t-1}^{hidden} when recurrent)
    s_t, u_t = LIF(I_t)

Feed-forward layers compute the input currents of all T steps with one matrix product and
then run the neuron's ``sequence`` (for LIF the fused multi-step `labkit.neurons.lif_sequence`);
the recurrent layer steps the neuron's ``step`` (`labkit.neurons.lif_step`). The neuron is any
model of the `labkit.neurons.Neuron` protocol (``neuron=``; LIF by default, e.g.
``neuron=ALIF()`` for adaptive thresholds). The first layer is a `labkit.sparse.SpikeLinear`: an
`nn.Linear` whose product skips the zeros of the input spikes when they are sparse
(``input_product`` chooses). The forward pass returns every layer's spikes, so plasticity rules
read them from the same pass (no second forward pass).

This is the network every chapter trains. `labkit.fast.FastSpikingMLP` is the same network (the
same parameters, the same sums) computed faster on a CPU, for long runs: an opt-in.

The default reset is to zero: it is what Loihi does, so a trained model deploys to Lava
unchanged (chapter 8). Pass ``lif=LIFParams(reset="subtract")`` for snnTorch's default.

`ANNBaseline` is the ReLU MLP 784-500-10 the paper compares against.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn
from torch.nn.utils import skip_init

from .foundation import paper
from .neurons import ATan, LIFParams, Neuron, Surrogate
from .sparse import Product, SpikeLinear

__all__ = ["ANNBaseline", "SNNOutput", "SpikingMLP", "he_init_"]

PAPER_LIF = LIFParams(beta=paper.BETA, threshold=paper.THRESHOLD, reset="zero")


class SNNOutput:
    """What a forward pass of `SpikingMLP` records, all ``[time, batch, n]``.

    ``spikes[0]`` is the (flattened) input, ``spikes[l]`` the output of layer l;
    ``membranes[l - 1]`` the membrane of layer l. `layer_input` hands over what each layer read as
    it was: for the fast backend's input given as a list of spikes (`labkit.fast.lists.SpikeList`), that
    list, which ``spikes`` makes a dense tensor the first time it is read.
    """

    __slots__ = ("_spikes", "membranes")

    def __init__(self, spikes: tuple, membranes: tuple[torch.Tensor, ...]):
        self._spikes, self.membranes = tuple(spikes), tuple(membranes)

    @property
    def spikes(self) -> tuple[torch.Tensor, ...]:
        if self._spikes and not isinstance(self._spikes[0], torch.Tensor):  # a list of spikes: made dense once
            self._spikes = (self._spikes[0].dense(), *self._spikes[1:])
        return self._spikes

    def layer_input(self, layer: int) -> torch.Tensor:
        """The spikes layer ``layer`` read (``spikes[layer]``; the fast backend's list where it gave one)."""
        return self._spikes[layer]

    @property
    def out_spikes(self) -> torch.Tensor:
        return self._spikes[-1]

    @property
    def out_membrane(self) -> torch.Tensor:
        return self.membranes[-1]

    def __iter__(self):  # unpacks as ``spikes, membranes``
        return iter((self.spikes, self.membranes))

    def __repr__(self) -> str:
        shapes = ", ".join(str(tuple(s.shape)) for s in self._spikes)
        return f"SNNOutput(spikes of shapes {shapes})"


def _check_sizes(sizes: Sequence[int]) -> tuple[int, ...]:
    """Layer widths as a tuple of ints; `ValueError` unless at least two positive integers."""
    try:
        items = list(sizes)
        widths = tuple(int(n) for n in items)
        integral = all(int(n) == n and not isinstance(n, bool) for n in items)
    except (TypeError, ValueError):
        widths, integral = (), False
    if not integral or len(widths) < 2 or min(widths) < 1:
        raise ValueError(
            f"sizes must list at least two positive integer layer widths, e.g. (784, 500, 10); got {sizes!r}"
        )
    return widths


def he_init_(linear: nn.Linear, generator: torch.Generator | None = None) -> None:
    """He (Kaiming) normal initialisation, std = sqrt(2 / fan_in), bias zero (He et al., ICCV 2015)."""
    fan_in = linear.weight.shape[1]
    with torch.no_grad():
        linear.weight.normal_(0.0, (2.0 / fan_in) ** 0.5, generator=generator)
        if linear.bias is not None:
            linear.bias.zero_()


class SpikingMLP(nn.Module):
    """Fully connected spiking network; input ``[time, batch, ...]`` (trailing dims flattened).

    Args:
        sizes: layer widths, input first (paper: 784, 500, 10).
        lif: LIF parameters shared by all layers (the default neuron).
        neuron: the neuron model of all layers (`labkit.neurons.Neuron`, e.g. `labkit.neurons.ALIF`);
            default: LIF with ``lif``.
        surrogate: surrogate spike derivative (paper: arctangent).
        recurrent: add recurrent weights V to the first hidden layer.
        bias: learnable biases in the linear layers.
        seed: seed of the He initialisation (same seed, same weights).
        input_product: how the first layer multiplies the input spikes: ``"auto"`` (skip their
            zeros on the CPU when at most a quarter are nonzero), ``"sparse"`` or ``"dense"``
            (`labkit.sparse`; the results agree up to float rounding).
    """

    def __init__(
        self,
        sizes: Sequence[int] = (784, 500, 10),
        *,
        lif: LIFParams = PAPER_LIF,
        surrogate: Surrogate = ATan(),
        recurrent: bool = False,
        bias: bool = True,
        seed: int | None = 0,
        input_product: Product = "auto",
        neuron: Neuron | None = None,
    ):
        super().__init__()
        sizes = _check_sizes(sizes)
        if recurrent and len(sizes) < 3:
            raise ValueError(f"recurrent=True needs a hidden layer: sizes must list at least three widths, got {sizes}")
        if neuron is not None and lif != PAPER_LIF:
            raise ValueError(f"pass either lif= (LIF parameters) or neuron= (any neuron model), not both; got "
                             f"lif={lif!r} and neuron={neuron!r}")
        missing = [m for m in ("rest", "step", "sequence", "membrane") if not callable(getattr(neuron, m, None))]
        if neuron is not None and missing:
            raise ValueError(f"neuron={neuron!r} lacks {', '.join(missing)}: pass a neuron model of "
                             f"labkit.neurons.Neuron such as LIFParams(...) or ALIF(...)")
        self.neuron = lif if neuron is None else neuron
        self.sizes, self.surrogate, self.is_recurrent = sizes, surrogate, recurrent
        generator = None if seed is None else torch.Generator().manual_seed(seed)
        # skip_init: nn.Linear's own initialisation would draw from the global RNG before He init overwrites it
        self.layers = nn.ModuleList(
            skip_init(SpikeLinear, sizes[0], sizes[1], bias=bias, product=input_product) if index == 0
            else skip_init(nn.Linear, n_in, n_out, bias=bias)
            for index, (n_in, n_out) in enumerate(zip(sizes, sizes[1:]))
        )
        for layer in self.layers:
            he_init_(layer, generator)
        self.recurrent = None
        if recurrent:
            self.recurrent = skip_init(nn.Linear, sizes[1], sizes[1], bias=False)
            with torch.no_grad():
                self.recurrent.weight.normal_(0.0, (1.0 / sizes[1]) ** 0.5, generator=generator)

    def forward(self, x: torch.Tensor) -> SNNOutput:
        """Every layer's spikes and membranes for the input ``x [time, batch, ...]`` (`SNNOutput`)."""
        s = self._flat_input(x)  # [T, B, features]
        spikes, membranes = [s], []
        for index, layer in enumerate(self.layers):
            current = layer(s)  # I_t = W s_t + b for all T·B rows in one product
            if index == 0 and self.recurrent is not None:
                s, u = self._recurrent_layer(current)  # + V s_{t-1}: step by step
            else:
                s, u = self.neuron.sequence(current, self.surrogate)  # the neuron over all T steps
            spikes.append(s)
            membranes.append(u)
        return SNNOutput(tuple(spikes), tuple(membranes))

    def _flat_input(self, x: torch.Tensor) -> torch.Tensor:
        """The input as ``[time, batch, features]`` (trailing dims flattened), after the checks of its shape and dtype."""
        if x.dim() < 3 or x.shape[0] < 1:
            raise ValueError(
                f"SpikingMLP expects [time, batch, features...] with at least one time step, got shape {tuple(x.shape)}"
            )
        if not x.is_floating_point():
            raise ValueError(f"SpikingMLP expects floating-point input (spikes as 0./1.), got {x.dtype}: use x.float()")
        s = x.flatten(2)
        if s.shape[-1] != self.sizes[0]:
            raise ValueError(f"input has {s.shape[-1]} features per step, the network expects {self.sizes[0]}")
        return s

    def _recurrent_layer(self, current: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        state = self.neuron.rest(current[0])
        s = torch.zeros_like(current[0])
        spikes, membranes = [], []
        for t in range(current.shape[0]):
            s, state = self.neuron.step(current[t] + self.recurrent(s), state, self.surrogate)
            spikes.append(s)
            membranes.append(self.neuron.membrane(state))
        return torch.stack(spikes), torch.stack(membranes)

    @property
    def lif(self) -> LIFParams:
        """The LIF parameters of the network's neurons (what the exporters read); an error for other neurons."""
        if not isinstance(self.neuron, LIFParams):
            raise ValueError(f"this network's neurons are {type(self.neuron).__name__}, not LIF: the exporters "
                             f"(snnTorch, NIR, Lava) handle LIF neurons only; read model.neuron for its parameters")
        return self.neuron

    @property
    def weights(self) -> list[torch.Tensor]:
        """The feed-forward weight matrices ``[n_out, n_in]``, input layer first."""
        return [layer.weight for layer in self.layers]


class ANNBaseline(nn.Module):
    """ReLU MLP (paper: 784-500-10), He-initialised; input ``[batch, ...]`` flattened."""

    def __init__(self, sizes: Sequence[int] = (784, 500, 10), *, seed: int | None = 0):
        super().__init__()
        sizes = _check_sizes(sizes)
        self.sizes = sizes
        generator = None if seed is None else torch.Generator().manual_seed(seed)
        self.layers = nn.ModuleList(skip_init(nn.Linear, n_in, n_out) for n_in, n_out in zip(sizes, sizes[1:]))
        for layer in self.layers:
            he_init_(layer, generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() < 2 or not x.is_floating_point():
            raise ValueError(f"ANNBaseline expects a floating-point [batch, features...] tensor, got {x.dtype} "
                             f"of shape {tuple(x.shape)}")
        h = x.flatten(1)
        if h.shape[-1] != self.sizes[0]:
            raise ValueError(f"input has {h.shape[-1]} features, the network expects {self.sizes[0]}")
        for layer in self.layers[:-1]:
            h = torch.relu(layer(h))
        return self.layers[-1](h)
