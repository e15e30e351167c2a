"""labkit: the library behind the bio-hybrid SNN lab, in layers whose imports only go down.

    entry       cli, __main__                                   the command line
    teaching    check/, plotting/, widgets/, exercises          by chapter concept
    studies     experiments, tune, stdp_baseline, campaign      the paper's tables, tuning, the
                                                                plasticity study
    workflows   data/, training/, energy, loihi/, interop/      datasets, loops, energy, Lava,
                                                                NIR and NeuroBench
    science     neurons, encoding, encoders, sparse, stdp,      the models and their maths
                competitive, models, rules, noise, readout;
                fast/ (the opt-in fast backend)
    foundation  foundation/                                     errors, validation, I/O, seeds,
                                                                runtime, paths, tables, paper

A module imports only from its own layer or the layers below (tests/test_layers.py checks it
with the table `LAYERS_OF`). The chapters' modules, one concept each:

* :mod:`labkit.neurons`     leaky integrate-and-fire neurons and surrogate gradients
* :mod:`labkit.encoding`    rate and latency coding of images into spike trains; `labkit.encoders`
* :mod:`labkit.stdp`        traces and pair-based STDP; :mod:`labkit.competitive` the competitive layer
* :mod:`labkit.models`      the spiking MLP and the ANN baseline
* :mod:`labkit.rules`       the update rules: bp, stdp, sum, adaptive (A-STDP)
* :mod:`labkit.training`    the training loops, evaluation, checkpoints, live runs in the background
* :mod:`labkit.data`        MNIST (full and bundled subset), N-MNIST, simulated saccades
* :mod:`labkit.energy`      operation counts and energy models
* :mod:`labkit.experiments` the reproduction report
* :mod:`labkit.loihi`       quantisation, export and the Lava runner

Importing ``labkit`` itself loads nothing (the Lava sidecar, numpy only, imports labkit.loihi).
"""

__version__ = "0.1.0"

#: The layers, bottom first.
LAYERS = ("foundation", "science", "workflows", "studies", "teaching", "entry")

#: The layer of every module or package (a module in a package takes the package's layer).
LAYERS_OF = {
    "labkit": "foundation",
    "labkit.foundation": "foundation",
    **dict.fromkeys(("labkit.neurons", "labkit.encoding", "labkit.encoders", "labkit.sparse", "labkit.stdp",
                     "labkit.competitive", "labkit.models", "labkit.rules", "labkit.noise", "labkit.readout",
                     "labkit.fast"),
                    "science"),
    **dict.fromkeys(("labkit.data", "labkit.training", "labkit.energy", "labkit.loihi", "labkit.interop"),
                    "workflows"),
    **dict.fromkeys(("labkit.experiments", "labkit.tune", "labkit.stdp_baseline", "labkit.campaign"), "studies"),
    **dict.fromkeys(("labkit.check", "labkit.plotting", "labkit.widgets", "labkit.exercises"), "teaching"),
    **dict.fromkeys(("labkit.cli", "labkit.__main__"), "entry"),
}
