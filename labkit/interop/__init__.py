"""The lab's networks in the field's tools (chapters 7 and 8).

* :mod:`labkit.interop.nir`         a `SpikingMLP` as a NIR graph that snnTorch, Norse and
                                    SpikingJelly run to the same spikes, and NIR graphs back
* :mod:`labkit.interop.neurobench`  a `SpikingMLP` as a model NeuroBench's metrics can hook
* :mod:`labkit.interop.snntorch`    a `SpikingMLP` as an snnTorch ``nn.Sequential`` and back (the same
                                    spikes), the update rules on snnTorch Linear + Leaky networks, and a
                                    trained run exported as an snnTorch model file

Nothing is imported here, and each module imports its library only when called: nir (a
dependency of the lab) for the graphs, snnTorch for the neurons NeuroBench hooks and for the snnTorch bridge. Using the
adapter needs NeuroBench itself (scripts/setup.sh installs it: ``pip install --no-deps
neurobench==2.3.0``); the tests run both against snnTorch, Norse, SpikingJelly and NeuroBench.
"""
