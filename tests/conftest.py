"""Fixtures for the keras_zoo tests. The backend is whatever `KERAS_BACKEND` says.

CI runs the suite once per backend (tensorflow, jax, torch); see tests/run_all_backends.sh.
Numbers that must agree across backends come from NumPy (`helpers.set_deterministic_weights`),
never from Keras seeds, which differ per backend.
"""

import os
import tempfile

# JAX compiles each random initializer once per weight shape (about a second each on two
# CPU cores), in this process and again in every child process that builds or loads a
# model. A persistent compilation cache, shared with the children through the
# environment, cuts that to a lookup. Set before JAX is imported; a user's own settings win.
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR",
                      os.path.join(tempfile.gettempdir(), "keras_zoo_tests_jax_cache"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "-1")
# Tests compile far more code than they run: most of a JAX test's seconds are XLA
# optimising functions that then run for a step or two. Optimisation level 0 compiles
# much faster and computes the same numbers within the goldens' tolerance. Only JAX uses
# XLA here (TF's `jit_compile="auto"` is off on CPU); children inherit the setting.
os.environ.setdefault("XLA_FLAGS", "--xla_backend_optimization_level=0")
# Tutorials run in this process (tests/test_tutorials.py): no window, no GUI toolkit.
os.environ.setdefault("MPLBACKEND", "Agg")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from helpers import (  # noqa: E402
    fixed_input,
    numpy_initializers_on_jax,
    set_deterministic_weights,
)

import keras_zoo  # noqa: E402
from keras_zoo import datasets  # noqa: E402

numpy_initializers_on_jax()


def pytest_configure(config):
    # Keras 3.15 variables meet NumPy 2.x's `copy` keyword: noise from Keras, not ours.
    config.addinivalue_line(
        "filterwarnings",
        "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")


@pytest.fixture(scope="session")
def backend():
    """The Keras backend of this test run."""
    return keras.backend.backend()


@pytest.fixture
def rng():
    """A fresh, seeded NumPy generator per test."""
    return np.random.default_rng(1234)


@pytest.fixture
def build_deterministic():
    """`build_deterministic(name, seed=0, **overrides)`: a registry model with NumPy weights."""

    def build(name, seed=0, **overrides):
        return set_deterministic_weights(keras_zoo.build(name, **overrides), seed)

    return build


@pytest.fixture
def make_input():
    """`make_input(model, batch=4, seed=1)`: a fixed float32 batch in [0, 1)."""
    return fixed_input


@pytest.fixture(scope="session")
def mnist_embedded():
    """The embedded MNIST split ((x_train, y_train), (x_test, y_test)), loaded once."""
    return datasets.load_mnist("embedded")


@pytest.fixture(scope="session")
def mnist_small(mnist_embedded):
    """The first 512 training digits: x (512, 28, 28, 1) float32, y (512,) int32."""
    (x, y), _ = mnist_embedded
    return x[:512], y[:512]
