"""Boxes and overlaps in NumPy: default boxes, IoU, matching, encoding, NMS, mAP.

The data side and the evaluation of the single-shot detector (`keras_zoo.models.detection`),
after Liu et al., "SSD: Single Shot MultiBox Detector", ECCV 2016 (the lecture's figure:
"(a) Image with GT boxes (b) 8x8 feature map (c) 4x4 feature map"), and the segmentation
metric (mean IoU over classes). Everything here is NumPy; the loss that runs inside the
model is `keras_zoo.models.detection.ssd_loss` (keras.ops).

Boxes are corners `(x_min, y_min, x_max, y_max)` relative to the image size, or centres
`(cx, cy, w, h)` where a name says so. Classes in encoded targets: 0 is background,
digit/object class c is c + 1.
"""

import numpy as np

VARIANCES = (0.1, 0.2)  # SSD's scaling of the centre and size offsets


def to_center(boxes):
    """Corners (..., 4) -> centres (cx, cy, w, h)."""
    boxes = np.asarray(boxes, dtype="float64")
    wh = boxes[..., 2:] - boxes[..., :2]
    return np.concatenate([boxes[..., :2] + wh / 2, wh], axis=-1)


def to_corners(boxes):
    """Centres (cx, cy, w, h) (..., 4) -> corners (x_min, y_min, x_max, y_max)."""
    boxes = np.asarray(boxes, dtype="float64")
    return np.concatenate([boxes[..., :2] - boxes[..., 2:] / 2,
                           boxes[..., :2] + boxes[..., 2:] / 2], axis=-1)


def default_boxes(feature_sizes=(8, 4), scales=(0.2, 0.4), aspect_ratios=(1.0, 0.5, 1 / 3)):
    """SSD's default boxes (anchors): one per aspect ratio at the centre of every cell.

    A cell (i, j) of an f x f map has centre ((j + 0.5) / f, (i + 0.5) / f); a box of scale
    s and aspect ratio a = w / h has w = s sqrt(a), h = s / sqrt(a). The order (map, row,
    column, ratio) is the order of the detector's reshaped head outputs.

    Args:
        feature_sizes: side of each square feature map, e.g. (8, 4).
        scales: box scale per feature map (relative to the image).
        aspect_ratios: width / height ratios at every cell.

    Returns:
        float32 (sum(f * f) * len(aspect_ratios), 4) anchors as corners.
    """
    if len(scales) != len(feature_sizes):
        raise ValueError(f"need one scale per feature map, got {scales} for {feature_sizes}")
    anchors = []
    for f, s in zip(feature_sizes, scales):
        centres = (np.arange(f) + 0.5) / f
        cy, cx = np.meshgrid(centres, centres, indexing="ij")  # (f, f), row-major
        for_ratio = [np.stack([cx, cy, np.full_like(cx, s * np.sqrt(a)),
                               np.full_like(cx, s / np.sqrt(a))], axis=-1) for a in aspect_ratios]
        anchors.append(np.stack(for_ratio, axis=2).reshape(-1, 4))  # (f * f * k, 4)
    return to_corners(np.concatenate(anchors)).astype("float32")


def iou_matrix(boxes_a, boxes_b):
    """Intersection over union of every pair: (N, 4) x (M, 4) corners -> (N, M)."""
    a, b = np.asarray(boxes_a, "float64")[:, None], np.asarray(boxes_b, "float64")[None]
    low, high = np.maximum(a[..., :2], b[..., :2]), np.minimum(a[..., 2:], b[..., 2:])
    inter = np.prod(np.clip(high - low, 0, None), axis=-1)
    area_a = np.prod(a[..., 2:] - a[..., :2], axis=-1)
    area_b = np.prod(b[..., 2:] - b[..., :2], axis=-1)
    union = area_a + area_b - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def encode_boxes(boxes, anchors, variances=VARIANCES):
    """Offsets of boxes relative to anchors (both corners, (..., 4)): SSD's g-hat.

    (cx - acx) / (aw v0), (cy - acy) / (ah v0), log(w / aw) / v1, log(h / ah) / v1.
    """
    b, a = to_center(boxes), to_center(anchors)
    centre = (b[..., :2] - a[..., :2]) / (a[..., 2:] * variances[0])
    size = np.log(np.maximum(b[..., 2:], 1e-8) / a[..., 2:]) / variances[1]
    return np.concatenate([centre, size], axis=-1).astype("float32")


def decode_boxes(offsets, anchors, variances=VARIANCES):
    """Inverse of `encode_boxes`: offsets (..., 4) and anchors -> corners."""
    offsets, a = np.asarray(offsets, "float64"), to_center(anchors)
    centre = a[..., :2] + offsets[..., :2] * variances[0] * a[..., 2:]
    size = a[..., 2:] * np.exp(np.clip(offsets[..., 2:] * variances[1], -10, 10))
    return to_corners(np.concatenate([centre, size], axis=-1)).astype("float32")


def match_boxes(boxes, classes, anchors, iou_threshold=0.5):
    """Targets of one image: each anchor gets the ground-truth box it overlaps best.

    An anchor is positive when its best IoU is >= `iou_threshold`; besides, every box
    claims its own best anchor (so small or thin boxes are never left unmatched).

    Args:
        boxes: (M, 4) ground-truth corners; rows with class < 0 are padding.
        classes: (M,) integer classes (0-based), -1 for padding.
        anchors: (A, 4) default boxes.
        iou_threshold: positive-match threshold.

    Returns:
        float32 (A, 5): column 0 the target class (0 background, c + 1 object), columns
        1..4 the encoded offsets (zero for background anchors).
    """
    keep = np.asarray(classes) >= 0
    boxes, classes = np.asarray(boxes)[keep], np.asarray(classes)[keep]
    targets = np.zeros((len(anchors), 5), dtype="float32")
    if len(boxes) == 0:
        return targets
    iou = iou_matrix(anchors, boxes)  # (A, M)
    best = iou.argmax(axis=1)
    positive = iou[np.arange(len(anchors)), best] >= iou_threshold
    for m, a in enumerate(iou.argmax(axis=0)):  # every box claims its best anchor
        best[a], positive[a] = m, True
    targets[positive, 0] = classes[best[positive]] + 1
    targets[positive, 1:] = encode_boxes(boxes[best[positive]], anchors[positive])
    return targets


def encode_targets(boxes, classes, anchors, iou_threshold=0.5):
    """`match_boxes` for a batch: (N, M, 4), (N, M) -> float32 (N, A, 5)."""
    return np.stack([match_boxes(b, c, anchors, iou_threshold) for b, c in zip(boxes, classes)])


def non_max_suppression(boxes, scores, iou_threshold=0.45, max_outputs=None):
    """Greedy NMS: keep the best box, drop those overlapping it by more than the threshold.

    Returns:
        int indices of the kept boxes, best score first.
    """
    order = np.argsort(-np.asarray(scores), kind="stable")
    keep = []
    while order.size and (max_outputs is None or len(keep) < max_outputs):
        i, order = order[0], order[1:]
        keep.append(i)
        order = order[iou_matrix(np.asarray(boxes)[[i]], np.asarray(boxes)[order])[0]
                      <= iou_threshold]
    return np.array(keep, dtype="int64")


def decode_detections(predictions, anchors, score_threshold=0.1, iou_threshold=0.45,
                      max_detections=20):
    """The detector's raw outputs -> boxes, scores, classes per image (softmax, NMS per class).

    Args:
        predictions: (N, A, num_classes + 1 + 4): class logits (background first) then offsets.
        anchors: (A, 4) default boxes.
        score_threshold: lowest class probability kept.
        iou_threshold: NMS overlap threshold (per class).
        max_detections: most detections per image, best first.

    Returns:
        list of N tuples (boxes (K, 4), scores (K,), classes (K,) 0-based).
    """
    predictions = np.asarray(predictions, dtype="float64")
    logits = predictions[..., :-4]
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    results = []
    for p, offsets in zip(probs, predictions[..., -4:]):
        decoded = np.clip(decode_boxes(offsets, anchors), 0, 1)
        found = []
        for c in range(1, p.shape[-1]):
            idx = np.flatnonzero(p[:, c] >= score_threshold)
            kept = idx[non_max_suppression(decoded[idx], p[idx, c], iou_threshold)]
            found += [(p[k, c], c - 1, decoded[k]) for k in kept]
        found = sorted(found, key=lambda t: -t[0])[:max_detections]
        results.append((np.array([f[2] for f in found], "float32").reshape(-1, 4),
                        np.array([f[0] for f in found], "float32"),
                        np.array([f[1] for f in found], "int32")))
    return results


def average_precision(recall, precision):
    """Area under the precision-recall curve, all points interpolated (PASCAL VOC 2010+)."""
    r = np.concatenate([[0.0], recall, [1.0]])
    p = np.concatenate([[0.0], precision, [0.0]])
    p = np.maximum.accumulate(p[::-1])[::-1]  # precision envelope
    steps = np.flatnonzero(r[1:] != r[:-1])
    return float(np.sum((r[steps + 1] - r[steps]) * p[steps + 1]))


def mean_average_precision(detections, boxes, classes, num_classes, iou_threshold=0.5):
    """mAP@`iou_threshold`: average precision per class, averaged over classes that occur.

    A detection is a true positive when it overlaps a not yet claimed ground-truth box of
    its class by IoU >= `iou_threshold` (detections taken best score first over the set).

    Args:
        detections: list per image of (boxes, scores, classes), as `decode_detections`.
        boxes: (N, M, 4) ground-truth corners.
        classes: (N, M) ground-truth classes, -1 for padding.
        num_classes: number of object classes.
        iou_threshold: IoU needed to count a detection as correct.

    Returns:
        (mAP, per-class AP array with NaN for classes without ground truth).
    """
    ap = np.full(num_classes, np.nan)
    for c in range(num_classes):
        truth = [np.asarray(b)[np.asarray(k) == c] for b, k in zip(boxes, classes)]
        total = sum(len(t) for t in truth)
        if total == 0:
            continue
        found = [(s, i, b) for i, (bx, sc, cl) in enumerate(detections)
                 for b, s, k in zip(bx, sc, cl) if k == c]
        found.sort(key=lambda t: -t[0])
        claimed = [np.zeros(len(t), bool) for t in truth]
        hits = np.zeros(len(found))
        for d, (_, i, box) in enumerate(found):
            if len(truth[i]):
                overlaps = iou_matrix(box[None], truth[i])[0]
                j = overlaps.argmax()
                if overlaps[j] >= iou_threshold and not claimed[i][j]:
                    claimed[i][j], hits[d] = True, 1
        tp = np.cumsum(hits)
        precision = tp / np.maximum(np.arange(1, len(found) + 1), 1)
        ap[c] = average_precision(tp / total, precision) if len(found) else 0.0
    return float(np.nanmean(ap)), ap
