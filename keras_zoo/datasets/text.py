"""Text data: character vocabularies, an English corpus for character language models, and
a per-character tagging task.

    vocab = CharVocab.from_text("hello world")
    ids = vocab.encode_batch(["hello", "low"], length=8, end=True)   # (2, 8) int32, 0-padded
    vocab.decode(ids[0])                                               # 'hello'

Id 0 is padding (masked by `Embedding(mask_zero=True)`), 1 the start token that a
decoder is fed first, 2 the end-of-sequence token of the lectures' seq2seq; the
characters follow from id 3 in sorted order, so the same text gives the same ids
everywhere. Characters outside the vocabulary and texts longer than the model's
maximum length raise a `ValueError` that names them.

- `load_char_corpus("embedded")`: Python's own documentation, `pydoc_data.topics` (the
  text of `help("if")`, `help("with")` ...; 79 topics, ~465,000 characters of English
  prose with code examples), shipped with every Python. The topics are joined in sorted
  order; the last 10% of the characters are the validation text.
- `load_char_corpus("full")`: tensorflow-datasets `tiny_shakespeare` (train / validation
  splits); offline it raises `DatasetUnavailableError` with a one-line message.
- `load_python_tagging()`: lines of real Python source (modules of the standard library)
  with one tag per character from the stdlib tokenizer: name, keyword, call, number,
  string, operator, comment, space. Telling a call (`print(`) from a name, or a keyword
  from the start of a longer name (`in` / `int`), needs the characters to the right:
  a task where reading both ways must help.

All NumPy / plain Python; nothing is downloaded at import.
"""

import importlib
import inspect
import io
import keyword
import tokenize

import numpy as np

from keras_zoo.datasets import check_data, require_tfds, tfds_load

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


VALID_FRACTION = 0.1
TAGS = ("<pad>", "space", "name", "keyword", "call", "number", "string", "operator",
        "comment")
TAGGING_MODULES = ("argparse", "calendar", "csv", "difflib", "fractions", "heapq",
                   "shutil", "statistics", "string", "textwrap", "tokenize", "dataclasses")


def load_pydoc_text():
    """Python's documentation topics (`pydoc_data.topics`), joined in sorted order."""
    from pydoc_data.topics import topics

    return "\n\n".join(topics[key].strip() for key in sorted(topics))


def load_char_corpus(data="embedded", data_dir=None):
    """Training and validation text for a character language model.

    Args:
        data: "embedded" (pydoc topics, 90% / 10%) or "full" (tfds tiny_shakespeare,
            its train / validation splits).
        data_dir: tensorflow-datasets directory for `data="full"`.

    Returns:
        (train_text, valid_text): two str.

    Raises:
        DatasetUnavailableError: `data="full"` and tfds cannot load it (offline), or
            (`MissingDataExtraError`) the `full-data` extra is not installed.
    """
    if check_data(data) == "embedded":
        text = load_pydoc_text()
        cut = int(len(text) * (1 - VALID_FRACTION))
        return text[:cut], text[cut:]
    tfds = require_tfds("tiny_shakespeare")

    train, valid = tfds_load("tiny_shakespeare", ["train", "validation"], data_dir)

    def to_text(split):
        texts = tfds.as_numpy(split)["text"]
        return "".join(t.decode("utf-8") for t in np.asarray(texts).reshape(-1))

    return to_text(train), to_text(valid)


def make_lm_windows(ids, length, stride=None):
    """Cut an id sequence into language-model examples: inputs and the next ids.

    Args:
        ids: 1-D int array.
        length: steps per example.
        stride: start-to-start distance (default `length`: no overlap).

    Returns:
        x (N, length) and y (N, length) int32 with y[:, t] = ids[start + t + 1].
    """
    ids = np.asarray(ids, dtype="int32")
    starts = np.arange(0, len(ids) - length, stride or length)
    if len(starts) == 0:
        raise ValueError(f"{len(ids)} ids are too few for windows of {length} + 1")
    idx = starts[:, None] + np.arange(length)
    return ids[idx], ids[idx + 1]


def _tag_of(tok, next_tok):
    if tok.type == tokenize.NAME:
        if keyword.iskeyword(tok.string):
            return TAGS.index("keyword")
        is_call = next_tok is not None and next_tok.string == "(" and next_tok.start == tok.end
        return TAGS.index("call" if is_call else "name")
    return {tokenize.NUMBER: TAGS.index("number"), tokenize.STRING: TAGS.index("string"),
            tokenize.OP: TAGS.index("operator"),
            tokenize.COMMENT: TAGS.index("comment")}.get(tok.type)


def tag_python_lines(source):
    """(line, per-character tags) for each source line that no multi-line token touches.

    Leading indentation is dropped; spaces between tokens get the tag "space".
    """
    lines = source.splitlines()
    tags = [[TAGS.index("space")] * len(line) for line in lines]
    skip = set()
    tokens = [t for t in tokenize.generate_tokens(io.StringIO(source).readline)
              if t.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                                tokenize.DEDENT, tokenize.ENDMARKER)]
    for tok, nxt in zip(tokens, tokens[1:] + [None]):
        (r0, c0), (r1, c1) = tok.start, tok.end
        if r0 != r1 or tok.type not in (tokenize.NAME, tokenize.NUMBER, tokenize.STRING,
                                        tokenize.OP, tokenize.COMMENT):
            skip.update(range(r0, r1 + 1))  # f-strings, multi-line strings
            continue
        tags[r0 - 1][c0:c1] = [_tag_of(tok, nxt)] * (c1 - c0)
    out = []
    for row, (line, tag) in enumerate(zip(lines, tags), start=1):
        indent = len(line) - len(line.lstrip())
        if row not in skip and line.strip():
            out.append((line[indent:].rstrip(), tag[indent: len(line.rstrip())]))
    return out


def load_python_tagging(max_len=64, modules=TAGGING_MODULES, test_fraction=0.2, seed=0):
    """Per-character token tags of real Python lines from the standard library.

    The lines of `modules`' source files (as shipped with this Python; the exact lines
    vary a little between Python versions), without indentation, printable ASCII, at
    most `max_len` characters, de-duplicated, shuffled and split.

    Args:
        max_len: longest line kept; the padded width of the arrays.
        modules: standard-library modules whose source is read.
        test_fraction: share of the lines for testing.
        seed: shuffling seed.

    Returns:
        ((x_train, y_train), (x_test, y_test), vocab): x int32 char ids (N, max_len),
        0-padded; y int32 tag ids (N, max_len), 0 (`TAGS[0]`, "<pad>") at padding;
        vocab the `CharVocab` of every kept line.
    """
    pairs = {}
    for module in modules:
        source = inspect.getsource(importlib.import_module(module))
        for line, tags in tag_python_lines(source):
            if len(line) <= max_len and line.isascii() and line.isprintable():
                pairs.setdefault(line, tags)
    lines = sorted(pairs)
    order = np.random.default_rng(seed).permutation(len(lines))
    lines = [lines[i] for i in order]
    vocab = CharVocab.from_text(*lines)
    x = vocab.encode_batch(lines, max_len)
    y = np.full(x.shape, PAD, dtype="int32")
    for row, line in enumerate(lines):
        y[row, : len(line)] = pairs[line]
    n_test = int(len(lines) * test_fraction)
    return (x[n_test:], y[n_test:]), (x[:n_test], y[:n_test]), vocab
