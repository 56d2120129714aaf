"""Convolution and batch normalization layers with each backend's fast path.

Each is its Keras layer (same constructor, weights, config and outputs) and computes
differently only where `keras_zoo.workarounds` knows a faster way to the same numbers:
- `Conv2D`, `DepthwiseConv2D` on the torch backend: the channels-last input goes to
  PyTorch's kernel as it lies in memory, not copied twice ("torch_conv_input_copies");
- `DepthwiseConv2D` on JAX with CPU devices: a sum of shifted taps, because XLA's CPU
  grouped convolution is slower ("jax_cpu_depthwise");
- `BatchNormalization` on the torch backend: PyTorch's fused kernel instead of ten
  elementwise ops ("torch_unfused_batch_norm").
`keras_zoo.plain_keras` turns them back into Keras' own layers.
"""

import keras
from keras import layers

from keras_zoo import workarounds


@keras.saving.register_keras_serializable(package="keras_zoo")
class Conv2D(layers.Conv2D):
    """`keras.layers.Conv2D`; on the torch backend, without copying its input twice."""

    def call(self, inputs):
        outputs = workarounds.channels_last_conv(self, inputs, self.kernel,
                                                 self.bias if self.use_bias else None)
        if outputs is None:
            return super().call(inputs)
        return self.activation(outputs) if self.activation is not None else outputs


@keras.saving.register_keras_serializable(package="keras_zoo")
class DepthwiseConv2D(layers.DepthwiseConv2D):
    """`keras.layers.DepthwiseConv2D`, by shifted taps on JAX's CPU backend and without
    input copies on the torch backend.

    The tap form is used when the backend is JAX on CPU devices, the depth multiplier and
    dilation are 1, the data are channels last and the spatial size is static; otherwise
    the Keras kernel runs.
    """

    def call(self, inputs):
        bias = self.bias if self.use_bias else None
        if workarounds.use_depthwise_taps(self, inputs):
            outputs = workarounds.depthwise_by_taps(inputs, self.kernel, self.strides,
                                                    self.padding)
            outputs = outputs if bias is None else outputs + bias
        else:
            outputs = workarounds.channels_last_conv(self, inputs, self.kernel, bias,
                                                     depthwise=True)
            if outputs is None:
                return super().call(inputs)
        return self.activation(outputs) if self.activation is not None else outputs


@keras.saving.register_keras_serializable(package="keras_zoo")
class BatchNormalization(layers.BatchNormalization):
    """`keras.layers.BatchNormalization`; on the torch backend, PyTorch's fused kernel."""

    def call(self, inputs, training=None, mask=None):
        outputs = workarounds.fused_batch_norm(self, inputs, training, mask)
        if outputs is None:
            return super().call(inputs, training=training, mask=mask)
        return outputs
