"""Residual networks: ResNet-18/34 (basic blocks) and ResNet-50/101/152 (bottlenecks).

Lectures: "Neural network architectures: CNN, RNN" (residual connections: blocks learn
residual functions) and "CNN, RNN, Transformer" ("Basic Block in ResNet": used in
ResNet-18 and ResNet-34; "Bottleneck in ResNet": ResNet-50, -101, -152).
He, Zhang, Ren & Sun, "Deep residual learning for image recognition", CVPR 2016.

Convolutions carry biases by default, as `keras.applications.ResNet50` does (its
25,636,712 parameters); `use_bias=False` gives torchvision's bias-free layout (the
convolutions are followed by BatchNorm, so a bias adds nothing). A stride-2 bottleneck
strides in its 3x3 convolution ("ResNet v1.5", torchvision); keras.applications strides
in the first 1x1. Both have the same parameters.
"""

from keras import layers

from keras_zoo import workarounds
from keras_zoo.layers import checked_input
from keras_zoo.layers.conv import BatchNormalization, Conv2D
from keras_zoo.models.base import ZooModel
from keras_zoo.registry import register_model

STEMS = ("imagenet", "small")
BN_EPSILON = 1.001e-5  # keras.applications' ResNet value
BN_MOMENTUM = 0.9  # PyTorch's 0.1: Keras' 0.99 leaves the inference statistics stale after
# the few hundred steps of a CPU run (test accuracy near chance while training is at 99%)


def _conv_bn(x, filters, kernel_size, strides, use_bias, name, relu=True):
    x = Conv2D(filters, kernel_size, strides=strides, padding="same",
               use_bias=use_bias, name=f"{name}_conv")(x)
    x = BatchNormalization(momentum=BN_MOMENTUM, epsilon=BN_EPSILON,
                           name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x) if relu else x


def _shortcut(x, filters, strides, use_bias, name):
    """Identity, or a 1x1 conv + BatchNorm projection when the shape changes (option B).

    A strided 1x1 convolution is written as its equivalent: keep every `strides`-th pixel,
    then a 1x1 convolution; same weights, same outputs (`keras_zoo.workarounds`,
    "onednn_avx2_strided_1x1").
    """
    if strides == 1 and x.shape[-1] == filters:
        return x
    if strides != 1:
        x = workarounds.subsample(x, strides, name=f"{name}_0")  # (b, h / s, w / s, c)
    return _conv_bn(x, filters, 1, 1, use_bias, f"{name}_0", relu=False)


def apply_basic_block(x, filters, strides=1, use_bias=True, name="conv2_block1"):
    """Basic block: 3x3 conv-BN-ReLU -> 3x3 conv-BN, plus the shortcut, then ReLU.

    Args:
        x: (batch, h, w, c).
        filters: output channels.
        strides: 2 halves h and w (the first block of a stage).
        use_bias: biases in the convolutions.
        name: layer-name prefix.

    Returns:
        (batch, h / strides, w / strides, filters).
    """
    shortcut = _shortcut(x, filters, strides, use_bias, name)
    x = _conv_bn(x, filters, 3, strides, use_bias, f"{name}_1")
    x = _conv_bn(x, filters, 3, 1, use_bias, f"{name}_2", relu=False)
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.ReLU(name=f"{name}_out")(x)


def apply_bottleneck_block(x, filters, strides=1, expansion=4, use_bias=True,
                           name="conv2_block1"):
    """Bottleneck: 1x1 conv (reduce) -> 3x3 conv -> 1x1 conv (expand x4), plus the shortcut.

    Args:
        x: (batch, h, w, c).
        filters: width of the 3x3 convolution; the block outputs `expansion * filters`.
        strides: 2 halves h and w (in the 3x3 convolution).
        expansion: output channels / `filters` (4 in the paper).
        use_bias: biases in the convolutions.
        name: layer-name prefix.

    Returns:
        (batch, h / strides, w / strides, expansion * filters).
    """
    shortcut = _shortcut(x, expansion * filters, strides, use_bias, name)
    x = _conv_bn(x, filters, 1, 1, use_bias, f"{name}_1")
    x = _conv_bn(x, filters, 3, strides, use_bias, f"{name}_2")
    x = _conv_bn(x, expansion * filters, 1, 1, use_bias, f"{name}_3", relu=False)
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.ReLU(name=f"{name}_out")(x)


def resnet(blocks, bottleneck, input_shape=(224, 224, 3), num_classes=1000, width=1.0,
           stem="imagenet", use_bias=True, name="resnet"):
    """A ResNet: stem, four stages of residual blocks (64, 128, 256, 512 x width), GAP, dense.

    Args:
        blocks: blocks per stage, e.g. (2, 2, 2, 2) for ResNet-18.
        bottleneck: bottleneck blocks (x4 outputs) instead of basic blocks.
        input_shape: (height, width, channels).
        num_classes: number of output logits.
        width: multiplier of every stage's filters.
        stem: "imagenet" (7x7/2 conv + 3x3/2 max pool: 224 -> 56) or "small" (one 3x3
            conv, no pooling: for 28x28 / 32x32 images, as the paper's CIFAR networks).
        use_bias: biases in the convolutions (keras.applications) or not (torchvision).
        name: model name.

    Returns:
        A functional `keras.Model` mapping (batch, *input_shape) to (batch, num_classes).
    """
    if stem not in STEMS:
        raise ValueError(f"stem must be one of {STEMS}, got {stem!r}")
    stem_filters = max(1, int(round(64 * width)))
    inputs, x = checked_input(input_shape, name="image")
    if stem == "imagenet":
        x = _conv_bn(x, stem_filters, 7, 2, use_bias, "conv1")  # (b, 112, 112, 64)
        x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)  # 56x56
    else:
        x = _conv_bn(x, stem_filters, 3, 1, use_bias, "conv1")  # (b, h, w, 64 w)
    for stage, count in enumerate(blocks):
        filters = max(1, int(round(64 * 2 ** stage * width)))
        for i in range(count):
            strides = 2 if i == 0 and stage > 0 else 1
            block_name = f"conv{stage + 2}_block{i + 1}"
            if bottleneck:
                x = apply_bottleneck_block(x, filters, strides, use_bias=use_bias,
                                           name=block_name)
            else:
                x = apply_basic_block(x, filters, strides, use_bias, name=block_name)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)  # (b, 512 or 2048 x width)
    outputs = layers.Dense(num_classes, dtype="float32", name="predictions")(x)
    return ZooModel(inputs, outputs, name=name)


SMOKE = {"input_shape": (28, 28, 1), "num_classes": 10, "width": 0.0625, "stem": "small"}


@register_model(family="cnn", smoke=SMOKE)
def resnet18(input_shape=(224, 224, 3), num_classes=1000, width=1.0, stem="imagenet",
             use_bias=True, name="resnet18"):
    """ResNet-18: basic blocks (2, 2, 2, 2); 11,703,912 parameters at the defaults.

    With `use_bias=False` its trainable parameters are torchvision's 11,689,512.

    Arguments as `resnet` (width: multiplier of 64, 128, 256, 512 filters).
    """
    return resnet((2, 2, 2, 2), False, input_shape, num_classes, width, stem, use_bias, name)


@register_model(family="cnn", smoke=SMOKE)
def resnet34(input_shape=(224, 224, 3), num_classes=1000, width=1.0, stem="imagenet",
             use_bias=True, name="resnet34"):
    """ResNet-34: basic blocks (3, 4, 6, 3); 21,823,208 parameters at the defaults.

    With `use_bias=False` its trainable parameters are torchvision's 21,797,672.

    Arguments as `resnet`.
    """
    return resnet((3, 4, 6, 3), False, input_shape, num_classes, width, stem, use_bias, name)


@register_model(family="cnn", smoke=SMOKE)
def resnet50(input_shape=(224, 224, 3), num_classes=1000, width=1.0, stem="imagenet",
             use_bias=True, name="resnet50"):
    """ResNet-50: bottlenecks (3, 4, 6, 3); 25,636,712 parameters, as keras.applications.

    Arguments as `resnet`.
    """
    return resnet((3, 4, 6, 3), True, input_shape, num_classes, width, stem, use_bias, name)


@register_model(family="cnn", smoke=SMOKE)
def resnet101(input_shape=(224, 224, 3), num_classes=1000, width=1.0, stem="imagenet",
              use_bias=True, name="resnet101"):
    """ResNet-101: bottlenecks (3, 4, 23, 3); 44,707,176 parameters, as keras.applications.

    Arguments as `resnet`.
    """
    return resnet((3, 4, 23, 3), True, input_shape, num_classes, width, stem, use_bias, name)


@register_model(family="cnn", smoke=SMOKE)
def resnet152(input_shape=(224, 224, 3), num_classes=1000, width=1.0, stem="imagenet",
              use_bias=True, name="resnet152"):
    """ResNet-152: bottlenecks (3, 8, 36, 3); 60,419,944 parameters, as keras.applications.

    Arguments as `resnet`.
    """
    return resnet((3, 8, 36, 3), True, input_shape, num_classes, width, stem, use_bias, name)
