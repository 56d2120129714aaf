"""Cross-backend parity with golden values (as Keras' own tests do).

tests/golden/<model>.npz holds a fixed input and the output that one backend computed
with deterministic NumPy weights (see tests/make_golden.py, which writes them). Every
backend must reproduce those outputs. Every registered model must have a golden file:
a new model fails here until `python tests/make_golden.py <name>` is run and committed.
"""

import json

import keras
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
    # One pass over the stored batch and the same batch rolled by one example: the first
    # half must match the golden, the second the golden rolled (each example on its own),
    # and the golden check must fail on it: the outputs depend on the input.
    both = keras.tree.map_structure(lambda a: np.concatenate([a, np.roll(a, 1, axis=0)]), x)
    expected = flat(from_npz(golden, "y"))
    batch = len(flat(x)[0])
    y = flat(forward(model, both))
    assert [a.shape[1:] for a in y] == [b.shape[1:] for b in expected]
    for a, b in zip(y, expected):
        np.testing.assert_allclose(
            a[:batch], b, rtol=RTOL, atol=ATOL,
            err_msg=f"{name} differs from the golden values written on {golden['backend']}")
        np.testing.assert_allclose(a[batch:], np.roll(b, 1, axis=0), rtol=RTOL, atol=ATOL,
                                   err_msg=f"{name}: an example's output depends on the batch")
    assert not all(np.allclose(a[batch:], b, rtol=RTOL, atol=ATOL)
                   for a, b in zip(y, expected)), (
        f"{name}: the golden check passes on a different input; the golden cannot see "
        f"the forward pass")


@pytest.mark.parametrize("path", sorted(GOLDEN_DIR.glob("*.npz")), ids=lambda p: p.stem)
def test_golden_outputs_vary_across_the_batch(path):
    """Per output unit, the examples of the batch differ: the spread across the batch is a
    real share of the outputs' size, not rounding (finite, not saturated, not zero)."""
    for y in flat(from_npz(np.load(path), "y")):
        y = y.reshape(len(y), -1).astype("float64")
        assert np.all(np.isfinite(y)) and np.abs(y).max() < 1e3, path.name
        spread = np.std(y, axis=0)  # per unit, across the batch
        assert np.median(spread) > 0.01 * (np.abs(y).mean() + 1e-3), (
            f"{path.stem}: median per-unit spread across the batch {np.median(spread):.2e} "
            f"vs mean |y| {np.abs(y).mean():.2e}: the outputs barely depend on the input")
