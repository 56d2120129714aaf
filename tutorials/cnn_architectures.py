"""CNN architectures from LeNet-5 to ShuffleNetV2: size, cost and depth, then a race on MNIST.

Follows "Modern architectures" (LeNet-5 -> AlexNet -> GoogLeNet -> ResNet) and "CNN, RNN,
Transformer" (VGG's 3x3 units, ResNet's basic and bottleneck blocks, MobileNetV2 and
ShuffleNetV2's depthwise bottlenecks). Part 1 builds every CNN of the zoo at its ImageNet
size (224x224x3, 1000 classes) and prints parameters, multiply-adds per image, depth
(weighted layers on the longest path) and year: VGG-16 has 138M parameters and 15.5G
multiply-adds, MobileNetV2 has 3.5M and 0.3G for a better ImageNet accuracy. Part 2
trains small variants (28x28 digits padded to 32x32, a few thousand to a few hundred
thousand parameters) of LeNet-5, AlexNet, VGG-16, ResNet-18 and MobileNetV2 on the
embedded MNIST sample for the same number of passes (each pass shifts every digit by a
random pixel), and compares test accuracy and time per epoch. About 0.98 for the small
ResNet-18.

    KERAS_BACKEND=jax python tutorials/cnn_architectures.py [--epochs 3] [--data full]
"""

# %% Settings
import time

import keras
import matplotlib.pyplot as plt
import numpy as np

import keras_zoo
from keras_zoo import tutorial
from keras_zoo.datasets import load_mnist
from keras_zoo.summary import count_depth, count_macs, shapes_only

# epochs: passes over the digits, in one fit(epochs=1) per network: nothing to --resume
args = tutorial.setup(__doc__, epochs=8, batch_size=64, resumable=False)
LEARNING_RATE = 3e-3  # Adam, decayed to 0 over the run (cosine)
YEARS = {"lenet5": 1998, "alexnet": 2012, "vgg16": 2014, "vgg19": 2014, "googlenet": 2014,
         "resnet18": 2015, "resnet34": 2015, "resnet50": 2015, "resnet101": 2015,
         "resnet152": 2015, "mobilenet_v2": 2018, "shufflenet_v2": 2018}
SMALL = {  # the raced variants: 28x28x1 digits in (LeNet-5: padded to 32x32), 10 logits out
    "lenet5": {"input_shape": (32, 32, 1)},
    "alexnet": {"stem": "small", "width": 0.125, "dense_units": 128},
    "vgg16": {"width": 0.125, "dense_units": 64, "batch_norm": True, "dropout": 0.0},
    "resnet18": {"stem": "small", "width": 0.125},
    "mobilenet_v2": {"alpha": 0.35, "last_filters": 128},  # stride-2 stem: 28 -> 14
}
RACE = ("lenet5", "alexnet") if args.smoke else tuple(SMALL)  # --smoke: the two quickest
TABLE = ("vgg16", "resnet50", "mobilenet_v2") if args.smoke else tuple(YEARS)  # Part 1

# %% Part 1: every CNN at its ImageNet size (--smoke: the small test variants instead)
print(f"\n{'model':14} {'params':>12} {'mult-adds':>10} {'depth':>5} {'year':>5}")
table = {}
for name in TABLE:
    overrides = keras_zoo.model_info(name).smoke if args.smoke else {}
    with shapes_only():  # weight shapes, no values: VGG-16's 138M weights in milliseconds
        model = keras_zoo.build(name, **overrides)
    table[name] = (model.count_params(), count_macs(model), count_depth(model))
    print(f"{name:14} {table[name][0]:12,} {table[name][1] / 1e9:9.2f}G {table[name][2]:5} "
          f"{YEARS[name]:5}")

# %% Part 2: data, (N, 28, 28, 1) in [0, 1]; LeNet-5 gets them zero-padded to 32x32
(x_train, y_train), (x_test, y_test) = load_mnist(args.data)
x_train, y_train, x_test, y_test = tutorial.small(args, x_train, y_train, x_test, y_test,
                                                  n=64)  # --smoke: one batch
print(f"\ndata: {len(x_train)} train / {len(x_test)} test digits, 28x28x1")


def padded(x, size):
    margin = (size - x.shape[1]) // 2
    return np.pad(x, ((0, 0), (margin, margin), (margin, margin), (0, 0)))


def random_shifts(x, y, passes, seed=0):
    """`passes` copies of the data, each image moved by a random one-pixel shift (or none).

    4,000 digits are few: a network fits them perfectly in 3 epochs and stops learning.
    Fresh shifts in every pass cost nothing extra and add about half a point of accuracy.
    """
    rng = np.random.default_rng(seed)
    copies = []
    for _ in range(passes):
        shifts = rng.integers(-1, 2, size=(len(x), 2))
        moved = np.empty_like(x)
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                rows = np.flatnonzero((shifts[:, 0] == dy) & (shifts[:, 1] == dx))
                moved[rows] = np.roll(x[rows], (dy, dx), axis=(1, 2))
        copies.append(moved)
    return np.concatenate(copies), np.tile(y, passes)


x_passes, y_passes = random_shifts(x_train, y_train, args.epochs, seed=args.seed)


# %% The race: same epochs, same optimizer, same batch size
def train(name):
    overrides = {"input_shape": (28, 28, 1), **SMALL[name]}
    model = keras_zoo.build(name, num_classes=10, **overrides)
    size = overrides["input_shape"][0]
    x, x_eval = padded(x_passes, size), padded(x_test, size)
    steps = -(-len(x_passes) // args.batch_size)
    model.compile(
        optimizer=keras.optimizers.Adam(
            keras.optimizers.schedules.CosineDecay(LEARNING_RATE, steps)),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"])
    model.fit(x[:args.batch_size], y_passes[:args.batch_size], epochs=1, verbose=0,
              batch_size=args.batch_size,  # compile the step first: not counted in the time
              callbacks=tutorial.callbacks(args, name=f"{name} warm-up"))
    model.optimizer.iterations.assign(0)
    start = time.perf_counter()
    model.fit(x, y_passes, batch_size=args.batch_size, epochs=1,  # = args.epochs passes
              callbacks=tutorial.callbacks(args, name=name), verbose=tutorial.verbose(args))
    seconds = (time.perf_counter() - start) / args.epochs
    accuracy = model.evaluate(x_eval, y_test, batch_size=500, verbose=0)[1]
    print(f"{name:13} {model.count_params():8,} params  accuracy {accuracy:.4f}  "
          f"{seconds:5.1f} s/epoch")
    return accuracy, seconds, model.count_params()


results = {name: train(name) for name in RACE}

# %% Bar chart: accuracy and time per epoch
names = list(results)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
ax1.bar(names, [results[n][0] for n in names], color="tab:blue")
ax1.set(ylim=(min(0.9, min(results[n][0] for n in names) - 0.01), 1.0),
        ylabel="test accuracy", title=f"MNIST sample, {args.epochs} epochs")
for i, n in enumerate(names):
    ax1.text(i, results[n][0], f"{results[n][0]:.3f}", ha="center", va="bottom", fontsize=8)
ax2.bar(names, [results[n][1] for n in names], color="tab:orange")
ax2.set(ylabel="seconds per epoch", title=f"time per epoch ({args.backend}, CPU)")
for ax in (ax1, ax2):
    ax.tick_params(axis="x", rotation=30)
tutorial.savefig(fig, args, "cnn_race.png")

# %% Result
tutorial.report(args, **{f"{n}_accuracy": results[n][0] for n in names},
                **{f"{n}_s_per_epoch": round(results[n][1], 2) for n in names},
                vgg16_params=table["vgg16"][0], mobilenet_v2_macs=table["mobilenet_v2"][1])
