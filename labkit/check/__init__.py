"""Self-checks for the chapters' exercises.

Each exercise in the notebooks has a check of the same name::

    from labkit import check
    check.lif_update(lif_update)

A check runs the function on cases with known answers, from the ordinary to the edge cases,
and prints a verdict: which cases passed, the first one that failed (expected against got) and
a hint. It never prints a solution. A stub that still raises ``NotImplementedError`` gets
"not written yet" with the exercise's own message, not a traceback. The check returns a
`CheckResult` (``passed``, ``messages``) so that tests can inspect it.

Reference answers come from labkit's own functions where they exist (``lif_step``,
``traces``, ``ATan``, ``effective_synaptic_ops``, ``loihi.quantize.quantize_weights``) and
otherwise from short independent formulas written here.

One module per concept: `~labkit.check.digits`, `~labkit.check.lif`, `~labkit.check.rate_code`,
`~labkit.check.traces`, `~labkit.check.neuron_labels`,
`~labkit.check.surrogate`, `~labkit.check.surrogate_spike`, `~labkit.check.bptt_step`,
`~labkit.check.spike_loss`, `~labkit.check.astdp_step`, `~labkit.check.coefficients`, `~labkit.check.controls`,
`~labkit.check.robustness`, `~labkit.check.noise_spikes`, `~labkit.check.seed_statistics`, `~labkit.check.synaptic_ops`,
`~labkit.check.energy`, `~labkit.check.loihi`, `~labkit.check.quantization`, `~labkit.check.events`,
`~labkit.check.recurrent`; the verdicts, hints and expectations they share are in
`~labkit.check.core`. `~labkit.check.reference` holds labkit's versions of the exercises that
have no other home in labkit, for `use` to fall back to.

Every check calls the student's function on copies of its inputs (an input changed in place fails
first), within a time limit, and matches a wrong answer against the exercise's catalogue of known
mistakes (`~labkit.check.core.mistake`) to name the mistake in its hint. The exercises, their
contracts and catalogues are listed once, in `~labkit.check.registry.EXERCISES`; the table below is
made from it when the package is imported.

"""

from __future__ import annotations

from . import reference, registry
from .astdp_step import astdp_step, stdp_change
from .bptt_step import train_step
from .coefficients import plasticity_coefficient_update
from .controls import same_norm_control
from .core import CheckResult, attempts, reset, use
from .digits import class_mean
from .energy import activation_sparsity, energy_uj
from .events import bin_events, pixel_events
from .lif import alif_update, lif_update, simulate_lif, theoretical_rate
from .loihi import lava_network, loihi_lif_step
from .neuron_labels import name_neurons
from .quantization import quantize_weights
from .rate_code import latency_decode, latency_encode, predicted_rmse, rate_encode
from .recurrent import recurrent_lif
from .noise_spikes import extra_spikes
from .robustness import robustness_score
from .seed_statistics import paired_interval, seed_band
from .spike_loss import rate_loss
from .surrogate import atan_surrogate_grad
from .surrogate_spike import atan_spike
from .synaptic_ops import count_synaptic_ops
from .traces import stdp_pairs, trace_step

__doc__ += "\n" + registry.table() + "\n"

__all__ = [
    "CheckResult",
    "attempts",
    "reset",
    "use",
    "reference",
    "registry",
    "activation_sparsity",
    "alif_update",
    "astdp_step",
    "atan_spike",
    "atan_surrogate_grad",
    "bin_events",
    "class_mean",
    "count_synaptic_ops",
    "extra_spikes",
    "energy_uj",
    "latency_decode",
    "latency_encode",
    "lava_network",
    "lif_update",
    "loihi_lif_step",
    "name_neurons",
    "paired_interval",
    "pixel_events",
    "plasticity_coefficient_update",
    "predicted_rmse",
    "quantize_weights",
    "rate_encode",
    "rate_loss",
    "same_norm_control",
    "recurrent_lif",
    "robustness_score",
    "seed_band",
    "simulate_lif",
    "stdp_change",
    "stdp_pairs",
    "theoretical_rate",
    "train_step",
    "trace_step",
]
