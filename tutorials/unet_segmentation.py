"""Semantic segmentation: the lecture's encoder-decoder against U-Net, on generated scenes.

Follows "CNN, RNN, Transformer" ("Encoder-Decoder in Semantic Segmentation", "U-Net":
convolutional units CU, down-sampling units DU, up-sampling units UU). Every pixel gets a
class: background, circle, square or triangle (scenes generated with NumPy, shapes
brighter or darker than a shaded, noisy background). Both networks have the same units;
U-Net also passes each encoder map to the decoder level of the same size (skip
connections). Teaches: per-pixel logits (batch, H, W, classes) trained with the ordinary
sparse cross-entropy, mean IoU (intersection over union per class, averaged), and
what the skips are for: the encoder-decoder must repaint the outlines from a 12x12
bottleneck. Ronneberger, Fischer & Brox 2015. Batch normalization in every unit and
class-weighted pixels: without them both networks can sit on a plateau ("everything is
background or a circle") for many epochs, and U-Net may never leave it. Expect both
networks near 0.9 mean IoU (numbers: the README's results table): these shapes are
simple enough that the 12x12 bottleneck loses little, so the skips do not pay here.

    KERAS_BACKEND=jax python tutorials/unet_segmentation.py [--epochs 12]
"""

# %% Settings
import time

import keras
import matplotlib.pyplot as plt
import numpy as np

import keras_zoo
from keras_zoo import tutorial
from keras_zoo.datasets.scenes import SHAPE_CLASSES, make_shape_scenes
from keras_zoo.models.segmentation import mean_iou

args = tutorial.setup(__doc__, epochs=12, batch_size=32, data=("embedded",))
N_TRAIN, N_TEST, SIZE = 1500, 400, 48
FILTERS = (8, 8, 8) if args.smoke else (8, 16, 32)  # per level; the registry's: (16, 32, 64)
BATCH_NORM = True  # in every unit; without it both networks sit ~10 epochs on a plateau
LEARNING_RATE = 3e-3  # Adam, cosine decay to 0

# %% Data: images (N, 48, 48, 1) in [0, 1], masks (N, 48, 48) of class ids
x_train, y_train = make_shape_scenes(N_TRAIN, size=SIZE, seed=args.seed)
x_test, y_test = make_shape_scenes(N_TEST, size=SIZE, seed=args.seed + 1)
x_train, y_train, x_test, y_test = tutorial.small(args, x_train, y_train, x_test, y_test, n=64)
share = np.bincount(y_train.ravel(), minlength=4) / y_train.size
print(f"data: generated shape scenes, {len(x_train)} train / {len(x_test)} test, "
      f"{SIZE}x{SIZE}; pixels per class: "
      + ", ".join(f"{c} {s:.1%}" for c, s in zip(SHAPE_CLASSES, share)))

# %% Pixel weights: rare classes count more (the U-Net paper's weight map balances class
# frequencies too). w_c = share_c^-1/2, scaled to mean 1 over the training pixels; without
# them a rare class can die in the first epochs (TF once never predicted a triangle: 0.63).
class_weights = share ** -0.5 / np.sum(share ** 0.5)
pixel_weights = class_weights[y_train].astype("float32")  # (N, 48, 48)
print("class weights: " + ", ".join(f"{c} {w:.2f}" for c, w in zip(SHAPE_CLASSES, class_weights)))

# %% Train both networks the same way
results = {}
for name in ("encoder_decoder", "unet"):
    model = keras_zoo.build(name, input_shape=(SIZE, SIZE, 1), num_classes=len(SHAPE_CLASSES),
                            filters=FILTERS, batch_norm=BATCH_NORM)  # (b, 48, 48, 4) logits
    steps = args.epochs * -(-len(x_train) // args.batch_size)
    model.compile(
        optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(LEARNING_RATE,
                                                                                steps)),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x_train, y_train, sample_weight=pixel_weights, batch_size=args.batch_size,
              epochs=args.epochs, callbacks=tutorial.callbacks(args, name=name),
              verbose=tutorial.verbose(args))
    seconds = time.perf_counter() - start
    predicted = model.predict(x_test, batch_size=200, verbose=0).argmax(-1)  # (N, 48, 48)
    value, per_class = mean_iou(y_test, predicted, len(SHAPE_CLASSES))
    results[name] = (value, predicted)
    print(f"{name}: {model.count_params():,} parameters, {seconds:.1f} s training; "
          f"mean IoU {value:.3f} ("
          + ", ".join(f"{c} {v:.3f}" for c, v in zip(SHAPE_CLASSES, per_class)) + ")")

# Pixel accuracy flatters: predicting "background" everywhere is right on most pixels.
print(f"all-background baseline: pixel accuracy {np.mean(y_test == 0):.3f}, mean IoU "
      f"{mean_iou(y_test, np.zeros_like(y_test), len(SHAPE_CLASSES))[0]:.3f}")

# %% Figure: input, truth and both predictions for six test scenes
colors = plt.cm.colors.ListedColormap(["#202020", "#e6550d", "#31a354", "#3182bd"])
columns = [("input", None), ("truth", y_test), ("encoder-decoder", results["encoder_decoder"][1]),
           ("U-Net", results["unet"][1])]
fig, axes = plt.subplots(6, 4, figsize=(6.5, 9.5))
for row, i in enumerate(range(6)):
    for ax, (title, masks) in zip(axes[row], columns):
        if masks is None:
            ax.imshow(x_test[i, :, :, 0], cmap="gray", vmin=0, vmax=1)
        else:
            ax.imshow(masks[i], cmap=colors, vmin=0, vmax=3, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        if row == 0:
            ax.set_title(title, fontsize=10)
handles = [plt.Rectangle((0, 0), 1, 1, color=colors(k)) for k in range(4)]
fig.legend(handles, SHAPE_CLASSES, loc="lower center", ncol=4, fontsize=9)
fig.suptitle(f"mean IoU: encoder-decoder {results['encoder_decoder'][0]:.3f}, "
             f"U-Net {results['unet'][0]:.3f}")
tutorial.savefig(fig, args, "segmentation.png")

# %% Result
tutorial.report(args, unet_mean_iou=results["unet"][0],
                encoder_decoder_mean_iou=results["encoder_decoder"][0])
