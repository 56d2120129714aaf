"""Character vocabularies: text <-> integer ids for the sequence models.

    vocab = CharVocab.from_text("hello world")
    ids = vocab.encode_batch(["hello", "low"], length=8, end=True)   # (2, 8) int32, 0-padded
    vocab.decode(ids[0])                                               # 'hello'

Id 0 is padding (masked by `Embedding(mask_zero=True)`), 1 the start token that a
decoder is fed first, 2 the end-of-sequence token of the lectures' seq2seq; the
characters follow from id 3 in sorted order, so the same text gives the same ids
everywhere. Characters outside the vocabulary and texts longer than the model's
maximum length raise a `ValueError` that names them.
"""

import numpy as np

PAD, START, END = 0, 1, 2
SPECIALS = ("<pad>", "<start>", "<end>")


class CharVocab:
    """A character vocabulary with padding, start and end ids.

    Args:
        chars: the characters (any iterable; duplicates are dropped, order is sorted).
    """

    def __init__(self, chars):
        self.chars = sorted(set(chars))
        bad = [c for c in self.chars if len(c) != 1]
        if bad:
            raise ValueError(f"CharVocab takes single characters, got {bad[:5]}")
        self.index = {c: i + len(SPECIALS) for i, c in enumerate(self.chars)}

    @classmethod
    def from_text(cls, *texts):
        """The vocabulary of every character that occurs in `texts`."""
        return cls("".join(texts))

    @property
    def size(self):
        """Number of ids, the specials included: the `input_dim` of an `Embedding`."""
        return len(SPECIALS) + len(self.chars)

    def __len__(self):
        return self.size

    def __repr__(self):
        return f"CharVocab({''.join(self.chars)!r})"

    def get_config(self):
        return {"chars": "".join(self.chars)}

    def encode(self, text, start=False, end=False):
        """Ids of `text` (int32), optionally with the start id before and the end id after."""
        unknown = sorted(set(text) - set(self.index))
        if unknown:
            raise ValueError(
                f"characters {unknown} are not in the vocabulary; it has "
                f"{len(self.chars)} characters: {''.join(self.chars)!r}")
        ids = [self.index[c] for c in text]
        return np.array([START] * start + ids + [END] * end, dtype="int32")

    def encode_batch(self, texts, length, start=False, end=False):
        """A zero-padded (len(texts), length) int32 array; longer texts raise `ValueError`."""
        out = np.full((len(texts), length), PAD, dtype="int32")
        for row, text in enumerate(texts):
            ids = self.encode(text, start=start, end=end)
            if len(ids) > length:
                raise ValueError(
                    f"text {row} is {len(ids)} ids long (start/end tokens included), longer "
                    f"than the maximum length {length}: {text[:60]!r}")
            out[row, : len(ids)] = ids
        return out

    def decode(self, ids, stop_at_end=True):
        """Text of `ids`: padding and start ids dropped; stops at the first end id."""
        chars = []
        for i in np.asarray(ids).reshape(-1).tolist():
            if i == END and stop_at_end:
                break
            if i >= len(SPECIALS):
                chars.append(self.chars[i - len(SPECIALS)])
        return "".join(chars)

    def decode_batch(self, ids, stop_at_end=True):
        """`decode` for each row of a 2-D array."""
        return [self.decode(row, stop_at_end) for row in np.asarray(ids)]
