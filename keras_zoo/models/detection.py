"""Single-shot detection: default boxes on 8x8 and 4x4 feature maps, one forward pass.

Lecture "CNN, RNN, Transformer" ("CNN Structures: Segmentation, Detection, Generation"),
the figure "(a) Image with GT boxes (b) 8x8 feature map (c) 4x4 feature map" from
Liu et al., "SSD: Single Shot MultiBox Detector", ECCV 2016: every cell of a feature map
carries a few default boxes of different aspect ratios; for each, the network predicts
class scores (background included) and the offsets from the default box to the object.
Small objects are matched to the finer 8x8 map, large ones to the 4x4 map.

The loss (`ssd_loss`) is SSD's: softmax cross-entropy on the matched (positive) default
boxes and the hardest negatives (3 per positive: hard-negative mining), plus smooth-L1 on
the positives' box offsets, divided by the number of positives. The data side (default
boxes, matching, encoding, decoding, NMS, mAP) is NumPy: `keras_zoo.datasets.boxes`.
"""

import keras
import numpy as np
from keras import layers, ops

from keras_zoo.datasets.boxes import default_boxes, encode_targets
from keras_zoo.layers import checked_input
from keras_zoo.layers.checks import CheckedDataMixin
from keras_zoo.layers.conv import BatchNormalization, Conv2D
from keras_zoo.registry import register_model


def ssd_loss(y_true, y_pred, neg_pos_ratio=3.0, box_weight=1.0):
    """SSD's multibox loss with hard-negative mining (keras.ops; any backend).

    Args:
        y_true: (batch, A, 5) encoded targets: class (0 background, c + 1 objects) and
            four box offsets (see `keras_zoo.datasets.boxes.match_boxes`).
        y_pred: (batch, A, num_classes + 1 + 4): class logits then box offsets.
        neg_pos_ratio: background boxes kept per positive (the highest-loss ones).
        box_weight: weight of the smooth-L1 box term.

    Returns:
        Scalar: (classification + box_weight * localisation) / number of positives,
        computed in float32 whatever the dtype of `y_pred` (a mixed precision network's).
    """
    y_pred = ops.cast(ops.convert_to_tensor(y_pred), "float32")
    y_true = ops.convert_to_tensor(y_true, dtype=y_pred.dtype)
    labels = ops.cast(y_true[..., 0], "int32")  # (b, A)
    positive = ops.cast(labels > 0, y_pred.dtype)
    ce = ops.sparse_categorical_crossentropy(labels, y_pred[..., :-4], from_logits=True)
    num_pos = ops.sum(positive, axis=1)  # (b,)
    num_anchors = ops.cast(ops.shape(labels)[1], y_pred.dtype)
    num_neg = ops.minimum(neg_pos_ratio * ops.maximum(num_pos, 1.0), num_anchors - num_pos)
    background_ce = ops.stop_gradient(ce * (1.0 - positive) - positive)  # positives sort last
    rank = ops.argsort(ops.argsort(-background_ce, axis=1), axis=1)  # 0 = hardest negative
    negative = ops.cast(ops.cast(rank, y_pred.dtype) < num_neg[:, None], y_pred.dtype)
    negative = negative * (1.0 - positive)
    diff = ops.abs(y_pred[..., -4:] - y_true[..., 1:])
    smooth_l1 = ops.sum(ops.where(diff < 1.0, 0.5 * diff**2, diff - 0.5), axis=-1)  # (b, A)
    total = ops.sum(ce * (positive + negative)) + box_weight * ops.sum(smooth_l1 * positive)
    return total / ops.maximum(ops.sum(num_pos), 1.0)


@keras.saving.register_keras_serializable(package="keras_zoo")
class SingleShotDetector(CheckedDataMixin, keras.Model):
    """A detector network plus its default boxes and SSD's loss, so that `fit` trains it.

    Args:
        network: functional model, images -> (batch, A, num_classes + 1 + 4).
        feature_sizes: sides of the square feature maps the heads sit on.
        scales: default-box scale per feature map.
        aspect_ratios: default-box width / height ratios per cell.
        neg_pos_ratio: hard negatives per positive in the loss.
        box_weight: weight of the box-offset loss.

    `fit(images, targets)` with targets from `encode_targets(boxes, classes, model.anchors)`;
    `predict` gives the raw outputs for `keras_zoo.datasets.boxes.decode_detections`.
    """

    def __init__(self, network, feature_sizes, scales, aspect_ratios, neg_pos_ratio=3.0,
                 box_weight=1.0, **kwargs):
        super().__init__(**kwargs)
        self.network = network
        self.feature_sizes = tuple(int(f) for f in feature_sizes)
        self.scales = tuple(float(s) for s in scales)
        self.aspect_ratios = tuple(float(a) for a in aspect_ratios)
        self.neg_pos_ratio = float(neg_pos_ratio)
        self.box_weight = float(box_weight)
        self.anchors = default_boxes(self.feature_sizes, self.scales, self.aspect_ratios)
        self.num_classes = int(network.outputs[0].shape[-1]) - 5

    def call(self, inputs, training=False):
        return self.network(inputs, training=training)  # (b, A, num_classes + 5)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if y is None:
            raise ValueError(
                f"{self.name} needs targets: fit(images, encode_targets(boxes, classes, "
                "model.anchors)) with keras_zoo.datasets.boxes.encode_targets")
        loss = ssd_loss(y, y_pred, self.neg_pos_ratio, self.box_weight)
        for extra in self.losses:
            loss = loss + extra
        return loss

    def get_config(self):
        return {**super().get_config(),
                "network": keras.saving.serialize_keras_object(self.network),
                "feature_sizes": list(self.feature_sizes), "scales": list(self.scales),
                "aspect_ratios": list(self.aspect_ratios),
                "neg_pos_ratio": self.neg_pos_ratio, "box_weight": self.box_weight}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        network = keras.saving.deserialize_keras_object(config.pop("network"))
        return cls(network, **config)


def apply_conv_bn_stack(x, filters, convs, name):
    """`convs` 3x3 convolutions (same padding), each with batch norm and ReLU."""
    for i in range(1, convs + 1):
        x = Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv{i}")(x)
        x = BatchNormalization(momentum=0.9, name=f"{name}_bn{i}")(x)
        x = layers.ReLU(name=f"{name}_relu{i}")(x)
    return x


def apply_detection_head(x, num_boxes, num_classes, name):
    """Class logits and box offsets for the `num_boxes` default boxes of every cell.

    Args:
        x: feature map (batch, f, f, channels).
        num_boxes: default boxes per cell (aspect ratios).
        num_classes: object classes (background is added).
        name: layer name prefix.

    Returns:
        (batch, f * f * num_boxes, num_classes + 1 + 4), in `default_boxes` order.
    """
    size = x.shape[1] * x.shape[2] * num_boxes
    # float32 under a mixed policy too: these layers produce the outputs the loss reads
    scores = Conv2D(num_boxes * (num_classes + 1), 3, padding="same", dtype="float32",
                    name=f"{name}_classes")(x)  # (b, f, f, k (C + 1))
    offsets = Conv2D(num_boxes * 4, 3, padding="same", dtype="float32",
                     name=f"{name}_boxes")(x)
    scores = layers.Reshape((size, num_classes + 1), dtype="float32",
                            name=f"{name}_classes_flat")(scores)
    offsets = layers.Reshape((size, 4), dtype="float32", name=f"{name}_boxes_flat")(offsets)
    return layers.Concatenate(dtype="float32", name=f"{name}_out")([scores, offsets])


def _example(model, batch, rng):
    """Random images and the encoded targets of a small and a large random box each."""
    x = rng.uniform(0.0, 1.0, size=(batch, *model.network.inputs[0].shape[1:]))
    sizes = np.stack([rng.uniform(0.2, 0.3, batch), rng.uniform(0.4, 0.5, batch)], axis=1)
    centres = rng.uniform(0.3, 0.7, size=(batch, 2, 2))
    boxes = np.concatenate([centres - sizes[..., None] / 2, centres + sizes[..., None] / 2], -1)
    classes = rng.integers(0, model.num_classes, size=(batch, 2)).astype("int32")
    return x.astype("float32"), encode_targets(boxes, classes, model.anchors)


@register_model(task="self_supervised", example=_example,
                smoke={"input_shape": (32, 32, 1), "filters": (4, 8, 8, 8), "num_classes": 3})
def ssd_lite(input_shape=(64, 64, 1), num_classes=10, filters=(16, 32, 64, 96),
             scales=(0.3, 0.45), aspect_ratios=(1.0, 0.6, 0.3), neg_pos_ratio=3.0,
             name="ssd_lite"):
    """A small SSD: heads on the 8x8 and 4x4 feature maps of a 64x64 image (lecture figure).

    Backbone: CU(f1) pool -> CU(f2) pool -> CU(f3) pool -> CU(f3) = the H/8 map (8x8),
    pool -> CU(f4) = the H/16 map (4x4); on each a 3x3 head predicts, for each of its
    default boxes, num_classes + 1 logits (background first) and 4 offsets.

    Args:
        input_shape: (height, width, channels), square, side divisible by 16.
        num_classes: object classes (background not counted).
        filters: channels of the four backbone stages.
        scales: default-box scale on the H/8 and H/16 maps.
        aspect_ratios: default-box width / height ratios (each cell has one per ratio).
        neg_pos_ratio: hard negatives per positive in the loss.
        name: model name.

    Returns:
        A `SingleShotDetector` mapping (batch, H, W, C) to (batch, A, num_classes + 5),
        A = ((H/8)^2 + (H/16)^2) * len(aspect_ratios); its `anchors` are the default boxes.
    """
    side = input_shape[0]
    if input_shape[1] != side or side % 16:
        raise ValueError(f"ssd_lite: input_shape must be square with a side divisible by 16, "
                         f"got {input_shape}")
    inputs, x = checked_input(input_shape, name="image")
    x = apply_conv_bn_stack(x, filters[0], convs=1, name="stage1")  # (b, H, W, f1)
    x = layers.MaxPooling2D(2, name="pool1")(x)  # (b, H/2, W/2, f1)
    x = apply_conv_bn_stack(x, filters[1], convs=2, name="stage2")
    x = layers.MaxPooling2D(2, name="pool2")(x)  # (b, H/4, W/4, f2)
    x = apply_conv_bn_stack(x, filters[2], convs=2, name="stage3")
    x = layers.MaxPooling2D(2, name="pool3")(x)  # (b, H/8, W/8, f3)
    fine = apply_conv_bn_stack(x, filters[2], convs=2, name="fine")  # the 8x8 map
    x = layers.MaxPooling2D(2, name="pool4")(fine)  # (b, H/16, W/16, f3)
    coarse = apply_conv_bn_stack(x, filters[3], convs=2, name="coarse")  # the 4x4 map
    k = len(aspect_ratios)
    outputs = layers.Concatenate(axis=1, dtype="float32", name="predictions")([
        apply_detection_head(fine, k, num_classes, name="head_fine"),
        apply_detection_head(coarse, k, num_classes, name="head_coarse")])  # (b, A, C + 5)
    network = keras.Model(inputs, outputs, name=f"{name}_network")
    detector = SingleShotDetector(network, (side // 8, side // 16), scales, aspect_ratios,
                                  neg_pos_ratio=neg_pos_ratio, name=name)
    detector(np.zeros((1, *input_shape), dtype="float32"))  # build
    return detector
