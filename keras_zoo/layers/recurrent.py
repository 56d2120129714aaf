"""LSTM and GRU cells written out from the lecture's equations, for `keras.layers.RNN`.

Lecture 05 "Modern architectures" (LSTM cell, GRU cell) and lecture 03 ("RNN 2.0: Long
short-term memory"): the long-term state c passes the cell touching only a forget gate,
an added gated candidate and an output gate. Hochreiter & Schmidhuber 1997 (LSTM with
the forget gate of Gers et al. 2000); Cho et al. 2014 (GRU).

The weights are packed like Keras' own `LSTMCell`/`GRUCell` (gates side by side in one
kernel), so `LectureLSTMCell` given a `keras.layers.LSTM`'s weights computes the same
numbers (tests/test_rnn_zoo.py checks it on every backend):

    LSTM  kernel (features, 4 units), recurrent_kernel (units, 4 units), bias (4 units),
          gate blocks in the order i, f, g, o (Keras calls g "c").
    GRU   kernel (features, 3 units), recurrent_kernel (units, 3 units), bias (2, 3 units)
          (input bias, recurrent bias), gate blocks z (update), r (reset), candidate;
          Keras' default reset_after=True: the reset gate multiplies U_h h + b after the
          matrix product.
"""

import copy

import keras
from keras import layers, ops

from keras_zoo import workarounds


class _CellBuiltByRNN:
    """Mixin: a reloaded cell is built by its `RNN`, inside the RNN's name scope.

    Keras would build a deserialized cell on its own first (from its "build_config"),
    outside the RNN, and its weights would reload as "lstm_cell/kernel" instead of
    "lstm/lstm_cell/kernel".
    """

    def get_build_config(self):
        return None  # nothing to build from: the RNN builds the cell


def _split(x, parts):
    """Split the last axis into `parts` equal gate blocks."""
    return ops.split(x, parts, axis=-1)


@keras.saving.register_keras_serializable(package="keras_zoo")
class LectureLSTMCell(_CellBuiltByRNN, layers.Layer):
    """One LSTM step, as on the lecture's slide.

        i = sigma(W_xi x + W_hi h + b_i)      input gate
        f = sigma(W_xf x + W_hf h + b_f)      forget gate
        g = tanh(W_xg x + W_hg h + b_g)       candidate (the slide's typo says sigma)
        o = sigma(W_xo x + W_ho h + b_o)      output gate
        c_t = f * c_{t-1} + i * g
        h_t = o * tanh(c_t)                   the output y_t = h_t

    Args:
        units: size of h and c.
        unit_forget_bias: start the forget-gate bias at 1 (Jozefowicz et al. 2015; Keras'
            default), so the cell remembers by default.

    Call: `(x_t, [h, c]) -> (h_t, [h_t, c_t])` with x_t (batch, features).
    """

    def __init__(self, units, unit_forget_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.unit_forget_bias = unit_forget_bias
        self.state_size = [units, units]  # h, c
        self.output_size = units

    def build(self, input_shape):
        features, n = input_shape[-1], self.units
        self.kernel = self.add_weight(shape=(features, 4 * n), name="kernel",
                                      initializer="glorot_uniform")
        self.recurrent_kernel = self.add_weight(shape=(n, 4 * n), name="recurrent_kernel",
                                                initializer="orthogonal")

        def bias_init(shape, dtype=None):
            forget = ops.ones((n,)) if self.unit_forget_bias else ops.zeros((n,))
            return ops.cast(ops.concatenate([ops.zeros((n,)), forget, ops.zeros((2 * n,))]),
                            dtype or "float32")

        self.bias = self.add_weight(shape=(4 * n,), name="bias", initializer=bias_init)

    def call(self, inputs, states, training=None):
        h, c = states[0], states[1]  # (batch, units) each
        z = ops.matmul(inputs, self.kernel) + ops.matmul(h, self.recurrent_kernel) + self.bias
        z_i, z_f, z_g, z_o = _split(z, 4)  # (batch, units) each
        i, f, o = ops.sigmoid(z_i), ops.sigmoid(z_f), ops.sigmoid(z_o)
        g = ops.tanh(z_g)
        c = f * c + i * g
        h = o * ops.tanh(c)
        return h, [h, c]

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "unit_forget_bias": self.unit_forget_bias}


@keras.saving.register_keras_serializable(package="keras_zoo")
class LectureGRUCell(_CellBuiltByRNN, layers.Layer):
    """One GRU step (Cho et al. 2014), in Keras' `reset_after=True` convention.

        z = sigma(W_xz x + b_z + U_hz h + b'_z)          update gate
        r = sigma(W_xr x + b_r + U_hr h + b'_r)          reset gate
        n = tanh(W_xn x + b_n + r * (U_hn h + b'_n))     candidate
        h_t = z * h_{t-1} + (1 - z) * n                  keep (z) or overwrite (1 - z)

    "You can only overwrite, not forget outright": one gate z decides both how much of
    the old state stays and how much of the candidate comes in.

    Args:
        units: size of h.

    Call: `(x_t, [h]) -> (h_t, [h_t])` with x_t (batch, features).
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units
        self.output_size = units

    def build(self, input_shape):
        features, n = input_shape[-1], self.units
        self.kernel = self.add_weight(shape=(features, 3 * n), name="kernel",
                                      initializer="glorot_uniform")
        self.recurrent_kernel = self.add_weight(shape=(n, 3 * n), name="recurrent_kernel",
                                                initializer="orthogonal")
        self.bias = self.add_weight(shape=(2, 3 * n), name="bias", initializer="zeros")

    def call(self, inputs, states, training=None):
        h = states[0] if isinstance(states, (list, tuple)) else states  # (batch, units)
        x_z, x_r, x_n = _split(ops.matmul(inputs, self.kernel) + self.bias[0], 3)
        h_z, h_r, h_n = _split(ops.matmul(h, self.recurrent_kernel) + self.bias[1], 3)
        z = ops.sigmoid(x_z + h_z)
        r = ops.sigmoid(x_r + h_r)
        n = ops.tanh(x_n + r * h_n)
        h = z * h + (1.0 - z) * n
        return h, [h]

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package="keras_zoo")
class BidirectionalRNN(layers.Bidirectional):
    """`keras.layers.Bidirectional` whose weights keep their paths when reloaded.

    Same layer, same arguments; on loading, Keras 3.15 builds the wrapped forward and
    backward layers before the wrapper, outside its name scope, so
    "bilstm/forward_lstm/lstm_cell/kernel" came back as "forward_lstm/lstm_cell/kernel".
    Here the wrapper builds them, as it does when first called.
    """

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = copy.deepcopy(config)
        for key in ("layer", "backward_layer"):
            if isinstance(config.get(key), dict):
                config[key].pop("build_config", None)
        return super().from_config(config, custom_objects=custom_objects)


class _FusedOnTorch:
    """Mixin for `LSTM` / `GRU`: the whole recurrence by PyTorch's fused kernel where
    `keras_zoo.workarounds.fused_recurrence` applies, else Keras' own path; the config
    also keeps `use_cudnn` (Keras leaves it out; False turns the fusion off too)."""

    def inner_loop(self, sequences, initial_state, mask, training=False):
        fused = workarounds.fused_recurrence(self, sequences, initial_state, mask, training)
        if fused is not None:
            return fused
        return super().inner_loop(sequences, initial_state, mask, training=training)

    def get_config(self):
        return {**super().get_config(), "use_cudnn": self.use_cudnn}


@keras.saving.register_keras_serializable(package="keras_zoo")
class LSTM(_FusedOnTorch, layers.LSTM):
    """`keras.layers.LSTM`, run by PyTorch's fused kernel on the torch backend's CPU.

    Same arguments, weights and numbers as `keras.layers.LSTM` on every backend, and its
    config plus `use_cudnn` (a file saved on one backend loads on the others, and
    `keras_zoo.plain_keras` names `keras.layers.LSTM`); on the torch backend on CPU the
    recurrence is one `torch._VF.lstm` call, as `nn.LSTM` runs it, instead of Keras'
    Python loop over the steps (`keras_zoo.workarounds.fused_recurrence`: where it
    applies, and where Keras' own path runs instead).
    """


@keras.saving.register_keras_serializable(package="keras_zoo")
class GRU(_FusedOnTorch, layers.GRU):
    """`keras.layers.GRU`, run by PyTorch's fused kernel on the torch backend's CPU.

    As `LSTM` above, with `torch._VF.gru` (`reset_after=True`, Keras' default, is
    PyTorch's form of the GRU).
    """


LECTURE_CELLS = {"lstm": LectureLSTMCell, "gru": LectureGRUCell}
