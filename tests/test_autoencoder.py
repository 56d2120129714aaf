"""Autoencoders: the notebook's layer widths, the denoising mode, anomaly scores, bad input."""

import keras
import numpy as np
import pytest
from helpers import set_deterministic_weights

import keras_zoo
from keras_zoo.models.autoencoder import reconstruction_errors

to_np = keras.ops.convert_to_numpy


def dense_widths(model):
    return [layer.units for layer in model.layers if isinstance(layer, keras.layers.Dense)]


def test_notebook_architecture():
    model = keras_zoo.build("autoencoder")
    encoder, decoder = model.get_layer("encoder"), model.get_layer("decoder")
    assert dense_widths(encoder) == [400, 200, 100, 50, 25, 6]
    assert dense_widths(decoder) == [25, 50, 100, 200, 400, 784]
    assert encoder.get_layer("latent").activation is keras.activations.linear
    assert decoder.get_layer("pixels").activation is keras.activations.sigmoid
    assert encoder.outputs[0].shape[1:] == (6,) and decoder.outputs[0].shape[1:] == (28, 28, 1)
    conv = keras_zoo.build("conv_autoencoder")
    assert conv.get_layer("encoder").outputs[0].shape[1:] == (16,)
    assert conv.outputs[0].shape[1:] == (28, 28, 1)


@pytest.mark.parametrize("name", ["autoencoder", "conv_autoencoder"])
def test_denoising_noise_only_while_training(name, make_input):
    smoke = keras_zoo.model_info(name).smoke
    clean = set_deterministic_weights(keras_zoo.build(name, **smoke))
    noisy = set_deterministic_weights(keras_zoo.build(name, noise_stddev=0.5, **smoke))
    x = make_input(clean)
    np.testing.assert_allclose(to_np(noisy(x, training=False)), to_np(clean(x)), atol=1e-6)
    np.testing.assert_allclose(to_np(clean(x, training=True)), to_np(clean(x)), atol=1e-6)
    assert np.max(np.abs(to_np(noisy(x, training=True)) - to_np(clean(x)))) > 1e-3
    assert noisy.get_layer(f"{name}_noise").stddev == 0.5


def test_reconstruction_errors_match_numpy(make_input):
    model = set_deterministic_weights(keras_zoo.build("autoencoder", units=(8,), latent_dim=2))
    x = make_input(model, batch=5)
    expected = np.mean((to_np(model(x)) - x) ** 2, axis=(1, 2, 3))
    np.testing.assert_allclose(reconstruction_errors(model, x), expected, rtol=1e-5)


def test_trained_autoencoder_scores_noise_as_anomalous(mnist_small):
    x, _ = mnist_small
    model = keras_zoo.build("autoencoder", units=(64, 32), latent_dim=6)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mse")
    model.fit(x, x, batch_size=32, epochs=8, verbose=0)
    noise = np.random.default_rng(0).uniform(size=(64, 28, 28, 1)).astype("float32")
    digits, noise_err = reconstruction_errors(model, x[:64]), reconstruction_errors(model, noise)
    baseline = np.mean((x[:64] - x.mean(axis=0)) ** 2)  # predicting the mean image
    assert digits.mean() < 0.9 * baseline, (digits.mean(), baseline)
    assert digits.max() < noise_err.min(), "some noise image scored as normal"


def test_bad_input():
    model = keras_zoo.build("autoencoder", units=(8,), latent_dim=2)
    images = np.full((2, 28, 28, 1), 255.0, "float32")
    with pytest.raises(ValueError, match=r"expected values in \[0, 1\].*x / 255"):
        reconstruction_errors(model, images)
    with pytest.raises(ValueError, match=r"shape \(N, \*\(28, 28, 1\)\)"):
        reconstruction_errors(model, np.zeros((2, 28, 28), "float32"))
    with pytest.raises(ValueError, match="expected shape=.*28, 28, 1"):
        model(np.zeros((2, 28, 28, 3), "float32"))
    with pytest.raises(ValueError, match="divisible by 4"):
        keras_zoo.build("conv_autoencoder", input_shape=(30, 30, 1))
