"""Attention, Transformers and encoder-decoders: NumPy references, masks, decoding, dates.

Hand-written NumPy versions of Bahdanau attention, the sinusoidal encoding and patch
embedding; padding must not change any output, the causal mask must hide the future,
greedy decoding must stop at the end token, and bad text must fail clearly.
"""

import datetime

import keras
import numpy as np
import pytest
from helpers import forward, set_deterministic_weights

import keras_zoo
from keras_zoo.datasets import dates
from keras_zoo.datasets.text import END, START, CharVocab
from keras_zoo.layers.attention import (
    AttentionLSTMDecoder,
    BahdanauAttention,
    ClassToken,
    PatchEmbedding,
    SinusoidalPositionEncoding,
)
from keras_zoo.models.seq2seq import greedy_decode, teacher_forcing, translate

np_ = keras.ops.convert_to_numpy


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# ---------------------------------------------------------------- layers vs NumPy


def test_bahdanau_attention_matches_numpy(rng):
    query = rng.normal(size=(2, 3, 5)).astype("float32")  # decoder states
    value = rng.normal(size=(2, 4, 6)).astype("float32")  # encoder states
    mask = np.array([[[1, 1, 1, 1]], [[1, 1, 0, 0]]], dtype=bool)  # (2, 1, 4)
    layer = BahdanauAttention(7)
    layer(query, value)
    wq, wv, b, v = (rng.uniform(-0.5, 0.5, size=w.shape).astype("float32")
                    for w in layer.weights)
    layer.set_weights([wq, wv, b, v])
    context, weights = (np_(t) for t in layer(query, value, value_mask=mask))
    scores = np.tanh((query @ wq)[:, :, None] + (value @ wv)[:, None] + b) @ v[:, 0]
    expected = softmax(np.where(mask, scores, -np.inf))  # (2, 3, 4)
    np.testing.assert_allclose(weights, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(context, expected @ value, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-6)
    assert np.all(weights[1, :, 2:] == 0)  # padded source positions get no attention


def test_attention_decoder_is_the_input_feeding_loop(rng):
    """The scanned decoder equals a Python loop over its own parts, a_{t-1} fed back."""
    inputs = rng.normal(size=(2, 5, 3)).astype("float32")  # embedded decoder inputs
    memory = rng.normal(size=(2, 4, 6)).astype("float32")  # encoder states
    h0, c0 = (rng.normal(size=(2, 6)).astype("float32") for _ in range(2))
    mask = np.array([[[1, 1, 1, 1]], [[1, 1, 1, 0]]], dtype=bool)  # (2, 1, 4)
    decoder = AttentionLSTMDecoder(units=6, attention_units=4, attentional_units=5)
    outputs, weights = decoder(inputs, memory, h0, c0, memory_mask=mask)
    h, c, a = h0, c0, np.zeros((2, 5), "float32")
    for t in range(inputs.shape[1]):
        h, (h, c) = decoder.cell(np.concatenate([inputs[:, t], np_(a)], -1), [h, c])
        context, w = decoder.attention(h[:, None], memory, value_mask=mask)
        a = decoder.attentional(keras.ops.concatenate([h, context[:, 0]], -1))
        np.testing.assert_allclose(np_(outputs)[:, t], np_(a), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(np_(weights)[:, t], np_(w)[:, 0], rtol=1e-5, atol=1e-6)
    assert np.all(np_(weights)[1, :, 3] == 0)  # the padded source position is never read


def test_sinusoidal_encoding_matches_the_paper():
    length, dim = 7, 6
    pe = np.zeros((length, dim))
    for pos in range(length):
        for i in range(dim // 2):
            pe[pos, 2 * i] = np.sin(pos / 10000 ** (2 * i / dim))
            pe[pos, 2 * i + 1] = np.cos(pos / 10000 ** (2 * i / dim))
    x = np.random.default_rng(0).normal(size=(2, length, dim)).astype("float32")
    plain = SinusoidalPositionEncoding(10, scale=False)
    np.testing.assert_allclose(np_(plain(x)), x + pe, atol=1e-5)
    scaled = SinusoidalPositionEncoding(10)
    np.testing.assert_allclose(np_(scaled(x)), x * np.sqrt(dim) + pe, atol=1e-5)
    with pytest.raises(ValueError, match="11 positions, more than the model's maximum length 10"):
        plain(np.zeros((1, 11, dim), "float32"))


def test_patch_embedding_and_class_token(rng):
    images = rng.uniform(size=(2, 8, 12, 3)).astype("float32")
    layer = PatchEmbedding(4, 5)
    out = np_(layer(images))  # (2, 6, 5)
    kernel, bias = (np_(w) for w in layer.weights)
    patches = images.reshape(2, 2, 4, 3, 4, 3).transpose(0, 1, 3, 2, 4, 5).reshape(2, 6, 48)
    np.testing.assert_allclose(out, patches @ kernel.reshape(48, 5) + bias, atol=1e-5)
    with pytest.raises(ValueError, match="does not divide"):
        PatchEmbedding(5, 4)(images)
    token = ClassToken()
    with_token = np_(token(out))
    assert with_token.shape == (2, 7, 5)
    np.testing.assert_array_equal(with_token[:, 1:], out)
    np.testing.assert_array_equal(with_token[:, 0], np.broadcast_to(np_(token.token)[0], (2, 5)))


# ---------------------------------------------------------------- masks in the models


def _pad(ids, extra):
    return np.concatenate([ids, np.zeros((len(ids), extra), ids.dtype)], axis=1)


@pytest.mark.parametrize("name", ["seq2seq", "seq2seq_attention", "transformer"])
def test_extra_source_padding_changes_nothing(name, build_deterministic):
    model = build_deterministic(name, **keras_zoo.model_info(name).smoke)
    (source, decoder), _ = keras_zoo.example_batch(name, model, batch=3)
    assert np.any(source == 0)  # the example rows are padded already
    short, long = forward(model, [source, decoder]), forward(model, [_pad(source, 5), decoder])
    np.testing.assert_allclose(long, short, rtol=1e-5, atol=1e-5)


def test_extra_padding_in_the_classifier_changes_nothing(build_deterministic):
    model = build_deterministic("transformer_classifier", dim=16, num_heads=2, ff_dim=32)
    ids, _ = keras_zoo.example_batch("transformer_classifier", model, batch=3)
    np.testing.assert_allclose(forward(model, _pad(ids, 6)), forward(model, ids), atol=1e-5)


@pytest.mark.parametrize("name", ["seq2seq_attention", "transformer"])
def test_decoder_cannot_look_ahead(name, build_deterministic):
    model = build_deterministic(name, **keras_zoo.model_info(name).smoke)
    (source, decoder), _ = keras_zoo.example_batch(name, model, batch=3)
    changed = decoder.copy()
    changed[:, 3] = changed[:, 3] % 5 + 3  # a different, non-padding token at step 3
    before, after = forward(model, [source, decoder]), forward(model, [source, changed])
    np.testing.assert_allclose(after[:, :3], before[:, :3], rtol=1e-5, atol=1e-6)
    assert np.abs(after[:, 3:] - before[:, 3:]).max() > 1e-3  # the future does change


def test_attention_weights_are_a_distribution_over_the_real_source(build_deterministic):
    model = build_deterministic("seq2seq_attention", return_attention=True, units=16)
    (source, decoder), _ = keras_zoo.example_batch("seq2seq_attention", model, batch=4)
    logits, weights = forward(model, [source, decoder])
    assert weights.shape == (*decoder.shape, source.shape[1])
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)
    padded = np.broadcast_to((source == 0)[:, None, :], weights.shape)
    assert np.all(weights[padded] == 0) and np.all(weights[~padded] > 0)
    plain = set_deterministic_weights(keras_zoo.build("seq2seq_attention", units=16))
    np.testing.assert_allclose(forward(plain, [source, decoder]), logits, atol=1e-6)


def test_vit_attention_scores_sum_to_one(build_deterministic):
    model = build_deterministic("vit", dim=16, num_heads=2, ff_dim=32, num_layers=1,
                                return_attention=True)
    images = np.random.default_rng(0).uniform(size=(2, 28, 28, 1)).astype("float32")
    logits, scores = forward(model, images)
    assert logits.shape == (2, 10) and scores.shape == (2, 2, 17, 17)
    np.testing.assert_allclose(scores.sum(-1), 1.0, atol=1e-5)


def test_transformer_rejects_too_long_inputs():
    model = keras_zoo.build("transformer", dim=16, num_heads=2, ff_dim=32, num_layers=1,
                            max_source_length=8)
    with pytest.raises(ValueError, match="maximum length 8"):
        model([np.ones((1, 9), "int32"), np.ones((1, 4), "int32")])


# ---------------------------------------------------------------- decoding


class ScriptedModel:
    """Emits a fixed token sequence per row, whatever it is fed; counts its calls."""

    def __init__(self, script, vocab=12):
        self.script, self.vocab, self.calls, self.fed = np.asarray(script), vocab, 0, []

    def predict_on_batch(self, inputs):
        self.calls += 1
        self.fed.append(inputs[1].copy())
        return np.eye(self.vocab, dtype="float32")[self.script]  # one-hot "logits"


def test_greedy_decoding_stops_at_the_end_token():
    script = [[5, 6, END, 7, 8, 9], [4, END, 9, 9, 9, 9]]  # after END: ignored
    model = ScriptedModel(script)
    out = greedy_decode(model, np.ones((2, 3), "int32"), max_length=6)
    np.testing.assert_array_equal(out, [[5, 6, END, 0, 0, 0], [4, END, 0, 0, 0, 0]])
    assert model.calls == 3  # every row has ended after three steps
    np.testing.assert_array_equal(model.fed[-1], [[START, 5, 6, 0, 0, 0], [START, 4, 0, 0, 0, 0]])
    assert len({f.shape for f in model.fed}) == 1  # one input shape: one compiled function


def test_greedy_decoding_without_an_end_token_fills_max_length():
    model = ScriptedModel([[5, 6, 7, 8]])
    np.testing.assert_array_equal(greedy_decode(model, [[3]], max_length=4), [[5, 6, 7, 8]])
    assert model.calls == 4


def test_teacher_forcing_shifts_the_target():
    vocab = CharVocab("0123")
    decoder_input, target = teacher_forcing(vocab, ["12", "3"], length=4)
    one, two, three = (vocab.encode(c)[0] for c in "123")
    np.testing.assert_array_equal(target, [[one, two, END, 0], [three, END, 0, 0]])
    np.testing.assert_array_equal(decoder_input, [[START, one, two, 0], [START, three, 0, 0]])
    with pytest.raises(ValueError, match="longer than the maximum length 4"):
        teacher_forcing(vocab, ["1230"], length=4)


def test_translate_rejects_unknown_characters_and_too_long_texts():
    source, target = dates.source_vocab(), dates.target_vocab()
    iso = [target.index[c] for c in "2009-06-25"] + [END]
    model = ScriptedModel([iso], vocab=target.size)
    assert translate(model, ["June 25, 2009"], source, target, 40, 11, batch_size=1) == [
        "2009-06-25"]
    with pytest.raises(ValueError, match=r"characters \['#', 'é'\] are not in the vocabulary"):
        translate(model, ["#25 juin é"], source, target, 40, 11)
    with pytest.raises(ValueError, match="longer than the maximum length 12"):
        translate(model, ["Thursday, June 25, 2009"], source, target, 12, 11)


# ---------------------------------------------------------------- the date data


def test_dates_are_deterministic_and_correct():
    sources, targets = dates.make_dates(300, seed=3)
    assert (sources, targets) == dates.make_dates(300, seed=3)
    assert sources != dates.make_dates(300, seed=4)[0]
    vocab = dates.source_vocab()
    for text, iso in zip(sources, targets):
        day = datetime.date.fromisoformat(iso)
        year = (str(day.year % 100).zfill(2), dates.spelled_year(day.year))
        assert any(y in text.lower() for y in year) and vocab.encode(text).size == len(text)
        assert len(text) <= dates.max_source_length()
    assert len({s.split()[0] for s in sources}) > 40  # many formats and cases
    day = datetime.date(2009, 6, 25)
    assert dates.human_date(day, "the {th} of {month}, {yyyy}") == "the 25th of June, 2009"
    assert dates.human_date(day, "{dd}/{mm}/{yy}") == "25/06/09"
    assert dates.human_date(day, "{wday}, {month} {d}, {yyyy}", str.upper) == (
        "THURSDAY, JUNE 25, 2009")
    assert [dates.ordinal(d) for d in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 31)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "31st"]
    assert dates.human_date(day, "{wday}, the {nth} of {month}, {year}") == (
        "Thursday, the twenty-fifth of June, two thousand and nine")


def test_spelled_numbers_days_and_years():
    assert [dates.spelled(n) for n in (0, 7, 13, 20, 21, 47, 99)] == [
        "zero", "seven", "thirteen", "twenty", "twenty-one", "forty-seven", "ninety-nine"]
    assert [dates.spelled_ordinal(n) for n in (1, 2, 3, 4, 5, 8, 9, 12, 20, 22, 27, 30, 31)] == [
        "first", "second", "third", "fourth", "fifth", "eighth", "ninth", "twelfth",
        "twentieth", "twenty-second", "twenty-seventh", "thirtieth", "thirty-first"]
    assert [dates.spelled_year(y) for y in (1950, 1984, 2000, 2009, 2010, 2049, 1905)] == [
        "nineteen fifty", "nineteen eighty-four", "two thousand", "two thousand and nine",
        "twenty ten", "twenty forty-nine", "nineteen oh five"]


def test_max_source_length_is_the_longest_date():
    # the longest weekday, day in words, month and year in words, on one real date
    longest = dates.human_date(datetime.date(1978, 9, 27), dates.FORMATS[-1])
    assert longest == "Wednesday, the twenty-seventh of September, nineteen seventy-eight"
    assert dates.max_source_length() == len(longest) == 66
    vocab = dates.source_vocab()
    days = [datetime.date(1950, 1, 1) + datetime.timedelta(days=k) for k in range(0, 36525, 7)]
    texts = [dates.human_date(d, f, c) for d in days for f in dates.FORMATS for c in dates.CASES]
    assert max(map(len, texts)) <= dates.max_source_length()
    assert all(vocab.encode(t).size == len(t) for t in texts)  # every character is known


def test_date_splits_do_not_share_dates():
    (x_train, y_train), (x_test, y_test) = dates.load_dates(2000, 300, seed=0)
    assert len(x_train) == 2000 and len(x_test) == len(y_test) == 300
    assert not set(y_train) & set(y_test)
    assert dates.target_vocab().encode_batch(y_test, dates.TARGET_LENGTH).min() > 2
