"""A depthwise convolution that stays fast on JAX's CPU backend.

`DepthwiseConv2D` is `keras.layers.DepthwiseConv2D` (same weights, config and outputs),
except that on JAX with CPU devices it computes by shifted taps: XLA's CPU grouped
convolution is slower than that sum (`keras_zoo.workarounds`, "jax_cpu_depthwise").
"""

import keras
from keras import layers

from keras_zoo import workarounds


@keras.saving.register_keras_serializable(package="keras_zoo")
class DepthwiseConv2D(layers.DepthwiseConv2D):
    """`keras.layers.DepthwiseConv2D`, computed by shifted taps on JAX's CPU backend.

    Same constructor, weights and config as the Keras layer. The tap form is used when
    the backend is JAX on CPU devices, the depth multiplier and dilation are 1, the data
    are channels last and the spatial size is static; otherwise the Keras kernel runs.
    """

    def call(self, inputs):
        if not workarounds.use_depthwise_taps(self, inputs):
            return super().call(inputs)
        outputs = workarounds.depthwise_by_taps(inputs, self.kernel, self.strides,
                                                self.padding)
        if self.use_bias:
            outputs = outputs + self.bias
        return self.activation(outputs) if self.activation is not None else outputs
