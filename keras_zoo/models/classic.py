"""The ImageNet classics: AlexNet, VGG-16/19 and GoogLeNet (Inception v1).

Lectures: "Neural network architectures: CNN, RNN" (AlexNet: five convolutions with max
pooling and three dense layers; VGG-16: 3x3 filters only, 16 layers) and "Modern
architectures" (AlexNet's ReLU and dropout; GoogLeNet's Inception modules).
Krizhevsky, Sutskever & Hinton, NIPS 2012; Simonyan & Zisserman, ICLR 2015;
Szegedy et al., "Going deeper with convolutions", CVPR 2015.

Every builder takes `input_shape`, `num_classes` and `width` (a multiplier of every
convolution's filters) so a small variant trains on 28x28 or 32x32 digits on a CPU.
"""

from keras import layers

from keras_zoo.layers import checked_input
from keras_zoo.layers.conv import BatchNormalization, Conv2D
from keras_zoo.models.base import ZooModel
from keras_zoo.registry import register_model

STEMS = ("imagenet", "small")
VGG16_STAGES = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))  # (filters, convs)
VGG19_STAGES = ((64, 2), (128, 2), (256, 4), (512, 4), (512, 4))
# GoogLeNet, Table 1 of the paper: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj
INCEPTION_V1 = {
    "3a": (64, 96, 128, 16, 32, 32), "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64), "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64), "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128), "5b": (384, 192, 384, 48, 128, 128),
}


def _check_stem(stem):
    if stem not in STEMS:
        raise ValueError(f"stem must be one of {STEMS}, got {stem!r}")


def _scaled(filters, width):
    return max(1, int(round(filters * width)))


def apply_conv_block(x, filters, kernel_size=3, strides=1, batch_norm=False, name="conv"):
    """Conv (same padding) [-> BatchNorm] -> ReLU: the unit VGG and GoogLeNet stack.

    Args:
        x: (batch, h, w, c). filters, kernel_size, strides: of the convolution.
        batch_norm: add BatchNorm after the convolution (VGG-BN; off in the papers).
        name: layer-name prefix.

    Returns:
        (batch, ceil(h / strides), ceil(w / strides), filters).
    """
    x = Conv2D(filters, kernel_size, strides=strides, padding="same",
               use_bias=not batch_norm, name=name)(x)
    if batch_norm:
        x = BatchNormalization(momentum=0.9, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def apply_vgg_block(x, filters, convs, batch_norm=False, name="block1"):
    """One VGG stage: `convs` 3x3 convolutions + ReLU, then a 2x2 max pool (halves h, w)."""
    for i in range(1, convs + 1):
        x = apply_conv_block(x, filters, 3, batch_norm=batch_norm, name=f"{name}_conv{i}")
    return layers.MaxPooling2D(2, padding="same", name=f"{name}_pool")(x)


def apply_inception_block(x, filters, batch_norm=False, name="inception3a"):
    """Inception v1 module: 1x1 | 1x1 -> 3x3 | 1x1 -> 5x5 | 3x3 max pool -> 1x1, concatenated.

    Args:
        x: (batch, h, w, c).
        filters: (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj) as in Table 1.
        batch_norm: BatchNorm after every convolution (not in the paper).
        name: layer-name prefix.

    Returns:
        (batch, h, w, #1x1 + #3x3 + #5x5 + pool proj).
    """
    f1, r3, f3, r5, f5, fp = filters
    b1 = apply_conv_block(x, f1, 1, batch_norm=batch_norm, name=f"{name}_1x1")
    b3 = apply_conv_block(x, r3, 1, batch_norm=batch_norm, name=f"{name}_3x3_reduce")
    b3 = apply_conv_block(b3, f3, 3, batch_norm=batch_norm, name=f"{name}_3x3")
    b5 = apply_conv_block(x, r5, 1, batch_norm=batch_norm, name=f"{name}_5x5_reduce")
    b5 = apply_conv_block(b5, f5, 5, batch_norm=batch_norm, name=f"{name}_5x5")
    bp = layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)
    bp = apply_conv_block(bp, fp, 1, batch_norm=batch_norm, name=f"{name}_pool_proj")
    return layers.Concatenate(name=f"{name}_concat")([b1, b3, b5, bp])


def _classifier(x, units, num_classes, dropout, name_prefix="fc"):
    """Flatten -> [dropout -> dense + ReLU] per `units` -> dropout -> logits."""
    x = layers.Flatten(name="flatten")(x)
    for i, n in enumerate(units, start=1):
        x = layers.Dropout(dropout, name=f"{name_prefix}{i}_dropout")(x) if dropout else x
        x = layers.Dense(n, activation="relu", name=f"{name_prefix}{i}")(x)
    return layers.Dense(num_classes, dtype="float32", name="predictions")(x)


@register_model(family="cnn", smoke={"input_shape": (28, 28, 1), "num_classes": 10, "width": 0.0625,
                       "dense_units": 32, "stem": "small"})
def alexnet(input_shape=(224, 224, 3), num_classes=1000, width=1.0, dense_units=4096,
            dropout=0.5, stem="imagenet", groups=1, name="alexnet"):
    """AlexNet (Krizhevsky et al. 2012): 5 conv + ReLU with max pooling, 3 dense; logits out.

    224x224x3 -> conv 11x11/4 96 (zero-padded by 2: 55x55) -> max 3/2 (27) -> conv 5x5 256
    -> max 3/2 (13) -> conv 3x3 384, 384, 256 -> max 3/2 (6x6x256) -> dropout, dense 4096,
    dropout, dense 4096 -> dense `num_classes`. 62,378,344 parameters (the usual "62.3M"
    of the one-tower network); `groups=2` splits conv2, conv4 and conv5 over the paper's
    two GPUs: 60,965,224 ("60 million", Section 1). Local response normalization is left
    out (Keras has no such layer; later work found it does not help).

    Args:
        input_shape: (height, width, channels).
        num_classes: number of output logits.
        width: multiplier of every convolution's filters.
        dense_units: width of the two hidden dense layers.
        dropout: dropout rate before each hidden dense layer.
        stem: "imagenet" (11x11 stride 4 first conv) or "small" (5x5 stride 1, for 28x28).
        groups: 1 (one tower) or 2 (the paper's two-GPU split of conv2, conv4, conv5).
        name: model name.

    Returns:
        A functional `keras.Model` mapping (batch, *input_shape) to (batch, num_classes).
    """
    _check_stem(stem)
    f = [_scaled(n, width) for n in (96, 256, 384, 384, 256)]
    if groups > 1 and any(n % groups for n in f):
        raise ValueError(f"alexnet: filters {f} must divide into {groups} groups")
    inputs, x = checked_input(input_shape, name="image")
    if stem == "imagenet":
        x = layers.ZeroPadding2D(2, name="conv1_pad")(x)
        x = Conv2D(f[0], 11, strides=4, activation="relu", name="conv1")(x)  # 55
    else:
        x = Conv2D(f[0], 5, padding="same", activation="relu", name="conv1")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)  # 27x27 (13x13 for 28x28)
    x = Conv2D(f[1], 5, padding="same", groups=groups, activation="relu",
               name="conv2")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool2")(x)  # 13x13 (6x6)
    for i, group in ((3, 1), (4, groups), (5, groups)):
        x = Conv2D(f[i - 1], 3, padding="same", groups=group, activation="relu",
                   name=f"conv{i}")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool5")(x)  # 6x6x256 (2x2)
    outputs = _classifier(x, (dense_units, dense_units), num_classes, dropout)
    return ZooModel(inputs, outputs, name=name)


def _vgg(stages, input_shape, num_classes, width, dense_units, dropout, batch_norm, name):
    inputs, x = checked_input(input_shape, name="image")
    for i, (filters, convs) in enumerate(stages, start=1):
        x = apply_vgg_block(x, _scaled(filters, width), convs, batch_norm, name=f"block{i}")
    outputs = _classifier(x, (dense_units, dense_units), num_classes, dropout)  # 7x7x512 in
    return ZooModel(inputs, outputs, name=name)


# No dropout in the smoke variant: 16 thin plain layers learn slowly, and dropout on 32
# units makes ten steps' progress on one batch a matter of luck (AlexNet's smoke keeps it).
_VGG_SMOKE = {"input_shape": (32, 32, 3), "num_classes": 10, "width": 0.0625,
              "dense_units": 32, "dropout": 0.0}


@register_model(family="cnn", smoke=_VGG_SMOKE)
def vgg16(input_shape=(224, 224, 3), num_classes=1000, width=1.0, dense_units=4096,
          dropout=0.5, batch_norm=False, name="vgg16"):
    """VGG-16 (Simonyan & Zisserman 2015, configuration D): 13 conv 3x3 + 3 dense; logits out.

    Five stages of 3x3 convolutions (64, 64 | 128, 128 | 256 x3 | 512 x3 | 512 x3), each
    ending in a 2x2 max pool (224 -> 7), then dense 4096, 4096, `num_classes`.
    138,357,544 parameters, as `keras.applications.VGG16(weights=None)`. Pools use "same"
    padding, so any input size works (28 -> 14 -> 7 -> 4 -> 2 -> 1).

    Args:
        input_shape: (height, width, channels).
        num_classes: number of output logits.
        width: multiplier of every convolution's filters.
        dense_units: width of the two hidden dense layers.
        dropout: dropout rate before each hidden dense layer (0.5 in the paper).
        batch_norm: BatchNorm after each convolution (VGG-BN; not in the paper).
        name: model name.

    Returns:
        A functional `keras.Model` mapping (batch, *input_shape) to (batch, num_classes).
    """
    return _vgg(VGG16_STAGES, input_shape, num_classes, width, dense_units, dropout,
                batch_norm, name)


@register_model(family="cnn", smoke=_VGG_SMOKE)
def vgg19(input_shape=(224, 224, 3), num_classes=1000, width=1.0, dense_units=4096,
          dropout=0.5, batch_norm=False, name="vgg19"):
    """VGG-19 (configuration E): VGG-16 with a fourth conv in stages 3-5; logits out.

    143,667,240 parameters, as `keras.applications.VGG19(weights=None)`. Arguments as
    `vgg16`.
    """
    return _vgg(VGG19_STAGES, input_shape, num_classes, width, dense_units, dropout,
                batch_norm, name)


@register_model(family="cnn", smoke={"input_shape": (32, 32, 3), "num_classes": 10, "width": 0.25,
                       "stem": "small"})
def googlenet(input_shape=(224, 224, 3), num_classes=1000, width=1.0, dropout=0.4,
              stem="imagenet", batch_norm=False, name="googlenet"):
    """GoogLeNet (Inception v1, Szegedy et al. 2015): 9 Inception modules, 22 layers; logits.

    224x224x3 -> conv 7x7/2 64 -> max 3/2 -> conv 1x1 64 -> conv 3x3 192 -> max 3/2 (28)
    -> inception 3a, 3b -> max 3/2 (14) -> 4a..4e -> max 3/2 (7) -> 5a, 5b -> global
    average pool -> dropout 0.4 -> dense `num_classes`; filters as in Table 1 of the
    paper (about 6.8M weights; 6,998,552 parameters with biases). The auxiliary
    classifiers (used only in training) and local response normalization are left out.

    Args:
        input_shape: (height, width, channels).
        num_classes: number of output logits.
        width: multiplier of every convolution's filters.
        dropout: dropout rate before the classifier.
        stem: "imagenet" (7x7/2 conv and two max pools: /8) or "small" (3x3 convs, no
            pooling before the first module, for 28x28 or 32x32 inputs).
        batch_norm: BatchNorm after every convolution (not in the paper).
        name: model name.

    Returns:
        A functional `keras.Model` mapping (batch, *input_shape) to (batch, num_classes).
    """
    _check_stem(stem)
    inputs, x = checked_input(input_shape, name="image")
    w = [_scaled(n, width) for n in (64, 64, 192)]
    if stem == "imagenet":
        x = apply_conv_block(x, w[0], 7, strides=2, batch_norm=batch_norm, name="conv1")
        x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)  # 56x56
    else:
        x = apply_conv_block(x, w[0], 3, batch_norm=batch_norm, name="conv1")
    x = apply_conv_block(x, w[1], 1, batch_norm=batch_norm, name="conv2_reduce")
    x = apply_conv_block(x, w[2], 3, batch_norm=batch_norm, name="conv2")
    if stem == "imagenet":
        x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool2")(x)  # 28x28
    for module, filters in INCEPTION_V1.items():
        if module in ("4a", "5a"):
            x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"pool{module[0]}")(x)
        x = apply_inception_block(x, [_scaled(n, width) for n in filters], batch_norm,
                                  name=f"inception{module}")
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)  # (b, 1024)
    x = layers.Dropout(dropout, name="dropout")(x) if dropout else x
    outputs = layers.Dense(num_classes, dtype="float32", name="predictions")(x)
    return ZooModel(inputs, outputs, name=name)
