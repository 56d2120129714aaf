"""Character language models: n-gram counts vs an LSTM, perplexity and samples.

Lecture 03 "NLP and RNN": an n-gram model conditions on the last n - 1 characters and
learns by counting; an RNN language model conditions on everything so far through its
hidden state; both are sampled by rolling a weighted die per step and feeding the result
back. Data: Python's own documentation (`pydoc_data.topics`, shipped with every Python;
`--data full`: tiny Shakespeare from tensorflow-datasets); the last 10% is validation.

Teaches: perplexity = exp(mean negative log-likelihood per character) (1 is perfect, the
vocabulary size is blind guessing); why longer n-grams stop helping (their contexts were
never counted, smoothing spreads the mass); temperature (0.5 safe and repetitive, 1.5
inventive and misspelled). Expect the n-grams' best near 4.4 (n = 4) and the LSTM below.

    KERAS_BACKEND=jax python tutorials/char_language_model.py [--epochs 10] [--data full]
"""

# %% Settings
import keras
import matplotlib.pyplot as plt
import numpy as np

import keras_zoo
from keras_zoo import tutorial
from keras_zoo.datasets.text import CharVocab, load_char_corpus, make_lm_windows
from keras_zoo.models.language import NGramLM, generate, perplexity

args = tutorial.setup(__doc__, epochs=8, batch_size=32)
SEQ_LEN, UNITS, EMBED, LEARNING_RATE = 64, 256, 32, 5e-3
ORDERS, SMOOTHING = (2, 3, 4, 5), (0.01, 0.03, 0.1)  # n, and the add-k values to try
PRIME, SAMPLE_LEN = "The ", 30 if args.smoke else 240

# %% Data: text -> ids (0 pad, 1 start, 2 end, then the characters)
train_text, valid_text = load_char_corpus(args.data)
if args.smoke:
    train_text, valid_text = train_text[:20_000], valid_text[:3_000]
vocab = CharVocab.from_text(train_text, valid_text)
train_ids, valid_ids = vocab.encode(train_text), vocab.encode(valid_text)
print(f"data: {len(train_ids):,} training / {len(valid_ids):,} validation characters, "
      f"{vocab.size} ids ({len(vocab.chars)} characters + 3 specials)")

# %% n-gram baselines: count, smooth with add-k (k chosen on validation: their best case)
ngram_ppl, ngrams = {}, {}
for n in ORDERS:
    fits = [NGramLM(n, vocab.size, k).fit(train_ids) for k in SMOOTHING]
    ppls = [m.perplexity(valid_ids) for m in fits]
    ngram_ppl[n], ngrams[n] = min(ppls), fits[int(np.argmin(ppls))]
    print(f"{n}-gram: validation perplexity {min(ppls):.3f} (k = {ngrams[n].k})")
best_n = min(ngram_ppl, key=ngram_ppl.get)

# %% The LSTM language model: windows of SEQ_LEN, targets = the next characters
x, y = make_lm_windows(train_ids, SEQ_LEN)  # (N, SEQ_LEN) each
xv, yv = make_lm_windows(valid_ids, SEQ_LEN)
model = keras_zoo.build("char_lm", vocab_size=vocab.size, embed_dim=EMBED, units=UNITS)
steps = args.epochs * -(-len(x) // args.batch_size)
model.compile(optimizer=keras.optimizers.Adam(
    keras.optimizers.schedules.CosineDecay(LEARNING_RATE, steps), clipnorm=1.0),
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
fit = model.fit(x, y, batch_size=args.batch_size, epochs=args.epochs, shuffle=True,
                validation_data=(xv, yv), callbacks=tutorial.callbacks(args),
                verbose=tutorial.verbose(args))
lstm_ppl = perplexity(model, valid_ids, window=256, context=64)
print(f"LSTM: validation perplexity {lstm_ppl:.3f} (best n-gram: {ngram_ppl[best_n]:.3f}, "
      f"n = {best_n}; uniform guessing: {vocab.size})")

# %% Samples at three temperatures, primed with the same text
for temperature in (0.5, 1.0, 1.5):
    print(f"\n--- LSTM, temperature {temperature} ---")
    print(generate(model, vocab, PRIME, SAMPLE_LEN, temperature=temperature, seed=0))
print(f"\n--- {best_n}-gram, temperature 1.0 ---")
print(ngrams[best_n].generate(vocab, PRIME, SAMPLE_LEN, temperature=1.0, seed=0) + "\n")

# %% Figure: perplexity by model; the LSTM's learning curve in perplexity
fig, (ax, ax_curve) = plt.subplots(1, 2, figsize=(10, 3.8))
names = [f"{n}-gram" for n in ORDERS] + ["LSTM"]
values = [ngram_ppl[n] for n in ORDERS] + [lstm_ppl]
ax.bar(names, values, color=["C0"] * len(ORDERS) + ["C3"])
for i, v in enumerate(values):
    ax.text(i, v, f"{v:.2f}", ha="center", va="bottom")
ax.set(ylabel="validation perplexity", title=f"Character language models ({args.backend})")
epochs = np.arange(1, len(fit.history["loss"]) + 1)
ax_curve.plot(epochs, np.exp(fit.history["loss"]), marker="o", label="LSTM training")
ax_curve.plot(epochs, np.exp(fit.history["val_loss"]), marker="o", label="LSTM validation")
ax_curve.axhline(ngram_ppl[best_n], color="C0", ls="--", label=f"best n-gram (n={best_n})")
ax_curve.set(xlabel="epoch", ylabel=f"perplexity (windows of {SEQ_LEN})", yscale="log")
ax_curve.legend()
tutorial.savefig(fig, args, "char_lm_perplexity.png")

# %% Result
tutorial.report(args, lstm_perplexity=lstm_ppl, best_ngram_perplexity=ngram_ppl[best_n],
                best_ngram_n=best_n, **{f"ngram{n}_perplexity": ngram_ppl[n] for n in ORDERS})
