"""Tests for labkit.energy: operation counts on hand-checkable networks, sparsity, energy models."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from labkit import energy as E
from labkit.encoders import FrameEncoder
from labkit.models import ANNBaseline, SNNOutput, SpikingMLP
from labkit.training import Data

# ----------------------------------------------------------------------------- hand-checkable networks


def tiny_snn() -> SpikingMLP:
    """3 inputs → 2 LIF outputs (β = 0.9, θ = 1, reset to zero), no bias, one zero weight per row.

    W = [[0.5, 0.0, 1.2],
         [0.7, 0.3, 0.0]]
    Non-zero fan-out per input (non-zero entries per column): input 0 → 2, input 1 → 1, input 2 → 1.
    """
    model = SpikingMLP(sizes=(3, 2), bias=False, seed=0)
    with torch.no_grad():
        model.layers[0].weight.copy_(torch.tensor([[0.5, 0.0, 1.2], [0.7, 0.3, 0.0]]))
    return model


# One sample, T = 4 steps, as a [N, T, features] frame tensor (encoder=FrameEncoder()):
#   t0: [1, 0, 1]   t1: [0, 1, 0]   t2: [1, 1, 1]   t3: [0, 0, 0]
TINY_SPIKES = torch.tensor([[[1.0, 0, 1], [0, 1, 0], [1, 1, 1], [0, 0, 0]]])

# Hand count for tiny_snn on TINY_SPIKES:
#   input events: input 0 fires at t0, t2 (2); input 1 at t1, t2 (2); input 2 at t0, t2 (2) → 6 spikes
#   Effective_ACs = 2·2 + 2·1 + 2·1 = 8          (each spike × its non-zero fan-out)
#   Dense         = T · n_in · n_out = 4 · 3 · 2 = 24
#   LIF (u_t = 0.9 (1 − r_{t−1}) u_{t−1} + I_t, spike when u_t > 1):
#     neuron 0: I = 1.7, 0, 1.7, 0  → u = 1.7 (spike), 0, 1.7 (spike), 0        → 2 spikes
#     neuron 1: I = 0.7, 0.3, 1.0, 0 → u = 0.7, 0.93, 1.837 (spike), 0          → 1 spike
#   output spikes 3 of T · 2 = 8 neuron-steps → ActivationSparsity = 5/8
#   neuron updates = T · 2 = 8; active (≥ 1 synaptic event that step): t0: 2, t1: 1 (only neuron 1
#     has a non-zero weight from input 1), t2: 2, t3: 0 → 5
#   ConnectionSparsity = 2 zeros / 6 weights = 1/3; Footprint = 6 float32 = 24 bytes
#   STDP updates: pre events × fan-out (8) + post spikes × non-zero fan-in (neuron 0: 2 · 2,
#     neuron 1: 1 · 2) = 8 + 6 = 14


def tiny_counts(**kwargs) -> E.OpCounts:
    return E.count_ops(tiny_snn(), TINY_SPIKES, encoder=FrameEncoder(), device="cpu", **kwargs)


def test_tiny_snn_synaptic_ops_match_the_hand_count():
    c = tiny_counts()
    assert c.kind == "snn" and c.num_steps == 4 and c.samples == 1
    assert c.effective_acs == 8, "each input spike costs one AC per non-zero outgoing weight: 8"
    assert c.effective_macs == 0, "binary (spike) inputs are accumulates, never MACs"
    assert c.dense == 24, "dense counts every synapse at every step: 4 · 3 · 2 = 24"


def test_tiny_snn_neurons_spikes_and_sparsity_match_the_hand_count():
    c = tiny_counts()
    assert c.spikes == (6.0, 3.0), "6 input spikes, and the LIF outputs fire 2 + 1 times"
    assert c.neuron_updates == 8, "every LIF neuron is updated at every step: T · N = 8"
    assert c.active_neuron_updates == 5, "neuron-steps that received at least one synaptic event: 5"
    assert c.activation_sparsity == pytest.approx(5 / 8), "5 of 8 output neuron-steps are silent"
    assert c.connection_sparsity == pytest.approx(1 / 3), "2 of the 6 weights are zero"
    assert c.footprint_bytes == 24, "six float32 weights, no bias: 24 bytes"
    assert c.synaptic_updates == 0, "inference alone makes no synaptic updates"
    assert c.routed_spikes == 6, "only spikes that drive synapses are routed (the input's 6)"


def test_membrane_updates_count_the_membranes_that_changed():
    # One LIF neuron, W = [0.5, 0], no bias, β = 0.9; inputs t0 [0, 0], t1 [0, 0], t2 [1, 0], t3 [0, 1]:
    # u = 0, 0, 0.5, 0.45. NeuroBench counts the first step (1), then each change: t1 no, t2 yes,
    # t3 yes (input 1's weight is zero, the membrane decays) → 3 of the 4 neuron updates.
    model = SpikingMLP(sizes=(2, 1), bias=False, seed=0)
    with torch.no_grad():
        model.layers[0].weight.copy_(torch.tensor([[0.5, 0.0]]))
    frames = torch.tensor([[[0.0, 0], [0, 0], [1, 0], [0, 1]]])
    c = E.count_ops(model, frames, encoder=FrameEncoder(), device="cpu")
    assert c.neuron_updates == 4, "every neuron at every step: T · N = 4"
    assert c.membrane_updates == 3, "the first step, then the two steps whose membrane moved"
    assert c.to_neurobench()["MembraneUpdates"] == 3, "reported under NeuroBench's name"
    assert c.scaled_to(8).membrane_updates == 6, "a per-step count: scales with T"
    assert tiny_counts().membrane_updates == 8, "tiny_snn's membranes move at every step (hand count above)"
    a = E.count_ops(tiny_ann(), torch.tensor([[0.5, 0.0, 1.0]]), device="cpu")
    assert a.membrane_updates is None and "MembraneUpdates" not in a.to_neurobench(), "an ANN has no membrane"
    with pytest.raises(ValueError, match=r"\[T, batch, n\]"):
        E.membrane_updates([torch.zeros(3)])


def test_tiny_snn_stdp_updates_match_the_hand_count():
    c = tiny_counts(plasticity="stdp")
    assert c.synaptic_updates == 14, "pre spikes update their fan-out (8), post spikes their fan-in (6)"


def test_tiny_snn_energy_on_each_platform_matches_the_hand_sum():
    c = tiny_counts()
    # digital45: 8 ACs · 0.9 pJ + 8 neuron updates · 9.2 pJ = 7.2 + 73.6 = 80.8 pJ
    assert E.energy_from_counts(c, "digital45").total_j == pytest.approx(80.8e-12)
    # gpu_dense: 24 dense MACs · 4.6 pJ + 8 · 9.2 pJ = 110.4 + 73.6 = 184.0 pJ
    assert E.energy_from_counts(c, "gpu_dense").total_j == pytest.approx(184.0e-12)
    # loihi: 8 SOPs · 23.6 + 5 active · 81 + 3 inactive · 52 + 6 routed spikes · (1.7 + 1 hop · 3.0)
    #      = 188.8 + 405 + 156 + 28.2 = 778.0 pJ
    assert E.energy_from_counts(c, "loihi").total_j == pytest.approx(778.0e-12)


def test_recurrent_layer_counts_previous_step_spikes():
    # 1 input → 2 recurrent LIF neurons → 1 output; W = [[2], [0]], V = [[0, 0], [1.5, 0]]
    # (neuron 0 → neuron 1), output weights zero. Input spikes only at t0 (T = 3).
    # t0: I = [2, 0] → neuron 0 fires. t1: V s_0 = [0, 1.5] → neuron 1 fires (neuron 0 was reset
    # to 0). t2: V s_1 = [0, 0] → silence.
    # ACs: feed-forward 1 spike × fan-out 1 = 1; recurrent: neuron 0's spike (t0) × fan-out 1
    # + neuron 1's spike (t1) × fan-out 0 = 1; output layer: fan-out 0 → 0. Total 2.
    # Dense: 3 · (1·2) + 3 · (2·2) + 3 · (2·1) = 24.
    # Active neuron-steps: neuron 0 at t0, neuron 1 at t1 → 2. Sparsity: 7 of 9 neuron-steps silent.
    model = SpikingMLP(sizes=(1, 2, 1), recurrent=True, bias=False)
    with torch.no_grad():
        model.layers[0].weight.copy_(torch.tensor([[2.0], [0.0]]))
        model.recurrent.weight.copy_(torch.tensor([[0.0, 0.0], [1.5, 0.0]]))
        model.layers[1].weight.zero_()
    c = E.count_ops(model, torch.tensor([[[1.0], [0.0], [0.0]]]), encoder=FrameEncoder(), device="cpu")
    assert [lay.name for lay in c.layers] == ["layers.0", "recurrent", "layers.1"]
    assert [lay.effective_acs for lay in c.layers] == [1, 1, 0], "recurrent spikes drive ACs one step later"
    assert c.dense == 24, "the recurrent matrix is applied densely at each of the 3 steps"
    assert c.active_neuron_updates == 2
    assert c.neuron_updates == 9
    assert c.activation_sparsity == pytest.approx(7 / 9)


def test_spike_record_counts_equal_neurobench_style_hook_counts():
    # NeuroBench counts with forward pre-hooks on the connection layers; the lab reads the
    # SNNOutput spike records. On the same inputs both must give the same Effective_ACs.
    model = SpikingMLP(sizes=(20, 15, 5), seed=3)
    gen = torch.Generator().manual_seed(0)
    frames = (torch.rand(4, 10, 20, generator=gen) < 0.3).float()  # [N, T, features]
    seen: list[tuple[torch.Tensor, torch.Tensor]] = []
    hooks = [layer.register_forward_pre_hook(lambda m, a: seen.append((a[0], m.weight))) for layer in model.layers]
    with torch.no_grad():
        model(frames.transpose(0, 1))
    for h in hooks:
        h.remove()
    by_hooks = sum(E.effective_synaptic_ops(x, w) for x, w in seen)
    c = E.count_ops(model, frames, encoder=FrameEncoder(), device="cpu")
    assert c.effective_acs * c.samples == by_hooks, "spike records and connection hooks count the same ops"


# ----------------------------------------------------------------------------- ANN with hooks


def tiny_ann() -> ANNBaseline:
    """3 → 2 (ReLU) → 2, biases zero. W0 = [[1, 0, 2], [-1, 1, 0]], W1 = [[1, 1], [0, 1]]."""
    model = ANNBaseline(sizes=(3, 2, 2))
    with torch.no_grad():
        model.layers[0].weight.copy_(torch.tensor([[1.0, 0.0, 2.0], [-1.0, 1.0, 0.0]]))
        model.layers[1].weight.copy_(torch.tensor([[1.0, 1.0], [0.0, 1.0]]))
        for layer in model.layers:
            layer.bias.zero_()
    return model


def test_tiny_ann_counts_with_hooks_match_the_hand_count():
    # x = [0.5, 0, 1.0]: non-zero inputs 0 (fan-out 2) and 2 (fan-out 1) → 3 MACs; dense 6.
    # hidden = ReLU([0.5 + 2, −0.5]) = [2.5, 0]: input 0 of layer 1 (fan-out 1) → 1 MAC; dense 4.
    # Effective_MACs = 4, Dense = 10, ACs = 0 (2.5 is not binary).
    # ActivationSparsity: hidden ReLU outputs [2.5, 0] → 1/2 (logits are not activations).
    # Neuron updates 2 + 2 = 4; ConnectionSparsity 3 zeros / 10 weights; Footprint 14 float32 = 56 B.
    model = tiny_ann()
    c = E.count_ops(model, torch.tensor([[0.5, 0.0, 1.0]]), device="cpu")
    assert c.kind == "ann" and c.num_steps == 1 and c.samples == 1
    assert c.effective_macs == 4, "only non-zero input × non-zero weight is an effective MAC"
    assert c.effective_acs == 0
    assert c.dense == 10, "dense MACs are the layer sizes: 3·2 + 2·2"
    assert [lay.effective_macs for lay in c.layers] == [3, 1]
    assert c.activation_sparsity == pytest.approx(0.5), "one of the two hidden ReLU units is zero"
    assert c.neuron_updates == 4
    assert c.connection_sparsity == pytest.approx(0.3)
    assert c.footprint_bytes == 56
    assert c.spikes == () and c.synaptic_updates == 0
    assert not any(layer._forward_pre_hooks for layer in model.layers), "counting leaves no hooks behind"


def test_ann_counts_average_over_samples_and_batches():
    # Two samples: the one above (4 effective MACs) and all zeros (0) → mean 2 per inference,
    # whatever the batch size.
    x = torch.tensor([[0.5, 0.0, 1.0], [0.0, 0.0, 0.0]])
    for batch_size in (1, 2):
        c = E.count_ops(tiny_ann(), x, batch_size=batch_size, device="cpu")
        assert c.effective_macs == 2 and c.dense == 10, "counts are per inference, independent of batching"


def test_neurobench_documentation_example():
    # NeuroBench's synaptic-operations page: W = [[1.3, 0, −3.2], [0, 1.2, −5.1], [−1.1, 2.7, 0]],
    # x = [0, 1.3, −1] → binarised product [1, 2, 1] → 4 effective ops; 9 dense ops; MACs (1.3 is not binary).
    w = torch.tensor([[1.3, 0.0, -3.2], [0.0, 1.2, -5.1], [-1.1, 2.7, 0.0]])
    x = torch.tensor([0.0, 1.3, -1.0])
    assert E.effective_synaptic_ops(x, w) == 4
    assert E.dense_synaptic_ops(x, w) == 9
    assert not E.is_binary(x) and E.is_binary(torch.tensor([0.0, 1.0, -1.0]))


def test_counting_leaves_model_mode_unchanged():
    model = tiny_snn().train()
    E.count_ops(model, TINY_SPIKES, encoder=FrameEncoder(), device="cpu")
    assert model.training, "count_ops restores training mode"


# ----------------------------------------------------------------------------- sparsity definitions


def test_activation_sparsity_is_zero_fraction_over_all_layers():
    # 3 zeros in the first tensor (of 4), 1 in the second (of 2): 4 / 6
    a = [torch.tensor([[0.0, 1.0], [0.0, 0.0]]), torch.tensor([0.0, 0.2])]
    assert E.activation_sparsity(a) == pytest.approx(4 / 6)
    with pytest.raises(ValueError, match="at least one"):
        E.activation_sparsity([torch.zeros(0)])


def test_connection_sparsity_ignores_biases_and_footprint_counts_buffers():
    layer = nn.Linear(4, 2)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[0.0, 1.0, 0.0, 2.0], [3.0, 0.0, 0.0, 0.0]]))
        layer.bias.zero_()  # zero biases must not count as missing connections
    assert E.connection_sparsity(layer) == pytest.approx(5 / 8)
    layer.register_buffer("scale", torch.zeros(3, dtype=torch.float64))
    assert E.footprint(layer) == (8 + 2) * 4 + 3 * 8, "float32 parameters plus a float64 buffer"
    with pytest.raises(ValueError, match="no nn.Linear"):
        E.connection_sparsity(nn.ReLU())


def test_sparsities_are_fractions_on_a_real_network():
    model = SpikingMLP(sizes=(784, 50, 10))
    images = torch.rand(8, 28, 28, generator=torch.Generator().manual_seed(1))
    c = E.count_ops(model, images, num_steps=5, device="cpu")
    assert 0 <= c.activation_sparsity <= 1 and 0 <= c.connection_sparsity <= 1
    assert c.dense == 5 * (784 * 50 + 50 * 10), "dense is T · Σ n_in n_out"
    assert c.effective_acs <= c.dense, "effective operations never exceed dense ones"
    assert c.spikes[0] == pytest.approx(c.layers[0].input_events), "input spikes are the first layer's events"


# ----------------------------------------------------------------------------- energy models


def test_scaling_T_scales_snn_counts_and_leaves_the_ann_alone():
    c = tiny_counts()
    c8 = c.scaled_to(8)
    assert c8.num_steps == 8 and c8.dense == 48 and c8.effective_acs == 16
    assert E.energy_from_counts(c8, "gpu_dense").total_j == pytest.approx(2 * 184.0e-12)
    assert c8.activation_sparsity == c.activation_sparsity, "rates (hence sparsity) are kept"
    a = E.count_ops(tiny_ann(), torch.tensor([[0.5, 0.0, 1.0]]), device="cpu")
    assert a.scaled_to(25) is a, "an ANN has no time steps to scale"


def test_user_constants_override_the_defaults():
    c = tiny_counts()
    free_acs = E.energy_from_counts(c, "digital45", {"e_ac_pj": 0.0, "e_neuron_pj": 1.0})
    assert free_acs.total_j == pytest.approx(8e-12), "only 8 neuron updates at 1 pJ remain"
    custom = E.LoihiModel(hops_per_spike=0.0, e_neuron_active_pj=0.0, e_neuron_inactive_pj=0.0)
    # 8 · 23.6 + 6 · 1.7 = 198.99... → 188.8 + 10.2 = 199.0 pJ
    assert E.estimate_energy(tiny_snn(), TINY_SPIKES, custom, encoder=FrameEncoder(), device="cpu").total_j == pytest.approx(
        199.0e-12
    )


def test_every_constant_has_a_source():
    for name, cls in E.PLATFORMS.items():
        sources = cls().sources()
        assert set(sources) == set(cls.constants()), f"{name}: every constant is listed"
        assert all("(" in text and len(text) > 10 for text in sources.values()), f"{name}: sources are named"


def test_estimate_repr_and_dict_are_readable():
    est = E.energy_from_counts(tiny_counts(), "loihi")
    text = repr(est)
    assert "loihi" in text and "µJ" in text and "synaptic ops" in text
    d = est.to_dict()
    assert d["energy_uJ"] == pytest.approx(778.0e-6)
    assert d["breakdown_uJ"]["synaptic ops"] == pytest.approx(188.8e-6)
    assert set(tiny_counts().to_neurobench()["SynapticOperations"]) == {"Effective_MACs", "Effective_ACs", "Dense"}


@pytest.mark.parametrize(
    "platform, constants, match",
    [
        ("tpu", None, "unknown platform"),
        ("digital45", {"e_sop_pj": 1.0}, "unknown constant"),
        ("digital45", {"e_mac_pj": -1.0}, "e_mac_pj must be a finite number >= 0"),
        ("loihi", {"e_sop_pj": math.nan}, "e_sop_pj must be a finite number >= 0"),
        ("loihi", {"hops_per_spike": -2}, "hops_per_spike"),
    ],
)
def test_bad_platforms_and_constants_raise(platform, constants, match):
    with pytest.raises(ValueError, match=match):
        E.make_platform(platform, constants)


def test_negative_constant_in_constructor_raises():
    with pytest.raises(ValueError, match="e_ac_pj"):
        E.DigitalModel(e_ac_pj=-0.1)


def test_bad_counting_arguments_raise():
    ann = tiny_ann()
    x = torch.tensor([[0.5, 0.0, 1.0]])
    with pytest.raises(ValueError, match="spiking networks only|snn networks only"):
        E.estimate_energy(ann, x, "loihi", device="cpu")
    with pytest.raises(ValueError, match="num_steps"):
        E.count_ops(tiny_snn(), x, num_steps=0)
    with pytest.raises(ValueError, match="Data tuple"):
        E.count_ops(ann, [[0.5, 0.0, 1.0]])
    with pytest.raises(ValueError, match="SpikingMLP"):
        E.count_ops(ann, x, plasticity="stdp", device="cpu")
    with pytest.raises(ValueError, match="empty"):
        E.count_ops(ann, x[:0], device="cpu")
    with pytest.raises(ValueError, match="features"):
        E.effective_synaptic_ops(torch.ones(4), torch.ones(2, 3))


def test_loihi_refuses_non_spiking_inputs():
    # Graded (non-binary) inputs make MACs, which Loihi's synaptic-op price does not cover.
    model = SpikingMLP(sizes=(3, 2), bias=False)
    c = E.count_ops(model, torch.full((1, 4, 3), 0.5), encoder=FrameEncoder(), device="cpu")
    assert c.effective_macs > 0
    with pytest.raises(ValueError, match="Effective_MACs"):
        E.energy_from_counts(c, "loihi")


# ----------------------------------------------------------------------------- Table II


def test_energy_table_rows_and_paper_comparison():
    gen = torch.Generator().manual_seed(2)
    x = torch.rand(6, 28, 28, generator=gen)
    data = Data(x[:0], torch.zeros(0, dtype=torch.long), x, torch.zeros(6, dtype=torch.long))
    models = {"ann": ANNBaseline(sizes=(784, 30, 10)), "bp": SpikingMLP(sizes=(784, 30, 10))}
    rows = E.energy_table(models, data, num_steps=5, device="cpu")
    pairs = {(r["model"], r["platform"]) for r in rows}
    assert ("ann", "loihi") not in pairs, "an ANN is not priced on Loihi"
    assert {("ann", "digital45"), ("bp", "loihi"), ("bp", "a100")} <= pairs
    a100 = next(r for r in rows if (r["model"], r["platform"]) == ("ann", "a100"))
    assert a100["paper_uJ"] == 1350.0 and a100["paper_over_lab"] == pytest.approx(1350.0 / a100["energy_uJ"])
    assert all(r["energy_uJ"] > 0 for r in rows)
    comparison = E.compare_with_paper(rows)
    assert [r["label"] for r in comparison] == [p.label for p in E.PAPER_TABLE_II]
    assert comparison[2]["lab_uJ"] is None, "no 'adaptive' model was given: that row stays empty"
    text = E.format_table(comparison, ["label", "paper_uJ", "lab_uJ"])
    assert "hybrid SNN on Loihi" in text and "—" in text
    assert len({tuple(r) for r in rows}) == 1, "every row has the same keys (one CSV/Markdown table)"
    counted = {name: E.count_ops(m, data, num_steps=5, device="cpu") for name, m in models.items()}
    again = E.energy_table(counted, None, num_steps=5)
    assert [r["energy_uJ"] for r in again] == pytest.approx([r["energy_uJ"] for r in rows]), \
        "precomputed OpCounts give the same rows without counting again"


def test_energy_table_maps_other_model_names_to_the_paper_rows():
    x = torch.rand(3, 28, 28, generator=torch.Generator().manual_seed(4))
    models = {"A-STDP hybrid": SpikingMLP(sizes=(784, 20, 10))}
    rows = E.energy_table(models, x, num_steps=3, platforms=("loihi",), paper_models={"A-STDP hybrid": "adaptive"},
                          device="cpu")
    (row,) = rows
    assert row["paper_uJ"] == 530.0, "the alias picks the paper's hybrid-on-Loihi row"
    comparison = E.compare_with_paper(rows, {"A-STDP hybrid": "adaptive"})
    assert comparison[2]["lab_uJ"] == pytest.approx(row["energy_uJ"])


def test_the_8_bit_and_memory_rows_match_the_hand_sums():
    c = tiny_counts()
    # digital45_int8 (Horowitz 8-bit): 8 ACs · 0.03 pJ + 8 neuron updates · 0.46 pJ = 0.24 + 3.68 = 3.92 pJ
    assert E.energy_from_counts(c, "digital45_int8").total_j == pytest.approx(3.92e-12)
    # digital45_mem: digital45's 80.8 pJ + one 5 pJ weight read per synaptic event (8) = 120.8 pJ
    assert E.energy_from_counts(c, "digital45_mem").total_j == pytest.approx(120.8e-12)
    assert "weight reads" in dict(E.energy_from_counts(c, "digital45_mem").breakdown), "the memory term is named"
    assert "digital45_mem" not in E.DEFAULT_PLATFORMS, "the sensitivity row is asked for, not in Table II's defaults"
