"""Bad data never trains silently: `layers.checks.check_data` at fit / evaluate / predict.

Every case fails the same way on every backend, before any step runs (without the check,
JAX trains on out-of-range labels to a loss of 0.0, TF keeps a finite loss while a NaN
input turns a kernel row into NaN, and a bad graph index predicts wrong numbers).
"""

import keras
import numpy as np
import pytest

import keras_zoo
from keras_zoo.datasets.graphs import Graph, pack_graphs
from keras_zoo.layers.checks import check_data

bad_input = pytest.mark.bad_input

RNG = np.random.default_rng(0)
X = RNG.uniform(size=(16, 28, 28, 1)).astype("float32")
Y = np.arange(16) % 10


@pytest.fixture(scope="module")
def mlp():
    model = keras_zoo.build("mlp", units=(8,))
    model.compile("sgd", "sparse_categorical_crossentropy")
    return model


def with_nan(x, where=(3, 4, 5, 0), value=np.nan):
    x = x.copy()
    x[where] = value
    return x


CASES = {  # name: (x, y, expected message)
    "label = num_classes": (X, np.where(Y == 9, 10, Y),
                            r"y must be class ids in \[0, 10\) .* values in \[0, 10\]"),
    "label -1": (X, Y - 1, r"class ids in \[0, 10\) .* values in \[-1, 8\]"),
    "1-based labels": (X, Y + 1, r"1-based labels need y - 1"),
    "fractional labels": (X, Y + 0.5, r"integer class ids .* fractional values such as 0\.5"),
    "NaN pixel": (with_nan(X), Y, r"mlp: x holds 1 NaN and 0 inf values \(the first at "
                                  r"index \(3, 4, 5, 0\)\)"),
    "inf pixel": (with_nan(X, value=np.inf), Y, r"x holds 0 NaN and 1 inf"),
    "uint8 0-255 images": ((X * 255).astype("uint8"), Y,
                           r"x is uint8 with values up to 25\d for a float input; scale raw "
                           r"pixels with x.astype\('float32'\) / 255"),
    "fewer labels than images": (X, Y[:15], r"same number of examples, got x: 16, y: 15"),
}


@bad_input
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("method", ["fit", "evaluate", "train_on_batch"])
def test_bad_data_is_refused_before_any_step(mlp, case, method):
    x, y, match = CASES[case]
    before = [keras.ops.convert_to_numpy(w).copy() for w in mlp.weights]
    kwargs = {"verbose": 0} if method != "train_on_batch" else {}
    with pytest.raises(ValueError, match=match):
        getattr(mlp, method)(x, y, **kwargs)
    for a, b in zip(mlp.weights, before, strict=True):  # nothing was trained
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), b)


@bad_input
@pytest.mark.parametrize("method", ["predict", "predict_on_batch"])
def test_predict_refuses_non_finite_and_raw_pixels(mlp, method):
    with pytest.raises(ValueError, match="x holds 1 NaN"):
        getattr(mlp, method)(with_nan(X))
    with pytest.raises(ValueError, match="uint8 with values up to"):
        getattr(mlp, method)((X * 255).astype("uint8"))


@bad_input
def test_validation_data_and_weights_are_checked(mlp):
    with pytest.raises(ValueError, match=r"validation_data y must be class ids"):
        mlp.fit(X, Y, validation_data=(X, Y + 1), verbose=0)
    with pytest.raises(ValueError, match="sample_weight holds 1 NaN"):
        mlp.fit(X, Y, sample_weight=with_nan(np.ones(16), where=(2,)), verbose=0)


def test_good_data_and_non_numpy_data_pass(mlp):
    """Labels 0..9, 0/1 integer images, float labels with integer values: all fine; a
    backend tensor or a generator is not inspected."""
    mlp.fit(X, Y, epochs=1, verbose=0)
    mlp.fit((X > 0.5).astype("uint8"), Y.astype("float32"), epochs=1, verbose=0)
    mlp.predict(keras.ops.convert_to_tensor(X), verbose=0)


@bad_input
def test_regression_targets_and_binary_labels():
    forecaster = keras_zoo.build("lstm_forecaster", window=6, units=4)
    forecaster.compile("sgd", "mse")
    x = RNG.normal(size=(8, 6, 1)).astype("float32")
    with pytest.raises(ValueError, match="lstm_forecaster: y holds 1 NaN"):
        forecaster.fit(x, with_nan(np.zeros((8, 1), "float32"), where=(5, 0)), verbose=0)
    binary = keras_zoo.build("mlp", units=(4,), num_classes=1)
    binary.compile("sgd", keras.losses.BinaryCrossentropy(from_logits=True))
    with pytest.raises(ValueError, match=r"y must lie in \[0, 1\] for binary_crossentropy, got "
                                         r"values in \[0, 2\]"):
        binary.fit(X, (Y % 3)[:, None].astype("float32"), verbose=0)


@bad_input
def test_ignore_class_is_allowed():
    model = keras_zoo.build("mlp", units=(4,))
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True,
                                                                   ignore_class=-1))
    model.fit(X, np.where(Y == 3, -1, Y), verbose=0)
    with pytest.raises(ValueError, match=r"values in \[0, 10\]"):
        model.fit(X, np.where(Y == 3, 10, Y), verbose=0)


@bad_input
@pytest.mark.parametrize("where,index,match", [
    ("senders", -1, r"senders\[1, 0\] = -1 is out of range: graph 1 has \d+ nodes"),
    ("receivers", 11, r"receivers\[1, 0\] = 11 is out of range"),  # a node of graph 0 only
    ("senders", 40, r"senders\[1, 0\] = 40 is out of range"),  # past the padded batch
])
def test_graph_batches_index_their_own_nodes(where, index, match):
    model = keras_zoo.build("gcn_node_classifier", node_features=4, units=4)
    model.compile("sgd", "sparse_categorical_crossentropy")
    rng = np.random.default_rng(1)
    graphs = [Graph(rng.uniform(size=(n, 4)), *rng.integers(0, n, size=(2, 10)), None)
              for n in (12, 6)]  # node 11 exists in graph 0 only
    x = pack_graphs(graphs, 12, 24)
    y = np.zeros((2, 12), "int32")
    model.predict(x, verbose=0)  # valid
    x[where][1, 0] = index
    for call in (lambda: model.fit(x, y, verbose=0), lambda: model.predict(x, verbose=0)):
        with pytest.raises(ValueError, match=match):
            call()


@bad_input
def test_generative_models_refuse_nan_images():
    """The VAE's range check used to let NaN through (comparisons with NaN are False)."""
    vae = keras_zoo.build("vae", latent_dim=2, units=(8,))
    vae.compile("adam")
    with pytest.raises(ValueError, match="vae: x holds 1 NaN"):
        vae.fit(with_nan(X), verbose=0)
    with pytest.raises(ValueError, match=r"images must lie in \[0, 1\], got values in "
                                         r"\[0, 255\]; the VAE models pixel intensities"):
        vae.fit(np.linspace(0, 255, X.size, dtype="float32").reshape(X.shape), verbose=0)


@bad_input
def test_check_data_outside_a_model_call():
    """The function itself, as a user's own training loop would call it."""
    model = keras_zoo.build("mlp", units=(4,))
    check_data(model, X, Y)  # not compiled: no target check, x is fine
    with pytest.raises(ValueError, match="holds 1 NaN"):
        check_data(model, [with_nan(X)])
