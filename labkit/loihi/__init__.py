"""Deploying a trained spiking network to Intel Loihi through Lava (chapter 8).

`quantize` (Loihi's fixed point, torch), `bundle` (the model file and Lava's results, numpy), `lava`
(the Lava process graph, numpy and Lava), `sidecar` (where Lava runs and how the lab calls it, numpy),
`deploy` (the ``labkit deploy`` command) and `learning` (STDP in Lava's learning engine). The Lava side
imports no torch, since lava-nc 0.10 needs Python 3.10; nothing is imported here. The portable hand-off
to other simulators and chips is NIR (`labkit.interop.nir`), which knows nothing of this package.
"""
