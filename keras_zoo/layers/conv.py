"""A depthwise convolution that stays fast on JAX's CPU backend.

XLA's CPU depthwise convolution (a grouped convolution with one group per channel) is
slower than a full 3x3 convolution of the same width, and its gradient slower still, so
a training step of a depthwise layer takes far longer on JAX than on TensorFlow or torch.
Written as a sum of kernel_h x kernel_w shifted, scaled copies of the input (the
definition of a depthwise convolution) it is much faster on JAX, while TensorFlow and
torch are faster with their own kernels (benchmarks/RESULTS.md: MobileNetV2 on JAX
before and after). So `DepthwiseConv2D` is
`keras.layers.DepthwiseConv2D`, with the same weights, config and outputs, except that
on JAX with CPU devices it computes by shifted taps (`keras.ops` only).
"""

import keras
from keras import layers, ops


def _same_padding(size, kernel, stride):
    """TensorFlow's "same" padding (before, after) and the output size along one axis."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return (total // 2, total - total // 2), out


def depthwise_by_taps(x, kernel, strides, padding):
    """Depthwise convolution (multiplier 1, channels last) as a sum of shifted copies.

    Args:
        x: (batch, h, w, c).
        kernel: (kh, kw, c, 1), as `keras.layers.DepthwiseConv2D` stores it.
        strides: (sh, sw).
        padding: "same" or "valid".

    Returns:
        (batch, h_out, w_out, c), equal to `ops.depthwise_conv(x, kernel, strides, padding)`.
    """
    (kh, kw), (sh, sw), (h, w) = kernel.shape[:2], strides, x.shape[1:3]
    if padding == "same":
        pad_h, out_h = _same_padding(h, kh, sh)
        pad_w, out_w = _same_padding(w, kw, sw)
        x = ops.pad(x, ((0, 0), pad_h, pad_w, (0, 0)))
    else:
        out_h, out_w = (h - kh) // sh + 1, (w - kw) // sw + 1
    outputs = 0
    for i in range(kh):
        for j in range(kw):  # tap (i, j): every output position reads x[i + s*y, j + s*x]
            window = x[:, i: i + (out_h - 1) * sh + 1: sh, j: j + (out_w - 1) * sw + 1: sw]
            outputs = outputs + window * kernel[i, j, :, 0]
    return outputs


@keras.saving.register_keras_serializable(package="keras_zoo")
class DepthwiseConv2D(layers.DepthwiseConv2D):
    """`keras.layers.DepthwiseConv2D`, computed by shifted taps on JAX's CPU backend.

    Same constructor, weights and config as the Keras layer. The tap form is used when
    the backend is JAX on CPU devices, the depth multiplier and dilation are 1, the data
    are channels last and the spatial size is static; otherwise the Keras kernel runs.
    """

    def _use_taps(self, inputs):
        return (keras.backend.backend() == "jax" and self.depth_multiplier == 1
                and tuple(self.dilation_rate) == (1, 1)
                and self.data_format == "channels_last"
                and None not in tuple(inputs.shape[1:3])
                and all(d.startswith("cpu") for d in keras.distribution.list_devices()))

    def call(self, inputs):
        if not self._use_taps(inputs):
            return super().call(inputs)
        outputs = depthwise_by_taps(inputs, self.kernel, self.strides, self.padding)
        if self.use_bias:
            outputs = outputs + self.bias
        return self.activation(outputs) if self.activation is not None else outputs
