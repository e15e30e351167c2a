"""The opt-in fast backend: the same network, the same sums, computed faster on a CPU.

The lab's default path (`labkit.models.SpikingMLP`, `labkit.encoders.RateEncoder`,
`labkit.neurons.lif_sequence`, `labkit.sparse`) is the code the chapters teach, and it trains every
result the lab reports. For long runs, this package computes the same thing with the work around
the arithmetic cut::

    from labkit.fast import FastSpikingMLP
    model = FastSpikingMLP(seed=0)          # instead of SpikingMLP(seed=0); or accelerate(model)
    history = train(model, "adaptive", data, epochs=15, seed=0)

* `lists`: the spikes listed once, while they are drawn, and the list reused by the first layer's
  product, its weight gradient and STDP (`SpikeList`, caches per thread);
* `encoding`: the rate code drawn and listed in one pass;
* `kernels`: compiled loops (numba): the rate code with torch's own random numbers, the LIF
  recurrence, the list turned column by column;
* `network`: `FastSpikingMLP`, which reads them.

Nothing here changes a number: on the same spikes every sum is the default path's, in the same
order (tests/test_fast.py checks it bit for bit, and a seed trains the same network on either).
benchmarks/bench_training.py measures what each path costs, side by side.
"""

from .encoding import encode_rate_indexed, list_rate
from .lists import SpikeIndex, SpikeList
from .network import CompiledLIFSequence, FastSpikingMLP, ListingRateEncoder, accelerate

__all__ = ["CompiledLIFSequence", "FastSpikingMLP", "ListingRateEncoder", "SpikeIndex", "SpikeList", "accelerate",
           "encode_rate_indexed", "list_rate"]
