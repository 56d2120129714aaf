"""The benchmark script still runs, and it compares like with like.

Not timed tests (speed is reported by benchmarks/epoch_time.py itself):
- every benchmarked model is registered in keras_zoo, so a benchmark of a model that is
  not fails here rather than as one error row of a long run;
- the driver runs as a script (`python benchmarks/epoch_time.py`), importing its
  sibling modules by path;
- every benchmarked keras_zoo model, built with the benchmark's overrides, has exactly
  the parameters of its native PyTorch twin (counted as Keras counts them), so the
  ratio compares the same architecture;
- the synthetic data have the promised sizes (the GCN graph: nodes, edges, no
  self-loops or duplicates);
- (fuller tier, `pytest -m full`) a --quick pass of a subset of models on this backend
  and on native PyTorch: every row has a time, a ratio and equal parameter counts.
  `mobilenet_v2` is left out of that run (its first JAX epoch compiles for longer than the
  rest together); its parameter equality is checked above.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

import keras_zoo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))  # benchmarks/ is scripts, not a package

import benchmark_table  # noqa: E402
import trainers  # noqa: E402

# CI time: the cheap models only; every benchmarked model's native twin is still checked
# for equal parameters above, and `python benchmarks/epoch_time.py --quick` runs them all.
QUICK_MODELS = ["mlp", "lenet5", "gcn_node_classifier", "vae"]


def test_default_models_are_known():
    assert set(benchmark_table.DEFAULT_MODELS) <= set(benchmark_table.BENCHMARKS)
    for name, spec in benchmark_table.BENCHMARKS.items():
        assert len(spec.get("rows", (1, 1))) == 2, name
        assert spec["data"] in ("images", "tokens", "windows", "graph"), name


def test_every_benchmark_is_registered():
    missing = sorted(set(benchmark_table.BENCHMARKS) - set(keras_zoo.list_models()))
    assert not missing, f"benchmarked but not registered in keras_zoo: {missing}"


def test_driver_runs_as_a_script():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "epoch_time.py"), "--help"],
        capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for flag in ("--models", "--backends", "--quick", "--variant", "--out"):
        assert flag in proc.stdout


def test_graph_data_sizes():
    spec = benchmark_table.BENCHMARKS["gcn_node_classifier"]
    data = benchmark_table.make_data({"model": "gcn_node_classifier"})
    senders, receivers = data["senders"], data["receivers"]
    assert data["features"].shape == (spec["nodes"], spec["features"])
    assert len(senders) == len(receivers) == spec["edges"]
    assert not np.any(senders == receivers)  # GCNConv adds the self-loops itself
    assert len(np.unique(np.stack([senders, receivers], 1), axis=0)) == spec["edges"]
    assert senders.max() < spec["nodes"] and receivers.max() < spec["nodes"]
    assert data["train_mask"].sum() == spec["labelled"]


@pytest.mark.parametrize("name", sorted(benchmark_table.BENCHMARKS))
def test_native_twin_has_the_same_parameters(name):
    pytest.importorskip("torch")
    import native_torch

    spec = benchmark_table.BENCHMARKS[name]
    if name in benchmark_table.FORECASTERS:
        kwargs, native_kwargs = {"window": 40, "units": 100}, {"units": 100}
    else:
        kwargs = trainers._tuples(dict(spec.get("keras", {})))
        native_kwargs = trainers._tuples(dict(spec.get("native", {})))
    model = keras_zoo.build(name, **kwargs)
    native = native_torch.build(name, **native_kwargs)
    assert native_torch.keras_equivalent_params(native) == model.count_params()


@pytest.mark.full
def test_epoch_time_quick(tmp_path):
    backend = keras.backend.backend()
    out = tmp_path / "epoch_time.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "epoch_time.py"), "--quick", "-q",
         "--backends", f"{backend},native", "--repeats", "1", "--out", str(out),
         "--models", ",".join(QUICK_MODELS)],
        capture_output=True, text=True, timeout=900, env=dict(os.environ), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = json.loads(out.read_text())["results"]
    rows = {(r["model"], r["runner"]): r for r in results}
    for model in QUICK_MODELS:
        native = rows[(model, "native")]
        assert native["error"] is None, native.get("traceback") or native["error"]
        assert native["epoch_s"] > 0
        row = rows[(model, backend)]
        assert row["error"] is None, row.get("traceback") or row["error"]
        assert row["epoch_s"] > 0 and row["ratio"] > 0
        assert row["params"] == native["keras_params"]


@pytest.mark.skipif(keras.backend.backend() != "torch", reason="a torch-backend reproducer")
def test_torch_step_overhead_accounts_for_every_step(tmp_path):
    """benchmarks/torch_step_overhead.py runs, and its phases add up to each step's time."""
    out = tmp_path / "overhead.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "torch_step_overhead.py"), "--rows", "640",
         "--repeats", "1", "--out", str(out)], capture_output=True, text=True, timeout=300,
        env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    found = json.loads(out.read_text())
    assert set(found["ms_per_step"]) == {"native", "keras", "keras_zoo"}
    for name, rows in found["runs"].items():
        (run,) = rows
        assert run["steps"] == 10, name  # 640 rows in batches of 64
        phases = sum(run[p] for p in ("data", "forward", "loss", "backward", "optimizer",
                                      "metrics", "rest"))
        assert phases == pytest.approx(run["seconds"], rel=0.05), (name, run)
        assert min(run[p] for p in ("forward", "backward", "optimizer")) > 0, (name, run)


@pytest.mark.parametrize("fused", [True, False])
def test_fused_false_variant_runs_keras_own_recurrent_layers(fused):
    """`--variant RUNNER:fused=false` trains the same forecaster with Keras' own LSTM."""
    from keras_zoo.layers import LSTM

    cfg = {"model": "lstm_forecaster", "batch_size": 8, "rows": 16, "window": 6, "units": 4}
    trainer = trainers.KerasTrainer(cfg, {"fused": fused})
    recurrent = [layer for layer in trainer.model.layers if isinstance(layer, keras.layers.LSTM)]
    assert len(recurrent) == 1
    assert (type(recurrent[0]) is LSTM) is fused
    assert type(recurrent[0]).__module__.startswith("keras_zoo." if fused else "keras.")
    seconds, loss = trainer.epoch()
    assert np.isfinite(loss) and seconds > 0
