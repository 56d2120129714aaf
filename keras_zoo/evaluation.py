"""Quality numbers for generated digits: how confidently a LeNet-5 recognises them.

`classifier_confidence(images)`: the fraction of images that the foundation's LeNet-5
(`keras_zoo.build("lenet5")`, trained on the embedded MNIST sample) classifies with a
softmax confidence >= 0.9, the histogram of predicted classes and its entropy. Blurry
or nonsense samples lower the first number; mode collapse (a GAN drawing only a few
digits) shows up as a low entropy / a class with a small share.
"""

import os
import tempfile
from pathlib import Path

import keras
import numpy as np

CONFIDENCE = 0.9
_CACHE_NAME = "keras_zoo_lenet5_mnist_{epochs}epochs.weights.h5"  # one file per setting


def _prepare(images, mean, std):
    """(N, 28, 28, 1) in [0, 1] -> zero-padded to 32x32 and standardised, as LeNet-5 wants."""
    images = np.asarray(images, dtype="float32").reshape(-1, 28, 28, 1)
    return (np.pad(images, ((0, 0), (2, 2), (2, 2), (0, 0))) - mean) / std


def digit_classifier(cache_dir=None, epochs=4, verbose=0):
    """A LeNet-5 trained on the embedded MNIST sample, cached as a weights file.

    The first call trains it (a few seconds: 4,000 digits, `epochs` epochs of Adam) and
    saves the weights to `cache_dir` (default: the system temp folder), in a file named
    after `epochs`; later calls with the same `epochs`, on any backend, load them.

    Args:
        cache_dir: folder for the weights file.
        epochs: training epochs when there is no cache.
        verbose: `fit` verbosity.

    Returns:
        `predict(images) -> probabilities (N, 10)` for images (N, 28, 28, 1) in [0, 1],
        with the model as its `.model` attribute and the test accuracy as `.accuracy`.
    """
    import keras_zoo
    from keras_zoo.datasets import load_mnist

    (x_train, y_train), (x_test, y_test) = load_mnist("embedded")
    padded = np.pad(x_train, ((0, 0), (2, 2), (2, 2), (0, 0)))
    mean, std = float(padded.mean()), float(padded.std())
    model = keras_zoo.build("lenet5")
    path = Path(cache_dir or tempfile.gettempdir()) / _CACHE_NAME.format(epochs=epochs)
    if path.exists():
        model.load_weights(path)
    else:
        model.compile(optimizer=keras.optimizers.Adam(3e-3),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(_prepare(x_train, mean, std), y_train, batch_size=64, epochs=epochs,
                  verbose=verbose)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{os.getpid()}_{path.name}")  # atomic: others may read
        model.save_weights(partial)
        os.replace(partial, path)

    def predict(images):
        logits = model.predict(_prepare(images, mean, std), batch_size=500, verbose=0)
        return keras.ops.convert_to_numpy(keras.ops.softmax(logits, axis=-1))

    predict.model = model
    predict.accuracy = float(np.mean(predict(x_test).argmax(axis=1) == y_test))
    return predict


def class_entropy(counts):
    """Entropy in bits of a histogram of counts (log2(10) = 3.32 for 10 equal classes)."""
    p = np.asarray(counts, dtype="float64")
    p = p[p > 0] / p.sum()
    return float(-(p * np.log2(p)).sum()) + 0.0  # + 0.0: no -0.0


def classifier_confidence(images, classifier=None, threshold=CONFIDENCE):
    """How many generated digits a LeNet-5 recognises confidently, and which.

    Args:
        images: (N, 28, 28, 1) (or (N, 784)) in [0, 1].
        classifier: `digit_classifier()` (built and cached if None).
        threshold: the confidence that counts.

    Returns:
        dict with `confident_fraction` (share with max probability >= threshold),
        `histogram` (predicted-class counts, 10 ints), `entropy` (bits),
        `min_class_fraction` (share of the rarest class) and `classes` (N,).
    """
    images = np.asarray(images, dtype="float32")
    if images.min() < -1e-5 or images.max() > 1 + 1e-5:
        raise ValueError(f"classifier_confidence: images must lie in [0, 1], got "
                         f"[{images.min():.3g}, {images.max():.3g}] (map [-1, 1] with "
                         f"(x + 1) / 2)")
    classifier = classifier or digit_classifier()
    probs = classifier(images)
    classes = probs.argmax(axis=1)
    histogram = np.bincount(classes, minlength=10)
    return {"confident_fraction": float(np.mean(probs.max(axis=1) >= threshold)),
            "histogram": histogram.tolist(), "entropy": class_entropy(histogram),
            "min_class_fraction": float(histogram.min() / len(classes)),
            "classes": classes}
