"""Tests for labkit.loihi: quantisation to Loihi's format, the bundle, and the Lava runs (`run_lava`).

The Lava tests run Lava's own process models (in this interpreter or in the .venv-lava
sidecar). Without Lava they are skipped with a message, except in CI (CI=true), where a missing
Lava is a failure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from labkit.loihi import quantize as q
from labkit.interop.nir import export_nir, from_nir, to_nir
from labkit.loihi.bundle import FORMAT_VERSION, Bundle, LayerBundle, load_bundle, predict_from_spikes, save_bundle, trains_from_bits
from labkit.loihi.quantize import model_from_bundle
from labkit.loihi.sidecar import lava_backend, run_lava
from labkit.models import SNNOutput, SpikingMLP
from labkit.neurons import LIFParams
from labkit.stdp import STDPParams
from labkit.training import predict

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="module")
def lava():
    """Skip (or, in CI, fail) when Lava can run neither here nor in the sidecar."""
    backend = lava_backend()
    if backend is None:
        message = ("Lava is not available: no importable lava-nc and no sidecar .venv-lava "
                   "(run `make setup` or set LABKIT_LAVA_PYTHON)")
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return backend


def tiny_model(sizes=(30, 12, 4), seed=1) -> SpikingMLP:
    """A small network that spikes a lot: He weights doubled, random biases."""
    model = SpikingMLP(sizes, seed=seed)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in model.layers:
            layer.weight.mul_(2.0)
            layer.bias.copy_(0.1 * torch.randn(layer.bias.shape, generator=g))
    return model


def tiny_inputs(steps=8, batch=7, n_in=30, seed=0, p=0.3) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.rand((steps, batch, n_in), generator=g) < p).double()


# ----------------------------------------------------------------------------- quantisation


def test_quantize_weights_fits_the_mantissa_and_bounds_the_error():
    w = torch.randn(50, 40, generator=torch.Generator().manual_seed(0)) * 0.3
    for bits in (4, 8):
        m, e = q.quantize_weights(w, bits)
        largest = 2 ** (bits - 1) - 1
        assert m.abs().max() <= largest, "mantissas fit in `bits` signed bits"
        assert m.abs().max() > largest // 2, "the exponent is the smallest that fits: the range is used"
        assert (w - m * 2.0**e).abs().max() <= 2.0 ** (e - 1) + 1e-12, "error at most half a step 2^(e-1)"
    assert q.quantize_weights(torch.zeros(3, 3))[1] == 0, "all-zero weights get exponent 0"


def test_layer_mantissas_are_even_and_never_255():
    w = torch.randn(20, 30, generator=torch.Generator().manual_seed(1))
    layer = q.quantize_layer(w, torch.zeros(20), beta=0.9, threshold=1.0)
    m = layer.weight_mant.astype(np.int64)
    assert np.abs(m).max() <= 254 and np.abs(m).max() >= 250, "the largest weight uses the largest mantissa, 254"
    assert np.all(m % 2 == 0), "mixed-sign 8-bit mantissas are even (Lava drops the LSB)"
    assert np.array_equal((m >> 1) << 1, m), "Lava's truncation leaves the mantissas unchanged"
    assert not np.any(np.abs(m) == 255), "mantissa 255 is never produced"


def test_layer_registers_follow_lavas_conventions():
    w = 0.2 * torch.randn(10, 16, generator=torch.Generator().manual_seed(2))
    b = 0.05 * torch.randn(10, generator=torch.Generator().manual_seed(3))
    layer = q.quantize_layer(w, b, beta=0.9, threshold=1.0)
    assert layer.dv == 410, "dv = round(4096 · (1 − 0.9)) = round(409.6) = 410"
    assert layer.du == 4095, "du = 4095: with Lava's offset of 1 the current forgets at once (u = input)"
    assert layer.vth / layer.scale == 1.0, "the threshold is exact in integer units: vth = θ σ"
    assert 128 <= layer.vth < 2**17, "vth is a 17-bit mantissa of at least min_vth"
    assert -(2**12) <= layer.bias_mant.min() and layer.bias_mant.max() < 2**12, "bias mantissa is 13-bit signed"
    assert 0 <= layer.bias_exp <= 7, "bias exponent is 3-bit unsigned"
    w_hat, b_hat = q.dequantize_layer(layer)
    step = 2 * 2.0**layer.weight_exp / layer.scale  # even mantissas: representable weights are 2·2^e_w/σ apart
    assert (w.double() - w_hat).abs().max() <= step / 2 + 1e-12, "weight error at most half a step"
    bundle = Bundle(layers=(layer,), beta=0.9, threshold=1.0)
    assert q.quantization_errors(bundle)[0]["weight_step"] == pytest.approx(step), "the reported step is that spacing"
    assert (b.double() - b_hat).abs().max() <= 2.0**layer.bias_exp / (2 * 64 * layer.scale) + 1e-12, \
        "bias error at most half a bias step"


def test_weight_exponent_keeps_the_threshold_resolved():
    w = 20.0 * torch.randn(8, 8, generator=torch.Generator().manual_seed(4))
    layer = q.quantize_layer(w, None, beta=0.9, threshold=1.0)
    assert layer.weight_exp > 0, "large weights get a positive weight exponent"
    assert layer.vth >= 128, "so that θ still has at least min_vth integer steps"
    tiny = q.quantize_layer(1e-6 * w, None, beta=0.9, threshold=1.0)
    assert tiny.weight_exp < 0 and tiny.vth < 2**17, "tiny weights get a negative exponent to fit vth in 17 bits"
    six = q.quantize_layer(w, None, beta=0.9, threshold=1.0, config=q.QuantConfig(weight_bits=6))
    assert np.all(six.weight_mant % 8 == 0) and np.abs(six.weight_mant).max() <= 248, \
        "6-bit mantissas are multiples of 2^(9-6) = 8 up to 248"


def test_config_and_model_checks_name_the_problem():
    with pytest.raises(ValueError, match="weight_bits"):
        q.QuantConfig(weight_bits=9)
    with pytest.raises(ValueError, match="min_vth"):
        q.QuantConfig(min_vth=0)
    with pytest.raises(ValueError, match="reset"):
        q.quantize_model(SpikingMLP((4, 3, 2), lif=LIFParams(reset="subtract")))
    with pytest.raises(ValueError, match="recurrent"):
        q.quantize_model(SpikingMLP((4, 3, 2), recurrent=True))


def test_fixed_point_step_decays_and_integrates_like_lava():
    layer = q.quantize_layer(torch.ones(1, 1), torch.zeros(1), beta=0.9, threshold=1.0)
    v = torch.tensor([1000], dtype=torch.int64)
    s, u, v1 = q.loihi_lif_step(torch.zeros(1, dtype=torch.int64), torch.zeros(1, dtype=torch.int64), v, layer)
    # 1000 · (4096 − 410) / 4096 = 899.9 → 899 (rounded towards zero, as Lava's >> 12 on |x|)
    assert v1.item() == 899 and not s.item(), "no input → v decays by (4096 − dv)/4096, rounded towards zero"
    s, u, v2 = q.loihi_lif_step(torch.tensor([3]), torch.zeros(1, dtype=torch.int64), torch.tensor([-1000]), layer)
    assert u.item() == 3 * 64, "the synaptic input enters the current shifted left by 6 bits"
    assert v2.item() == -899 + 192, "negative voltages decay towards zero too"


def test_fixed_point_emulation_tracks_the_float_network():
    model = tiny_model((40, 30, 5), seed=3)
    x = tiny_inputs(steps=20, batch=64, n_in=40, seed=5)
    with torch.no_grad():
        ref = model.double()(x)
    out = q.emulate_fixed_point(q.quantize_model(model, num_steps=20), x)
    same = (out.spikes[1] == ref.spikes[1]).double().mean().item()
    assert same > 0.97, f"8-bit weights change few hidden spikes ({same:.3f} of entries agree)"
    assert out.out_membrane.shape == ref.out_membrane.shape, "the emulation reads out like an SNNOutput"


# ----------------------------------------------------------------------------- bundle and NIR


def test_bundle_round_trip(tmp_path):
    model = tiny_model()
    bundle = q.quantize_model(model, num_steps=8, metadata={"note": "test"})
    save_bundle(bundle, tmp_path / "b.npz")
    loaded = load_bundle(tmp_path / "b.npz")
    assert (loaded.beta, loaded.threshold, loaded.num_steps, loaded.metadata) == \
        (bundle.beta, bundle.threshold, bundle.num_steps, bundle.metadata), "the header survives the round trip"
    for mine, theirs in zip(bundle.layers, loaded.layers):
        for name in LayerBundle.__dataclass_fields__:
            assert np.array_equal(getattr(mine, name), getattr(theirs, name)), f"{name} survives the round trip"
    assert loaded.sizes == (30, 12, 4) and loaded.metadata["note"] == "test"
    rebuilt = model_from_bundle(loaded)
    x = tiny_inputs().float()
    with torch.no_grad():
        assert torch.equal(rebuilt(x).out_spikes, model.float()(x).out_spikes), "the bundle rebuilds the float model"


def test_bundle_refuses_unknown_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_bundle(tmp_path / "missing.npz")
    bundle = q.quantize_model(tiny_model())
    save_bundle(bundle, tmp_path / "b.npz")
    with np.load(tmp_path / "b.npz") as z:
        arrays = dict(z)
    header = json.loads(str(arrays["header"]))
    header["format_version"] = FORMAT_VERSION + 1
    arrays["header"] = np.array(json.dumps(header))
    np.savez(tmp_path / "future.npz", **arrays)
    with pytest.raises(ValueError, match="format"):
        load_bundle(tmp_path / "future.npz")


def test_nir_round_trip(tmp_path):
    import nir

    model = tiny_model()
    graph = to_nir(model)
    assert [type(graph.nodes[n]).__name__ for n in ("affine0", "lif0", "affine1", "lif1")] == \
        ["Affine", "LIF", "Affine", "LIF"], "Input → Affine → LIF → Affine → LIF → Output"
    lif = graph.nodes["lif0"]
    # β = 1 − Δt/τ with Δt = 1e-4: τ = 1e-4 / 0.1 = 1e-3 s; the default writes R = 1 (gain in W)
    assert np.allclose(lif.tau, 1e-3) and np.allclose(lif.r, 1.0), "τ = Δt/(1 − β), R = 1"
    # R = τ/Δt = 10 keeps the weights as trained, so they come back bit for bit
    path = export_nir(model, tmp_path / "m.nir", form="r_tau")
    back = from_nir(nir.read(path))
    assert back.lif == model.lif, "β, θ and the reset survive the NIR round trip"
    for a, b in zip(model.layers, back.layers):
        assert torch.equal(a.weight, b.weight) and torch.equal(a.bias, b.bias), "weights survive exactly"
    with pytest.raises(ValueError, match="subtract"):
        to_nir(SpikingMLP((4, 3, 2), lif=LIFParams(reset="subtract")))


def test_lava_side_imports_no_torch():
    code = "import sys, labkit.loihi.sidecar, labkit.loihi.lava, labkit.loihi.bundle; sys.exit('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, "the Lava side (sidecar, lava, bundle) imports with numpy alone: " + done.stderr[-300:]


def test_spike_readout_is_labkit_count_readout():
    g = torch.Generator().manual_seed(7)
    spikes = (torch.rand((6, 200, 4), generator=g) < 0.1).float()  # many ties, many silent samples
    by_count = predict_from_spikes(spikes.numpy())
    assert np.array_equal(by_count, predict(SNNOutput((spikes,), (spikes,)), readout="count").numpy()), \
        "the numpy readout is labkit.readout's 'count' exactly"
    counts = spikes.sum(dim=0).numpy()
    assert np.array_equal(counts[np.arange(200), by_count], counts.max(axis=1)), "'count' picks a most-spiking class"
    first = np.array([np.flatnonzero(row == row.max())[0] for row in counts])
    assert np.array_equal(by_count, first), "and resolves ties, silence included, to the lowest class index"
    with pytest.raises(ValueError, match="time, samples, classes"):
        predict_from_spikes(spikes[0].numpy())


def test_spike_trains_survive_the_bit_masks_of_the_recorder():
    rng = np.random.default_rng(0)
    trains = rng.random((70, 5, 3)) < 0.3  # T = 70 needs three 30-bit words
    weights = np.zeros((3, 5, 3), dtype=np.int64)
    for t in range(70):
        weights[:, :, t // 30] += trains[t].T.astype(np.int64) << (t % 30)
    assert np.array_equal(trains_from_bits(weights.astype(np.float64), 70), trains), \
        "bit t of word t // 30 is step t, exactly, through float64"


# ----------------------------------------------------------------------------- Lava


def test_lava_float_gives_exactly_the_torch_spikes(lava):
    model = tiny_model().double()
    x = tiny_inputs()
    with torch.no_grad():
        ref = model(x)
    result = run_lava(q.quantize_model(model, num_steps=8), x.numpy(), mode="float", record="spikes", chunk_size=3)
    for layer in range(2):
        assert np.array_equal(result.spikes[layer], ref.spikes[layer + 1].numpy() > 0), \
            f"Lava's floating_pt LIF fires exactly when the torch LIF does (layer {layer + 1})"
    assert np.allclose(result.out_membrane, ref.out_membrane.numpy(), atol=1e-12), \
        "the membrane before reset, recovered from Lava's u and v, is the torch membrane"
    assert np.array_equal(result.layer_counts, np.stack([s.sum(dim=(0, 2)).numpy() for s in ref.spikes[1:]], 1)), \
        "the on-'chip' spike counters count every spike"
    assert np.array_equal(result.predictions(), predict(ref, readout="count").numpy()), "same spikes, same class"


def test_lava_fixed_point_matches_the_torch_emulation(lava):
    model = tiny_model()
    bundle = q.quantize_model(model, num_steps=8)
    x = tiny_inputs(batch=9, seed=3)
    emulated = q.emulate_fixed_point(bundle, x)
    result = run_lava(bundle, x.numpy(), mode="fixed", record="spikes", chunk_size=4)
    for layer in range(2):
        assert np.array_equal(result.spikes[layer], emulated.spikes[layer + 1].numpy() > 0), \
            f"Lava's bit-accurate LIF and the torch emulation agree spike for spike (layer {layer + 1})"
    assert np.array_equal(result.out_membrane, emulated.out_membrane.numpy()), "and voltage for voltage"


def test_the_default_count_record_gives_the_spike_trains_and_counts_without_probes(lava):
    model = tiny_model().double()
    x = tiny_inputs(batch=11, seed=5)
    with torch.no_grad():
        ref = model(x)
    result = run_lava(q.quantize_model(model, num_steps=8), x.numpy(), mode="float", chunk_size=4)
    assert result.out_membrane is None, "no membrane probe"
    for layer in range(2):
        assert np.array_equal(result.spikes[layer], ref.spikes[layer + 1].numpy() > 0), \
            f"the recorder's trains are the torch ones (layer {layer + 1})"
    assert np.array_equal(result.layer_counts, np.stack([s.sum(dim=(0, 2)).numpy() for s in ref.spikes[1:]], 1)), \
        "every layer's spikes per image are counted"
    assert np.array_equal(result.predictions(), ref.out_spikes.sum(0).argmax(-1).numpy()), "read by spike count"


def test_a_network_deeper_than_the_recorder_is_refused_with_a_message():
    model = SpikingMLP((30, 8, 8, 8, 8, 8, 4), seed=0)
    x = tiny_inputs(batch=2).numpy()
    with pytest.raises(ValueError, match="1 to 5 layers"):
        run_lava(q.quantize_model(model, num_steps=8), x, mode="float")


def test_lava_stdp_is_the_lab_rule_with_two_documented_differences(lava):
    from labkit.loihi.learning import compare_stdp, demo_spike_trains, loihi_literal

    # float_to_literal: 0.01 → 2^round(log2 0.01) = 2^-7; 2.56 → 2 · 2^round(log2 1.28) = 2
    assert loihi_literal(0.01) == 2.0**-7 and loihi_literal(2.56) == 2.0 and loihi_literal(-0.25) == -0.25
    pre, post = demo_spike_trains(12, 6, 80, rate=0.08, generator=torch.Generator().manual_seed(0))
    result = compare_stdp(pre, post, STDPParams(), mode="float")
    assert result.coincident_pairs > 0, "the trains contain same-step pre/post pairs"
    assert result.residual < 1e-6, "power-of-two amplitudes + coincidence depression explain Lava's float ΔW"
    assert result.correlation > 0.5, "and the lab's own ΔW points the same way"


@pytest.mark.slow
def test_deploy_command_writes_the_four_way_result(lava, tmp_path):
    from labkit.cli import main

    model_path = tmp_path / "model.pt"
    torch.save(SpikingMLP((784, 40, 20, 10), seed=0).state_dict(), model_path)  # not the paper's size
    code = main(["deploy", "--model", str(model_path), "--images", "8", "--source", "bundled",
                 "--out", str(tmp_path), "--quiet", "--chunk-size", "4"])
    assert code == 0
    result = json.loads((tmp_path / "deploy.json").read_text())
    assert set(result["accuracy"]) == {"torch_float", "torch_quantized", "lava_float", "lava_fixed"}
    assert result["identical_output_spikes"]["torch_quantized/lava_fixed"] == 1.0, \
        "the chip's arithmetic and its torch emulation produce identical output spikes"
    assert result["identical_output_spikes"]["torch_float/lava_float"] == 1.0, "Lava float reproduces torch"
    assert result["lava"]["fixed"]["backend"] == lava_backend() and result["readout"] == "count"
    assert result["images"] == 8 and (tmp_path / "bundle.npz").exists() and (tmp_path / "model.nir").exists()
