"""Shared test helpers: deterministic weights and inputs from NumPy, the same on every backend.

Keras seeds give different numbers on TensorFlow, JAX and PyTorch, so every test that
compares numbers across backends (golden values, saved files, NumPy references) sets the
weights itself from `np.random.default_rng(seed)` instead.

Used by conftest.py (as fixtures), the test modules and `tests/make_golden.py`.
"""

import os
from pathlib import Path

import keras
import numpy as np

import keras_zoo

TESTS = Path(__file__).resolve().parent
GOLDEN_DIR = TESTS / "golden"
BACKENDS = ("tensorflow", "jax", "torch")
WEIGHT_SEED = 0  # deterministic weights of the golden / cross-backend / reference tests
INPUT_SEED = 1  # their fixed inputs
GOLDEN_BATCH = 4
GOLDEN_MAX_PARAMS = 2_000_000  # above this a golden uses the model's smoke overrides


def set_deterministic_weights(model, seed=WEIGHT_SEED):
    """Overwrite every weight, in `model.weights` order, with uniform NumPy random numbers.

    A kernel of shape (..., fan_in_dims, units) gets U(-a, a) with a = sqrt(3 / fan_in)
    (variance 1 / fan_in, so activations stay O(1) and tanh/sigmoid do not saturate);
    biases and other vectors get U(-0.1, 0.1); a variance (BatchNorm) gets 0.5 + |U|.
    The numbers depend only on the seed and the weight shapes and order, so the same
    model gets the same weights on every backend.

    Args:
        model: a built `keras.Model`.
        seed: seed of `np.random.default_rng`.

    Returns:
        The model (its weights are assigned in place).
    """
    rng = np.random.default_rng(seed)
    for weight in model.weights:
        if "float" not in str(weight.dtype):
            continue
        shape = tuple(weight.shape)
        is_vector = len(shape) < 2 or weight.name.endswith("bias")
        scale = 0.1 if is_vector else float(np.sqrt(3.0 / np.prod(shape[:-1])))
        values = rng.uniform(-scale, scale, size=shape)
        if weight.name.endswith("variance"):
            values = 0.5 + np.abs(values)
        weight.assign(values.astype(weight.dtype))
    return model


def fixed_input(model, batch=GOLDEN_BATCH, seed=INPUT_SEED):
    """A float32 batch in [0, 1) shaped like the model's (single) input."""
    shape = tuple(model.inputs[0].shape[1:])
    return np.random.default_rng(seed).uniform(0.0, 1.0, size=(batch, *shape)).astype("float32")


def forward(model, x):
    """Inference-mode forward pass: a NumPy array, or a list of them for several outputs.

    On JAX the pass is one compiled function (`predict`, the whole batch at once): eager
    JAX compiles every op for every new shape, seconds per model that one jit avoids.
    """
    if keras.backend.backend() == "jax":
        batch = len(keras.tree.flatten(x)[0])
        y = model.predict(x, batch_size=batch, verbose=0)
    else:
        y = model(x, training=False)
    outputs = [keras.ops.convert_to_numpy(a) for a in keras.tree.flatten(y)]
    return outputs[0] if len(outputs) == 1 else outputs


def example(name, model, batch=GOLDEN_BATCH, seed=INPUT_SEED):
    """`keras_zoo.example_batch`: the fixed (x, y) every registry test feeds `model`."""
    return keras_zoo.example_batch(name, model, batch=batch, seed=seed)


def to_npz(prefix, value):
    """Flatten an array / list / dict of arrays into npz entries: x, x_0, x_1 or x.key."""
    if isinstance(value, dict):
        return {f"{prefix}.{key}": np.asarray(v) for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        return {f"{prefix}_{i}": np.asarray(v) for i, v in enumerate(value)}
    return {prefix: np.asarray(value)}


def from_npz(data, prefix):
    """Inverse of `to_npz` on a loaded npz file."""
    if prefix in data.files:
        return data[prefix]
    keys = [k for k in data.files if k.startswith(prefix + ".")]
    if keys:
        return {k[len(prefix) + 1:]: data[k] for k in keys}
    items = sorted((int(k[len(prefix) + 1:]), k) for k in data.files
                   if k.startswith(prefix + "_") and k[len(prefix) + 1:].isdigit())
    return [data[k] for _, k in items]


def flat(value):
    """An array, list or dict of arrays as a flat list (dicts in key order)."""
    if isinstance(value, dict):
        return [np.asarray(value[k]) for k in sorted(value)]
    if isinstance(value, (list, tuple)):
        return [np.asarray(v) for v in value]
    return [np.asarray(value)]


def weight_sums(model):
    """Sum of each weight (float64): a fingerprint that the deterministic weights match."""
    return np.array([np.sum(keras.ops.convert_to_numpy(w), dtype="float64")
                     for w in model.weights])


def golden_config(name):
    """Builder overrides for a golden: the default config, the smoke one if it is too big."""
    info = keras_zoo.model_info(name)
    if keras_zoo.build(name).count_params() > GOLDEN_MAX_PARAMS:
        return dict(info.smoke)
    return {}


def golden_path(name):
    return GOLDEN_DIR / f"{name}.npz"


def subprocess_env(backend):
    """Environment for a child Python process on another Keras backend."""
    return dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2",
                PYTHONWARNINGS="ignore")
