"""LSTM encoder-decoders (seq2seq), without and with additive attention.

Sutskever, Vinyals & Le 2014 ("Sequence to sequence learning with neural networks":
the encoder's final state starts the decoder, an end-of-sequence token ends the
output); Bahdanau, Cho & Bengio 2015 (additive attention over the encoder states). The
attention here reads the decoder state after each step and its output, the attentional
vector, is fed into the next step (Luong, Pham & Manning 2015's input feeding), so the
decoder knows where it looked last (`keras_zoo.layers.attention.AttentionLSTMDecoder`).
Lecture: "Neural networks: CNN, RNN, Transformer" (Seq-2-Seq, Seq-2-Seq with attention).

Inputs: source ids (batch, T_in) and decoder input ids (batch, T_out), both int32 and
0-padded (`keras_zoo.models.seq2seq.teacher_forcing` makes the latter); output: logits
(batch, T_out, target_vocab). Greedy decoding: `keras_zoo.models.seq2seq.greedy_decode`.
"""

import numpy as np
from keras import layers

from keras_zoo.datasets.text import END, PAD, START
from keras_zoo.layers.attention import AttentionLSTMDecoder, PaddingMask
from keras_zoo.layers.checks import checked_token_input
from keras_zoo.layers.recurrent import LSTM
from keras_zoo.models.base import ZooModel
from keras_zoo.registry import register_model


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
    lstm = LSTM(units, return_sequences=True, return_state=True, name=name)
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
    return LSTM(units, return_sequences=True, name=name)(x, initial_state=state)


@register_model(smoke={"embed_dim": 8, "units": 16}, example=translation_example)
def seq2seq(source_vocab=64, target_vocab=16, embed_dim=32, units=64, bidirectional=False,
            source_length=None, target_length=None, name="seq2seq"):
    """LSTM encoder-decoder: source ids + decoder input ids -> next-character logits.

    Args:
        source_vocab: number of source ids (`CharVocab.size`, specials included).
        target_vocab: number of target ids: the width of the logits.
        embed_dim: character embedding size.
        units: LSTM size of the encoder (each direction); the decoder has as many units
            as the encoder's final state (2 units if bidirectional).
        bidirectional: read the source in both directions.
        source_length, target_length: fixed input lengths, or None for any length.
        name: model name.

    Returns:
        A functional `keras.Model`: [(batch, T_in), (batch, T_out)] int32 ->
        logits (batch, T_out, target_vocab).
    """
    source_in, source = checked_token_input(source_length, "source")  # (batch, T_in)
    decoder_in, decoder = checked_token_input(target_length, "decoder_input")  # (batch, T_out)
    _, state = apply_lstm_encoder(source, source_vocab, embed_dim, units, bidirectional)
    x = apply_lstm_decoder(decoder, state, target_vocab, embed_dim, state[0].shape[-1])  # (b,T,u)
    logits = layers.Dense(target_vocab, dtype="float32", name="logits")(x)  # (b, T_out, vocab)
    return ZooModel([source_in, decoder_in], logits, name=name)


@register_model(smoke={"embed_dim": 8, "units": 16, "attention_units": 8},
                example=translation_example)
def seq2seq_attention(source_vocab=64, target_vocab=16, embed_dim=32, units=64,
                      bidirectional=True, attention_units=32, source_length=None,
                      target_length=None, return_attention=False, name="seq2seq_attention"):
    """LSTM encoder-decoder with additive (Bahdanau) attention over the encoder states.

    Args: those of `seq2seq` (`bidirectional` defaults to True here; `units` also sets the
    size of the attentional vector fed back at every step), plus
        attention_units: hidden size of the additive score.
        return_attention: also return the attention weights (batch, T_out, T_in), for
            plotting; build a second model with this flag and copy the trained weights
            (`set_weights(trained.get_weights())`: the weights are the same).

    Returns:
        A functional `keras.Model`: [(batch, T_in), (batch, T_out)] int32 ->
        logits (batch, T_out, target_vocab) [, attention weights].
    """
    source_in, source = checked_token_input(source_length, "source")  # (batch, T_in)
    decoder_in, decoder = checked_token_input(target_length, "decoder_input")  # (batch, T_out)
    states, (h, c) = apply_lstm_encoder(source, source_vocab, embed_dim, units, bidirectional)
    y = layers.Embedding(target_vocab, embed_dim, name="target_embedding")(decoder)  # (b,T,e)
    mask = PaddingMask(name="source_mask")(source)  # (batch, 1, T_in)
    decoder = AttentionLSTMDecoder(h.shape[-1], attention_units, units, name="decoder")
    x, weights = decoder(y, states, h, c, memory_mask=mask)  # (b, T_out, u), (b, T_out, T_in)
    logits = layers.Dense(target_vocab, dtype="float32", name="logits")(x)  # (b, T_out, vocab)
    outputs = [logits, weights] if return_attention else logits
    return ZooModel([source_in, decoder_in], outputs, name=name)



# --------------------------------------------- teacher forcing and greedy decoding
#
# Training feeds the decoder the true previous character (teacher forcing):
#
#     decoder input   <start> 2 0 0 9 - 0 6 - 2 5        target   2 0 0 9 - 0 6 - 2 5 <end>
#
# At inference the decoder is fed its own previous prediction, one step at a time, until
# it writes the end token (Sutskever et al. 2014). `greedy_decode` keeps every array at a
# fixed size (the source padded to `source_length`, the decoder input to `max_length`), so
# the model's predict function is traced and compiled once, not once per output length:
# step t runs the whole padded decoder input and reads position t. The decoders are
# causal, so the zeros after position t cannot change it.


def teacher_forcing(vocab, texts, length):
    """Decoder inputs and targets for texts: (N, length) int32 each.

    Args:
        vocab: a `CharVocab`.
        texts: the target strings.
        length: the decoder length; a text needs len(text) + 1 <= length (`ValueError`
            otherwise).

    Returns:
        (decoder_input, target): <start> + text padded with 0, and text + <end> padded.
    """
    target = vocab.encode_batch(texts, length, end=True)
    decoder_input = np.zeros_like(target)
    decoder_input[:, 0] = START
    decoder_input[:, 1:] = np.where(target[:, :-1] == END, PAD, target[:, :-1])
    return decoder_input, target


def greedy_decode(model, source_ids, max_length, start_id=START, end_id=END):
    """Greedy decoding: feed back the most likely token until every row has ended.

    Args:
        model: an encoder-decoder taking [source ids, decoder input ids] and returning
            logits (batch, max_length, vocab) first (further outputs are ignored).
        source_ids: (batch, source_length) int ids, 0-padded.
        max_length: decoder length (the model's output length); decoding stops at the
            end token or after this many tokens.
        start_id, end_id: the start and end tokens.

    Returns:
        (batch, max_length) int32: the predicted tokens up to and including the end
        token, 0 after it (and 0 everywhere after `max_length` if no end came).
    """
    source_ids = np.asarray(source_ids, dtype="int32")
    batch = len(source_ids)
    decoder_input = np.zeros((batch, max_length), dtype="int32")
    decoder_input[:, 0] = start_id
    output = np.zeros((batch, max_length), dtype="int32")
    done = np.zeros(batch, dtype=bool)
    for t in range(max_length):
        logits = model.predict_on_batch([source_ids, decoder_input])
        if isinstance(logits, (list, tuple)):
            logits = logits[0]
        token = np.argmax(np.asarray(logits)[:, t], axis=-1).astype("int32")  # (batch,)
        token = np.where(done, PAD, token)
        output[:, t] = token
        done |= token == end_id
        if done.all():
            break
        if t + 1 < max_length:  # as in `teacher_forcing`, <end> is never fed back
            decoder_input[:, t + 1] = np.where(done, PAD, token)
    return output


def translate(model, texts, source_vocab, target_vocab, source_length, max_length,
              batch_size=512):
    """Greedy translations of `texts` (strings -> strings).

    Unknown characters and texts longer than `source_length` raise `ValueError` (from
    `CharVocab.encode_batch`). Every batch is padded to `batch_size` rows, so the model
    compiles once.
    """
    source = source_vocab.encode_batch(texts, source_length)
    results = []
    for i in range(0, len(source), batch_size):
        chunk = source[i:i + batch_size]
        padded = np.zeros((batch_size, source_length), dtype="int32")
        padded[:len(chunk)] = chunk
        padded[len(chunk):, 0] = END  # filler rows: one token, so no row is empty
        ids = greedy_decode(model, padded, max_length)[:len(chunk)]
        results.extend(target_vocab.decode_batch(ids))
    return results
