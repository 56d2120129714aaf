"""Radial basis functions: a Gaussian RBF layer with learnable centres and widths.

Lecture: "Modern architectures" ("Radial basis function networks - Perceptron algorithms
tweaked to find cluster centers"). Broomhead & Lowe, "Multivariable functional
interpolation and adaptive networks", Complex Systems 1988; Moody & Darken, "Fast
learning in networks of locally-tuned processing units", Neural Computation 1989.
"""

import keras
import numpy as np
from keras import layers, ops


@keras.saving.register_keras_serializable(package="keras_zoo")
class GaussianRBF(layers.Layer):
    """Gaussian radial basis units: phi_j(x) = exp(-||x - c_j||^2 / (2 sigma_j^2)).

    Centres c_j (units, features) and log-widths log(sigma_j) (units,) are trainable
    weights; an RBF network is this layer followed by a linear `Dense` layer. A common
    start (Moody & Darken) puts the centres on k-means cluster centres of the data:
    `layer.centers.assign(kmeans_centres)`.

    Args:
        units: number of basis functions.
        width: initial width sigma of every unit.
        centers_initializer: initializer of the centres (default uniform in [0, 1), where
            keras_zoo's inputs live).

    Call:
        inputs (batch, features) -> activations (batch, units), each in (0, 1].
    """

    def __init__(self, units, width=1.0, centers_initializer="uniform", **kwargs):
        super().__init__(**kwargs)
        if units < 1 or width <= 0:
            raise ValueError(f"GaussianRBF: units must be >= 1 and width > 0, "
                             f"got units={units}, width={width}")
        self.units = int(units)
        self.width = float(width)
        self.centers_initializer = keras.initializers.get(
            keras.initializers.RandomUniform(0.0, 1.0)
            if centers_initializer == "uniform" else centers_initializer)
        self.input_spec = layers.InputSpec(min_ndim=2)

    def build(self, input_shape):
        features = input_shape[-1]
        self.input_spec = layers.InputSpec(min_ndim=2, axes={-1: features})
        self.centers = self.add_weight(shape=(self.units, features), name="centers",
                                       initializer=self.centers_initializer)
        self.log_widths = self.add_weight(
            shape=(self.units,), name="log_widths",
            initializer=keras.initializers.Constant(float(np.log(self.width))))

    def squared_distances(self, inputs):
        """||x - c_j||^2 as (batch, units), via ||x||^2 - 2 x.c + ||c||^2 (clipped at 0)."""
        x_sq = ops.sum(ops.square(inputs), axis=-1, keepdims=True)  # (b, 1)
        c_sq = ops.sum(ops.square(self.centers), axis=-1)  # (units,)
        cross = ops.matmul(inputs, ops.transpose(self.centers))  # (b, units)
        return ops.maximum(x_sq - 2.0 * cross + c_sq, 0.0)

    def call(self, inputs):
        inv_two_var = 0.5 * ops.exp(-2.0 * self.log_widths)  # 1 / (2 sigma^2), (units,)
        return ops.exp(-self.squared_distances(inputs) * inv_two_var)  # (b, units)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "width": self.width,
                "centers_initializer": keras.initializers.serialize(self.centers_initializer)}
