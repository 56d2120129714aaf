"""Bad input gives a clear error that says what was expected."""

import subprocess
import sys

import keras
import numpy as np
import pytest
from helpers import subprocess_env

import keras_zoo
from keras_zoo import datasets
from keras_zoo.models.rnn import apply_recurrent_stack

pytestmark = pytest.mark.bad_input


def test_unknown_model_name():
    with pytest.raises(ValueError, match=r"Unknown model 'lenet'\. Did you mean 'lenet5'"):
        keras_zoo.build("lenet")
    with pytest.raises(ValueError, match="Did you mean 'lstm_forecaster'"):
        keras_zoo.build("lstm_forcaster")
    with pytest.raises(ValueError) as err:
        keras_zoo.build("qqq")
    assert "Did you mean" not in str(err.value) and "list_models()" in str(err.value)


def test_unknown_build_argument():
    with pytest.raises(ValueError, match=r"mlp\(\) got unknown argument\(s\) \['hidden'\]"):
        keras_zoo.build("mlp", hidden=(10,))
    with pytest.raises(ValueError, match="units=\\(512, 512\\)"):
        keras_zoo.build("mlp", hidden=(10,))


ZERO_ALLOWED = {"dropout", "noise_stddev", "weight_decay"}


@pytest.mark.parametrize("name", keras_zoo.list_models())
def test_meaningless_arguments_are_refused_by_name(name):
    """Every int and float argument of every builder: 0, -1 and a wrong type are refused
    before anything is built, with the argument, the value and what is allowed."""
    tried = 0
    for key, default in keras_zoo.model_info(name).defaults.items():
        if isinstance(default, bool) or not isinstance(default, (int, float)):
            continue
        bad = [-1, str(default)] + ([] if key in ZERO_ALLOWED else [0])
        if isinstance(default, int):
            bad.append(float(default) + 0.5)
        for value in bad:
            with pytest.raises(ValueError, match=rf"{name}: {key}={value!r} is not allowed; "
                                                 rf"expected "):
                keras_zoo.build(name, **{key: value})
            tried += 1
    assert tried >= 3, f"{name}: only {tried} cases tried"


@pytest.mark.parametrize("overrides,match", [
    ({"units": (512, 0)}, r"units=\(512, 0\) is not allowed; expected positive ints"),
    ({"units": 512}, r"units=512 is not allowed; expected a tuple or list"),
    ({"dropout": 1.0}, r"dropout=1.0 is not allowed; expected a rate in \[0, 1\)"),
    ({"dropout": float("nan")}, r"dropout=nan is not allowed"),
])
def test_tuple_and_rate_arguments_are_checked(overrides, match):
    with pytest.raises(ValueError, match=match):
        keras_zoo.build("mlp", **overrides)


def test_build_needs_a_name_string():
    with pytest.raises(TypeError, match="model name must be a string such as 'lenet5', got None"):
        keras_zoo.build(None)


def test_arguments_that_only_fail_together_name_both():
    with pytest.raises(ValueError, match=r"num_heads=3 must divide the model width dim=16"):
        keras_zoo.build("transformer_classifier", dim=16, num_heads=3)
    with pytest.raises(ValueError, match=r"lenet5: input_shape=\(28, 28, 1\) is too small; "
                                         r"C5's 5x5 convolution needs at least 32x32"):
        keras_zoo.build("lenet5", input_shape=(28, 28, 1))


def test_wrong_input_shape_names_the_expected_shape():
    model = keras_zoo.build("lenet5")
    with pytest.raises(ValueError, match=r"expected shape=\(None, 32, 32, 1\)"):
        model(np.zeros((2, 28, 28, 1), dtype="float32"))


def test_wrong_input_shape_in_predict():
    model = keras_zoo.build("lenet5")
    with pytest.raises(ValueError, match=r"expected shape=\(None, 32, 32, 1\)"):
        model.predict(np.zeros((2, 28, 28, 1), dtype="float32"), verbose=0)


def test_wrong_window_length_for_a_forecaster():
    model = keras_zoo.build("gru_forecaster", units=4)
    with pytest.raises(ValueError, match=r"expected shape=\(None, 12, 1\)"):
        model(np.zeros((2, 8, 1), dtype="float32"))


@pytest.mark.parametrize("predict", [False, True], ids=["call", "predict"])
def test_wrong_channel_count_names_the_expected_shape(predict):
    """Keras' own functional-model check skips a last axis of size 1 (and JAX's predict
    skips it altogether); keras_zoo's InputShapeCheck layer catches both."""
    cases = [("gru_forecaster", {"units": 4}, (2, 12, 3), r"\(None, 12, 1\)"),
             ("lenet5", {}, (2, 32, 32, 3), r"\(None, 32, 32, 1\)")]
    for name, overrides, shape, expected in cases:
        model = keras_zoo.build(name, **overrides)
        x = np.zeros(shape, dtype="float32")
        with pytest.raises(ValueError, match=f"expected shape={expected}"):
            model.predict(x, verbose=0) if predict else model(x)


def test_input_check_survives_save_and_load(tmp_path):
    keras_zoo.build("lenet5").save(tmp_path / "lenet5.keras")
    model = keras.saving.load_model(tmp_path / "lenet5.keras")  # safe mode
    assert isinstance(model.get_layer("image_check"), keras_zoo.layers.InputShapeCheck)
    with pytest.raises(ValueError, match=r"expected shape=\(None, 32, 32, 1\)"):
        model(np.zeros((2, 32, 32, 3), dtype="float32"))


def test_invalid_data_choice():
    with pytest.raises(ValueError, match="data must be one of \\('embedded', 'full'\\), got 'all'"):
        datasets.load_mnist(data="all")


def test_invalid_recurrent_cell():
    with pytest.raises(ValueError, match=r"cell must be one of \['gru', 'lstm', 'rnn'\]"):
        apply_recurrent_stack(keras.Input(shape=(5, 1)), "transformer", units=4)


@pytest.mark.parametrize("code", ["import keras_zoo", "import keras, keras_zoo"])
def test_unknown_keras_backend(code):
    """keras_zoo checks KERAS_BACKEND before importing keras, so its message comes first."""
    env = subprocess_env("numpyy")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env=env)
    assert proc.returncode != 0
    if code == "import keras_zoo":
        assert "KERAS_BACKEND='numpyy' is not supported by keras_zoo" in proc.stderr
        assert "expected one of tensorflow, jax, torch" in proc.stderr
    else:  # keras itself fails first (3.15: "ValueError: Unable to import backend : numpyy",
        # which names no valid backend); keras_zoo cannot run before it
        assert "numpyy" in proc.stderr


def test_unknown_keras_backend_cli():
    proc = subprocess.run([sys.executable, "-m", "keras_zoo", "list"], capture_output=True,
                          text=True, timeout=120, env=subprocess_env("numpyy"))
    assert proc.returncode != 0
    assert "expected one of tensorflow, jax, torch" in proc.stderr
