"""A variational autoencoder on MNIST: -ELBO, digits from noise, the 2-D latent manifold.

Lecture "Neural network zoo" (VAEs: the encoder predicts means and standard deviations of
a distribution over latent features; the decoder produces an output from a random sample
of it). The notebook's VAE (784 -> 400 -> 400 -> latent 200, mirrored decoder, LeakyReLU
0.2, Bernoulli pixels; loss = summed BCE + KL per sample; Adam 1e-3, batch 100) reaches
-ELBO ~ 105 per sample after 10 epochs and ~ 100.5 after 30 on full MNIST (60,000
digits). Here: the embedded 4,000-digit sample, so expect a higher test -ELBO, and the
same network with a 2-D latent space, whose decoder we can draw as a map of digits.

Teaches: the reparameterisation trick (z = mean + sigma * eps, noise from a seed
generator, so `fit` trains it on any backend), the two halves of the loss, generating
from noise, and what a continuous latent space looks like.

    KERAS_BACKEND=jax python tutorials/vae_mnist.py [--epochs 30] [--data full] [--smoke]
"""

# %% Settings
import keras
import matplotlib.pyplot as plt
import numpy as np

import keras_zoo
from keras_zoo import tutorial
from keras_zoo.datasets import load_mnist
from keras_zoo.models.vae import gaussian_kl

args = tutorial.setup(__doc__, epochs=30, batch_size=100)
NOTEBOOK_NEG_ELBO = 100.5  # full MNIST, 30 epochs
GRID = 10 if args.smoke else 15  # the latent manifold figure: GRID x GRID decoded digits

# %% Data: pixels in [0, 1] are Bernoulli probabilities
(x_train, y_train), (x_test, y_test) = load_mnist(args.data)
x_train = tutorial.small(args, x_train, n=100)  # --smoke: one batch,
x_test, y_test = tutorial.small(args, x_test, y_test, n=10)  # and the 10 digits shown below
print(f"data: {len(x_train)} train / {len(x_test)} test digits")


def test_negative_elbo(model, samples=5):
    """-ELBO per test digit, averaged over `samples` draws of z (in nats)."""
    values = [keras.ops.convert_to_numpy(model.negative_elbo(x_test)) for _ in range(samples)]
    return float(np.mean(values))


# %% Train the notebook's VAE (latent 200) and its 2-D variant with plain fit
models, curves = {}, {}
for latent_dim in (200, 2):
    vae = keras_zoo.build("vae", latent_dim=latent_dim, seed=args.seed)
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))  # the loss is the model's own
    print(f"vae latent {latent_dim}: {vae.count_params():,} parameters")
    history = vae.fit(x_train, batch_size=args.batch_size, epochs=args.epochs,
                      validation_data=(x_test,), verbose=tutorial.verbose(args),
                      callbacks=tutorial.callbacks(args, name=f"latent{latent_dim}")).history
    models[latent_dim], curves[latent_dim] = vae, history

vae, vae2 = models[200], models[2]
neg_elbo, neg_elbo_2d = test_negative_elbo(vae), test_negative_elbo(vae2)
mean, log_var = (keras.ops.convert_to_numpy(v) for v in vae.encode(x_test))
kl = float(np.mean(keras.ops.convert_to_numpy(gaussian_kl(mean, log_var))))
print(f"test -ELBO per digit: latent 200 {neg_elbo:.1f} (of which KL {kl:.1f}), "
      f"latent 2 {neg_elbo_2d:.1f}; notebook {NOTEBOOK_NEG_ELBO} on full MNIST")

# %% Figure: -ELBO per epoch, train and test
fig, ax = plt.subplots(figsize=(6, 3.5))
for latent_dim, history in curves.items():
    epochs = np.arange(1, len(history["loss"]) + 1)
    ax.plot(epochs, history["loss"], "-", label=f"latent {latent_dim} train")
    ax.plot(epochs, history["val_loss"], "--", label=f"latent {latent_dim} test")
ax.axhline(NOTEBOOK_NEG_ELBO, color="gray", ls=":", label="notebook, full MNIST")
ax.set(xlabel="epoch", ylabel="-ELBO per digit (nats)", title="VAE loss")
ax.set_ylim(80, 250)
ax.legend(fontsize=8)
tutorial.savefig(fig, args, "vae_loss.png")

# %% Figure: reconstructions (from the mean) and samples from noise
recon = keras.ops.convert_to_numpy(vae(x_test[:10]))
samples = keras.ops.convert_to_numpy(vae.sample(20, seed=args.seed))
fig, axes = plt.subplots(4, 10, figsize=(10, 4.4))
for i in range(10):
    for row, image in enumerate((x_test[i], recon[i], samples[i], samples[10 + i])):
        axes[row, i].imshow(image[:, :, 0], cmap="gray_r", vmin=0, vmax=1)
for ax in axes.flat:
    ax.set_xticks([]), ax.set_yticks([])
for row, label in enumerate(("test digit", "reconstruction", "from noise", "from noise")):
    axes[row, 0].set_ylabel(label, fontsize=8)
fig.suptitle("VAE, latent 200: reconstructions and samples z ~ N(0, I)")
tutorial.savefig(fig, args, "vae_samples.png")

# %% Figure: the 2-D latent space: test digits by class, and the decoder's map of digits
mean2, _ = vae2.encode(x_test)
mean2 = keras.ops.convert_to_numpy(mean2)
quantiles = np.linspace(0.05, 0.95, GRID)
from scipy.stats import norm  # noqa: E402  (z at the Gaussian's quantiles)

axis = norm.ppf(quantiles).astype("float32")
z = np.array([[a, b] for b in axis[::-1] for a in axis], dtype="float32")  # row 0 on top
digits = keras.ops.convert_to_numpy(vae2.decode(z))[..., 0]  # (GRID^2, 28, 28)
manifold = digits.reshape(GRID, GRID, 28, 28).transpose(0, 2, 1, 3).reshape(GRID * 28, -1)
fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5.6))
points = left.scatter(mean2[:, 0], mean2[:, 1], c=y_test, cmap="tab10", s=6)
fig.colorbar(points, ax=left, ticks=range(10), label="digit")
left.set(xlabel="z1", ylabel="z2", title="test digits: encoder means")
right.imshow(manifold, cmap="gray_r", extent=(axis[0], axis[-1], axis[0], axis[-1]))
right.set(xlabel="z1", ylabel="z2", title="decoder on a grid of z (Gaussian quantiles)")
tutorial.savefig(fig, args, "vae_latent_manifold.png")

# %% Result
tutorial.report(args, test_neg_elbo=neg_elbo, test_kl=kl, test_neg_elbo_latent2=neg_elbo_2d,
                notebook_neg_elbo_full_mnist=NOTEBOOK_NEG_ELBO)
