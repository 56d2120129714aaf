"""`keras_zoo.load`: files saved on another backend train here, and bad files say why;
`keras_zoo.plain_keras`: files that load without keras_zoo."""

import json
import subprocess
import sys
import zipfile

import keras
import numpy as np
import pytest
from helpers import set_deterministic_weights, subprocess_env

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


@pytest.mark.bad_input
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


@pytest.mark.bad_input
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


@pytest.mark.bad_input
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


# ------------------------------------------------ plain_keras: files that load without keras_zoo

PLAIN = {"lenet5": {}, "lstm_forecaster": {"units": 8}, "seq2seq": {"units": 8},
         "unet": {"filters": (4, 8)}}

LOAD_WITHOUT_KERAS_ZOO = """
import sys
sys.modules["keras_zoo"] = None  # importing keras_zoo now fails: plain Keras only
import keras
import numpy as np
for name in sys.argv[2:]:
    data = np.load(f"{sys.argv[1]}/{name}.npz")
    model = keras.saving.load_model(f"{sys.argv[1]}/{name}.keras")  # safe mode
    inputs = [data[k] for k in sorted(data.files) if k.startswith("x")]
    y = keras.ops.convert_to_numpy(model(inputs if len(inputs) > 1 else inputs[0]))
    print(name, float(np.max(np.abs(y - data["y"]))), type(model).__name__)
"""


def test_plain_keras_copies_load_where_keras_zoo_is_not_installed(tmp_path, backend):
    for name, overrides in PLAIN.items():
        model = set_deterministic_weights(keras_zoo.build(name, **overrides))
        plain = keras_zoo.plain_keras(model)
        assert not any("keras_zoo" in type(layer).__module__ for layer in plain.layers)
        x, _ = keras_zoo.example_batch(name, model)
        y = keras.ops.convert_to_numpy(model(x))
        # Keras' own LSTM where keras_zoo's ran PyTorch's fused kernel: rounding apart
        np.testing.assert_allclose(keras.ops.convert_to_numpy(plain(x)), y, rtol=1e-6, atol=1e-7)
        plain.save(tmp_path / f"{name}.keras")
        xs = x if isinstance(x, list) else [x]
        np.savez(tmp_path / f"{name}.npz", y=y, **{f"x{i}": v for i, v in enumerate(xs)})
    result = subprocess.run([sys.executable, "-c", LOAD_WITHOUT_KERAS_ZOO, str(tmp_path),
                             *PLAIN], capture_output=True, text=True, timeout=300,
                            env=subprocess_env(backend))
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.split("\n")[-len(PLAIN) - 1:-1]
    for line, name in zip(lines, PLAIN, strict=True):
        got, err, kind = line.split()
        assert got == name and kind == "Functional" and float(err) < 1e-5, line


@pytest.mark.bad_input
@pytest.mark.parametrize("name,match", [
    ("vit", r"vit uses keras_zoo layers \(ClassToken, PatchEmbedding, PositionEmbedding\)"),
    ("gan_mlp", "gan_mlp is a subclassed model"),
])
def test_plain_keras_names_what_needs_keras_zoo(name, match):
    model = keras_zoo.build(name, **keras_zoo.model_info(name).smoke)
    with pytest.raises(ValueError, match=match):
        keras_zoo.plain_keras(model)
