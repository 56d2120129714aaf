"""Segmentation: the mean-IoU metric, the generated shape scenes, the two networks' shapes.

Mean IoU against a hand-computed case and `keras.metrics.MeanIoU`; parameter counts of
the small U-Net and encoder-decoder worked out by hand (the skips are the difference).
"""

import keras
import numpy as np
import pytest

import keras_zoo
from keras_zoo.datasets.scenes import SHAPE_CLASSES, make_shape_scenes
from keras_zoo.models.segmentation import mean_iou


def test_mean_iou_hand_case():
    truth = np.array([[0, 0], [1, 1]])
    predicted = np.array([[0, 1], [1, 1]])
    # class 0: 1 hit, 1 missed -> 1 / 2; class 1: 2 hits, 1 false alarm -> 2 / 3
    value, per_class = mean_iou(truth, predicted, num_classes=3)
    np.testing.assert_allclose(per_class[:2], [1 / 2, 2 / 3])
    assert np.isnan(per_class[2])  # absent from both: left out of the mean
    assert value == pytest.approx((1 / 2 + 2 / 3) / 2)
    assert mean_iou(truth, truth, 3)[0] == 1.0
    value, per_class = mean_iou(truth, 1 - truth, 2)  # all wrong
    assert value == 0.0 and np.array_equal(per_class, [0.0, 0.0])


def test_mean_iou_matches_keras(rng):
    truth = rng.integers(0, 4, size=(3, 16, 16))
    predicted = np.where(rng.uniform(size=truth.shape) < 0.7, truth,
                         rng.integers(0, 3, size=truth.shape))  # class 3 never predicted
    metric = keras.metrics.MeanIoU(num_classes=5)  # class 4: nowhere
    metric.update_state(truth, predicted)
    expected = float(keras.ops.convert_to_numpy(metric.result()))
    assert mean_iou(truth, predicted, 5)[0] == pytest.approx(expected, rel=1e-5)


def test_shape_scenes():
    images, masks = make_shape_scenes(40, size=48, seed=3)
    again, masks_again = make_shape_scenes(40, size=48, seed=3)
    np.testing.assert_array_equal(images, again)
    np.testing.assert_array_equal(masks, masks_again)
    assert images.shape == (40, 48, 48, 1) and images.dtype == np.float32
    assert masks.shape == (40, 48, 48) and masks.dtype == np.int32
    assert 0 <= images.min() and images.max() <= 1
    assert set(np.unique(masks)) == set(range(len(SHAPE_CLASSES)))
    assert np.all((masks > 0).any(axis=(1, 2)))  # at least one shape per scene
    shape_fraction = (masks > 0).mean()
    assert 0.03 < shape_fraction < 0.3
    # shapes are brighter or darker than the background: a threshold cannot segment them
    contrast = [images[i, ..., 0][masks[i] > 0].mean() - images[i, ..., 0][masks[i] == 0].mean()
                for i in range(40)]
    assert min(contrast) < -0.1 and max(contrast) > 0.1
    assert not np.array_equal(make_shape_scenes(2, seed=4)[1], make_shape_scenes(2, seed=5)[1])


# CU = two (3x3 conv with bias, ReLU)
def conv_unit_params(c_in, c_out):
    return 9 * c_in * c_out + c_out + 9 * c_out * c_out + c_out


@pytest.mark.parametrize("name,skips", [("unet", True), ("encoder_decoder", False)])
def test_parameter_counts_by_hand(name, skips):
    model = keras_zoo.build(name, input_shape=(16, 16, 1), filters=(4, 8), num_classes=3)
    expected = (conv_unit_params(1, 4)  # enc1
                + conv_unit_params(4, 8)  # bottleneck
                + (2 * 2 * 8 * 4 + 4)  # UU: 2x2 transposed conv 8 -> 4, with bias
                + conv_unit_params(8 if skips else 4, 4)  # dec1 (skip: 4 + 4 channels)
                + (4 * 3 + 3))  # 1x1 logits
    assert model.count_params() == expected
    assert model.output_shape == (None, 16, 16, 3)
    # batch_norm: each 3x3 conv loses its bias (c_out) and gains BatchNorm's 4 c_out.
    normed = keras_zoo.build(name, input_shape=(16, 16, 1), filters=(4, 8), num_classes=3,
                             batch_norm=True)
    bn_channels = 2 * (4 + 8 + 4)  # two convs per unit: enc1, bottleneck, dec1
    assert normed.count_params() == expected + 3 * bn_channels
    assert normed.get_config() == keras.Model.from_config(normed.get_config()).get_config()


def test_input_size_must_fit_the_levels():
    with pytest.raises(ValueError, match="divisible by 4"):
        keras_zoo.build("unet", input_shape=(18, 18, 1), filters=(4, 8, 16))
    with pytest.raises(ValueError, match="expected shape"):
        keras_zoo.build("unet")(np.zeros((1, 48, 48, 3), "float32"))
