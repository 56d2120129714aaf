"""Semantic segmentation: the lecture's encoder-decoder and U-Net (per-pixel class logits).

Lecture "CNN, RNN, Transformer" ("CNN Structures: Segmentation, Detection, Generation"):
"Encoder-Decoder in Semantic Segmentation" and "U-Net", drawn with CU (convolutional
unit), DU (down-sampling unit) and UU (up-sampling unit). The encoder-decoder squeezes
the image through a bottleneck and paints the mask back from it alone; U-Net also hands
each decoder level the encoder's feature map of the same size (skip connections), which
brings back the fine detail of the outlines.
Long, Shelhamer & Darrell, "Fully convolutional networks for semantic segmentation",
CVPR 2015; Ronneberger, Fischer & Brox, "U-Net: Convolutional networks for biomedical
image segmentation", MICCAI 2015.
"""

import numpy as np
from keras import layers

from keras_zoo.layers import checked_input
from keras_zoo.layers.conv import BatchNormalization, Conv2D
from keras_zoo.models.base import ZooModel
from keras_zoo.registry import random_inputs, register_model


def apply_conv_unit(x, filters, name, batch_norm=False):
    """CU: two 3x3 convolutions (same padding), each followed by ReLU (as in U-Net).

    Args:
        x: tensor (batch, height, width, channels).
        filters: output channels.
        name: layer name prefix.
        batch_norm: batch normalization between each convolution and its ReLU (as most
            U-Nets since 2015 do; it removes the long plateau at the start of training).

    Returns:
        Tensor (batch, height, width, filters).
    """
    for i in (1, 2):
        x = Conv2D(filters, 3, padding="same", use_bias=not batch_norm,
                   name=f"{name}_conv{i}")(x)
        if batch_norm:
            x = BatchNormalization(momentum=0.9, name=f"{name}_bn{i}")(x)
        x = layers.ReLU(name=f"{name}_relu{i}")(x)
    return x


def apply_down_unit(x, name):
    """DU: 2x2 max pooling, (batch, h, w, c) -> (batch, h / 2, w / 2, c)."""
    return layers.MaxPooling2D(2, name=name)(x)


def apply_up_unit(x, filters, name):
    """UU: a 2x2 transposed convolution with stride 2, (b, h, w, c) -> (b, 2h, 2w, filters)."""
    return layers.Conv2DTranspose(filters, 2, strides=2, name=name)(x)


def _example(model, batch, rng):
    """Random images (as the registry's default) and a learnable mask.

    Random per-pixel labels cannot be learnt by a small network in a few steps; class 1
    where the first channel is above 0.5, class 0 elsewhere, can.
    """
    x = random_inputs(model, batch, rng)  # (b, H, W, C) uniform in [0, 1)
    return x, (x[..., 0] > 0.5).astype("int32")  # (b, H, W)


def _check_size(input_shape, filters, model):
    steps = 2 ** (len(filters) - 1)
    if len(filters) < 2 or input_shape[0] % steps or input_shape[1] % steps:
        raise ValueError(
            f"{model}: {len(filters) - 1} down-sampling steps need height and width "
            f"divisible by {steps} (and at least two levels), got input_shape={input_shape} "
            f"and filters={tuple(filters)}")


def _segmentation_network(input_shape, num_classes, filters, skips, batch_norm, name):
    _check_size(input_shape, filters, name)
    inputs, x = checked_input(input_shape, name="image")
    features = []
    for level, f in enumerate(filters[:-1], start=1):  # encoder: CU then DU per level
        x = apply_conv_unit(x, f, f"enc{level}", batch_norm)  # (b, H / 2^(level-1), ..., f)
        features.append(x)
        x = apply_down_unit(x, name=f"down{level}")
    x = apply_conv_unit(x, filters[-1], "bottleneck", batch_norm)  # (b, H / 2^L, W / 2^L, f_L)
    for level in range(len(filters) - 1, 0, -1):  # decoder: UU, [skip], CU per level
        x = apply_up_unit(x, filters[level - 1], name=f"up{level}")
        if skips:
            x = layers.Concatenate(name=f"skip{level}")([x, features[level - 1]])
        x = apply_conv_unit(x, filters[level - 1], f"dec{level}", batch_norm)
    outputs = Conv2D(num_classes, 1, dtype="float32", name="logits")(x)  # (b, H, W, classes)
    return ZooModel(inputs, outputs, name=name)


@register_model(smoke={"input_shape": (16, 16, 1), "filters": (4, 8)}, example=_example)
def encoder_decoder(input_shape=(48, 48, 1), num_classes=4, filters=(16, 32, 64),
                    batch_norm=False, name="encoder_decoder"):
    """Encoder-decoder for semantic segmentation (no skips); per-pixel logits out.

    Encoder: CU(f1) DU CU(f2) DU ... bottleneck CU(f_L); decoder: UU CU back to full size;
    a 1x1 convolution gives the class logits of every pixel.

    Args:
        input_shape: (height, width, channels); height and width divisible by
            2 ** (len(filters) - 1).
        num_classes: classes per pixel (background included).
        filters: channels per level, the last one the bottleneck's.
        batch_norm: batch normalization inside every convolutional unit.
        name: model name.

    Returns:
        A functional `keras.Model` mapping (batch, H, W, C) to (batch, H, W, num_classes).
    """
    return _segmentation_network(input_shape, num_classes, filters, skips=False,
                                 batch_norm=batch_norm, name=name)


@register_model(smoke={"input_shape": (16, 16, 1), "filters": (4, 8)}, example=_example)
def unet(input_shape=(48, 48, 1), num_classes=4, filters=(16, 32, 64),
         batch_norm=False, name="unet"):
    """U-Net (Ronneberger et al. 2015): the encoder-decoder plus skip connections.

    Each decoder level concatenates the up-sampled map with the encoder map of the same
    size before its CU; same padding keeps the output the input's size (the paper's
    valid convolutions crop instead).

    Args:
        input_shape: (height, width, channels); height and width divisible by
            2 ** (len(filters) - 1).
        num_classes: classes per pixel (background included).
        filters: channels per level, the last one the bottleneck's.
        batch_norm: batch normalization inside every convolutional unit.
        name: model name.

    Returns:
        A functional `keras.Model` mapping (batch, H, W, C) to (batch, H, W, num_classes).
    """
    return _segmentation_network(input_shape, num_classes, filters, skips=True,
                                 batch_norm=batch_norm, name=name)


def mean_iou(y_true, y_pred, num_classes):
    """Segmentation's mean IoU: per class TP / (TP + FP + FN) over all pixels, then the mean.

    Classes that appear in neither the truth nor the prediction are left out of the mean
    (as `keras.metrics.MeanIoU` does).

    Args:
        y_true: integer class mask, any shape.
        y_pred: integer class mask of the same shape.
        num_classes: number of classes.

    Returns:
        (mean IoU, per-class IoU array with NaN for absent classes).
    """
    y_true, y_pred = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    confusion = np.bincount(y_true * num_classes + y_pred, minlength=num_classes**2)
    confusion = confusion.reshape(num_classes, num_classes).astype("float64")
    tp = np.diag(confusion)
    union = confusion.sum(0) + confusion.sum(1) - tp
    iou = np.where(union > 0, tp / np.where(union > 0, union, 1), np.nan)
    return float(np.nanmean(iou)), iou
