"""Many-to-many tagging: one tag per character of Python code, one way vs both ways.

Lecture 03: a bidirectional RNN reads the sequence left to right and right to left and
joins both states at every step, so each output sees the whole sequence. The task is a
named-entity-style tagging with real labels: every character of a line of Python source
from the standard library gets the type of the token it belongs to, as Python's own
`tokenize` module says: name, keyword, call (a name right before "("), number, string,
operator, comment or space. The first letters of `print(` and `printer` look the same;
which one it is, and whether `in` is the keyword or the start of `int`, shows only to the
right. A left-to-right LSTM must guess there; the bidirectional one can look.

Padding (id 0) is masked: the lines have different lengths, padded to 64, and neither
the recurrent layers nor the loss see the padding (`bilstm_tagger`).

    KERAS_BACKEND=tensorflow python tutorials/ner_tagging.py [--epochs 8]
"""

# %% Settings
import keras
import matplotlib.pyplot as plt
import numpy as np

import keras_zoo
from keras_zoo import tutorial
from keras_zoo.datasets.text import TAGS, load_python_tagging

args = tutorial.setup(__doc__, epochs=8, batch_size=64)
MAX_LEN, UNITS, EMBED, LEARNING_RATE = 64, 64, 32, 5e-3

# %% Data: (N, 64) character ids, (N, 64) tag ids, 0 = padding in both
(x_train, y_train), (x_test, y_test), vocab = load_python_tagging(max_len=MAX_LEN)
x_train, y_train, x_test, y_test = tutorial.small(args, x_train, y_train, x_test, y_test)
print(f"data: {len(x_train)} training / {len(x_test)} test lines of stdlib Python, "
      f"{vocab.size} character ids, {len(TAGS) - 1} tags")
example = vocab.decode(x_test[0])
print(f"  {example}\n  " + "".join("_ nkcNsoC"[t] for t in y_test[0][: len(example)]))
print("  (n name, k keyword, c call, N number, s string, o operator, C comment)")


def accuracy_on_characters(model, x, y):
    """Accuracy over the real (unpadded) characters, and per tag."""
    predicted = np.argmax(model.predict(x, batch_size=256, verbose=0), axis=-1)
    real = y > 0
    per_tag = {TAGS[t]: float(np.mean(predicted[y == t] == t)) for t in range(1, len(TAGS))
               if np.any(y == t)}
    return float(np.mean(predicted[real] == y[real])), per_tag


# %% Train a left-to-right and a bidirectional tagger the same way
results = {}
for bidirectional in (False, True):
    label = "bidirectional" if bidirectional else "left-to-right"
    model = keras_zoo.build("bilstm_tagger", vocab_size=vocab.size, num_classes=len(TAGS),
                            embed_dim=EMBED, units=UNITS, bidirectional=bidirectional)
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
              callbacks=tutorial.callbacks(args, name=label), verbose=tutorial.verbose(args))
    results[label] = accuracy_on_characters(model, x_test, y_test)
    print(f"{label:>14}: {model.count_params()} weights, test accuracy per character "
          f"{results[label][0]:.4f}")

# %% Figure: accuracy per tag, one way vs both ways
fig, ax = plt.subplots(figsize=(9, 3.8))
tags = list(results["bidirectional"][1])
width = 0.4
for i, (label, (overall, per_tag)) in enumerate(results.items()):
    ax.bar(np.arange(len(tags)) + (i - 0.5) * width, [per_tag[t] for t in tags], width,
           label=f"{label} (all: {overall:.3f})")
ax.set_xticks(range(len(tags)), tags)
ax.set(ylabel="test accuracy", ylim=(0, 1.05),
       title=f"Tagging Python characters by token type ({args.backend})")
ax.legend(loc="lower left")
tutorial.savefig(fig, args, "tagging_accuracy.png")

# %% Result
tutorial.report(args, unidirectional_accuracy=results["left-to-right"][0],
                bidirectional_accuracy=results["bidirectional"][0],
                unidirectional_call_accuracy=results["left-to-right"][1]["call"],
                bidirectional_call_accuracy=results["bidirectional"][1]["call"])
