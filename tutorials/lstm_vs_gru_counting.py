"""Can an LSTM count? a^n b^n with an LSTM and a GRU (Weiss, Goldberg & Yahav 2018).

Lecture 05: "it was shown in 2018 that the LSTM is strictly stronger than the GRU ...
the GRU cannot learn some simple language models easily learned by LSTMs". The test
language is a^n b^n: after reading n a's and some b's, the next symbol is b until n b's
have been read, then the end. Getting that right for every n takes a counter. An LSTM
can keep one in its cell state (c += 1 per a, c -= 1 per b: the cell is a sum, not
squashed); a GRU's state is a convex mix of its old value and a tanh, so it stays in
(-1, 1) and can only approximate a count it has seen.

Both models (`char_lm` with 4 symbols: pad, a, b, end) are trained on n = 1 .. 20 only
and tested on n = 1 .. 100. A string counts as recognised when every determined
prediction (from the first b on) is right. Training runs differ: what a given seed finds
is reported as it is, and the cell plot shows whether the LSTM found a counter.

    KERAS_BACKEND=jax python tutorials/lstm_vs_gru_counting.py [--seed 1]
"""

# %% Settings
import keras
import matplotlib.pyplot as plt
import numpy as np

import keras_zoo
from keras_zoo import tutorial
from keras_zoo.datasets.counting import SYMBOLS, make_anbn, recognised
from keras_zoo.models.language import step_model

args = tutorial.setup(__doc__, epochs=60, batch_size=32)
TRAIN_MAX, TEST_MAX, COPIES, UNITS, LEARNING_RATE = 20, 100, 40, 8, 1e-2
CELLS = ("lstm", "gru")

# %% Data: every n in 1 .. 20, COPIES times; test strings for every n in 1 .. 100
train_ns = np.tile(np.arange(1, TRAIN_MAX + 1), 4 if args.smoke else COPIES)
x, y, w = make_anbn(train_ns)  # (N, 40) each
test_ns = np.arange(1, (30 if args.smoke else TEST_MAX) + 1)
x_test, y_test, w_test = make_anbn(test_ns)  # (100, 200)
print(f"train: {len(x)} strings, n <= {TRAIN_MAX}; test: n = 1 .. {test_ns[-1]}")

# %% Train both: next-symbol cross-entropy on the determined steps only (weights w)
models, ok = {}, {}
for cell in CELLS:
    keras.utils.set_random_seed(args.seed)
    model = keras_zoo.build("char_lm", vocab_size=len(SYMBOLS), embed_dim=3, units=UNITS,
                            cell=cell)
    steps = args.epochs * -(-len(x) // args.batch_size)  # cosine decay: fine slopes late
    model.compile(optimizer=keras.optimizers.Adam(
        keras.optimizers.schedules.CosineDecay(LEARNING_RATE, steps), clipnorm=1.0),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, sample_weight=w, batch_size=args.batch_size, epochs=args.epochs,
              shuffle=True, verbose=0, callbacks=tutorial.callbacks(args, name=cell))
    models[cell] = model
    ok[cell] = recognised(model.predict(x_test, verbose=0), y_test, w_test)  # (100,)
    first_fail = test_ns[~ok[cell]][0] if not ok[cell].all() else None
    print(f"{cell.upper():>4}: recognises {ok[cell][:TRAIN_MAX].mean():.0%} of n <= "
          f"{TRAIN_MAX}, {ok[cell][TRAIN_MAX:].mean():.0%} of {TRAIN_MAX} < n <= "
          f"{test_ns[-1]}; first failure at n = {first_fail}")


# %% Inside the LSTM: run it step by step and find the cell unit that tracks the count
def cell_states(model, n):
    """The LSTM's cell state c after each symbol of a^n b^n: (2n, units)."""
    step = step_model(model)
    states = [np.zeros(tuple(t.shape), "float32") for t in step.inputs[1:]]
    x_n, _, _ = make_anbn([n])
    trace = []
    for t in range(2 * n):
        _, *states = step.predict_on_batch([x_n[:, t: t + 1], *states])
        trace.append(states[-1][0])  # an LSTM's states are (h, c): c is the last
    return np.array(trace)


probe_n = 60 if not args.smoke else 10
c = cell_states(models["lstm"], probe_n)
count = np.concatenate([np.arange(1, probe_n + 1), np.arange(probe_n - 1, -1, -1)])
corr = [abs(np.corrcoef(c[:, u], count)[0, 1]) if c[:, u].std() > 0 else 0
        for u in range(UNITS)]
unit = int(np.argmax(corr))
print(f"LSTM cell unit {unit} follows the count #a - #b with |correlation| {corr[unit]:.3f}")

# %% Figure: recognised by n; the counting cell for one long string
fig, (ax, ax_cell) = plt.subplots(1, 2, figsize=(11, 3.8))
for i, cell in enumerate(CELLS):
    ax.plot(test_ns, ok[cell] + 0.04 * i, ".", label=cell.upper(), color=f"C{i}")
ax.axvspan(0, TRAIN_MAX + 0.5, color="gold", alpha=0.2, label="training range")
ax.set(xlabel="n", ylabel="recognised (1) or not (0)", yticks=[0, 1],
       title=f"a^n b^n, trained on n <= {TRAIN_MAX} ({args.backend})")
ax.legend()
ax_cell.plot(c[:, unit], color="C0", label=f"LSTM c[{unit}]")
ax_cell.axvline(probe_n - 0.5, color="gray", ls=":", label="a's | b's")
ax_cell.set(xlabel="step", ylabel="cell state",
            title=f"The counting cell on a^{probe_n} b^{probe_n} "
                  f"(|corr| with #a-#b {corr[unit]:.2f})")
ax_cell.legend()
tutorial.savefig(fig, args, "anbn_counting.png")

# %% Result
tutorial.report(args, **{f"{cell}_train_range": float(ok[cell][:TRAIN_MAX].mean())
                         for cell in CELLS},
                **{f"{cell}_beyond": float(ok[cell][TRAIN_MAX:].mean()) for cell in CELLS},
                counting_cell_corr=float(corr[unit]))
