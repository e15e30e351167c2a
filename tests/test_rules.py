"""Tests for labkit.rules: the η1 schedule, rule validation, and what each rule does to the weights.

Every rule is checked against a hand computation from the *same* forward pass: a copy of the
network stepped by a plain ``torch.optim.Adam`` (the gradient part), and the STDP change
written out with traces and a loop over time (the local part).
"""

from __future__ import annotations

import copy
import math

import pytest
import torch

from labkit.models import ANNBaseline, SpikingMLP
from labkit.rules import HYBRID_STDP, RULES, RuleParams, UpdateRule, eta1_schedule, make_rule
from labkit.stdp import STDPParams
from labkit.training import Data, paper_loss, train

SIZES = (30, 20, 5)
STEPS, BATCH = 12, 8


# ----------------------------------------------------------------------------- helpers


def spiking_net(seed: int = 0) -> SpikingMLP:
    return SpikingMLP(SIZES, seed=seed)


def input_spikes(seed: int = 1, rate: float = 0.4) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(STEPS, BATCH, SIZES[0], generator=g) < rate).float()


def labels(seed: int = 2) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, SIZES[-1], (BATCH,), generator=g)


def forward_and_loss(model, x, y, grad: bool = True):
    with torch.set_grad_enabled(grad):
        output = model(x)
        return output, paper_loss(output.out_membrane, y)


def reference_stdp(pre: torch.Tensor, post: torch.Tensor, params: STDPParams) -> torch.Tensor:
    """ΔW = (1/B) Σ_b Σ_t [A+ s_post,t ⊗ x_pre,t − A− λ− y_post,t−1 ⊗ s_pre,t], stepped one t at a time.

    x_t = λ+ x_{t−1} + s_pre,t and y_t = λ− y_{t−1} + s_post,t (labkit.stdp's docstring),
    in float64, with no matrix trick: an independent check of what the rule applies.
    """
    pre, post = pre.double(), post.double()
    steps, batch = pre.shape[:2]
    x = torch.zeros_like(pre[0])
    y = torch.zeros_like(post[0])
    dw = torch.zeros(post.shape[2], pre.shape[2], dtype=torch.float64)
    for t in range(steps):
        x = params.decay_plus * x + pre[t]
        y_before = params.decay_minus * y  # λ− y_{t−1}: strictly earlier post spikes
        dw += params.A_plus * post[t].T @ x - params.A_minus * y_before.T @ pre[t]
        y = y_before + post[t]
    return dw / batch


def adam_reference(model: SpikingMLP, x, y, lr: float) -> SpikingMLP:
    """A copy of ``model`` after one plain Adam step (lr η2) on the paper's loss for (x, y)."""
    twin = copy.deepcopy(model)
    optimizer = torch.optim.Adam(twin.parameters(), lr=lr)
    _, loss = forward_and_loss(twin, x, y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return twin


def cosine_rows(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """cos(a[j], b[j]) = a[j]·b[j] / (|a[j]| |b[j]|), 0 where a row is zero."""
    a, b = a.double(), b.double()
    norms = a.norm(dim=1) * b.norm(dim=1)
    dots = (a * b).sum(dim=1)
    return torch.where(norms > 0, dots / norms.clamp_min(1e-300), torch.zeros_like(dots))


# ----------------------------------------------------------------------------- η1 schedule


def test_eta1_schedule_golden_values():
    # η1(e) = η1⁰ / (1 + ln(1 + e)); by hand: ln 1 = 0, ln 2 = 0.693147, ln 10 = 2.302585.
    assert eta1_schedule(0.01, 0) == pytest.approx(0.01, rel=1e-12), "epoch 0 uses the initial rate η1⁰"
    assert eta1_schedule(0.01, 1) == pytest.approx(0.01 / 1.6931472, rel=1e-7), \
        "η1(1) = η1⁰ / (1 + ln 2) ≈ 0.0059061"
    assert eta1_schedule(0.01, 9) == pytest.approx(0.01 / 3.3025851, rel=1e-7), \
        "η1(9) = η1⁰ / (1 + ln 10) ≈ 0.0030279"
    # 1 + ln(1 + e) = 2 at e = E − 1 (E = 2.71828…): the rate has halved there.
    assert 0.01 / eta1_schedule(0.01, 2) > 2 > 0.01 / eta1_schedule(0.01, 1), "η1 halves between epochs 1 and 2"


def test_eta1_schedule_decays_slowly_and_scales_linearly():
    values = [eta1_schedule(1.0, e) for e in range(31)]
    assert all(a > b for a, b in zip(values, values[1:])), "η1(e) strictly decreases after every epoch"
    assert values[30] > 0.2, \
        "logarithmic decay: after 30 epochs η1 is still above a fifth of η1⁰ (1/(1+ln 31) ≈ 0.226)"
    assert eta1_schedule(0.03, 5) == pytest.approx(3 * eta1_schedule(0.01, 5)), "η1(e) is proportional to η1⁰"
    assert eta1_schedule(0.0, 7) == 0.0, "η1⁰ = 0 stays 0 at every epoch"


def test_rule_eta1_follows_the_schedule_after_each_epoch():
    rule = make_rule("sum", eta1=0.02)
    for epoch in range(4):
        assert rule.eta1 == pytest.approx(eta1_schedule(0.02, epoch)), f"rule.eta1 at epoch {epoch} is η1(e)"
        rule.end_epoch()


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize("name", RULES)
def test_make_rule_builds_every_named_rule(name):
    rule = make_rule(name)
    assert isinstance(rule, UpdateRule) and rule.name == name
    assert rule.uses_stdp == (name != "bp"), f"{name}: STDP is on except for bp"
    assert rule.uses_gradient == (name != "stdp"), f"{name}: the gradient is on except for stdp"
    assert rule.params.adaptive == (name == "adaptive"), f"{name}: only adaptive adapts c"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"eta1": -0.01}, "eta1"),
        ({"eta1": math.nan}, "eta1"),
        ({"eta1": math.inf}, "eta1"),
        ({"eta1": "0.01"}, "eta1"),
        ({"eta2": -1e-3}, "eta2"),
        ({"eta2": math.nan}, "eta2"),
        ({"eta2": math.inf}, "eta2"),
        ({"eta1": 0.0, "eta2": 0.0}, "both 0"),
        ({"kappa": -0.1}, "kappa"),
        ({"kappa": 1.5}, "kappa"),
        ({"kappa": math.nan}, "kappa"),
        ({"c_init": 1.5}, "c_init"),
    ],
)
def test_make_rule_rejects_bad_parameters_naming_the_field(overrides, field):
    for name in ("sum", "adaptive"):
        with pytest.raises(ValueError, match=field):
            make_rule(name, **overrides)


def test_kappa_bounds_are_inclusive():
    assert make_rule("adaptive", kappa=0.0).params.kappa == 0.0, "κ = 0 (c frozen) is allowed"
    assert make_rule("adaptive", kappa=1.0).params.kappa == 1.0, "κ = 1 is allowed"


def test_make_rule_rejects_unknown_rule_listing_the_choices():
    with pytest.raises(ValueError, match="unknown rule 'hebb'.*bp, stdp, sum, adaptive"):
        make_rule("hebb")


@pytest.mark.parametrize(
    ("name", "overrides"),
    [("bp", {"eta1": 0.01}), ("stdp", {"eta2": 1e-3}), ("sum", {"adaptive": True}), ("adaptive", {"adaptive": False})],
)
def test_make_rule_rejects_overrides_that_contradict_the_rule(name, overrides):
    with pytest.raises(ValueError, match=f"rule '{name}' fixes"):
        make_rule(name, **overrides)


def test_bp_and_stdp_with_their_only_rate_zero_are_rejected():
    with pytest.raises(ValueError, match="both 0"):
        make_rule("bp", eta2=0.0)
    with pytest.raises(ValueError, match="both 0"):
        make_rule("stdp", eta1=0.0)


def test_make_rule_passes_a_rule_object_through_but_not_with_overrides():
    rule = make_rule("adaptive")
    assert make_rule(rule) is rule
    with pytest.raises(ValueError, match="not both"):
        make_rule(rule, eta1=0.1)


def test_stdp_rules_need_a_spiking_network():
    make_rule("bp").bind(ANNBaseline((30, 20, 5)))  # the gradient alone works on the ANN
    for name in ("stdp", "sum", "adaptive"):
        with pytest.raises(ValueError, match="SpikingMLP"):
            make_rule(name).bind(ANNBaseline((30, 20, 5)))


def test_stdp_layers_out_of_range_are_rejected():
    with pytest.raises(ValueError, match="out of range"):
        make_rule("sum", layers=(0, 2)).bind(spiking_net())


# ----------------------------------------------------------------------------- what each rule does


def test_bp_changes_weights_only_through_adam(monkeypatch):
    import labkit.rules

    def no_stdp(*args, **kwargs):
        raise AssertionError("bp must not compute an STDP update")

    monkeypatch.setattr(labkit.rules, "stdp_update", no_stdp)
    model, x, y = spiking_net(), input_spikes(), labels()
    expected = adam_reference(model, x, y, lr=1e-3)
    rule = make_rule("bp", eta2=1e-3)
    rule.bind(model)
    output, loss = forward_and_loss(model, x, y)
    rule.step(output, loss)
    assert rule.coefficients == [], "bp keeps no plasticity coefficients"
    for (name, p), q in zip(model.named_parameters(), expected.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=1e-7, msg=f"bp: {name} equals one plain Adam step")


def test_stdp_applies_exactly_eta1_times_the_stdp_change_of_the_same_pass():
    model, x, y = spiking_net(), input_spikes(), labels()
    rule = make_rule("stdp", eta1=0.02)
    rule.bind(model)
    rule.end_epoch()  # epoch 1: the applied rate is η1(1) = 0.02 / (1 + ln 2)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    output, loss = forward_and_loss(model, x, y, grad=False)  # the loop runs stdp without autograd
    expected = [reference_stdp(output.spikes[i], output.spikes[i + 1], HYBRID_STDP) for i in range(2)]
    assert all(dw.abs().sum() > 0 for dw in expected), "test setup: both layers see pre and post spikes"
    rule.step(output, loss)
    eta = 0.02 / (1 + math.log(2))
    for i, layer in enumerate(model.layers):
        change = (layer.weight.detach() - before[f"layers.{i}.weight"]).double()
        torch.testing.assert_close(change, eta * expected[i], rtol=1e-5, atol=1e-7,  # float32 ulps of W
                                   msg=f"stdp: layer {i} weights change by exactly η1(e)·ΔW_stdp")
        torch.testing.assert_close(layer.bias.detach(), before[f"layers.{i}.bias"], rtol=0, atol=0,
                                   msg=f"stdp: layer {i} biases are untouched (STDP acts on synapses only)")


def test_sum_is_the_adam_step_plus_eta1_times_the_stdp_change():
    model, x, y = spiking_net(), input_spikes(), labels()
    adam_only = adam_reference(model, x, y, lr=1e-3)
    rule = make_rule("sum", eta1=0.05, eta2=1e-3)
    rule.bind(model)
    output, loss = forward_and_loss(model, x, y)
    dws = [reference_stdp(output.spikes[i], output.spikes[i + 1], HYBRID_STDP) for i in range(2)]
    rule.step(output, loss)
    for i, (layer, twin) in enumerate(zip(model.layers, adam_only.layers)):
        expected = twin.weight.detach().double() + 0.05 * dws[i]
        torch.testing.assert_close(layer.weight.detach().double(), expected, rtol=1e-5, atol=1e-7,
                                   msg=f"sum: layer {i} = Adam step + η1·ΔW_stdp (c ≡ 1)")
        torch.testing.assert_close(layer.bias, twin.bias, rtol=0, atol=1e-7,
                                   msg=f"sum: layer {i} biases follow Adam alone")
    assert all(torch.equal(c, torch.ones_like(c)) for c in rule.coefficients), "sum keeps c ≡ 1"


def test_adaptive_coefficient_update_matches_a_hand_computation():
    model, x, y = spiking_net(), input_spikes(), labels()
    kappa, c0 = 0.3, 0.5
    adam_only = adam_reference(model, x, y, lr=1e-3)
    rule = make_rule("adaptive", eta1=0.05, eta2=1e-3, kappa=kappa, c_init=c0)
    rule.bind(model)
    output, loss = forward_and_loss(model, x, y)
    grads = torch.autograd.grad(loss, [layer.weight for layer in model.layers], retain_graph=True)
    dws = [reference_stdp(output.spikes[i], output.spikes[i + 1], HYBRID_STDP) for i in range(2)]
    rule.step(output, loss)
    for i in range(2):
        agreement = cosine_rows(dws[i], -grads[i].double())
        c_expected = (c0 + kappa * agreement).clamp(0.0, 1.0)
        torch.testing.assert_close(rule.coefficients[i].double(), c_expected, rtol=0, atol=1e-5,
                                   msg=f"layer {i}: c_j ← clip(c_j + κ cos(ΔW[j], −∇W[j]), 0, 1)")
        silent = output.spikes[i + 1].sum(dim=(0, 1)) == 0
        assert torch.all(rule.coefficients[i][silent] == c0), f"layer {i}: a neuron that never fired keeps its c"
        # the STDP step then uses the coefficients just updated
        expected_w = adam_only.layers[i].weight.detach().double() + 0.05 * c_expected[:, None] * dws[i]
        torch.testing.assert_close(model.layers[i].weight.detach().double(), expected_w, rtol=1e-5, atol=1e-7,
                                   msg=f"adaptive: layer {i} = Adam step + η1·diag(c)·ΔW_stdp")
    moved = torch.cat([c - c0 for c in rule.coefficients]).abs().max()
    assert moved > 1e-3, "test setup: the coefficients actually moved"


def test_adaptive_coefficients_stay_in_the_unit_interval():
    model, x, y = spiking_net(), input_spikes(), labels()
    rule = make_rule("adaptive", eta1=0.01, kappa=1.0, c_init=1.0)
    rule.bind(model)
    for seed in range(5):
        output, loss = forward_and_loss(model, input_spikes(seed), labels(seed))
        rule.step(output, loss)
        for c in rule.coefficients:
            assert torch.all((c >= 0) & (c <= 1)), "κ = 1 steps are clipped: every c_j stays in [0, 1]"


def test_kappa_zero_freezes_the_coefficients():
    model, x, y = spiking_net(), input_spikes(), labels()
    rule = make_rule("adaptive", kappa=0.0, c_init=0.7)
    rule.bind(model)
    output, loss = forward_and_loss(model, x, y)
    rule.step(output, loss)
    assert all(torch.allclose(c, torch.full_like(c, 0.7)) for c in rule.coefficients), "κ = 0: c never moves"


# ----------------------------------------------------------------------------- state and forward passes


def test_rule_state_round_trips_through_state_dict():
    model = spiking_net()
    rule = make_rule("adaptive", eta1=0.05, kappa=0.2)
    rule.bind(model)
    for seed in range(3):
        output, loss = forward_and_loss(model, input_spikes(seed), labels(seed))
        rule.step(output, loss)
    rule.end_epoch()
    state = rule.state_dict()

    twin = copy.deepcopy(model)
    restored = make_rule("adaptive", eta1=0.05, kappa=0.2)
    restored.bind(twin)
    restored.load_state_dict(state)
    assert restored.epoch == 1 and restored.eta1 == pytest.approx(rule.eta1), "the epoch (and so η1(e)) is restored"
    for c, c_saved in zip(restored.coefficients, rule.coefficients):
        torch.testing.assert_close(c, c_saved, rtol=0, atol=0, msg="plasticity coefficients are restored")
    saved_adam = rule.optimizer.state_dict()["state"]
    for key, slot in restored.optimizer.state_dict()["state"].items():
        for name in ("exp_avg", "exp_avg_sq", "step"):
            torch.testing.assert_close(slot[name], saved_adam[key][name], rtol=0, atol=0,
                                       msg=f"Adam's {name} is restored")
    # one more identical step on both: the restored rule continues exactly as the original
    x, y = input_spikes(9), labels(9)
    for r, m in ((rule, model), (restored, twin)):
        output, loss = forward_and_loss(m, x, y)
        r.step(output, loss)
    for p, q in zip(model.parameters(), twin.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=0, msg="a restored rule continues bit for bit")
    assert state["coefficients"][0] is not rule.coefficients[0], "state_dict holds copies, not live tensors"


def test_state_dict_is_a_snapshot_that_later_steps_do_not_change():
    model = spiking_net()
    rule = make_rule("adaptive", eta1=0.05, kappa=0.2)
    rule.bind(model)
    output, loss = forward_and_loss(model, input_spikes(0), labels(0))
    rule.step(output, loss)
    state = rule.state_dict()
    frozen = copy.deepcopy(state)
    for seed in range(1, 3):  # keep training after the snapshot
        output, loss = forward_and_loss(model, input_spikes(seed), labels(seed))
        rule.step(output, loss)
    for key, slot in state["optimizer"]["state"].items():
        for name in ("exp_avg", "exp_avg_sq", "step"):
            torch.testing.assert_close(slot[name], frozen["optimizer"]["state"][key][name], rtol=0, atol=0,
                                       msg=f"a saved rule state keeps Adam's {name} of the moment it was taken")
    torch.testing.assert_close(state["coefficients"][0], frozen["coefficients"][0], rtol=0, atol=0,
                               msg="a saved rule state keeps the coefficients of the moment it was taken")


def test_rule_state_survives_a_checkpoint_file(tmp_path):
    model = spiking_net()
    rule = make_rule("adaptive", eta1=0.05, kappa=0.2, c_init=0.5)
    rule.bind(model)
    output, loss = forward_and_loss(model, input_spikes(0), labels(0))
    rule.step(output, loss)
    rule.end_epoch()
    torch.save({"rule": rule.state_dict(), "model": model.state_dict()}, tmp_path / "ckpt.pt")
    saved = torch.load(tmp_path / "ckpt.pt", weights_only=False)
    twin = spiking_net(seed=5)
    twin.load_state_dict(saved["model"])
    restored = make_rule("adaptive", eta1=0.05, kappa=0.2, c_init=0.5)
    restored.bind(twin)
    restored.load_state_dict(saved["rule"])
    x, y = input_spikes(4), labels(4)
    for r, m in ((rule, model), (restored, twin)):
        output, loss = forward_and_loss(m, x, y)
        r.step(output, loss)
    for p, q in zip(model.parameters(), twin.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=0, msg="a rule restored from a file continues bit for bit")
    for c, d in zip(rule.coefficients, restored.coefficients):
        torch.testing.assert_close(c, d, rtol=0, atol=0, msg="c continues identically after a restore")


def test_state_from_another_rule_is_refused():
    rule = make_rule("sum")
    rule.bind(spiking_net())
    state = rule.state_dict()
    other = make_rule("adaptive")
    other.bind(spiking_net())
    with pytest.raises(ValueError, match="rule 'sum'"):
        other.load_state_dict(state)


def count_forward_calls(model) -> list[int]:
    calls = [0]
    model.register_forward_hook(lambda *args: calls.__setitem__(0, calls[0] + 1))
    return calls


@pytest.mark.parametrize("name", ["stdp", "sum", "adaptive"])
def test_stdp_needs_no_second_forward_pass(name):
    model = spiking_net()
    calls = count_forward_calls(model)
    rule = make_rule(name)
    rule.bind(model)
    output, loss = forward_and_loss(model, input_spikes(), labels(), grad=rule.uses_gradient)
    assert calls[0] == 1
    rule.step(output, loss)
    assert calls[0] == 1, f"{name}: the update reads the spikes of the pass it is given; no new forward pass"


def test_training_runs_one_forward_pass_per_batch():
    g = torch.Generator().manual_seed(0)
    data = Data(torch.rand(40, SIZES[0], generator=g), torch.randint(0, 5, (40,), generator=g),
                torch.rand(10, SIZES[0], generator=g), torch.randint(0, 5, (10,), generator=g))
    model = spiking_net()
    calls = count_forward_calls(model)
    train(model, "adaptive", data, 2, batch_size=16, num_steps=5, progress=False, device="cpu")
    # 40 digits in batches of 16: 3 batches per epoch, plus one evaluation batch of the 10 test digits
    assert calls[0] == 2 * (3 + 1), "adaptive training: one forward pass per batch (+ one per test evaluation)"


def test_params_are_frozen():
    params = RuleParams()
    with pytest.raises(AttributeError):
        params.eta1 = 0.5  # type: ignore[misc]


# ----------------------------------------------------------------------------- the dose, readings and controls


def test_sum_reports_its_dose_against_the_adam_step_it_applied():
    model, x, y = spiking_net(), input_spikes(), labels()
    start = [w.detach().clone() for w in model.weights]
    adam_only = adam_reference(model, x, y, lr=1e-3)
    rule = make_rule("sum", eta1=0.05, eta2=1e-3)
    rule.bind(model)
    output, loss = forward_and_loss(model, x, y)
    dws = [reference_stdp(output.spikes[i], output.spikes[i + 1], HYBRID_STDP) for i in range(2)]
    stats = rule.step(output, loss)
    for i in range(2):
        adam_step = (adam_only.layers[i].weight.detach() - start[i]).double()
        expected = (0.05 * dws[i]).norm().item() / adam_step.norm().item()
        assert stats[f"dose{i}"] == pytest.approx(expected, rel=1e-4), \
            f"dose{i} = ‖η1·ΔW_stdp‖ / ‖Adam's step‖ of layer {i}"
        assert -1.0 <= stats[f"cos{i}"] <= 1.0, f"cos{i} is a cosine"


def test_the_dose_grows_in_proportion_to_eta1_on_the_same_step():
    x, y = input_spikes(), labels()
    doses = []
    for eta1 in (0.01, 0.1):
        model = spiking_net()
        rule = make_rule("sum", eta1=eta1)
        rule.bind(model)
        doses.append(rule.step(*forward_and_loss(model, x, y))["dose0"])
    assert doses[1] == pytest.approx(10 * doses[0], rel=1e-5), "Adam's first step does not depend on η1: ρ ∝ η1"


def test_cosine_is_that_of_the_stdp_change_and_the_negative_gradient():
    model, x, y = spiking_net(), input_spikes(), labels()
    twin = copy.deepcopy(model)
    output, loss = forward_and_loss(twin, x, y)
    loss.backward()
    dw = reference_stdp(output.spikes[0], output.spikes[1], HYBRID_STDP)
    expected = torch.nn.functional.cosine_similarity(dw.flatten(), -twin.layers[0].weight.grad.double().flatten(), dim=0)
    rule = make_rule("adaptive", eta1=0.05)
    rule.bind(model)
    stats = rule.step(*forward_and_loss(model, x, y))
    assert stats["cos0"] == pytest.approx(expected.item(), abs=1e-5)


def test_batch_sum_reading_is_batch_size_times_the_mean_reading():
    x, y = input_spikes(), labels()
    stats = {}
    for reading in ("mean", "batch_sum"):
        model = spiking_net()
        rule = make_rule("sum", eta1=0.01, reading=reading)
        rule.bind(model)
        stats[reading] = rule.step(*forward_and_loss(model, x, y))
    assert stats["batch_sum"]["dose0"] == pytest.approx(BATCH * stats["mean"]["dose0"], rel=1e-5)


def test_sgd_reading_takes_a_plain_gradient_step():
    model, x, y = spiking_net(), input_spikes(), labels()
    twin = copy.deepcopy(model)
    _, loss = forward_and_loss(twin, x, y)
    loss.backward()
    rule = make_rule("sum", eta1=1e-9, eta2=0.5, reading="sgd")
    rule.bind(model)
    rule.step(*forward_and_loss(model, x, y))
    expected = twin.layers[1].bias.detach() - 0.5 * twin.layers[1].bias.grad
    torch.testing.assert_close(model.layers[1].bias.detach(), expected, msg="biases move by −η2·∇L (no STDP there)")


def test_adam_reading_hands_stdp_to_adam_as_a_pseudo_gradient():
    model, x, y = spiking_net(), input_spikes(), labels()
    rule = make_rule("sum", eta1=0.01, reading="adam")
    rule.bind(model)
    before = model.layers[0].weight.detach().clone()
    rule.step(*forward_and_loss(model, x, y))
    step = (model.layers[0].weight.detach() - before).abs()
    assert step.max().item() == pytest.approx(1e-3, rel=1e-3), \
        "through Adam the first step of every weight is at most η2 (the STDP term only steers its sign)"


@pytest.mark.parametrize("direction", ["random", "decay"])
def test_controls_change_the_weights_by_exactly_the_stdp_terms_norm(direction):
    x, y = input_spikes(), labels()
    model = spiking_net()
    output, loss = forward_and_loss(model, x, y, grad=False)
    norms = [(0.05 * reference_stdp(output.spikes[i], output.spikes[i + 1], HYBRID_STDP)).norm().item() for i in range(2)]
    rule = make_rule("stdp", eta1=0.05, direction=direction)
    rule.bind(model)
    rule.set_generator(torch.Generator().manual_seed(0))
    before = [w.detach().clone() for w in model.weights]
    rule.step(output, loss)
    for i, w in enumerate(model.weights):
        change = w.detach() - before[i]
        assert change.norm().item() == pytest.approx(norms[i], rel=1e-4), f"{direction}: same Frobenius norm, layer {i}"
        if direction == "decay":
            cos = torch.nn.functional.cosine_similarity(change.flatten(), -before[i].flatten(), dim=0)
            assert cos.item() == pytest.approx(1.0, abs=1e-5), "decay: the change points from W towards zero"


def test_random_control_is_seeded_by_its_generator():
    x, y = input_spikes(), labels()
    weights = []
    for seed in (0, 0, 1):
        model = spiking_net()
        rule = make_rule("sum", eta1=0.05, direction="random")
        rule.bind(model)
        rule.set_generator(torch.Generator().manual_seed(seed))
        rule.step(*forward_and_loss(model, x, y))
        weights.append(model.layers[0].weight.detach().clone())
    assert torch.equal(weights[0], weights[1]), "same generator seed, same perturbation"
    assert not torch.equal(weights[0], weights[2]), "another seed, another direction"


@pytest.mark.parametrize("overrides, field", [({"reading": "median"}, "reading"), ({"direction": "up"}, "direction"),
                                              ({"reading": "sgd", "eta2": 0.0}, "eta2")])
def test_readings_and_directions_are_checked_where_the_record_is_made(overrides, field):
    with pytest.raises(ValueError, match=field):
        RuleParams(**overrides)


def test_training_history_keeps_the_dose_and_cosine_per_layer_and_epoch():
    g = torch.Generator().manual_seed(0)
    data = Data(torch.rand(64, SIZES[0], generator=g), torch.randint(0, SIZES[-1], (64,), generator=g),
                torch.rand(16, SIZES[0], generator=g), torch.randint(0, SIZES[-1], (16,), generator=g))
    history = train(spiking_net(), "adaptive", data, 2, batch_size=32, num_steps=5, progress=False)
    assert len(history.rule_stats) == 2
    for epoch in history.rule_stats:
        assert {"dose0", "dose1", "cos0", "cos1", "c0", "c1"} <= set(epoch)
        assert all(epoch[f"dose{i}"] > 0 for i in range(2)), "an STDP rule reports a positive dose"
    assert history.config["reading"] == "mean" and history.config["direction"] == "stdp"
