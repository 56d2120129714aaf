"""A small denoising diffusion model (DDPM) draws MNIST digits.

Lecture "Deep learning architectures" (diffusion models behind DALL-E 2: learn to undo
gradually added noise, then generate by denoising pure noise step by step). Ho et al.'s
DDPM: x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps; a U-Net with a time embedding learns
eps from (x_t, t) by mean squared error (`fit(x_0)` on any backend; t and eps come from
the model's seed generator); ancestral sampling walks from x_T ~ N(0, I) down to x_0.

Teaches: the forward (noising) process and its schedule, the training objective, the
reverse chain, and the quality number shared with the GAN tutorial (share of samples a
LeNet-5 recognises with confidence >= 0.9; entropy of their classes). Training uses the
two cheap levers of small-data DDPMs: batch 32 (twice the updates of batch 64 per epoch)
with a warmup + cosine learning rate, and sampling from the EMA of the weights. They make
the classes more even but not the strokes crisp: LeNet-5 is confident on only about a
third of the samples (numbers per backend: the README's results table). The cosine
schedule (`--schedule cosine`), DDIM sampling and the posterior variance in the chain do
not fix that: this network is undertrained, not badly sampled.
Train longer (`--epochs`) or wider (FILTERS) for digits.

    KERAS_BACKEND=jax python tutorials/diffusion_mnist.py [--schedule cosine] [--smoke]
"""

# %% Settings
import keras
import matplotlib.pyplot as plt
import numpy as np

import keras_zoo
from keras_zoo import tutorial
from keras_zoo.datasets import load_mnist
from keras_zoo.evaluation import classifier_confidence, digit_classifier

args = tutorial.setup(__doc__, epochs=8, batch_size=32, schedule=("linear", "cosine"))
FILTERS = (8, 8) if args.smoke else (16, 32)  # U-Net channels at 28x28 and 14x14 / 7x7
TIMESTEPS = 10 if args.smoke else 200
N_SAMPLES = 40 if args.smoke else 200  # the figure shows 40

# %% Data: all 5,000 embedded digits in [-1, 1] (the noise is N(0, 1))
(x_train, _), (x_test, _) = load_mnist(args.data)
x = tutorial.small(args, np.concatenate([x_train, x_test]), n=64) * 2.0 - 1.0
print(f"data: {len(x)} digits in [-1, 1]")

# %% Model and the forward process
ddpm = keras_zoo.build("ddpm", filters=FILTERS, timesteps=TIMESTEPS, schedule=args.schedule,
                       seed=args.seed)
print(f"ddpm: {ddpm.count_params():,} parameters, T={TIMESTEPS}, {args.schedule} schedule, "
      f"abar_T={ddpm.alpha_bars[-1]:.2e}")
shown = [0, TIMESTEPS // 10, TIMESTEPS // 4, TIMESTEPS // 2, TIMESTEPS - 1]
noise = np.random.default_rng(args.seed).normal(size=(len(shown), 28, 28, 1)).astype("float32")
noisy = keras.ops.convert_to_numpy(ddpm.add_noise(np.repeat(x[:1], len(shown), 0),
                                                  np.array(shown, "int32"), noise))

# %% Training: the model's own loss, mean((eps - eps_hat)^2); Adam with a 5% warmup and
# a cosine decay; sampling uses the exponential moving average of the weights (`fit`
# swaps it in at the end), which averages out the last few hundred steps' noise
steps = args.epochs * -(-len(x) // args.batch_size)
learning_rate = keras.optimizers.schedules.CosineDecay(
    0.0, steps - steps // 20, alpha=0.05, warmup_target=2e-3, warmup_steps=steps // 20)
ddpm.compile(optimizer=keras.optimizers.Adam(learning_rate, use_ema=True, ema_momentum=0.995))
history = ddpm.fit(x, batch_size=args.batch_size, epochs=args.epochs,
                   callbacks=tutorial.callbacks(args), verbose=tutorial.verbose(args)).history
print(f"noise-prediction MSE: {history['loss'][0]:.3f} -> {history['loss'][-1]:.3f}")

# %% Sampling: the reverse chain from pure noise
samples, chain = ddpm.sample(N_SAMPLES, seed=args.seed, return_steps=shown)
classifier = digit_classifier()
quality = classifier_confidence((samples + 1.0) / 2.0, classifier)
print(f"confident (p >= 0.9): {quality['confident_fraction']:.3f}; class histogram "
      f"{quality['histogram']}, entropy {quality['entropy']:.2f} bits (max 3.32)")

# %% Figure: forward noising of one digit, and one reverse chain
fig, axes = plt.subplots(2, len(shown), figsize=(2 * len(shown), 4.4))
for i, t in enumerate(shown):
    axes[0, i].imshow(noisy[i, :, :, 0], cmap="gray_r", vmin=-1, vmax=1)
    axes[0, i].set_title(f"q(x_t | x_0), t={t}", fontsize=8)
for i, t in enumerate(shown[::-1]):
    axes[1, i].imshow(chain[t][0, :, :, 0], cmap="gray_r", vmin=-1, vmax=1)
    axes[1, i].set_title(f"sampling, x_{t}", fontsize=8)
for ax in axes.flat:
    ax.axis("off")
tutorial.savefig(fig, args, "ddpm_forward_and_reverse.png")

# %% Figure: samples with the class LeNet-5 sees, and the loss curve
fig = plt.figure(figsize=(12, 4.6))
for i in range(40):
    ax = fig.add_subplot(4, 13, i + 1 + i // 10 * 3)
    ax.imshow(samples[i, :, :, 0], cmap="gray_r", vmin=-1, vmax=1)
    ax.set_title(str(quality["classes"][i]), fontsize=7)
    ax.axis("off")
ax = fig.add_axes([0.8, 0.15, 0.18, 0.7])
ax.plot(np.arange(1, args.epochs + 1), history["loss"], "o-")
ax.set(xlabel="epoch", ylabel="MSE of eps", title="training loss")
fig.suptitle(f"DDPM samples (title: LeNet-5's class; confident share "
             f"{quality['confident_fraction']:.2f})")
tutorial.savefig(fig, args, "ddpm_samples.png")

# %% Result
tutorial.report(args, schedule=args.schedule, final_mse=history["loss"][-1],
                confident_fraction=quality["confident_fraction"],
                class_entropy_bits=quality["entropy"],
                min_class_fraction=quality["min_class_fraction"])
