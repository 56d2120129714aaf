"""Energy-based networks: the Hopfield network, the restricted Boltzmann machine, RBF networks.

Lecture: "Modern architectures" (symmetrically connected networks: binary threshold units,
an update rule that moves to lower energy, a half-corrupted 'T' recovered; "if we allow
the update to be stochastic we have a Boltzmann Machine"; "Radial basis function networks
- Perceptron algorithms tweaked to find cluster centers").
Hopfield, PNAS 1982; Amit, Gutfreund & Sompolinsky, PRL 1985 (capacity 0.138 N);
Hinton, "Training products of experts by minimizing contrastive divergence", Neural
Computation 2002, and "A practical guide to training RBMs" 2010; Broomhead & Lowe 1988.

Hopfield and RBM train without backpropagation, yet keep the Keras interface: `compile`
then `fit`. The update lives in `compute_loss(training=True)`, which every backend's
trainer calls (on JAX inside a stateless scope that returns assigned variables, as it
does for BatchNorm statistics), so no per-backend code is needed.

Hopfield and RBM compute in float32 under any global dtype policy (their default
`dtype`): their states are binary, thresholds and Gibbs sampling compare fields and
probabilities with 0 and with uniform draws, and they are small; a mixed policy would
save nothing and flip units whose field is near the threshold.
"""

import keras
import numpy as np
from keras import layers, ops

from keras_zoo.layers import checked_input
from keras_zoo.layers.checks import CheckedDataMixin, InputShapeCheck, check_values
from keras_zoo.layers.rbf import GaussianRBF
from keras_zoo.models.base import ZooModel
from keras_zoo.registry import register_model

HOPFIELD_CAPACITY = 0.138  # patterns per unit (Amit, Gutfreund & Sompolinsky 1985)


@keras.saving.register_keras_serializable(package="keras_zoo")
class Hopfield(CheckedDataMixin, keras.Model):
    """Hopfield network: N binary threshold units (+1/-1), symmetric Hebbian weights.

    Update rule (lecture): s_i = +1 if sum_j w_ij s_j >= theta_i, else -1. Energy
    E(s) = -1/2 s^T W s + theta . s never rises under asynchronous (one unit at a time)
    updates when W is symmetric with a zero diagonal; synchronous updates (all units at
    once) may instead end in a 2-cycle.

    Training is NOT gradient descent: `fit(patterns)` (or `store`) applies Hebb's rule
    W += P^T P / N with the diagonal kept at 0, in `compute_loss(training=True)`, with
    keras.ops only. The kernel and thresholds are non-trainable weights, so any compiled
    optimizer is left unused. The logged loss is the mean energy per unit of the batch.

    Args:
        units: number of units N (e.g. the pixels of a 10x10 bitmap).
        update: "async" (units 0..N-1 in turn) or "sync" (all at once) in `call`.
        steps: sweeps over all units (async) or synchronous steps that `call` runs.

    Call:
        states (batch, N) of +1/-1 -> states after `steps` updates (batch, N).
    """

    def __init__(self, units=100, update="async", steps=5, **kwargs):
        kwargs.setdefault("dtype", "float32")  # under a mixed policy too (module docstring)
        super().__init__(**kwargs)
        if update not in ("async", "sync"):
            raise ValueError(f"Hopfield: update must be 'async' or 'sync', got {update!r}")
        self.units, self.update, self.steps = int(units), update, int(steps)
        self.check = InputShapeCheck((self.units,), dtype=self.dtype_policy, name="state_check")
        self.build((None, self.units))

    def build(self, input_shape=None):
        if self.built:
            return
        self.kernel = self.add_weight(shape=(self.units, self.units), initializer="zeros",
                                      trainable=False, name="kernel")
        self.thresholds = self.add_weight(shape=(self.units,), initializer="zeros",
                                          trainable=False, name="thresholds")
        self.built = True

    def fields(self, states):
        """Net input minus threshold of every unit: (batch, N)."""
        return ops.matmul(states, self.kernel) - self.thresholds

    def energy(self, states):
        """E(s) = -1/2 s^T W s + theta . s per state: (batch, N) -> (batch,)."""
        states = ops.convert_to_tensor(states, "float32")
        quadratic = ops.sum(ops.matmul(states, self.kernel) * states, axis=-1)
        return -0.5 * quadratic + ops.sum(states * self.thresholds, axis=-1)

    def update_unit(self, states, i):
        """Asynchronous update of unit `i` (an int or a scalar tensor) in every state."""
        column = ops.take(self.kernel, i, axis=1)  # (N,)
        field = ops.matmul(states, column) - ops.take(self.thresholds, i)  # (b,)
        new = 2.0 * ops.cast(field >= 0.0, states.dtype) - 1.0
        is_i = ops.cast(ops.equal(ops.arange(self.units), i), states.dtype)  # one-hot (N,)
        return states + ops.expand_dims(new - ops.take(states, i, axis=1), -1) * is_i

    def sweep(self, states):
        """One asynchronous sweep: units 0, 1, ..., N-1 in turn."""
        return ops.fori_loop(0, self.units, lambda i, s: self.update_unit(s, i), states)

    def sync_step(self, states):
        """One synchronous step: every unit from the same old state."""
        return 2.0 * ops.cast(self.fields(states) >= 0.0, states.dtype) - 1.0

    def call(self, states):
        states = ops.cast(self.check(states), "float32")
        step = self.sweep if self.update == "async" else self.sync_step
        return ops.fori_loop(0, self.steps, lambda _, s: step(s), states)

    def hebbian_increment(self, patterns):
        """Hebb's rule for a batch: P^T P / N with a zero diagonal, (N, N)."""
        patterns = ops.convert_to_tensor(patterns, "float32")
        off_diagonal = 1.0 - ops.eye(self.units)
        return ops.matmul(ops.transpose(patterns), patterns) * off_diagonal / self.units

    def store(self, patterns):
        """Replace the memory by `patterns` (P, N) of +1/-1 (Hebb's rule, thresholds 0)."""
        patterns = np.asarray(patterns, dtype="float32")
        if patterns.ndim != 2 or patterns.shape[1] != self.units:
            raise ValueError(f"Hopfield.store: expected patterns of shape (P, {self.units}), "
                             f"got {patterns.shape}")
        check_values(patterns, "bipolar", "Hopfield.store", "map 0/1 pixels with 2 * x - 1")
        self.kernel.assign(self.hebbian_increment(patterns))
        self.thresholds.assign(ops.zeros((self.units,)))
        return self

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if training:  # Hebbian storage, not a gradient step
            self.kernel.assign(self.kernel + self.hebbian_increment(x))
        return ops.mean(self.energy(x)) / self.units

    def fit(self, x=None, y=None, *args, **kwargs):
        if isinstance(x, np.ndarray):
            check_values(x, "bipolar", "Hopfield.fit", "map 0/1 pixels with 2 * x - 1")
        return super().fit(x, y, *args, **kwargs)

    def get_config(self):
        return {"name": self.name, "units": self.units, "update": self.update,
                "steps": self.steps}


@keras.saving.register_keras_serializable(package="keras_zoo")
class RBM(CheckedDataMixin, keras.Model):
    """Restricted Boltzmann machine: binary visible and hidden units, trained by CD-k.

    p(v, h) ~ exp(v.b + h.c + v^T W h); free energy F(v) = -v.b - sum_j softplus(c_j + v.W_j).
    Contrastive divergence (Hinton 2002) runs a Gibbs chain v0 -> h0 -> v1 ... -> vk and
    moves W by <v h>_data - <v h>_k (and the biases alike). CD-k is not the gradient of
    any loss; the optimizer receives it as the gradient of the surrogate
    F(v0) - F(stop_gradient(vk)), whose derivative is exactly minus the CD-k update
    (`cd_gradients` computes the same update directly). The logged loss is that
    free-energy gap, which hovers near 0: it is not meant to fall. Gibbs sampling draws
    from the model's `SeedGenerator`.

    Args:
        visible_units: number of visible units (784 for flattened MNIST).
        hidden_units: number of hidden units.
        k: Gibbs steps per CD update.
        seed: seed of the model's `SeedGenerator`.

    Call:
        v (batch, visible) in [0, 1] -> p(h = 1 | v) (batch, hidden).
    """

    def __init__(self, visible_units=784, hidden_units=128, k=1, seed=None, **kwargs):
        kwargs.setdefault("dtype", "float32")  # under a mixed policy too (module docstring)
        super().__init__(**kwargs)
        self.visible_units, self.hidden_units = int(visible_units), int(hidden_units)
        self.k, self.seed = int(k), seed
        self.check = InputShapeCheck((self.visible_units,), dtype=self.dtype_policy,
                                     name="visible_check")
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.build((None, self.visible_units))

    def build(self, input_shape=None):
        if self.built:
            return
        self.kernel = self.add_weight(shape=(self.visible_units, self.hidden_units),
                                      initializer=keras.initializers.RandomNormal(0.0, 0.01),
                                      name="kernel")
        self.visible_bias = self.add_weight(shape=(self.visible_units,), initializer="zeros",
                                            name="visible_bias")
        self.hidden_bias = self.add_weight(shape=(self.hidden_units,), initializer="zeros",
                                           name="hidden_bias")
        self.built = True

    def hidden_probs(self, v):
        """p(h_j = 1 | v) = sigmoid(c_j + v.W_j): (batch, visible) -> (batch, hidden)."""
        return ops.sigmoid(ops.matmul(v, self.kernel) + self.hidden_bias)

    def visible_probs(self, h):
        """p(v_i = 1 | h) = sigmoid(b_i + W_i.h): (batch, hidden) -> (batch, visible)."""
        return ops.sigmoid(ops.matmul(h, ops.transpose(self.kernel)) + self.visible_bias)

    def bernoulli(self, p):
        """Binary sample with P(1) = p, from the model's seed generator."""
        return ops.cast(keras.random.uniform(ops.shape(p), seed=self.seed_generator) < p,
                        p.dtype)

    def gibbs_chain(self, v, steps):
        """`steps` rounds of h ~ p(h | v), v ~ p(v | h), from v: binary (batch, visible)."""
        for _ in range(steps):
            v = self.bernoulli(self.visible_probs(self.bernoulli(self.hidden_probs(v))))
        return v

    def reconstruct(self, v):
        """Mean-field reconstruction p(v | h = p(h | v)): (batch, visible)."""
        return self.visible_probs(self.hidden_probs(v))

    def free_energy(self, v):
        """F(v) = -v.b - sum_j softplus(c_j + v.W_j): (batch, visible) -> (batch,)."""
        v = ops.convert_to_tensor(v, "float32")
        pre = ops.matmul(v, self.kernel) + self.hidden_bias
        return -ops.matmul(v, self.visible_bias) - ops.sum(ops.softplus(pre), axis=-1)

    def cd_gradients(self, v, k=None):
        """The CD-k update (log-likelihood ascent direction) for a batch, averaged.

        Returns:
            [dW (visible, hidden), db (visible,), dc (hidden,)]:
            <v p(h|v)>_data - <v p(h|v)>_k and likewise for the biases.
        """
        v0 = ops.convert_to_tensor(v, "float32")
        vk = self.gibbs_chain(v0, self.k if k is None else k)
        h0, hk = self.hidden_probs(v0), self.hidden_probs(vk)
        n = ops.cast(ops.shape(v0)[0], "float32")
        d_kernel = (ops.matmul(ops.transpose(v0), h0) - ops.matmul(ops.transpose(vk), hk)) / n
        return [d_kernel, ops.mean(v0 - vk, axis=0), ops.mean(h0 - hk, axis=0)]

    def pseudo_log_likelihood(self, v):
        """Exact pseudo-log-likelihood sum_i log p(v_i | v_-i) of binary v: (batch,).

        Flipping bit i changes F by -d_i b_i - sum_j [softplus(a_j + d_i W_ij) -
        softplus(a_j)] with d_i = 1 - 2 v_i and a = c + v.W; memory (batch, visible, hidden).
        """
        v = ops.convert_to_tensor(v, "float32")
        pre = ops.matmul(v, self.kernel) + self.hidden_bias  # (b, H)
        flip = 1.0 - 2.0 * v  # (b, V)
        flipped = ops.expand_dims(pre, 1) + ops.expand_dims(flip, -1) * self.kernel  # (b, V, H)
        gap = -flip * self.visible_bias - ops.sum(
            ops.softplus(flipped) - ops.expand_dims(ops.softplus(pre), 1), axis=-1)  # (b, V)
        return -ops.sum(ops.softplus(-gap), axis=-1)  # sum_i log sigmoid(F(v^i) - F(v))

    def call(self, v):
        return self.hidden_probs(ops.cast(self.check(v), "float32"))

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        v0 = ops.convert_to_tensor(x, "float32")
        vk = ops.stop_gradient(self.gibbs_chain(v0, self.k))
        return ops.mean(self.free_energy(v0)) - ops.mean(self.free_energy(vk))

    def fit(self, x=None, y=None, *args, **kwargs):
        if isinstance(x, np.ndarray):
            check_values(x, "unit", "RBM.fit", "scale pixels to [0, 1] (x / 255)")
        return super().fit(x, y, *args, **kwargs)

    def get_config(self):
        return {"name": self.name, "visible_units": self.visible_units,
                "hidden_units": self.hidden_units, "k": self.k, "seed": self.seed}


def _bipolar_example(model, batch, rng):
    return rng.choice(np.float32([-1.0, 1.0]), size=(batch, model.units)), None


def _binary_example(model, batch, rng):
    return (rng.uniform(size=(batch, model.visible_units)) < 0.5).astype("float32"), None


@register_model(task="self_supervised", smoke={"units": 16}, example=_bipolar_example)
def hopfield(units=100, update="async", steps=5, name="hopfield"):
    """Hopfield network of `units` +1/-1 units with Hebbian storage (`fit` or `store`).

    Args:
        units: number of units (pixels of the stored bitmaps).
        update: "async" or "sync" updates in `call`.
        steps: sweeps (async) or steps (sync) per call.
        name: model name.

    Returns:
        A `Hopfield` model; `model(states)` runs the updates, `model.energy(states)`.
    """
    return Hopfield(units=units, update=update, steps=steps, name=name)


@register_model(task="self_supervised", smoke={"visible_units": 12, "hidden_units": 6},
                example=_binary_example)
def rbm(visible_units=784, hidden_units=128, k=1, seed=None, name="rbm"):
    """Restricted Boltzmann machine trained by contrastive divergence (CD-k).

    Args:
        visible_units: visible units (flattened binary images).
        hidden_units: hidden units.
        k: Gibbs steps per update.
        seed: seed of the Gibbs sampler.
        name: model name.

    Returns:
        An `RBM` model mapping (batch, visible) to p(h | v) (batch, hidden).
    """
    return RBM(visible_units=visible_units, hidden_units=hidden_units, k=k, seed=seed,
               name=name)


@register_model(smoke={"units": 8})
def rbf_network(input_shape=(2,), num_classes=2, units=20, width=0.5, name="rbf_network"):
    """RBF network: Gaussian radial basis layer (learnable centres, widths) + linear output.

    Args:
        input_shape: (features,).
        num_classes: output width (logits; use 1 with an MSE loss for regression).
        units: number of radial basis functions.
        width: initial width of every basis function.
        name: model name.

    Returns:
        A functional `keras.Model` mapping (batch, features) to (batch, num_classes).
    """
    inputs, x = checked_input(input_shape, name="features")
    x = GaussianRBF(units, width=width, name="rbf")(x)  # (b, units)
    outputs = layers.Dense(num_classes, dtype="float32", name="linear")(x)  # (b, num_classes)
    return ZooModel(inputs, outputs, name=name)
