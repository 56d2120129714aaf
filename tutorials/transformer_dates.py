"""The Transformer on the dates task: human-written dates -> ISO dates, no recurrence.

The same data as tutorials/seq2seq_attention.py ("25/06/09", "the 25th of June, 2009",
"Thursday, the twenty-fifth of June, two thousand and nine" ... -> "2009-06-25"), now
with the encoder-decoder of "Attention Is All You Need" (Vaswani et al. 2017; lecture
"Neural networks: CNN, RNN, Transformer"): token
embeddings plus sinusoidal positions, multi-head self-attention with a padding mask in
the encoder, causal self-attention and attention over the source in the decoder.
Teaches: what replaces the recurrence (positions + attention), the two masks, learning-
rate warm-up, and greedy decoding with a causal decoder at a fixed length (one compiled
step). Compares its exact-match accuracy with the LSTM seq2seq with attention (read from
that tutorial's metrics.json when it has been run with the same --out parent).

    KERAS_BACKEND=jax python tutorials/transformer_dates.py [--epochs 8]
"""

# %% Settings
import json

import keras
import matplotlib.pyplot as plt
import numpy as np

import keras_zoo
from keras_zoo import tutorial
from keras_zoo.datasets import dates
from keras_zoo.models.seq2seq import teacher_forcing, translate

args = tutorial.setup(__doc__, epochs=6, batch_size=64, data=("embedded",))
N_TRAIN, N_TEST = 10_000, 1_000  # as in seq2seq_attention.py
SIZE = {"dim": 64, "num_heads": 4, "ff_dim": 128, "num_layers": 2, "dropout": 0.0}  # clean data
if args.smoke:  # one small layer
    SIZE = {"dim": 16, "num_heads": 2, "ff_dim": 32, "num_layers": 1, "dropout": 0.0}
LEARNING_RATE, WARMUP = 2e-3, 0.1  # Adam; linear warm-up over the first 10%, then cosine
LENGTH_BINS = (0, 15, 25, 35, 45, 66)  # as in seq2seq_attention.py

# %% Data: the same strings and ids as seq2seq_attention.py
(x_train, y_train), (x_test, y_test) = dates.load_dates(N_TRAIN, N_TEST, seed=args.seed)
x_train, y_train = tutorial.small(args, x_train, y_train, n=128)  # --smoke: two batches
x_test, y_test = tutorial.small(args, x_test, y_test, n=32)  # and a quick decoding
source_vocab, target_vocab = dates.source_vocab(), dates.target_vocab()
source_length, target_length = dates.max_source_length(), dates.TARGET_LENGTH + 1
source = source_vocab.encode_batch(x_train, source_length)  # (N, 66)
decoder_input, target = teacher_forcing(target_vocab, y_train, target_length)  # (N, 11) x 2
print(f"data: {len(x_train)} train / {len(x_test)} test dates (test dates unseen)")

# %% The model; fit with teacher forcing (the causal mask makes it one pass per batch)
config = dict(source_vocab=source_vocab.size, target_vocab=target_vocab.size,
              max_source_length=source_length, max_target_length=target_length, **SIZE)
model = keras_zoo.build("transformer", **config)
print(f"transformer: {model.count_params():,} parameters, {SIZE}")
steps = args.epochs * -(-len(source) // args.batch_size)
schedule = keras.optimizers.schedules.CosineDecay(
    0.0, int(steps * (1 - WARMUP)), warmup_target=LEARNING_RATE, warmup_steps=int(steps * WARMUP))
model.compile(optimizer=keras.optimizers.Adam(schedule),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])
model.fit([source, decoder_input], target, batch_size=args.batch_size, epochs=args.epochs,
          callbacks=tutorial.callbacks(args), verbose=tutorial.verbose(args))

# %% Greedy decoding: exact match overall and by input length
predicted = translate(model, x_test, source_vocab, target_vocab, source_length, target_length,
                      batch_size=len(x_test))
correct = np.array([p == t for p, t in zip(predicted, y_test)])
accuracy = correct.mean()
lengths = np.array([len(t) for t in x_test])
bins = np.digitize(lengths, LENGTH_BINS[1:-1])
labels = [f"{a + 1}-{b}" for a, b in zip(LENGTH_BINS[:-1], LENGTH_BINS[1:])]
by_length = [correct[bins == i].mean() if np.any(bins == i) else np.nan
             for i in range(len(labels))]
print(f"transformer: exact match {accuracy:.4f}")
for label, acc in zip(labels, by_length):
    print(f"  input length {label:>6}: {acc:.4f}")
wrong = [(x, p) for x, p, ok in zip(x_test, predicted, correct) if not ok][:5]
print(f"some mistakes: {wrong}")

previous = args.out.parent / "seq2seq_attention" / "metrics.json"
if previous.exists():
    other = json.loads(previous.read_text())
    print(f"LSTM seq2seq with attention ({other['backend']}, {other['seconds']} s): exact match "
          f"{other['exact_match_attention']}, without attention {other['exact_match_plain']}")
else:
    print(f"(run tutorials/seq2seq_attention.py --out {previous.parent} to compare)")

# %% Attention over the source: last decoder block, averaged over the heads
viewer = keras_zoo.build("transformer", **config, return_attention=True)
viewer.set_weights(model.get_weights())
examples = [t for t in x_test if len(t) > 45][:1] + list(x_test[:2])
outputs = translate(model, examples, source_vocab, target_vocab, source_length, target_length,
                    batch_size=len(examples))
outputs = [iso[: target_length - 1] for iso in outputs]
fig, axes = plt.subplots(1, len(examples) + 1, figsize=(5 * len(examples) + 4, 4.2))
for ax, text, iso in zip(axes[1:], examples, outputs):
    ids = source_vocab.encode_batch([text], source_length)
    fed, _ = teacher_forcing(target_vocab, [iso], target_length)
    _, scores = viewer.predict_on_batch([ids, fed])  # (1, heads, T_out, T_in)
    weights = np.asarray(scores)[0].mean(0)[: len(iso) + 1, : len(text)]
    ax.imshow(weights, cmap="viridis", aspect="auto", vmin=0)
    ax.set(xticks=range(len(text)), xticklabels=list(text), yticks=range(len(iso) + 1),
           yticklabels=list(iso) + ["<end>"], title=f"{text!r} -> {iso}")
    ax.tick_params(axis="x", labelsize=7)
axes[0].bar(range(len(labels)), by_length, color="tab:green")
axes[0].set(xticks=range(len(labels)), xticklabels=labels, ylim=(0, 1.05),
            xlabel="input length", ylabel="exact match", title=f"accuracy {accuracy:.3f}")
fig.suptitle("Transformer on dates: accuracy by input length; decoder-to-source attention")
tutorial.savefig(fig, args, "transformer_dates.png")

# %% Result
tutorial.report(args, exact_match=accuracy, long_inputs=by_length[-1],
                params=model.count_params())
