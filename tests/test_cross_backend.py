"""Save on this backend, load here and on the others (keras #19615, #19048, #19017: it has broken).

Every registry model (its smoke variant) gets deterministic weights and is saved under
the current backend with its predictions on a fixed input. This process loads every file
back in safe mode: same weights, same predictions. Then one child process per other
backend loads every file with `keras.saving.load_model` (safe mode) and must predict the
same numbers. CI runs the suite once per backend, so every ordered pair is covered.

The models are built and saved once per backend run: the first pytest-xdist worker that
needs them writes them to a folder that all workers of the run share, under a file lock.
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

ATOL = 1e-5
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
                             "max_abs_err": max(float(np.max(np.abs(a - b)))
                                                for a, b in zip(y, expected))}
    except Exception as err:
        results[npz.stem] = {"error": f"{type(err).__name__}: {err}"[:1000]}
print("RESULTS " + json.dumps(results))
"""


@pytest.fixture(scope="session")
def saved_models(tmp_path_factory, worker_id):
    """{name: param count}; <folder>/<name>.keras and .npz (x, y, weights) for every model."""
    # pytest-xdist workers' temp folders share a parent that is fresh for each run.
    root = tmp_path_factory.getbasetemp()
    folder = (root if worker_id == "master" else root.parent) / f"saved_on_{CURRENT}"
    with FileLock(f"{folder}.lock"):
        if not (folder / "params.json").exists():
            folder.mkdir(exist_ok=True)
            params = {}
            for name in MODELS:
                model = set_deterministic_weights(
                    keras_zoo.build(name, **keras_zoo.model_info(name).smoke))
                x, _ = example(name, model)
                model.save(folder / f"{name}.keras")
                weights = {f"w/{w.path}": keras.ops.convert_to_numpy(w) for w in model.weights}
                np.savez(folder / f"{name}.npz", **to_npz("x", x),
                         **to_npz("y", forward(model, x)), **weights)
                params[name] = model.count_params()
            (folder / "params.json").write_text(json.dumps(params))
    return folder, json.loads((folder / "params.json").read_text())


@pytest.mark.parametrize("name", MODELS)
def test_load_on_this_backend(name, saved_models):
    """Safe mode, the same weights under the same paths, the same predictions."""
    folder, _ = saved_models
    data = np.load(folder / f"{name}.npz")
    loaded = keras.saving.load_model(folder / f"{name}.keras")  # safe_mode=True
    assert loaded.name == name
    saved = {k[2:]: data[k] for k in data.files if k.startswith("w/")}
    assert [w.path for w in loaded.weights] == list(saved)
    for w in loaded.weights:
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(w), saved[w.path], err_msg=w.path)
    y, expected = flat(forward(loaded, from_npz(data, "x"))), flat(from_npz(data, "y"))
    for a, b in zip(y, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


@pytest.mark.slow
@pytest.mark.parametrize("other", [b for b in BACKENDS if b != CURRENT])
def test_load_on_other_backend(other, saved_models):
    folder, params = saved_models
    proc = subprocess.run([sys.executable, "-c", LOAD_EVERYTHING, str(folder), str(TESTS)],
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
        elif not result["max_abs_err"] <= ATOL:
            failures[name] = f"predictions differ by {result['max_abs_err']:.2e}"
    assert not failures, f"saved on {CURRENT}, loaded on {other}: {failures}"
