"""`keras_zoo.load`: files saved on another backend train here, and bad files say why."""

import json
import zipfile

import keras
import numpy as np
import pytest
from helpers import set_deterministic_weights

import keras_zoo


def rewrite_config(src, dst, edit):
    with zipfile.ZipFile(src) as archive, zipfile.ZipFile(dst, "w") as out:
        for item in archive.infolist():
            data = archive.read(item.filename)
            if item.filename == "config.json":
                config = json.loads(data)
                edit(config)
                data = json.dumps(config).encode()
            out.writestr(item, data)


@pytest.fixture
def compiled_file(tmp_path, mnist_small):
    model = set_deterministic_weights(keras_zoo.build("mlp", units=(16,)))
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    x, y = mnist_small[0][:64], mnist_small[1][:64]
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)  # optimizer state: 2 steps
    model.save(tmp_path / "mlp.keras")
    return tmp_path / "mlp.keras", model, (x, y)


def test_a_file_saved_with_another_backends_compile_settings_trains_here(compiled_file,
                                                                         tmp_path):
    """As if saved on PyTorch with jit_compile on: the torch optimizer class (which makes
    TensorFlow's first fit step fail) and jit_compile=True (torch.compile on PyTorch)."""
    path, model, (x, y) = compiled_file

    def as_saved_elsewhere(config):
        config["compile_config"]["optimizer"]["module"] = (
            "keras.src.backend.torch.optimizers.torch_adam")
        config["compile_config"]["jit_compile"] = True

    foreign = tmp_path / "foreign.keras"
    rewrite_config(path, foreign, as_saved_elsewhere)
    loaded = keras_zoo.load(foreign)
    assert loaded.compiled and loaded.optimizer is not None  # still compiled
    assert int(loaded.optimizer.iterations) == 2  # optimizer state restored
    for a, b in zip(loaded.weights, model.weights, strict=True):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a),
                                      keras.ops.convert_to_numpy(b))
    history = loaded.fit(x, y, batch_size=32, epochs=1, verbose=0).history
    assert np.isfinite(history["loss"][0]) and int(loaded.optimizer.iterations) == 4


def test_a_missing_truncated_or_foreign_file_says_what_is_wrong(compiled_file, tmp_path):
    path, _, _ = compiled_file
    with pytest.raises(FileNotFoundError, match="keras_zoo.load: no file"):
        keras_zoo.load(tmp_path / "nope.keras")
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ValueError, match="is not a complete .keras archive.*truncated"):
        keras_zoo.load(truncated)
    weights = tmp_path / "mlp.weights.h5"
    keras.saving.load_model(path).save_weights(weights)
    with pytest.raises(ValueError, match="is not a complete .keras archive"):
        keras_zoo.load(weights)


def test_an_unregistered_class_names_itself(compiled_file, tmp_path):
    path, _, _ = compiled_file

    def unknown_layer(config):
        layer = config["config"]["layers"][1]
        layer["class_name"], layer["registered_name"] = "NoSuchLayer", "other_pkg>NoSuchLayer"
        layer["module"] = None

    odd = tmp_path / "odd.keras"
    rewrite_config(path, odd, unknown_layer)
    with pytest.raises(ValueError, match="uses a class that is not registered here.*import "
                                         "the package that defines it"):
        keras_zoo.load(odd)
