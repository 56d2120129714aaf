"""A GAN draws MNIST digits: the lecture notebook's generator vs discriminator, with fit.

Lecture "Neural network zoo" (GANs: a generator turns noise into samples, a discriminator
tells them from real data; each improves against the other). The notebook's GAN (dense
G: z 100 -> 128 -> 256 -> 512 -> 1024 -> 784 tanh, BatchNorm from 256; D: 784 -> 512 ->
256 -> 1; LeakyReLU 0.2; Adam 2e-4, beta_1 0.5; batch 64; a generator step then a
discriminator step per batch) trains here with `model.fit` on any backend: `GAN.train_batch`
is written once, on the one gradient primitive `keras_zoo.training.minimize`.
`--model dcgan` trains the convolutional version instead.

Teaches: the two losses (D near log 2 = 0.69 means it cannot tell; G rising means D
wins), a fixed noise batch watched epoch by epoch, and a quality number: the share of
generated digits that a LeNet-5 trained on real MNIST recognises with confidence >= 0.9,
with the entropy of its predicted classes (mode collapse = low entropy, a missing class).

    KERAS_BACKEND=jax python tutorials/gan_mnist.py [--model dcgan] [--epochs N] [--smoke]
"""

# %% Settings
import keras
import matplotlib.pyplot as plt
import numpy as np

import keras_zoo
from keras_zoo import tutorial
from keras_zoo.datasets import load_mnist
from keras_zoo.evaluation import classifier_confidence, digit_classifier

args = tutorial.setup(__doc__, epochs={"gan_mlp": 60, "dcgan": 10}, batch_size=64,
                      model=("gan_mlp", "dcgan"))  # a DCGAN epoch costs ~10 MLP ones
N_EVAL = 100 if args.smoke else 1000  # generated digits scored by the classifier

# %% Data: all 5,000 embedded digits (a GAN needs no test split), scaled to [-1, 1] for tanh
(x_train, _), (x_test, _) = load_mnist(args.data)
x = tutorial.small(args, np.concatenate([x_train, x_test]), n=128) * 2.0 - 1.0
print(f"data: {len(x)} digits in [-1, 1], shape {x.shape[1:]}")

# %% Model: G and D in one GAN; compile() gives each the notebook's Adam(2e-4, beta_1=0.5)
SMALL = keras_zoo.model_info(args.model).smoke if args.smoke else {}  # --smoke: tiny widths
gan = keras_zoo.build(args.model, seed=args.seed, **SMALL)
gan.compile()
for network in (gan.generator, gan.discriminator):
    print(f"{network.name}: {network.count_params():,} parameters")


# %% A fixed noise batch, drawn by the generator after every epoch
class SampleGrid(keras.callbacks.Callback):
    def __init__(self, z):
        super().__init__()
        self.z, self.images = z, []

    def on_epoch_end(self, epoch, logs=None):
        self.images.append(keras.ops.convert_to_numpy(self.model(self.z)))


z_fixed = np.random.default_rng(args.seed).normal(size=(8, gan.latent_dim)).astype("float32")
grid = SampleGrid(z_fixed)
history = gan.fit(x, batch_size=args.batch_size, epochs=args.epochs,
                  callbacks=tutorial.callbacks(args, grid),  # --resume restores grid.images
                  verbose=tutorial.verbose(args)).history

# %% Figure: the same 8 noise vectors after (up to) 10 of the epochs
rows = np.unique(np.linspace(0, args.epochs - 1, min(10, args.epochs)).astype(int))
fig, axes = plt.subplots(len(rows), 8, figsize=(8, 1.05 * len(rows) + 0.4), squeeze=False)
for r, epoch in enumerate(rows):
    for c in range(8):
        axes[r, c].imshow(grid.images[epoch][c, :, :, 0], cmap="gray_r", vmin=-1, vmax=1)
        axes[r, c].set_xticks([]), axes[r, c].set_yticks([])
    axes[r, 0].set_ylabel(f"epoch {epoch + 1}", fontsize=8)
fig.suptitle(f"{args.model}: fixed noise, sample per epoch")
tutorial.savefig(fig, args, f"{args.model}_samples_per_epoch.png")

# %% Figure: both losses per epoch
fig, ax = plt.subplots(figsize=(6, 3.5))
epochs = np.arange(1, args.epochs + 1)
ax.plot(epochs, history["d_loss"], "o-", label="discriminator")
ax.plot(epochs, history["g_loss"], "s-", label="generator")
ax.axhline(np.log(2), color="gray", ls=":", label="log 2 (D guessing)")
ax.set(xlabel="epoch", ylabel="binary cross-entropy", title=f"{args.model} losses")
ax.legend()
tutorial.savefig(fig, args, f"{args.model}_losses.png")

# %% Quality: a LeNet-5 trained on real digits (cached after the first run) scores samples
classifier = digit_classifier()
print(f"LeNet-5 test accuracy on real digits: {classifier.accuracy:.3f}")
samples = keras.ops.convert_to_numpy(gan.generate(N_EVAL, seed=args.seed + 1))
quality = classifier_confidence((samples + 1.0) / 2.0, classifier)
print(f"confident (p >= 0.9): {quality['confident_fraction']:.3f}; class histogram "
      f"{quality['histogram']}, entropy {quality['entropy']:.2f} bits (max 3.32)")

# %% Figure: 40 samples with the class LeNet-5 sees
fig, axes = plt.subplots(4, 10, figsize=(10, 4.6))
for i, ax in enumerate(axes.flat):
    ax.imshow(samples[i, :, :, 0], cmap="gray_r", vmin=-1, vmax=1)
    ax.set_title(str(quality["classes"][i]), fontsize=8)
    ax.axis("off")
fig.suptitle(f"{args.model} samples after {args.epochs} epochs (title: LeNet-5's class)")
tutorial.savefig(fig, args, f"{args.model}_samples.png")

# %% Result
tutorial.report(args, model=args.model, confident_fraction=quality["confident_fraction"],
                class_entropy_bits=quality["entropy"],
                min_class_fraction=quality["min_class_fraction"],
                d_loss=history["d_loss"][-1], g_loss=history["g_loss"][-1])
