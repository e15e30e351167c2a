"""The lab's networks in the field's tools (chapters 7 and 8).

* :mod:`labkit.interop.nir`         a `SpikingMLP` as a NIR graph that snnTorch, Norse and
                                    SpikingJelly run to the same spikes, and NIR graphs back
* :mod:`labkit.interop.neurobench`  a `SpikingMLP` as a model NeuroBench's metrics can hook

Nothing is imported here: each module needs its own optional library (nir, neurobench).
"""
