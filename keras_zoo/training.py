"""The one place with per-backend training code.

Keras 3 has no backend-agnostic gradient API, so anything that needs gradients outside
`model.fit` (the lecture's explicit training loop; later the GAN steps) is written here
once per backend and chosen by `keras.backend.backend()`. Everything else in keras_zoo
uses `keras.ops` only; backend modules are imported lazily inside the functions below.
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
