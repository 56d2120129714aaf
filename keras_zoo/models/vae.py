"""Variational autoencoder: the lecture notebook's VAE on MNIST, trained with plain `fit`.

The encoder predicts the mean and log-variance of a Gaussian over the latent features;
the decoder maps a sample z = mean + exp(log_var / 2) * eps (the reparameterisation
trick, eps from a `keras.random.SeedGenerator`) to Bernoulli pixel probabilities. The
loss, -ELBO per sample = summed binary cross-entropy + KL(q(z|x) || N(0, I)), is added
with `add_loss` in `call`, so `compile(optimizer)` and `fit(x)` work on every backend.

Kingma & Welling, "Auto-encoding variational Bayes", ICLR 2014. Lecture: "Neural network
zoo" (VAEs: "predict means and standard deviations of a probability distribution over
the latent features"; "given a random sample ..., produce the corresponding output").
"""

import keras
from keras import layers, ops

from keras_zoo.layers import checked_input
from keras_zoo.layers.checks import CheckedDataMixin, check_range
from keras_zoo.registry import register_model


def gaussian_kl(mean, log_var):
    """KL(N(mean, exp(log_var)) || N(0, I)) per example, summed over the latent axis.

    Closed form: -1/2 * sum(1 + log_var - mean^2 - exp(log_var)), in float32 whatever
    the inputs' dtype (exp and the sum lose too much in 16 bits).

    Args:
        mean, log_var: tensors of shape (batch, latent_dim).

    Returns:
        Tensor of shape (batch,), float32.
    """
    mean, log_var = ops.cast(mean, "float32"), ops.cast(log_var, "float32")
    return -0.5 * ops.sum(1.0 + log_var - ops.square(mean) - ops.exp(log_var), axis=-1)


def bernoulli_nll(x, logits):
    """Summed binary cross-entropy of pixels x in [0, 1] under sigmoid(logits), per example.

    Args:
        x: targets (batch, ...) in [0, 1].
        logits: decoder logits of the same shape.

    Returns:
        Tensor of shape (batch,): -log p(x | z) in nats, float32 (as `gaussian_kl`).
    """
    x, logits = ops.cast(x, "float32"), ops.cast(logits, "float32")
    per_pixel = ops.softplus(logits) - x * logits  # = BCE(x, sigmoid(logits)), stably
    return ops.sum(ops.reshape(per_pixel, (ops.shape(x)[0], -1)), axis=-1)


@keras.saving.register_keras_serializable(package="keras_zoo")
class VAE(CheckedDataMixin, keras.Model):
    """An encoder (x -> mean, log_var) and a decoder (z -> pixel logits) trained on -ELBO.

    `vae(x)`: in inference mode the reconstruction decoded from the mean (deterministic);
    in training mode from a sample. Either way it adds the loss: -ELBO per sample with
    one sample of z, averaged over the batch (what `fit`/`evaluate` report).

    Args:
        encoder: model (batch, *image_shape) -> [mean, log_var], each (batch, latent_dim).
        decoder: model (batch, latent_dim) -> logits (batch, *image_shape).
        seed: seed of the sampling noise.

    Under a mixed precision policy the encoder and decoder compute in 16 bits, but their
    output layers (mean, log-variance, logits), the sampling and the loss stay float32,
    and so do the images the loss reads (`input_dtype`).
    """

    image_range = (0.0, 1.0)
    range_hint = "the VAE models pixel intensities in [0, 1] (Bernoulli decoder)"

    def __init__(self, encoder, decoder, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.decoder, self.seed = encoder, decoder, seed
        self.latent_dim = int(decoder.inputs[0].shape[-1])
        self.image_shape = tuple(encoder.inputs[0].shape[1:])
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.built = True

    @property
    def input_dtype(self):
        """Images are kept in float32 (the variable dtype) under a mixed policy, not
        rounded to 16 bits: the loss compares them with the reconstruction. The encoder
        casts its own input."""
        return self.variable_dtype

    def encode(self, x, training=False):
        """(mean, log_var) of q(z | x), each (batch, latent_dim)."""
        check_range(x, *self.image_range, what=f"{self.name}: images", hint=self.range_hint)
        return self.encoder(x, training=training)

    def decode(self, z, training=False):
        """Pixel probabilities in [0, 1], (batch, *image_shape), for latent vectors z."""
        return ops.sigmoid(self.decoder(z, training=training))

    def reparameterize(self, mean, log_var, seed=None):
        """z = mean + exp(log_var / 2) * eps, eps ~ N(0, I) from the seed generator."""
        mean, log_var = ops.cast(mean, "float32"), ops.cast(log_var, "float32")
        eps = keras.random.normal(ops.shape(mean), seed=self.seed_generator if seed is None
                                  else seed)
        return mean + ops.exp(0.5 * log_var) * eps

    def sample(self, num, seed=None):
        """`num` images decoded from z ~ N(0, I); a fixed int `seed` repeats them."""
        z = keras.random.normal((num, self.latent_dim),
                                seed=self.seed_generator if seed is None else seed)
        return self.decode(z)

    def negative_elbo(self, x, training=False):
        """-ELBO per example (batch,): BCE(x, decoder(z)) + KL, one z sample each."""
        mean, log_var = self.encode(x, training=training)
        logits = self.decoder(self.reparameterize(mean, log_var), training=training)
        return bernoulli_nll(x, logits) + gaussian_kl(mean, log_var)

    def call(self, x, training=False):
        mean, log_var = self.encode(x, training=training)  # (b, latent), (b, latent)
        logits = self.decoder(self.reparameterize(mean, log_var), training=training)
        self.add_loss(ops.mean(bernoulli_nll(x, logits) + gaussian_kl(mean, log_var)))
        if not training:
            logits = self.decoder(mean, training=False)  # the deterministic reconstruction
        return ops.sigmoid(logits)

    def get_config(self):
        serialize = keras.saving.serialize_keras_object
        return {"name": self.name, "trainable": self.trainable, "seed": self.seed,
                "encoder": serialize(self.encoder), "decoder": serialize(self.decoder)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        for key in ("encoder", "decoder"):
            config[key] = keras.saving.deserialize_keras_object(config[key], custom_objects)
        return cls(**config)


def _example(model, batch, rng):
    """Images in [0, 1] (the model's own loss needs no targets)."""
    return rng.uniform(0.0, 1.0, size=(batch, *model.image_shape)).astype("float32"), None


def apply_leaky_dense_stack(x, units, name):
    """Dense -> LeakyReLU(0.2) for each width in `units`, as in the notebook."""
    for i, width in enumerate(units):
        x = layers.Dense(width, name=f"{name}{i + 1}")(x)
        x = layers.LeakyReLU(0.2, name=f"{name}{i + 1}_lrelu")(x)
    return x


@register_model(task="self_supervised", family="generative", example=_example,
                smoke={"units": (32, 32), "latent_dim": 8})
def vae(image_shape=(28, 28, 1), units=(400, 400), latent_dim=200, seed=None, name="vae"):
    """The notebook's VAE: 784 -> 400 -> 400 -> (mean, log_var) of 200; mirrored decoder.

    Encoder: flatten -> Dense 400 -> Dense 400 (LeakyReLU 0.2) -> Dense latent_dim twice
    (mean and log-variance). Decoder: z -> 400 -> 400 -> 784 logits -> image; `decode`
    applies the sigmoid. `latent_dim=2` gives the variant for latent-space plots. Train
    with `compile(Adam(1e-3))` and `fit(x in [0, 1], batch_size=100)`.

    Args:
        image_shape: (height, width, channels) of images in [0, 1].
        units: hidden widths of the encoder (the decoder uses them reversed).
        latent_dim: size of z.
        seed: seed of the sampling noise.
        name: model name.

    Returns:
        A `VAE`.
    """
    inputs, x = checked_input(image_shape, name="image")
    x = apply_leaky_dense_stack(layers.Flatten(name="flatten")(x), units, name="enc")
    mean = layers.Dense(latent_dim, dtype="float32", name="mean")(x)  # (b, latent_dim)
    log_var = layers.Dense(latent_dim, dtype="float32", name="log_var")(x)  # (b, latent_dim)
    encoder = keras.Model(inputs, [mean, log_var], name="encoder")
    inputs, x = checked_input((latent_dim,), name="latent")
    x = apply_leaky_dense_stack(x, tuple(reversed(units)), name="dec")
    size = image_shape[0] * image_shape[1] * image_shape[2]
    x = layers.Dense(size, dtype="float32", name="dec_logits")(x)  # (b, 784) logits
    x = layers.Reshape(image_shape, dtype="float32", name="dec_image")(x)
    decoder = keras.Model(inputs, x, name="decoder")
    return VAE(encoder, decoder, seed=seed, name=name)
