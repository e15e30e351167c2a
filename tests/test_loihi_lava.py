"""Tests for labkit.loihi.lava (the hand-built Lava graph) run through labkit.loihi.sidecar.in_lava, as chapter 8 runs it.

The Lava tests run Lava's own processes (in this interpreter or in the .venv-lava sidecar);
without Lava they are skipped, except in CI (CI=true), where a missing Lava is a failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from labkit.loihi import quantize as q
from labkit.loihi.sidecar import LavaFunctionError, _pack, _unpack, in_lava, lava_backend, sidecar_python
from labkit.models import SpikingMLP

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="module")
def lava():
    """Skip (or, in CI, fail) when Lava can run neither here nor in the sidecar."""
    if lava_backend() is None:
        message = "Lava is not available: no importable lava-nc and no sidecar .venv-lava (run `make setup`)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


def _stub(spikes, layers, beta, threshold):
    # a comment, as in the chapter's stub
    raise NotImplementedError("Exercise 8.3: build the graph")


def _undefined_name(spikes, layers, beta, threshold):
    return spikes + name_from_the_notebook  # noqa: F821


def _no_stop(spikes, layers, beta, threshold):
    import numpy as np
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.dense.process import Dense
    from lava.proc.io.source import RingBuffer
    from lava.proc.lif.process import LIF

    source = RingBuffer(data=np.ones((3, 4)))
    dense, lif = Dense(weights=np.ones((2, 3))), LIF(shape=(2,), du=1.0, dv=0.1, vth=1.0)
    source.s_out.connect(dense.s_in)
    dense.a_out.connect(lif.a_in)
    source.run(condition=RunSteps(num_steps=4), run_cfg=Loihi2SimCfg(select_tag="floating_pt"))
    return np.arange(3)  # returns without source.stop()


def _small_network(seed=0):
    model = SpikingMLP((12, 8, 3), seed=seed).double()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in model.layers:
            layer.weight.mul_(2.0)
            layer.bias.copy_(0.05 * torch.randn(layer.bias.shape, generator=g, dtype=torch.float64))
    x = (torch.rand((9, 4, 12), generator=g) < 0.4).double()
    return model, x


def run_network(spikes, layers, beta, threshold):
    """The chapter's graph (`labkit.loihi.lava.run_network`, which imports Lava at the top: only in Lava's interpreter)."""
    from labkit.loihi.lava import run_network

    return run_network(spikes, layers, beta, threshold)


def test_arguments_travel_as_arrays_and_plain_values():
    value = {"layers": [(np.eye(2), np.zeros(2)), (torch.ones(3), 0.5)], "name": "x", "n": 3, "none": None}
    arrays = {}
    back = _unpack(_pack(value, arrays), arrays)
    assert np.array_equal(back["layers"][0][0], np.eye(2)) and isinstance(back["layers"][0], tuple), \
        "tuples of arrays come back as tuples of the same arrays"
    assert np.array_equal(back["layers"][1][0], np.ones(3)), "torch tensors travel as numpy arrays"
    assert (back["name"], back["n"], back["none"], back["layers"][1][1]) == ("x", 3, None, 0.5), "plain values survive"
    with pytest.raises(TypeError, match="cannot be passed"):
        _pack(object(), {})


def test_an_unwritten_stub_raises_its_own_message_from_lava(lava):
    with pytest.raises(NotImplementedError, match="^Exercise 8.3: build the graph$"):
        in_lava(_stub)(np.zeros((2, 3)), [], 0.9, 1.0)  # what check.use needs to fall back to labkit's graph


def test_lava_side_of_the_package_imports_no_torch(lava):
    python = sidecar_python() or sys.executable
    code = "import sys, labkit.loihi.sidecar, labkit.loihi.lava; sys.exit('torch' in sys.modules)"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run([python, "-c", code], capture_output=True, text=True, env={**os.environ, "PYTHONPATH": root})
    assert done.returncode == 0, "labkit.loihi.sidecar and .lava import with numpy and Lava alone: " + done.stderr[-300:]


def test_the_hand_built_graph_gives_the_torch_spikes_two_steps_late(lava):
    model, x = _small_network()
    with torch.no_grad():
        for layer in model.layers:
            layer.bias.zero_()  # with biases Lava's neurons start integrating before their input arrives
        reference = model(x).out_spikes.numpy()
    layers = [(layer.weight.detach().numpy(), layer.bias.detach().numpy()) for layer in model.layers]
    beta, threshold = model.lif.beta, model.lif.threshold
    recorded = in_lava(run_network).map([(x[:, b].numpy(), layers, beta, threshold) for b in range(x.shape[1])])
    for b, out in enumerate(recorded):
        assert out.shape == (9 + 2, 3), "the Monitor records T + L steps of the output layer"
        assert not out[:2].any(), "the first L rows are empty: each Dense delays its input by one step"
        assert np.array_equal(out[2:], reference[:, b]), f"Lava's floating-point LIF fires as the torch LIF (sample {b})"


def test_a_bias_acts_from_the_first_step_of_the_run(lava):
    # v_k = 0.9 v_(k-1) + 0.3: 0.3, 0.57, 0.813, 1.0317 > 1 at the 4th step (row 3), with no input at all
    out = in_lava(run_network)(np.zeros((6, 2)), [(np.zeros((1, 2)), np.array([0.3]))], 0.9, 1.0)
    assert out[:, 0].tolist() == [0, 0, 0, 1, 0, 0, 0], "a bias-driven neuron fires on its own schedule, input or not"


def test_a_notebook_function_runs_from_its_source(lava, tmp_path):
    model, x = _small_network(seed=1)
    bundle = q.quantize_model(model.float(), num_steps=9)
    layers = [(layer.weight, layer.bias) for layer in bundle.layers]
    source = (
        "def hand_built(spikes, layers, beta, threshold):\n"
        "    from labkit.loihi.lava import run_network\n"
        "    return run_network(spikes, layers, beta, threshold)\n"
    )
    namespace = {"__name__": "__main__"}
    path = tmp_path / "cell.py"  # inspect.getsource needs a file; IPython keeps one per notebook cell too
    path.write_text(source)
    exec(compile(source, str(path), "exec"), namespace)
    out = in_lava(namespace["hand_built"])(x[:, 0].numpy(), layers, bundle.beta, bundle.threshold)
    expected = q.emulate_float(bundle, x[:, :1]).out_spikes[:, 0].numpy()
    assert np.array_equal(out[2:], expected), "a function shipped as source runs in Lava like the lab's own"


def test_errors_in_lava_name_the_cause(lava):
    with pytest.raises(LavaFunctionError, match=r"(?s)NameError.*notebook.s variables"):
        in_lava(_undefined_name)(np.zeros(2), [], 0.9, 1.0)


def test_a_function_that_forgets_to_stop_lava_still_returns(lava):
    started = time.perf_counter()
    out = in_lava(_no_stop, timeout=120)(np.zeros(2), [], 0.9, 1.0)
    assert np.array_equal(out, np.arange(3)), "the result arrives although Lava's runtime was left running"
    assert time.perf_counter() - started < 60, "the leftover Lava workers are stopped, not waited for"
