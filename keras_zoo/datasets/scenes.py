"""Generated scenes for segmentation and detection: NumPy only, the same for a given seed.

- `make_shape_scenes`: circles, squares and triangles (apart from each other) on noisy,
  shaded backgrounds with a per-pixel class mask (0 background, 1 circle, 2 square,
  3 triangle). A shape may be brighter or darker than what lies around it, so a
  threshold cannot segment it: the network has to recognise the outline.
- `make_digit_canvases`: several MNIST digits (`load_mnist`, embedded by default) pasted
  at random sizes and places on a noisy canvas, with their boxes and digit classes, for
  the single-shot detector. Training canvases use training digits, test canvases test
  digits.

Boxes are corners `(x_min, y_min, x_max, y_max)` relative to the canvas size (in [0, 1]).
"""

import functools

import numpy as np

from keras_zoo.datasets import load_mnist

SHAPE_CLASSES = ("background", "circle", "square", "triangle")


def _background(rng, size):
    """A random linear shade, between 0.15 and 0.85: (size, size)."""
    yy, xx = np.mgrid[0:size, 0:size] / max(size - 1, 1)
    base = rng.uniform(0.3, 0.7)
    slope_y, slope_x = rng.uniform(-0.3, 0.3, size=2)
    return base + slope_y * (yy - 0.5) + slope_x * (xx - 0.5)


def _shape_mask(kind, size, cy, cx, radius, angle):
    """Boolean (size, size) mask of a circle, square (rotated) or triangle (rotated)."""
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    dy, dx = yy - cy, xx - cx
    if kind == 1:  # circle
        return dy**2 + dx**2 <= radius**2
    c, s = np.cos(angle), np.sin(angle)
    u, v = c * dx + s * dy, -s * dx + c * dy  # rotated coordinates
    if kind == 2:  # square of half-side 0.85 r (about the circle's area)
        return (np.abs(u) <= 0.85 * radius) & (np.abs(v) <= 0.85 * radius)
    # equilateral triangle inscribed in a circle of radius 1.2 r: three half-planes
    inside = np.ones_like(u, dtype=bool)
    for k in range(3):
        a = angle + 2 * np.pi * k / 3
        inside &= np.cos(a) * dx + np.sin(a) * dy <= 0.6 * radius
    return inside


def make_shape_scenes(n, size=48, max_shapes=3, noise=0.08, seed=0):
    """Scenes of 1..`max_shapes` shapes with their per-pixel class masks.

    Args:
        n: number of scenes.
        size: height and width in pixels.
        max_shapes: most shapes per scene (they do not overlap).
        noise: standard deviation of the Gaussian pixel noise.
        seed: NumPy seed; the same seed gives the same scenes.

    Returns:
        images float32 (n, size, size, 1) in [0, 1]; masks int32 (n, size, size) with
        values indexing `SHAPE_CLASSES`.
    """
    rng = np.random.default_rng(seed)
    images = np.zeros((n, size, size, 1), dtype="float32")
    masks = np.zeros((n, size, size), dtype="int32")
    for i in range(n):
        image, mask = _background(rng, size), masks[i]
        placed = []  # (cy, cx, radius) of the shapes so far
        for _ in range(rng.integers(1, max_shapes + 1)):
            kind = int(rng.integers(1, 4))
            radius = rng.uniform(0.12, 0.2) * size
            for _attempt in range(20):  # a place clear of the other shapes
                cy, cx = rng.uniform(radius, size - radius, size=2)
                if all(np.hypot(cy - y, cx - x) > 1.25 * (radius + r) for y, x, r in placed):
                    break
            else:
                continue
            placed.append((cy, cx, radius))
            angle = rng.uniform(-0.3, 0.3)  # squares and triangles stand roughly upright
            inside = _shape_mask(kind, size, cy, cx, radius, angle)
            contrast = rng.uniform(0.2, 0.4) * rng.choice([-1.0, 1.0])
            image[inside] = image[inside].mean() + contrast
            mask[inside] = kind
        image = image + noise * rng.standard_normal((size, size))
        images[i, :, :, 0] = np.clip(image, 0.0, 1.0)
    return images, masks


def _resize(image, height, width):
    """Bilinear resize of a 2-D array (NumPy, align-corners=False)."""
    h, w = image.shape
    ys = np.clip((np.arange(height) + 0.5) * h / height - 0.5, 0, h - 1)
    xs = np.clip((np.arange(width) + 0.5) * w / width - 0.5, 0, w - 1)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    fy, fx = (ys - y0)[:, None], (xs - x0)[None, :]
    top = image[y0][:, x0] * (1 - fx) + image[y0][:, x1] * fx
    bottom = image[y1][:, x0] * (1 - fx) + image[y1][:, x1] * fx
    return top * (1 - fy) + bottom * fy


def _ink_box(digit, threshold=0.3):
    """Tight (y0, x0, y1, x1) pixel box of a digit's ink (end exclusive)."""
    rows, cols = np.flatnonzero(digit.max(1) > threshold), np.flatnonzero(digit.max(0) > threshold)
    return rows[0], cols[0], rows[-1] + 1, cols[-1] + 1


@functools.lru_cache(maxsize=2)
def _mnist(data):
    """`load_mnist(data)`, read once per process (the arrays are only read from)."""
    return load_mnist(data)


def make_digit_canvases(n, size=64, max_digits=3, digit_sizes=(16, 30), noise=0.05,
                        split="train", seed=0, data="embedded"):
    """Canvases with 1..`max_digits` non-overlapping MNIST digits, their boxes and classes.

    Each digit is cropped to its ink, scaled so that its longer side is drawn from
    `digit_sizes` (pixels), and pasted (by maximum) where its box does not touch another.

    Args:
        n: number of canvases.
        size: canvas height and width in pixels.
        max_digits: most digits per canvas.
        digit_sizes: (smallest, largest) longer side of a digit, in pixels.
        noise: standard deviation of the background noise (clipped to [0, 1]).
        split: "train" or "test": which MNIST digits to paste.
        seed: NumPy seed.
        data: passed to `load_mnist` ("embedded" needs no network).

    Returns:
        images float32 (n, size, size, 1); boxes float32 (n, max_digits, 4) as relative
        (x_min, y_min, x_max, y_max); classes int32 (n, max_digits) with the digit, -1 in
        unused rows (padding).
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    (x_train, y_train), (x_test, y_test) = _mnist(data)
    digits, labels = (x_train, y_train) if split == "train" else (x_test, y_test)
    rng = np.random.default_rng(seed)
    images = np.abs(noise * rng.standard_normal((n, size, size, 1))).astype("float32")
    boxes = np.zeros((n, max_digits, 4), dtype="float32")
    classes = np.full((n, max_digits), -1, dtype="int32")
    for i in range(n):
        placed = []  # pixel boxes (y0, x0, y1, x1)
        for _ in range(rng.integers(1, max_digits + 1)):
            k = rng.integers(len(digits))
            y0, x0, y1, x1 = _ink_box(digits[k, :, :, 0])
            ink = digits[k, y0:y1, x0:x1, 0]
            scale = rng.integers(digit_sizes[0], digit_sizes[1] + 1) / max(ink.shape)
            height, width = (max(2, round(side * scale)) for side in ink.shape)
            for _attempt in range(20):
                top, left = rng.integers(0, size - height + 1), rng.integers(0, size - width + 1)
                box = (top, left, top + height, left + width)
                if all(box[0] >= b[2] + 1 or box[2] + 1 <= b[0] or box[1] >= b[3] + 1
                       or box[3] + 1 <= b[1] for b in placed):
                    break
            else:
                continue  # no free place: fewer digits on this canvas
            j = len(placed)
            placed.append(box)
            patch = np.clip(_resize(ink, height, width), 0, 1)
            region = images[i, top:top + height, left:left + width, 0]
            np.maximum(region, patch, out=region)
            boxes[i, j] = np.array([left, top, left + width, top + height]) / size
            classes[i, j] = labels[k]
    return np.clip(images, 0, 1), boxes, classes
