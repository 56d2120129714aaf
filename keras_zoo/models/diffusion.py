"""Denoising diffusion (DDPM): a small U-Net noise predictor with a time embedding.

Forward process: x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps, eps ~ N(0, I), with
abar_t the product of (1 - beta_s) for s <= t (a linear or cosine beta schedule). The
network learns eps from (x_t, t) by mean squared error (added with `add_loss` in `call`,
so `compile(optimizer)` and `fit(x_0)` work on every backend); `sample` runs ancestral
sampling: x_{t-1} = (x_t - beta_t / sqrt(1 - abar_t) * eps_hat) / sqrt(alpha_t)
+ sqrt(beta_t) z, or deterministic DDIM on k of the T steps (`sample(ddim_steps=k)`).
Noise comes from a `keras.random.SeedGenerator`.

Ho, Jain & Abbeel, "Denoising diffusion probabilistic models", NeurIPS 2020; Nichol &
Dhariwal, "Improved denoising diffusion probabilistic models", ICML 2021 (cosine
schedule); Song, Meng & Ermon, "Denoising diffusion implicit models", ICLR 2021 (DDIM).
Lecture: "Deep learning architectures" (diffusion, DALL-E 2).
"""

import keras
import numpy as np
from keras import layers, ops

from keras_zoo.layers import checked_input
from keras_zoo.layers.checks import CheckedDataMixin, check_range
from keras_zoo.layers.conv import Conv2D
from keras_zoo.layers.generative import SinusoidalEmbedding
from keras_zoo.registry import register_model

SCHEDULES = ("linear", "cosine")


def beta_schedule(timesteps, schedule="linear"):
    """The noise variances beta_1 .. beta_T as a float64 NumPy array of length T.

    linear: Ho et al.'s 1e-4 .. 0.02 for T = 1000, scaled by 1000 / T so that any T ends
    near pure noise; cosine: abar_t = cos^2((t / T + s) / (1 + s) * pi / 2), s = 0.008,
    betas clipped at 0.999 (Nichol & Dhariwal).
    """
    if schedule == "linear":
        scale = 1000.0 / timesteps
        return np.linspace(scale * 1e-4, min(scale * 0.02, 0.999), timesteps)
    if schedule == "cosine":
        s = 0.008
        f = np.cos((np.arange(timesteps + 1) / timesteps + s) / (1 + s) * np.pi / 2) ** 2
        return np.clip(1.0 - f[1:] / f[:-1], 0.0, 0.999)
    raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")


@keras.saving.register_keras_serializable(package="keras_zoo")
class DDPM(CheckedDataMixin, keras.Model):
    """A noise predictor eps_hat(x_t, t) trained by denoising, with ancestral sampling.

    Call forms:
      - `ddpm({"images": x0, "noise": eps, "timesteps": t})` (t int, (batch,)): the
        predicted noise for x_t = q(x0, t, eps); deterministic; what the goldens check.
      - `ddpm(x0)`: the same with t and eps drawn from the seed generator (for `fit`).
    Both add the loss mean((eps - eps_hat)^2). `predict_noise(x_t, t)` is the bare network.

    Args:
        denoiser: model [x_t (batch, *image_shape), t (batch, 1) float] -> eps_hat.
        timesteps: T, the number of diffusion steps.
        schedule: "linear" or "cosine".
        seed: seed of the noise.

    Under a mixed precision policy the denoiser computes in 16 bits and outputs float32
    (its last convolution); the noising of the images and the loss stay float32, and so
    do the images and noise given to `call` (`input_dtype`).
    """

    image_range = (-1.0, 1.0)
    range_hint = "scale [0, 1] images with x * 2 - 1"

    def __init__(self, denoiser, timesteps=200, schedule="linear", seed=None, **kwargs):
        super().__init__(**kwargs)
        self.denoiser, self.timesteps, self.schedule, self.seed = (
            denoiser, int(timesteps), schedule, seed)
        self.betas = beta_schedule(self.timesteps, schedule)
        self.alphas = 1.0 - self.betas
        self.alpha_bars = np.cumprod(self.alphas)
        self.image_shape = tuple(denoiser.inputs[0].shape[1:])
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.built = True

    @property
    def input_dtype(self):
        """Images and noise are kept in float32 (the variable dtype) under a mixed policy,
        not rounded to 16 bits: the loss compares the noise with its prediction. The
        denoiser casts its own inputs."""
        return self.variable_dtype

    def _take(self, table, t):  # table[t] shaped (batch, 1, 1, 1) for broadcasting
        values = ops.take(ops.convert_to_tensor(table.astype("float32")), t)
        return ops.reshape(values, (-1,) + (1,) * len(self.image_shape))

    def add_noise(self, x0, t, noise):
        """q(x_t | x_0): sqrt(abar_t) x0 + sqrt(1 - abar_t) noise; t int of shape (batch,)."""
        x0, noise = ops.convert_to_tensor(x0), ops.convert_to_tensor(noise)
        return (self._take(np.sqrt(self.alpha_bars), t) * x0
                + self._take(np.sqrt(1.0 - self.alpha_bars), t) * noise)

    def predict_noise(self, x_t, t, training=False):
        """eps_hat for noisy images x_t at integer steps t (batch,)."""
        t = ops.reshape(ops.cast(t, "float32"), (-1, 1))
        return self.denoiser([ops.convert_to_tensor(x_t), t], training=training)

    def call(self, inputs, training=False):
        if isinstance(inputs, dict):
            if set(inputs) != {"images", "noise", "timesteps"}:
                raise ValueError(f"{self.name}: a dict input needs the keys 'images', "
                                 f"'noise' and 'timesteps', got {sorted(inputs)}")
            x0, noise, t = inputs["images"], inputs["noise"], inputs["timesteps"]
        else:
            x0 = inputs
            t = keras.random.randint(ops.shape(x0)[:1], 0, self.timesteps,
                                     seed=self.seed_generator)
            noise = keras.random.normal(ops.shape(x0), seed=self.seed_generator)
        check_range(x0, *self.image_range, what=f"{self.name}: images", hint=self.range_hint)
        predicted = self.predict_noise(self.add_noise(x0, t, noise), t, training=training)
        error = ops.cast(noise, "float32") - ops.cast(predicted, "float32")
        self.add_loss(ops.mean(ops.square(error)))
        return predicted

    def reverse_mean(self, x_t, eps, t, clip_denoised=True):
        """The mean of p(x_{t-1} | x_t) from the predicted noise, in NumPy.

        Without clipping: (x_t - beta_t / sqrt(1 - abar_t) eps) / sqrt(alpha_t) (Ho et al.,
        eq. 11). With it, as Ho et al.'s code does: estimate x_0 = (x_t - sqrt(1 - abar_t)
        eps) / sqrt(abar_t), clip it to [-1, 1], and take the posterior mean of q(x_{t-1} |
        x_t, x_0) (eq. 7); the two agree whenever the estimate lies inside [-1, 1].
        """
        beta, alpha, alpha_bar = self.betas[t], self.alphas[t], self.alpha_bars[t]
        if not clip_denoised:
            return (x_t - beta / np.sqrt(1.0 - alpha_bar) * eps) / np.sqrt(alpha)
        x0 = np.clip((x_t - np.sqrt(1.0 - alpha_bar) * eps) / np.sqrt(alpha_bar), -1.0, 1.0)
        alpha_bar_prev = self.alpha_bars[t - 1] if t > 0 else 1.0
        return (np.sqrt(alpha_bar_prev) * beta / (1.0 - alpha_bar) * x0
                + np.sqrt(alpha) * (1.0 - alpha_bar_prev) / (1.0 - alpha_bar) * x_t)

    def ddim_step(self, x_t, eps, t, t_prev, clip_denoised=True):
        """One deterministic DDIM step (Song et al., eta = 0) from step t to t_prev < t.

        Estimate x_0 = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t) (clipped to [-1, 1] if
        `clip_denoised`, with eps recomputed to match), then move it to step t_prev along
        the same noise: sqrt(abar_prev) x_0 + sqrt(1 - abar_prev) eps, abar_prev = 1 for
        t_prev = -1 (the end of the chain, x_0 itself). In NumPy.
        """
        alpha_bar = self.alpha_bars[t]
        alpha_bar_prev = self.alpha_bars[t_prev] if t_prev >= 0 else 1.0
        x0 = (x_t - np.sqrt(1.0 - alpha_bar) * eps) / np.sqrt(alpha_bar)
        if clip_denoised:
            x0 = np.clip(x0, -1.0, 1.0)
            eps = (x_t - np.sqrt(alpha_bar) * x0) / np.sqrt(1.0 - alpha_bar)
        return np.sqrt(alpha_bar_prev) * x0 + np.sqrt(1.0 - alpha_bar_prev) * eps

    def sample(self, num, seed=None, return_steps=(), clip_denoised=True, ddim_steps=None):
        """Ancestral sampling from x_T ~ N(0, I) down to x_0, clipped to [-1, 1].

        Args:
            num: number of images.
            seed: int for reproducible samples (on one backend); default: the model's.
            return_steps: steps t whose chain state to return as well (for a figure):
                x right after the update at step t (DDIM: at the first visited t' <= t).
            clip_denoised: clip each step's estimate of x_0 to [-1, 1] (`reverse_mean`),
                as Ho et al.'s code does.
            ddim_steps: None: ancestral sampling, T network calls; an int k: deterministic
                DDIM (`ddim_step`) on k evenly spaced steps from T - 1 to 0 (k calls).

        Returns:
            x_0 as NumPy (num, *image_shape), or (x_0, {t: x_t}) if `return_steps`.
        """
        seed = self.seed_generator if seed is None else keras.random.SeedGenerator(seed)
        def normal():
            return ops.convert_to_numpy(keras.random.normal((num, *self.image_shape), seed=seed))

        if ddim_steps is None:
            steps = np.arange(self.timesteps - 1, -1, -1)
        else:
            steps = np.unique(np.linspace(0, self.timesteps - 1, int(ddim_steps)).round()
                              .astype(int))[::-1]
        x, kept, wanted = normal(), {}, sorted(return_steps, reverse=True)  # x_T
        for i, t in enumerate(steps):
            t_prev = steps[i + 1] if i + 1 < len(steps) else -1
            eps = self.denoiser.predict_on_batch(  # compiled once, then fast
                [x, np.full((num, 1), t, dtype="float32")])
            if ddim_steps is None:
                x = self.reverse_mean(x, np.asarray(eps), t, clip_denoised)
                if t > 0:
                    x = x + np.sqrt(self.betas[t]) * normal()
            else:
                x = self.ddim_step(x, np.asarray(eps), t, t_prev, clip_denoised)
            x = x.astype("float32")
            while wanted and wanted[0] > t_prev:  # x is now x_{t_prev}
                kept[wanted.pop(0)] = np.clip(x, -1.0, 1.0)
        x = np.clip(x, -1.0, 1.0)
        return (x, kept) if return_steps else x

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable, "seed": self.seed,
                "timesteps": self.timesteps, "schedule": self.schedule,
                "denoiser": keras.saving.serialize_keras_object(self.denoiser)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["denoiser"] = keras.saving.deserialize_keras_object(config["denoiser"],
                                                                   custom_objects)
        return cls(**config)


def _example(model, batch, rng):
    """A dict: clean images in [-1, 1], their noise and integer steps (deterministic)."""
    images = rng.uniform(-1.0, 1.0, size=(batch, *model.image_shape)).astype("float32")
    noise = rng.normal(size=images.shape).astype("float32")
    steps = rng.integers(0, model.timesteps, size=batch).astype("int32")
    return {"images": images, "noise": noise, "timesteps": steps}, None


def apply_residual_block(x, time_emb, filters, groups=8, name="block"):
    """GroupNorm -> swish -> conv3x3, + the projected time embedding, twice; residual add.

    Args:
        x: (batch, h, w, c) feature maps.
        time_emb: (batch, d) time embedding.
        filters: output channels.

    Returns:
        (batch, h, w, filters).
    """
    skip = x if x.shape[-1] == filters else Conv2D(filters, 1, name=f"{name}_skip")(x)
    h = layers.GroupNormalization(groups, name=f"{name}_norm1")(x)
    h = layers.Activation("swish", name=f"{name}_act1")(h)
    h = Conv2D(filters, 3, padding="same", name=f"{name}_conv1")(h)
    t = layers.Dense(filters, name=f"{name}_time")(time_emb)
    h = layers.Add(name=f"{name}_add_time")([h, layers.Reshape((1, 1, filters),
                                                               name=f"{name}_time_map")(t)])
    h = layers.GroupNormalization(groups, name=f"{name}_norm2")(h)
    h = layers.Activation("swish", name=f"{name}_act2")(h)
    h = Conv2D(filters, 3, padding="same", name=f"{name}_conv2")(h)
    return layers.Add(name=f"{name}_out")([skip, h])


@register_model(task="self_supervised", family="generative", example=_example,
                smoke={"filters": (8, 16), "timesteps": 20})
def ddpm(image_shape=(28, 28, 1), filters=(32, 64), time_dim=64, timesteps=200,
         schedule="linear", seed=None, name="ddpm"):
    """A small DDPM for 28x28 images: a two-level U-Net predicts the noise in x_t.

    U-Net: conv3x3 -> block(f1) [28x28] -> conv/2 -> block(f2) [14x14] -> conv/2 ->
    block(f2) [7x7] -> up x2, concat -> block(f2) [14x14] -> up x2, concat -> block(f1)
    [28x28] -> conv1x1 -> eps_hat. Every block adds a projection of the sinusoidal
    embedding of t (-> Dense time_dim, swish -> Dense time_dim).

    Args:
        image_shape: (height, width, channels), height and width divisible by 4;
            images in [-1, 1].
        filters: (f1, f2) channels at full and half/quarter resolution (multiples of 8).
        time_dim: size of the time embedding.
        timesteps: T.
        schedule: "linear" or "cosine" beta schedule.
        seed: seed of the noise.
        name: model name.

    Returns:
        A `DDPM`.
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
    f1, f2 = filters
    images, x = checked_input(image_shape, name="noisy_image")
    steps, t = checked_input((1,), name="timestep")
    emb = SinusoidalEmbedding(time_dim, name="time_sin")(t)  # (b, time_dim)
    emb = layers.Dense(time_dim, activation="swish", name="time_dense1")(emb)
    emb = layers.Dense(time_dim, name="time_dense2")(emb)
    x = Conv2D(f1, 3, padding="same", name="stem")(x)
    skip1 = apply_residual_block(x, emb, f1, name="down1")  # (b, 28, 28, f1)
    x = Conv2D(f2, 3, strides=2, padding="same", name="pool1")(skip1)
    skip2 = apply_residual_block(x, emb, f2, name="down2")  # (b, 14, 14, f2)
    x = Conv2D(f2, 3, strides=2, padding="same", name="pool2")(skip2)
    x = apply_residual_block(x, emb, f2, name="middle")  # (b, 7, 7, f2)
    x = layers.UpSampling2D(2, name="up2")(x)
    x = layers.Concatenate(name="cat2")([x, skip2])
    x = apply_residual_block(x, emb, f2, name="up_block2")  # (b, 14, 14, f2)
    x = layers.UpSampling2D(2, name="up1")(x)
    x = layers.Concatenate(name="cat1")([x, skip1])
    x = apply_residual_block(x, emb, f1, name="up_block1")  # (b, 28, 28, f1)
    outputs = Conv2D(image_shape[-1], 1, dtype="float32", name="eps")(x)
    denoiser = keras.Model([images, steps], outputs, name="denoiser")
    return DDPM(denoiser, timesteps=timesteps, schedule=schedule, seed=seed, name=name)
