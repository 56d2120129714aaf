"""GAN, VAE and DDPM: training with fit on this backend, hand-computed losses, sampling.

The registry tests cover build / forward / save-load / 10 train steps and the goldens
cover the deterministic forward passes (GAN: generator and discriminator; VAE: the
reconstruction from the mean; DDPM: the predicted noise for given x_0, noise and t).
"""

import keras
import numpy as np
import pytest
from helpers import set_deterministic_weights

import keras_zoo
from keras_zoo import evaluation
from keras_zoo.models.diffusion import beta_schedule
from keras_zoo.models.vae import bernoulli_nll, gaussian_kl
from keras_zoo.training import OptimizerGroup

SMALL_GAN = {"generator_units": (16, 32), "discriminator_units": (32,)}
SMALL_VAE = {"units": (32, 32), "latent_dim": 4}
SMALL_DDPM = {"filters": (8, 16), "timesteps": 10}


def numpy(x):
    return keras.ops.convert_to_numpy(x)


def weights(network):
    return [numpy(w).copy() for w in network.trainable_weights]


# ---------------------------------------------------------------------------------- GAN


def test_gan_fit_trains_both_networks(mnist_small):
    x = mnist_small[0][:256] * 2.0 - 1.0  # [-1, 1]
    gan = set_deterministic_weights(keras_zoo.build("gan_mlp", seed=1, **SMALL_GAN))
    gan.compile()  # the notebook's two Adams
    assert isinstance(gan.optimizer, OptimizerGroup)
    assert float(gan.optimizer["generator"].learning_rate) == pytest.approx(2e-4)
    g0, d0 = weights(gan.generator), weights(gan.discriminator)
    history = gan.fit(x, batch_size=64, epochs=3, verbose=0).history
    assert set(history) == {"d_loss", "g_loss"}
    for key in ("d_loss", "g_loss"):
        losses = history[key]
        assert np.all(np.isfinite(losses)) and len(set(np.round(losses, 6))) == 3, (key, losses)
    # D learns to tell the two apart first: its loss falls, and below log 2 (chance)
    d_loss = history["d_loss"]
    assert d_loss[-1] < d_loss[0] and d_loss[-1] < np.log(2.0), history
    for before, after in ((g0, weights(gan.generator)), (d0, weights(gan.discriminator))):
        assert all(not np.array_equal(a, b) for a, b in zip(before, after))
    # one step of each optimizer per batch: 4 batches x 3 epochs
    assert int(gan.optimizer["generator"].iterations) == 12
    assert int(gan.optimizer["discriminator"].iterations) == 12


def test_gan_steps_alternate_with_their_own_optimizers():
    """A generator step moves only G; a zero-lr discriminator optimizer freezes D."""
    gan = set_deterministic_weights(keras_zoo.build("gan_mlp", **SMALL_GAN))
    gan.compile(generator_optimizer=keras.optimizers.SGD(0.1),
                discriminator_optimizer=keras.optimizers.SGD(0.0))
    x = np.random.default_rng(0).uniform(-1, 1, size=(16, 28, 28, 1)).astype("float32")
    g0, d0 = weights(gan.generator), weights(gan.discriminator)
    logs = gan.train_on_batch(x, return_dict=True)
    assert set(logs) == {"d_loss", "g_loss"}
    assert all(np.array_equal(a, b) for a, b in zip(d0, weights(gan.discriminator)))
    assert not np.array_equal(g0[0], weights(gan.generator)[0])


def test_gan_losses_match_binary_cross_entropy(rng):
    gan = keras_zoo.build("gan_mlp", **SMALL_GAN)
    real = rng.normal(size=(6, 1)).astype("float32")
    fake = rng.normal(size=(6, 1)).astype("float32")

    def log_sigmoid(v):
        return -np.log1p(np.exp(-v))

    expected_d = 0.5 * (-log_sigmoid(real).mean() - log_sigmoid(-fake).mean())
    np.testing.assert_allclose(numpy(gan.discriminator_loss(real, fake)), expected_d, rtol=1e-5)
    np.testing.assert_allclose(numpy(gan.generator_loss(fake)), -log_sigmoid(fake).mean(),
                               rtol=1e-5)


def test_gan_compiled_save_load_keeps_optimizer_state(tmp_path):
    gan = set_deterministic_weights(keras_zoo.build("dcgan", filters=4))
    gan.compile()
    x = np.random.default_rng(0).uniform(-1, 1, size=(8, 28, 28, 1)).astype("float32")
    gan.fit(x, batch_size=4, epochs=1, verbose=0)
    gan.save(tmp_path / "dcgan.keras")
    loaded = keras.saving.load_model(tmp_path / "dcgan.keras")
    assert isinstance(loaded.optimizer, OptimizerGroup)
    for a, b in zip(gan.optimizer.variables, loaded.optimizer.variables, strict=True):
        np.testing.assert_array_equal(numpy(a), numpy(b))
    z = np.random.default_rng(1).normal(size=(3, 100)).astype("float32")
    np.testing.assert_allclose(numpy(loaded(z)), numpy(gan(z)), atol=1e-6)
    loaded.fit(x, batch_size=4, epochs=1, verbose=0)  # and training goes on
    assert int(loaded.optimizer.iterations) == 4


# ---------------------------------------------------------------------------------- VAE


def test_gaussian_kl_closed_form_by_hand():
    # mean (1, 0), variances (1, 4): 1/2 (1 + 1 - 1 - 0) + 1/2 (0 + 4 - 1 - log 4)
    mean = np.array([[1.0, 0.0]], dtype="float32")
    log_var = np.log(np.array([[1.0, 4.0]], dtype="float32"))
    np.testing.assert_allclose(numpy(gaussian_kl(mean, log_var)), [2.0 - np.log(2.0)],
                               rtol=1e-6)
    np.testing.assert_allclose(numpy(gaussian_kl(np.zeros((3, 5), "float32"),
                                                 np.zeros((3, 5), "float32"))), 0.0)


def test_bernoulli_nll_by_hand():
    x = np.array([[0.0, 1.0, 0.5]], dtype="float32")
    logits = np.array([[0.0, 2.0, -1.0]], dtype="float32")
    p = 1 / (1 + np.exp(-logits))
    expected = -(x * np.log(p) + (1 - x) * np.log(1 - p)).sum()
    np.testing.assert_allclose(numpy(bernoulli_nll(x, logits)), [expected], rtol=1e-6)


def test_vae_inference_decodes_the_mean_and_evaluate_reports_the_added_loss():
    """`vae(x)` in inference mode returns the reconstruction decoded from the mean; the loss
    it adds (one z sample) is what `evaluate` reports for the same draw (the seed state
    restored). That loss's value: `test_vae_training_loss_is_bce_plus_kl_exactly`."""
    vae = set_deterministic_weights(keras_zoo.build("vae", seed=3, **SMALL_VAE))
    x = np.random.default_rng(0).uniform(0, 1, size=(5, 28, 28, 1)).astype("float32")
    mean, _ = vae.encode(x)
    state = numpy(vae.seed_generator.state).copy()
    np.testing.assert_allclose(numpy(vae(x)), numpy(vae.decode(mean)), rtol=1e-6)
    loss = float(numpy(vae.losses[0]))
    vae.compile(optimizer="adam")
    vae.seed_generator.state.assign(state)
    assert vae.evaluate(x, batch_size=5, verbose=0) == pytest.approx(loss, rel=1e-5)


def widen_the_posterior(vae, factor):
    """q(z|x) `factor` times further from, and wider than, the prior N(0, I): the mean
    layer times `factor`, log-variance + 2 log(factor); the decoder's first kernel divided
    by `factor`, so that the decoder sees the same inputs. Makes the KL a real share."""
    mean, log_var = vae.encoder.get_layer("mean"), vae.encoder.get_layer("log_var")
    mean.set_weights([w * factor for w in mean.get_weights()])
    kernel, bias = log_var.get_weights()
    log_var.set_weights([kernel, bias + 2.0 * np.log(factor)])
    dec1 = vae.decoder.get_layer("dec1")
    kernel, bias = dec1.get_weights()
    dec1.set_weights([kernel / factor, bias])


def test_vae_training_loss_is_bce_plus_kl_exactly():
    """The loss `call` adds in training (what `fit` minimises) is mean(BCE(x, decoder(z)) +
    KL) for the z it sampled, to float32 precision (rtol 1e-5), with the KL over 10 % of
    it (asserted): a loss without the KL is over 1e4 times the tolerance off, one decoded
    from the mean instead of the sample over 100 times (asserted)."""
    vae = set_deterministic_weights(keras_zoo.build("vae", seed=3, **SMALL_VAE))
    widen_the_posterior(vae, 6.0)
    x = np.random.default_rng(0).uniform(0, 1, size=(5, 28, 28, 1)).astype("float32")
    generator = vae.seed_generator
    state = numpy(generator.state).copy()
    vae(x, training=True)
    loss = float(numpy(vae.losses[0]))
    generator.state.assign(state)  # draw the model's eps again: same state, same numbers
    eps = numpy(keras.random.normal((5, SMALL_VAE["latent_dim"]), seed=generator))
    mean, log_var = (numpy(v).astype("float64") for v in vae.encode(x))
    z = mean + np.exp(0.5 * log_var) * eps

    def bce(z):  # -log p(x | z), summed over the pixels, in float64
        p = 1.0 / (1.0 + np.exp(-numpy(vae.decoder(z.astype("float32"))).astype("float64")))
        return -(x * np.log(p) + (1 - x) * np.log(1 - p)).reshape(5, -1).sum(axis=1)

    kl = 0.5 * np.sum(mean**2 + np.exp(log_var) - 1.0 - log_var, axis=1)
    expected = float(np.mean(bce(z) + kl))
    np.testing.assert_allclose(loss, expected, rtol=1e-5)
    assert np.mean(kl) > 0.1 * expected, (np.mean(kl), expected)  # the KL is a real share
    # and the sample matters: the loss at z = mean is far outside the tolerance
    assert abs(float(np.mean(bce(mean) + kl)) - expected) > 1e-3 * expected
    vae(x, training=True)  # a fresh eps from the seed generator: another loss
    assert abs(float(numpy(vae.losses[0])) - loss) > 1e-3 * loss


def test_vae_fit_lowers_the_negative_elbo(mnist_small):
    x = mnist_small[0][:512]
    vae = keras_zoo.build("vae", units=(64, 64), latent_dim=8, seed=0)
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    before = float(np.mean(numpy(vae.negative_elbo(x))))
    history = vae.fit(x, batch_size=64, epochs=4, verbose=0).history["loss"]
    after = float(np.mean(numpy(vae.negative_elbo(x))))
    assert history[-1] < history[0] and after < 0.5 * before, (before, history, after)


def test_vae_sampling_is_reproducible_for_a_seed():
    vae = set_deterministic_weights(keras_zoo.build("vae", **SMALL_VAE))
    a, b = numpy(vae.sample(6, seed=7)), numpy(vae.sample(6, seed=7))
    np.testing.assert_array_equal(a, b)
    assert a.shape == (6, 28, 28, 1) and 0 <= a.min() and a.max() <= 1
    assert not np.allclose(numpy(vae.sample(6)), numpy(vae.sample(6)))  # seed generator
    assert not np.allclose(a, numpy(vae.sample(6, seed=8)))


# --------------------------------------------------------------------------------- DDPM


@pytest.mark.parametrize("schedule", ["linear", "cosine"])
def test_beta_schedules(schedule):
    betas = beta_schedule(200, schedule)
    alpha_bars = np.cumprod(1 - betas)
    assert betas.shape == (200,) and np.all((betas > 0) & (betas < 1))
    assert np.all(np.diff(alpha_bars) < 0)
    assert alpha_bars[0] > 0.99 and alpha_bars[-1] < 1e-3  # from data to pure noise


def test_ddpm_forward_process_and_loss():
    ddpm = set_deterministic_weights(keras_zoo.build("ddpm", **SMALL_DDPM))
    x, _ = keras_zoo.example_batch("ddpm", ddpm, batch=4)
    t = x["timesteps"]
    abar = np.cumprod(1 - beta_schedule(10, "linear"))[t][:, None, None, None]
    expected = np.sqrt(abar) * x["images"] + np.sqrt(1 - abar) * x["noise"]
    np.testing.assert_allclose(numpy(ddpm.add_noise(x["images"], t, x["noise"])), expected,
                               rtol=1e-5, atol=1e-6)
    predicted = numpy(ddpm(x))
    np.testing.assert_allclose(predicted, numpy(ddpm.predict_noise(expected, t)), atol=1e-5)
    np.testing.assert_allclose(float(numpy(ddpm.losses[0])),
                               np.mean((predicted - x["noise"]) ** 2), rtol=1e-5)


def test_ddpm_fit_and_reproducible_sampling():
    ddpm = set_deterministic_weights(keras_zoo.build("ddpm", seed=0, **SMALL_DDPM))
    ddpm.compile(optimizer=keras.optimizers.Adam(1e-3))
    x = np.random.default_rng(0).uniform(-1, 1, size=(16, 28, 28, 1)).astype("float32")
    losses = ddpm.fit(x, batch_size=8, epochs=3, verbose=0).history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]
    a, steps = ddpm.sample(3, seed=5, return_steps=(5,))
    np.testing.assert_array_equal(a, ddpm.sample(3, seed=5))
    assert a.shape == (3, 28, 28, 1) and np.abs(a).max() <= 1 and set(steps) == {5}
    assert not np.allclose(a, ddpm.sample(3, seed=6))
    assert not np.allclose(a, ddpm.sample(3, seed=5, clip_denoised=False))
    calls = []  # DDIM: deterministic after x_T, one network call per visited step
    predict = ddpm.denoiser.predict_on_batch
    ddpm.denoiser.predict_on_batch = lambda inputs: calls.append(inputs[1][0, 0]) or predict(inputs)
    d, kept = ddpm.sample(3, seed=5, ddim_steps=4, return_steps=(5, 0))
    assert calls == [9.0, 6.0, 3.0, 0.0] and set(kept) == {5, 0}
    np.testing.assert_array_equal(kept[0], d)
    assert d.shape == (3, 28, 28, 1) and np.abs(d).max() <= 1 and not np.allclose(d, a)
    np.testing.assert_array_equal(d, ddpm.sample(3, seed=5, ddim_steps=4))


def test_ddpm_fit_ends_with_the_ema_weights():
    """The tutorial samples with the moving average: `fit` must swap it in at the end
    (`optimizer.finalize_variable_values`) on every backend."""
    ddpm = set_deterministic_weights(keras_zoo.build("ddpm", seed=0, **SMALL_DDPM))
    ddpm.compile(optimizer=keras.optimizers.Adam(1e-2, use_ema=True, ema_momentum=0.5))
    x = np.random.default_rng(0).uniform(-1, 1, size=(32, 28, 28, 1)).astype("float32")
    before = weights(ddpm.denoiser)
    ddpm.fit(x, batch_size=8, epochs=1, verbose=0)
    averages = [numpy(v) for v in ddpm.optimizer._model_variables_moving_average]
    after = weights(ddpm.denoiser)
    assert len(averages) == len(after) and int(ddpm.optimizer.iterations) == 4
    for a, b in zip(after, averages):
        np.testing.assert_array_equal(a, b)
    assert any(not np.allclose(a, w0) for a, w0 in zip(after, before))


def record_sampling(ddpm, seed, clip_denoised):
    """`ddpm.sample(2, seed)` with every network call recorded: (x_t, t, eps) unclipped,
    as the sampler passed and got them; and its normal draws again (x_T, then z for
    t = T - 1 .. 1) from a `SeedGenerator` of the same seed: `sample` draws from one."""
    calls, predict = [], ddpm.denoiser.predict_on_batch

    def recording(inputs):
        eps = np.array(predict(inputs))
        calls.append((np.array(inputs[0]), int(inputs[1][0, 0]), eps))
        return eps

    ddpm.denoiser.predict_on_batch = recording
    final = ddpm.sample(2, seed=seed, clip_denoised=clip_denoised)
    generator = keras.random.SeedGenerator(seed)
    draws = [numpy(keras.random.normal((2, *ddpm.image_shape), seed=generator))
             for _ in range(ddpm.timesteps)]
    np.testing.assert_array_equal(calls[0][0], draws[0])  # x_T: the same draws
    return final, calls, draws[1:]


@pytest.mark.parametrize("clip_denoised", [False, True])
def test_ddpm_ancestral_step_is_algorithm_2_with_the_models_eps(clip_denoised):
    """Each step of `sample` from the x_t and eps_theta(x_t, t) the sampler had (its network
    calls, recorded) to the x_{t-1} it passed on, against NumPy (Ho et al., Algorithm 2):
    x_{t-1} = mean + sigma_t z, sigma_t = sqrt(beta_t), z the sampler's own draw, with
    mean = (x_t - beta_t / sqrt(1 - abar_t) eps) / sqrt(alpha_t) (eq. 11), or with the
    estimate of x_0 clipped to [-1, 1] the posterior mean of q(x_{t-1} | x_t, x_0) (eq. 7).
    The last step (index 0) adds no noise. rtol 1e-5: both sides compute in float64 from
    the same float32 inputs; the noise term is over 100 times that (asserted at the first
    step, where eq. 11's chain has not yet grown, and at every step with clipping)."""
    ddpm = set_deterministic_weights(keras_zoo.build("ddpm", **SMALL_DDPM))
    final, calls, draws = record_sampling(ddpm, 5, clip_denoised)
    betas = ddpm.betas  # the model's schedule; alphas and their products by hand
    alphas, alpha_bars, steps = 1.0 - betas, np.cumprod(1.0 - betas), ddpm.timesteps
    assert [t for _, t, _ in calls] == list(range(steps - 1, -1, -1))

    def mean(x, t, eps):
        if not clip_denoised:
            return 1 / np.sqrt(alphas[t]) * (x - betas[t] / np.sqrt(1 - alpha_bars[t]) * eps)
        x0 = np.clip((x - np.sqrt(1 - alpha_bars[t]) * eps) / np.sqrt(alpha_bars[t]), -1, 1)
        abar_prev = alpha_bars[t - 1] if t > 0 else 1.0
        return (np.sqrt(abar_prev) * betas[t] * x0
                + np.sqrt(alphas[t]) * (1 - abar_prev) * x) / (1 - alpha_bars[t])

    for (x, t, eps), (x_prev, _, _), z in zip(calls[:-1], calls[1:], draws, strict=True):
        noise = np.sqrt(betas[t]) * z
        np.testing.assert_allclose(x_prev, mean(x, t, eps) + noise, rtol=1e-5, atol=1e-7,
                                   err_msg=f"step {t}")
        if t == steps - 1 or clip_denoised:  # the noise term is far above the tolerance
            assert np.median(np.abs(noise) / np.abs(x_prev)) > 100 * 1e-5, t
    x, t, eps = calls[-1]  # t = 0, the last step: x_0 is the mean, clipped; no noise
    np.testing.assert_allclose(final, np.clip(mean(x, t, eps), -1, 1), rtol=1e-5, atol=1e-7)
    if clip_denoised:  # noise here (sigma = sqrt(beta_1) = 0.1) would show: half is inside
        assert np.mean(np.abs(final) < 0.99) > 0.2


@pytest.mark.parametrize("t", [0, 4, 9])
def test_ddpm_reverse_mean_clipped_and_eps_forms_agree_inside_the_range(t):
    """Ho et al. eq. 11 (from eps) and eq. 7 (posterior mean from x_0) are the same mean
    when the x_0 estimate needs no clipping; outside [-1, 1] clipping pulls it back."""
    ddpm = keras_zoo.build("ddpm", **SMALL_DDPM)
    rng = np.random.default_rng(t)
    x0, eps = rng.uniform(-0.9, 0.9, size=(2, 5)), rng.normal(size=(2, 5))
    abar = ddpm.alpha_bars[t]
    x_t = np.sqrt(abar) * x0 + np.sqrt(1 - abar) * eps
    np.testing.assert_allclose(ddpm.reverse_mean(x_t, eps, t, clip_denoised=True),
                               ddpm.reverse_mean(x_t, eps, t, clip_denoised=False), atol=1e-9)
    if t == 0:  # the last step's mean is the x_0 estimate itself
        np.testing.assert_allclose(ddpm.reverse_mean(x_t, eps, 0), x0, atol=1e-9)
    far = np.sqrt(abar) * 3.0 + np.sqrt(1 - abar) * eps  # an x_0 of 3, far outside
    assert np.all(ddpm.reverse_mean(far, eps, t) < ddpm.reverse_mean(far, eps, t, False))


@pytest.mark.parametrize("t,t_prev", [(9, 5), (3, 2), (4, -1)])
def test_ddpm_ddim_step_with_the_true_noise_lands_on_the_forward_process(t, t_prev):
    """Given the true eps, a DDIM step from x_t gives q(x_{t_prev} | x_0) with the same
    noise (x_0 itself at the end); clipping changes nothing inside [-1, 1]."""
    ddpm = keras_zoo.build("ddpm", **SMALL_DDPM)
    rng = np.random.default_rng(t)
    x0, eps = rng.uniform(-0.9, 0.9, size=(2, 5)), rng.normal(size=(2, 5))
    abar = ddpm.alpha_bars
    x_t = np.sqrt(abar[t]) * x0 + np.sqrt(1 - abar[t]) * eps
    expected = (x0 if t_prev < 0 else
                np.sqrt(abar[t_prev]) * x0 + np.sqrt(1 - abar[t_prev]) * eps)
    for clip in (True, False):
        np.testing.assert_allclose(ddpm.ddim_step(x_t, eps, t, t_prev, clip), expected,
                                   atol=1e-9)
    far = np.sqrt(abar[t]) * 3.0 + np.sqrt(1 - abar[t]) * eps  # x_0 = 3: clipped to 1
    assert np.all(ddpm.ddim_step(far, eps, t, -1) == 1.0)


# ---------------------------------------------------------------------------- bad input


def test_wrong_latent_size():
    gan = keras_zoo.build("gan_mlp", **SMALL_GAN)
    with pytest.raises(ValueError, match=r"expected shape=\(None, 100\)"):
        gan(np.zeros((2, 64), "float32"))
    vae = keras_zoo.build("vae", **SMALL_VAE)
    with pytest.raises(ValueError, match=r"expected shape=\(None, 4\)"):
        vae.decode(np.zeros((2, 3), "float32"))


@pytest.mark.parametrize("name,low,high", [("gan_mlp", -1, 1), ("vae", 0, 1),
                                           ("ddpm", -1, 1)])
def test_images_outside_the_range(name, low, high):
    model = keras_zoo.build(name, **{"gan_mlp": SMALL_GAN, "vae": SMALL_VAE,
                                     "ddpm": SMALL_DDPM}[name])
    model.compile(optimizer="adam")
    images = np.full((4, 28, 28, 1), 255.0, dtype="float32")  # unscaled pixels
    message = rf"images must lie in \[{low}, {high}\], got values in \[255, 255\]"
    with pytest.raises(ValueError, match=message):
        model.fit(images, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=message):
        model.train_on_batch(images)
    if name != "gan_mlp":  # the GAN's plain call takes latent vectors
        with pytest.raises(ValueError, match=message):
            model(images)


def test_bad_dicts_and_compile_arguments():
    gan = keras_zoo.build("gan_mlp", **SMALL_GAN)
    with pytest.raises(ValueError, match="'latent' and 'images'"):
        gan({"latent": np.zeros((2, 100), "float32")})
    with pytest.raises(ValueError, match="computes its own losses"):
        gan.compile(optimizer="adam", loss="mse")
    ddpm = keras_zoo.build("ddpm", **SMALL_DDPM)
    with pytest.raises(ValueError, match="'images', 'noise' and 'timesteps'"):
        ddpm({"images": np.zeros((2, 28, 28, 1), "float32")})
    with pytest.raises(ValueError, match="schedule must be one of"):
        keras_zoo.build("ddpm", schedule="quadratic")


# ---------------------------------------------------------------------- quality number


def test_classifier_confidence_with_a_fixed_classifier():
    probs = np.full((4, 10), 0.01, dtype="float32")
    probs[[0, 1, 2, 3], [3, 3, 5, 7]] = [0.91, 0.5, 0.95, 0.9]

    def classifier(images):
        return probs

    result = evaluation.classifier_confidence(np.zeros((4, 28, 28, 1)), classifier)
    assert result["confident_fraction"] == 0.75
    assert result["histogram"] == [0, 0, 0, 2, 0, 1, 0, 1, 0, 0]
    assert result["entropy"] == pytest.approx(1.5)  # p = (1/2, 1/4, 1/4)
    assert result["min_class_fraction"] == 0.0
    assert evaluation.class_entropy([5] * 10) == pytest.approx(np.log2(10))
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        evaluation.classifier_confidence(-np.ones((2, 28, 28, 1)), classifier)


def test_digit_classifier_is_cached_per_setting(tmp_path):
    first = evaluation.digit_classifier(cache_dir=tmp_path, epochs=1)
    assert first.accuracy > 0.8
    assert [p.name for p in tmp_path.iterdir()] == ["keras_zoo_lenet5_mnist_1epochs.weights.h5"]
    again = evaluation.digit_classifier(cache_dir=tmp_path, epochs=1)  # loaded, not trained again
    assert again.accuracy == first.accuracy
    evaluation.digit_classifier(cache_dir=tmp_path, epochs=2)  # another setting: its own file
    assert len(list(tmp_path.iterdir())) == 2
