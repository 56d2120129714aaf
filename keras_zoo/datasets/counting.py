"""The counting language a^n b^n (Weiss, Goldberg & Yahav 2018), as next-symbol prediction.

Lecture 05: "it was shown in 2018 that the LSTM is strictly stronger than the GRU": an
LSTM can keep a counter in its cell state (c grows by one per a, shrinks by one per b);
a GRU's state is squashed into (-1, 1) and cannot count far.

A string a^n b^n is fed one symbol at a time; the target at each step is the next symbol
(then the end symbol after the last b). While the a's come, the next symbol cannot be
known (another a, or the first b?), so those steps get weight 0; once the first b is
read every next symbol is determined: b until n b's have been read, then end. A string
counts as recognised when all its determined predictions are right.
"""

import numpy as np

PAD, A, B, END = 0, 1, 2, 3
SYMBOLS = ("<pad>", "a", "b", "<end>")


def make_anbn(ns, length=None):
    """Inputs, next-symbol targets and weights for the strings a^n b^n, n in `ns`.

    Args:
        ns: the values of n (ints >= 1), one string each.
        length: padded length (default 2 * max(ns)).

    Returns:
        x (len(ns), length) int32 symbols (1 = a, 2 = b, 0 = padding);
        y (len(ns), length) int32 next symbols (2 = b, 3 = end where determined);
        w (len(ns), length) float32: 1 on the determined steps (from the first b on),
        0 on the a's and on padding.
    """
    ns = np.asarray(ns, dtype="int64").reshape(-1)
    if ns.size == 0 or ns.min() < 1:
        raise ValueError(f"n must be >= 1, got {ns.tolist()[:10]}")
    length = length or 2 * int(ns.max())
    if 2 * int(ns.max()) > length:
        raise ValueError(f"a^n b^n with n = {ns.max()} does not fit in length {length}")
    t = np.arange(length)[None, :]  # (1, length)
    n = ns[:, None]  # (N, 1)
    x = np.where(t < n, A, np.where(t < 2 * n, B, PAD)).astype("int32")
    y = np.where(t < 2 * n - 1, B, np.where(t == 2 * n - 1, END, PAD)).astype("int32")
    y = np.where(t < n - 1, A, y).astype("int32")  # (unweighted) the a's continue
    w = ((t >= n) & (t < 2 * n)).astype("float32")
    return x, y, w


def recognised(logits, y, w):
    """Per string: True when the argmax is right at every weighted step.

    Args:
        logits: (N, length, symbols) model outputs.
        y: (N, length) targets; w: (N, length) weights (`make_anbn`).

    Returns:
        Boolean array (N,).
    """
    right = np.argmax(logits, axis=-1) == y
    return np.all(right | (w == 0), axis=-1)
