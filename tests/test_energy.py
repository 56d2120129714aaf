"""Energy-based models: Hopfield energy and dynamics, RBM contrastive divergence, RBF layer.

Small hand-computed cases and NumPy references (exact RBM gradients by enumerating every
visible state); the registry tests cover build / train / save for hopfield, rbm, rbf_network.
"""

import itertools
import warnings

import keras
import numpy as np
import pytest

import keras_zoo
from keras_zoo.layers.rbf import GaussianRBF
from keras_zoo.models.energy import RBM, Hopfield

to_np = keras.ops.convert_to_numpy


def bipolar(rng, shape):
    return rng.choice(np.float32([-1.0, 1.0]), size=shape)


# -------------------------------------------------------------------------------- Hopfield


def test_hopfield_energy_hand_computed():
    model = Hopfield(units=3)
    model.kernel.assign(np.float32([[0, 1, -2], [1, 0, 3], [-2, 3, 0]]))
    model.thresholds.assign(np.float32([0.5, 0, -1]))
    # s^T W s = 2 (1*(1)(-1) + (-2)(1)(1) + 3(-1)(1)) = -12; theta.s = 0.5 - 1 = -0.5
    energy = to_np(model.energy(np.float32([[1, -1, 1], [1, 1, 1]])))
    np.testing.assert_allclose(energy, [6.0 - 0.5, -0.5 * 4.0 - 0.5], rtol=1e-6)
    # fields: W s - theta = (-3, 4, -5) - (0.5, 0, -1); async unit 0 -> -1, unit 1 stays
    np.testing.assert_allclose(to_np(model.fields(np.float32([[1, -1, 1]]))), [[-3.5, 4, -4]])
    after = to_np(model.update_unit(keras.ops.convert_to_tensor(np.float32([[1, -1, 1]])), 0))
    np.testing.assert_array_equal(after, [[-1, -1, 1]])


def test_hebbian_storage_by_fit_equals_store(rng):
    patterns = bipolar(rng, (6, 40))
    stored = Hopfield(units=40).store(patterns)
    expected = patterns.T @ patterns / 40
    np.fill_diagonal(expected, 0)
    np.testing.assert_allclose(to_np(stored.kernel), expected, atol=1e-6)
    fitted = Hopfield(units=40)
    fitted.compile(optimizer="sgd")  # unused: Hebb's rule is applied in compute_loss
    with warnings.catch_warnings():  # "The model does not have any trainable weights."
        warnings.simplefilter("ignore")
        fitted.fit(patterns, batch_size=4, epochs=1, verbose=0)  # two batches add up
    np.testing.assert_allclose(to_np(fitted.kernel), expected, atol=1e-5)
    before = fitted.evaluate(patterns, verbose=0)  # evaluate must not store anything
    np.testing.assert_allclose(to_np(fitted.kernel), expected, atol=1e-5)
    np.testing.assert_allclose(before, np.mean(to_np(stored.energy(patterns))) / 40, rtol=1e-5)


@pytest.mark.parametrize("update", ["async", "sync"])
def test_stored_patterns_are_fixed_points_below_capacity(update, rng):
    units = 120
    patterns = bipolar(rng, (int(0.05 * units), units))  # 6 patterns, well below 0.138 N
    model = Hopfield(units=units, update=update, steps=2).store(patterns)
    np.testing.assert_array_equal(to_np(model(patterns)), patterns)
    noisy = patterns * np.where(rng.uniform(size=patterns.shape) < 0.1, -1, 1)  # 10% flipped
    np.testing.assert_array_equal(to_np(model(noisy.astype("float32"))), patterns)


@pytest.mark.parametrize("weights", ["hebbian", "random_symmetric"])
def test_energy_never_rises_under_asynchronous_updates(weights, rng):
    units = 24
    model = Hopfield(units=units)
    if weights == "hebbian":
        model.store(bipolar(rng, (8, units)))  # over capacity: spurious minima, still descent
    else:
        w = rng.normal(size=(units, units))
        w = (w + w.T) / 2
        np.fill_diagonal(w, 0)
        model.kernel.assign(w.astype("float32"))
        model.thresholds.assign(rng.normal(size=units).astype("float32"))
    states = keras.ops.convert_to_tensor(bipolar(rng, (16, units)))
    energies = [to_np(model.energy(states))]
    for i in np.concatenate([rng.permutation(units) for _ in range(3)]):
        states = model.update_unit(states, int(i))
        energies.append(to_np(model.energy(states)))
    energies = np.array(energies)  # (updates + 1, 16)
    assert np.all(np.diff(energies, axis=0) <= 1e-4), "an asynchronous update raised E"
    assert np.all(energies[-1] < energies[0] - 1e-3), "no state moved downhill"


def test_hopfield_bad_input():
    model = Hopfield(units=4)
    with pytest.raises(ValueError, match=r"only -1 and \+1.*2 \* x - 1"):
        model.store(np.float32([[0, 1, 1, 0]]))
    with pytest.raises(ValueError, match=r"shape \(P, 4\)"):
        model.store(np.ones((2, 5), "float32"))
    with pytest.raises(ValueError, match="expected shape=.*4"):
        model(np.ones((2, 5), "float32"))
    model.compile(optimizer="sgd")
    with pytest.raises(ValueError, match=r"Hopfield.fit: expected only -1 and \+1"):
        model.fit(np.full((2, 4), 0.5, "float32"), verbose=0)
    with pytest.raises(ValueError, match="update must be"):
        Hopfield(units=4, update="random")


# ------------------------------------------------------------------------------------- RBM


def tiny_rbm(rng, visible=6, hidden=4, scale=1.0, seed=3):
    model = RBM(visible_units=visible, hidden_units=hidden, seed=seed)
    model.kernel.assign(rng.normal(scale=scale, size=(visible, hidden)).astype("float32"))
    model.visible_bias.assign(rng.normal(scale=0.5, size=visible).astype("float32"))
    model.hidden_bias.assign(rng.normal(scale=0.5, size=hidden).astype("float32"))
    return model


def np_params(model):
    return [to_np(v).astype("float64") for v in (model.kernel, model.visible_bias,
                                                 model.hidden_bias)]


def np_free_energy(v, w, b, c):
    return -v @ b - np.sum(np.logaddexp(0.0, c + v @ w), axis=-1)


def np_sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def exact_gradient(model, data):
    """d mean log p(data) / d(W, b, c), enumerating all 2^visible states."""
    w, b, c = np_params(model)
    states = np.array(list(itertools.product([0.0, 1.0], repeat=w.shape[0])))
    logits = -np_free_energy(states, w, b, c)
    p = np.exp(logits - logits.max())
    p /= p.sum()
    h_data, h_all = np_sigmoid(c + data @ w), np_sigmoid(c + states @ w)
    return [data.T @ h_data / len(data) - (states * p[:, None]).T @ h_all,
            data.mean(0) - p @ states, h_data.mean(0) - p @ h_all]


def flat_cat(arrays):
    return np.concatenate([np.ravel(a) for a in arrays])


def cosine(a, b):
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def test_rbm_free_energy_and_conditionals_match_numpy(rng):
    model = tiny_rbm(rng)
    w, b, c = np_params(model)
    v = (rng.uniform(size=(5, 6)) < 0.5).astype("float32")
    np.testing.assert_allclose(to_np(model.free_energy(v)), np_free_energy(v, w, b, c),
                               rtol=1e-5)
    np.testing.assert_allclose(to_np(model(v)), np_sigmoid(c + v @ w), rtol=1e-5)
    h = rng.uniform(size=(5, 4)).astype("float32")
    np.testing.assert_allclose(to_np(model.visible_probs(h)), np_sigmoid(b + h @ w.T),
                               rtol=1e-5)


def test_rbm_pseudo_log_likelihood_matches_bit_flips(rng):
    model = tiny_rbm(rng)
    w, b, c = np_params(model)
    v = (rng.uniform(size=(5, 6)) < 0.5).astype("float64")
    expected = np.zeros(5)
    for i in range(6):
        flipped = v.copy()
        flipped[:, i] = 1 - flipped[:, i]
        gap = np_free_energy(flipped, w, b, c) - np_free_energy(v, w, b, c)
        expected += -np.logaddexp(0.0, -gap)  # log sigmoid(F(v^i) - F(v))
    np.testing.assert_allclose(to_np(model.pseudo_log_likelihood(v.astype("float32"))),
                               expected, rtol=1e-4)


def test_cd_gradient_points_along_the_exact_log_likelihood_gradient(rng):
    model = tiny_rbm(rng)
    data = (rng.uniform(size=(5, 6)) < 0.5).astype("float32")
    exact = flat_cat(exact_gradient(model, data))
    chains = np.repeat(data, 2000, axis=0)  # many chains per example average out the noise
    cd1 = flat_cat([to_np(g) for g in model.cd_gradients(chains, k=1)])
    assert cosine(cd1, exact) > 0.3, cosine(cd1, exact)
    cd_long = flat_cat([to_np(g) for g in model.cd_gradients(chains, k=100)])
    assert cosine(cd_long, exact) > 0.99
    np.testing.assert_allclose(cd_long, exact, atol=0.03)


def test_rbm_train_step_applies_the_cd_update(rng):
    data = (rng.uniform(size=(8, 6)) < 0.5).astype("float32")
    reference = tiny_rbm(np.random.default_rng(0), seed=11)
    expected = [to_np(g) for g in reference.cd_gradients(data)]  # draws from seed 11
    model = tiny_rbm(np.random.default_rng(0), seed=11)
    before = np_params(model)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=1.0))
    model.train_on_batch(data)  # SGD on F(v0) - F(vk): exactly the CD-1 step
    for old, new, step in zip(before, np_params(model), expected):
        np.testing.assert_allclose(new - old, step, atol=1e-5)


def test_gibbs_sampler_uses_its_seed_generator(rng):
    model = tiny_rbm(rng)
    v = np.zeros((64, 6), "float32")
    first, second = to_np(model.gibbs_chain(v, 1)), to_np(model.gibbs_chain(v, 1))
    assert set(np.unique(first)) <= {0.0, 1.0}
    assert not np.array_equal(first, second), "the seed generator did not advance"
    again = tiny_rbm(np.random.default_rng(0), seed=3)
    same = tiny_rbm(np.random.default_rng(0), seed=3)
    np.testing.assert_array_equal(to_np(again.gibbs_chain(v, 2)), to_np(same.gibbs_chain(v, 2)))


def test_rbm_bad_input():
    model = keras_zoo.build("rbm", visible_units=6, hidden_units=3)
    model.compile(optimizer="sgd")
    with pytest.raises(ValueError, match=r"RBM.fit: expected values in \[0, 1\].*x / 255"):
        model.fit(np.full((4, 6), 255.0, "float32"), verbose=0)
    with pytest.raises(ValueError, match="expected shape=.*6"):
        model(np.ones((2, 7), "float32"))


# ------------------------------------------------------------------------------------- RBF


def test_gaussian_rbf_matches_numpy(rng):
    layer = GaussianRBF(5, width=0.7)
    x = rng.normal(size=(8, 3)).astype("float32")
    layer.build((None, 3))
    centers = rng.normal(size=(5, 3)).astype("float32")
    widths = rng.uniform(0.3, 2.0, size=5).astype("float32")
    layer.centers.assign(centers)
    layer.log_widths.assign(np.log(widths))
    sq = np.sum((x[:, None, :] - centers[None]) ** 2, axis=-1)
    np.testing.assert_allclose(to_np(layer(x)), np.exp(-sq / (2 * widths ** 2)), rtol=1e-4,
                               atol=1e-6)
    np.testing.assert_allclose(to_np(layer(centers))[np.arange(5), np.arange(5)], 1.0,
                               atol=1e-5)  # a unit peaks at its centre


def test_gaussian_rbf_config_and_errors():
    layer = GaussianRBF(4, width=0.25, name="rbf")
    clone = GaussianRBF.from_config(layer.get_config())
    assert (clone.units, clone.width, clone.name) == (4, 0.25, "rbf")
    clone.build((None, 2))
    np.testing.assert_allclose(np.exp(to_np(clone.log_widths)), 0.25, rtol=1e-6)
    with pytest.raises(ValueError, match="width > 0"):
        GaussianRBF(4, width=0.0)
    model = keras_zoo.build("rbf_network")
    with pytest.raises(ValueError, match="expected shape=.*2"):
        model(np.ones((2, 3), "float32"))
