"""`keras_zoo.training.make_train_step`: the lecture's explicit loop, on the current backend.

The strongest check: with plain SGD, the same starting weights and the same batches in
the same order, the explicit loop and `model.train_on_batch` (what `fit` runs) must
produce the same losses and the same weights. Also for a model with a regularisation
loss (`model.losses`) and one with BatchNorm statistics (non-trainable state).
"""

import keras
import numpy as np
import pytest
from helpers import forward, set_deterministic_weights

import keras_zoo
from keras_zoo.training import make_train_step

SCCE = keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def numpy_weights(model):
    return [keras.ops.convert_to_numpy(w) for w in model.weights]


def batches(x, y, size):
    return [(x[i:i + size], y[i:i + size]) for i in range(0, len(x), size)]


def cross_entropy(logits, labels):
    logits = logits - logits.max(axis=1, keepdims=True)
    log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return float(-log_probs[np.arange(len(labels)), labels].mean())


def small_mlp(seed=0):
    return set_deterministic_weights(keras_zoo.build("mlp", units=(32, 32)), seed)


def explicit_vs_train_on_batch(make_model, data, learning_rate=0.1):
    """Run both loops from the same weights on the same batches; return both runs."""
    runs = []
    for explicit in (True, False):
        model = make_model()
        optimizer = keras.optimizers.SGD(learning_rate)  # no momentum: the plain update
        if explicit:
            step = make_train_step(model, SCCE, optimizer)
            losses = [step(x, y) for x, y in data]
        else:
            model.compile(optimizer=optimizer, loss=SCCE)
            losses = [float(model.train_on_batch(x, y)) for x, y in data]
        runs.append((model, losses))
    return runs


def test_explicit_loop_learns_mnist(mnist_small):
    x, y = mnist_small  # 512 digits
    model = small_mlp()
    logits_before = forward(model, x)
    loss_before = cross_entropy(logits_before, y)
    step = make_train_step(model, SCCE, keras.optimizers.Adam(1e-2))
    losses = [step(xb, yb) for _ in range(3) for xb, yb in batches(x, y, 64)]
    assert all(np.isfinite(losses)) and isinstance(losses[0], float)
    np.testing.assert_allclose(losses[0], cross_entropy(forward(small_mlp(), x[:64]), y[:64]),
                               rtol=1e-4, err_msg="step() must return the loss before the update")
    logits_after = model.predict(x, verbose=0)  # the model's variables hold the new weights
    assert not np.allclose(logits_after, logits_before)
    loss_after = cross_entropy(logits_after, y)
    accuracy = float(np.mean(logits_after.argmax(1) == y))
    assert loss_after < 0.5 * loss_before, (loss_before, loss_after)
    assert accuracy > 0.75, accuracy
    assert np.mean(losses[-8:]) < np.mean(losses[:8])

    # fit, from the same weights on the same batches, ends in the same place
    fitted = small_mlp()
    fitted.compile(optimizer=keras.optimizers.Adam(1e-2), loss=SCCE, metrics=["accuracy"])
    fitted.fit(x, y, batch_size=64, epochs=3, shuffle=False, verbose=0)
    fit_logits = forward(fitted, x)
    assert abs(cross_entropy(fit_logits, y) - loss_after) < 0.1 * loss_after + 0.02
    assert abs(float(np.mean(fit_logits.argmax(1) == y)) - accuracy) < 0.05


def test_explicit_loop_matches_train_on_batch_sgd(mnist_small):
    x, y = mnist_small
    data = batches(x[:160], y[:160], 32)  # 5 steps
    (explicit, explicit_losses), (fitted, fit_losses) = explicit_vs_train_on_batch(
        small_mlp, data)
    np.testing.assert_allclose(explicit_losses, fit_losses, rtol=1e-4)
    assert explicit_losses[-1] < explicit_losses[0]
    initial = numpy_weights(small_mlp())
    for w, a, b, w0 in zip(explicit.weights, numpy_weights(explicit), numpy_weights(fitted),
                           initial):
        assert not np.array_equal(a, w0), f"{w.path} was not updated"
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5, err_msg=w.path)


def test_explicit_loop_adds_regularisation_losses(rng):
    def make_model():
        inputs = keras.Input(shape=(6,))
        hidden = keras.layers.Dense(8, activation="tanh", name="hidden",
                                    kernel_regularizer=keras.regularizers.L2(0.05))(inputs)
        model = keras.Model(inputs, keras.layers.Dense(3, name="out")(hidden))
        return set_deterministic_weights(model, 3)

    data = [(rng.normal(size=(16, 6)).astype("float32"),
             rng.integers(0, 3, size=16).astype("int32")) for _ in range(4)]
    (explicit, explicit_losses), (fitted, fit_losses) = explicit_vs_train_on_batch(
        make_model, data)
    fresh = make_model()
    kernel = keras.ops.convert_to_numpy(fresh.get_layer("hidden").kernel)
    x0, y0 = data[0]
    expected = cross_entropy(forward(fresh, x0), y0) + 0.05 * float(np.sum(kernel ** 2))
    np.testing.assert_allclose(explicit_losses[0], expected, rtol=1e-4)
    np.testing.assert_allclose(explicit_losses, fit_losses, rtol=1e-4)
    for w, a, b in zip(explicit.weights, numpy_weights(explicit), numpy_weights(fitted)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5, err_msg=w.path)


def test_explicit_loop_updates_non_trainable_state(rng):
    """BatchNorm's moving statistics (non-trainable) follow the batches as in fit."""

    def make_model():
        inputs = keras.Input(shape=(5,))
        h = keras.layers.Dense(8, name="dense")(inputs)
        h = keras.layers.BatchNormalization(momentum=0.5, name="bn")(h)
        h = keras.layers.ReLU()(h)
        model = keras.Model(inputs, keras.layers.Dense(3, name="out")(h))
        return set_deterministic_weights(model, 4)

    data = [(rng.normal(1.0, 2.0, size=(16, 5)).astype("float32"),
             rng.integers(0, 3, size=16).astype("int32")) for _ in range(3)]
    (explicit, explicit_losses), (fitted, fit_losses) = explicit_vs_train_on_batch(
        make_model, data)
    np.testing.assert_allclose(explicit_losses, fit_losses, rtol=1e-4)
    moving_mean = keras.ops.convert_to_numpy(explicit.get_layer("bn").moving_mean)
    initial_mean = keras.ops.convert_to_numpy(make_model().get_layer("bn").moving_mean)
    assert not np.allclose(moving_mean, initial_mean), "BatchNorm statistics were not updated"
    for w, a, b in zip(explicit.weights, numpy_weights(explicit), numpy_weights(fitted)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5, err_msg=w.path)


def test_explicit_loop_with_dropout_runs(mnist_small):
    """Dropout's seed state is threaded through the step (JAX: a new mask every call)."""
    x, y = mnist_small
    model = set_deterministic_weights(keras_zoo.build("mlp", units=(32,), dropout=0.5))
    step = make_train_step(model, SCCE, keras.optimizers.SGD(0.0))  # lr 0: weights fixed
    losses = [step(x[:64], y[:64]) for _ in range(3)]
    assert all(np.isfinite(losses))
    assert len(set(losses)) > 1, "the same dropout mask on every step"


def test_unbuilt_model_raises():
    model = keras.Sequential([keras.layers.Dense(2)])
    assert not model.built
    with pytest.raises(ValueError, match="build the model first"):
        make_train_step(model, SCCE, keras.optimizers.SGD(0.1))
