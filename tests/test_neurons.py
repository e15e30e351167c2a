"""Tests for labkit.neurons: LIF parameters, the step and fused sequence, surrogates, snnTorch parity."""

from __future__ import annotations

import math

import pytest
import torch

from labkit.neurons import ALIF, LIF, ATan, FastSigmoid, LIFParams, Neuron, lif_sequence, lif_step, spike

RESETS = ("subtract", "zero")
SURROGATES = (ATan(2.0), FastSigmoid(25.0))


def _random_current(seed: int, shape=(25, 8, 40), dtype=torch.float32) -> torch.Tensor:
    """Currents of mean 0.3 and std 0.6: enough drive for ~20% of (t, neuron) entries to spike."""
    g = torch.Generator().manual_seed(seed)
    return 0.3 + 0.6 * torch.randn(shape, generator=g, dtype=dtype)


def _weights(seed: int, shape) -> tuple[torch.Tensor, torch.Tensor]:
    """Random readout weights, so the loss depends on every spike and membrane value."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g), torch.randn(shape, generator=g)


def _step_through(current: torch.Tensor, params: LIFParams, surrogate) -> tuple[torch.Tensor, torch.Tensor]:
    """Reference: call `lif_step` once per time step, from rest."""
    u = torch.zeros_like(current[0])
    spikes, membranes = [], []
    for t in range(current.shape[0]):
        s, u = lif_step(current[t], u, params, surrogate)
        spikes.append(s)
        membranes.append(u)
    return torch.stack(spikes), torch.stack(membranes)


# ----------------------------------------------------------------------------- parameters


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"beta": -0.1}, "beta"),
        ({"beta": 1.5}, "beta"),
        ({"beta": float("nan")}, "beta"),
        ({"beta": "0.9"}, "beta"),
        ({"threshold": 0.0}, "threshold"),
        ({"threshold": -1.0}, "threshold"),
        ({"threshold": float("inf")}, "threshold"),
        ({"threshold": float("nan")}, "threshold"),
        ({"reset": "none"}, "reset"),
    ],
)
def test_lif_params_reject_invalid_values_naming_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        LIFParams(**kwargs)


def test_lif_params_accept_the_closed_interval_of_beta():
    assert LIFParams(beta=0.0).beta == 0.0, "β = 0: no memory is a valid neuron"
    assert LIFParams(beta=1.0).beta == 1.0, "β = 1: a perfect integrator is a valid neuron"


def test_lif_params_are_frozen():
    with pytest.raises(AttributeError):
        LIFParams().beta = 0.5  # type: ignore[misc]


@pytest.mark.parametrize("tau, dt", [(10.0, 1.0), (9.491221581, 1.0), (20.0, 0.5), (1e-3, 1.0)])
def test_from_tau_gives_beta_exp_minus_dt_over_tau(tau, dt):
    # tau = 9.4912... steps is -1/ln(0.9): the paper's beta = 0.9.
    params = LIFParams.from_tau(tau, dt=dt, threshold=0.5, reset="zero")
    assert params.beta == pytest.approx(math.exp(-dt / tau), rel=1e-12), "β = exp(−Δt/τ)"
    assert (params.threshold, params.reset) == (0.5, "zero"), "other fields are passed through"


def test_from_tau_of_the_paper_neuron_is_beta_0_9():
    assert LIFParams.from_tau(-1.0 / math.log(0.9)).beta == pytest.approx(0.9, rel=1e-12)


@pytest.mark.parametrize("tau, dt", [(0.0, 1.0), (-5.0, 1.0), (10.0, 0.0), (float("nan"), 1.0)])
def test_from_tau_rejects_non_positive_time_constants(tau, dt):
    with pytest.raises(ValueError, match="tau"):
        LIFParams.from_tau(tau, dt=dt)


# ----------------------------------------------------------------------------- dynamics


@pytest.mark.parametrize("reset", RESETS)
@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9, 1.0])
def test_no_input_membrane_decays_by_beta_each_step(reset, beta):
    params = LIFParams(beta=beta, threshold=1.0, reset=reset)
    u = torch.tensor([0.8, -0.4, 0.0, 0.999])  # all below threshold: no reset is involved
    for _ in range(10):
        s, u_next = lif_step(torch.zeros_like(u), u, params)
        assert torch.equal(u_next, beta * u), "no input → membrane decays by β each step"
        assert not s.any(), "no input and a sub-threshold membrane → no spike"
        u = u_next


@pytest.mark.parametrize("reset", RESETS)
def test_constant_input_integrates_to_the_geometric_sum(reset):
    # Below threshold, u_t = I (1 − β^t) / (1 − β): the discrete solution of τ du/dt = −u + I.
    beta, current = 0.9, 0.05  # steady state 0.5 < θ = 1: the neuron never fires
    params = LIFParams(beta=beta, threshold=1.0, reset=reset)
    spikes, membranes = lif_sequence(torch.full((60, 1), current, dtype=torch.float64), params)
    t = torch.arange(1, 61, dtype=torch.float64).unsqueeze(1)
    expected = current * (1 - beta**t) / (1 - beta)
    assert torch.allclose(membranes, expected, rtol=1e-12), "constant input charges u like a leaky capacitor"
    assert spikes.sum() == 0, "a steady state below threshold never fires"


def test_spike_then_reset_subtract_keeps_the_surplus_and_zero_discards_it():
    # u_1 = 1.5 crosses θ = 1; the reset applies at step 2 with input 0: subtract → 0.9·1.5 − 1, zero → 0.
    current = torch.tensor([[1.5], [0.0]], dtype=torch.float64)
    _, u_sub = lif_sequence(current, LIFParams(0.9, 1.0, "subtract"))
    _, u_zero = lif_sequence(current, LIFParams(0.9, 1.0, "zero"))
    assert u_sub[1].item() == pytest.approx(0.9 * 1.5 - 1.0), "reset by subtraction removes θ, keeps the surplus"
    assert u_zero[1].item() == 0.0, "reset to zero forgets the membrane"
    assert u_sub[0].item() == u_zero[0].item() == 1.5, "returned membrane is u_t before its own reset"


def test_firing_needs_strictly_more_than_threshold():
    s, _ = lif_step(torch.tensor([1.0, 1.0 + 1e-6]), torch.zeros(2), LIFParams(0.9, 1.0))
    assert s.tolist() == [0.0, 1.0], "spike when u > θ, not at u = θ (Heaviside H(u − θ) with H(0) = 0)"


@pytest.mark.parametrize("current", [0.11, 0.15, 0.2, 0.3, 0.5, 0.9, 1.5])
def test_rate_under_constant_current_matches_the_reset_to_zero_formula(current):
    # With reset to zero (delayed by one step), the trajectory after each spike restarts from
    # u = I, exactly as from rest, so the period is n* = the first n with I (1 − β^n)/(1 − β) > θ,
    # i.e. n* = floor(ln(1 − θ(1 − β)/I) / ln β) + 1; the rate is 1/n* spikes per step.
    beta, theta, steps = 0.9, 1.0, 2000
    n_star = math.floor(math.log(1 - theta * (1 - beta) / current) / math.log(beta)) + 1
    spikes, _ = lif_sequence(torch.full((steps, 1), current, dtype=torch.float64), LIFParams(beta, theta, "zero"))
    times = torch.nonzero(spikes[:, 0]).flatten()
    assert times[0].item() == n_star - 1, "first spike after n* steps from rest"
    assert torch.all(times.diff() == n_star), "constant current → regular firing with period n*"


def test_below_rheobase_there_are_no_spikes():
    # Rheobase of the discrete LIF: I* = θ (1 − β) = 0.1; below it u → I/(1 − β) < θ.
    spikes, _ = lif_sequence(torch.full((2000, 1), 0.099, dtype=torch.float64), LIFParams(0.9, 1.0, "zero"))
    assert spikes.sum() == 0, "below rheobase θ(1 − β) a LIF neuron stays silent"


# ----------------------------------------------------------------------------- fused sequence


@pytest.mark.parametrize("reset", RESETS)
@pytest.mark.parametrize("surrogate", SURROGATES, ids=type)
def test_lif_sequence_equals_stepping_lif_step_bitwise(reset, surrogate):
    params = LIFParams(0.9, 1.0, reset)
    current = _random_current(1)
    s_seq, u_seq = lif_sequence(current, params, surrogate)
    s_step, u_step = _step_through(current, params, surrogate)
    assert 0.05 < s_seq.mean() < 0.5, "the test drive produces a fair number of spikes and resets"
    assert torch.equal(s_seq, s_step), "fused sequence emits exactly the spikes of stepping lif_step"
    assert torch.equal(u_seq, u_step), "fused sequence gives exactly the membranes of stepping lif_step"


@pytest.mark.parametrize("reset", RESETS)
@pytest.mark.parametrize("surrogate", SURROGATES, ids=type)
def test_lif_sequence_input_gradient_matches_autograd_through_lif_step(reset, surrogate):
    params = LIFParams(0.9, 1.0, reset)
    current = _random_current(2).requires_grad_()
    w_s, w_u = _weights(3, current.shape)
    s, u = lif_sequence(current, params, surrogate)
    (grad_seq,) = torch.autograd.grad((w_s * s + w_u * u).sum(), current)
    s, u = _step_through(current, params, surrogate)
    (grad_step,) = torch.autograd.grad((w_s * s + w_u * u).sum(), current)
    err = (grad_seq - grad_step).abs().max().item()
    assert err < 1e-5, f"fused BPTT equals autograd through lif_step (max |Δ| = {err:.2e})"


@pytest.mark.parametrize("reset", RESETS)
def test_lif_sequence_gradient_from_spikes_only_and_membranes_only(reset):
    # Each output alone must carry its gradient (the backward receives None for the unused one).
    params = LIFParams(0.9, 1.0, reset)
    current = _random_current(4, shape=(25, 3, 7)).requires_grad_()
    for pick in (0, 1):
        out = lif_sequence(current, params)[pick].sum()
        (g_seq,) = torch.autograd.grad(out, current)
        (g_step,) = torch.autograd.grad(_step_through(current, params, ATan())[pick].sum(), current)
        assert torch.allclose(g_seq, g_step, atol=1e-5), "each output's gradient matches the stepped reference"


def test_lif_sequence_gradient_passes_numerical_check_in_float64():
    # Membrane-only loss: differentiable everywhere away from threshold crossings (the spike
    # pattern does not change under a 1e-6 perturbation), so finite differences are exact.
    current = _random_current(5, shape=(12, 2, 3), dtype=torch.float64).requires_grad_()
    for reset in RESETS:
        params = LIFParams(0.8, 1.0, reset)
        assert torch.autograd.gradcheck(lambda x: lif_sequence(x, params)[1], (current,), eps=1e-6, atol=1e-6)


def test_lif_module_is_lif_sequence():
    params, current = LIFParams(0.85, 0.7, "zero"), _random_current(6)
    s_mod, u_mod = LIF(params, FastSigmoid(10.0))(current)
    s_fun, u_fun = lif_sequence(current, params, FastSigmoid(10.0))
    assert torch.equal(s_mod, s_fun) and torch.equal(u_mod, u_fun), "LIF module is a thin wrapper"


def test_lif_sequence_rejects_a_scalar():
    with pytest.raises(ValueError, match="time"):
        lif_sequence(torch.tensor(1.0))


# ----------------------------------------------------------------------------- surrogates


def _primitive_atan(x: torch.Tensor, alpha: float) -> torch.Tensor:
    """The smooth step whose derivative ATan documents: (1/π) arctan(π α x / 2) + 1/2."""
    return torch.atan(math.pi / 2 * alpha * x) / math.pi + 0.5


def _primitive_fast_sigmoid(x: torch.Tensor, slope: float) -> torch.Tensor:
    """The smooth step whose derivative FastSigmoid documents: x / (1 + k|x|) (Zenke and Ganguli, 2018)."""
    return x / (1 + slope * x.abs())


@pytest.mark.parametrize(
    "surrogate, formula, primitive",
    [
        (ATan(2.0), lambda x: 1.0 / (1 + (math.pi * x) ** 2), lambda x: _primitive_atan(x, 2.0)),
        (ATan(5.0), lambda x: 2.5 / (1 + (2.5 * math.pi * x) ** 2), lambda x: _primitive_atan(x, 5.0)),
        (FastSigmoid(25.0), lambda x: 1.0 / (25 * x.abs() + 1) ** 2, lambda x: _primitive_fast_sigmoid(x, 25.0)),
        (FastSigmoid(1.0), lambda x: 1.0 / (x.abs() + 1) ** 2, lambda x: _primitive_fast_sigmoid(x, 1.0)),
    ],
    ids=["atan2", "atan5", "fs25", "fs1"],
)
def test_surrogate_backward_equals_its_documented_formula(surrogate, formula, primitive):
    x = torch.linspace(-2, 2, 401, dtype=torch.float64).requires_grad_()
    y = spike(x, surrogate)
    assert torch.equal(y, (x > 0).to(x.dtype)), "forward is the exact Heaviside step H(x), H(0) = 0"
    (grad,) = torch.autograd.grad(y, x, torch.ones_like(x))
    assert torch.allclose(grad, formula(x.detach()), rtol=1e-12, atol=0), "backward is the closed-form derivative"
    # ... and that closed form is the derivative of the documented smooth step (central differences).
    h, xd = 1e-6, x.detach()
    finite_diff = (primitive(xd + h) - primitive(xd - h)) / (2 * h)
    mask = xd.abs() > 2 * h  # |x| has a kink at 0 for the fast sigmoid
    assert torch.allclose(grad[mask], finite_diff[mask], rtol=1e-6, atol=1e-8), "derivative of the smooth step"


def test_surrogates_peak_at_threshold():
    x = torch.tensor([0.0])
    assert ATan(2.0).derivative(x).item() == pytest.approx(1.0), "atan surrogate peaks at α/2 at the threshold"
    assert FastSigmoid(25.0).derivative(x).item() == pytest.approx(1.0), "fast sigmoid peaks at 1 at the threshold"


@pytest.mark.parametrize("surrogate", [ATan(2.0), ATan(0.7), FastSigmoid(25.0), FastSigmoid(3.0)], ids=repr)
def test_in_place_surrogate_derivative_gives_the_same_bits(surrogate):
    x = torch.randn(1000, generator=torch.Generator().manual_seed(0)) * 3
    overwritten = x.clone()
    result = surrogate.derivative_(overwritten)
    assert result.data_ptr() == overwritten.data_ptr(), "derivative_ writes over its argument"
    assert torch.equal(result, surrogate.derivative(x)), "the same operations in the same order: the same bits"


@pytest.mark.parametrize("make", [lambda: ATan(0.0), lambda: ATan(-1.0), lambda: FastSigmoid(0.0)])
def test_surrogates_reject_non_positive_sharpness(make):
    with pytest.raises(ValueError, match="alpha|slope"):
        make()


# ----------------------------------------------------------------------------- snnTorch parity


def _snntorch_run(current: torch.Tensor, reset: str, surrogate) -> tuple[torch.Tensor, torch.Tensor]:
    snn = pytest.importorskip("snntorch")
    from snntorch import surrogate as snn_surrogate

    if isinstance(surrogate, ATan):
        spike_grad = snn_surrogate.atan(alpha=surrogate.alpha)
    else:
        spike_grad = snn_surrogate.fast_sigmoid(slope=surrogate.slope)
    neuron = snn.Leaky(beta=0.9, threshold=1.0, reset_mechanism=reset, spike_grad=spike_grad)
    mem = neuron.reset_mem()
    spikes, membranes = [], []
    for t in range(current.shape[0]):
        spk, mem = neuron(current[t], mem)
        spikes.append(spk)
        membranes.append(mem)
    return torch.stack(spikes), torch.stack(membranes)


@pytest.mark.parametrize("reset", RESETS)
@pytest.mark.parametrize("surrogate", SURROGATES, ids=type)
def test_matches_snntorch_leaky_forward_and_gradients(reset, surrogate):
    current = _random_current(7, shape=(25, 16, 50)).requires_grad_()
    w_s, w_u = _weights(8, current.shape)
    s_ours, u_ours = lif_sequence(current, LIFParams(0.9, 1.0, reset), surrogate)
    s_ref, u_ref = _snntorch_run(current, reset, surrogate)
    assert torch.equal(s_ours, s_ref), "same spikes as snnTorch's Leaky"
    err_u = (u_ours - u_ref).abs().max().item()
    assert err_u <= 1e-6, f"same membrane trace as snnTorch's Leaky (max |Δu| = {err_u:.2e})"
    (g_ours,) = torch.autograd.grad((w_s * s_ours + w_u * u_ours).sum(), current)
    (g_ref,) = torch.autograd.grad((w_s * s_ref + w_u * u_ref).sum(), current)
    err_g = (g_ours - g_ref).abs().max().item()
    assert err_g < 1e-5, f"same input gradients as snnTorch's Leaky (max |Δ| = {err_g:.2e})"


# ----------------------------------------------------------------------------- ALIF (adaptive threshold)


@pytest.mark.parametrize("reset", RESETS)
def test_alif_without_adaptation_is_exactly_the_lif_neuron(reset):
    current = _random_current(11)
    spikes, membranes = ALIF(beta=0.9, threshold=1.0, beta_a=0.0, rho=0.95, reset=reset).sequence(current)
    lif_spikes, lif_membranes = lif_sequence(current, LIFParams(beta=0.9, threshold=1.0, reset=reset))
    assert torch.equal(spikes, lif_spikes) and torch.equal(membranes, lif_membranes), \
        "β_a = 0: the threshold never moves, so ALIF is the LIF neuron bit for bit"


def test_alif_threshold_rises_by_beta_a_per_spike_and_decays_by_rho():
    alif = ALIF(beta=1.0, threshold=1.0, beta_a=0.5, rho=0.8)
    spikes = torch.tensor([[1.0], [0.0], [0.0], [1.0]])
    # hand-derived: a_0 = 0, a_1 = 1, a_2 = 0.8, a_3 = 0.64; θ_t = 1 + 0.5 a_t
    expected = torch.tensor([[1.0], [1.5], [1.4], [1.32]])
    assert torch.allclose(alif.thresholds(spikes), expected), "θ_t = θ0 + β_a a_t with a_{t+1} = ρ a_t + s_t"


def test_alif_step_follows_the_equations_by_hand():
    alif = ALIF(beta=0.5, threshold=1.0, beta_a=0.5, rho=0.5, reset="subtract")
    # a previous spike: u_{t-1} = 1.2 > θ_{t-1} = 1 + 0.5·0.2 = 1.1
    s, (u, a) = alif.step(torch.tensor([0.3]), (torch.tensor([1.2]), torch.tensor([0.2])))
    # r = 1; a_t = 0.5·0.2 + 1 = 1.1; u_t = 0.5·1.2 + 0.3 − 1.1 = −0.2; θ_t = 1.55 → no spike
    assert torch.allclose(a, torch.tensor([1.1])) and torch.allclose(u, torch.tensor([-0.2]))
    assert s.item() == 0.0, "the membrane after the reset is below the raised threshold"


def test_alif_adapts_a_constant_drive_fires_less_and_less():
    current = torch.full((200, 1), 0.3)
    spikes, _ = ALIF(beta=0.9, threshold=1.0, beta_a=0.5, rho=0.97).sequence(current)
    lif_spikes, _ = lif_sequence(current, LIFParams(beta=0.9, threshold=1.0))
    early, late = spikes[:50].sum().item(), spikes[150:].sum().item()
    assert late < early, f"spike-frequency adaptation: {early} spikes in the first 50 steps, {late} in the last 50"
    assert spikes.sum() < lif_spikes.sum(), "a raised threshold means fewer spikes than the plain LIF neuron"


def test_alif_gradients_flow_to_the_current_through_the_surrogate():
    current = _random_current(12, shape=(10, 4, 6)).requires_grad_()
    spikes, membranes = ALIF(beta_a=0.3).sequence(current, FastSigmoid(25.0))
    (spikes.sum() + membranes.sum()).backward()
    assert current.grad is not None and torch.isfinite(current.grad).all() and current.grad.abs().sum() > 0


@pytest.mark.parametrize("field, value, match", [
    ("beta", 1.5, "ALIF.beta"), ("threshold", 0.0, "ALIF.threshold"), ("beta_a", -0.1, "ALIF.beta_a"),
    ("rho", 1.1, "ALIF.rho"), ("reset", "none", "ALIF.reset"),
])
def test_alif_parameters_are_validated_where_they_are_made(field, value, match):
    with pytest.raises(ValueError, match=match):
        ALIF(**{field: value})


def test_lif_and_alif_are_neurons_of_the_protocol():
    current = _random_current(13, shape=(5, 2, 3))
    for neuron in (LIFParams(), ALIF()):
        for method in ("rest", "step", "sequence", "membrane"):
            assert callable(getattr(neuron, method)), f"{type(neuron).__name__} has {method} (labkit.neurons.Neuron)"
        state, spikes = neuron.rest(current[0]), []
        for t in range(current.shape[0]):
            s, state = neuron.step(current[t], state)
            spikes.append(s)
        assert torch.equal(torch.stack(spikes), neuron.sequence(current)[0]), "sequence is step T times"
    assert torch.equal(LIFParams().sequence(current)[1], lif_sequence(current)[1]), "LIFParams.sequence is lif_sequence"
    assert Neuron is not None
