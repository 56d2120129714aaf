"""Teacher forcing and greedy decoding for the encoder-decoder models (seq2seq, transformer).

Training feeds the decoder the true previous character (teacher forcing):

    decoder input   <start> 2 0 0 9 - 0 6 - 2 5        target   2 0 0 9 - 0 6 - 2 5 <end>

At inference the decoder is fed its own previous prediction, one step at a time, until
it writes the end token (Sutskever et al. 2014). `greedy_decode` keeps every array at a
fixed size (the source padded to `source_length`, the decoder input to `max_length`), so
the model's predict function is traced and compiled once, not once per output length:
step t runs the whole padded decoder input and reads position t. The decoders are
causal, so the zeros after position t cannot change it.
"""

import numpy as np

from keras_zoo.text import END, PAD, START


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
