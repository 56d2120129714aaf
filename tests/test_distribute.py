"""keras_zoo.distribute: data-parallel `fit` equals one-device `fit`, and the batch is split.

The data-parallel runs happen in JAX child processes with simulated CPU devices
(`XLA_FLAGS=--xla_force_host_platform_device_count=N` must be set before JAX starts).
They are JAX whatever this process's backend is, so they run once, in the torch run (the
lightest of the three in CI). Off JAX, `data_parallel` and `--distribute data` must refuse
and say what to use instead.
"""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from helpers import TESTS, subprocess_env

from keras_zoo import distribute, tutorial

ROOT = TESTS.parent
BACKEND = keras.backend.backend()
ONCE = pytest.mark.skipif(BACKEND != "torch", reason=(
    "the children run JAX whatever this backend is: once, in the torch run"))

# One model per family the issue names (a CNN with BatchNorm, an LSTM, a Transformer, a GNN
# on padded graph batches) and the two with a train step of their own (the GAN's two
# players, the diffusion model's EMA weights). The first is also probed for its sharding.
FAMILIES = ("resnet18", "lstm_forecaster", "transformer_classifier", "gin_graph_classifier",
            "gan_mlp", "ddpm")
# Data-parallel sums the gradient over devices in another order than one device: float32
# round-off, relative to the largest weight (measured: at most ~4e-6).
RELATIVE_TOLERANCE = 2e-5


def jax_child(args, devices, tmp_path, timeout=300):
    # Keep the suite's XLA flags (conftest.py: optimisation level 0, which compiles
    # faster) and add the simulated devices.
    flags = f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count={devices}"
    env = dict(subprocess_env("jax"), MPLBACKEND="Agg", XLA_FLAGS=flags.strip())
    return subprocess.run([sys.executable, *args], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=timeout)


@ONCE
@pytest.mark.slow
def test_data_parallel_fit_equals_one_device_fit_and_splits_the_batch(tmp_path):
    proc = jax_child([str(TESTS / "data_parallel_child.py"), FAMILIES[0], *FAMILIES], 4,
                     tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    assert found["devices"] == 4
    for name in FAMILIES:
        for devices, row in found["models"][name].items():
            error = row["max_abs_diff"] / row["max_abs_weight"]
            assert error <= RELATIVE_TOLERANCE, (
                f"{name} on {devices} devices: weights differ by {error:.2e} of the largest")
            for key, value in row["logs"].items():
                assert np.isclose(value, row["logs_one_device"][key], rtol=1e-4), (name, key)
    assert set(found["models"][FAMILIES[0]]) == {"2", "4"}
    # Inside the compiled train step: one device holds the whole batch of 4; two and four
    # devices hold 2 and 1 rows of the input and of the logits. The epoch's last batch
    # (2 rows) splits over 2 devices and runs whole on each of 4 (the workaround).
    seen = found["shardings"]
    for side in ("in", "out"):
        assert [s["shard"][0] for s in seen[f"{side}1"]] == [4, 2]
        assert [s["shard"][0] for s in seen[f"{side}2"]] == [2, 1]
        assert [(s["shard"][0], s["replicated"]) for s in seen[f"{side}4"]] == [
            (1, False), (2, True)]


@ONCE
@pytest.mark.slow
def test_a_tutorial_trains_data_parallel_on_two_devices(tmp_path):
    out = tmp_path / "out"
    proc = jax_child([str(ROOT / "tutorials" / "mlp_mnist.py"), "--smoke", "--distribute",
                      "data", "--out", str(out)], 2, tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    first = proc.stdout.splitlines()[0]
    assert "distribute=data devices=2" in first, first
    run = json.loads((out / "metrics.json").read_text())["run"]
    assert (run["distribute"], run["precision"]) == ("data", "float32")


@pytest.mark.bad_input
@pytest.mark.skipif(BACKEND == "jax", reason="keras.distribution runs on JAX")
def test_off_jax_data_parallel_says_what_to_use_instead():
    with pytest.raises(NotImplementedError) as err:
        distribute.data_parallel()
    assert {"tensorflow": "MirroredStrategy", "torch": "DistributedDataParallel"}[BACKEND] in (
        str(err.value))
    assert keras.distribution.distribution() is None


@pytest.mark.bad_input
@pytest.mark.skipif(BACKEND == "jax", reason="keras.distribution runs on JAX")
def test_off_jax_the_distribute_flag_is_refused(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(sys, "argv", ["mlp_mnist.py", "--distribute", "data",
                                      "--out", str(tmp_path)])
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # setup() replaces it
    with pytest.raises(SystemExit) as exit_:
        tutorial.setup("doc", epochs=1, batch_size=8)
    assert exit_.value.code == 2
    assert "runs on JAX only" in capsys.readouterr().err


@pytest.mark.skipif(BACKEND != "jax", reason="keras.distribution runs on JAX")
def test_data_parallel_on_this_process_devices():
    try:
        distribution = distribute.data_parallel()
        assert keras.distribution.distribution() is distribution
        assert distribution.num_model_replicas == len(keras.distribution.list_devices())
        with pytest.raises(ValueError, match="no devices"):
            distribute.data_parallel(devices=[])
    finally:
        keras.distribution.set_distribution(None)


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "float32"])
def test_the_precision_flag_sets_the_policy_and_is_recorded(policy, monkeypatch, tmp_path,
                                                              capsys):
    monkeypatch.setattr(sys, "argv", ["mlp_mnist.py", "--precision", policy,
                                      "--out", str(tmp_path)])
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # setup() replaces it
    try:
        args = tutorial.setup("doc", epochs=1, batch_size=8)
        assert keras.mixed_precision.global_policy().name == policy
        shown = capsys.readouterr().out.splitlines()[0]
        assert (f"precision={policy}" in shown) == (policy != "float32")
        run = tutorial.report(args, accuracy=0.5)["run"]
        assert (run["precision"], run["distribute"]) == (policy, "none")
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_scaling_benchmark_arithmetic():
    """The all-reduce volume the scaling note states: ring all-reduce sends 2 (N-1)/N
    of the gradient bytes per device and step."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import data_parallel
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    plan = data_parallel.real_host_plan(params=1_000_000, global_batch=256, devices=8)
    assert plan["per_device_batch"] == 32
    assert plan["allreduce_bytes_per_device"] == 2 * 7 / 8 * 4_000_000
