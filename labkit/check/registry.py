"""The one list of the chapters' exercises: number, function, contract, check and catalogue of mistakes.

The table of exercises (`table`), the tests' expectations and `labkit.check`'s documentation all
derive from `EXERCISES`; the catalogue of each exercise (its known wrong implementations, each
with the hint that names its mistake) is registered beside its check with `core.mistake` and read
here through `Exercise.mistakes`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .astdp_step import astdp_step, stdp_change
from .bptt_step import train_step
from .coefficients import plasticity_coefficient_update
from .controls import same_norm_control
from .digits import class_mean
from .energy import activation_sparsity, energy_uj
from .events import bin_events, pixel_events
from .lif import alif_update, lif_update, simulate_lif, theoretical_rate
from .loihi import lava_network, loihi_lif_step
from .neuron_labels import name_neurons
from .noise_spikes import extra_spikes
from .quantization import quantize_weights
from .rate_code import latency_decode, latency_encode, predicted_rmse, rate_encode
from .recurrent import recurrent_lif
from .robustness import robustness_score
from .seed_statistics import paired_interval, seed_band
from .spike_loss import rate_loss
from .surrogate import atan_surrogate_grad
from .surrogate_spike import atan_spike
from .synaptic_ops import count_synaptic_ops
from .traces import stdp_pairs, trace_step
from .core import Mistake, catalogue

__all__ = ["EXERCISES", "Exercise", "by_name", "by_number", "table"]


@dataclass(frozen=True)
class Exercise:
    """One exercise: its number, the function the student writes, its contract and its check."""

    number: str
    name: str
    contract: str
    check: Callable

    @property
    def chapter(self) -> int:
        return int(self.number.split(".")[0])

    @property
    def mistakes(self) -> list[Mistake]:
        """The catalogue of known wrong implementations, in the order a wrong answer is matched against them."""
        return catalogue(self.number)


EXERCISES: tuple[Exercise, ...] = (
    Exercise("0.1", "class_mean", "(images, labels, digit) -> mean image", class_mean),
    Exercise("1.1", "lif_update", "(current, membrane, beta, threshold, reset) -> (spike, membrane)", lif_update),
    Exercise("1.2", "simulate_lif", "(current [T, ...], beta, threshold, reset, step) -> (spikes, membrane) [T, ...]",
             simulate_lif),
    Exercise("1.3", "theoretical_rate", "(current, beta, threshold) -> 1/n* (reset to zero)", theoretical_rate),
    Exercise("1.4", "alif_update", "(current, membrane, adaptation, params) -> (spike, membrane, adaptation)",
             alif_update),
    Exercise("2.1", "rate_encode", "(images, num_steps, generator) -> spikes [num_steps, *images.shape]",
             rate_encode),
    Exercise("2.2", "predicted_rmse", "(images, num_steps) -> float", predicted_rmse),
    Exercise("2.3", "latency_encode", "(images, num_steps) -> spikes [num_steps, *images.shape]",
             latency_encode),
    Exercise("2.4", "latency_decode", "(spikes [T, ...]) -> intensities [...]", latency_decode),
    Exercise("3.1", "trace_step", "(trace, spikes, decay) -> trace one step later", trace_step),
    Exercise("3.2", "stdp_pairs", "(pre [T, n_pre], post [T, n_post], params) -> ΔW [n_post, n_pre]",
             stdp_pairs),
    Exercise("3.3", "name_neurons", "(responses [images, neurons], labels, n_classes) -> labels [neurons]",
             name_neurons),
    Exercise("4.1", "atan_surrogate_grad", "(x, alpha) -> (alpha/2) / (1 + (pi/2 alpha x)^2)",
             atan_surrogate_grad),
    Exercise("4.2", "atan_spike", "(x, alpha) -> H(x) forward, grad · S'(x) backward (an autograd.Function)",
             atan_spike),
    Exercise("4.3", "train_step", "(model, optimizer, inputs, labels, loss_fn) -> loss (one BPTT update)",
             train_step),
    Exercise("4.4", "rate_loss", "(output_spikes, labels) -> (1/T) sum_t CE(s_t, y)", rate_loss),
    Exercise("5.1", "stdp_change", "(pre_spikes, post_spikes, params) -> dW_stdp [n_post, n_pre]",
             stdp_change),
    Exercise("5.2", "plasticity_coefficient_update", "(c, dw, grad, kappa) -> clip(c + kappa cos(dw, -grad), 0, 1)",
             plasticity_coefficient_update),
    Exercise("5.3", "astdp_step", "(model, optimizer, output, loss, coefficients, *, eta1, kappa, adaptive, stdp)",
             astdp_step),
    Exercise("5.4", "same_norm_control", "(delta, generator) -> random direction with ‖·‖_F = ‖delta‖_F",
             same_norm_control),
    Exercise("6.1", "paired_interval", "(hybrid, baseline) -> (mean difference, 95 % half-width) over shared seeds",
             paired_interval),
    Exercise("6.2", "robustness_score", "({sigma: accuracy}) -> mean accuracy over the noise range",
             robustness_score),
    Exercise("6.3", "extra_spikes", "(image, sigma) -> extra input spikes per step that clipped noise adds on black "
             "pixels", extra_spikes),
    Exercise("6.4", "seed_band", "(curves) -> (mean, sd) per epoch over seeds", seed_band),
    Exercise("7.1", "count_synaptic_ops", "(spikes, weight) -> int", count_synaptic_ops),
    Exercise("7.2", "activation_sparsity", "([outputs of each layer]) -> fraction of zero outputs",
             activation_sparsity),
    Exercise("7.3", "energy_uj", "(counts, e_mac_pj, e_ac_pj, e_neuron_pj) -> µJ per inference", energy_uj),
    Exercise("8.1", "loihi_lif_step", "(a, u, v, layer) -> (spikes, u, v) in Loihi's integers", loihi_lif_step),
    Exercise("8.2", "quantize_weights", "(w, bits) -> (mantissa, exponent)", quantize_weights),
    Exercise("8.3", "lava_network", "(spikes, [(W, b), …], beta, threshold) -> Monitor record [T + L, n_out] "
             "(runs in Lava)", lava_network),
    Exercise("9.1", "pixel_events", "(log_intensity, threshold) -> signed event counts", pixel_events),
    Exercise("9.2", "bin_events", "(events, num_bins, duration_us) -> counts [num_bins, 2, 34, 34]",
             bin_events),
    Exercise("9.3", "recurrent_lif", "(current, weight, params) -> (spikes, membrane)", recurrent_lif),
)


def by_number(number: str) -> Exercise:
    """The exercise numbered ``number`` (KeyError naming the numbers there are)."""
    for exercise in EXERCISES:
        if exercise.number == number:
            return exercise
    raise KeyError(f"no exercise {number!r}; the exercises are {', '.join(e.number for e in EXERCISES)}")


def by_name(name: str) -> Exercise:
    """The exercise whose function is called ``name``."""
    for exercise in EXERCISES:
        if exercise.name == name:
            return exercise
    raise KeyError(f"no exercise writes a function {name!r}")


def table() -> str:
    """The exercises as a Markdown table: number, check, contract and how many mistakes its catalogue knows."""
    rows = ["| exercise | check | contract | mistakes catalogued |", "| --- | --- | --- | --- |"]
    rows += [f"| {e.number} | `{e.name}` | ``{e.contract}`` | {len(e.mistakes)} |" for e in EXERCISES]
    return "\n".join(rows)
