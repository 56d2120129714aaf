"""Generative adversarial networks: the lecture notebook's GAN and a convolutional DCGAN.

A generator G maps noise z ~ N(0, I) to images in [-1, 1]; a discriminator D maps images
to one logit, "real". Each batch is one generator step (make D call G(z) real) then one
discriminator step (real -> 1, G(z) -> 0), each with its own Adam, as in the notebook.
`GAN.train_step` writes that step once, on `keras_zoo.training.minimize` (the one
per-backend gradient primitive), so `fit`, callbacks, progress bars, `save` and resuming
work as usual on every backend.

Goodfellow et al., "Generative adversarial nets", NeurIPS 2014 (non-saturating G loss);
Radford, Metz & Chintala, "Unsupervised representation learning with deep convolutional
generative adversarial networks", ICLR 2016. Lecture: "Neural network zoo" (GANs).
"""

import math

import keras
from keras import layers, ops

from keras_zoo import training
from keras_zoo.layers import checked_input
from keras_zoo.layers.checks import CheckedDataMixin, check_range
from keras_zoo.layers.conv import BatchNormalization, Conv2D
from keras_zoo.registry import register_model

_BCE = keras.losses.BinaryCrossentropy(from_logits=True)


def _notebook_adam(name):
    return keras.optimizers.Adam(2e-4, beta_1=0.5, name=name)  # the notebook's Adam


@keras.saving.register_keras_serializable(package="keras_zoo")
class GAN(CheckedDataMixin, keras.Model):
    """A generator and a discriminator trained against each other with `fit(images)`.

    Call forms (both deterministic in inference mode):
      - `gan(z)`: z (batch, latent_dim) -> generated images (batch, *image_shape).
      - `gan({"latent": z, "images": x})` -> {"generated": G(z), "real_logits": D(x),
        "fake_logits": D(G(z))}: the generator and discriminator forward passes.

    `fit(x)`: x real images in [-1, 1] (or such a dict: its "latent" is then used instead
    of fresh noise). Logs `d_loss` and `g_loss`. Noise: `keras.random.SeedGenerator`.

    Args:
        generator: model (batch, latent_dim) -> (batch, *image_shape), tanh output.
        discriminator: model (batch, *image_shape) -> (batch, 1) logits.
        seed: seed of the noise generator.
    """

    image_range = (-1.0, 1.0)
    range_hint = "scale [0, 1] images with x * 2 - 1"

    def __init__(self, generator, discriminator, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.generator, self.discriminator, self.seed = generator, discriminator, seed
        self.latent_dim = int(generator.inputs[0].shape[-1])
        self.image_shape = tuple(discriminator.inputs[0].shape[1:])
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.built = True

    @property
    def metrics(self):  # reset at each epoch by fit
        return [self.d_loss_tracker, self.g_loss_tracker]

    def compile(self, optimizer=None, generator_optimizer=None, discriminator_optimizer=None,
                **kwargs):
        """`optimizer` alone: used for the generator, a copy for the discriminator.

        Without any: the notebook's Adam(2e-4, beta_1=0.5) for each. They are held as one
        `training.OptimizerGroup` ("generator", "discriminator"), which is also taken as
        is. The losses are the GAN's own (no `loss=`).
        """
        if kwargs.get("loss") is not None:
            raise ValueError("GAN.compile: the GAN computes its own losses; pass no loss")
        if not isinstance(optimizer, training.OptimizerGroup):
            g_opt = keras.optimizers.get(generator_optimizer or optimizer
                                         or _notebook_adam("generator_adam"))
            d_opt = discriminator_optimizer or (
                type(g_opt).from_config({**g_opt.get_config(), "name": "discriminator_opt"})
                if optimizer is not None else _notebook_adam("discriminator_adam"))
            optimizer = training.OptimizerGroup({"generator": g_opt, "discriminator": d_opt})
        if (self.dtype_policy.name == "mixed_float16" and kwargs.get("auto_scale_loss", True)):
            # Keras would wrap the whole group; each player's optimizer scales its own loss
            optimizer = training.OptimizerGroup({
                key: member if isinstance(member, keras.optimizers.LossScaleOptimizer)
                else keras.optimizers.LossScaleOptimizer(member, name=f"{key}_loss_scale")
                for key, member in optimizer.members.items()}, name=optimizer.name)
        optimizer["generator"].build(self.generator.trainable_variables)
        optimizer["discriminator"].build(self.discriminator.trainable_variables)
        super().compile(optimizer=optimizer, **{**kwargs, "auto_scale_loss": False})

    def compile_from_config(self, config):  # a loaded model is compiled as it was saved
        self.compile(**keras.saving.deserialize_keras_object(config))

    def call(self, inputs, training=False):
        if isinstance(inputs, dict):
            if set(inputs) != {"latent", "images"}:
                raise ValueError(f"{self.name}: a dict input needs the keys 'latent' and "
                                 f"'images', got {sorted(inputs)}")
            check_range(inputs["images"], *self.image_range, what=f"{self.name}: images",
                        hint=self.range_hint)
            generated = self.generator(inputs["latent"], training=training)
            return {"generated": generated,
                    "real_logits": self.discriminator(inputs["images"], training=training),
                    "fake_logits": self.discriminator(generated, training=training)}
        return self.generator(inputs, training=training)

    # ---- the training step, backend-neutral (keras_zoo.training holds the gradients)

    def sample_latent(self, batch_size, seed=None):
        """z ~ N(0, I) of shape (batch_size, latent_dim), from the model's seed generator."""
        seed = self.seed_generator if seed is None else seed
        return keras.random.normal((batch_size, self.latent_dim), seed=seed)

    def unpack_batch(self, data):
        """(real images, latent z): z from the data's "latent" entry or freshly drawn."""
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        if isinstance(x, dict):
            return x["images"], x["latent"]
        return x, self.sample_latent(ops.shape(x)[0])

    def generator_loss(self, fake_logits):
        """Non-saturating: -log D(G(z)), D's logits on generated images against "real"."""
        return _BCE(ops.ones_like(fake_logits), fake_logits)

    def discriminator_loss(self, real_logits, fake_logits):
        """Mean of -log D(x) and -log(1 - D(G(z)))."""
        return 0.5 * (_BCE(ops.ones_like(real_logits), real_logits)
                      + _BCE(ops.zeros_like(fake_logits), fake_logits))

    def track_losses(self, d_loss, g_loss):
        """Update the epoch means and return the logs."""
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}

    def evaluate_batch(self, data):
        """Both losses on a batch, no update (inference mode)."""
        real, z = self.unpack_batch(data)
        fake = self.generator(z, training=False)
        fake_logits = self.discriminator(fake, training=False)
        real_logits = self.discriminator(real, training=False)
        return self.track_losses(self.discriminator_loss(real_logits, fake_logits),
                                 self.generator_loss(fake_logits))

    def train_batch(self, data):
        """One generator step (D should call G(z) real), then one discriminator step on
        the real images and the same, detached G(z); each with its own optimizer."""
        real, z = self.unpack_batch(data)

        def g_loss():
            fake = self.generator(z, training=True)
            return self.generator_loss(self.discriminator(fake, training=True)), fake

        g_loss, fake = training.minimize(g_loss, self.generator.trainable_variables,
                                         self.optimizer["generator"])
        fake = ops.stop_gradient(fake)

        def d_loss():
            return self.discriminator_loss(self.discriminator(real, training=True),
                                           self.discriminator(fake, training=True))

        d_loss, _ = training.minimize(d_loss, self.discriminator.trainable_variables,
                                      self.optimizer["discriminator"])
        return self.track_losses(d_loss, g_loss)

    def train_step(self, *args):  # (data), or (state, data) on JAX
        return training.fit_step(self, self.train_batch, *args)

    def test_step(self, *args):
        return training.fit_step(self, self.evaluate_batch, *args)

    def generate(self, num, seed=None):
        """`num` images from fresh noise (a fixed int `seed` repeats them on a backend)."""
        return self.generator(self.sample_latent(num, seed), training=False)

    def get_config(self):
        serialize = keras.saving.serialize_keras_object
        return {"name": self.name, "trainable": self.trainable, "seed": self.seed,
                "generator": serialize(self.generator),
                "discriminator": serialize(self.discriminator)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        for key in ("generator", "discriminator"):
            config[key] = keras.saving.deserialize_keras_object(config[key], custom_objects)
        return cls(**config)


def _example(model, batch, rng):
    """The registry's (x, None): a dict of latent vectors and real-looking images in [-1, 1]."""
    images = rng.uniform(-1.0, 1.0, size=(batch, *model.image_shape)).astype("float32")
    latent = rng.normal(size=(batch, model.latent_dim)).astype("float32")
    return {"latent": latent, "images": images}, None


def apply_leaky_dense_block(x, units, batch_norm=False, name="block"):
    """Dense -> [BatchNorm] -> LeakyReLU(0.2), the notebook's building block."""
    x = layers.Dense(units, name=f"{name}_dense")(x)
    if batch_norm:  # PyTorch's BatchNorm1d momentum 0.1 is Keras' 0.9
        x = BatchNormalization(momentum=0.9, name=f"{name}_bn")(x)
    return layers.LeakyReLU(0.2, name=f"{name}_lrelu")(x)


@register_model(task="self_supervised", family="generative", example=_example,
                smoke={"generator_units": (16, 32), "discriminator_units": (32,)})
def gan_mlp(latent_dim=100, image_shape=(28, 28, 1), generator_units=(128, 256, 512, 1024),
            discriminator_units=(512, 256), seed=None, name="gan_mlp"):
    """The lecture notebook's GAN: dense generator and discriminator, LeakyReLU 0.2.

    G: z (latent_dim) -> 128 -> 256 -> 512 -> 1024 -> 784 tanh -> (28, 28, 1), BatchNorm
    on every hidden layer but the first; D: 784 -> 512 -> 256 -> 1 logit. Train with
    `compile()` (Adam 2e-4, beta_1 0.5 for each) and `fit(images in [-1, 1])`, batch 64.

    Args:
        latent_dim: size of z.
        image_shape: generated image shape; values in [-1, 1].
        generator_units: hidden widths of G.
        discriminator_units: hidden widths of D.
        seed: noise seed.
        name: model name.

    Returns:
        A `GAN`.
    """
    inputs, x = checked_input((latent_dim,), name="latent")
    for i, units in enumerate(generator_units):
        x = apply_leaky_dense_block(x, units, batch_norm=i > 0, name=f"g{i + 1}")
    x = layers.Dense(math.prod(image_shape), activation="tanh", dtype="float32",
                     name="g_out")(x)
    x = layers.Reshape(image_shape, dtype="float32", name="g_image")(x)
    generator = keras.Model(inputs, x, name="generator")
    inputs, x = checked_input(image_shape, name="image")
    x = layers.Flatten(name="d_flatten")(x)
    for i, units in enumerate(discriminator_units):
        x = apply_leaky_dense_block(x, units, name=f"d{i + 1}")
    logit = layers.Dense(1, dtype="float32", name="d_logit")(x)
    discriminator = keras.Model(inputs, logit, name="discriminator")
    return GAN(generator, discriminator, seed=seed, name=name)


@register_model(task="self_supervised", family="generative", example=_example,
                smoke={"filters": 8})
def dcgan(latent_dim=100, filters=64, seed=None, name="dcgan"):
    """DCGAN for 28x28x1 images: transposed convolutions up, strided convolutions down.

    G: z -> dense 7x7x(2f) -> BN -> LeakyReLU -> convT 4x4/2 f (14x14) -> BN -> LeakyReLU
    -> convT 4x4/2 1 (28x28) tanh. D: conv 4x4/2 f -> LeakyReLU -> conv 4x4/2 2f ->
    LeakyReLU -> flatten -> 1 logit. No pooling, BatchNorm in G only (Radford et al.).

    Args:
        latent_dim: size of z.
        filters: f, the width of the first convolution of D / last hidden layer of G.
        seed: noise seed.
        name: model name.

    Returns:
        A `GAN` for images (batch, 28, 28, 1) in [-1, 1].
    """
    inputs, x = checked_input((latent_dim,), name="latent")
    x = layers.Dense(7 * 7 * 2 * filters, name="g_dense")(x)
    x = layers.Reshape((7, 7, 2 * filters), name="g_reshape")(x)  # (b, 7, 7, 2f)
    x = BatchNormalization(momentum=0.9, name="g_bn0")(x)
    x = layers.LeakyReLU(0.2, name="g_lrelu0")(x)
    x = layers.Conv2DTranspose(filters, 4, strides=2, padding="same", name="g_up1")(x)
    x = BatchNormalization(momentum=0.9, name="g_bn1")(x)  # (b, 14, 14, f)
    x = layers.LeakyReLU(0.2, name="g_lrelu1")(x)
    outputs = layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation="tanh",
                                     dtype="float32", name="g_up2")(x)  # (b, 28, 28, 1)
    generator = keras.Model(inputs, outputs, name="generator")
    inputs, x = checked_input((28, 28, 1), name="image")
    for i, width in enumerate((filters, 2 * filters)):  # (b, 14, 14, f), (b, 7, 7, 2f)
        x = Conv2D(width, 4, strides=2, padding="same", name=f"d_conv{i + 1}")(x)
        x = layers.LeakyReLU(0.2, name=f"d_lrelu{i + 1}")(x)
    x = layers.Flatten(name="d_flatten")(x)
    logit = layers.Dense(1, dtype="float32", name="d_logit")(x)
    discriminator = keras.Model(inputs, logit, name="discriminator")
    return GAN(generator, discriminator, seed=seed, name=name)
