"""Seq2seq with and without attention: human-written dates -> ISO dates.

Follows the lecture's "Seq-2-Seq" and "Seq-2-Seq with attention" (Cho et al. 2014's
RNNencdec vs Bahdanau, Cho & Bengio 2015's RNNsearch). The task: "25/06/09", "THU 25 JUN
2009", "Thursday, the twenty-fifth of June, two thousand and nine" ... (22 formats, 3
letter cases, 8-66 characters, dates 1950-2049 from Python's datetime) -> "2009-06-25".
Two LSTM encoder-decoders with 64-unit decoders are trained with teacher forcing: one
reads left to right and must squeeze the whole date into its final state, the other
reads both ways (32 units each) and attends over every encoder state, feeding what it
attended to into its next step (input feeding). Greedy decoding feeds each predicted
character back until the end token. Teaches: teacher forcing vs free-running decoding,
the end-of-sequence token, exact-match accuracy by input length, and what attention
weights look like (a soft alignment of output to input characters).
With attention nearly every date comes out right, and every long one (46-66
characters); without it the model misses more, short numeric dates too: it must copy
digits exactly through its final state. Trained longer, the plain model gets the longest
inputs right too: the gap is in how fast it learns, not a hard limit at 66 characters.
Numbers per backend and seed: the README's results table.

    KERAS_BACKEND=jax python tutorials/seq2seq_attention.py [--epochs 12]
"""

# %% Settings
import keras
import matplotlib.pyplot as plt
import numpy as np

import keras_zoo
from keras_zoo import tutorial
from keras_zoo.datasets import dates
from keras_zoo.models.seq2seq import teacher_forcing, translate

args = tutorial.setup(__doc__, epochs=12, batch_size=128, data=("embedded",))
N_TRAIN, N_TEST = 10_000, 1_000
SHRINK = 4 if args.smoke else 1  # --smoke: LSTMs 4x narrower
# (encoder direction, LSTM units): both decoders have 64 units, the size of the fixed vector
MODELS = {"seq2seq": (False, 64 // SHRINK), "seq2seq_attention": (True, 32 // SHRINK)}
LEARNING_RATE = 1e-2  # Adam, cosine decay to 0
LENGTH_BINS = (0, 15, 25, 35, 45, 66)  # input lengths (characters) for the breakdown

# %% Data: strings -> 0-padded ids (0 pad, 1 <start>, 2 <end>)
(x_train, y_train), (x_test, y_test) = dates.load_dates(N_TRAIN, N_TEST, seed=args.seed)
x_train, y_train = tutorial.small(args, x_train, y_train, n=128)  # --smoke: one batch
x_test, y_test = tutorial.small(args, x_test, y_test, n=32)  # and a quick decoding
source_vocab, target_vocab = dates.source_vocab(), dates.target_vocab()
source_length = dates.max_source_length()  # 66: every format fits
target_length = dates.TARGET_LENGTH + 1  # 10 characters + <end>
source = source_vocab.encode_batch(x_train, source_length)  # (N, 66)
decoder_input, target = teacher_forcing(target_vocab, y_train, target_length)  # (N, 11) x 2
print(f"data: {len(x_train)} train / {len(x_test)} test dates (test dates unseen), "
      f"{source_vocab.size} source ids, {target_vocab.size} target ids")
for text, iso in list(zip(x_train, y_train))[:4]:
    print(f"  {text!r:40} -> {iso}")
print(f"teacher forcing: decoder input {decoder_input[0]} -> target {target[0]}")

# %% Two models, the same encoder; fit with teacher forcing
models = {}
for name, (bidirectional, units) in MODELS.items():
    model = keras_zoo.build(name, source_vocab=source_vocab.size, target_vocab=target_vocab.size,
                            units=units, bidirectional=bidirectional)
    steps = args.epochs * -(-len(source) // args.batch_size)
    model.compile(
        optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(LEARNING_RATE,
                                                                               steps)),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"])  # per character, with the true previous characters fed in
    print(f"{name}: {model.count_params():,} parameters")
    model.fit([source, decoder_input], target, batch_size=args.batch_size,
              epochs=args.epochs, callbacks=tutorial.callbacks(args, name=name),
              verbose=tutorial.verbose(args))
    models[name] = model

# %% Greedy decoding and exact-match accuracy, overall and by input length
lengths = np.array([len(t) for t in x_test])
bins = np.digitize(lengths, LENGTH_BINS[1:-1])  # bin index of each test input
labels = [f"{a + 1}-{b}" for a, b in zip(LENGTH_BINS[:-1], LENGTH_BINS[1:])]
accuracy, by_length = {}, {}
for name, model in models.items():
    predicted = translate(model, x_test, source_vocab, target_vocab, source_length,
                          target_length, batch_size=len(x_test))  # one batch, one compile
    correct = np.array([p == t for p, t in zip(predicted, y_test)])
    accuracy[name] = correct.mean()
    by_length[name] = [correct[bins == i].mean() if np.any(bins == i) else np.nan
                       for i in range(len(labels))]
    wrong = [(x, p) for x, p, ok in zip(x_test, predicted, correct) if not ok][:3]
    print(f"{name}: exact match {accuracy[name]:.4f}; e.g. wrong: {wrong}")
print(f"{'input length':>14} {'count':>6} " + " ".join(f"{n:>18}" for n in models))
for i, label in enumerate(labels):
    print(f"{label:>14} {np.sum(bins == i):6d} "
          + " ".join(f"{by_length[n][i]:18.4f}" for n in models))

fig, ax = plt.subplots(figsize=(7, 3.8))
for k, name in enumerate(models):
    ax.bar(np.arange(len(labels)) + (k - 0.5) * 0.4, by_length[name], 0.4,
           label=f"{name} ({accuracy[name]:.3f})")
ax.set(xticks=range(len(labels)), xticklabels=labels, ylim=(0, 1.3),
       xlabel="input length (characters)", ylabel="exact-match accuracy",
       title="Dates -> ISO: greedy decoding on unseen dates")
ax.legend(loc="upper center", ncol=2)
tutorial.savefig(fig, args, "seq2seq_accuracy_by_length.png")

# %% Attention weights: which input characters each output character looked at
viewer = keras_zoo.build("seq2seq_attention", source_vocab=source_vocab.size,
                         target_vocab=target_vocab.size, bidirectional=True,
                         units=MODELS["seq2seq_attention"][1],
                         return_attention=True)
viewer.set_weights(models["seq2seq_attention"].get_weights())  # the same layers and weights
examples = [t for t in x_test if len(t) > 45][:1] + list(x_test[:2])
predicted = translate(models["seq2seq_attention"], examples, source_vocab, target_vocab,
                      source_length, target_length, batch_size=len(examples))
predicted = [iso[: target_length - 1] for iso in predicted]  # a row without <end> is cut
fig, axes = plt.subplots(1, len(examples), figsize=(5 * len(examples), 4.2))
for ax, text, iso in zip(np.atleast_1d(axes), examples, predicted):
    ids = source_vocab.encode_batch([text], source_length)
    fed, _ = teacher_forcing(target_vocab, [iso], target_length)  # the decoder's own output
    _, weights = viewer.predict_on_batch([ids, fed])  # (1, T_out, T_in)
    weights = np.asarray(weights)[0, : len(iso) + 1, : len(text)]
    ax.imshow(weights, cmap="viridis", aspect="auto", vmin=0, vmax=1)
    ax.set(xticks=range(len(text)), xticklabels=list(text), yticks=range(len(iso) + 1),
           yticklabels=list(iso) + ["<end>"], title=f"{text!r} -> {iso}")
    ax.tick_params(axis="x", labelsize=7)
fig.suptitle("Bahdanau attention weights (rows: output characters, columns: input)")
tutorial.savefig(fig, args, "seq2seq_attention_weights.png")

# %% Result
long_bin = len(labels) - 1
tutorial.report(args, exact_match_attention=accuracy["seq2seq_attention"],
                exact_match_plain=accuracy["seq2seq"],
                long_inputs_attention=by_length["seq2seq_attention"][long_bin],
                long_inputs_plain=by_length["seq2seq"][long_bin])
