"""LSTM encoder-decoders (seq2seq), without and with additive attention.

Sutskever, Vinyals & Le 2014 ("Sequence to sequence learning with neural networks":
the encoder's final state starts the decoder, an end-of-sequence token ends the
output); Bahdanau, Cho & Bengio 2015 (additive attention over the encoder states). The
attention here reads the decoder state after each step and its output, the attentional
vector, is fed into the next step (Luong, Pham & Manning 2015's input feeding), so the
decoder knows where it looked last (`keras_zoo.layers.attention.AttentionLSTMDecoder`).
Lecture: "Neural networks: CNN, RNN, Transformer" (Seq-2-Seq, Seq-2-Seq with attention).

Inputs: source ids (batch, T_in) and decoder input ids (batch, T_out), both int32 and
0-padded (`keras_zoo.decoding.teacher_forcing` makes the latter); output: logits
(batch, T_out, target_vocab). Greedy decoding: `keras_zoo.decoding.greedy_decode`.
"""

import keras
import numpy as np
from keras import layers

from keras_zoo.layers.attention import AttentionLSTMDecoder, PaddingMask
from keras_zoo.layers.checks import InputShapeCheck
from keras_zoo.registry import register_model
from keras_zoo.text import START


def token_input(name, length=None):
    """An int32 `keras.Input` of shape (length,) followed by an `InputShapeCheck`."""
    inputs = keras.Input(shape=(length,), dtype="int32", name=name)
    return inputs, InputShapeCheck((length,), name=f"{name}_check")(inputs)


def random_ids(rng, batch, length, vocab):
    """(batch, length) int32 ids in [1, vocab), each row 0-padded after a random length."""
    ids = rng.integers(1, vocab, size=(batch, length))
    lengths = rng.integers(max(1, length // 2), length + 1, size=batch)
    ids[np.arange(length)[None, :] >= lengths[:, None]] = 0
    return ids.astype("int32")


def translation_example(model, batch, rng, source_length=9, target_length=6):
    """`register_model` example: [source ids, decoder input ids] and targets, padded."""
    source_vocab = model.get_layer("source_embedding").input_dim
    target_vocab = model.get_layer("target_embedding").input_dim
    source = random_ids(rng, batch, source_length, source_vocab)
    target = random_ids(rng, batch, target_length, target_vocab)
    decoder_input = np.concatenate([np.full((batch, 1), START, "int32"), target[:, :-1]], 1)
    return [source, decoder_input], target


def apply_lstm_encoder(source, vocab, embed_dim, units, bidirectional=False, name="encoder"):
    """Embedding (0 = padding, masked) -> LSTM, or a bidirectional LSTM (Bahdanau's BiRNN).

    Returns:
        The encoder states (batch, T_in, units or 2 units) and the final [h, c], each
        (batch, units), or (batch, 2 units): forward and backward concatenated.
    """
    x = layers.Embedding(vocab, embed_dim, mask_zero=True, name="source_embedding")(source)
    lstm = layers.LSTM(units, return_sequences=True, return_state=True, name=name)
    if not bidirectional:
        states, h, c = lstm(x)
        return states, [h, c]
    # Built before wrapping, so that Bidirectional's copies are built outside its name
    # scope, as Keras 3.15 builds them when loading: built and loaded weight paths agree.
    lstm.build(x.shape)
    states, h_forward, c_forward, h_backward, c_backward = layers.Bidirectional(
        lstm, name=f"bi{name}")(x)
    h = layers.Concatenate(name=f"{name}_h")([h_forward, h_backward])
    c = layers.Concatenate(name=f"{name}_c")([c_forward, c_backward])
    return states, [h, c]


def apply_lstm_decoder(decoder_input, state, vocab, embed_dim, units, name="decoder"):
    """Embedding -> LSTM started from the encoder's state: (batch, T_out, units)."""
    x = layers.Embedding(vocab, embed_dim, name="target_embedding")(decoder_input)
    return layers.LSTM(units, return_sequences=True, name=name)(x, initial_state=state)


_ARGS_DOC = """
    Args:
        source_vocab: number of source ids (`CharVocab.size`, specials included).
        target_vocab: number of target ids: the width of the logits.
        embed_dim: character embedding size.
        units: LSTM size of the encoder (each direction); the decoder has as many units
            as the encoder's final state (2 units if bidirectional).
        bidirectional: read the source in both directions.
        source_length, target_length: fixed input lengths, or None for any length.
        name: model name."""


@register_model(smoke={"embed_dim": 8, "units": 16}, example=translation_example)
def seq2seq(source_vocab=64, target_vocab=16, embed_dim=32, units=64, bidirectional=False,
            source_length=None, target_length=None, name="seq2seq"):
    source_in, source = token_input("source", source_length)  # (batch, T_in)
    decoder_in, decoder = token_input("decoder_input", target_length)  # (batch, T_out)
    _, state = apply_lstm_encoder(source, source_vocab, embed_dim, units, bidirectional)
    x = apply_lstm_decoder(decoder, state, target_vocab, embed_dim, state[0].shape[-1])  # (b,T,u)
    logits = layers.Dense(target_vocab, name="logits")(x)  # (batch, T_out, target_vocab)
    return keras.Model([source_in, decoder_in], logits, name=name)


@register_model(smoke={"embed_dim": 8, "units": 16, "attention_units": 8},
                example=translation_example)
def seq2seq_attention(source_vocab=64, target_vocab=16, embed_dim=32, units=64,
                      bidirectional=True, attention_units=32, source_length=None,
                      target_length=None, return_attention=False, name="seq2seq_attention"):
    source_in, source = token_input("source", source_length)  # (batch, T_in)
    decoder_in, decoder = token_input("decoder_input", target_length)  # (batch, T_out)
    states, (h, c) = apply_lstm_encoder(source, source_vocab, embed_dim, units, bidirectional)
    y = layers.Embedding(target_vocab, embed_dim, name="target_embedding")(decoder)  # (b,T,e)
    mask = PaddingMask(name="source_mask")(source)  # (batch, 1, T_in)
    decoder = AttentionLSTMDecoder(h.shape[-1], attention_units, units, name="decoder")
    x, weights = decoder(y, states, h, c, memory_mask=mask)  # (b, T_out, u), (b, T_out, T_in)
    logits = layers.Dense(target_vocab, name="logits")(x)  # (batch, T_out, target_vocab)
    outputs = [logits, weights] if return_attention else logits
    return keras.Model([source_in, decoder_in], outputs, name=name)


seq2seq.__doc__ = (
    "LSTM encoder-decoder: source ids + decoder input ids -> next-character logits.\n"
    + _ARGS_DOC + """

    Returns:
        A functional `keras.Model`: [(batch, T_in), (batch, T_out)] int32 ->
        logits (batch, T_out, target_vocab).
""")
seq2seq_attention.__doc__ = (
    "LSTM encoder-decoder with additive (Bahdanau) attention over the encoder states.\n"
    + _ARGS_DOC + """
        attention_units: hidden size of the additive score.
        units also sets the size of the attentional vector fed back at every step.
        return_attention: also return the attention weights (batch, T_out, T_in), for
            plotting; build a second model with this flag and copy the trained weights
            (`set_weights(trained.get_weights())`: the weights are the same).

    Returns:
        A functional `keras.Model`: [(batch, T_in), (batch, T_out)] int32 ->
        logits (batch, T_out, target_vocab) [, attention weights].
""")
