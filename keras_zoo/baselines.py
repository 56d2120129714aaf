"""Count-based baselines that the neural models must beat: the n-gram language model.

Lecture 03 "NLP and RNN": an n-gram model conditions on the last n - 1 tokens,
p(w_1 .. w_T) = prod_t p(w_t | w_{t-n+1} .. w_{t-1}); its probabilities are learnt
"from data: just count n-gram frequencies"; sampling rolls the weighted die p(. | context)
and repeats. Add-k (Lidstone) smoothing gives unseen n-grams a little mass:

    p(w | ctx) = (count(ctx, w) + k) / (count(ctx) + k V)

NumPy only. Same interface as `keras_zoo.models.language` (`perplexity`, `generate`).
"""

import numpy as np

from keras_zoo.text import SPECIALS, START


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
