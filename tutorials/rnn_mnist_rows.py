"""MNIST read row by row: SimpleRNN vs GRU vs LSTM, accuracy and time per epoch.

The lectures' many-to-one example: an image becomes a sequence of 28 time steps, each
the 28 pixels of one row; the last hidden state has seen the whole digit and a dense
layer reads the class from it (`rnn_classifier`). Teaches: sequences from images, why
gates matter (a SimpleRNN must carry the top rows through 28 squashing steps; LSTM and
GRU carry them in a gated state), and what the gates cost per epoch on a CPU. The LSTM
reaches about 0.95-0.96 on the embedded 4,000 / 1,000 split, the GRU and the SimpleRNN
slightly less (numbers: the README's results table).

    KERAS_BACKEND=jax python tutorials/rnn_mnist_rows.py [--epochs 12] [--data full]
"""

# %% Settings
import time

import keras
import matplotlib.pyplot as plt
import numpy as np

import keras_zoo
from keras_zoo import tutorial
from keras_zoo.datasets import load_mnist

args = tutorial.setup(__doc__, epochs=12, batch_size=64)
UNITS, LEARNING_RATE = 16 if args.smoke else 128, 3e-3  # Adam, cosine decay to 0
CELLS = {"rnn": "SimpleRNN", "gru": "GRU", "lstm": "LSTM"}

# %% Data: (N, 28, 28, 1) images; the model reshapes each to 28 rows of 28 pixels
(x_train, y_train), (x_test, y_test) = load_mnist(args.data)
x_train, y_train, x_test, y_test = tutorial.small(args, x_train, y_train, x_test, y_test)
print(f"data: {len(x_train)} train / {len(x_test)} test digits, each 28 steps x 28 pixels")

# %% Train each cell the same way; time the epochs after the first (which compiles)
class EpochTimer(keras.callbacks.Callback):
    """Wall-clock seconds of each epoch."""

    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)


results = {}
for cell, label in CELLS.items():
    model = keras_zoo.build("rnn_classifier", cell=cell, units=UNITS)  # -> (batch, 10)
    steps = args.epochs * -(-len(x_train) // args.batch_size)
    model.compile(optimizer=keras.optimizers.Adam(
        keras.optimizers.schedules.CosineDecay(LEARNING_RATE, steps), clipnorm=1.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"])
    timer = EpochTimer()
    fit = model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
                    validation_data=(x_test, y_test), verbose=0,
                    callbacks=tutorial.callbacks(args, timer, name=cell))
    accuracy = float(np.mean(np.argmax(model.predict(x_test, verbose=0), 1) == y_test))
    epoch_s = float(np.mean(timer.seconds[1:] or timer.seconds))
    results[cell] = {"accuracy": accuracy, "epoch_s": epoch_s,
                     "curve": fit.history["val_accuracy"], "params": model.count_params()}
    print(f"{label:>9}: {model.count_params():>6} weights, test accuracy {accuracy:.4f}, "
          f"{epoch_s:.2f} s per epoch")

# %% Figure: test accuracy per epoch, and the time per epoch
fig, (ax, ax_time) = plt.subplots(1, 2, figsize=(10, 3.8), width_ratios=(2, 1))
for cell, r in results.items():
    ax.plot(range(1, len(r["curve"]) + 1), r["curve"], marker="o",
            label=f"{CELLS[cell]} ({r['accuracy']:.3f})")
ax.axhline(0.95, color="gray", ls=":", label="0.95")
ax.set(xlabel="epoch", ylabel="test accuracy", ylim=(0, 1),
       title=f"MNIST row by row, {UNITS} units ({args.backend})")
ax.legend()
ax_time.bar([CELLS[c] for c in results], [r["epoch_s"] for r in results.values()],
            color=["C0", "C1", "C2"])
ax_time.set(ylabel="seconds per epoch", title=f"{len(x_train)} digits per epoch")
tutorial.savefig(fig, args, "rnn_mnist_rows.png")

# %% Result
tutorial.report(args, **{f"{c}_accuracy": r["accuracy"] for c, r in results.items()},
                **{f"{c}_epoch_s": r["epoch_s"] for c, r in results.items()})
