"""Hopfield network: store letters, recover a half-corrupted 'T', watch the energy fall.

Follows "Modern architectures" (symmetrically connected networks: binary threshold units,
Hebb's rule, every update moves to a lower energy; "Original 'T'" and "half of image
corrupted by noise" recovered; Hopfield 1982). Teaches: Hebbian storage (`fit` applies
W += P^T P / N, no gradients), asynchronous updates (one unit at a time, the energy
E = -1/2 s^T W s never rises), and capacity: N units hold about 0.138 N random patterns
(Amit, Gutfreund & Sompolinsky 1985); beyond that, recall breaks down.

    KERAS_BACKEND=jax python tutorials/hopfield_patterns.py [--smoke]
"""

# %% Settings
import warnings

import keras
import matplotlib.pyplot as plt
import numpy as np

import keras_zoo
from keras_zoo import tutorial
from keras_zoo.models.energy import HOPFIELD_CAPACITY

args = tutorial.setup(__doc__, batch_size=4, data=("letters",),  # Hebb's rule: one pass,
                      resumable=False)  # nothing to resume
rng = np.random.default_rng(args.seed)
SIDE = 10  # 10x10 bitmaps: N = 100 units
LETTERS = {
    "T": ["##########", "##########"] + ["....##...."] * 8,
    "L": ["##........"] * 8 + ["##########"] * 2,
    "X": ["".join("#" if abs(j - i) < 2 or abs(j + i - 9) < 2 else "." for j in range(SIDE))
          for i in range(SIDE)],
    "O": ["..######.."] + ["##......##"] * 8 + ["..######.."],
}

# %% The patterns: '#' -> +1 (ink), '.' -> -1
patterns = np.float32([[1.0 if c == "#" else -1.0 for c in "".join(rows)]
                       for rows in LETTERS.values()])  # (4, 100)
overlaps = patterns @ patterns.T / patterns.shape[1]
print("pattern overlaps m = p.q / N (1 on the diagonal):\n", np.round(overlaps, 2))

# %% Hebbian storage with fit: one pass over the letters, no optimizer step
model = keras_zoo.build("hopfield", units=SIDE * SIDE)
model.compile(optimizer="sgd")  # required by Keras; unused (no trainable weights)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # "The model does not have any trainable weights."
    model.fit(patterns, batch_size=args.batch_size, epochs=1, verbose=0,
              callbacks=tutorial.callbacks(args))
W = keras.ops.convert_to_numpy(model.kernel)
print(f"W symmetric: {np.allclose(W, W.T)}, zero diagonal: {np.all(np.diag(W) == 0)}")

# %% Corrupt half of each letter's pixels (set to random values), then update one unit at a
# time in random order, recording the energy after every single update, until stable
def recall(state):
    state = keras.ops.convert_to_tensor(state[None])
    energies = [float(model.energy(state)[0])]
    for _ in range(20):
        before = keras.ops.convert_to_numpy(state)
        for i in rng.permutation(model.units):
            state = model.update_unit(state, int(i))
            energies.append(float(model.energy(state)[0]))
        if np.array_equal(before, keras.ops.convert_to_numpy(state)):
            break
    return keras.ops.convert_to_numpy(state)[0], np.array(energies)


results = []
for p in patterns:
    corrupted = p.copy()
    half = rng.choice(p.size, p.size // 2, replace=False)
    corrupted[half] = rng.choice([-1.0, 1.0], size=half.size)
    recovered, energies = recall(corrupted)
    results.append((corrupted, recovered, energies))
for name, p, (corrupted, recovered, energies) in zip(LETTERS, patterns, results):
    print(f"{name}: {int(np.sum(corrupted != p)):2d} pixels wrong after corruption, "
          f"{int(np.sum(recovered != p))} after recall; energy {energies[0]:.1f} -> "
          f"{energies[-1]:.1f} in {len(energies) - 1} updates")
t_errors = int(np.sum(results[0][1] != patterns[0]))
monotone = all(np.all(np.diff(e) <= 1e-4) for _, _, e in results)
print(f"'T' recovered exactly: {t_errors == 0}; energy never rose: {monotone}")

# %% Figure: original, corrupted, recovered
fig, axes = plt.subplots(3, len(patterns), figsize=(2 * len(patterns), 6))
for col, (name, p, (corrupted, recovered, _)) in enumerate(zip(LETTERS, patterns, results)):
    for row, (img, title) in enumerate([(p, f"original '{name}'"), (corrupted, "half noise"),
                                        (recovered, "recalled")]):
        axes[row, col].imshow(img.reshape(SIDE, SIDE), cmap="gray_r", vmin=-1, vmax=1)
        axes[row, col].set_title(title, fontsize=9)
        axes[row, col].axis("off")
tutorial.savefig(fig, args, "hopfield_letters.png")

# %% Figure: energy after every asynchronous update
fig, ax = plt.subplots(figsize=(6, 3.5))
for name, (_, _, energies) in zip(LETTERS, results):
    ax.plot(energies, label=f"'{name}'")
ax.set(xlabel="asynchronous update (one unit)", ylabel="energy E(s)",
       title="Energy never rises under asynchronous updates")
ax.legend()
tutorial.savefig(fig, args, "hopfield_energy.png")

# %% Capacity: store P random patterns in N units, start 64 probes at 5% flipped bits,
# count probes that end exactly on their pattern (fixed batch of 64: one compiled function)
N, probes = (64, 64) if args.smoke else (100, 64)
trials = 1 if args.smoke else 3
capacity = keras_zoo.build("hopfield", units=N, steps=4)
loads = np.array([2, 12]) if args.smoke else np.arange(1, int(0.3 * N) + 1)
exact, overlap = np.zeros(len(loads)), np.zeros(len(loads))
for _ in range(trials):
    for j, P in enumerate(loads):
        stored = rng.choice([-1.0, 1.0], size=(P, N)).astype("float32")
        capacity.store(stored)
        target = stored[np.arange(probes) % P]
        start = target * np.where(rng.uniform(size=target.shape) < 0.05, -1, 1)
        final = capacity.predict(start.astype("float32"), batch_size=probes, verbose=0)
        exact[j] += np.mean(np.all(final == target, axis=1)) / trials
        overlap[j] += np.mean(final * target) / trials
for P, e, m in zip(loads, exact, overlap):
    print(f"P={P:2d} (P/N={P / N:.2f}): exact recall {e:.2f}, overlap {m:.3f}")
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(loads, exact, "o-", label="recalled exactly")
ax.plot(loads, overlap, "s-", label="overlap m (fraction correct: (1 + m) / 2)")
ax.axvline(HOPFIELD_CAPACITY * N, color="red", ls="--", label=f"0.138 N = {0.138 * N:.1f}")
ax.set(xlabel=f"stored random patterns P (N = {N} units)", ylabel="rate",
       title="Hopfield capacity: recall from 5% noise")
ax.legend(fontsize=8)
tutorial.savefig(fig, args, "hopfield_capacity.png")

# %% Result
below = float(np.mean(exact[loads <= 0.05 * N])) if np.any(loads <= 0.05 * N) else exact[0]
above = float(np.mean(exact[loads >= 0.2 * N]))
tutorial.report(args, t_recovered_exactly=t_errors == 0, t_pixels_wrong=t_errors,
                energy_monotone=monotone, recall_below_005N=below, recall_above_02N=above)
