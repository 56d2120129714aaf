"""A Vision Transformer on MNIST: 7x7 patches as words, a class token, self-attention.

Follows the lecture's "Vision Transformer" (Dosovitskiy et al. 2021, "An image is worth
16x16 words"): each 28x28 digit is cut into 16 patches of 7x7 pixels, each patch is
projected to a 64-d token, a learned class token and learned positions are added, and
four pre-norm Transformer encoder blocks let every patch attend to every other; the
class token's final state gives the logits. Teaches: images as token sequences, why
ViTs need much data (the lecture's "Limitations of Transformer": no built-in locality
or translation invariance, so shifted copies help), and what the class token attends to.

    KERAS_BACKEND=jax python tutorials/vit_mnist.py [--epochs 3] [--data full]
"""

# %% Settings
import keras
import matplotlib.pyplot as plt
import numpy as np

import keras_zoo
from keras_zoo import tutorial
from keras_zoo.datasets import load_mnist, shift_augment

args = tutorial.setup(__doc__, epochs=3, batch_size=128)
SIZE = {"patch_size": 7, "dim": 64, "num_heads": 4, "ff_dim": 128, "num_layers": 4,
        "dropout": 0.1}
if args.smoke:  # one small layer
    SIZE = {"patch_size": 7, "dim": 16, "num_heads": 2, "ff_dim": 32, "num_layers": 1,
            "dropout": 0.1}
LEARNING_RATE, WARMUP, WEIGHT_DECAY = 2e-3, 0.1, 1e-4  # AdamW; warm-up then cosine

# %% Data: (N, 28, 28, 1) in [0, 1]; one-pixel shifted copies of the 4,000 training digits
(x_train, y_train), (x_test, y_test) = load_mnist(args.data)
if args.data == "embedded":
    x_train, y_train = shift_augment(x_train, y_train, pixels=1)
x_train, y_train, x_test, y_test = tutorial.small(args, x_train, y_train, x_test, y_test)
print(f"data: {len(x_train)} train (with shifted copies) / {len(x_test)} test digits")

# %% The model: 16 patch tokens + 1 class token
model = keras_zoo.build("vit", **SIZE)
print(f"vit: {model.count_params():,} parameters, {SIZE}")
steps = args.epochs * -(-len(x_train) // args.batch_size)
schedule = keras.optimizers.schedules.CosineDecay(
    0.0, int(steps * (1 - WARMUP)), warmup_target=LEARNING_RATE, warmup_steps=int(steps * WARMUP))
model.compile(optimizer=keras.optimizers.AdamW(schedule, weight_decay=WEIGHT_DECAY),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])
model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
          validation_data=(x_test, y_test), callbacks=tutorial.callbacks(args),
          verbose=tutorial.verbose(args))

# %% Test accuracy
logits = model.predict(x_test, batch_size=500, verbose=0)
predicted = np.argmax(logits, axis=1)
accuracy = float(np.mean(predicted == y_test))
print(f"test accuracy {accuracy:.4f} ({np.sum(predicted != y_test)} of {len(y_test)} wrong)")

# %% Attention maps: how much the class token attends to each patch (last block)
viewer = keras_zoo.build("vit", **SIZE, return_attention=True)
viewer.set_weights(model.get_weights())  # the same layers, the trained weights
images = x_test[:8]
_, scores = viewer.predict_on_batch(images)  # (8, heads, 17, 17)
grid = 28 // SIZE["patch_size"]
cls_attention = np.asarray(scores)[:, :, 0, 1:].mean(1).reshape(-1, grid, grid)  # (8, 4, 4)
fig, axes = plt.subplots(2, 8, figsize=(12, 3.4))
for k in range(8):
    axes[0, k].imshow(images[k, :, :, 0], cmap="gray_r")
    axes[0, k].set_title(f"pred {predicted[k]} (true {y_test[k]})", fontsize=8,
                         color="black" if predicted[k] == y_test[k] else "red")
    axes[1, k].imshow(images[k, :, :, 0], cmap="gray")
    axes[1, k].imshow(np.kron(cls_attention[k], np.ones((SIZE["patch_size"],) * 2)),
                      cmap="inferno", alpha=0.6)
for ax in axes.flat:
    ax.axis("off")
fig.suptitle(f"ViT on MNIST (accuracy {accuracy:.3f}): class-token attention over the 4x4 "
             "patches, last block, mean of the heads")
tutorial.savefig(fig, args, "vit_attention.png")

# %% Result
tutorial.report(args, test_accuracy=accuracy, params=model.count_params())
