"""The diffusion models' time embedding (the sinusoidal embedding of the step t).

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
