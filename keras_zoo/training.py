"""The one place with per-backend training code: one gradient primitive and two adapters.

Keras 3 has no backend-neutral "backward pass", so anything that needs gradients outside
`model.fit`'s own step is built on one primitive written once per backend:

- `minimize(loss_fn, variables, optimizer)`: the gradients of `loss_fn()` with respect to
  `variables`, applied with `optimizer` (TensorFlow GradientTape, `jax.value_and_grad`
  on stateless values, PyTorch autograd).

and two adapters that give it what the backend needs around it:

- `fit_step(model, step_fn, *args)`: a `Model.train_step` / `test_step` written once as
  `step_fn(data) -> logs` (on JAX, `fit` passes and expects its state; it is threaded
  through a `keras.StatelessScope` here);
- `make_train_step(model, loss_fn, optimizer)`: the lecture's explicit loop, compiled
  (`tf.function`, `jax.jit`; eager on PyTorch).

Models that own an algorithm (the GAN's two-player step) write it in backend-neutral
lines on top of `minimize`. `OptimizerGroup` holds several optimizers as the one
`model.optimizer` that `fit` and `save` know. Backend modules are imported lazily.
"""

import contextlib
import contextvars

import keras

__all__ = ["OptimizerGroup", "backend_rng_state", "fit_step", "make_train_step", "minimize",
           "set_backend_rng_state"]

# On JAX, the variables whose values the enclosing `_stateless` scope maps (see `minimize`).
_MAPPED = contextvars.ContextVar("keras_zoo_mapped_variables", default=None)


def minimize(loss_fn, variables, optimizer):
    """One gradient step: differentiate `loss_fn()` w.r.t. `variables`, apply `optimizer`.

    Args:
        loss_fn: a function of no arguments returning a scalar loss, or `(loss, aux)`;
            `aux` (any tensors computed on the way, e.g. generated images) is returned
            as it is: wrap it in `keras.ops.stop_gradient` before reusing it in a loss.
        variables: the trainable variables to update.
        optimizer: a Keras optimizer (built here on `variables` if it is not yet); a
            `LossScaleOptimizer` (mixed_float16) gets the scaled loss's gradients.

    Returns:
        `(loss, aux)`: the loss before the update (`aux` is None if `loss_fn` returns a
        loss alone).

    On JAX this runs inside `fit_step` or `make_train_step`, which map every variable to
    its current (traced) value.
    """
    variables = list(variables)
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):  # mixed_float16
        # Differentiate the scaled loss, so that no float16 gradient underflows to 0; the
        # optimizer unscales the gradients and skips a step whose gradients overflowed.
        unscaled_fn = loss_fn

        def loss_fn():
            loss, aux = _split(unscaled_fn())
            return optimizer.scale_loss(loss), (keras.ops.stop_gradient(loss), aux)

        return _minimize(loss_fn, variables, optimizer)[1]
    return _minimize(loss_fn, variables, optimizer)


def _minimize(loss_fn, variables, optimizer):
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return _tensorflow_minimize(loss_fn, variables, optimizer)
    if backend == "jax":
        return _jax_minimize(loss_fn, variables, optimizer)
    if backend == "torch":
        return _torch_minimize(loss_fn, variables, optimizer)
    raise NotImplementedError(f"no gradient step for the {backend!r} backend")


def fit_step(model, step_fn, *args):
    """`Model.train_step` / `test_step` written once as `step_fn(data) -> logs`.

    TensorFlow and PyTorch call the step with `(data)` and read the variables in place;
    JAX calls it with `(state, data)`, where state is (trainable, non_trainable,
    [optimizer,] metrics) values, and expects `(logs, new_state)`.
    """
    if keras.backend.backend() != "jax":
        return step_fn(*args)
    state, data = args
    groups = [model.trainable_variables, model.non_trainable_variables]
    if len(state) == 4:  # train_step; test_step has no optimizer state
        groups.append(model.optimizer.variables)
    groups.append(model.metrics_variables)
    variables = [v for group in groups for v in group]
    values = [value for group in state for value in group]
    with _stateless(variables, values) as scope:
        logs = step_fn(data)
    return logs, tuple([scope.get_current_value(v) for v in group] for group in groups)


def make_train_step(model, loss_fn, optimizer):
    """One step of the lecture's loop: forward pass, loss, backward pass, optimizer step.

    The PyTorch loop the lecture shows::

        optimizer.zero_grad(); outputs = model(inputs)
        loss = loss_fn(outputs, labels); loss.backward(); optimizer.step()

    becomes ``loss = step(inputs, labels)`` on every backend. Regularisation losses that
    layers add (`model.losses`) are included. After each call the model's variables hold
    the updated weights, so `model.predict` / `evaluate` can be used at any time.

    Args:
        model: a built `keras.Model`.
        loss_fn: a Keras loss, called as `loss_fn(y_true, y_pred)`.
        optimizer: a Keras optimizer (it is built on the model's trainable variables).

    Returns:
        `step(x, y) -> float`, the loss of that batch before the update.
    """
    if not model.built:
        raise ValueError("make_train_step: build the model first (call it on a batch)")
    optimizer.build(model.trainable_variables)

    def step(x, y):
        def loss():
            y_pred = model(x, training=True)  # forward
            return sum(model.losses, loss_fn(y, y_pred))

        return minimize(loss, model.trainable_variables, optimizer)[0]  # backward, update

    compiled = _compile(step, model.variables + optimizer.variables)
    return lambda x, y: float(keras.ops.convert_to_numpy(compiled(x, y)))


class OptimizerGroup(keras.optimizers.Optimizer):
    """Several named optimizers held as one `model.optimizer`.

    `fit` and `save` know one optimizer per model; on JAX its `variables` are the state
    that the stateless train step receives and returns. This group lists the variables
    of every member (in the order given), saves and loads them with the model, and sets
    a new learning rate (e.g. from a `LearningRateScheduler`) on every member. A model
    builds each member on its own variables and applies it with `minimize`, e.g.
    `minimize(loss, generator.trainable_variables, optimizer["generator"])`.

    Args:
        optimizers: dict name -> optimizer (or identifier, e.g. "adam").
    """

    def __init__(self, optimizers, name="optimizer_group", **kwargs):
        super().__init__(learning_rate=0.0, name=name, **kwargs)
        if not isinstance(optimizers, dict) or not optimizers:
            raise ValueError(f"OptimizerGroup: expected a non-empty dict name -> optimizer, "
                             f"got {optimizers!r}")
        self._members = {key: keras.optimizers.get(value) for key, value in optimizers.items()}

    @property
    def members(self):
        """dict name -> optimizer, in the order given."""
        return dict(self._members)

    def __getitem__(self, key):
        if key not in self._members:
            raise KeyError(f"OptimizerGroup has {sorted(self._members)}, not {key!r}")
        return self._members[key]

    def build(self, var_list):
        unbuilt = [key for key, member in self._members.items() if not member.built]
        if unbuilt:
            raise ValueError(f"OptimizerGroup: build each member on its own variables first "
                             f"(unbuilt: {unbuilt})")
        self.built = True

    @property
    def variables(self):
        return [v for member in self._members.values() for v in member.variables]

    @property
    def iterations(self):
        return next(iter(self._members.values())).iterations

    @property
    def learning_rate(self):
        return next(iter(self._members.values())).learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        for member in getattr(self, "_members", {}).values():
            member.learning_rate = value

    def apply(self, grads, trainable_variables=None):
        raise NotImplementedError("OptimizerGroup: apply a member, e.g. group['generator']")

    def finalize_variable_values(self, var_list):
        pass  # members apply no EMA here

    def get_config(self):
        return {"name": self.name,
                "optimizers": {key: keras.saving.serialize_keras_object(member)
                               for key, member in self._members.items()}}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["optimizers"] = {key: keras.saving.deserialize_keras_object(value, custom_objects)
                                for key, value in config["optimizers"].items()}
        return cls(**config)


keras.saving.register_keras_serializable(package="keras_zoo")(OptimizerGroup)


def backend_rng_state():
    """The backend's own global random generator state, or None where it has none in use.

    Keras draws from its `SeedGenerator`s, but PyTorch layers and ops may also draw from
    torch's global generator; `callbacks.Backup` saves and restores it so that a resumed
    run draws the same numbers.
    """
    if keras.backend.backend() == "torch":
        import torch

        return torch.get_rng_state()
    return None


def set_backend_rng_state(state):
    """Restore what `backend_rng_state` returned (None: nothing to restore)."""
    if state is not None and keras.backend.backend() == "torch":
        import torch

        torch.set_rng_state(state)


def _split(result):
    return result if isinstance(result, tuple) else (result, None)


# ---------------------------------------------------------------------- TensorFlow


def _tensorflow_minimize(loss_fn, variables, optimizer):
    import tensorflow as tf

    with tf.GradientTape() as tape:
        loss, aux = _split(loss_fn())  # forward
    optimizer.apply(tape.gradient(loss, variables), variables)  # backward, update
    return loss, aux


# ------------------------------------------------------------------------- PyTorch


def _torch_minimize(loss_fn, variables, optimizer):
    import torch

    loss, aux = _split(loss_fn())  # forward
    # gradients of these variables only (no .grad accumulated on the others)
    grads = torch.autograd.grad(loss, [v.value for v in variables], allow_unused=True)
    with torch.no_grad():
        optimizer.apply(list(grads), variables)
    return loss.detach(), aux


# ----------------------------------------------------------------------------- JAX


@contextlib.contextmanager
def _stateless(variables, values):
    """Map `variables` to `values`; assignments are collected in the yielded scope."""
    token = _MAPPED.set(list(variables))
    try:
        with keras.StatelessScope(state_mapping=list(zip(variables, values))) as scope:
            yield scope
    finally:
        _MAPPED.reset(token)


def _jax_minimize(loss_fn, variables, optimizer):
    import jax

    mapped = _MAPPED.get()
    if mapped is None:
        raise RuntimeError("training.minimize on JAX runs inside training.fit_step or a "
                           "step from training.make_train_step (they map the variables)")
    ids = {id(v) for v in variables}
    missing = ids - {id(v) for v in mapped}
    if missing:
        raise ValueError(f"training.minimize: {len(missing)} of the variables are not part "
                         f"of the model whose step this is")
    others = [v for v in mapped if id(v) not in ids]
    other_values = [v.value for v in others]  # current values, from the enclosing scope

    def loss_of(values):
        mapping = [*zip(variables, values), *zip(others, other_values)]
        with keras.StatelessScope(state_mapping=mapping, collect_losses=True) as scope:
            loss, aux = _split(loss_fn())
        return loss, (aux, [scope.get_current_value(v) for v in others])

    (loss, (aux, updated)), grads = jax.value_and_grad(loss_of, has_aux=True)(
        [v.value for v in variables])
    for variable, value in zip(others, updated):  # BatchNorm statistics, seed states
        variable.assign(value)
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        # its `apply` assigns inside `ops.cond` branches, which leaks tracers on JAX: use
        # the stateless form on the current values, and assign what it returns
        state = optimizer.variables
        new_values, new_state = optimizer.stateless_apply(
            [v.value for v in state], grads, [v.value for v in variables])
        for variable, value in [*zip(variables, new_values), *zip(state, new_state)]:
            variable.assign(value)
    else:
        optimizer.apply(grads, variables)  # assignments go to the enclosing scope
    return loss, aux


def _compile(step, variables):
    """`step(*args)` compiled for this backend; it updates `variables` in place."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(step)
    if backend != "jax":
        return step
    import jax

    @jax.jit
    def pure(values, *args):
        with _stateless(variables, values) as scope:
            out = step(*args)
        return out, [scope.get_current_value(v) for v in variables]

    def run(*args):
        out, values = pure([v.value for v in variables], *args)
        for variable, value in zip(variables, values):
            variable.assign(value)
        return out

    return run
