"""Character language model and bidirectional tagger, with sampling and perplexity.

Lecture 03 "NLP and RNN": a language model gives p(w_t | w_1 .. w_{t-1}) (the chain rule
of probability; the n-gram model cuts the history to n - 1 tokens, the RNN keeps it all
in its state); sampling "treats each distribution like a weighted die", rolled once per
step and fed back; bidirectional RNNs read the sequence both ways (many-to-many aligned).
Lecture 05: trained recurrent networks are stateful. Karpathy 2015 (char-rnn); Graves
2013; Schuster & Paliwal 1997 (bidirectional RNNs).

    model = keras_zoo.build("char_lm", vocab_size=vocab.size)      # ids (b, T) -> (b, T, V)
    perplexity(model, vocab.encode(valid_text))
    generate(model, vocab, prime="The ", length=200, temperature=0.5, seed=0)

`keras_zoo.models.language.NGramLM` has the same `perplexity`/`generate` interface.
"""

import keras
import numpy as np
from keras import layers

from keras_zoo.datasets.text import PAD, SPECIALS, START
from keras_zoo.layers.checks import checked_token_input
from keras_zoo.layers.recurrent import BidirectionalRNN
from keras_zoo.models.base import ZooModel
from keras_zoo.models.rnn import CELLS, apply_recurrent_stack
from keras_zoo.registry import register_model


def token_example(model, batch, rng, length=12):
    """Registry `example=`: ids in [1, vocab) of shape (batch, T) and targets per step."""
    vocab = next(lay.input_dim for lay in model.layers if isinstance(lay, layers.Embedding))
    steps = model.inputs[0].shape[1] or length
    x = rng.integers(1, vocab, size=(batch, steps)).astype("int32")
    y = rng.integers(0, model.outputs[0].shape[-1], size=(batch, steps)).astype("int32")
    return x, y


def apply_embedding_block(x, vocab_size, embed_dim, name="embedding"):
    """Ids (batch, T) -> vectors (batch, T, embed_dim); id 0 (padding) is masked downstream."""
    return layers.Embedding(vocab_size, embed_dim, mask_zero=True, name=name)(x)


@register_model(smoke={"units": 16, "embed_dim": 8, "vocab_size": 12}, family="rnn",
                example=token_example)
def char_lm(vocab_size=100, embed_dim=32, units=256, cell="lstm", num_layers=1, dropout=0.0,
            max_len=None, name="char_lm"):
    """Character language model: ids -> embedding -> LSTM/GRU -> next-character logits.

    Trained with targets = inputs shifted by one step (task "classification", targets
    (batch, T)). Padding (id 0) is masked. `generate` runs a stateful copy of it.

    Args:
        vocab_size: number of ids (`CharVocab.size`).
        embed_dim: embedding size.
        units: hidden size of each recurrent layer.
        cell: "lstm", "gru" or "rnn".
        num_layers: stacked recurrent layers.
        dropout: dropout on the recurrent layers' inputs.
        max_len: fixed sequence length, or None for any length.
        name: model name.

    Returns:
        A functional `keras.Model` mapping ids (batch, T) to logits (batch, T, vocab_size).
    """
    inputs, x = checked_token_input(max_len)  # (batch, T)
    x = apply_embedding_block(x, vocab_size, embed_dim)  # (batch, T, embed_dim)
    x = apply_recurrent_stack(x, cell, units, num_layers, dropout, name=cell,
                              return_sequences=True)  # (batch, T, units)
    outputs = layers.Dense(vocab_size, dtype="float32", name="logits")(x)  # (batch, T, vocab_size)
    return ZooModel(inputs, outputs, name=name)


@register_model(smoke={"units": 16, "embed_dim": 8, "vocab_size": 12, "num_classes": 5},
                family="rnn", example=token_example)
def bilstm_tagger(vocab_size=100, num_classes=10, embed_dim=32, units=64, bidirectional=True,
                  cell="lstm", max_len=None, name="bilstm_tagger"):
    """Many-to-many aligned: one tag per token from a (bi)directional LSTM; padding masked.

    Embedding(mask_zero=True) makes the recurrent layers skip padded steps (the backward
    direction starts at the last real token) and the loss ignore them.

    Args:
        vocab_size: number of token ids (id 0 is padding).
        num_classes: number of tags (logits per step).
        embed_dim: embedding size.
        units: hidden size of each direction.
        bidirectional: read both ways (False: left to right only, for comparison).
        cell: "lstm", "gru" or "rnn".
        max_len: fixed sequence length, or None for any length.
        name: model name.

    Returns:
        A functional `keras.Model` mapping ids (batch, T) to logits (batch, T, num_classes).
    """
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
    inputs, x = checked_token_input(max_len)  # (batch, T)
    x = apply_embedding_block(x, vocab_size, embed_dim)  # (batch, T, embed_dim)
    rnn = CELLS[cell](units, return_sequences=True, name=cell)
    if bidirectional:
        rnn = BidirectionalRNN(rnn, name=f"bi{cell}")
    x = rnn(x)  # (batch, T, 2 units | units)
    outputs = layers.Dense(num_classes, dtype="float32", name="logits")(x)  # (b, T, num_classes)
    return ZooModel(inputs, outputs, name=name)


# ------------------------------------------------------------------ evaluation, sampling


def stateful_copy(model, batch_size=1, steps=1):
    """The same functional model, stateful, fed `steps` time steps per call.

    Its recurrent layers keep their state from one call to the next, so a long sequence
    can be fed in chunks (`copy.reset_state()` on each RNN layer starts over). Call it
    directly (`copy(x)`): on JAX, Keras 3.15's `predict_on_batch` does not carry the RNN
    state variables from call to call (they are not tracked as model variables); for
    fast generation use `step_model`, which passes the states explicitly.

    Args:
        model: a functional model with one input (batch, time, ...).
        batch_size: the fixed batch size of the copy.
        steps: time steps per call.

    Returns:
        A new `keras.Model` with the same weights.
    """
    config = model.get_config()
    for layer in config["layers"]:
        cfg = layer["config"]
        layer.pop("build_config", None)  # rebuilt for the new batch shape
        if layer["class_name"] == "InputLayer":
            cfg["batch_shape"] = [batch_size, steps, *cfg["batch_shape"][2:]]
        if layer["class_name"] == "InputShapeCheck":
            cfg["shape"] = [steps, *cfg["shape"][1:]]
        if "stateful" in cfg:
            cfg["stateful"] = True
    copy = keras.Model.from_config(config)
    copy.set_weights(model.get_weights())
    return copy


def _log_softmax(logits):
    logits = logits - logits.max(axis=-1, keepdims=True)
    return logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))


def perplexity(model, ids, window=256, context=64, batch_size=64):
    """exp(mean negative log-likelihood per character) of `ids` under `model`.

    Every character from the second on is predicted. The text is cut into windows of
    `window` predictions, each also reading up to `context` earlier characters first
    (left-padded with the masked id 0 at the start of the text).

    Args:
        model: a `char_lm` (ids (b, T) -> logits (b, T, V)).
        ids: 1-D int array, e.g. `vocab.encode(text)`.
        window: predictions per row.
        context: extra characters of history each row reads before its window.
        batch_size: rows per forward pass.

    Returns:
        The perplexity (float); 1 is perfect, V is uniform guessing.
    """
    ids = np.asarray(ids, dtype="int32")
    starts = np.arange(1, len(ids), window)  # first predicted position of each row
    rows = np.full((len(starts), context + window), PAD, dtype="int32")
    targets = np.full(rows.shape, -1)
    for r, s in enumerate(starts):  # row r reads ids[s-1-context .. s-1+window)
        lo, hi = s - 1 - context, min(s - 1 + window, len(ids) - 1)
        rows[r, max(0, -lo): context + hi - s + 1] = ids[max(0, lo): hi]
        targets[r, context: context + hi - s + 1] = ids[s: hi + 1]
    nll, count = 0.0, 0
    for b in range(0, len(rows), batch_size):
        logp = _log_softmax(keras.ops.convert_to_numpy(
            model.predict_on_batch(rows[b: b + batch_size])).astype("float64"))
        t = targets[b: b + batch_size]
        keep = t >= 0
        nll -= np.take_along_axis(logp, np.maximum(t, 0)[..., None], -1)[..., 0][keep].sum()
        count += keep.sum()
    return float(np.exp(nll / count))


def sample_id(logits, temperature, rng):
    """Roll the weighted die: one id from softmax(logits / temperature)."""
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    p = np.exp(_log_softmax(np.asarray(logits, dtype="float64") / temperature))
    return int(rng.choice(len(p), p=p / p.sum()))


def step_model(model, batch_size=1):
    """A one-step twin of a `char_lm` that passes its recurrent states in and out.

    `step([ids (b, 1), *states]) -> [logits (b, 1, V), *new states]`, the states of each
    recurrent layer in order (h, c for an LSTM). It shares the embedding and output
    layers and copies the recurrent weights, so it computes what `model` computes, one
    character at a time; `predict_on_batch` compiles it once (one shape) on every backend.
    """
    ids = keras.Input(batch_shape=(batch_size, 1), dtype="int32", name="step_ids")
    x = model.get_layer("embedding")(ids)  # (b, 1, embed_dim)
    state_inputs, state_outputs = [], []
    for layer in model.layers:
        if not isinstance(layer, layers.RNN):
            continue
        twin = layer.__class__.from_config({**layer.get_config(), "return_state": True,
                                            "stateful": False, "name": f"{layer.name}_step"})
        sizes = keras.tree.flatten(layer.cell.state_size)
        states = [keras.Input(batch_shape=(batch_size, n), name=f"{layer.name}_state{j}")
                  for j, n in enumerate(sizes)]
        x, *new_states = twin(x, initial_state=states if len(states) > 1 else states[0])
        twin.set_weights(layer.get_weights())
        state_inputs += states
        state_outputs += new_states
    logits = model.get_layer("logits")(x)  # (b, 1, V)
    return keras.Model([ids, *state_inputs], [logits, *state_outputs], name=f"{model.name}_step")


def generate(model, vocab, prime, length, temperature=1.0, seed=0):
    """Sample `length` characters after `prime` from a `char_lm`, one at a time.

    A one-step twin (`step_model`) reads the priming text, carrying its state from call
    to call, then each sampled character is fed back. Specials (padding, start, end) are
    never drawn.

    Args:
        model: a `char_lm`.
        vocab: the `CharVocab` it was trained with.
        prime: at least one character, all in the vocabulary.
        length: characters to generate.
        temperature: < 1 sharper (safer), > 1 flatter (more surprising).
        seed: NumPy seed: the same seed gives the same text.

    Returns:
        `prime` followed by the generated characters.
    """
    ids = vocab.encode(prime)  # ValueError for characters outside the vocabulary
    if len(ids) == 0:
        raise ValueError("prime must hold at least one character")
    rng = np.random.default_rng(seed)
    step = step_model(model)
    states = [np.zeros(tuple(t.shape), dtype="float32") for t in step.inputs[1:]]
    out = list(ids)
    for i in range(len(ids) - 1 + length):
        logits, *states = step.predict_on_batch([np.array([[out[i]]], dtype="int32"), *states])
        if i >= len(ids) - 1:
            logits = np.array(logits[0, 0], dtype="float64")  # (V,)
            logits[:3] = -np.inf  # never pad, start or end
            out.append(sample_id(logits, temperature, rng))
    return vocab.decode(out)


# ------------------------------------------------------ the count-based baseline
#
# Lecture 03 "NLP and RNN": an n-gram model conditions on the last n - 1 tokens,
# p(w_1 .. w_T) = prod_t p(w_t | w_{t-n+1} .. w_{t-1}); its probabilities are learnt
# "from data: just count n-gram frequencies"; sampling rolls the weighted die p(. | context)
# and repeats. Add-k (Lidstone) smoothing gives unseen n-grams a little mass:
#
#     p(w | ctx) = (count(ctx, w) + k) / (count(ctx) + k V)
#
# NumPy only. The same interface as the neural models here (`perplexity`, `generate`).


class NGramLM:
    """Character (or any token id) n-gram language model with add-k smoothing.

    Args:
        n: order: the model conditions on the previous n - 1 ids (n=1: unigram).
        vocab_size: number of ids V (`CharVocab.size`); ids must be in [0, V).
        k: smoothing pseudo-count added to every n-gram (k > 0).

    At the start of a text the missing history is filled with the start id, so the first
    characters are predicted from "beginning of text" contexts.
    """

    def __init__(self, n, vocab_size, k=0.1):
        if n < 1 or k <= 0 or vocab_size < 1:
            raise ValueError(f"need n >= 1, k > 0, vocab_size >= 1; got {n}, {k}, {vocab_size}")
        if vocab_size ** n >= 2 ** 62:
            raise ValueError(f"vocab_size ** n = {vocab_size}^{n} is too large to index")
        self.n, self.vocab_size, self.k = n, vocab_size, k
        self.codes = np.zeros(0, dtype="int64")  # sorted n-gram codes seen in training
        self.counts = np.zeros(0, dtype="int64")  # how often each
        self.context_codes = np.zeros(0, dtype="int64")
        self.context_counts = np.zeros(0, dtype="int64")

    def _check(self, ids):
        ids = np.asarray(ids, dtype="int64").reshape(-1)
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
            raise ValueError(f"ids must be in [0, {self.vocab_size}), got "
                             f"[{ids.min()}, {ids.max()}]")
        return ids

    def _grams(self, ids):
        """Codes of every (context, next) window: (len(ids),) n-gram and context codes."""
        padded = np.concatenate([np.full(self.n - 1, START, dtype="int64"), ids])
        code = np.zeros(len(ids), dtype="int64")
        for j in range(self.n):  # base-V number: oldest id first
            code = code * self.vocab_size + padded[j: j + len(ids)]
        return code, code // self.vocab_size

    def fit(self, ids):
        """Count the n-grams of a 1-D id array (e.g. `vocab.encode(text)`); returns self."""
        grams, contexts = self._grams(self._check(ids))
        self.codes, self.counts = np.unique(grams, return_counts=True)
        self.context_codes, self.context_counts = np.unique(contexts, return_counts=True)
        return self

    @staticmethod
    def _lookup(sorted_codes, counts, queries):
        pos = np.clip(np.searchsorted(sorted_codes, queries), 0, max(len(sorted_codes) - 1, 0))
        if len(sorted_codes) == 0:
            return np.zeros(np.shape(queries), dtype="int64")
        return np.where(sorted_codes[pos] == queries, counts[pos], 0)

    def _prob(self, grams, contexts):
        num = self._lookup(self.codes, self.counts, grams) + self.k
        den = self._lookup(self.context_codes, self.context_counts, contexts)
        return num / (den + self.k * self.vocab_size)

    def _context_code(self, context):
        context = list(self._check(context))[len(context) - self.n + 1:] if self.n > 1 else []
        code = 0
        for i in [START] * (self.n - 1 - len(context)) + context:
            code = code * self.vocab_size + int(i)
        return np.int64(code)

    def distribution(self, context=()):
        """p(. | the last n - 1 ids of `context`) over all V ids, shape (V,).

        A context shorter than n - 1 is filled with start ids on the left.
        """
        code = self._context_code(context)
        return self._prob(code * self.vocab_size + np.arange(self.vocab_size), code)

    def prob(self, token, context=()):
        """p(token | the last n - 1 ids of `context`)."""
        return float(self.distribution(context)[token])

    def log_likelihood(self, ids):
        """Natural-log probability of each id given its history, shape (len(ids),)."""
        grams, contexts = self._grams(self._check(ids))
        return np.log(self._prob(grams, contexts))

    def perplexity(self, ids):
        """exp(mean negative log-likelihood per id) of `ids` (every id is predicted)."""
        return float(np.exp(-self.log_likelihood(ids).mean()))

    def generate(self, vocab, prime, length, temperature=1.0, seed=0):
        """Sample `length` characters after `prime`; the interface of `language.generate`.

        Args:
            vocab: the `CharVocab` whose ids the model was fitted on.
            prime: priming text (may be empty: the start context is used).
            length: characters to generate.
            temperature: p ** (1 / temperature), renormalised; < 1 sharper, > 1 flatter.
            seed: NumPy seed: the same seed gives the same text.

        Returns:
            `prime` followed by the generated characters.
        """
        if temperature <= 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        rng = np.random.default_rng(seed)
        out = list(vocab.encode(prime))
        for _ in range(length):
            logp = np.log(self.distribution(out)) / temperature
            logp[: len(SPECIALS)] = -np.inf  # never pad, start or end
            p = np.exp(logp - logp.max())
            out.append(int(rng.choice(self.vocab_size, p=p / p.sum())))
        return vocab.decode(out)
