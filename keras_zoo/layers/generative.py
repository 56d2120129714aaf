"""Pieces the generative models share: the diffusion time embedding and input range checks.

Sinusoidal position/time embedding: Vaswani et al., "Attention is all you need", 2017,
as used for the diffusion step by Ho, Jain & Abbeel, "Denoising diffusion probabilistic
models", NeurIPS 2020.
"""

import math

import keras
import numpy as np
from keras import layers, ops


@keras.saving.register_keras_serializable(package="keras_zoo")
class SinusoidalEmbedding(layers.Layer):
    """Embed a scalar (the diffusion step t) as sines and cosines of geometric frequencies.

    Args:
        dim: embedding size (even): dim / 2 sines then dim / 2 cosines.
        max_period: the slowest wavelength.

    Call: t of shape (batch, 1), float -> (batch, dim).
    """

    def __init__(self, dim, max_period=10_000.0, **kwargs):
        super().__init__(**kwargs)
        if dim % 2:
            raise ValueError(f"SinusoidalEmbedding: dim must be even, got {dim}")
        self.dim, self.max_period = int(dim), float(max_period)

    def call(self, t):
        half = self.dim // 2
        freqs = np.exp(-math.log(self.max_period) * np.arange(half) / half).astype("float32")
        angles = ops.cast(t, "float32") * ops.convert_to_tensor(freqs)[None, :]  # (b, half)
        return ops.concatenate([ops.sin(angles), ops.cos(angles)], axis=-1)  # (b, dim)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.dim)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "max_period": self.max_period}


def check_range(x, low, high, what="images", hint=""):
    """Raise a clear `ValueError` if a concrete array has values outside [low, high].

    Symbolic or traced tensors (inside `fit` on TensorFlow and JAX) cannot be inspected;
    they are skipped here and checked where the data enters (`CheckedImagesMixin`).

    Args:
        x: array or tensor.
        low, high: the allowed range.
        what: what the values are, for the message.
        hint: how to fix it, appended to the message.

    Returns:
        x, unchanged.
    """
    if isinstance(x, keras.KerasTensor):
        return x
    try:
        values = keras.ops.convert_to_numpy(x)
    except Exception:  # noqa: BLE001 - traced / symbolic: nothing to check yet
        return x
    if values.size and (values.min() < low - 1e-5 or values.max() > high + 1e-5):
        raise ValueError(f"{what} must lie in [{low:g}, {high:g}], got values in "
                         f"[{values.min():.3g}, {values.max():.3g}]{'; ' + hint if hint else ''}")
    return x


class CheckedImagesMixin:
    """For a `keras.Model` subclass: check the images given to fit/evaluate/train/test.

    The class sets `image_range = (low, high)` and `range_hint`; the images are the data
    `x` itself or its `"images"` entry when `x` is a dict.
    """

    image_range = (0.0, 1.0)
    range_hint = ""

    def check_images(self, x):
        images = x.get("images") if isinstance(x, dict) else x
        if images is not None and not isinstance(images, (list, tuple)):
            check_range(images, *self.image_range, what=f"{self.name}: images",
                        hint=self.range_hint)
        return x

    def fit(self, x=None, *args, **kwargs):
        return super().fit(self.check_images(x), *args, **kwargs)

    def evaluate(self, x=None, *args, **kwargs):
        return super().evaluate(self.check_images(x), *args, **kwargs)

    def train_on_batch(self, x, *args, **kwargs):
        return super().train_on_batch(self.check_images(x), *args, **kwargs)

    def test_on_batch(self, x, *args, **kwargs):
        return super().test_on_batch(self.check_images(x), *args, **kwargs)
