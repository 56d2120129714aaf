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
# ResNet-101 and -152 are ResNet-50's bottleneck blocks, only more of them (~500 layers:
# every build, forward and save costs seconds). The fuller tier (`pytest -m full`) runs
# them in every registry-parametrized test; the default tier checks their parameter
# counts against keras.applications (test_cnn_zoo.py) and their summaries.
DEEP_ONLY_IN_FULL = ("resnet101", "resnet152")


def registry_params(names, full_only=()):
    """pytest params over registry names: DEEP_ONLY_IN_FULL and `full_only` marked full."""
    import pytest

    slow = set(DEEP_ONLY_IN_FULL) | set(full_only)
    return [pytest.param(n, marks=pytest.mark.full) if n in slow else n for n in names]


def full_tier_selected(config):
    """Whether this run's `-m` expression selects a test marked `full` (pytest's own
    evaluation: "full", "full or not full" do; the default "not full" does not)."""
    from _pytest.mark.expression import Expression

    expression = config.getoption("-m")
    return not expression or bool(
        Expression.compile(expression).evaluate(lambda name, **_: name == "full"))


def _layer_kinds(model):
    """ids of depthwise kernels, and of the BatchNorm scales that end a residual branch
    (a BatchNormalization feeding an `Add` whose other input is an identity shortcut)."""
    depthwise, branch_ends = set(), set()
    for layer in model._flatten_layers(include_self=False):
        if isinstance(layer, keras.layers.DepthwiseConv2D):
            depthwise.add(id(layer.kernel))
        if isinstance(layer, keras.layers.Add):
            for node in layer._inbound_nodes:
                producers = [t._keras_history.operation for t in node.input_tensors]
                norms = [p for p in producers if isinstance(p, keras.layers.BatchNormalization)]
                if norms and len(norms) < len(producers):
                    branch_ends.update(id(n.gamma) for n in norms if n.scale)
    return depthwise, branch_ends


def set_deterministic_weights(model, seed=WEIGHT_SEED):
    """Overwrite every weight, in `model.weights` order, with uniform NumPy random numbers.

    Scales are chosen per kind of weight so that a signal survives any depth, and each
    output depends on its input:
    - a kernel of shape (..., fan_in_dims, units): U(-a, a), a = sqrt(6 / fan_in)
      (variance 2 / fan_in, He et al.'s: a ReLU layer keeps the signal's size, so deep
      stacks neither vanish nor explode); a depthwise kernel's fan-in is kh * kw;
    - a normalisation scale (`gamma`): 1 + U(-0.1, 0.1), so that no layer shrinks the
      signal; the scale that ends a residual branch over an identity shortcut:
      0.2 + U(-0.1, 0.1) (as "zero-gamma" initialisation does), so that residual sums do
      not double at every block; a moving variance: 1 + |U(-0.1, 0.1)|, so that
      inference-mode normalisation neither amplifies nor damps;
    - biases, shifts (`beta`), moving means and other vectors: U(-0.1, 0.1).
    The numbers depend only on the seed and the weight shapes and order (and the model's
    graph), so the same model gets the same weights on every backend.

    Args:
        model: a built `keras.Model`.
        seed: seed of `np.random.default_rng`.

    Returns:
        The model (its weights are assigned in place).
    """
    rng = np.random.default_rng(seed)
    depthwise, branch_ends = _layer_kinds(model)
    for weight in model.weights:
        if "float" not in str(weight.dtype):
            continue
        shape = tuple(weight.shape)
        is_vector = len(shape) < 2 or weight.name.endswith("bias")
        fan_in = np.prod(shape[:2]) if id(weight) in depthwise else np.prod(shape[:-1])
        scale = 0.1 if is_vector else float(np.sqrt(6.0 / fan_in))
        values = rng.uniform(-scale, scale, size=shape)
        if weight.name.endswith("variance"):
            values = 1.0 + np.abs(values)
        elif id(weight) in branch_ends:
            values = 0.2 + values
        elif weight.name.endswith("gamma"):
            values = 1.0 + values
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


def numpy_initializers_on_jax():
    """On JAX (a no-op elsewhere), Keras' weight initializers draw from NumPy, seeded
    by their Keras seed, so still reproducible; every other random number is Keras' own.

    Keras' JAX random functions compile one XLA program per shape: building a model on
    JAX compiles the initializer of every distinct weight shape: seconds for a deep model
    with a cold compilation cache, as in CI; loading a file builds the layers first. The tests
    build hundreds of models and never depend on Keras' initial values: numbers compared
    across backends come from NumPy (`helpers.set_deterministic_weights`). Only the
    initializers' module sees the change; dropout and the models' own noise, eager or
    compiled, draw as they do for a user. A child process whose numbers are compared with
    the test process's calls it too (tests/test_tutorials.py's killed run).
    """
    if keras.backend.backend() != "jax":
        return
    import types

    import jax
    from keras.src.backend.jax import random
    from keras.src.initializers import random_initializers

    def numpy_rng(seed):
        key = seed
        if jax.dtypes.issubdtype(seed.dtype, jax.dtypes.prng_key):
            key = jax.random.key_data(seed)
        return np.random.default_rng(np.asarray(key).astype("uint64").tolist())

    def truncated(rng, shape):  # Keras' truncated normal: redraw beyond two deviations
        values = rng.normal(size=shape)
        while np.any(outside := np.abs(values) > 2):
            values[outside] = rng.normal(size=int(outside.sum()))
        return values

    def compiled(seed):  # inside a traced function: Keras' own path
        return isinstance(seed, jax.core.Tracer)

    def array(values, dtype):
        return jax.numpy.asarray(values, dtype=dtype or keras.config.floatx())

    normal, uniform, truncated_normal = random.normal, random.uniform, random.truncated_normal

    def numpy_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
        seed = random.jax_draw_seed(seed)
        if compiled(seed):
            return normal(shape, mean, stddev, dtype, seed)
        return array(numpy_rng(seed).normal(mean, stddev, tuple(shape)), dtype)

    def numpy_uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
        seed = random.jax_draw_seed(seed)
        if compiled(seed):
            return uniform(shape, minval, maxval, dtype, seed)
        return array(numpy_rng(seed).uniform(minval, maxval, tuple(shape)), dtype)

    def numpy_truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
        seed = random.jax_draw_seed(seed)
        if compiled(seed):
            return truncated_normal(shape, mean, stddev, dtype, seed)
        return array(mean + stddev * truncated(numpy_rng(seed), tuple(shape)), dtype)

    initializers_random = types.ModuleType("numpy_initializer_random")
    initializers_random.__dict__.update(vars(random))
    initializers_random.normal, initializers_random.uniform = numpy_normal, numpy_uniform
    initializers_random.truncated_normal = numpy_truncated_normal
    random_initializers.random = initializers_random
