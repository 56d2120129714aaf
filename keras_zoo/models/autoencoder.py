"""Autoencoders: the lecture notebook's dense autoencoder and a convolutional one.

Lectures: "Neural network zoo" and "Deep learning architectures" (autoencoders: an
encoder compresses to a latent code, a decoder reconstructs; uses: efficient encoding,
image denoising, generative modelling, anomaly detection) and the companion notebook
neural-network-zoo_AEs.ipynb (784 -> 400 -> 200 -> 100 -> 50 -> 25 -> 6 with a linear
bottleneck, mirrored decoder, sigmoid output, MSE). Denoising: Vincent, Larochelle,
Bengio & Manzagol, "Extracting and composing robust features with denoising
autoencoders", ICML 2008.

Each model is `decoder(encoder(x))` with the two halves as nested functional models
(`model.get_layer("encoder")`, `model.get_layer("decoder")`). With `noise_stddev > 0`
a `GaussianNoise` layer corrupts the input during training only: fitting (x, x) then
trains a denoising autoencoder, and at inference the clean input passes unchanged.
"""

import keras
import numpy as np
from keras import layers

from keras_zoo.layers import checked_input
from keras_zoo.layers.checks import check_values
from keras_zoo.layers.conv import Conv2D
from keras_zoo.models.base import ZooModel
from keras_zoo.registry import register_model


def apply_dense_stack(x, units, activation="relu", name="dense"):
    """Dense layers of the given widths, each followed by `activation`."""
    for i, width in enumerate(units):
        x = layers.Dense(width, activation=activation, name=f"{name}{i + 1}")(x)
    return x


def apply_corruption(x, noise_stddev, name):
    """Additive Gaussian noise at training time only (identity when `noise_stddev` is 0)."""
    if noise_stddev > 0:
        x = layers.GaussianNoise(noise_stddev, name=f"{name}_noise")(x)
    return x


def _ink_example(model, batch, rng):
    """MNIST-like batches: about 80% dark background, the rest ink of random intensity."""
    shape = (batch, *model.inputs[0].shape[1:])
    ink = rng.uniform(size=shape) < 0.2
    x = np.where(ink, rng.uniform(size=shape), 0.0).astype("float32")
    return x, x  # target = input


def _assemble(inputs, x, encoder, decoder, name):
    latent = encoder(x)
    return ZooModel(inputs, decoder(latent), name=name)


@register_model(task="reconstruction", family="generative", example=_ink_example,
                smoke={"units": (32, 16), "latent_dim": 4})
def autoencoder(input_shape=(28, 28, 1), units=(400, 200, 100, 50, 25), latent_dim=6,
                activation="relu", noise_stddev=0.0, name="autoencoder"):
    """The notebook's dense autoencoder: 784-400-200-100-50-25-6 (linear), mirrored, sigmoid.

    Args:
        input_shape: image shape; pixels in [0, 1].
        units: encoder widths before the bottleneck; the decoder mirrors them.
        latent_dim: width of the linear bottleneck.
        activation: hidden activation.
        noise_stddev: > 0 makes a denoising autoencoder (Gaussian noise while training).
        name: model name.

    Returns:
        A functional `keras.Model` (batch, *input_shape) -> same shape in (0, 1), made of
        the nested models "encoder" (-> (batch, latent_dim)) and "decoder".
    """
    size = int(np.prod(input_shape))
    enc_in = keras.Input(shape=tuple(input_shape), name="image")
    h = layers.Flatten(name="flatten")(enc_in)  # (b, 784)
    h = apply_dense_stack(h, units, activation, name="enc")  # (b, 25)
    latent = layers.Dense(latent_dim, name="latent")(h)  # (b, 6), linear
    encoder = keras.Model(enc_in, latent, name="encoder")

    dec_in = keras.Input(shape=(latent_dim,), name="code")
    h = apply_dense_stack(dec_in, tuple(reversed(units)), activation, name="dec")  # (b, 400)
    h = layers.Dense(size, activation="sigmoid", dtype="float32", name="pixels")(h)  # (b, 784)
    h = layers.Reshape(tuple(input_shape), dtype="float32", name="unflatten")(h)
    decoder = keras.Model(dec_in, h, name="decoder")

    inputs, x = checked_input(input_shape, name="image")
    return _assemble(inputs, apply_corruption(x, noise_stddev, name), encoder, decoder, name)


@register_model(task="reconstruction", family="generative", example=_ink_example,
                smoke={"filters": (4, 8), "latent_dim": 4})
def conv_autoencoder(input_shape=(28, 28, 1), filters=(32, 64), latent_dim=16,
                     noise_stddev=0.0, name="conv_autoencoder"):
    """Convolutional autoencoder: strided 3x3 convs -> dense latent -> transposed convs.

    28x28x1 -> 14x14x32 -> 7x7x64 -> latent 16 -> 7x7x64 -> 14x14x32 -> 28x28x1 sigmoid.

    Args:
        input_shape: (height, width, channels), height and width divisible by
            2 ** len(filters); pixels in [0, 1].
        filters: feature maps of the stride-2 convolutions (the decoder mirrors them).
        latent_dim: width of the linear bottleneck.
        noise_stddev: > 0 makes a denoising autoencoder (Gaussian noise while training).
        name: model name.

    Returns:
        A functional `keras.Model` (batch, *input_shape) -> same shape in (0, 1), made of
        the nested models "encoder" and "decoder".
    """
    height, width, channels = input_shape
    factor = 2 ** len(filters)
    if height % factor or width % factor:
        raise ValueError(f"conv_autoencoder: input height and width must be divisible by "
                         f"{factor} for {len(filters)} stride-2 layers, got {input_shape}")
    enc_in = keras.Input(shape=tuple(input_shape), name="image")
    h = enc_in
    for i, f in enumerate(filters):  # halves the size each time
        h = Conv2D(f, 3, strides=2, padding="same", activation="relu",
                   name=f"enc_conv{i + 1}")(h)
    small = (height // factor, width // factor, filters[-1])  # (7, 7, 64)
    h = layers.Flatten(name="flatten")(h)
    encoder = keras.Model(enc_in, layers.Dense(latent_dim, name="latent")(h), name="encoder")

    dec_in = keras.Input(shape=(latent_dim,), name="code")
    h = layers.Dense(int(np.prod(small)), activation="relu", name="dec_dense")(dec_in)
    h = layers.Reshape(small, name="unflatten")(h)  # (b, 7, 7, 64)
    for i, f in enumerate(reversed(filters[:-1])):
        h = layers.Conv2DTranspose(f, 3, strides=2, padding="same", activation="relu",
                                   name=f"dec_deconv{i + 1}")(h)
    h = layers.Conv2DTranspose(channels, 3, strides=2, padding="same", activation="sigmoid",
                               dtype="float32", name="pixels")(h)  # (b, 28, 28, 1)
    decoder = keras.Model(dec_in, h, name="decoder")

    inputs, x = checked_input(input_shape, name="image")
    return _assemble(inputs, apply_corruption(x, noise_stddev, name), encoder, decoder, name)


def reconstruction_errors(model, images, batch_size=256):
    """Mean squared reconstruction error per image: the anomaly score.

    Args:
        model: an autoencoder from this module.
        images: (N, *input_shape) with pixels in [0, 1].
        batch_size: prediction batch size.

    Returns:
        (N,) float array.
    """
    images = np.asarray(images, dtype="float32")
    expected = tuple(model.inputs[0].shape[1:])
    if images.shape[1:] != expected:
        raise ValueError(f"reconstruction_errors: expected images of shape (N, *{expected}), "
                         f"got {images.shape}")
    check_values(images, "unit", "reconstruction_errors", "scale pixels to [0, 1] (x / 255)")
    recon = model.predict(images, batch_size=batch_size, verbose=0)
    return np.mean((recon - images) ** 2, axis=tuple(range(1, images.ndim)))
