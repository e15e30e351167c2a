"""labkit's versions of the exercises that have no other home in labkit, or whose call shape differs
from labkit's own function (chapters 0-3 wrap `labkit.neurons`, `labkit.encoding`, `labkit.stdp` and `labkit.competitive`).

`check.use` runs one of these while the student's function is not written::

    step = check.use(train_step, fallback=check.reference.train_step, exercise="4.3")

Where labkit has the function itself, the chapters fall back to it directly (``ATan(alpha).derivative``,
``labkit.neurons.spike``, ``labkit.readout.count_loss``, ``labkit.plasticity.stdp_update``; chapter 8:
``labkit.loihi.quantize.loihi_lif_step``, ``labkit.loihi.quantize.quantize_weights``,
``labkit.loihi.lava.run_network``).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..competitive import assign_labels
from ..data.frames import event_counts
from ..encoding import encode_latency, encode_rate
from ..energy import energy_from_counts
from ..experiments import difference_verdict
from ..neurons import LIFParams, lif_sequence, lif_step
from ..rules import RuleParams, UpdateRule
from ..stdp import STDPParams, stdp_update

__all__ = ["activation_sparsity", "astdp_step", "bin_events", "class_mean", "coefficient_update", "energy_uj",
           "extra_spikes", "latency_decode", "latency_encode", "lif_update", "name_neurons", "paired_interval",
           "pixel_events", "predicted_rmse", "rate_encode", "recurrent_lif", "robustness_score", "seed_band", "simulate_lif",
           "stdp_pairs", "theoretical_rate", "trace_step", "train_step"]


def train_step(model, optimizer, inputs, labels, loss_fn) -> float:
    """Exercise 4.3: one BPTT step (zero the gradients, forward, loss, backward, optimiser step); the loss."""
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), labels)
    loss.backward()
    optimizer.step()
    return loss.item()


def coefficient_update(c, dw, grad, kappa):
    """Exercise 5.2: clip(c + κ·cos(ΔW[j], −∇W L[j]), 0, 1) per row j (cosine 0 for a zero row)."""
    return (c + kappa * torch.cosine_similarity(dw, -grad, dim=1, eps=1e-12)).clamp(0.0, 1.0)


def astdp_step(model, optimizer, output, loss, coefficients, *, eta1, kappa, adaptive, stdp):
    """Exercise 5.3: labkit's rule object (`labkit.rules.UpdateRule.step`), bound to the given model, optimiser
    and coefficient tensors (updated in place), does the update."""
    eta2 = optimizer.param_groups[0]["lr"]
    name = "bp" if eta1 == 0 else ("adaptive" if adaptive else "sum")
    rule = UpdateRule(name, RuleParams(eta1=eta1, eta2=eta2, adaptive=adaptive, kappa=kappa, stdp=stdp))
    rule.bind(model)
    rule.optimizer = optimizer
    if rule.uses_stdp:
        for k, c in enumerate(coefficients):
            rule.coefficients[k] = c  # the caller's tensors
    return rule.step(output, loss)


def robustness_score(curve: dict) -> float:
    """Exercise 6.2: the trapezoidal mean of accuracy over the noise range."""
    sigmas = sorted(curve)
    if len(sigmas) < 2 or sigmas[-1] == sigmas[0]:
        raise ValueError("robustness_score needs accuracies at two or more different noise levels")
    area = sum((b - a) * (curve[a] + curve[b]) / 2 for a, b in zip(sigmas, sigmas[1:]))
    return area / (sigmas[-1] - sigmas[0])


def extra_spikes(image, sigma: float) -> float:
    """Exercise 6.3: the input spikes per step that clip(x + σz, 0, 1) adds on black pixels (σ/√(2π) each)."""
    return float((torch.as_tensor(image) == 0).sum()) * sigma / math.sqrt(2 * math.pi)


def paired_interval(hybrid: dict, baseline: dict) -> tuple[float, float]:
    """Exercise 6.1: mean same-seed difference and its 95 % half-width (Student's t, as the report computes it)."""
    seeds = sorted(hybrid.keys() & baseline.keys())
    if len(seeds) < 2:
        raise ValueError("paired_interval needs at least two seeds that both rules have run")
    diffs = [hybrid[s] - baseline[s] for s in seeds]
    _, half = difference_verdict(diffs)
    return sum(diffs) / len(diffs), half


def seed_band(curves) -> tuple[np.ndarray, np.ndarray]:
    """Exercise 6.4: per-epoch mean and sample standard deviation over seeds (curves cut to the shortest)."""
    length = min(len(c) for c in curves)
    a = np.array([c[:length] for c in curves], dtype=np.float64)
    sd = a.std(axis=0, ddof=1) if len(curves) > 1 else np.zeros(length)
    return a.mean(axis=0), sd



# ----------------------------------------------------------------------------- chapter 1


def lif_update(current, membrane, beta, threshold, reset="subtract"):
    """Exercise 1.1: one step, ``(spike, membrane)``; NumPy in, NumPy out, tensors in, tensors out."""
    as_numpy = not isinstance(current, torch.Tensor)
    s, u = lif_step(torch.as_tensor(current, dtype=torch.float64), torch.as_tensor(membrane, dtype=torch.float64),
                    LIFParams(beta=beta, threshold=threshold, reset=reset))
    if as_numpy:
        return s.numpy(), u.numpy()
    dtype = current.dtype if current.is_floating_point() else torch.get_default_dtype()
    return s.to(dtype), u.to(dtype)


def simulate_lif(current, beta, threshold, reset="subtract", step=None):
    """Exercise 1.2: spikes and membranes ``[T, ...]`` of a LIF neuron from rest.

    With ``step`` (a function shaped like exercise 1.1's ``lif_update``) every time step goes
    through it; without, labkit's `lif_sequence` runs the whole sequence at once.
    """
    current = torch.as_tensor(current)
    if step is None:
        return lif_sequence(current, LIFParams(beta=beta, threshold=threshold, reset=reset))
    membrane, spikes, membranes = torch.zeros_like(current[0]), [], []
    for t in range(current.shape[0]):
        s, membrane = step(current[t], membrane, beta, threshold, reset)
        spikes.append(torch.as_tensor(s))
        membranes.append(torch.as_tensor(membrane))
    return torch.stack(spikes), torch.stack(membranes)


def theoretical_rate(current, beta=0.9, threshold=1.0):
    """Exercise 1.3: the firing rate 1/n* of a LIF neuron reset to zero under constant input (0 below rheobase)."""
    current = np.asarray(current, dtype=float)
    rates = np.zeros_like(current)
    for index, i in np.ndenumerate(current):
        if i <= 0 or (beta < 1 and i / (1 - beta) <= threshold):
            continue
        n, u = 1, i
        while u <= threshold:  # the climb from u = I after a reset, as from rest
            n, u, previous = n + 1, beta * u + i, u
            if u == previous:  # converged just below the threshold (rounding at the rheobase)
                break
        else:
            rates[index] = 1.0 / n
    return rates


# ----------------------------------------------------------------------------- chapter 2


def rate_encode(images, num_steps, generator=None):
    """Exercise 2.1: Bernoulli spikes ``[num_steps, *images.shape]``, P(spike) = intensity."""
    return encode_rate(torch.as_tensor(images), num_steps, generator=generator)


def predicted_rmse(images, num_steps):
    """Exercise 2.2: the predicted RMS error of the rate decoder, sqrt(mean x(1 − x) / T)."""
    x = torch.as_tensor(images, dtype=torch.float64)
    return math.sqrt((x * (1 - x)).mean().item() / num_steps)


def latency_encode(images, num_steps):
    """Exercise 2.3: one spike per non-black pixel at step round((1 − x)(T − 1))."""
    return encode_latency(torch.as_tensor(images), num_steps)


def latency_decode(spikes):
    """Exercise 2.4: intensities from a latency code, 1 − t/(T − 1) where a pixel fired, else 0."""
    spikes = torch.as_tensor(spikes)
    steps = spikes.shape[0]
    fired = spikes.sum(dim=0) > 0
    t_spike = spikes.argmax(dim=0).to(torch.get_default_dtype())
    return torch.where(fired, 1 - t_spike / (steps - 1), torch.zeros_like(t_spike))


# ----------------------------------------------------------------------------- chapter 3


def trace_step(trace, spikes, decay):
    """Exercise 3.1: the trace one step later."""
    return decay * trace + spikes


def stdp_pairs(pre, post, params: STDPParams):
    """Exercise 3.2: the pair-based STDP change ΔW ``[n_post, n_pre]`` of one spike train ``[T, n]`` per side."""
    pre, post = torch.as_tensor(pre), torch.as_tensor(post)
    dtype = torch.promote_types(pre.dtype, post.dtype)
    return stdp_update(pre.to(dtype)[:, None, :], post.to(dtype)[:, None, :], params)


def name_neurons(responses, labels, n_classes=10):
    """Exercise 3.3: each neuron's class, that of its highest mean response; −1 for neurons that never fired."""
    return assign_labels(torch.as_tensor(responses), torch.as_tensor(labels), n_classes)


# ----------------------------------------------------------------------------- chapter 0


def class_mean(images, labels, digit):
    """Exercise 0.1: the mean image ``[28, 28]`` of the images whose label is ``digit``."""
    images, labels = torch.as_tensor(images), torch.as_tensor(labels)
    return images[labels == digit].mean(dim=0)


# ----------------------------------------------------------------------------- chapter 7


def activation_sparsity(outputs) -> float:
    """Exercise 7.2: NeuroBench's activation sparsity, the zero entries of all ``outputs`` (one tensor per layer) over all entries."""
    tensors = [torch.as_tensor(o) for o in outputs]
    return float(sum(int((t == 0).sum()) for t in tensors) / sum(t.numel() for t in tensors))


def energy_uj(counts, e_mac_pj, e_ac_pj, e_neuron_pj) -> float:
    """Exercise 7.3: energy per inference in µJ of ``counts`` on `labkit.energy`'s sparsity-aware digital model at these prices."""
    prices = {"e_mac_pj": e_mac_pj, "e_ac_pj": e_ac_pj, "e_neuron_pj": e_neuron_pj}
    return energy_from_counts(counts, "digital45", prices).total_uj


# ----------------------------------------------------------------------------- chapter 9


def pixel_events(log_intensity, threshold):
    """Exercise 9.1: signed event count per sample of one event-camera pixel (reference-reset model,
    Gallego et al., TPAMI 2022, eq. 1): n_k = trunc((L_k − ref) / C), then ref moves by n_k·C."""
    log_intensity = np.asarray(log_intensity, dtype=np.float64)
    counts = np.zeros(len(log_intensity), dtype=np.int64)
    level = log_intensity[0]
    for k in range(1, len(log_intensity)):
        counts[k] = math.trunc((log_intensity[k] - level) / threshold)
        level += counts[k] * threshold
    return counts


def bin_events(events, num_bins, duration_us):
    """Exercise 9.2: event counts ``[num_bins, 2, 34, 34]`` (bin, polarity, y, x), bin k = ⌊t · num_bins / duration_us⌋."""
    return event_counts(events, num_bins, duration_us)


def recurrent_lif(current, weight, params):
    """Exercise 9.3: LIF neurons driven by ``current`` ``[T, B, n]`` plus their own spikes of the previous step
    through ``weight`` V ``[n, n]`` (`labkit.neurons.lif_step`); returns (spikes, membrane), each ``[T, B, n]``."""
    s = torch.zeros_like(current[0])
    u = torch.zeros_like(current[0])
    spikes, membranes = [], []
    for t in range(current.shape[0]):
        s, u = lif_step(current[t] + torch.nn.functional.linear(s, weight), u, params)
        spikes.append(s)
        membranes.append(u)
    return torch.stack(spikes), torch.stack(membranes)
