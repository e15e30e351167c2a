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
`~labkit.check.spike_loss`, `~labkit.check.astdp_step`, `~labkit.check.coefficients`,
`~labkit.check.robustness`, `~labkit.check.noise_spikes`, `~labkit.check.seed_statistics`, `~labkit.check.synaptic_ops`,
`~labkit.check.energy`, `~labkit.check.loihi`, `~labkit.check.quantization`, `~labkit.check.events`,
`~labkit.check.recurrent`; the verdicts, hints and expectations they share are in
`~labkit.check.core`. `~labkit.check.reference` holds labkit's versions of the exercises that
have no other home in labkit, for `use` to fall back to.

| exercise | check | contract |
| --- | --- | --- |
| 0.1 | `class_mean` | ``(images, labels, digit) -> mean image`` |
| 1.1 | `lif_update` | ``(current, membrane, beta, threshold, reset) -> (spike, membrane)`` |
| 1.2 | `simulate_lif` | ``(current [T, ...], beta, threshold, reset, step) -> (spikes, membrane) [T, ...]`` |
| 1.3 | `theoretical_rate` | ``(current, beta, threshold) -> 1/n*`` (reset to zero) |
| 2.1 | `rate_encode` | ``(images, num_steps, generator) -> spikes [num_steps, *images.shape]`` |
| 2.2 | `predicted_rmse` | ``(images, num_steps) -> float`` |
| 2.3 | `latency_encode` | ``(images, num_steps) -> spikes [num_steps, *images.shape]`` |
| 2.4 | `latency_decode` | ``(spikes [T, ...]) -> intensities [...]`` |
| 3.1 | `trace_step` | ``(trace, spikes, decay) -> trace one step later`` |
| 3.2 | `stdp_pairs` | ``(pre [T, n_pre], post [T, n_post], params) -> ΔW [n_post, n_pre]`` |
| 3.3 | `name_neurons` | ``(responses [images, neurons], labels, n_classes) -> labels [neurons]`` |
| 4.1 | `atan_surrogate_grad` | ``(x, alpha) -> (alpha/2) / (1 + (pi/2 alpha x)^2)`` |
| 4.2 | `atan_spike` | ``(x, alpha) -> H(x)`` forward, ``grad · S'(x)`` backward (an ``autograd.Function``) |
| 4.3 | `train_step` | ``(model, optimizer, inputs, labels, loss_fn) -> loss`` (one BPTT update) |
| 4.4 | `rate_loss` | ``(output_spikes, labels) -> (1/T) sum_t CE(s_t, y)`` |
| 5.1 | `stdp_change` | ``(pre_spikes, post_spikes, params) -> dW_stdp [n_post, n_pre]`` |
| 5.2 | `plasticity_coefficient_update` | ``(c, dw, grad, kappa) -> clip(c + kappa cos(dw, -grad), 0, 1)`` |
| 5.3 | `astdp_step` | ``(model, optimizer, output, loss, coefficients, *, eta1, kappa, adaptive, stdp)`` |
| 7.1 | `count_synaptic_ops` | ``(spikes, weight) -> int`` |
| 7.2 | `activation_sparsity` | ``([outputs of each layer]) -> fraction of zero outputs`` |
| 7.3 | `energy_uj` | ``(counts, e_mac_pj, e_ac_pj, e_neuron_pj) -> µJ per inference`` |
| 8.1 | `loihi_lif_step` | ``(a, u, v, layer) -> (spikes, u, v)`` in Loihi's integers |
| 8.2 | `quantize_weights` | ``(w, bits) -> (mantissa, exponent)`` |
| 8.3 | `lava_network` | ``(spikes, [(W, b), …], beta, threshold) -> Monitor record [T + L, n_out]`` (runs in Lava) |
| 6.1 | `robustness_score` | ``({sigma: accuracy}) -> mean accuracy over the noise range`` |
| 6.2 | `paired_interval` | ``(hybrid, baseline) -> (mean difference, 95 % half-width)`` over shared seeds |
| 6.3 | `seed_band` | ``(curves) -> (mean, sd)`` per epoch over seeds |
| 6.4 | `extra_spikes` | ``(image, sigma) -> extra input spikes per step`` that clipped noise adds on black pixels |
| 9.1 | `pixel_events` | ``(log_intensity, threshold) -> signed event counts`` |
| 9.2 | `bin_events` | ``(events, num_bins, duration_us) -> counts [num_bins, 2, 34, 34]`` |
| 9.3 | `recurrent_lif` | ``(current, weight, params) -> (spikes, membrane)`` |
"""

from __future__ import annotations

from . import reference
from .astdp_step import astdp_step, stdp_change
from .bptt_step import train_step
from .coefficients import plasticity_coefficient_update
from .core import CheckResult, attempts, reset, use
from .digits import class_mean
from .energy import activation_sparsity, energy_uj
from .events import bin_events, pixel_events
from .lif import lif_update, simulate_lif, theoretical_rate
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

__all__ = [
    "CheckResult",
    "attempts",
    "reset",
    "use",
    "reference",
    "activation_sparsity",
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
