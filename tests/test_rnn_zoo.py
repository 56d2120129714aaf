"""Recurrent models: lecture cells vs Keras', masking, language-model helpers, n-grams, data.

Weights come from NumPy (helpers.set_deterministic_weights or explicit arrays), so every
number here is the same on TensorFlow, JAX and PyTorch.
"""

import keras
import numpy as np
import pytest
from helpers import set_deterministic_weights

import keras_zoo
from keras_zoo.datasets import counting
from keras_zoo.datasets import text as text_data
from keras_zoo.datasets.text import CharVocab
from keras_zoo.layers.recurrent import LectureGRUCell, LectureLSTMCell
from keras_zoo.models import language
from keras_zoo.models.language import NGramLM


def numpy(x):
    return keras.ops.convert_to_numpy(x)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# ------------------------------------------------------------------------- lecture cells


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_lecture_cell_equals_keras_layer(kind, rng):
    """Same weights, same input (with a padded tail): the lecture cell = keras LSTM / GRU."""
    x = rng.normal(size=(3, 7, 5)).astype("float32")
    mask = np.ones((3, 7), dtype=bool)
    mask[1, 4:] = False  # a shorter sequence: the state must stop at its last real step
    inputs = keras.Input((7, 5))
    cell = {"lstm": LectureLSTMCell, "gru": LectureGRUCell}[kind](6)
    ours = keras.Model(inputs, keras.layers.RNN(cell, return_sequences=True,
                                                return_state=True)(inputs))
    ref_layer = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[kind]
    theirs = keras.Model(inputs, ref_layer(6, return_sequences=True, return_state=True)(inputs))
    set_deterministic_weights(theirs, seed=3)
    assert [w.shape for w in ours.weights] == [w.shape for w in theirs.weights]
    ours.set_weights(theirs.get_weights())
    for a, b in zip(ours.predict_on_batch(x), theirs.predict_on_batch(x), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    rnn_ours = ours.layers[-1]
    rnn_theirs = theirs.layers[-1]
    masked = [numpy(y) for y in rnn_ours(x, mask=mask)]
    for a, b in zip(masked, [numpy(y) for y in rnn_theirs(x, mask=mask)], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(masked[1][1], masked[0][1, 3], rtol=1e-6)  # h after step 4


def test_lecture_lstm_step_matches_the_slide_equations(rng):
    """One step by hand in NumPy: i, f, o sigmoid, g tanh, c = f c + i g, h = o tanh(c)."""
    cell = LectureLSTMCell(3)
    cell.build((None, 2))
    w, u, b = (rng.normal(size=s).astype("float32") for s in ((2, 12), (3, 12), (12,)))
    cell.set_weights([w, u, b])
    x, h, c = (rng.normal(size=(4, n)).astype("float32") for n in (2, 3, 3))
    out, (h1, c1) = cell(x, [h, c])
    z = x @ w + h @ u + b
    i, f, g, o = sigmoid(z[:, :3]), sigmoid(z[:, 3:6]), np.tanh(z[:, 6:9]), sigmoid(z[:, 9:])
    c_ref = f * c + i * g
    np.testing.assert_allclose(numpy(c1), c_ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(numpy(h1), o * np.tanh(c_ref), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(numpy(out), numpy(h1))


def test_lecture_gru_update_gate_one_keeps_the_state():
    """z = 1 (a huge update-gate bias): h_t = h_{t-1}, whatever the input."""
    cell = LectureGRUCell(2)
    cell.build((None, 3))
    bias = np.zeros((2, 6), dtype="float32")
    bias[0, :2] = 50.0
    cell.set_weights([np.ones((3, 6), "float32"), np.ones((2, 6), "float32"), bias])
    h = np.array([[0.3, -0.7]], dtype="float32")
    out, _ = cell(np.array([[5.0, -2.0, 1.0]], dtype="float32"), [h])
    np.testing.assert_allclose(numpy(out), h, atol=1e-6)


# ----------------------------------------------------------------- tagger and language model


def test_tagger_masking_same_outputs_with_and_without_padding(build_deterministic, rng):
    model = build_deterministic("bilstm_tagger", vocab_size=20, num_classes=4, units=8)
    short = rng.integers(1, 20, size=(1, 5)).astype("int32")
    batch = rng.integers(1, 20, size=(2, 9)).astype("int32")
    batch[0] = 0
    batch[0, :5] = short  # padded with four zeros, next to a full-length row
    alone = numpy(model(short))[0]  # (5, 4)
    padded = numpy(model(batch))[0, :5]
    np.testing.assert_allclose(padded, alone, rtol=1e-5, atol=1e-6)
    # the mask is what makes the padding invisible: real ids in its place (which the
    # backward direction reads first) change the first five outputs
    filled = batch.copy()
    filled[0, 5:] = 1
    changed = numpy(model(filled))[0, :5]
    assert np.abs(changed - alone).max() > 1e-3


def test_tagger_longer_than_max_len_is_a_clear_error(build_deterministic):
    model = build_deterministic("bilstm_tagger", vocab_size=20, num_classes=4, units=8, max_len=12)
    model(np.ones((2, 12), "int32"))
    with pytest.raises(ValueError, match=r"expected shape=\(None, 12\).*found shape=\(2, 20\)"):
        model(np.ones((2, 20), "int32"))


@pytest.fixture(scope="module")
def tiny_lm():
    vocab = CharVocab.from_text("abc de")
    model = keras_zoo.build("char_lm", vocab_size=vocab.size, embed_dim=4, units=8,
                            num_layers=2)
    return set_deterministic_weights(model, seed=5), vocab


def test_step_model_equals_the_full_model(tiny_lm):
    model, vocab = tiny_lm
    ids = vocab.encode("abc dea")[None]  # (1, 7)
    full = numpy(model(ids))[0]
    step = language.step_model(model)
    states = [np.zeros(tuple(t.shape), "float32") for t in step.inputs[1:]]
    assert len(states) == 4  # (h, c) of each of the two LSTM layers
    for t in range(ids.shape[1]):
        logits, *states = step.predict_on_batch([ids[:, t: t + 1], *states])
        np.testing.assert_allclose(logits[0, 0], full[t], rtol=1e-5, atol=1e-6)


def test_stateful_copy_reads_chunks_like_one_long_sequence(tiny_lm):
    model, vocab = tiny_lm
    ids = vocab.encode("abcdeab")[None]
    full = numpy(model(ids))[0]
    stateful = language.stateful_copy(model)
    chunks = [numpy(stateful(ids[:, t: t + 1], training=False))[0, 0] for t in range(7)]
    np.testing.assert_allclose(np.stack(chunks), full, rtol=1e-5, atol=1e-6)


def test_generate_is_reproducible_and_checks_its_input(tiny_lm):
    model, vocab = tiny_lm
    a = language.generate(model, vocab, "ab", 12, temperature=1.0, seed=7)
    assert a == language.generate(model, vocab, "ab", 12, temperature=1.0, seed=7)
    assert a.startswith("ab") and len(a) == 14 and set(a) <= set("abc de")
    others = {language.generate(model, vocab, "ab", 12, temperature=1.5, seed=s)
              for s in range(4)}
    assert len(others) > 1  # different seeds, different texts
    with pytest.raises(ValueError, match=r"characters \['X'\] are not in the vocabulary"):
        language.generate(model, vocab, "aXb", 5)
    with pytest.raises(ValueError, match="at least one character"):
        language.generate(model, vocab, "", 5)
    with pytest.raises(ValueError, match="temperature must be positive"):
        language.sample_id(np.zeros(3), 0.0, np.random.default_rng(0))


def test_perplexity_of_a_uniform_model_is_the_vocabulary_size(tiny_lm):
    model, vocab = tiny_lm
    uniform = keras.models.clone_model(model)
    uniform.set_weights(model.get_weights())
    dense = uniform.get_layer("logits")
    dense.set_weights([np.zeros_like(w) for w in dense.get_weights()])
    ids = vocab.encode("abc de" * 20)
    assert language.perplexity(uniform, ids, window=16, context=4) == pytest.approx(vocab.size)
    # windows and context only regroup the same predictions: the same perplexity
    p1 = language.perplexity(model, ids, window=16, context=200)
    p2 = language.perplexity(model, ids, window=200, context=200)
    assert p1 == pytest.approx(p2, rel=1e-5)


def test_sample_id_temperature():
    rng = np.random.default_rng(0)
    logits = np.log([0.7, 0.2, 0.1])
    cold = [language.sample_id(logits, 0.05, rng) for _ in range(50)]
    assert set(cold) == {0}
    warm = np.bincount([language.sample_id(logits, 1.0, rng) for _ in range(4000)], minlength=3)
    np.testing.assert_allclose(warm / 4000, [0.7, 0.2, 0.1], atol=0.03)


# ------------------------------------------------------------------------------ n-grams


def test_ngram_probabilities_by_hand():
    # ids of "abab c" with a = 3, b = 4, c = 5; V = 6 (three specials)
    ids = np.array([3, 4, 3, 4, 5])
    bigram = NGramLM(2, vocab_size=6, k=1.0).fit(ids)
    # contexts: <start>->a, a->b, b->a, a->b, b->c; count(a) = 2, count(a b) = 2
    assert bigram.prob(4, [3]) == pytest.approx((2 + 1) / (2 + 6))
    assert bigram.prob(5, [4]) == pytest.approx((1 + 1) / (2 + 6))
    assert bigram.prob(3, []) == pytest.approx((1 + 1) / (1 + 6))  # after the start
    assert bigram.prob(3, [5]) == pytest.approx(1 / 6)  # unseen context: uniform
    unigram = NGramLM(1, vocab_size=6, k=0.5).fit(ids)
    assert unigram.prob(4) == pytest.approx((2 + 0.5) / (5 + 3))
    for model in (bigram, unigram, NGramLM(3, 6, k=0.1).fit(ids)):
        np.testing.assert_allclose(model.distribution([3, 4]).sum(), 1.0)
    expected = np.exp(-np.mean(np.log([2 / 7, 3 / 8, 2 / 8, 3 / 8, 2 / 8])))
    assert bigram.perplexity(ids) == pytest.approx(expected)


def test_ngram_higher_order_fits_training_text_better():
    vocab = CharVocab.from_text("the cat sat on the mat")
    ids = vocab.encode("the cat sat on the mat " * 5)
    ppl = [NGramLM(n, vocab.size, k=0.01).fit(ids).perplexity(ids) for n in (1, 2, 3, 4)]
    assert ppl[0] > ppl[1] > ppl[2] and max(ppl[2:]) < 1.3  # 4-grams: sparser contexts


def test_ngram_sampling_is_reproducible():
    vocab = CharVocab.from_text("abcab")
    model = NGramLM(2, vocab.size, k=0.01).fit(vocab.encode("abcabcabcabc"))
    text = model.generate(vocab, "a", 30, temperature=0.5, seed=1)
    assert text == model.generate(vocab, "a", 30, temperature=0.5, seed=1)
    assert text.startswith("abcabc")  # at k=0.01 and T=0.5 the cycle is nearly certain
    with pytest.raises(ValueError, match="not in the vocabulary"):
        model.generate(vocab, "z", 3)
    with pytest.raises(ValueError, match=r"ids must be in \[0, 6\)"):
        model.perplexity([1, 9])


# ------------------------------------------------------------------------------ data


def test_char_corpus_embedded():
    train, valid = text_data.load_char_corpus("embedded")
    assert len(train) > 400_000 and len(valid) > 40_000
    assert "for" in train and "def " in train
    vocab = CharVocab.from_text(train, valid)
    x, y = text_data.make_lm_windows(vocab.encode(valid[:1000]), 100)
    assert x.shape == y.shape == (9, 100)
    np.testing.assert_array_equal(x[:, 1:], y[:, :-1])


def test_char_corpus_full_mocked(monkeypatch):
    tfds = pytest.importorskip("tensorflow_datasets")
    from tensorflow_datasets.core import splits

    monkeypatch.setattr(splits.SplitDict, "total_num_examples", property(lambda self: 1))
    with tfds.testing.mock_data(num_examples=1):
        train, valid = text_data.load_char_corpus("full")
    assert isinstance(train, str) and isinstance(valid, str) and train


def test_python_tagging_labels():
    lines = dict(text_data.tag_python_lines(
        "def f(x):\n    if x in y:  # no\n        return print(x.real, 2.5)\ns = '''a\nb'''\n"))
    tag = dict(zip("_ nkcNsoC", text_data.TAGS))  # one letter per tag name
    tag = {letter: text_data.TAGS.index(name) for letter, name in tag.items()}

    def spell(line):
        return "".join(next(k for k, v in tag.items() if v == t) for t in lines[line])

    assert spell("def f(x):") == "kkk conoo"
    assert spell("if x in y:  # no") == "kk n kk no  CCCC"
    assert spell("return print(x.real, 2.5)") == "kkkkkk cccccononnnno NNNo"
    assert not any(line.startswith(("s =", "b")) for line in lines)  # multi-line string
    (x, y), (xt, yt), vocab = text_data.load_python_tagging(max_len=40)
    assert x.shape[1] == 40 and len(x) > 2000 and len(xt) > 500
    assert np.all((x == 0) == (y == 0))  # padding exactly where there are no characters
    assert not {vocab.decode(r) for r in x} & {vocab.decode(r) for r in xt}  # de-duplicated


def test_anbn_targets_and_recognition():
    x, y, w = counting.make_anbn([2, 1], length=5)
    np.testing.assert_array_equal(x, [[1, 1, 2, 2, 0], [1, 2, 0, 0, 0]])
    np.testing.assert_array_equal(y * (w > 0), [[0, 0, 2, 3, 0], [0, 3, 0, 0, 0]])
    logits = np.eye(4)[y]
    assert counting.recognised(logits, y, w).all()
    logits[0, 2] = np.eye(4)[3]  # predicts the end one b too early
    assert counting.recognised(logits, y, w).tolist() == [False, True]
    with pytest.raises(ValueError, match="does not fit"):
        counting.make_anbn([3], length=5)
