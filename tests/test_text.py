"""keras_zoo.datasets.text.CharVocab: ids, padding, special tokens and clear errors."""

import numpy as np
import pytest

from keras_zoo.datasets.text import END, PAD, START, CharVocab


def test_ids_are_sorted_after_the_specials():
    vocab = CharVocab.from_text("hello", "world")
    assert vocab.chars == sorted(set("helloworld")) and vocab.size == 3 + 7 == len(vocab)
    np.testing.assert_array_equal(vocab.encode("de"), [3, 4])
    np.testing.assert_array_equal(vocab.encode("he", start=True, end=True), [START, 5, 4, END])


def test_batch_round_trip():
    vocab = CharVocab("abc")
    ids = vocab.encode_batch(["abc", "c", ""], length=5, end=True)
    assert ids.dtype == np.int32 and ids.shape == (3, 5)
    np.testing.assert_array_equal(ids[1], [5, END, PAD, PAD, PAD])
    assert vocab.decode_batch(ids) == ["abc", "c", ""]
    assert vocab.decode([START, 3, END, 4]) == "a"
    assert vocab.decode([3, END, 4], stop_at_end=False) == "ab"
    assert CharVocab(**vocab.get_config()).chars == vocab.chars


def test_unknown_characters_are_named():
    with pytest.raises(ValueError, match=r"characters \['x', 'z'\] are not in the vocabulary"):
        CharVocab("abc").encode("axbz")


def test_too_long_text_names_the_limit():
    with pytest.raises(ValueError, match="3 ids long .* maximum length 2"):
        CharVocab("abc").encode_batch(["ab"], length=2, end=True)
