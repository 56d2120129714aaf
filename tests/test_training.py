"""`keras_zoo.training`: the gradient primitive `minimize`, `fit_step`, `OptimizerGroup`,
and `make_train_step` (the lecture's explicit loop), on the current backend.

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
from keras_zoo import training
from keras_zoo.training import OptimizerGroup, make_train_step, minimize

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


# ------------------------------------------------- the primitive under fit: by hand


class Quadratic(keras.Model):
    """loss = sum((w - mean(x))^2) with w trainable; counts loss evaluations in a
    non-trainable variable updated inside the loss (like BatchNorm statistics)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.w = self.add_weight(shape=(2,), initializer=keras.initializers.Constant([1., -1.]))
        self.calls = self.add_weight(shape=(), initializer="zeros", trainable=False)
        self.built = True

    def train_step(self, *args):
        return training.fit_step(self, self.batch, *args)

    def batch(self, data):
        target = keras.ops.mean(data, axis=0)

        def loss():
            self.calls.assign_add(1.0)
            return keras.ops.sum((self.w - target) ** 2), 2.0 * self.w

        loss, aux = minimize(loss, [self.w], self.optimizer)
        return {"loss": loss, "aux0": aux[0]}


def test_minimize_takes_the_sgd_step_by_hand():
    # w = (1, -1), target (3, 3): loss 4 + 16 = 20, gradient 2 (w - 3) = (-4, -8),
    # SGD 0.1: w = (1.4, -0.2); then loss 1.6^2 + 3.2^2 = 12.8, w = (1.72, 0.44)
    model = Quadratic()
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    history = model.fit(np.full((4, 2), 3.0, "float32"), batch_size=4, epochs=2, verbose=0)
    np.testing.assert_allclose(history.history["loss"], [20.0, 12.8], rtol=1e-6)
    np.testing.assert_allclose(history.history["aux0"], [2.0, 2.8], rtol=1e-6)  # 2 w before
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model.w), [1.72, 0.44], rtol=1e-6)
    assert float(keras.ops.convert_to_numpy(model.calls)) == 2.0  # state written back
    assert int(model.optimizer.iterations) == 2


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="JAX needs its state mapped")
def test_minimize_on_jax_outside_a_step_says_where_it_runs():
    w = keras.Variable(1.0)
    with pytest.raises(RuntimeError, match="inside training.fit_step"):
        minimize(lambda: w * w, [w], keras.optimizers.SGD(0.1))


def test_optimizer_group_holds_its_members():
    g, d = keras.optimizers.Adam(1e-3), keras.optimizers.SGD(0.5)
    g.build([keras.Variable(np.zeros(3, "float32"))])
    d.build([keras.Variable(np.zeros(2, "float32"))])
    group = OptimizerGroup({"generator": g, "discriminator": d})
    assert group["discriminator"] is d
    assert group.variables == g.variables + d.variables  # fit's JAX state, saved files
    group.learning_rate = 0.01  # e.g. a LearningRateScheduler: every member
    assert float(g.learning_rate) == pytest.approx(0.01) == float(d.learning_rate)
    with pytest.raises(KeyError, match="not 'critic'"):
        group["critic"]
    config = group.get_config()
    clone = OptimizerGroup.from_config(config)
    assert list(config["optimizers"]) == ["generator", "discriminator"]
    assert isinstance(clone["discriminator"], keras.optimizers.SGD)


def test_optimizer_group_rejects_bad_input():
    with pytest.raises(ValueError, match="non-empty dict name -> optimizer"):
        OptimizerGroup([keras.optimizers.SGD()])
    group = OptimizerGroup({"a": keras.optimizers.SGD()})
    with pytest.raises(ValueError, match=r"unbuilt: \['a'\]"):
        group.build([])
