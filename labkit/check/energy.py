"""Exercises 7.2 and 7.3: NeuroBench's activation sparsity, and the energy of one inference from its counts."""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import torch

from ..energy import energy_from_counts
from .core import (Case, CheckResult, Mismatch, exercise, expect_close, expect_unchanged, mistake, run_cases, show, snapshot,
                   to_numpy)

__all__ = ["activation_sparsity", "energy_uj"]

# ----------------------------------------------------------------------------- 7.2 activation sparsity


def _sparsity_reference(outputs) -> float:
    """NeuroBench's ActivationSparsity: zero outputs / all outputs, pooled over layers (Yik et al., 2025)."""
    arrays = [np.asarray(to_numpy(o)) for o in outputs]
    total = sum(a.size for a in arrays)
    return float(sum((a == 0).sum() for a in arrays) / total)


def _sparsity_case(outputs, expected=None, what="activation sparsity"):
    def run(fn):
        tensors = [torch.as_tensor(np.asarray(o, dtype=np.float32)) for o in outputs]
        want = _sparsity_reference(tensors) if expected is None else expected
        got = fn([t.clone() for t in tensors])
        if isinstance(got, bool) or not isinstance(got, numbers.Real):
            raise Mismatch("a Python float", f"{type(got).__name__} {show(got)} (convert with float(...))")
        expect_close(got, want, what, atol=1e-9)

    return run


def _sparsity_random(fn):
    g = torch.Generator().manual_seed(2)
    hidden = (torch.rand(25, 8, 50, generator=g) < 0.3).float()
    output = (torch.rand(25, 8, 10, generator=g) < 0.05).float()
    _sparsity_case([hidden, output])(fn)


def labkit_activation_sparsity(outputs) -> float:
    """labkit's version of exercise 7.2: NeuroBench's activation sparsity, the zero entries of all ``outputs`` (one
    tensor per layer) over all entries."""
    tensors = [torch.as_tensor(o) for o in outputs]
    return float(sum(int((t == 0).sum()) for t in tensors) / sum(t.numel() for t in tensors))


@exercise("7.2", "([outputs of each layer]) -> fraction of zero outputs", fallback=labkit_activation_sparsity)
def activation_sparsity(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 7.2, ``activation_sparsity([outputs of each neuron layer]) -> fraction of zero outputs``."""
    formula = "sparsity = (number of zero entries in all layers) / (number of entries in all layers)"
    cases = [
        Case("a silent layer is fully sparse", "count the zero outputs and divide by the number of outputs",
              _sparsity_case([np.zeros((4, 2, 3))], 1.0), formula),
        Case("returns a Python float", "wrap the result in float(...)",
              _sparsity_case([np.ones((2, 3))], 0.0), formula),
        Case("one layer, time and batch dimensions", "count over every dimension: steps, samples and neurons",
              _sparsity_case([[[[1, 0, 0, 0]], [[0, 1, 1, 0]]]], 5 / 8), formula),
        Case("two layers of different sizes are pooled, not averaged",
              "add up the zeros of all layers and divide by all their entries; do not average the layers' fractions",
              _sparsity_case([np.zeros((1, 8)), np.ones((1, 2))], 0.8), formula),
        Case("any non-zero value is activity (ReLU outputs are not 0/1)", "an output is active when it is != 0",
              _sparsity_case([[[0.0, 0.3, 2.5, 0.0]]], 0.5), formula),
        Case("the inputs are not modified", "count with comparisons (x == 0), do not change the tensors",
              _sparsity_unchanged, formula),
        Case("hidden and output spikes of 8 samples over 25 steps", "use every layer of the list", _sparsity_random,
              formula),
    ]
    return run_cases("7.2", "activation_sparsity", fn, cases, quiet=quiet, names=("outputs",))


def _sparsity_unchanged(fn):
    x = [torch.tensor([[0.0, 1.0], [2.0, 0.0]])]
    before = snapshot(*x)
    fn(x)
    expect_unchanged(before, x, "the outputs")


# ----------------------------------------------------------------------------- 7.3 pricing counts


@dataclass(frozen=True)
class _Counts:
    """The attributes of `labkit.energy.OpCounts` that exercise 7.3 reads (plus a dense count it must not price)."""

    effective_macs: float
    effective_acs: float
    neuron_updates: float
    dense: float = 0.0
    kind: str = "snn"


def _price_case(counts, prices, what="energy (µJ)"):
    def run(fn):
        mac, ac, neuron = prices
        want = (counts.effective_macs * mac + counts.effective_acs * ac + counts.neuron_updates * neuron) * 1e-6
        got = fn(counts, mac, ac, neuron)
        if isinstance(got, bool) or not isinstance(got, numbers.Real):
            raise Mismatch("a number of microjoules (a float)", f"{type(got).__name__} {show(got)}")
        expect_close(got, want, what, atol=0.0, rtol=1e-9)

    return run


def _price_against_labkit(fn):
    counts = _Counts(effective_macs=74_500.0, effective_acs=1.26e6, neuron_updates=12_750.0, dense=9.9e6)
    for prices in ((4.6, 0.9, 9.2), (3.1, 0.1, 2.0)):
        platform = {"e_mac_pj": prices[0], "e_ac_pj": prices[1], "e_neuron_pj": prices[2]}
        want = energy_from_counts(counts, "digital45", platform).total_uj
        expect_close(fn(counts, *prices), want, f"energy at prices {prices} (labkit.energy digital45)", atol=0.0,
                      rtol=1e-9)


def labkit_energy_uj(counts, e_mac_pj, e_ac_pj, e_neuron_pj) -> float:
    """labkit's version of exercise 7.3: energy per inference in µJ of ``counts`` on `labkit.energy`'s sparsity-aware
    digital model at these prices."""
    prices = {"e_mac_pj": e_mac_pj, "e_ac_pj": e_ac_pj, "e_neuron_pj": e_neuron_pj}
    return energy_from_counts(counts, "digital45", prices).total_uj


@exercise("7.3", "(counts, e_mac_pj, e_ac_pj, e_neuron_pj) -> µJ per inference", fallback=labkit_energy_uj)
def energy_uj(fn, *, quiet: bool = False) -> CheckResult:
    """Check exercise 7.3, ``energy_uj(counts, e_mac_pj, e_ac_pj, e_neuron_pj) -> µJ per inference``."""
    formula = "E [µJ] = (Effective_MACs · e_mac + Effective_ACs · e_ac + neuron updates · e_neuron) [pJ] · 1e-6"
    cases = [
        Case("an ANN: 1,000,000 MACs at 1 pJ are 1 µJ", "one pJ is 10^-6 µJ",
              _price_case(_Counts(1e6, 0.0, 0.0), (1.0, 0.0, 0.0)), formula),
        Case("an SNN's accumulates are priced at e_ac", "ACs have their own price, e_ac_pj",
              _price_case(_Counts(0.0, 2e6, 0.0), (4.6, 0.9, 9.2)), formula),
        Case("neuron updates cost e_neuron each", "every neuron update at every step is paid, spike or not",
              _price_case(_Counts(0.0, 0.0, 12_750.0), (4.6, 0.9, 9.2)), formula),
        Case("event-driven hardware pays the effective counts, not the dense ones",
              "price Effective_MACs and Effective_ACs; counts.dense is what a GPU would pay",
              _price_case(_Counts(5e4, 1e6, 1e4, dense=9.9e6), (4.6, 0.9, 9.2)), formula),
        Case("the prices are arguments", "use e_mac_pj, e_ac_pj and e_neuron_pj, not the 45 nm numbers",
              _price_case(_Counts(3e5, 2e5, 5e3), (0.2, 0.03, 1.0)), formula),
        Case("agrees with labkit.energy's digital45 model", "sum the three products, then convert pJ to µJ",
              _price_against_labkit, formula),
    ]
    return run_cases("7.3", "energy_uj", fn, cases, quiet=quiet,
                     names=("counts", "e_mac_pj", "e_ac_pj", "e_neuron_pj"))


# ----------------------------------------------------------------------------- the mistakes students make


@mistake("7.2", "the mean of the layers' fractions", "a big layer has more outputs than a small one: pool the "
         "zeros and the entries of all layers, then divide once")
def _sparsity_mean_of_layers(outputs):
    return float(np.mean([float((o == 0).float().mean()) for o in outputs]))


@mistake("7.2", "a tensor instead of a float", "the fraction is right, but return it as a Python float")
def _sparsity_tensor(outputs):
    return sum((o == 0).sum() for o in outputs) / sum(o.numel() for o in outputs)


@mistake("7.2", "the fraction of active outputs", "sparsity counts the ZERO outputs; you returned the share of "
         "active ones")
def _sparsity_active(outputs):
    return float(sum(int((o != 0).sum()) for o in outputs) / sum(o.numel() for o in outputs))


@mistake("7.2", "only outputs equal to 1 counted as active", "a ReLU output of 0.3 is activity too: an output is "
         "active when it is not zero")
def _sparsity_ones(outputs):
    return float(sum(int((o != 1).sum()) for o in outputs) / sum(o.numel() for o in outputs))


@mistake("7.2", "only the first layer", "the list holds every layer's outputs: use all of them")
def _sparsity_first(outputs):
    return float((outputs[0] == 0).float().mean())


@mistake("7.3", "picojoules returned, not microjoules", "the prices are in pJ and the answer in µJ: one pJ is "
         "10^-6 µJ")
def _energy_in_picojoules(counts, e_mac_pj, e_ac_pj, e_neuron_pj):
    return counts.effective_macs * e_mac_pj + counts.effective_acs * e_ac_pj + counts.neuron_updates * e_neuron_pj


@mistake("7.3", "nanojoules returned, not microjoules", "1 µJ is 10^6 pJ, not 10^3")
def _energy_in_nanojoules(counts, e_mac_pj, e_ac_pj, e_neuron_pj):
    return (counts.effective_macs * e_mac_pj + counts.effective_acs * e_ac_pj
            + counts.neuron_updates * e_neuron_pj) * 1e-3


@mistake("7.3", "the neuron updates left out", "every neuron update at every step costs e_neuron, spike or not")
def _energy_no_neurons(counts, e_mac_pj, e_ac_pj, e_neuron_pj):
    return (counts.effective_macs * e_mac_pj + counts.effective_acs * e_ac_pj) * 1e-6


@mistake("7.3", "the dense count priced", "event-driven hardware pays only the operations that happen: the "
         "effective MACs and ACs, not the dense count")
def _energy_dense(counts, e_mac_pj, e_ac_pj, e_neuron_pj):
    return (counts.dense * e_mac_pj + counts.effective_acs * e_ac_pj + counts.neuron_updates * e_neuron_pj) * 1e-6


@mistake("7.3", "accumulates priced as MACs", "an accumulate (AC) is cheaper than a multiply-accumulate: it has its "
         "own price, e_ac_pj")
def _energy_acs_as_macs(counts, e_mac_pj, e_ac_pj, e_neuron_pj):
    return ((counts.effective_macs + counts.effective_acs) * e_mac_pj + counts.neuron_updates * e_neuron_pj) * 1e-6
