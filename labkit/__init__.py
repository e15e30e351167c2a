"""labkit: the library behind the bio-hybrid SNN lab.

One module per concept (see the book's chapters):

* :mod:`labkit.neurons`     leaky integrate-and-fire neurons and surrogate gradients
* :mod:`labkit.encoding`    rate and latency coding of images into spike trains
* :mod:`labkit.plasticity`  traces, pair-based STDP, a competitive STDP layer
* :mod:`labkit.models`      the spiking MLP and the ANN baseline
* :mod:`labkit.rules`       the update rules: bp, stdp, sum, adaptive (A-STDP)
* :mod:`labkit.training`    training and evaluation loops, checkpoints
* :mod:`labkit.data`        MNIST (full and bundled subset), N-MNIST, simulated saccades
* :mod:`labkit.energy`      operation counts and energy models
* :mod:`labkit.experiments` the reproduction report
* :mod:`labkit.loihi`       quantisation, export and the Lava runner
"""

__version__ = "0.1.0"
