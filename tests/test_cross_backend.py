"""Save on this backend, load on the others (keras #19615, #19048, #19017: it has broken).

Every registry model gets deterministic weights and is saved under the current backend
with its predictions on a fixed input; then one child process per other backend loads
every file with `keras.saving.load_model` (safe mode) and must predict the same numbers.
CI runs the suite once per backend, so every ordered pair of backends is covered.
"""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest
from helpers import (
    BACKENDS,
    TESTS,
    example,
    forward,
    set_deterministic_weights,
    subprocess_env,
    to_npz,
)

import keras_zoo

ATOL = 1e-5
CURRENT = keras.backend.backend()

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


@pytest.fixture(scope="module")
def saved_models(tmp_path_factory):
    """{name: param count}; tmp/<name>.keras and tmp/<name>.npz (x, y) for every model."""
    folder = tmp_path_factory.mktemp(f"saved_on_{CURRENT}")
    params = {}
    for name in keras_zoo.list_models():
        model = set_deterministic_weights(keras_zoo.build(name, **keras_zoo.model_info(name).smoke))
        x, _ = example(name, model)
        model.save(folder / f"{name}.keras")
        np.savez(folder / f"{name}.npz", **to_npz("x", x), **to_npz("y", forward(model, x)))
        params[name] = model.count_params()
    return folder, params


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
