"""Restricted Boltzmann machine on binarised MNIST: CD-1 training, reconstructions, samples.

Follows "Modern architectures" ("if we allow the update to be stochastic we have a
Boltzmann Machine"; the first networks to store a representation) and Hinton's
contrastive divergence (Neural Computation 2002; "A practical guide to training RBMs",
2010). Teaches: stochastic binary units, the free energy, training by contrastive
divergence (not backpropagation: one Gibbs step from the data gives the update), the
pseudo-likelihood as a progress measure, and sampling by running a Gibbs chain.

    KERAS_BACKEND=jax python tutorials/boltzmann_machine.py [--epochs 20] [--data full]
"""

# %% Settings
import keras
import matplotlib.pyplot as plt
import numpy as np

import keras_zoo
from keras_zoo import tutorial
from keras_zoo.datasets import load_mnist

args = tutorial.setup(__doc__, epochs=15, batch_size=32)
HIDDEN, LEARNING_RATE = 128, 0.05  # SGD with momentum 0.5 (Hinton's guide)
CHAIN_STEPS = (1, 10, 100, 1000)  # Gibbs-chain snapshots for the sample figure

# %% Data: binary pixels (ink > 0.5), flattened to 784 visible units
(x_train, _), (x_test, y_test) = load_mnist(args.data)
x_train, x_test, y_test = tutorial.small(args, x_train, x_test, y_test)
v_train = (x_train.reshape(len(x_train), -1) > 0.5).astype("float32")  # (N, 784)
v_test = (x_test.reshape(len(x_test), -1) > 0.5).astype("float32")
v_probe = v_test[:200]  # pseudo-likelihood is measured on these each epoch
print(f"data: {len(v_train)} train / {len(v_test)} test binary images, "
      f"{v_train.mean():.3f} of pixels on")

# %% The RBM and its training by contrastive divergence (CD-1) with fit
model = keras_zoo.build("rbm", hidden_units=HIDDEN, k=1, seed=args.seed)
model.compile(optimizer=keras.optimizers.SGD(LEARNING_RATE, momentum=0.5))


def pseudo_likelihood(v):
    """Mean sum_i log p(v_i | rest) per image, in nats (0 would be perfect)."""
    return float(np.mean(keras.ops.convert_to_numpy(model.pseudo_log_likelihood(v))))


def measure(epoch, logs):  # after every epoch, into the logs: fit's History keeps them
    logs["pseudo_likelihood"] = pseudo_likelihood(v_probe)
    logs["reconstruction_mse"] = float(np.mean((keras.ops.convert_to_numpy(
        model.reconstruct(v_probe)) - v_probe) ** 2))
    if not args.smoke:
        print(f"epoch {epoch + 1}: pseudo-likelihood {logs['pseudo_likelihood']:.1f} "
              f"nats/image, reconstruction MSE {logs['reconstruction_mse']:.4f}")


pl_start = pseudo_likelihood(v_probe)
history = model.fit(v_train, batch_size=args.batch_size, epochs=args.epochs, verbose=0,
                    callbacks=tutorial.callbacks(
                        args, keras.callbacks.LambdaCallback(on_epoch_end=measure))).history
pl, recon_err = [pl_start, *history["pseudo_likelihood"]], history["reconstruction_mse"]
print(f"pseudo-log-likelihood per test image: {pl[0]:.1f} (untrained) -> {pl[-1]:.1f}")

# %% Figure: pseudo-likelihood per epoch
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(range(len(pl)), pl, "o-")
ax.set(xlabel="epoch", ylabel="pseudo-log-likelihood (nats / image)",
       title=f"RBM 784-{HIDDEN} trained by CD-1")
tutorial.savefig(fig, args, "rbm_pseudo_likelihood.png")

# %% Reconstructions: v -> p(h | v) -> p(v | h) for test digits
recon = keras.ops.convert_to_numpy(model.reconstruct(v_test[:10]))
fig, axes = plt.subplots(2, 10, figsize=(12, 2.8))
for i in range(10):
    axes[0, i].imshow(v_test[i].reshape(28, 28), cmap="gray_r")
    axes[1, i].imshow(recon[i].reshape(28, 28), cmap="gray_r")
    axes[0, i].set_title(str(y_test[i]), fontsize=9)
for ax in axes.flat:
    ax.axis("off")
fig.suptitle("RBM: binary test digits (top) and mean-field reconstructions (bottom)")
tutorial.savefig(fig, args, "rbm_reconstructions.png")

# %% Samples: Gibbs chains started from test digits wander through the model's digits
# (chains started from random pixels fall into the spurious modes CD-1 leaves behind)
steps = CHAIN_STEPS[:2] if args.smoke else CHAIN_STEPS
v = keras.ops.convert_to_tensor(v_test[-8:])
snapshots, done = [], 0
for target in steps:
    v = model.gibbs_chain(v, target - done)  # binary samples
    done = target
    # show p(v | h) of the last hidden sample: less speckled than the binary v itself
    snapshots.append(keras.ops.convert_to_numpy(model.reconstruct(v)))
fig, axes = plt.subplots(len(steps), 8, figsize=(9, 1.3 * len(steps) + 0.5))
for row, (target, images) in enumerate(zip(steps, snapshots)):
    for col in range(8):
        axes[row, col].imshow(images[col].reshape(28, 28), cmap="gray_r", vmin=0, vmax=1)
        axes[row, col].axis("off")
    axes[row, 0].set_title(f"after {target} Gibbs steps", fontsize=8, loc="left")
tutorial.savefig(fig, args, "rbm_gibbs_samples.png")

# %% Result
tutorial.report(args, pseudo_likelihood_start=pl[0], pseudo_likelihood=pl[-1],
                reconstruction_mse=recon_err[-1], hidden_units=HIDDEN)
