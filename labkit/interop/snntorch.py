r"""The lab's network as an snnTorch network, snnTorch networks back, and the rules on them.

snnTorch (Eshraghian et al., Proc. IEEE 111(9), 2023) writes the lab's 784-500-10 network as

    nn.Sequential(nn.Flatten(),
                  nn.Linear(784, 500), snn.Leaky(beta=0.9, spike_grad=surrogate.atan(), init_hidden=True),
                  nn.Linear(500, 10),  snn.Leaky(beta=0.9, spike_grad=surrogate.atan(), init_hidden=True,
                                                 output=True))

and calls it once per time step. ``snn.Leaky`` is the lab's LIF neuron (`labkit.neurons`) exactly:
at each call it first takes the reset signal r = H(u_{t−1} − θ) of the *previous* step, detached
(``reset_delay=True``, its default), then

* ``reset_mechanism="zero"``:      u_t = β·((1 − r)·u_{t−1}) + I_t     (the lab's ``reset="zero"``)
* ``reset_mechanism="subtract"``:  u_t = β·u_{t−1} + I_t − θ·r        (the lab's ``reset="subtract"``)

and spikes s_t = H(u_t − θ) with the arctangent surrogate α/2 / (1 + (π/2·α·x)²), the lab's `ATan`
with the same α. The same operations in the same order, so the same weights give the same spikes
(tests/test_interop_snntorch.py checks 1,000 digits step by step) and the same gradients within
float rounding. The lab's default reset is to zero; snnTorch's default is subtraction, so
`to_snntorch` always names the reset.

* `to_snntorch` / `from_snntorch`: a `SpikingMLP` as such an ``nn.Sequential`` and back (same weights).
* `SnnTorchNetwork` (`wrap`): any ``nn.Sequential`` of ``nn.Linear`` layers each followed by an
  ``snn.Leaky(init_hidden=True)`` (an ``nn.Flatten`` first is allowed), as the rules of
  `labkit.rules` need it: ``.layers`` (the Linear modules, whose weights the rules change in place),
  ``.sizes``, and a forward pass over ``[time, batch, …]`` that returns an `SNNOutput` holding the
  spikes entering and leaving every Linear layer of that pass. Each Linear layer multiplies all T·B
  rows at once (a Linear acts on each step alone); its Leaky then steps through time from rest, as
  ``utils.reset(net)`` and the per-step loop would. `labkit.training.train` wraps an snnTorch network
  itself, so ``train(net, "adaptive", data, 1)`` trains ``net``'s own weights.
* `export_run`: a trained run folder as an snnTorch model file that loads with snnTorch and torch
  alone (``torch.load(weights_only=True)``: no code runs when it loads).

snnTorch is imported only when a function needs it.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
from pathlib import Path

import torch
from torch import nn

from ..foundation.errors import LabkitError
from ..foundation.io import load_torch, read_json, save_torch, write_json, write_text
from ..models import SNNOutput, SpikingMLP
from ..neurons import ATan, FastSigmoid, LIFParams, Surrogate
from ..sparse import Product

__all__ = ["SUPPORTED", "SnnTorchNetwork", "export_run", "from_snntorch", "is_snntorch_network", "to_snntorch",
           "wrap"]

#: What the rules and `from_snntorch` take, said in every refusal.
SUPPORTED = ("an nn.Sequential of nn.Linear layers, each followed by an snn.Leaky(init_hidden=True) "
             "(optionally starting with nn.Flatten()), e.g. nn.Sequential(nn.Flatten(), nn.Linear(784, 500), "
             "snn.Leaky(beta=0.9, init_hidden=True), nn.Linear(500, 10), snn.Leaky(beta=0.9, init_hidden=True, "
             "output=True))")


def _snntorch():
    try:
        import snntorch
        from snntorch import surrogate
    except ImportError as exc:  # pragma: no cover - snntorch is a dependency of the lab
        raise LabkitError("snnTorch is not installed: pip install snntorch") from exc
    return snntorch, surrogate


def is_snntorch_network(model: object) -> bool:
    """True when ``model`` is a torch module holding snnTorch modules (nothing is imported to tell)."""
    return isinstance(model, nn.Module) and any(type(m).__module__.startswith("snntorch") for m in model.modules())


# ----------------------------------------------------------------------------- reading a network


def _refusal(module: nn.Module, position: int) -> str:
    """Why the module at ``position`` cannot be run by the rules."""
    name = type(module).__name__
    if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
        why = "convolutions are not supported (STDP here is defined for fully connected layers)"
    elif name in ("RLeaky", "RSynaptic", "SLSTM", "SConv2dLSTM"):
        why = f"recurrent neurons (snn.{name}) are not supported"
    elif type(module).__module__.startswith("snntorch"):
        why = f"snn.{name} is not supported: only snn.Leaky, the lab's LIF neuron"
    else:
        why = f"{name} is not supported"
    return f"module {position} of the network: {why}. The rules take {SUPPORTED}"


def _layers(net: nn.Module) -> tuple[list[nn.Linear], list[nn.Module]]:
    """The network's Linear layers and the Leaky neurons after each; `ValueError` saying what is supported."""
    snn, _ = _snntorch()
    if not isinstance(net, nn.Sequential):
        raise ValueError(f"got a {type(net).__name__}; the rules take {SUPPORTED}")
    modules = list(net)
    start = 1 if modules and isinstance(modules[0], nn.Flatten) else 0
    linears, neurons = [], []
    for position in range(start, len(modules), 2):
        linear = modules[position]
        leaky = modules[position + 1] if position + 1 < len(modules) else None
        if type(linear) is not nn.Linear:
            raise ValueError(_refusal(linear, position))
        if leaky is None:
            raise ValueError(f"module {position} of the network, an nn.Linear, is not followed by an snn.Leaky; "
                             f"the rules take {SUPPORTED}")
        if type(leaky) is not snn.Leaky:
            raise ValueError(_refusal(leaky, position + 1))
        if not leaky.init_hidden:
            raise ValueError(f"module {position + 1} of the network is an snn.Leaky without init_hidden=True; "
                             "build it with snn.Leaky(..., init_hidden=True), so that it keeps its own membrane")
        if leaky.inhibition or leaky.state_quant:
            raise ValueError(f"module {position + 1}: snn.Leaky with inhibition or state_quant is not supported; "
                             f"the rules take {SUPPORTED}")
        if not torch.all(leaky.graded_spikes_factor == 1):
            raise ValueError(f"module {position + 1}: graded spikes (graded_spikes_factor ≠ 1) are not supported; "
                             "STDP reads spikes as 0 and 1")
        if linears and linear.in_features != linears[-1].out_features:
            raise ValueError(f"module {position}: nn.Linear takes {linear.in_features} inputs but the layer before "
                             f"has {linears[-1].out_features} outputs; the layers do not chain")
        linears.append(linear)
        neurons.append(leaky)
    if not linears:
        raise ValueError(f"the network has no nn.Linear + snn.Leaky layer; the rules take {SUPPORTED}")
    return linears, neurons


def _float32_value(value: torch.Tensor, what: str, position: int) -> float:
    """A scalar buffer as the shortest decimal that is the same float32 (0.9, not 0.8999999761581421)."""
    if value.numel() != 1:
        raise ValueError(f"layer {position}: a {what} per neuron cannot be read into a SpikingMLP, which has one {what}")
    exact = float(value.item())
    short = float(f"{exact:.7g}")
    return short if torch.tensor(short, dtype=value.dtype) == value.reshape(()).cpu() else exact


def _surrogate_of(spike_grad, position: int) -> Surrogate:
    """The lab's surrogate for snnTorch's ``surrogate.atan(alpha)`` or ``fast_sigmoid(slope)`` closure."""
    qualname = getattr(spike_grad, "__qualname__", "")
    constants = inspect.getclosurevars(spike_grad).nonlocals if inspect.isfunction(spike_grad) else {}
    if qualname == "atan.<locals>.inner" and "alpha" in constants:
        return ATan(alpha=float(constants["alpha"]))
    if qualname == "fast_sigmoid.<locals>.inner" and "slope" in constants:
        return FastSigmoid(slope=float(constants["slope"]))
    raise ValueError(f"layer {position}: its spike_grad {spike_grad!r} has no labkit counterpart; use "
                     "surrogate.atan(alpha) or surrogate.fast_sigmoid(slope), or pass surrogate= yourself")


def from_snntorch(net: nn.Module, *, surrogate: Surrogate | None = None,
                  input_product: Product = "auto") -> SpikingMLP:
    """A `SpikingMLP` with ``net``'s weights, neurons and surrogate (``net`` as `to_snntorch` writes it).

    All Leaky layers must share β, θ and the reset (a `SpikingMLP` has one `LIFParams`), with the
    reset delayed by a step (``reset_delay=True``, snnTorch's default). ``surrogate`` overrides the one
    read from the first layer's ``spike_grad``.
    """
    linears, neurons = _layers(net)
    lifs, surrogates = set(), set()
    for position, leaky in enumerate(neurons):
        if not leaky.reset_delay:
            raise ValueError(f"layer {position}: snn.Leaky(reset_delay=False) resets in the same step; labkit's LIF "
                             "resets at the next step (reset_delay=True, snnTorch's default)")
        if leaky._reset_mechanism not in ("zero", "subtract"):
            raise ValueError(f"layer {position}: reset_mechanism={leaky._reset_mechanism!r}; labkit's LIF resets "
                             "by 'zero' or 'subtract'")
        beta = _float32_value(leaky.beta.clamp(0, 1), "beta", position)
        threshold = _float32_value(leaky.threshold, "threshold", position)
        lifs.add(LIFParams(beta=beta, threshold=threshold, reset=leaky._reset_mechanism))
        if surrogate is None:
            surrogates.add(_surrogate_of(leaky.spike_grad, position))
    if len(lifs) > 1:
        raise ValueError(f"the Leaky layers differ ({', '.join(map(str, sorted(lifs, key=str)))}); a SpikingMLP "
                         "shares one β, θ and reset across its layers")
    if len(surrogates) > 1:
        raise ValueError(f"the Leaky layers use different surrogates {sorted(surrogates, key=str)}; pass surrogate=")
    biases = {linear.bias is not None for linear in linears}
    if len(biases) > 1:
        raise ValueError("some Linear layers have a bias and some do not; a SpikingMLP uses one setting")
    sizes = (linears[0].in_features, *(linear.out_features for linear in linears))
    model = SpikingMLP(sizes, lif=lifs.pop(), surrogate=surrogate or surrogates.pop(), bias=biases.pop(), seed=0,
                       input_product=input_product)
    with torch.no_grad():
        for mine, theirs in zip(model.layers, linears):
            mine.weight.copy_(theirs.weight)
            if mine.bias is not None:
                mine.bias.copy_(theirs.bias)
    return model.to(linears[0].weight.device)


def to_snntorch(model: SpikingMLP) -> nn.Sequential:
    """``model`` as ``nn.Sequential(nn.Flatten(), nn.Linear, snn.Leaky, …)`` with copies of its weights.

    Each Leaky has the model's β and θ, ``reset_mechanism`` = the model's reset, the same surrogate
    (``surrogate.atan(alpha)`` or ``fast_sigmoid(slope)``), ``init_hidden=True``, and ``output=True``
    on the last (which then returns ``(spikes, membrane)``). Call it once per time step on
    ``[batch, …]`` after ``snntorch.utils.reset(net)``, or train it with `labkit.training.train`.
    """
    snn, surrogate = _snntorch()
    if not isinstance(model, SpikingMLP):
        raise ValueError(f"to_snntorch takes a SpikingMLP, got {type(model).__name__}")
    if model.is_recurrent:
        raise ValueError("to_snntorch writes feed-forward networks; this SpikingMLP has a recurrent hidden layer "
                         "(snn.RLeaky would need its own mapping)")
    lif = model.lif  # a ValueError for neurons other than LIF (snn.Leaky is the LIF neuron)
    if isinstance(model.surrogate, ATan):
        spike_grad = surrogate.atan(alpha=model.surrogate.alpha)
    elif isinstance(model.surrogate, FastSigmoid):
        spike_grad = surrogate.fast_sigmoid(slope=model.surrogate.slope)
    else:
        raise ValueError(f"surrogate {model.surrogate!r} has no snnTorch counterpart; use ATan or FastSigmoid")
    modules: list[nn.Module] = [nn.Flatten()]
    last = len(model.layers) - 1
    for index, layer in enumerate(model.layers):
        linear = nn.Linear(layer.in_features, layer.out_features, bias=layer.bias is not None,
                           device=layer.weight.device)
        with torch.no_grad():
            linear.weight.copy_(layer.weight)
            if layer.bias is not None:
                linear.bias.copy_(layer.bias)
        modules += [linear, snn.Leaky(beta=lif.beta, threshold=lif.threshold,
                                      reset_mechanism=lif.reset, spike_grad=spike_grad, init_hidden=True,
                                      output=index == last).to(layer.weight.device)]
    return nn.Sequential(*modules)


# ----------------------------------------------------------------------------- the rules' view


class SnnTorchNetwork(nn.Module):
    """An snnTorch network as the rules see a `SpikingMLP` (module docstring); its weights are ``net``'s own.

    ``forward(x [time, batch, …])`` returns an `SNNOutput`: ``spikes[0]`` the flattened input,
    ``spikes[i + 1]`` the spikes of the Leaky after Linear i, ``membranes[i]`` its membrane.
    """

    #: tells `labkit.rules` that ``layers``, ``sizes`` and the forward pass's `SNNOutput` are there
    records_layer_spikes = True

    def __init__(self, net: nn.Module):
        super().__init__()
        linears, neurons = _layers(net)
        self.net = net
        self._pairs = tuple(zip(linears, neurons))  # the modules of `net` (registered there), not copies
        self.sizes = (linears[0].in_features, *(linear.out_features for linear in linears))

    @property
    def layers(self) -> tuple[nn.Linear, ...]:
        """The Linear modules of the network, input layer first."""
        return tuple(linear for linear, _ in self._pairs)

    @property
    def weights(self) -> list[torch.Tensor]:
        return [linear.weight for linear in self.layers]

    def forward(self, x: torch.Tensor) -> SNNOutput:
        if not torch.is_tensor(x) or x.dim() < 3 or not x.is_floating_point():
            raise ValueError("an snnTorch network run by labkit expects a floating-point [time, batch, features...] "
                             f"tensor, got {getattr(x, 'dtype', type(x).__name__)} of shape {tuple(getattr(x, 'shape', ()))}")
        s = x.flatten(2)
        if s.shape[-1] != self.sizes[0]:
            raise ValueError(f"input has {s.shape[-1]} features per step, the network expects {self.sizes[0]}")
        spikes, membranes = [s], []
        for linear, leaky in self._pairs:
            current = linear(s)  # each step alone, all T·B rows in one product
            leaky.mem = torch.zeros_like(current[0])  # from rest, as snntorch.utils.reset(net) does
            steps, potentials = [], []
            for t in range(current.shape[0]):
                out = leaky(current[t])
                steps.append(out[0] if isinstance(out, tuple) else out)
                potentials.append(leaky.mem)
            leaky.mem = torch.zeros_like(current[0])  # let go of this pass's graph
            s = torch.stack(steps)
            spikes.append(s)
            membranes.append(torch.stack(potentials))
        return SNNOutput(tuple(spikes), tuple(membranes))


def wrap(net: nn.Module) -> SnnTorchNetwork:
    """``net`` as the rules and evaluators take it (`SnnTorchNetwork`); an `SnnTorchNetwork` is returned as is."""
    return net if isinstance(net, SnnTorchNetwork) else SnnTorchNetwork(net)


# ----------------------------------------------------------------------------- out of the lab

#: The file names `export_run` writes.
WEIGHTS, DESCRIPTION, LOADER = "snntorch_model.pt", "snntorch_model.json", "load_snntorch.py"

_LOADER = '''"""Load the snnTorch network exported by labkit, with torch and snnTorch alone.

    python load_snntorch.py          # builds it and says how to run it
    from load_snntorch import load   # net = load(); snntorch.utils.reset(net); spk, mem = net(x_t)
"""
import json
from pathlib import Path

import torch
from torch import nn
import snntorch as snn
from snntorch import surrogate

HERE = Path(__file__).resolve().parent


def load(folder=HERE):
    folder = Path(folder)
    spec = json.loads((folder / "{description}").read_text())
    spike_grad = getattr(surrogate, spec["surrogate"]["name"])(spec["surrogate"]["value"])
    modules = [nn.Flatten()]
    sizes = spec["sizes"]
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        modules.append(nn.Linear(n_in, n_out, bias=spec["bias"]))
        modules.append(snn.Leaky(beta=spec["beta"], threshold=spec["threshold"], reset_mechanism=spec["reset_mechanism"],
                                 spike_grad=spike_grad, init_hidden=True, output=i == len(sizes) - 2))
    net = nn.Sequential(*modules)
    net.load_state_dict(torch.load(folder / "{weights}", map_location="cpu", weights_only=True))
    return net


if __name__ == "__main__":
    net = load()
    spec = json.loads((HERE / "{description}").read_text())
    print(net)
    print(f"{sum(p.numel() for p in net.parameters()):,} parameters loaded. Run it for {spec['num_steps']} steps after "
          "snntorch.utils.reset(net): spk, mem = net(x_t), x_t the input spikes of step t "
          f"({spec['input']}); {spec['readout']}.")
'''.replace("{description}", DESCRIPTION).replace("{weights}", WEIGHTS)


def _run_model(run: Path) -> tuple[SpikingMLP, dict]:
    """The `SpikingMLP` of a run folder (``model.pt``, sized from its weights) and its ``history.json`` config."""
    run = Path(run)
    if not run.is_dir():
        raise LabkitError(f"{run} is not a run folder: pass a folder holding model.pt and history.json, "
                          "e.g. results/mnist/runs/bp_s0")
    config = {}
    if (run / "history.json").is_file():
        record = read_json(run / "history.json", what="run history")
        config = record.get("config", {}) if isinstance(record, dict) else {}
    if config.get("model") not in (None, "SpikingMLP"):
        raise LabkitError(f"{run} holds a {config['model']}, not a SpikingMLP: only spiking networks export to snnTorch")
    state = load_torch(run / "model.pt", what="model")  # tensors only: a crafted pickle is refused, never run
    keys = sorted(state) if isinstance(state, dict) else []
    if not keys or any(not k.startswith("layers.") for k in keys):
        raise LabkitError(f"{run / 'model.pt'} is not a feed-forward SpikingMLP state_dict (keys: {keys[:5]})")
    count = len({k.split(".")[1] for k in keys})
    weights = [state[f"layers.{i}.weight"] for i in range(count)]
    sizes = (int(weights[0].shape[1]), *(int(w.shape[0]) for w in weights))
    model = SpikingMLP(sizes, bias="layers.0.bias" in state, seed=0)
    model.load_state_dict(state)
    return model, config


def export_run(run: str | os.PathLike, out: str | os.PathLike | None = None) -> Path:
    """Write the trained network of the run folder ``run`` as an snnTorch model into ``out`` (default: ``run``).

    Three files: ``snntorch_model.pt`` (the nn.Sequential's state_dict, tensors only),
    ``snntorch_model.json`` (sizes, β, θ, reset, surrogate, T and the input code) and
    ``load_snntorch.py`` (``load()`` rebuilds the network with snnTorch alone). Returns ``out``.
    The run's neurons are the lab's: β = 0.9, θ = 1, reset to zero, arctangent surrogate (α = 2).
    """
    model, config = _run_model(Path(run))
    net = to_snntorch(model)
    out = Path(run if out is None else out)
    taken = [name for name in (WEIGHTS, DESCRIPTION, LOADER) if (out / name).exists()]
    if taken:
        raise FileExistsError(f"{out} already holds {', '.join(taken)}: export into another folder, or move them "
                              "away (an export never writes over files)")
    out.mkdir(parents=True, exist_ok=True)
    surrogate = model.surrogate
    save_torch(out / WEIGHTS, net.state_dict())
    write_json(out / DESCRIPTION, {
        "format": "labkit snnTorch export 1",
        "sizes": list(model.sizes), "bias": model.layers[0].bias is not None,
        "beta": model.lif.beta, "threshold": model.lif.threshold, "reset_mechanism": model.lif.reset,
        "surrogate": {"name": "atan", "value": surrogate.alpha} if isinstance(surrogate, ATan)
        else {"name": "fast_sigmoid", "value": surrogate.slope},
        "num_steps": int(config.get("num_steps", 25)),
        "input": "rate code: each pixel in [0, 1] spikes with that probability at every step (Bernoulli)",
        "readout": "the class whose output neuron spikes most over the num_steps steps",
        "source": {"run": str(run), "rule": config.get("rule"), "seed": config.get("seed"),
                   "data": config.get("data")},
    })
    write_text(out / LOADER, _LOADER)
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``labkit export`` (one entry in `labkit.cli.COMMANDS` adds the command)."""
    parser.add_argument("run", help="run folder holding model.pt and history.json (e.g. results/mnist/runs/bp_s0)")
    parser.add_argument("--out", required=True,
                        help="folder to write the snnTorch files into (files already there are never replaced)")


def run(args: argparse.Namespace) -> int:
    out = export_run(args.run, args.out)
    print(f"wrote {out / WEIGHTS}, {out / DESCRIPTION} and {out / LOADER}; load it with snnTorch alone: "
          f"python {out / LOADER}")
    return 0
