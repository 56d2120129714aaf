"""The five recurrent structures, and stateful vs stateless prediction in chunks.

Lecture 03 "Recurrent Neural Networks": one to one, one to many (image -> words), many to
one (words -> summary), many to many aligned (a label per video frame) and many to many
through an encoder and a decoder (translation). Each is a tiny Keras model here, with
its input and output shapes printed. Lecture 05: "trained recurrent networks are
stateful": a long sequence can be fed in chunks if the state is carried from chunk to
chunk. A latch task shows it: the target is the last command seen (+1 or -1), however
long ago. Fed in chunks of 50 steps, a stateless LSTM forgets the command at every chunk
boundary; a stateful copy with the same weights does not.

    KERAS_BACKEND=torch python tutorials/rnn_structures.py [--smoke]
"""

# %% Settings
import keras
import matplotlib.pyplot as plt
import numpy as np
from keras import layers

from keras_zoo import tutorial
from keras_zoo.models.language import stateful_copy

args = tutorial.setup(__doc__, epochs=12, batch_size=32, data=("embedded",))
T, T_OUT, FEATURES, CLASSES, UNITS = 10, 4, 8, 3, 16
TRAIN_LEN, LONG_LEN, CHUNK = 100, 400, 50

# %% The five structures (batch of 2; shapes without the batch axis in the table)
vec, seq, target_seq = keras.Input((FEATURES,)), keras.Input((T, FEATURES)), \
    keras.Input((T_OUT, CLASSES))
one_to_many = layers.RepeatVector(T)(vec)  # the vector fed at every step
_, h, c = layers.LSTM(UNITS, return_state=True)(seq)  # encoder: its final state only
decoded = layers.LSTM(UNITS, return_sequences=True)(target_seq, initial_state=[h, c])
structures = {
    "one to one": keras.Model(vec, layers.Dense(CLASSES)(vec)),
    "one to many": keras.Model(vec, layers.Dense(CLASSES)(
        layers.LSTM(UNITS, return_sequences=True)(one_to_many))),
    "many to one": keras.Model(seq, layers.Dense(CLASSES)(layers.LSTM(UNITS)(seq))),
    "many to many (aligned)": keras.Model(seq, layers.Dense(CLASSES)(
        layers.LSTM(UNITS, return_sequences=True)(seq))),
    "many to many (encoder-decoder)": keras.Model([seq, target_seq],
                                                  layers.Dense(CLASSES)(decoded)),
}
rng = np.random.default_rng(args.seed)
for name, model in structures.items():
    x = [rng.normal(size=(2, *t.shape[1:])).astype("float32") for t in model.inputs]
    y = model.predict_on_batch(x if len(x) > 1 else x[0])
    print(f"{name:>31}: {' + '.join(str(a.shape) for a in x)} -> {y.shape}")


# %% The latch task: commands +-1 at random steps; target = the last command so far
def hold(command):
    """(n, length) commands -> (n, length, 1): the last non-zero command up to each step."""
    held = command.copy()
    for t in range(1, command.shape[1]):
        held[:, t] = np.where(command[:, t] != 0, command[:, t], held[:, t - 1])
    return held[..., None].astype("float32")


def latch_data(n, length, rng):
    """x (n, length, 2): a command channel and a noise channel; y (n, length, 1)."""
    command = rng.choice([-1.0, 0.0, 1.0], p=[0.02, 0.96, 0.02], size=(n, length))
    command[:, 0] = rng.choice([-1.0, 1.0], size=n)  # every sequence starts with one
    x = np.stack([command, rng.normal(0, 0.3, size=(n, length))], -1).astype("float32")
    return x, hold(command)


x_train, y_train = latch_data(256 if args.smoke else 1024, TRAIN_LEN, rng)
inputs = keras.Input((None, 2))
outputs = layers.Dense(1, name="out")(layers.LSTM(UNITS, return_sequences=True,
                                                  name="lstm")(inputs))
model = keras.Model(inputs, outputs, name="latch")
model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
          callbacks=tutorial.callbacks(args), verbose=tutorial.verbose(args))

# %% A long sequence with rare commands, fed in chunks: stateless vs stateful
x_long, _ = latch_data(1, LONG_LEN, np.random.default_rng(123))
x_long[0, :, 0] = 0.0
x_long[0, [0, 130, 290], 0] = [1.0, -1.0, 1.0]  # three commands, far apart
y_long = hold(x_long[..., 0])
chunks = [x_long[:, s: s + CHUNK] for s in range(0, LONG_LEN, CHUNK)]
stateless = np.concatenate([model.predict_on_batch(c) for c in chunks], axis=1)[0, :, 0]
stateful = stateful_copy(model, batch_size=1, steps=CHUNK)
carried = np.concatenate([keras.ops.convert_to_numpy(stateful(c, training=False))
                          for c in chunks], axis=1)[0, :, 0]
whole = model.predict_on_batch(x_long)[0, :, 0]  # the whole sequence in one call
errors = {name: float(np.mean(np.abs(p - y_long[0, :, 0]))) for name, p in
          (("stateless chunks", stateless), ("stateful chunks", carried), ("whole", whole))}
for name, err in errors.items():
    print(f"{name:>16}: mean |error| {err:.3f}")
print(f"stateful chunks vs one call: max difference {np.abs(carried - whole).max():.2e}")

# %% Figure
fig, ax = plt.subplots(figsize=(10, 3.5))
ax.plot(y_long[0, :, 0], color="black", lw=3, alpha=0.3, label="target (last command)")
ax.plot(stateless, color="C0", label=f"stateless, chunks of {CHUNK}")
ax.plot(carried, color="C3", ls="--", label="stateful, same chunks")
for s in range(CHUNK, LONG_LEN, CHUNK):
    ax.axvline(s, color="gray", lw=0.5)
ax.set(xlabel="step", ylabel="output", title=f"Latch fed in chunks ({args.backend})")
ax.legend(fontsize=8)
tutorial.savefig(fig, args, "stateful_chunks.png")

# %% Result
tutorial.report(args, stateless_error=errors["stateless chunks"],
                stateful_error=errors["stateful chunks"], whole_error=errors["whole"])
