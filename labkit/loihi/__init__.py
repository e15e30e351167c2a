"""Deploying a trained spiking network to Intel Loihi through Lava (chapter 8).

Six modules, split by what each needs, so that the Lava side runs without torch (lava-nc 0.10
needs Python 3.10; the lab's main environment may be newer):

* :mod:`labkit.loihi.quantize`  Loihi's fixed-point format, quantisation of a `SpikingMLP`, a torch
                                emulation of the integer arithmetic, the bundle from a model and back (torch)
* :mod:`labkit.loihi.bundle`    the self-contained model file (.npz), `LavaResult` and its readouts (numpy)
* :mod:`labkit.loihi.lava`      the Lava process graph: the chapter's `run_network`, a bundle on many
                                images (`run_bundle`), STDP in Lava's learning engine (numpy + lava-nc)
* :mod:`labkit.loihi.sidecar`   where Lava runs, and the one protocol that runs a function there:
                                `in_lava`, `run_lava`, `run_lava_stdp` (numpy)
* :mod:`labkit.loihi.deploy`    the ``labkit deploy`` command: which models deploy, four-way comparison (torch)
* :mod:`labkit.loihi.learning`  STDP in Lava's learning engine next to `labkit.stdp` (torch)

The portable hand-off to other simulators and chips is NIR (`labkit.interop.nir`), which knows
nothing of this package. Nothing is imported here, so ``import labkit.loihi.sidecar`` pulls in no torch.
"""
