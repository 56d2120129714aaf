"""Object detection with a single-shot detector: default boxes on 8x8 and 4x4 feature maps.

Follows the lecture's detection figure ("(a) Image with GT boxes (b) 8x8 feature map
(c) 4x4 feature map", from Liu et al., "SSD: Single Shot MultiBox Detector", ECCV 2016)
on generated 64x64 canvases holding 1-4 MNIST digits each. Every cell of the 8x8 and
4x4 maps carries three default boxes (width/height 1, 0.6, 0.3); a default box that
overlaps a true box by IoU >= 0.5 (or is its best one) must predict the digit and the
offsets to the true box, all others "background". Teaches: matching by IoU, encoded box
offsets, SSD's loss (cross-entropy with hard-negative mining + smooth L1) trained with
plain `fit`, decoding with non-max suppression, and mAP@0.5 on held-out canvases made
of held-out digits.

    KERAS_BACKEND=jax python tutorials/object_detection.py [--epochs 8] [--data full]
"""

# %% Settings
import keras
import matplotlib.pyplot as plt
import numpy as np

import keras_zoo
from keras_zoo import tutorial
from keras_zoo.datasets import boxes as du
from keras_zoo.datasets.scenes import make_digit_canvases

args = tutorial.setup(__doc__, epochs=8, batch_size=32)
N_TRAIN, N_TEST, SIZE, MAX_DIGITS = 2000, 400, 64, 4
LEARNING_RATE = 3e-3  # Adam, cosine decay to 0
FILTERS = (8, 8, 8, 8) if args.smoke else (16, 32, 64, 96)  # the backbone's four stages

# %% Data: canvases (N, 64, 64, 1), boxes (N, 4, 4) as relative corners, classes (N, 4)
n_train, n_test = (32, 32) if args.smoke else (N_TRAIN, N_TEST)  # --smoke: one batch
x_train, boxes_train, classes_train = make_digit_canvases(
    n_train, size=SIZE, max_digits=MAX_DIGITS, split="train", seed=args.seed, data=args.data)
x_test, boxes_test, classes_test = make_digit_canvases(
    n_test, size=SIZE, max_digits=MAX_DIGITS, split="test", seed=args.seed + 1, data=args.data)
print(f"data: {n_train} train / {n_test} test canvases of {SIZE}x{SIZE} with "
      f"{(classes_train >= 0).sum()} / {(classes_test >= 0).sum()} digits "
      f"({'embedded MNIST sample' if args.data == 'embedded' else 'full MNIST'})")

# %% The detector and its default boxes; targets = the matched class and offsets per box
model = keras_zoo.build("ssd_lite", input_shape=(SIZE, SIZE, 1), filters=FILTERS)  # (b, 240, 15)
anchors = model.anchors  # (240, 4): 8*8*3 on the fine map, then 4*4*3 on the coarse one
y_train = du.encode_targets(boxes_train, classes_train, anchors)  # (N, 240, 5)
best = [du.iou_matrix(b[c >= 0], anchors).max(1) for b, c in zip(boxes_train, classes_train)]
print(f"{len(anchors)} default boxes, {model.count_params():,} parameters; "
      f"{np.mean(np.concatenate(best) >= 0.5):.0%} of the digits overlap a default box by "
      f"IoU >= 0.5; {np.mean((y_train[..., 0] > 0).sum(1)):.1f} positive boxes per canvas")

# %% Figure 1, as in the lecture: the true boxes and the default boxes they are matched to
n_fine = (SIZE // 8) ** 2 * 3  # default boxes of the 8x8 map come first, then the 4x4 map
on_fine, on_coarse = (y_train[:, :n_fine, 0] > 0).sum(1), (y_train[:, n_fine:, 0] > 0).sum(1)
print(f"positive default boxes: {on_fine.sum()} on the 8x8 map, {on_coarse.sum()} on the 4x4")
i = int(np.argmax((on_coarse > 0) * 10 + (classes_train >= 0).sum(1)))  # both maps in use
positive = np.flatnonzero(y_train[i, :, 0] > 0)
panels = [("(a) image with true boxes", 0, boxes_train[i][classes_train[i] >= 0], "lime"),
          ("(b) 8x8 feature map", 8, anchors[positive[positive < n_fine]], "deepskyblue"),
          ("(c) 4x4 feature map", 4, anchors[positive[positive >= n_fine]], "deepskyblue")]
fig, axes = plt.subplots(1, 3, figsize=(10, 3.6))
for ax, (title, cells, shown, color) in zip(axes, panels):
    ax.imshow(x_train[i, :, :, 0], cmap="gray", extent=(0, 1, 1, 0))
    for k in range(1, cells):  # the feature map's cells
        ax.axhline(k / cells, color="white", lw=0.4, alpha=0.5)
        ax.axvline(k / cells, color="white", lw=0.4, alpha=0.5)
    for x0, y0, x1, y1 in shown:
        ax.add_patch(plt.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, color=color,
                                   ls="-" if cells == 0 else "--"))
    ax.set(title=title, xlim=(0, 1), ylim=(1, 0), xticks=[], yticks=[])
tutorial.savefig(fig, args, "default_boxes.png")

# %% Training with fit: the model computes SSD's loss itself (compute_loss)
steps = args.epochs * -(-n_train // args.batch_size)
model.compile(optimizer=keras.optimizers.Adam(
    keras.optimizers.schedules.CosineDecay(LEARNING_RATE, steps)))
model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
          callbacks=tutorial.callbacks(args), verbose=tutorial.verbose(args))

# %% Held-out canvases: decode, non-max suppression, mAP@0.5
raw = model.predict(x_test, batch_size=200, verbose=0)  # (N, 240, 15)
found = du.decode_detections(raw, anchors, score_threshold=0.1, iou_threshold=0.45)
map50, ap = du.mean_average_precision(found, boxes_test, classes_test, num_classes=10)
any_digit = [(b, s, np.zeros_like(c)) for b, s, c in found]
map_boxes, _ = du.mean_average_precision(any_digit, boxes_test,
                                         np.where(classes_test >= 0, 0, -1), num_classes=1)
print(f"mAP@0.5 {map50:.3f}; AP per digit " + " ".join(f"{d}:{a:.2f}" for d, a in enumerate(ap)))
print(f"boxes alone (any digit counts): AP@0.5 {map_boxes:.3f}")

# %% Figure 2: true boxes (green) and detections with score >= 0.5 (red, digit and score)
fig, axes = plt.subplots(2, 5, figsize=(12, 5.4))
for ax, image, truth, kinds, (boxes, scores, digits) in zip(
        axes.flat, x_test, boxes_test, classes_test, found):
    ax.imshow(image[:, :, 0], cmap="gray", extent=(0, 1, 1, 0))
    for x0, y0, x1, y1 in truth[kinds >= 0]:
        ax.add_patch(plt.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, color="lime", lw=2))
    for (x0, y0, x1, y1), score, digit in zip(boxes, scores, digits):
        if score >= 0.5:
            ax.add_patch(plt.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, color="red"))
            ax.text(x0, y0, f"{digit} {score:.2f}", color="red", fontsize=8, va="bottom")
    ax.set(xlim=(0, 1), ylim=(1, 0), xticks=[], yticks=[])
fig.suptitle(f"ssd_lite on held-out canvases: true boxes green, detections red "
             f"(mAP@0.5 {map50:.3f})")
tutorial.savefig(fig, args, "detections.png")

# %% Result
tutorial.report(args, map50=map50, box_ap50=map_boxes, params=model.count_params())
