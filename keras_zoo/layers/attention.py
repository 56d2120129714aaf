"""Attention layers: additive (Bahdanau) attention, masks, positions, ViT patches.

Bahdanau, Cho & Bengio 2015 ("Neural machine translation by jointly learning to align
and translate": additive score v^T tanh(W_q s + W_k h_j), softmax over the source);
Vaswani et al. 2017 ("Attention is all you need": sinusoidal positions, padding and
causal masks); Dosovitskiy et al. 2021 (ViT: 16x16 patches as words, a class token,
learned positions). The lecture "Neural networks: CNN, RNN, Transformer" shows all three.

None of these layers holds a non-trainable constant as a weight: the sinusoidal table
is computed from the positions inside `call`, so it survives any weight overwrite.
"""

import math

import keras
from keras import layers, ops


@keras.saving.register_keras_serializable(package="keras_zoo")
class PaddingMask(layers.Layer):
    """Token ids -> boolean mask, True where the id is not padding.

    Args:
        pad_id: the padding id (0 in `keras_zoo.datasets.text.CharVocab`).
        expand: True: shape (batch, 1, time), the key mask that `MultiHeadAttention`'s
            `attention_mask` and `BahdanauAttention` broadcast over the queries;
            False: shape (batch, time), e.g. for `GlobalAveragePooling1D(mask=...)`.
    """

    def __init__(self, pad_id=0, expand=True, **kwargs):
        super().__init__(**kwargs)
        self.pad_id = int(pad_id)
        self.expand = bool(expand)

    def call(self, ids):
        mask = ops.not_equal(ids, self.pad_id)  # (batch, time)
        return ops.expand_dims(mask, 1) if self.expand else mask

    def get_config(self):
        return {**super().get_config(), "pad_id": self.pad_id, "expand": self.expand}


@keras.saving.register_keras_serializable(package="keras_zoo")
class BahdanauAttention(layers.Layer):
    """Additive attention: score(q, k_j) = v^T tanh(W_q q + W_k k_j + b), softmax over j.

    Called as `context, weights = attention(query, value, value_mask=mask)` with query
    (batch, T_q, d_q) (the decoder states), value (batch, T_v, d_v) (the encoder states)
    and an optional boolean mask broadcastable to (batch, T_q, T_v), e.g. `PaddingMask`'s
    (batch, 1, T_v). Returns the context (batch, T_q, d_v) = weights @ value and the
    attention weights (batch, T_q, T_v), which sum to 1 over T_v (masked positions get 0).

    Args:
        units: size of the hidden layer of the score (the alignment model).
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)

    def build(self, query_shape, value_shape):
        self.query_kernel = self.add_weight(
            name="query_kernel", shape=(query_shape[-1], self.units),
            initializer="glorot_uniform")
        self.value_kernel = self.add_weight(
            name="value_kernel", shape=(value_shape[-1], self.units),
            initializer="glorot_uniform")
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros")
        self.score_kernel = self.add_weight(
            name="score_kernel", shape=(self.units, 1), initializer="glorot_uniform")

    def call(self, query, value, value_mask=None):
        q = ops.matmul(query, self.query_kernel)  # (batch, T_q, units)
        k = ops.matmul(value, self.value_kernel)  # (batch, T_v, units)
        hidden = ops.tanh(q[:, :, None, :] + k[:, None, :, :] + self.bias)  # (b, T_q, T_v, u)
        scores = ops.squeeze(ops.matmul(hidden, self.score_kernel), -1)  # (b, T_q, T_v)
        if value_mask is not None:
            scores = ops.where(ops.cast(value_mask, "bool"), scores, -1e9)
        weights = ops.softmax(scores, axis=-1)  # (batch, T_q, T_v)
        return ops.matmul(weights, value), weights  # (batch, T_q, d_v), (batch, T_q, T_v)

    def compute_output_shape(self, query_shape, value_shape):
        batch, t_q, t_v = query_shape[0], query_shape[1], value_shape[1]
        return (batch, t_q, value_shape[-1]), (batch, t_q, t_v)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def sinusoidal_table(length, dim):
    """The sinusoidal encoding as a (length, dim) float32 tensor, built with `keras.ops`.

    PE[p, 2i] = sin(p / 10000^(2i / dim)) and PE[p, 2i + 1] = cos(p / 10000^(2i / dim)).
    """
    positions = ops.cast(ops.arange(length), "float32")[:, None]  # (length, 1)
    dims = ops.arange(dim)
    rates = ops.exp(ops.cast(2 * (dims // 2), "float32") * (-math.log(10000.0) / dim))
    angles = positions * rates[None, :]  # (length, dim)
    return ops.where(dims % 2 == 0, ops.sin(angles), ops.cos(angles))


@keras.saving.register_keras_serializable(package="keras_zoo")
class SinusoidalPositionEncoding(layers.Layer):
    """Adds the Transformer's sinusoidal position encoding to (batch, time, dim) inputs.

    Args:
        max_length: the longest sequence the model accepts; longer inputs raise
            `ValueError` (whenever the length is known at trace time: always on JAX and
            PyTorch).
        scale: multiply the inputs by sqrt(dim) first, as the paper does with its
            embeddings (section 3.4).
    """

    def __init__(self, max_length, scale=True, **kwargs):
        super().__init__(**kwargs)
        self.max_length = int(max_length)
        self.scale = bool(scale)
        self.supports_masking = True

    def call(self, x):
        length, dim = ops.shape(x)[1], x.shape[-1]
        if isinstance(length, int) and length > self.max_length:
            raise ValueError(
                f"{self.name}: the input has {length} positions, more than the model's "
                f"maximum length {self.max_length}")
        if self.scale:
            x = x * math.sqrt(dim)
        return x + ops.cast(sinusoidal_table(length, dim), x.dtype)[None]

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "max_length": self.max_length, "scale": self.scale}


@keras.saving.register_keras_serializable(package="keras_zoo")
class PatchEmbedding(layers.Layer):
    """Cuts images into non-overlapping patches and projects each to `dim` (ViT's words).

    A strided convolution with kernel = stride = `patch_size` is exactly a linear map of
    each flattened patch. (batch, H, W, C) -> (batch, (H / p) * (W / p), dim), patches in
    row-major order.

    Args:
        patch_size: side of the square patches; must divide the image height and width.
        dim: embedding size of each patch.
    """

    def __init__(self, patch_size, dim, **kwargs):
        super().__init__(**kwargs)
        self.patch_size = int(patch_size)
        self.dim = int(dim)

    def build(self, input_shape):
        height, width, channels = input_shape[1:]
        p = self.patch_size
        if height % p or width % p:
            raise ValueError(f"{self.name}: patch size {p} does not divide the image size "
                             f"{height}x{width}")
        self.kernel = self.add_weight(name="kernel", shape=(p, p, channels, self.dim),
                                      initializer="glorot_uniform")
        self.bias = self.add_weight(name="bias", shape=(self.dim,), initializer="zeros")

    def call(self, images):
        p = self.patch_size
        x = ops.conv(images, self.kernel, strides=p, padding="valid") + self.bias  # (b,h,w,d)
        return ops.reshape(x, (-1, x.shape[1] * x.shape[2], self.dim))  # (batch, patches, d)

    def compute_output_shape(self, input_shape):
        p = self.patch_size
        return (input_shape[0], (input_shape[1] // p) * (input_shape[2] // p), self.dim)

    def get_config(self):
        return {**super().get_config(), "patch_size": self.patch_size, "dim": self.dim}


@keras.saving.register_keras_serializable(package="keras_zoo")
class ClassToken(layers.Layer):
    """Prepends one learned token to a sequence: (batch, T, d) -> (batch, T + 1, d) (ViT)."""

    def build(self, input_shape):
        self.token = self.add_weight(name="token", shape=(1, 1, input_shape[-1]),
                                     initializer="zeros")

    def call(self, x):
        token = ops.broadcast_to(ops.cast(self.token, x.dtype), (ops.shape(x)[0], 1, x.shape[-1]))
        return ops.concatenate([token, x], axis=1)

    def compute_output_shape(self, input_shape):
        length = None if input_shape[1] is None else input_shape[1] + 1
        return (input_shape[0], length, input_shape[2])


@keras.saving.register_keras_serializable(package="keras_zoo")
class PositionEmbedding(layers.Layer):
    """Adds a learned embedding per position to (batch, length, d) inputs (ViT, BERT).

    Args:
        length: the (fixed) sequence length.
    """

    def __init__(self, length, **kwargs):
        super().__init__(**kwargs)
        self.length = int(length)

    def build(self, input_shape):
        if input_shape[1] != self.length:
            raise ValueError(f"{self.name}: expected {self.length} positions, got "
                             f"{input_shape[1]}")
        self.embedding = self.add_weight(name="embedding", shape=(self.length, input_shape[-1]),
                                         initializer=keras.initializers.RandomNormal(stddev=0.02))

    def call(self, x):
        return x + ops.cast(self.embedding, x.dtype)[None]

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "length": self.length}


@keras.saving.register_keras_serializable(package="keras_zoo")
class AttentionLSTMDecoder(layers.Layer):
    """An LSTM decoder with additive attention inside the loop and input feeding.

    Step t (Luong, Pham & Manning 2015, section 3.3, with Bahdanau's additive score):

        h_t, c_t   = LSTMCell([y_{t-1}; a_{t-1}], (h_{t-1}, c_{t-1}))
        ctx_t, w_t = BahdanauAttention(h_t, encoder states)
        a_t        = tanh(W [h_t; ctx_t])      the "attentional vector", fed to step t+1

    Feeding a_{t-1} back tells the decoder what it attended to last, e.g. which digit of
    "2013/05/14" it has copied; attention read after a plain LSTM decoder cannot know.
    Called as `outputs, weights = decoder(inputs, memory, h0, c0, memory_mask=mask)`
    with the embedded decoder inputs (batch, T_out, d), the encoder states memory
    (batch, T_in, d_m), the initial state h0, c0 (batch, units) and an optional boolean
    mask (batch, 1, T_in) (`PaddingMask`). Returns the attentional vectors
    (batch, T_out, attentional_units) and the weights (batch, T_out, T_in).

    Args:
        units: LSTM size.
        attention_units: hidden size of the additive score.
        attentional_units: size of a_t (the input of the output layer).
    """

    def __init__(self, units, attention_units, attentional_units, **kwargs):
        super().__init__(**kwargs)
        self.units, self.attention_units = int(units), int(attention_units)
        self.attentional_units = int(attentional_units)
        self.cell = layers.LSTMCell(self.units, name="cell")
        self.attention = BahdanauAttention(self.attention_units, name="attention")
        self.attentional = layers.Dense(self.attentional_units, activation="tanh",
                                        name="attentional")

    def build(self, inputs_shape, memory_shape):
        self.cell.build((None, inputs_shape[-1] + self.attentional_units))
        self.attention.build((None, 1, self.units), memory_shape)
        self.attentional.build((None, self.units + memory_shape[-1]))

    def call(self, inputs, memory, h0, c0, memory_mask=None):
        batch = ops.shape(inputs)[0]
        a0 = ops.zeros((batch, self.attentional_units), dtype=inputs.dtype)
        w0 = ops.zeros_like(memory[:, :, 0])  # (batch, T_in)

        def step(carry, x):  # x: (batch, d), the embedded previous character
            h, c, a, _ = carry
            h, (h, c) = self.cell(ops.concatenate([x, a], axis=-1), [h, c])  # (batch, units)
            context, w = self.attention(h[:, None, :], memory, value_mask=memory_mask)
            a = self.attentional(ops.concatenate([h, context[:, 0]], axis=-1))
            new = (h, c, a, w[:, 0])
            return new, new  # TF's scan needs the outputs shaped like the carry

        _, (_, _, a, w) = ops.scan(step, (h0, c0, a0, w0), ops.transpose(inputs, (1, 0, 2)))
        return ops.transpose(a, (1, 0, 2)), ops.transpose(w, (1, 0, 2))  # (b, T_out, ·) each

    def compute_output_shape(self, inputs_shape, memory_shape, h0_shape=None, c0_shape=None):
        batch, t_out = inputs_shape[0], inputs_shape[1]
        return (batch, t_out, self.attentional_units), (batch, t_out, memory_shape[1])

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "attention_units": self.attention_units,
                "attentional_units": self.attentional_units}
