"""The single-shot detector's pieces against small hand-computed cases.

IoU, default boxes, box encoding/decoding, matching, NMS, average precision and mAP
(keras_zoo.datasets.boxes, NumPy), each threshold's comparison at an IoU exactly equal to
it (dyadic boxes, exact in float64), SSD's loss with hard-negative mining (keras.ops, on
the current backend), the detector's config, and the generated digit canvases.
"""

import keras
import numpy as np
import pytest

import keras_zoo
from keras_zoo.datasets import boxes as du
from keras_zoo.datasets.scenes import make_digit_canvases
from keras_zoo.models.detection import SingleShotDetector, ssd_loss


def test_iou_matrix_hand_cases():
    a = np.array([[0.0, 0.0, 0.2, 0.2], [0.5, 0.5, 0.6, 0.7]])
    b = np.array([[0.1, 0.1, 0.3, 0.3], [0.0, 0.0, 0.1, 0.1], [0.5, 0.5, 0.6, 0.7],
                  [0.8, 0.8, 0.9, 0.9]])
    expected = np.array([[0.01 / 0.07, 0.25, 0.0, 0.0],  # overlap 0.1 x 0.1, union .04+.04-.01
                         [0.0, 0.0, 1.0, 0.0]])
    np.testing.assert_allclose(du.iou_matrix(a, b), expected, atol=1e-12)
    np.testing.assert_allclose(du.iou_matrix(b, a), expected.T, atol=1e-12)
    assert du.iou_matrix(a[:1], np.array([[0.1, 0.1, 0.1, 0.3]]))[0, 0] == 0.0  # empty box


def test_default_boxes_layout():
    anchors = du.default_boxes((8, 4), (0.3, 0.45), (1.0, 0.25))
    assert anchors.shape == ((64 + 16) * 2, 4) and anchors.dtype == np.float32
    centres = du.to_center(anchors)
    np.testing.assert_allclose(centres[0], [1 / 16, 1 / 16, 0.3, 0.3], atol=1e-7)
    np.testing.assert_allclose(centres[1], [1 / 16, 1 / 16, 0.15, 0.6], atol=1e-7)  # w/h=1/4
    np.testing.assert_allclose(centres[2, :2], [3 / 16, 1 / 16], atol=1e-7)  # next column
    np.testing.assert_allclose(centres[16, :2], [1 / 16, 3 / 16], atol=1e-7)  # next row
    np.testing.assert_allclose(centres[128], [1 / 8, 1 / 8, 0.45, 0.45], atol=1e-7)  # 4x4 map
    np.testing.assert_allclose(centres[-1, :2], [7 / 8, 7 / 8], atol=1e-7)
    with pytest.raises(ValueError, match="one scale per feature map"):
        du.default_boxes((8, 4), (0.3,))


def test_encode_decode_hand_case_and_round_trip(rng):
    anchor = np.array([[0.2, 0.2, 0.4, 0.6]])  # centre (0.3, 0.4), size (0.2, 0.4)
    np.testing.assert_allclose(du.encode_boxes(anchor, anchor), [[0, 0, 0, 0]], atol=1e-6)
    box = np.array([[0.3, 0.2, 0.5, 1.0]])  # centre (0.4, 0.6), size (0.2, 0.8)
    # (0.1 / 0.2) / 0.1 = 5, (0.2 / 0.4) / 0.1 = 5, log(1) / 0.2 = 0, log(2) / 0.2
    np.testing.assert_allclose(du.encode_boxes(box, anchor), [[5, 5, 0, np.log(2) / 0.2]],
                               rtol=1e-6)
    anchors = du.default_boxes()
    centres = np.concatenate([rng.uniform(0.1, 0.9, (len(anchors), 2)),
                              rng.uniform(0.05, 0.5, (len(anchors), 2))], axis=1)
    boxes = du.to_corners(centres)
    np.testing.assert_allclose(du.decode_boxes(du.encode_boxes(boxes, anchors), anchors),
                               boxes, atol=1e-6)


def test_match_boxes():
    anchors = np.array([[0.0, 0.0, 0.5, 0.5], [0.1, 0.1, 0.6, 0.6], [0.5, 0.5, 1.0, 1.0],
                        [0.6, 0.0, 1.0, 0.3]])
    boxes = np.array([[0.0, 0.0, 0.5, 0.45], [0.9, 0.9, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0]])
    classes = np.array([7, 2, -1])  # the last row is padding
    targets = du.match_boxes(boxes, classes, anchors, iou_threshold=0.5)
    # box 0: IoU 0.9 with anchor 0, 0.14 / 0.335 with anchor 1 (below 0.5): only anchor 0;
    # box 1: IoU 0.04 with anchor 2, below the threshold, but its best anchor, so matched.
    np.testing.assert_array_equal(targets[:, 0], [8, 0, 3, 0])
    np.testing.assert_allclose(targets[0, 1:], du.encode_boxes(boxes[0], anchors[0]), atol=1e-6)
    np.testing.assert_allclose(targets[2, 1:], du.encode_boxes(boxes[1], anchors[2]), atol=1e-6)
    np.testing.assert_array_equal(targets[[1, 3], 1:], 0)
    assert not du.match_boxes(boxes[2:], classes[2:], anchors).any()  # padding only
    batch = du.encode_targets(boxes[None].repeat(2, 0), classes[None].repeat(2, 0), anchors)
    assert batch.shape == (2, 4, 5) and np.array_equal(batch[1], targets)


def test_non_max_suppression():
    boxes = np.array([[0.0, 0.0, 0.4, 0.4], [0.5, 0.5, 0.9, 0.9], [0.02, 0.0, 0.42, 0.4],
                      [0.2, 0.0, 0.6, 0.4]])
    scores = np.array([0.9, 0.6, 0.8, 0.7])
    # box 2 overlaps box 0 by 0.38 / 0.42 = 0.905, box 3 by 0.2 / 0.6 = 1/3
    np.testing.assert_array_equal(du.non_max_suppression(boxes, scores, 0.45), [0, 3, 1])
    np.testing.assert_array_equal(du.non_max_suppression(boxes, scores, 0.3), [0, 1])
    np.testing.assert_array_equal(du.non_max_suppression(boxes, scores, 0.95), [0, 2, 3, 1])
    np.testing.assert_array_equal(du.non_max_suppression(boxes, scores, 0.45, 2), [0, 3])
    assert du.non_max_suppression(np.zeros((0, 4)), np.zeros(0)).size == 0


# ----------------------------------------------------- IoU exactly at the threshold
# Dyadic coordinates: the areas, intersections, unions and their ratio are exact in
# float64, so "IoU == threshold" is a true equality and the comparisons' direction shows.
BOX = np.array([0.0, 0.0, 0.5, 0.5])  # area 1/4
HALF = np.array([0.0, 0.0, 0.5, 0.25])  # inside BOX, area 1/8: IoU 1/2
QUARTER = np.array([0.0, 0.0, 0.125, 0.5])  # inside BOX, area 1/16: IoU 1/4


def test_dyadic_boxes_have_exact_ious():
    assert du.iou_matrix(BOX[None], np.stack([HALF, QUARTER]))[0].tolist() == [0.5, 0.25]


@pytest.mark.parametrize("threshold, other", [(0.5, HALF), (0.25, QUARTER)])
def test_nms_keeps_a_box_whose_iou_equals_the_threshold(threshold, other):
    """The docstring: NMS drops the boxes overlapping a kept one by *more than* the threshold."""
    boxes, scores = np.stack([BOX, other]), np.array([0.9, 0.8])
    assert du.iou_matrix(boxes[:1], boxes[1:])[0, 0] == threshold
    np.testing.assert_array_equal(du.non_max_suppression(boxes, scores, threshold), [0, 1])
    below = np.nextafter(threshold, 0.0)  # the IoU is now more than the threshold
    np.testing.assert_array_equal(du.non_max_suppression(boxes, scores, below), [0])
    np.testing.assert_array_equal(du.non_max_suppression(boxes, scores[::-1], below), [1])


def test_match_boxes_counts_an_iou_equal_to_the_threshold_as_positive():
    """The docstring: an anchor is positive when its best IoU is >= the threshold."""
    anchors = np.stack([BOX, HALF, QUARTER])  # IoU 1, 1/2, 1/4 with the box
    targets = du.match_boxes(BOX[None], np.array([4]), anchors, iou_threshold=0.5)
    np.testing.assert_array_equal(targets[:, 0], [5, 5, 0])
    targets = du.match_boxes(BOX[None], np.array([4]), anchors, iou_threshold=0.25)
    np.testing.assert_array_equal(targets[:, 0], [5, 5, 5])
    above = np.nextafter(0.5, 1.0)
    targets = du.match_boxes(BOX[None], np.array([4]), anchors, iou_threshold=above)
    np.testing.assert_array_equal(targets[:, 0], [5, 0, 0])  # the box's own best anchor only


def test_map_counts_an_iou_equal_to_the_threshold_as_a_hit():
    """The docstring: a detection is correct when its IoU with the truth is >= the threshold."""
    truth, classes = BOX[None, None], np.array([[0]])
    found = [(HALF[None], np.array([0.9]), np.array([0]))]  # IoU exactly 1/2
    value, ap = du.mean_average_precision(found, truth, classes, num_classes=1,
                                          iou_threshold=0.5)
    assert value == 1.0 and ap.tolist() == [1.0]
    value, _ = du.mean_average_precision(found, truth, classes, num_classes=1,
                                         iou_threshold=np.nextafter(0.5, 1.0))
    assert value == 0.0


def test_average_precision_hand_case():
    # ranked: hit, miss, hit of 2 true boxes: precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1
    assert du.average_precision(np.array([0.5, 0.5, 1.0]),
                                np.array([1.0, 0.5, 2 / 3])) == pytest.approx(0.5 + 0.5 * 2 / 3)
    assert du.average_precision(np.array([0.5, 1.0]), np.array([0.5, 1.0])) == 1.0  # envelope


def test_mean_average_precision():
    truth = np.array([[[0.1, 0.1, 0.3, 0.3], [0.5, 0.5, 0.8, 0.8]],
                      [[0.2, 0.2, 0.4, 0.4], [0.0, 0.0, 0.0, 0.0]]])
    classes = np.array([[0, 1], [0, -1]])

    def det(*rows):  # (box, score, class)
        return (np.array([r[0] for r in rows]).reshape(-1, 4), np.array([r[1] for r in rows]),
                np.array([r[2] for r in rows]))

    perfect = [det((truth[0, 0], 0.9, 0), (truth[0, 1], 0.8, 1)), det((truth[1, 0], 0.7, 0))]
    value, ap = du.mean_average_precision(perfect, truth, classes, num_classes=3)
    assert value == 1.0 and np.isnan(ap[2])
    shifted = truth[1, 0] + [0.1, 0, 0.1, 0]  # IoU 1/3 < 0.5: a false positive
    mixed = [det((truth[0, 0], 0.9, 0), (truth[0, 0], 0.85, 0), (truth[0, 1], 0.8, 0)),
             det((shifted, 0.95, 0), (truth[1, 0], 0.5, 0))]
    # class 0 ranked: miss (shifted), hit, miss (duplicate), miss (wrong box), hit: 2 true
    # precision at the hits: 1/2 (recall 1/2), 2/5 (recall 1); class 1: never found
    value, ap = du.mean_average_precision(mixed, truth, classes, num_classes=3)
    np.testing.assert_allclose(ap[:2], [0.5 * 0.5 + 0.5 * 0.4, 0.0])
    assert value == pytest.approx((0.45 + 0.0) / 2)


def test_decoding_perfect_predictions_gives_map_one():
    """Logits that pick the matched class and the encoded offsets decode to the truth."""
    images, boxes, classes = make_digit_canvases(6, max_digits=3, seed=3)
    anchors = du.default_boxes()
    targets = du.encode_targets(boxes, classes, anchors)  # (6, A, 5)
    logits = 10.0 * np.eye(11)[targets[..., 0].astype(int)]  # (6, A, 11)
    found = du.decode_detections(np.concatenate([logits, targets[..., 1:]], -1), anchors)
    value, _ = du.mean_average_precision(found, boxes, classes, num_classes=10)
    assert value == pytest.approx(1.0)
    for (b, s, c), truth, k in zip(found, boxes, classes):
        assert len(c) == (k >= 0).sum() and s.min() > 0.99  # NMS left one box per digit
        np.testing.assert_allclose(np.sort(b, 0), np.sort(truth[k >= 0], 0), atol=1e-5)


def log_softmax(z):
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def test_ssd_loss_hand_case():
    """One positive, hard-negative ratio 1: only the worst background box counts."""
    logits = np.array([[[0.0, 2.0, 0.0], [1.0, 0.0, 3.0], [2.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    offsets = np.array([[[0.5, 0.0, 2.0, 0.0], [9.0, 9, 9, 9], [1, 1, 1, 1], [0, 0, 0, 0]]])
    y_true = np.zeros((1, 4, 5), dtype="float32")
    y_true[0, 0] = [2, 0.0, 0.0, 0.0, -1.0]  # anchor 0: class index 2 (object class 1)
    y_pred = np.concatenate([logits, offsets], -1).astype("float32")
    ce = -log_softmax(logits[0])[np.arange(4), [2, 0, 0, 0]]
    # background losses: anchor 1 (1 vs 3) is the hardest; anchors 2 and 3 are ignored
    smooth_l1 = 0.5 * 0.5**2 + (2.0 - 0.5) + 0.5 * 1.0**2  # diffs 0.5, 0, 2, 1
    expected = ce[0] + ce[1] + smooth_l1
    loss = ssd_loss(y_true, y_pred, neg_pos_ratio=1.0)
    assert float(keras.ops.convert_to_numpy(loss)) == pytest.approx(expected, rel=1e-5)
    # ratio 3 takes all three negatives; the box term can be weighted
    loss = ssd_loss(y_true, y_pred, neg_pos_ratio=3.0, box_weight=2.0)
    assert float(keras.ops.convert_to_numpy(loss)) == pytest.approx(
        ce.sum() + 2.0 * smooth_l1, rel=1e-5)
    # two images, one without objects: it adds its ratio x 1 hardest negatives; the sum is
    # divided by the one positive of the whole batch
    background = -log_softmax(logits[0])[:, 0]
    for ratio, worst in ((1.0, 1), (2.0, 2)):
        both = ssd_loss(np.concatenate([y_true, np.zeros_like(y_true)]),
                        np.concatenate([y_pred, y_pred]), neg_pos_ratio=ratio)
        first = ce[0] + np.sort(ce[1:])[-int(ratio):].sum() + smooth_l1
        assert float(keras.ops.convert_to_numpy(both)) == pytest.approx(
            first + np.sort(background)[-worst:].sum(), rel=1e-5)


def test_detector_config_and_errors():
    model = keras_zoo.build("ssd_lite", input_shape=(32, 32, 1), filters=(4, 4, 4, 4),
                            num_classes=2, aspect_ratios=(1.0, 0.5))
    assert model.anchors.shape == ((4 * 4 + 2 * 2) * 2, 4) and model.num_classes == 2
    y = keras.ops.convert_to_numpy(model(np.zeros((1, 32, 32, 1), "float32")))
    assert y.shape == (1, 40, 7)  # (4 * 4 + 2 * 2) cells x 2 boxes; 2 classes + 1 + 4
    clone = SingleShotDetector.from_config(model.get_config())
    np.testing.assert_array_equal(clone.anchors, model.anchors)
    assert clone.neg_pos_ratio == 3.0 and clone.feature_sizes == (4, 2)
    model.compile(optimizer="adam")
    with pytest.raises(ValueError, match="needs targets"):
        model.fit(np.zeros((2, 32, 32, 1), "float32"), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="divisible by 16"):
        keras_zoo.build("ssd_lite", input_shape=(40, 40, 1))


def test_digit_canvases():
    images, boxes, classes = make_digit_canvases(20, size=64, max_digits=3, seed=5)
    again = make_digit_canvases(20, size=64, max_digits=3, seed=5)
    for a, b in zip((images, boxes, classes), again):
        np.testing.assert_array_equal(a, b)
    assert images.shape == (20, 64, 64, 1) and boxes.shape == (20, 3, 4)
    assert images.dtype == np.float32 and 0 <= images.min() and images.max() <= 1
    assert np.all((classes >= 0).sum(1) >= 1) and set(classes.ravel()) <= set(range(-1, 10))
    for image, bs, cs in zip(images, boxes, classes):
        bs = bs[cs >= 0]
        assert np.all((bs >= 0) & (bs <= 1)) and np.all(bs[:, 2:] > bs[:, :2])
        iou = du.iou_matrix(bs, bs)
        assert np.allclose(iou, np.eye(len(bs)))  # digits do not overlap
        for x0, y0, x1, y1 in np.round(bs * 64).astype(int):
            assert image[y0:y1, x0:x1].max() > 0.8  # ink inside every box
            assert 16 <= max(y1 - y0, x1 - x0) <= 30
    test_images, _, _ = make_digit_canvases(20, size=64, max_digits=3, split="test", seed=5)
    assert not np.array_equal(images, test_images)
    with pytest.raises(ValueError, match="split"):
        make_digit_canvases(1, split="valid")
