"""The one place with per-backend training code.

Keras 3 has no backend-agnostic gradient API, so anything that needs gradients outside
`model.fit`'s own step (the lecture's explicit training loop; the GAN's two-optimizer
step inside `fit`) is written here once per backend and chosen by
`keras.backend.backend()`. Everything else in keras_zoo uses `keras.ops` only; backend
modules are imported lazily inside the functions below.
"""

import keras


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
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return _tensorflow_step(model, loss_fn, optimizer)
    if backend == "jax":
        return _jax_step(model, loss_fn, optimizer)
    if backend == "torch":
        return _torch_step(model, loss_fn, optimizer)
    raise NotImplementedError(f"no training step for the {backend!r} backend")


def _total_loss(loss_fn, y, y_pred, extra_losses):
    loss = loss_fn(y, y_pred)
    for extra in extra_losses:
        loss = loss + extra
    return loss


def _tensorflow_step(model, loss_fn, optimizer):
    import tensorflow as tf

    variables = model.trainable_variables

    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            y_pred = model(x, training=True)  # forward
            loss = _total_loss(loss_fn, y, y_pred, model.losses)
        grads = tape.gradient(loss, variables)  # backward
        optimizer.apply(grads, variables)  # optimizer step
        return loss

    return lambda x, y: float(step(x, y))


def _jax_step(model, loss_fn, optimizer):
    import jax

    trainable, non_trainable = model.trainable_variables, model.non_trainable_variables

    def forward(tv, ntv, x, y):
        y_pred, ntv, losses = model.stateless_call(tv, ntv, x, training=True,
                                                   return_losses=True)
        return _total_loss(loss_fn, y, y_pred, losses), ntv

    grad_fn = jax.value_and_grad(forward, has_aux=True)

    @jax.jit
    def pure_step(tv, ntv, ov, x, y):
        (loss, ntv), grads = grad_fn(tv, ntv, x, y)  # forward + backward
        tv, ov = optimizer.stateless_apply(ov, grads, tv)  # optimizer step
        return loss, tv, ntv, ov

    def step(x, y):
        state = ([v.value for v in trainable], [v.value for v in non_trainable],
                 [v.value for v in optimizer.variables])
        loss, *new_state = pure_step(*state, x, y)
        for variables, values in zip((trainable, non_trainable, optimizer.variables), new_state):
            for variable, value in zip(variables, values):
                variable.assign(value)
        return float(loss)

    return step


def _torch_step(model, loss_fn, optimizer):
    import torch

    variables = model.trainable_variables

    def step(x, y):
        x, y = keras.ops.convert_to_tensor(x), keras.ops.convert_to_tensor(y)
        model.zero_grad()  # optimizer.zero_grad() in the lecture
        y_pred = model(x, training=True)  # forward
        loss = _total_loss(loss_fn, y, y_pred, model.losses)
        loss.backward()  # backward
        grads = [v.value.grad for v in variables]
        with torch.no_grad():
            optimizer.apply(grads, variables)  # optimizer step
        return float(loss.detach())

    return step


# ------------------------------------------------------------------------------ GAN steps
# One batch of `keras_zoo.models.gan.GAN.fit`: a generator step (D should call G(z) real),
# then a discriminator step on real images and the same, detached G(z), each with its own
# optimizer (`gan.optimizer` is a GANOptimizer holding both). The losses, the noise and
# the metrics are the GAN's own backend-neutral methods; only gradients differ here.
# As in keras.io's "Customizing what happens in fit()" guides for TensorFlow, JAX, PyTorch.


def gan_train_step(gan, *args):
    """`GAN.train_step`: `(data) -> logs`, or on JAX `(state, data) -> (logs, state)`."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return _tensorflow_gan_step(gan, *args)
    if backend == "jax":
        return _jax_gan_step(gan, *args)
    if backend == "torch":
        return _torch_gan_step(gan, *args)
    raise NotImplementedError(f"no GAN training step for the {backend!r} backend")


def gan_test_step(gan, *args):
    """`GAN.test_step`: both losses, no update; JAX threads its state through."""
    if keras.backend.backend() != "jax":
        return gan.evaluate_batch(*args)
    (trainable, non_trainable, metrics), data = args
    variables = gan.trainable_variables + gan.non_trainable_variables + gan.metrics_variables
    with keras.StatelessScope(state_mapping=list(zip(
            variables, [*trainable, *non_trainable, *metrics]))) as scope:
        logs = gan.evaluate_batch(data)
    non_trainable = [scope.get_current_value(v) for v in gan.non_trainable_variables]
    metrics = [scope.get_current_value(v) for v in gan.metrics_variables]
    return logs, (trainable, non_trainable, metrics)


def _tensorflow_gan_step(gan, data):
    import tensorflow as tf

    generator, discriminator = gan.generator, gan.discriminator
    real, z = gan.unpack_batch(data)
    with tf.GradientTape() as tape:  # generator step
        fake = generator(z, training=True)
        g_loss = gan.generator_loss(discriminator(fake, training=True))
    variables = generator.trainable_variables
    gan.optimizer.generator_optimizer.apply(tape.gradient(g_loss, variables), variables)
    fake = keras.ops.stop_gradient(fake)
    with tf.GradientTape() as tape:  # discriminator step
        d_loss = gan.discriminator_loss(discriminator(real, training=True),
                                        discriminator(fake, training=True))
    variables = discriminator.trainable_variables
    gan.optimizer.discriminator_optimizer.apply(tape.gradient(d_loss, variables), variables)
    return gan.track_losses(d_loss, g_loss)


def _torch_gan_step(gan, data):
    import torch

    def update(loss, variables, optimizer):
        gan.zero_grad()
        loss.backward()
        grads = [v.value.grad for v in variables]
        with torch.no_grad():
            optimizer.apply(grads, variables)

    generator, discriminator = gan.generator, gan.discriminator
    real, z = gan.unpack_batch(data)
    fake = generator(z, training=True)  # generator step
    g_loss = gan.generator_loss(discriminator(fake, training=True))
    update(g_loss, generator.trainable_variables, gan.optimizer.generator_optimizer)
    fake = fake.detach()  # discriminator step
    d_loss = gan.discriminator_loss(discriminator(real, training=True),
                                    discriminator(fake, training=True))
    update(d_loss, discriminator.trainable_variables, gan.optimizer.discriminator_optimizer)
    return gan.track_losses(d_loss.detach(), g_loss.detach())


def _jax_gan_step(gan, state, data):
    import jax

    trainable, non_trainable, optimizer_values, metrics = state
    model_variables = gan.trainable_variables + gan.non_trainable_variables
    position = {id(v): i for i, v in enumerate(gan.trainable_variables)}
    g_opt, d_opt = gan.optimizer.generator_optimizer, gan.optimizer.discriminator_optimizer
    g_state, d_state = optimizer_values[:len(g_opt.variables)], optimizer_values[
        len(g_opt.variables):]

    def indices(network):
        return [position[id(v)] for v in network.trainable_variables]

    def replaced(values, idx, new):
        values = list(values)
        for i, value in zip(idx, new):
            values[i] = value
        return values

    def stateless(fn, trainable, non_trainable):
        """Run `fn` on the given variable values; return its output and the new state."""
        mapping = list(zip(model_variables, [*trainable, *non_trainable]))
        with keras.StatelessScope(state_mapping=mapping) as scope:
            out = fn()
        return out, [scope.get_current_value(v) for v in gan.non_trainable_variables]

    def g_loss_fn(g_values, non_trainable):
        def fn():
            real, z = gan.unpack_batch(data)  # fresh noise: the seed state is non-trainable
            fake = gan.generator(z, training=True)
            return gan.generator_loss(gan.discriminator(fake, training=True)), (real, fake)

        (loss, aux), non_trainable = stateless(fn, replaced(trainable, g_idx, g_values),
                                               non_trainable)
        return loss, (aux, non_trainable)

    def d_loss_fn(d_values, non_trainable, real, fake):
        def fn():
            return gan.discriminator_loss(gan.discriminator(real, training=True),
                                          gan.discriminator(fake, training=True))

        return stateless(fn, replaced(trainable, d_idx, d_values), non_trainable)

    g_idx, d_idx = indices(gan.generator), indices(gan.discriminator)
    g_values = [trainable[i] for i in g_idx]  # generator step
    (g_loss, ((real, fake), non_trainable)), grads = jax.value_and_grad(
        g_loss_fn, has_aux=True)(g_values, non_trainable)
    g_values, g_state = g_opt.stateless_apply(g_state, grads, g_values)
    trainable = replaced(trainable, g_idx, g_values)
    d_values = [trainable[i] for i in d_idx]  # discriminator step
    (d_loss, non_trainable), grads = jax.value_and_grad(d_loss_fn, has_aux=True)(
        d_values, non_trainable, real, jax.lax.stop_gradient(fake))
    d_values, d_state = d_opt.stateless_apply(d_state, grads, d_values)
    trainable = replaced(trainable, d_idx, d_values)
    with keras.StatelessScope(state_mapping=list(zip(gan.metrics_variables, metrics))) as scope:
        logs = gan.track_losses(d_loss, g_loss)
    metrics = [scope.get_current_value(v) for v in gan.metrics_variables]
    return logs, (trainable, non_trainable, [*g_state, *d_state], metrics)
