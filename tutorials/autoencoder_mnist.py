"""Autoencoders on MNIST: compression, reconstructions, latent codes, denoising, anomalies.

Follows "Neural network zoo" (autoencoders: an encoder compresses to a latent code, a
decoder reconstructs; uses: efficient encoding, image denoising, anomaly detection) and
its notebook (784 -> 400 -> 200 -> 100 -> 50 -> 25 -> 6 linear bottleneck, mirrored
decoder, sigmoid output, MSE, Adam 1e-3, batch 128; train MSE about 0.026 on full MNIST).
Teaches: a 6-number code of a digit, reading the latent space, a denoising autoencoder
(Vincent et al. 2008: noisy in, clean out) and anomaly detection by reconstruction error:
trained on digits 0-8 only, the 9s and random noise reconstruct badly (ROC AUC).

    KERAS_BACKEND=jax python tutorials/autoencoder_mnist.py [--epochs 40] [--data full]
"""

# %% Settings
import keras
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import roc_auc_score

import keras_zoo
from keras_zoo import tutorial
from keras_zoo.datasets import load_mnist
from keras_zoo.models.autoencoder import reconstruction_errors

args = tutorial.setup(__doc__, epochs=30, batch_size=128)
NOISE = 0.3  # std of the Gaussian noise of the denoising autoencoder
ANOMALY = 9  # the digit left out of training
FILTERS = (8, 16) if args.smoke else (32, 64)  # the convolutional autoencoder's feature maps
rng = np.random.default_rng(args.seed)

# %% Data: (N, 28, 28, 1) in [0, 1]; the dense autoencoder never sees a 9
(x_train, y_train), (x_test, y_test) = load_mnist(args.data)
x_train, y_train, x_test, y_test = tutorial.small(args, x_train, y_train, x_test, y_test,
                                                  n=128)  # --smoke: one batch
normal = x_train[y_train != ANOMALY]
print(f"data: {len(x_train)} train ({len(normal)} without {ANOMALY}s) / {len(x_test)} test")


def fit(model, x, epochs, learning_rate=1e-3):
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse")
    history = model.fit(x, x, batch_size=args.batch_size, epochs=epochs,  # target = input
                        callbacks=tutorial.callbacks(args, name=model.name),
                        verbose=tutorial.verbose(args))
    return history.history["loss"][-1]


# %% The notebook's dense autoencoder, trained on digits 0-8
model = keras_zoo.build("autoencoder")  # (b, 28, 28, 1) -> 6 numbers -> (b, 28, 28, 1)
keras_zoo.print_layer_table(model.get_layer("encoder"))
train_mse = fit(model, normal, args.epochs)
errors = reconstruction_errors(model, x_test)  # (N_test,) per-image MSE
seen, unseen = errors[y_test != ANOMALY], errors[y_test == ANOMALY]
print(f"train MSE {train_mse:.4f}; test MSE digits 0-8 {seen.mean():.4f}, "
      f"digit {ANOMALY} {unseen.mean():.4f}")

# %% Reconstructions: test digits (top) and their reconstructions from 6 numbers (bottom)
recon = model.predict(x_test[:10], verbose=0)
fig, axes = plt.subplots(2, 10, figsize=(12, 2.8))
for i in range(10):
    axes[0, i].imshow(x_test[i, :, :, 0], cmap="gray_r")
    axes[1, i].imshow(recon[i, :, :, 0], cmap="gray_r")
    axes[0, i].set_title(str(y_test[i]), fontsize=9)
for ax in axes.flat:
    ax.axis("off")
fig.suptitle(f"784 -> 6 -> 784: test digits and reconstructions (MSE {seen.mean():.4f})")
tutorial.savefig(fig, args, "autoencoder_reconstructions.png")

# %% The 6-D latent codes, projected on their two principal axes, coloured by digit
codes = model.get_layer("encoder").predict(x_test, verbose=0)  # (N_test, 6)
centred = codes - codes.mean(0)
plane = centred @ np.linalg.svd(centred, full_matrices=False)[2][:2].T  # (N_test, 2)
fig, ax = plt.subplots(figsize=(6, 5))
points = ax.scatter(plane[:, 0], plane[:, 1], c=y_test, cmap="tab10", s=6)
fig.colorbar(points, ax=ax, ticks=range(10), label="digit")
ax.set(title=f"Latent codes (PCA of 6-D); {ANOMALY}s never seen in training",
       xlabel="PC 1", ylabel="PC 2")
tutorial.savefig(fig, args, "autoencoder_latent.png")

# %% Denoising: the convolutional autoencoder sees noisy digits, must output clean ones
denoiser = keras_zoo.build("conv_autoencoder", filters=FILTERS, latent_dim=32,
                           noise_stddev=NOISE)  # (noise: in training only)
fit(denoiser, x_train, max(1, args.epochs // 3), learning_rate=2e-3)
noisy = np.clip(x_test + NOISE * rng.normal(size=x_test.shape), 0, 1).astype("float32")
cleaned = denoiser.predict(noisy, verbose=0)
mse_noisy = float(np.mean((noisy - x_test) ** 2))
mse_denoised = float(np.mean((cleaned - x_test) ** 2))
print(f"denoising: MSE to the clean digits {mse_noisy:.4f} (noisy) -> {mse_denoised:.4f}")
fig, axes = plt.subplots(3, 8, figsize=(10, 4))
for i in range(8):
    for row, img in enumerate((x_test, noisy, cleaned)):
        axes[row, i].imshow(img[i, :, :, 0], cmap="gray_r", vmin=0, vmax=1)
        axes[row, i].axis("off")
for row, title in enumerate(("clean", "noisy in", "denoised out")):
    axes[row, 0].set_title(title, fontsize=9, loc="left")
tutorial.savefig(fig, args, "autoencoder_denoising.png")

# %% Anomaly detection: the reconstruction error is the score; a high score = anomalous
noise = rng.uniform(size=(len(seen),) + x_test.shape[1:]).astype("float32")
noise_errors = reconstruction_errors(model, noise)
auc_noise = roc_auc_score(np.r_[np.zeros(len(seen)), np.ones(len(noise))],
                          np.r_[seen, noise_errors])
auc_nine = roc_auc_score(np.r_[np.zeros(len(seen)), np.ones(len(unseen))], np.r_[seen, unseen])
print(f"ROC AUC vs digits 0-8: random noise {auc_noise:.3f}, digit {ANOMALY} {auc_nine:.3f}")
fig, ax = plt.subplots(figsize=(6, 3.5))
bins = np.logspace(np.log10(min(seen.min(), 1e-3)), np.log10(noise_errors.max()), 50)
for scores, label in ((seen, "digits 0-8"), (unseen, f"digit {ANOMALY} (unseen)"),
                      (noise_errors, "uniform noise")):
    ax.hist(scores, bins=bins, alpha=0.6, label=label)
ax.set(xscale="log", xlabel="reconstruction MSE (anomaly score)", ylabel="images",
       title=f"AUC: noise {auc_noise:.3f}, digit {ANOMALY} {auc_nine:.3f}")
ax.legend()
tutorial.savefig(fig, args, "autoencoder_anomaly.png")

# %% Result
tutorial.report(args, train_mse=train_mse, test_mse=seen.mean(), digit9_mse=unseen.mean(),
                denoised_mse=mse_denoised, noisy_mse=mse_noisy, auc_noise=auc_noise,
                auc_digit9=auc_nine)
