"""Cross-backend parity with golden values (as Keras' own tests do).

tests/golden/<model>.npz holds a fixed input and the output that one backend computed
with deterministic NumPy weights (see tests/make_golden.py, which writes them). Every
backend must reproduce those outputs. Every registered model must have a golden file:
a new model fails here until `python tests/make_golden.py <name>` is run and committed.
"""

import json

import numpy as np
import pytest
from helpers import (
    GOLDEN_DIR,
    example,
    flat,
    forward,
    from_npz,
    golden_path,
    set_deterministic_weights,
    weight_sums,
)

import keras_zoo

RTOL, ATOL = 1e-4, 1e-5
NAMES = sorted(set(keras_zoo.list_models()) | {p.stem for p in GOLDEN_DIR.glob("*.npz")})


@pytest.mark.parametrize("name", NAMES)
def test_golden_output(name):
    path = golden_path(name)
    assert name in keras_zoo.list_models(), (
        f"{path.name} belongs to no registered model: delete it or register {name!r}")
    assert path.exists(), (
        f"registered model {name!r} has no golden values: run "
        f"`KERAS_BACKEND=tensorflow python tests/make_golden.py {name}` and commit {path}")
    golden = np.load(path)
    model = keras_zoo.build(name, **json.loads(str(golden["config"])))
    set_deterministic_weights(model, int(golden["seed"]))
    assert model.count_params() == int(golden["param_count"])
    np.testing.assert_allclose(
        weight_sums(model), golden["weight_sums"], rtol=1e-6, atol=1e-6,
        err_msg="the deterministic weights changed (helpers.set_deterministic_weights or "
                "the model's weight order); regenerate with tests/make_golden.py if intended")
    x = from_npz(golden, "x")
    expected_x, _ = example(name, model, batch=len(flat(x)[0]))
    for a, b in zip(flat(x), flat(expected_x), strict=True):
        np.testing.assert_array_equal(a, b, err_msg="keras_zoo.example_batch changed")
    y, expected = flat(forward(model, x)), flat(from_npz(golden, "y"))
    assert [a.shape for a in y] == [b.shape for b in expected]
    for a, b in zip(y, expected):
        np.testing.assert_allclose(
            a, b, rtol=RTOL, atol=ATOL,
            err_msg=f"{name} differs from the golden values written on {golden['backend']}")


def test_goldens_are_not_trivial():
    """The stored outputs vary across the batch and are not saturated or zero."""
    for path in sorted(GOLDEN_DIR.glob("*.npz")):
        for y in flat(from_npz(np.load(path), "y")):
            assert np.all(np.isfinite(y)), path.name
            assert np.std(y) > 1e-3 and np.abs(y).max() < 1e3, path.name
