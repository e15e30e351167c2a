"""Tests for labkit.training: the paper's loss, the readout, the training loop and checkpoints.

Networks here are small (hidden layers of 16–64, T = 6–10, a few hundred digits of the bundled
subset): the properties checked do not need the paper's 500 hidden neurons.
"""

from __future__ import annotations

import dataclasses
import math
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F

from labkit.data import mnist_data
from labkit.models import ANNBaseline, SNNOutput, SpikingMLP
from labkit.readout import READOUTS
from labkit.training import (
    Data,
    History,
    TrainingDiverged,
    evaluate,
    evaluate_readouts,
    load_checkpoint,
    paper_loss,
    predict,
    predict_classes,
    resolve_device,
    train,
)

TINY = dict(batch_size=64, num_steps=6, progress=False, device="cpu")


@pytest.fixture(scope="module")
def digits() -> Data:
    return mnist_data("bundled", train_limit=600, test_limit=300)


@pytest.fixture(scope="module")
def tiny(digits) -> Data:
    return Data(digits.train_x[:256], digits.train_y[:256], digits.test_x[:100], digits.test_y[:100], name="tiny")


@pytest.fixture(scope="module")
def trained(digits):
    """A 784-64-10 network after one epoch of bp on 600 digits (T = 10), with its history."""
    model = SpikingMLP((784, 64, 10), seed=0)
    history = train(model, "bp", digits, 1, batch_size=50, num_steps=10, progress=False, device="cpu", eta2=5e-3)
    return model, history


def _numbers(history: History) -> dict:
    """Everything a history records except wall-clock times."""
    record = dataclasses.asdict(history)
    record.pop("epoch_time")
    return record


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


# ----------------------------------------------------------------------------- loss and readout


def test_paper_loss_is_the_mean_over_time_of_the_cross_entropy():
    g = torch.Generator().manual_seed(0)
    u = torch.randn(7, 5, 10, generator=g)
    y = torch.randint(0, 10, (5,), generator=g)
    per_step = torch.stack([F.cross_entropy(u[t], y) for t in range(7)])
    torch.testing.assert_close(paper_loss(u, y), per_step.mean(), msg="L = (1/T) Σ_t CE(u_t, y)")


def test_paper_loss_golden_value_for_uniform_logits():
    # equal membranes → softmax is uniform over C classes → CE = ln C at every step, so L = ln 10
    assert paper_loss(torch.zeros(25, 3, 10), torch.tensor([0, 4, 9])).item() == pytest.approx(math.log(10))


def test_predict_counts_spikes_and_breaks_ties_by_membrane():
    steps, classes = 4, 3
    spikes = torch.zeros(steps, 3, classes)
    membrane = torch.zeros(steps, 3, classes)
    # sample 0: class 1 spikes most (3 vs 2) although class 0 has the larger membrane
    spikes[:2, 0, 0] = 1
    spikes[:3, 0, 1] = 1
    membrane[:, 0, 0] = 5.0
    # sample 1: classes 0 and 2 tie on 2 spikes; class 2 has the larger summed membrane; class 1 has the
    # largest membrane of all but fewer spikes, so it must not win
    spikes[:2, 1, 0] = 1
    spikes[2:, 1, 2] = 1
    membrane[:, 1, 0], membrane[:, 1, 2], membrane[:, 1, 1] = 0.2, 0.5, 9.0
    # sample 2: no output spikes at all → the largest summed membrane decides
    membrane[:, 2, 1] = 0.3
    output = SNNOutput(spikes=(torch.zeros(steps, 3, 8), spikes), membranes=(membrane,))
    assert predict(output).tolist() == [1, 2, 1], \
        "prediction = most output spikes; ties (and silence) go to the highest summed membrane among the tied"
    assert predict(torch.tensor([[0.1, 2.0, -1.0]])).tolist() == [1], "ANN logits: argmax"


# ----------------------------------------------------------------------------- training


def test_training_a_tiny_subset_beats_chance(trained):
    model, history = trained
    assert history.epochs == 1 and len(history.test_acc) == 1
    assert history.test_acc[0] > 0.4, f"one epoch on 600 digits: {history.test_acc[0]:.2f}, chance is 0.10"
    assert history.loss[0] < math.log(10), "the average loss falls below that of a uniform guess (ln 10)"
    assert len(history.spike_rate[0]) == 2 and all(0 < r < 1 for r in history.spike_rate[0]), \
        "both LIF layers fire, but not at every step"
    assert history.config["rule"] == "bp" and history.config["sizes"] == [784, 64, 10]
    assert History.from_json(history.to_json()) == history, "history survives a round trip through JSON"


def test_ann_baseline_trains_and_rejects_stdp(tiny):
    ann = ANNBaseline((784, 32, 10), seed=0)
    history = train(ann, "bp", tiny, 1, batch_size=32, progress=False, device="cpu", eta2=5e-3)
    assert history.test_acc[0] > 0.3, "the ANN baseline learns too"
    with pytest.raises(ValueError, match="SpikingMLP"):
        train(ANNBaseline((784, 32, 10)), "adaptive", tiny, 1, **TINY)


BAD_ARGUMENTS = {
    "epochs=0": dict(epochs=0),
    "epochs=1.5": dict(epochs=1.5),
    "batch_size=0": dict(batch_size=0),
    "batch_size=-8": dict(batch_size=-8),
    "num_steps=0": dict(num_steps=0),
    "eta2<0": dict(eta2=-1e-3),
    "eta2=nan": dict(eta2=float("nan")),
    "eta2=inf": dict(eta2=float("inf")),
    "eta1<0": dict(rule="sum", eta1=-0.01),
    "eta1=inf": dict(rule="adaptive", eta1=float("inf")),
    "bp with eta1": dict(rule="bp", eta1=0.01),
    "unknown rule": dict(rule="backprop"),
    "unknown device": dict(device="tpu"),
    "resume without checkpoint": dict(resume=True),
    "unknown loss": dict(loss="spikes"),
    "unknown readout": dict(readout="first"),
}


@pytest.mark.parametrize("bad", BAD_ARGUMENTS.values(), ids=BAD_ARGUMENTS.keys())
def test_bad_arguments_raise_value_error_before_any_work(bad, tiny, tmp_path):
    model = SpikingMLP((784, 16, 10), seed=0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    calls = []
    kwargs = {**TINY, "checkpoint": tmp_path / "run.pt", "callback": calls.append, **bad}
    rule, epochs = kwargs.pop("rule", "bp"), kwargs.pop("epochs", 1)
    if bad.get("resume"):
        kwargs["checkpoint"] = None
    with pytest.raises(ValueError):
        train(model, rule, tiny, epochs, **kwargs)
    assert calls == [], "no batch ran"
    assert not (tmp_path / "run.pt").exists(), "no checkpoint was written"
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items()), "the weights are untouched"


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU, so 'cuda' is a valid device")
def test_cuda_without_a_gpu_is_a_value_error(tiny):
    with pytest.raises(ValueError, match="no CUDA"):
        train(SpikingMLP((784, 16, 10)), "bp", tiny, 1, **{**TINY, "device": "cuda"})


def test_bad_data_raises_value_error(tiny):
    empty = Data(tiny.train_x[:0], tiny.train_y[:0], tiny.test_x, tiny.test_y)
    with pytest.raises(ValueError, match="empty"):
        train(SpikingMLP((784, 16, 10)), "bp", empty, 1, **TINY)
    bytes_ = Data((tiny.train_x * 255).to(torch.uint8), tiny.train_y, tiny.test_x, tiny.test_y)
    with pytest.raises(ValueError, match="floating"):
        train(SpikingMLP((784, 16, 10)), "bp", bytes_, 1, **TINY)
    short = Data(tiny.train_x, tiny.train_y[:10], tiny.test_x, tiny.test_y)
    with pytest.raises(ValueError, match="same length"):
        train(SpikingMLP((784, 16, 10)), "bp", short, 1, **TINY)


def test_same_seed_same_history(tiny):
    runs = []
    for seed in (0, 0, 1):
        model = SpikingMLP((784, 16, 10), seed=0)
        runs.append((model, train(model, "bp", tiny, 1, seed=seed, **TINY)))
    (m0, h0), (m1, h1), (m2, h2) = runs
    assert _numbers(h0) == _numbers(h1), "same seed → the same batches, spikes and numbers"
    assert _same_weights(m0, m1), "same seed → the same final weights"
    assert h0.loss != h2.loss, "another seed draws other batches and spikes"


@pytest.mark.parametrize("rule", ["bp", "adaptive"])
def test_resuming_after_epoch_one_equals_an_uninterrupted_run(rule, tiny, tmp_path):
    straight = SpikingMLP((784, 32, 10), seed=0)
    h_straight = train(straight, rule, tiny, 2, seed=3, **TINY)

    ckpt = tmp_path / f"{rule}.pt"
    train(SpikingMLP((784, 32, 10), seed=0), rule, tiny, 1, seed=3, checkpoint=ckpt, **TINY)  # "killed" here
    resumed = SpikingMLP((784, 32, 10), seed=99)  # another init: the weights must come from the checkpoint
    h_resumed = train(resumed, rule, tiny, 2, seed=3, checkpoint=ckpt, **TINY)

    assert h_resumed.epochs == 2 and len(h_resumed.epoch_time) == 2
    assert _same_weights(straight, resumed), f"{rule}: resumed weights equal the uninterrupted run's, bit for bit"
    assert _numbers(h_resumed) == _numbers(h_straight), f"{rule}: every recorded number but the times is equal"
    if rule == "adaptive":
        assert "c0" in h_resumed.rule_stats[1], "the plasticity coefficients were adapted and restored"
    assert load_checkpoint(SpikingMLP((784, 32, 10)), ckpt).epochs == 2, "the checkpoint now holds epoch 2"


def test_resume_with_other_settings_is_refused(tiny, tmp_path):
    ckpt = tmp_path / "run.pt"
    train(SpikingMLP((784, 16, 10)), "bp", tiny, 1, checkpoint=ckpt, **TINY)
    saved = ckpt.read_bytes()
    with pytest.raises(ValueError, match="eta2"):
        train(SpikingMLP((784, 16, 10)), "bp", tiny, 2, checkpoint=ckpt, eta2=1e-2, **TINY)
    with pytest.raises(ValueError, match="seed"):
        train(SpikingMLP((784, 16, 10)), "bp", tiny, 2, checkpoint=ckpt, seed=5, **TINY)
    with pytest.raises(ValueError, match="loss: checkpoint 'rate', now 'membrane'"):
        train(SpikingMLP((784, 16, 10)), "bp", tiny, 2, checkpoint=ckpt, loss="membrane", **TINY)
    with pytest.raises(ValueError, match="readout"):
        train(SpikingMLP((784, 16, 10)), "bp", tiny, 2, checkpoint=ckpt, readout="membrane", **TINY)
    assert ckpt.read_bytes() == saved, "a refused resume leaves the checkpoint alone"


def test_a_checkpoint_from_before_the_loss_was_recorded_resumes_only_as_membrane_loss(tiny, tmp_path):
    ckpt = tmp_path / "run.pt"
    train(SpikingMLP((784, 16, 10)), "bp", tiny, 1, checkpoint=ckpt, loss="membrane", **TINY)
    state = torch.load(ckpt, weights_only=False)
    del state["history"]["config"]["loss"], state["history"]["config"]["readout"]
    torch.save(state, ckpt)
    with pytest.raises(ValueError, match="loss: checkpoint 'membrane', now 'rate'"):
        train(SpikingMLP((784, 16, 10)), "bp", tiny, 2, checkpoint=ckpt, **TINY)
    history = train(SpikingMLP((784, 16, 10)), "bp", tiny, 2, checkpoint=ckpt, loss="membrane", **TINY)
    assert history.epochs == 2 and history.config["readout"] == "count_membrane"


def test_resume_asking_for_fewer_epochs_than_saved_is_refused(tiny, tmp_path):
    ckpt = tmp_path / "run.pt"
    train(SpikingMLP((784, 16, 10)), "bp", tiny, 2, checkpoint=ckpt, **TINY)
    with pytest.raises(ValueError, match="already holds 2 epochs"):
        train(SpikingMLP((784, 16, 10)), "bp", tiny, 1, checkpoint=ckpt, **TINY)


def test_divergence_names_epoch_and_batch_and_keeps_the_last_good_checkpoint(tiny, tmp_path):
    # Adam normalises its steps (|Δw| ≈ η2), so even η2 = 1e6 leaves the weights finite on a small
    # network; poisoning one output weight with +inf is a sure way to make the membrane loss NaN (a spike
    # loss reads the output through the threshold, which turns an infinite membrane into a finite spike).
    ckpt = tmp_path / "run.pt"
    train(SpikingMLP((784, 16, 10), seed=0), "bp", tiny, 1, checkpoint=ckpt, loss="membrane", **TINY)
    good = ckpt.read_bytes()
    model = SpikingMLP((784, 16, 10), seed=0)

    def poison(event):
        if event["kind"] == "batch" and event["epoch"] == 1 and event["batch"] == 0:
            with torch.no_grad():
                model.layers[-1].weight[0, 0] = math.inf

    with pytest.raises(TrainingDiverged, match=r"epoch 2, batch 2") as info:
        train(model, "bp", tiny, 3, checkpoint=ckpt, callback=poison, loss="membrane", **TINY)
    assert "learning rate" in str(info.value), "the message suggests what to try"
    assert ckpt.read_bytes() == good, "the last good checkpoint (epoch 1) is not overwritten"
    assert [p.name for p in tmp_path.iterdir()] == ["run.pt"], "no half-written checkpoint is left behind"
    finite = [torch.isfinite(p).all().item() for name, p in model.named_parameters() if name != "layers.1.weight"]
    assert all(finite), "a NaN loss is caught before the update, so it never reaches the other weights"


def test_diverging_weights_raise(tiny):
    # A NaN bias makes one hidden membrane NaN; NaN never crosses the threshold, so the loss stays
    # finite, but the backward pass spreads NaN into the gradients and Adam into the weights.
    model = SpikingMLP((784, 16, 10), seed=0)

    def poison_bias(event):
        with torch.no_grad():
            model.layers[0].bias[0] = math.nan

    with pytest.raises(TrainingDiverged, match=r"epoch 1, batch 2: weights layers\.0\.\w+ are no longer finite"):
        train(model, "bp", tiny, 1, callback=poison_bias, **TINY)


# ----------------------------------------------------------------------------- evaluation


def test_training_records_its_loss_and_reads_its_accuracy_with_the_loss_readout(tiny):
    history = train(SpikingMLP((784, 16, 10)), "bp", tiny, 1, **TINY)
    assert (history.config["loss"], history.config["readout"]) == ("rate", "count"), \
        "default: cross-entropy of the output spikes, read by spike counts alone"
    model = SpikingMLP((784, 16, 10))
    history = train(model, "bp", tiny, 1, loss="membrane", **TINY)
    assert history.config["readout"] == "count_membrane"
    assert history.test_acc[-1] == evaluate(model, tiny.test_x, tiny.test_y, num_steps=6, device="cpu",
                                            readout="count_membrane"), "test accuracy uses the recorded readout"


def test_evaluate_with_its_defaults_after_train_with_its_defaults_reproduces_the_reported_accuracy(tiny):
    model = SpikingMLP((784, 16, 10), seed=1)  # a network whose spike counts tie often: the readouts differ
    history = train(model, "bp", tiny, 1, batch_size=64, progress=False, device="cpu")
    assert evaluate(model, tiny.test_x, tiny.test_y) == history.test_acc[-1], \
        "one default per concept: evaluate reads as train reports (spike counts, the rate loss's readout)"
    assert predict_classes(model, tiny.test_x).tolist() == predict_classes(model, tiny.test_x, readout="count").tolist()
    # an explicit readout keeps its behaviour: here the membrane's tie-break reads another accuracy (0.17 vs 0.18)
    assert evaluate(model, tiny.test_x, tiny.test_y, readout="count_membrane") != history.test_acc[-1]


def test_train_and_evaluate_leave_the_process_malloc_settings_alone(tiny, monkeypatch):
    from labkit.foundation import allocator

    calls = []

    def mallopt(*args):  # stands in for glibc's: records every mallopt(param, value)
        calls.append(args)
        return 1

    class Libc:
        def __init__(self):
            self.mallopt = mallopt

    monkeypatch.setattr(allocator, "_applied", None)  # as in a fresh Jupyter kernel
    ctypes = allocator.ctypes  # replaced for the allocator module alone (numba loads its own libraries)
    monkeypatch.setattr(allocator, "ctypes", SimpleNamespace(CDLL=lambda *args, **kwargs: Libc(), util=ctypes.util,
                                                             c_int=ctypes.c_int))
    model = SpikingMLP((784, 16, 10))
    train(model, "bp", tiny, 1, **TINY)
    evaluate(model, tiny.test_x, tiny.test_y, num_steps=6)
    assert calls == [] and allocator._applied is None, "a library never changes process-wide malloc settings"
    if allocator.sys.platform.startswith("linux"):
        assert allocator.keep_freed_memory() and len(calls) == 3, "the explicit opt-in still sets the three thresholds"


def test_evaluate_readouts_agrees_with_evaluate_for_every_readout(trained, digits):
    model, _ = trained
    summary = evaluate_readouts(model, digits.test_x, digits.test_y, noise_sigma=0.2, num_steps=10, seed=3,
                                device="cpu")
    for readout in READOUTS:
        single = evaluate(model, digits.test_x, digits.test_y, noise_sigma=0.2, num_steps=10, seed=3, device="cpu",
                          readout=readout)
        assert summary["accuracy"][readout] == pytest.approx(single, abs=1e-6), \
            f"{readout}: the same forward passes give the same accuracy"
    assert summary["n"] == len(digits.test_y) and 0 <= summary["silent_fraction"] <= summary["tie_fraction"] <= 1


def test_evaluate_with_noise_is_deterministic_per_seed(trained, digits):
    model, _ = trained
    a = predict_classes(model, digits.test_x, noise_sigma=0.3, num_steps=10, seed=4, device="cpu")
    b = predict_classes(model, digits.test_x, noise_sigma=0.3, num_steps=10, seed=4, device="cpu")
    assert torch.equal(a, b), "same seed → same noise, same spikes, same predictions"
    accuracy = evaluate(model, digits.test_x, digits.test_y, noise_sigma=0.3, num_steps=10, seed=4, device="cpu")
    assert accuracy == (a == digits.test_y).float().mean().item(), "the accuracy is the share of right predictions"


def test_input_noise_lowers_accuracy_on_average(trained, digits):
    model, _ = trained
    acc = {sigma: sum(evaluate(model, digits.test_x, digits.test_y, noise_sigma=sigma, num_steps=10, seed=s,
                               device="cpu") for s in range(3)) / 3 for sigma in (0.0, 0.5)}
    assert acc[0.5] < acc[0.0] - 0.05, f"Gaussian pixel noise σ = 0.5 lowers accuracy ({acc})"
    with pytest.raises(ValueError, match="noise_sigma"):
        evaluate(model, digits.test_x, digits.test_y, noise_sigma=-0.1)


# ----------------------------------------------------------------------------- callback and devices


def test_callback_sees_batches_and_epochs_and_can_stop(tiny):
    events = []
    history = train(SpikingMLP((784, 16, 10)), "bp", tiny, 2, callback=events.append, **TINY)
    kinds = [e["kind"] for e in events]
    assert kinds.count("batch") == 2 * 4 and kinds.count("epoch") == 2, "4 batches of 64 per epoch, 2 epochs"
    assert events[-1]["history"] is history

    def stop_after_two_batches(event):
        return not (event["kind"] == "batch" and event["batch"] == 1)

    history = train(SpikingMLP((784, 16, 10)), "bp", tiny, 2, callback=stop_after_two_batches, **TINY)
    assert history.stopped_early and history.epochs == 0, "stopping mid-epoch records no partial epoch"

    history = train(SpikingMLP((784, 16, 10)), "bp", tiny, 3,
                    callback=lambda e: e["kind"] != "epoch", **TINY)
    assert history.stopped_early and history.epochs == 1, "returning False at the end of epoch 1 stops there"


def test_device_auto(tiny):
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    history = train(SpikingMLP((784, 16, 10)), "bp", tiny, 1, **{**TINY, "device": "auto"})
    assert history.config["device"] == expected, "'auto' picks CUDA when present, else the CPU"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine: CPU-vs-CUDA check skipped")
def test_cuda_matches_cpu(tiny):
    # Pre-encoded spikes (temporal data) take the rate code's RNG out of the comparison: CPU and CUDA
    # generators draw different numbers. What remains are float summation-order differences.
    g = torch.Generator().manual_seed(0)
    spikes = (torch.rand(len(tiny.train_x), 6, 784, generator=g) < tiny.train_x.flatten(1)[:, None]).float()
    test_spikes = (torch.rand(len(tiny.test_x), 6, 784, generator=g) < tiny.test_x.flatten(1)[:, None]).float()
    data = Data(spikes, tiny.train_y, test_spikes, tiny.test_y, temporal=True, name="tiny-spikes")

    cpu, gpu = SpikingMLP((784, 32, 10), seed=0), SpikingMLP((784, 32, 10), seed=0)
    x = spikes[:16].transpose(0, 1)
    out_cpu, out_gpu = cpu(x), gpu.cuda()(x.cuda())
    torch.testing.assert_close(out_gpu.out_membrane.cpu(), out_cpu.out_membrane, rtol=1e-4, atol=1e-4,
                               msg="one forward pass: CUDA and CPU membranes agree")

    h_cpu = train(cpu, "bp", data, 1, **{**TINY, "device": "cpu"})
    h_gpu = train(gpu, "bp", data, 1, **{**TINY, "device": "cuda"})
    assert h_gpu.config["device"] == "cuda"
    assert h_gpu.loss[0] == pytest.approx(h_cpu.loss[0], rel=1e-2), "one epoch: the same loss within 1%"
    assert abs(h_gpu.test_acc[0] - h_cpu.test_acc[0]) <= 0.03, "one epoch: the same test accuracy within 3 points"
    for (name, a), b in zip(cpu.state_dict().items(), gpu.state_dict().values()):
        torch.testing.assert_close(b.cpu(), a, rtol=1e-2, atol=1e-3, msg=f"{name}: CUDA and CPU weights agree")


# ----------------------------------------------------------------------------- inputs at the door (#18 item 10)

#: Inputs that mean one thing only: converted, so training gives exactly the history of the proper input.
CONVERTED = {
    "float labels": lambda d: d._replace(train_y=d.train_y.float(), test_y=d.test_y.double()),
    "int32 labels": lambda d: d._replace(train_y=d.train_y.int(), test_y=d.test_y.to(torch.uint8)),
    "labels [N, 1]": lambda d: d._replace(train_y=d.train_y[:, None], test_y=d.test_y[:, None]),
    "float64 images": lambda d: d._replace(train_x=d.train_x.double(), test_x=d.test_x.double()),
    "numpy arrays": lambda d: d._replace(train_x=d.train_x.numpy(), train_y=d.train_y.numpy(),
                                         test_x=d.test_x.numpy(), test_y=d.test_y.numpy()),
}


@pytest.mark.parametrize("convert", CONVERTED.values(), ids=CONVERTED.keys())
def test_unambiguous_inputs_are_converted(convert, tiny):
    """#18 item 10: float or int32 labels, labels [N, 1], float64 images and numpy arrays failed deep inside
    torch; each means one thing only, so it is converted and trains exactly as the proper input does."""
    proper = train(SpikingMLP((784, 16, 10), seed=0), "bp", tiny, 1, **TINY)
    converted = train(SpikingMLP((784, 16, 10), seed=0), "bp", convert(tiny), 1, **TINY)
    assert _numbers(converted) == _numbers(proper), "the converted input trains exactly like the proper one"


#: Inputs that could mean more than one thing, or nothing: refused, with what to pass.
REFUSED = {
    "labels out of range": (lambda d: d._replace(train_y=d.train_y + 5), r"class indices 0 \.\.\. 9 .* from 5 to 14"),
    "negative labels": (lambda d: d._replace(test_y=d.test_y - 1), r"data\.test_y must be class indices 0 \.\.\. 9"),
    "one-hot labels": (lambda d: d._replace(train_y=F.one_hot(d.train_y, 10)), r"argmax\(1\)"),
    "fractional labels": (lambda d: d._replace(train_y=d.train_y + 0.5), "non-integer"),
    "a plain tuple": (lambda d: tuple(d[:4]), r"Data\(train_x, train_y, test_x, test_y\)"),
    "a dict": (lambda d: d._asdict(), r"Data\(train_x, train_y, test_x, test_y\)"),
    "a list of images": (lambda d: d._replace(train_x=list(d.train_x)), "torch tensor or a numpy array"),
    "int64 images": (lambda d: d._replace(train_x=(d.train_x * 255).long()), r"\.float\(\)"),
}


@pytest.mark.parametrize("bad, message", REFUSED.values(), ids=REFUSED.keys())
def test_ambiguous_inputs_are_refused_with_what_to_pass(bad, message, tiny):
    """#18 item 10: labels out of range or one-hot, a plain tuple instead of `Data`: a message that says what to
    pass, raised before any batch runs (not an IndexError or AttributeError from inside torch)."""
    calls = []
    with pytest.raises(ValueError, match=message):
        train(SpikingMLP((784, 16, 10), seed=0), "bp", bad(tiny), 1, **TINY, callback=calls.append)
    assert calls == [], "no batch ran"


@pytest.mark.parametrize("typo, meant", [("epoch", "epochs"), ("batchsize", "batch_size"), ("seeds", "seed"),
                                         ("eta_2", "eta2"), ("lr", "eta2"), ("numsteps", "num_steps"),
                                         ("kapa", "kappa")])
def test_misspelt_keyword_is_named_as_trains_own(typo, meant, tiny):
    """#18 item 10: a misspelt train() keyword was reported as an unexpected argument of HybridParams (the rule's
    parameter record, now RuleParams)."""
    with pytest.raises(TypeError, match=rf"train\(\) got an unexpected keyword argument '{typo}': did you mean "
                                        rf"'{meant}'\?"):
        train(SpikingMLP((784, 16, 10)), "bp", tiny, 1, **TINY, **{typo: 1})


def test_evaluate_takes_numpy_and_refuses_labels_out_of_range(trained, digits):
    """#18 item 10: evaluate() on numpy arrays failed with AttributeError; it converts them."""
    model, _ = trained
    x, y = digits.test_x[:50], digits.test_y[:50]
    assert evaluate(model, x.numpy(), y.numpy(), num_steps=10) == evaluate(model, x, y, num_steps=10)
    with pytest.raises(ValueError, match="class indices 0 ... 9"):
        evaluate(model, x, y + 10, num_steps=10)


@pytest.mark.parametrize("noise, sigma, gain", [("pixel_clip", 0.3, 1.0), ("spike_resample", 0.2, 1.0),
                                               ("pixel_fresh", 0.0, 1.0), ("current", 0.3, 1.5),
                                               ("pixel_clip", 0.2, 0.7)])
def test_evaluating_on_the_fast_backend_gives_what_the_default_path_gives(trained, digits, noise, sigma, gain):
    import labkit.training.evaluation as evaluation
    from labkit.encoders import RateEncoder
    from labkit.fast import SpikeList, accelerate

    model, _ = trained
    fast = accelerate(model)
    assert isinstance(evaluation.model_inputs(fast, digits.test_x[:5], RateEncoder(), 10, None), SpikeList), \
        "the fast backend on the CPU gets the rate code as its list"
    assert isinstance(evaluation.model_inputs(model, digits.test_x[:5], RateEncoder(), 10, None), torch.Tensor), \
        "the default path gets the spikes"
    kwargs = dict(noise=noise, noise_sigma=sigma, num_steps=10, seed=6, device="cpu", encoder=RateEncoder(gain=gain))
    listed = evaluate_readouts(fast, digits.test_x, digits.test_y, **kwargs)
    dense = evaluate_readouts(model, digits.test_x, digits.test_y, **kwargs)
    assert listed == dense, f"{noise} at σ = {sigma}, gain {gain}: the same accuracies, silent and tied digits"
