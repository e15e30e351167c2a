"""Deploying a trained spiking network to Intel Loihi through Lava (chapter 8).

The package is split by what each part needs, so that the Lava side runs in an environment
without torch (Lava 0.10 needs Python 3.10; the lab's main environment may be newer):

* :mod:`labkit.loihi.quantize`       Loihi's fixed-point format, quantisation of a `SpikingMLP`,
                                     and a torch emulation of the integer arithmetic (torch)
* :mod:`labkit.loihi.bundle`         the self-contained model file (.npz) (numpy only)
* :mod:`labkit.loihi.export`         bundle and NIR graph from a model, and back (torch, nir)
* :mod:`labkit.loihi.lava_runner`    `run_lava` and `run_lava_stdp`: run a bundle (or STDP) in Lava,
                                     here or in the sidecar (numpy + lava-nc), built from:
    ``lava_network``   the Lava process graph and its run; ``lava_io`` its source and recorder
    ``lava_parallel``  networks side by side; ``sidecar`` where Lava runs, under a watchdog
    ``lava_result``    the `LavaResult` record; ``lava_files`` its files; ``spike_readout``
    ``lava_stdp``      STDP in Lava's learning engine
* :mod:`labkit.loihi.deploy_model`   which model files ``labkit deploy`` accepts (torch)
* :mod:`labkit.loihi.deploy`         the ``labkit deploy`` command: four-way comparison
* :mod:`labkit.loihi.learning`       STDP in Lava's learning engine next to `labkit.stdp`

Nothing is imported here, so ``import labkit.loihi.lava_runner`` pulls in no torch.
"""
