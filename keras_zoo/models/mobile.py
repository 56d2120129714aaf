"""Mobile networks: MobileNetV2 (inverted residuals) and ShuffleNetV2 (split and shuffle).

Lecture: "CNN, RNN, Transformer" ("Bottleneck unit with depth-wise convs: MobileNetv2,
ShuffleNetv2"). Sandler et al., "MobileNetV2: Inverted residuals and linear
bottlenecks", CVPR 2018; Ma, Zhang, Zheng & Sun, "ShuffleNet V2: Practical guidelines
for efficient CNN architecture design", ECCV 2018.
"""

from keras import layers

from keras_zoo.layers import checked_input
from keras_zoo.layers.conv import BatchNormalization, Conv2D, DepthwiseConv2D
from keras_zoo.layers.shuffle import ChannelShuffle, ChannelSplit
from keras_zoo.models.base import ZooModel
from keras_zoo.registry import register_model

STEMS = ("imagenet", "small")
# MobileNetV2, Table 2: expansion t, output channels c, repeats n, first stride s
MOBILENET_V2 = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))
# ShuffleNetV2, Table 5: stage 2-4 output channels and conv5 channels per width
SHUFFLENET_V2 = {0.5: (48, 96, 192, 1024), 1.0: (116, 232, 464, 1024),
                 1.5: (176, 352, 704, 1024), 2.0: (244, 488, 976, 2048)}
SHUFFLENET_V2_REPEATS = (4, 8, 4)


def _check_stem(stem):
    if stem not in STEMS:
        raise ValueError(f"stem must be one of {STEMS}, got {stem!r}")


def make_divisible(value, divisor=8):
    """Round channels to a multiple of `divisor`, never below 90% of `value` (the paper's code)."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def _bn(x, name, momentum=0.9, epsilon=1e-3):
    """BatchNorm; momentum 0.9 (PyTorch's 0.1), not keras.applications' 0.999, whose
    inference statistics are still mostly the initial ones after a short CPU run."""
    return BatchNormalization(momentum=momentum, epsilon=epsilon, name=name)(x)


def apply_inverted_residual_block(x, filters, strides=1, expansion=6, name="block1"):
    """Inverted residual: 1x1 expand + ReLU6 -> 3x3 depthwise + ReLU6 -> 1x1 linear project.

    The bottleneck (the block's input and output) is thin and linear; the expansion in
    between is wide. The input is added back when the shapes match (stride 1, same width).

    Args:
        x: (batch, h, w, c).
        filters: output channels.
        strides: stride of the depthwise convolution.
        expansion: expansion factor t (1: no expanding convolution, as the first block).
        name: layer-name prefix.

    Returns:
        (batch, h / strides, w / strides, filters).
    """
    inputs, channels = x, x.shape[-1]
    if expansion != 1:
        x = Conv2D(expansion * channels, 1, use_bias=False, name=f"{name}_expand")(x)
        x = _bn(x, f"{name}_expand_bn")
        x = layers.ReLU(6.0, name=f"{name}_expand_relu")(x)
    x = DepthwiseConv2D(3, strides=strides, padding="same", use_bias=False,
                        name=f"{name}_depthwise")(x)
    x = _bn(x, f"{name}_depthwise_bn")
    x = layers.ReLU(6.0, name=f"{name}_depthwise_relu")(x)
    x = Conv2D(filters, 1, use_bias=False, name=f"{name}_project")(x)
    x = _bn(x, f"{name}_project_bn")  # linear bottleneck: no activation
    if strides == 1 and channels == filters:
        x = layers.Add(name=f"{name}_add")([inputs, x])
    return x


@register_model(family="cnn", smoke={"input_shape": (32, 32, 3), "num_classes": 10, "alpha": 0.25,
                       "stem": "small", "last_filters": 64})
def mobilenet_v2(input_shape=(224, 224, 3), num_classes=1000, alpha=1.0, stem="imagenet",
                 last_filters=1280, dropout=0.0, name="mobilenet_v2"):
    """MobileNetV2 (Sandler et al. 2018): 17 inverted residual blocks; logits out.

    224x224x3 -> conv 3x3/2 32 -> blocks of Table 2 (t, c, n, s) -> conv 1x1 1280 -> global
    average pool -> dense `num_classes`. 3,538,984 parameters at alpha 1, as
    `keras.applications.MobileNetV2(weights=None)`; about 300M multiply-adds.

    Args:
        input_shape: (height, width, channels).
        num_classes: number of output logits.
        alpha: width multiplier of every layer (channels rounded to multiples of 8).
        stem: "imagenet" (stride-2 first conv: /32 in all) or "small" (stride 1: /16,
            for 28x28 / 32x32 images).
        last_filters: channels of the last 1x1 conv (scaled by alpha when alpha > 1).
        dropout: dropout rate before the classifier (none in keras.applications).
        name: model name.

    Returns:
        A functional `keras.Model` mapping (batch, *input_shape) to (batch, num_classes).
    """
    _check_stem(stem)
    inputs, x = checked_input(input_shape, name="image")
    x = Conv2D(make_divisible(32 * alpha), 3, strides=2 if stem == "imagenet" else 1,
               padding="same", use_bias=False, name="conv1")(x)  # (b, 112, 112, 32)
    x = layers.ReLU(6.0, name="conv1_relu")(_bn(x, "conv1_bn"))
    block = 0
    for t, c, n, s in MOBILENET_V2:
        for i in range(n):
            block += 1
            x = apply_inverted_residual_block(x, make_divisible(c * alpha), s if i == 0 else 1,
                                              t, name=f"block{block}")
    last = make_divisible(last_filters * alpha) if alpha > 1.0 else last_filters
    x = Conv2D(last, 1, use_bias=False, name="conv_last")(x)  # (b, 7, 7, 1280)
    x = layers.ReLU(6.0, name="conv_last_relu")(_bn(x, "conv_last_bn"))
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    x = layers.Dropout(dropout, name="dropout")(x) if dropout else x
    outputs = layers.Dense(num_classes, dtype="float32", name="predictions")(x)
    return ZooModel(inputs, outputs, name=name)


def _conv_bn_relu(x, filters, name):
    x = Conv2D(filters, 1, use_bias=False, name=f"{name}_conv")(x)
    x = _bn(x, f"{name}_bn", epsilon=1e-5)
    return layers.ReLU(name=f"{name}_relu")(x)


def _depthwise_bn(x, strides, name):
    x = DepthwiseConv2D(3, strides=strides, padding="same", use_bias=False,
                        name=f"{name}_dw")(x)
    return _bn(x, f"{name}_dw_bn", epsilon=1e-5)


def apply_shuffle_block(x, filters, strides=1, name="stage2_unit1"):
    """ShuffleNetV2 unit (Fig. 3c/d): split -> one half 1x1, 3x3 dw, 1x1 -> concat -> shuffle.

    Stride 1: the channels are split in half; one half passes unchanged, the other goes
    through 1x1 conv-BN-ReLU, 3x3 depthwise-BN, 1x1 conv-BN-ReLU. Stride 2 (downsampling):
    no split; both branches see the whole input (the left one: 3x3 dw stride 2-BN, 1x1
    conv-BN-ReLU), so the channels double. Then concatenate and shuffle (2 groups).

    Args:
        x: (batch, h, w, c).
        filters: output channels (even); `filters == c` when strides is 1.
        strides: 1 or 2.
        name: layer-name prefix.

    Returns:
        (batch, h / strides, w / strides, filters).
    """
    half = filters // 2
    if strides == 1:
        left, right = ChannelSplit(name=f"{name}_split")(x)
    else:
        left = _depthwise_bn(x, strides, f"{name}_left")
        left = _conv_bn_relu(left, half, f"{name}_left_1x1")
        right = x
    right = _conv_bn_relu(right, half, f"{name}_right_1x1a")
    right = _depthwise_bn(right, strides, f"{name}_right")
    right = _conv_bn_relu(right, half, f"{name}_right_1x1b")
    x = layers.Concatenate(name=f"{name}_concat")([left, right])
    return ChannelShuffle(2, name=f"{name}_shuffle")(x)


@register_model(family="cnn", smoke={"input_shape": (32, 32, 3), "num_classes": 10, "width": 0.5,
                       "stem": "small", "repeats": (1, 1, 1)})
def shufflenet_v2(input_shape=(224, 224, 3), num_classes=1000, width=1.0, stem="imagenet",
                  repeats=SHUFFLENET_V2_REPEATS, name="shufflenet_v2"):
    """ShuffleNetV2 (Ma et al. 2018, Table 5): three stages of shuffle units; logits out.

    224x224x3 -> conv 3x3/2 24 -> max 3/2 (56) -> stages 2-4 (4, 8, 4 units; the first of
    each downsamples) -> conv 1x1 1024 -> global average pool -> dense `num_classes`.
    2,278,604 trainable parameters at width 1.0 as torchvision's `shufflenet_v2_x1_0`
    (the paper: 2.3M; 146M FLOPs, counted as multiply-adds).

    Args:
        input_shape: (height, width, channels).
        num_classes: number of output logits.
        width: one of the paper's 0.5, 1.0, 1.5, 2.0 (channel table of Table 5).
        stem: "imagenet" (stride-2 conv + max pool: /32 in all) or "small" (stride-1
            conv, no pool: /8, for 28x28 / 32x32 images).
        repeats: units per stage (4, 8, 4).
        name: model name.

    Returns:
        A functional `keras.Model` mapping (batch, *input_shape) to (batch, num_classes).
    """
    _check_stem(stem)
    if width not in SHUFFLENET_V2:
        raise ValueError(f"shufflenet_v2: width must be one of {sorted(SHUFFLENET_V2)}, "
                         f"got {width!r}")
    *stages, last = SHUFFLENET_V2[width]
    inputs, x = checked_input(input_shape, name="image")
    x = Conv2D(24, 3, strides=2 if stem == "imagenet" else 1, padding="same",
               use_bias=False, name="conv1")(x)  # (b, 112, 112, 24)
    x = layers.ReLU(name="conv1_relu")(_bn(x, "conv1_bn", epsilon=1e-5))
    if stem == "imagenet":
        x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)  # 56x56
    for stage, (filters, count) in enumerate(zip(stages, repeats), start=2):
        for i in range(count):
            x = apply_shuffle_block(x, filters, 2 if i == 0 else 1,
                                    name=f"stage{stage}_unit{i + 1}")
    x = _conv_bn_relu(x, last, "conv5")  # (b, 7, 7, 1024)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = layers.Dense(num_classes, dtype="float32", name="predictions")(x)
    return ZooModel(inputs, outputs, name=name)
