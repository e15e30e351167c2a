"""Lava processes of labkit's own: the source and recorder that feed the network and read it back
(`labkit.loihi.lava_io.processes`) and `CopiedDense`, the connection of B copies of a network side
by side (`labkit.loihi.lava_io.copied_dense`).

They live in a package of their own because Lava's compiler looks for process models by
importing every module beside the process's module: here those are only these two, which need
numpy and Lava alone. Nothing is imported here, so importing this package needs no Lava.
"""
