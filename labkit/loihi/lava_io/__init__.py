"""Lava processes that feed the network and read it back (`labkit.loihi.lava_io.processes`).

They live in a package of their own because Lava's compiler looks for process models by
importing every module beside the process's module: here that is only ``processes.py``, which
needs numpy and Lava alone. Nothing is imported here, so importing this package needs no Lava.
"""
