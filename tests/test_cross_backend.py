"""Save on this backend, load here and on the others (keras #19615, #19048, #19017: it has broken).

Every registry model (its smoke variant) gets deterministic weights and is saved under
the current backend with its predictions on a fixed input. This process loads every file
back in safe mode: same weights, same predictions. Then one child process per other
backend loads every file with `keras.saving.load_model` (safe mode) and must predict the
same numbers. CI runs the suite once per backend, so every ordered pair is covered.

Predicting misses what breaks training: a compiled file names its optimizer by the saving
backend's class (TensorFlow's first `fit` step fails on a torch one) and keeps its
`jit_compile` (JAX's True sends `fit` on PyTorch through `torch.compile`: tens of seconds
for a few steps). So a few models (FITTED) are also compiled, fitted for a few steps and saved, and
the same child loads them with `keras_zoo.load` and fits a few more steps: the losses must
be finite, the optimizer's step counter must carry on from the saved one, and the steps
must take seconds, not minutes.

Each model is built and saved once per backend run, by whichever pytest-xdist worker
needs it first, into a folder that all workers of the run share (one file lock per model).
"""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest
from filelock import FileLock
from helpers import (
    BACKENDS,
    DEEP_ONLY_IN_FULL,
    TESTS,
    example,
    flat,
    forward,
    from_npz,
    full_tier_selected,
    registry_params,
    set_deterministic_weights,
    subprocess_env,
    to_npz,
)

import keras_zoo

TOL = 1e-5  # on |a - b| / (1 + |b|): absolute for small outputs, relative for large ones
CURRENT = keras.backend.backend()
MODELS = keras_zoo.list_models()

# Compiled, fitted and saved here, fitted again in the other backends' child: a dense
# classifier, a convolutional one, and a model with its own loss (it crashed torch dynamo).
FITTED = ("mlp", "lenet5", "ssd_lite")
FIT_BATCH = 4
SAVED_STEPS = 2  # fitted here before saving: the file holds optimizer state
FIT_STEPS = 3  # fitted in the child
# Seconds for the child's FIT_STEPS of one model, tracing / XLA compiling included: a
# plain `fit` of these smoke variants takes under 3 s on every backend, the same steps
# through `torch.compile` 20 s and more. 10 s leaves room for a busy CI machine.
FIT_SECONDS = 10.0

LOAD_EVERYTHING = """
import json, sys, time
from pathlib import Path
import numpy as np
import keras
import keras_zoo  # registers keras_zoo's layers for safe-mode loading
sys.path.insert(0, sys.argv[2])
from helpers import flat, forward, from_npz, numpy_initializers_on_jax
numpy_initializers_on_jax()  # loading builds every layer first: no compile per shape

results = {"backend": keras.backend.backend()}
for npz in sorted(Path(sys.argv[1]).glob("*.npz")):
    data = np.load(npz)
    try:
        model = keras.saving.load_model(npz.with_suffix(".keras"))  # safe_mode=True
        y = flat(forward(model, from_npz(data, "x")))
        expected = flat(from_npz(data, "y"))
        assert [a.shape for a in y] == [b.shape for b in expected], "output shapes differ"
        results[npz.stem] = {"name": model.name, "params": int(model.count_params()),
                             "max_err": max(float(np.max(np.abs(a - b) / (1 + np.abs(b))))
                                            for a, b in zip(y, expected))}
    except Exception as err:
        results[npz.stem] = {"error": f"{type(err).__name__}: {err}"[:1000]}

fitted = results["fitted"] = {}  # compiled files: keras_zoo.load, then a few fit steps
for npz in sorted(Path(sys.argv[1], "fitted").glob("*.npz")):
    data = np.load(npz)
    try:
        model = keras_zoo.load(npz.with_suffix(".keras"))
        before = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
        losses = []
        record = keras.callbacks.LambdaCallback(
            on_train_batch_end=lambda batch, logs: losses.append(float(logs["loss"])))
        start = time.perf_counter()
        model.fit(from_npz(data, "x"), from_npz(data, "y"), batch_size=int(data["batch"]),
                  epochs=1, shuffle=False, verbose=0, callbacks=[record])
        seconds = time.perf_counter() - start
        fitted[npz.stem] = {"losses": losses, "seconds": seconds, "iterations": [
            before, int(keras.ops.convert_to_numpy(model.optimizer.iterations))]}
    except Exception as err:
        fitted[npz.stem] = {"error": f"{type(err).__name__}: {err}"[:1000]}
print("RESULTS " + json.dumps(results))
"""


@pytest.fixture(scope="session")
def saved_folder(tmp_path_factory, worker_id):
    """The folder of this run's saved models, shared by its pytest-xdist workers."""
    root = tmp_path_factory.getbasetemp()  # the workers' folders share a fresh parent
    folder = (root if worker_id == "master" else root.parent) / f"saved_on_{CURRENT}"
    folder.mkdir(exist_ok=True)
    return folder


def saved(folder, name):
    """<folder>/<name>.keras and .npz (x, y, weights by path, params), written once."""
    path = folder / f"{name}.npz"
    with FileLock(f"{folder / name}.lock"):
        if not path.exists():
            model = set_deterministic_weights(
                keras_zoo.build(name, **keras_zoo.model_info(name).smoke))
            x, _ = example(name, model)
            model.save(folder / f"{name}.keras")
            weights = {f"w/{w.path}": keras.ops.convert_to_numpy(w) for w in model.weights}
            np.savez(path, **to_npz("x", x), **to_npz("y", forward(model, x)), **weights,
                     params=model.count_params())
    return np.load(path)


def compile_for_fit(name, model):
    """Adam (by name, as users write it) and the task's loss; default `jit_compile`."""
    if keras_zoo.model_info(name).task == "classification":
        return model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model.compile("adam")  # brings its own loss (`compute_loss`)


def saved_fitted(folder, name):
    """<folder>/fitted/<name>.keras, compiled and fitted SAVED_STEPS steps, and its .npz
    (x, y for FIT_STEPS more steps; batch; iterations), written once."""
    folder = folder / "fitted"
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.npz"
    with FileLock(f"{folder / name}.lock"):
        if not path.exists():
            model = set_deterministic_weights(
                keras_zoo.build(name, **keras_zoo.model_info(name).smoke))
            compile_for_fit(name, model)
            x, y = example(name, model, batch=FIT_BATCH * SAVED_STEPS, seed=2)
            model.fit(x, y, batch_size=FIT_BATCH, epochs=1, shuffle=False, verbose=0)
            model.save(folder / f"{name}.keras")
            x, y = example(name, model, batch=FIT_BATCH * FIT_STEPS, seed=3)
            np.savez(path, **to_npz("x", x), **to_npz("y", y), batch=FIT_BATCH,
                     iterations=int(keras.ops.convert_to_numpy(model.optimizer.iterations)))
    return np.load(path)


@pytest.mark.parametrize("name", registry_params(MODELS))  # ResNet-101 / -152: fuller tier
def test_load_on_this_backend(name, saved_folder):
    """Safe mode, the same weights under the same paths, the same predictions."""
    data = saved(saved_folder, name)
    loaded = keras.saving.load_model(saved_folder / f"{name}.keras")  # safe_mode=True
    assert loaded.name == name
    weights = {k[2:]: data[k] for k in data.files if k.startswith("w/")}
    assert [w.path for w in loaded.weights] == list(weights)
    for w in loaded.weights:
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(w), weights[w.path],
                                      err_msg=w.path)
    y, expected = flat(forward(loaded, from_npz(data, "x"))), flat(from_npz(data, "y"))
    for a, b in zip(y, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


@pytest.mark.slow
@pytest.mark.parametrize("other", [b for b in BACKENDS if b != CURRENT])
def test_load_on_other_backend(other, saved_folder, request):
    names = MODELS if full_tier_selected(request.config) else [
        n for n in MODELS if n not in DEEP_ONLY_IN_FULL]
    params = {name: int(saved(saved_folder, name)["params"]) for name in names}
    saved_steps = {name: int(saved_fitted(saved_folder, name)["iterations"]) for name in FITTED}
    assert set(saved_steps.values()) == {SAVED_STEPS}, saved_steps  # the files hold Adam state
    proc = subprocess.run([sys.executable, "-c", LOAD_EVERYTHING, str(saved_folder), str(TESTS)],
                          capture_output=True, text=True, timeout=900,
                          env=subprocess_env(other))
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULTS ")]
    assert proc.returncode == 0 and lines, proc.stdout[-2000:] + proc.stderr[-4000:]
    results = json.loads(lines[-1][len("RESULTS "):])
    assert results.pop("backend") == other
    fitted = results.pop("fitted")
    assert sorted(results) == sorted(params)
    assert sorted(fitted) == sorted(FITTED)
    failures = {}
    for name, result in results.items():
        if "error" in result:
            failures[name] = result["error"]
        elif result["name"] != name or result["params"] != params[name]:
            failures[name] = f"loaded as {result['name']} with {result['params']} parameters"
        elif not result["max_err"] <= TOL:
            failures[name] = f"predictions differ by {result['max_err']:.2e} (|a - b| / (1 + |b|))"
    for name, result in fitted.items():
        if "error" in result:
            failures[f"{name} (fit)"] = result["error"]
        elif result["iterations"] != [SAVED_STEPS, SAVED_STEPS + FIT_STEPS]:
            failures[f"{name} (fit)"] = (f"optimizer.iterations {result['iterations'][0]} -> "
                                         f"{result['iterations'][1]}, expected {SAVED_STEPS} "
                                         f"-> {SAVED_STEPS + FIT_STEPS}")
        elif len(result["losses"]) != FIT_STEPS or not np.all(np.isfinite(result["losses"])):
            failures[f"{name} (fit)"] = f"losses per step {result['losses']}"
        elif not result["seconds"] <= FIT_SECONDS:
            failures[f"{name} (fit)"] = (f"{FIT_STEPS} steps took {result['seconds']:.1f} s "
                                         f"(over {FIT_SECONDS:.0f} s: torch.compile?)")
    assert not failures, f"saved on {CURRENT}, loaded on {other}: {failures}"
