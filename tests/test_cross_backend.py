"""Save on this backend, load here and on the others (keras #19615, #19048, #19017: it has broken).

Every registry model (its smoke variant) gets deterministic weights and is saved under
the current backend with its predictions on a fixed input. This process loads every file
back in safe mode: same weights, same predictions. Then one child process per other
backend loads every file with `keras.saving.load_model` (safe mode) and must predict the
same numbers. CI runs the suite once per backend, so every ordered pair is covered.

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
    TESTS,
    example,
    flat,
    forward,
    from_npz,
    set_deterministic_weights,
    subprocess_env,
    to_npz,
)

import keras_zoo

TOL = 1e-5  # on |a - b| / (1 + |b|): absolute for small outputs, relative for large ones
CURRENT = keras.backend.backend()
MODELS = keras_zoo.list_models()

LOAD_EVERYTHING = """
import json, sys
from pathlib import Path
import numpy as np
import keras
import keras_zoo  # registers keras_zoo's layers for safe-mode loading
sys.path.insert(0, sys.argv[2])
from helpers import flat, forward, from_npz

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


@pytest.mark.parametrize("name", MODELS)
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
def test_load_on_other_backend(other, saved_folder):
    params = {name: int(saved(saved_folder, name)["params"]) for name in MODELS}
    proc = subprocess.run([sys.executable, "-c", LOAD_EVERYTHING, str(saved_folder), str(TESTS)],
                          capture_output=True, text=True, timeout=900,
                          env=subprocess_env(other))
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULTS ")]
    assert proc.returncode == 0 and lines, proc.stdout[-2000:] + proc.stderr[-4000:]
    results = json.loads(lines[-1][len("RESULTS "):])
    assert results.pop("backend") == other
    assert sorted(results) == sorted(params)
    failures = {}
    for name, result in results.items():
        if "error" in result:
            failures[name] = result["error"]
        elif result["name"] != name or result["params"] != params[name]:
            failures[name] = f"loaded as {result['name']} with {result['params']} parameters"
        elif not result["max_err"] <= TOL:
            failures[name] = f"predictions differ by {result['max_err']:.2e} (|a - b| / (1 + |b|))"
    assert not failures, f"saved on {CURRENT}, loaded on {other}: {failures}"
