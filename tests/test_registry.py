"""Every registered model: build, forward shape, one training step, save -> load.

Parametrized over `keras_zoo.list_models()` (as in timm): registering a model is enough
to get it tested here. Models are built with their `smoke` overrides (small and fast).
Also the registry API itself and `python -m keras_zoo list`.
"""

import re
import subprocess
import sys

import keras
import numpy as np
import pytest
from helpers import forward, subprocess_env

import keras_zoo
from keras_zoo import registry
from keras_zoo.__main__ import main

MODELS = keras_zoo.list_models()
LECTURE_PARAMS = {"lenet5": 61_706, "mlp": 669_706}  # lecture tables / quick-start network


def output_width(model):
    return model.outputs[0].shape[-1]


def targets(info, model, batch, rng):
    """Integer labels for classification, real values for regression."""
    if info.task == "classification":
        return rng.integers(0, output_width(model), size=(batch,)).astype("int32")
    return rng.normal(size=(batch, output_width(model))).astype("float32")


def compile_for(info, model, learning_rate=1e-2):
    loss = (keras.losses.SparseCategoricalCrossentropy(from_logits=True)
            if info.task == "classification" else keras.losses.MeanSquaredError())
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss)
    return model


# ---------------------------------------------------------------- every registered model


@pytest.mark.parametrize("name", MODELS)
def test_model_info(name):
    info = keras_zoo.model_info(name)
    assert info.name == name
    assert info.task in registry.TASKS
    assert info.summary, f"{name}: the builder needs a docstring (its first line is the summary)"
    assert set(info.smoke) <= set(info.defaults), f"{name}: smoke overrides unknown arguments"
    assert name in keras_zoo.list_models(family=info.family)


@pytest.mark.parametrize("name", MODELS)
def test_build_and_forward_shape(name, build_deterministic, make_input):
    info = keras_zoo.model_info(name)
    model = build_deterministic(name, **info.smoke)
    assert isinstance(model, keras.Model)
    assert model.name == name, "a model is named after its registry key"
    assert model.built and model.count_params() > 0
    x = make_input(model, batch=3)
    y = forward(model, x)
    key = "num_classes" if info.task == "classification" else "horizon"
    width = info.smoke.get(key, info.defaults.get(key, 1))
    assert y.shape == (3, width)
    assert y.dtype == np.float32
    assert np.all(np.isfinite(y))
    assert np.std(y) > 0, "output does not depend on the input or the weights"


@pytest.mark.parametrize("name", MODELS)
def test_overrides_change_the_output_width(name):
    info = keras_zoo.model_info(name)
    key = "num_classes" if info.task == "classification" else "horizon"
    if key not in info.defaults:
        pytest.skip(f"{name} has no {key!r} argument")
    model = keras_zoo.build(name, **{**info.smoke, key: 3})
    assert tuple(model.outputs[0].shape) == (None, 3)


@pytest.mark.parametrize("name", MODELS)
def test_training_steps_lower_the_loss(name, build_deterministic, make_input, rng):
    """Ten Adam steps on one fixed batch: the loss goes down and every weight moves."""
    info = keras_zoo.model_info(name)
    model = compile_for(info, build_deterministic(name, **info.smoke))
    x = make_input(model, batch=16, seed=2)
    y = targets(info, model, 16, rng)
    initial = [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]
    before = float(model.test_on_batch(x, y))
    for _ in range(10):
        model.train_on_batch(x, y)
    after = float(model.test_on_batch(x, y))
    assert np.isfinite(after)
    assert after < 0.97 * before, f"{name}: loss {before:.4f} -> {after:.4f} on one fixed batch"
    frozen = [w.path for w, w0 in zip(model.trainable_weights, initial)
              if np.array_equal(keras.ops.convert_to_numpy(w), w0)]
    assert not frozen, f"{name}: no gradient reached {frozen}"


@pytest.mark.parametrize("name", MODELS)
def test_save_load_round_trip(name, build_deterministic, make_input, tmp_path):
    info = keras_zoo.model_info(name)
    model = build_deterministic(name, **info.smoke)
    x = make_input(model)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)  # safe_mode=True: no lambdas, registered classes
    assert loaded.name == name
    assert [w.path for w in loaded.weights] == [w.path for w in model.weights]
    for a, b in zip(model.weights, loaded.weights):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a),
                                      keras.ops.convert_to_numpy(b), err_msg=a.path)
    np.testing.assert_allclose(forward(loaded, x), forward(model, x), rtol=1e-6, atol=1e-7)


# ---------------------------------------------------------------------------- registry API


def test_list_models():
    assert MODELS == sorted(MODELS)
    assert {"mlp", "lenet5", "cnn_from_spec", "rnn_forecaster", "gru_forecaster",
            "lstm_forecaster"} <= set(MODELS)
    assert keras_zoo.list_models("*_forecaster") == [
        "gru_forecaster", "lstm_forecaster", "rnn_forecaster"]
    assert keras_zoo.list_models(family="cnn") == ["cnn_from_spec", "lenet5"]
    assert keras_zoo.list_models(family="mlp") == ["mlp"]
    assert keras_zoo.list_models("l*", family="cnn") == ["lenet5"]
    assert keras_zoo.list_models("l*", family="rnn") == ["lstm_forecaster"]
    assert keras_zoo.list_models("no_such_model*") == []
    assert keras_zoo.list_models(family="no_such_family") == []
    assert {"mlp", "cnn", "rnn"} <= set(keras_zoo.list_families())


def test_model_info_fields():
    info = keras_zoo.model_info("lenet5")
    assert (info.family, info.task) == ("cnn", "classification")
    assert info.defaults["input_shape"] == (32, 32, 1)
    assert info.defaults["num_classes"] == 10
    assert keras_zoo.model_info("lstm_forecaster").task == "regression"
    assert keras_zoo.model_info("mlp").family == "mlp"


@pytest.mark.parametrize("name,count", sorted(LECTURE_PARAMS.items()))
def test_lecture_parameter_counts(name, count):
    assert keras_zoo.build(name).count_params() == count


def test_unknown_name_suggests_the_closest():
    with pytest.raises(ValueError, match="'lenet5'") as err:
        keras_zoo.build("lenet")
    assert "Unknown model 'lenet'" in str(err.value)
    with pytest.raises(ValueError, match="Known models: .*mlp"):
        keras_zoo.model_info("definitely_not_a_model")


def test_unknown_kwarg_lists_the_valid_ones():
    with pytest.raises(ValueError, match="num_clases") as err:
        keras_zoo.build("lenet5", num_clases=3)
    message = str(err.value)
    assert "num_classes=10" in message and "input_shape=(32, 32, 1)" in message


@pytest.fixture
def scratch_registry(monkeypatch):
    """A copy of the registry that the test may add to; the real one is left as it was."""
    monkeypatch.setattr(registry, "_MODELS", dict(registry._MODELS))
    return registry


def test_register_a_new_model(scratch_registry):
    @keras_zoo.register_model(task="regression", smoke={"units": 2})
    def tiny_regressor(units=4, name="tiny_regressor"):
        """A one-layer regressor for the registry test."""
        inputs = keras.Input(shape=(3,))
        return keras.Model(inputs, keras.layers.Dense(units)(inputs), name=name)

    assert tiny_regressor.__name__ == "tiny_regressor"  # the builder is returned unchanged
    assert "tiny_regressor" in keras_zoo.list_models()
    info = keras_zoo.model_info("tiny_regressor")
    assert info.family == "test_registry"  # the module it lives in
    assert (info.task, info.smoke, info.summary) == (
        "regression", {"units": 2}, "A one-layer regressor for the registry test.")
    assert keras_zoo.build("tiny_regressor", units=5).outputs[0].shape[-1] == 5

    @keras_zoo.register_model  # bare form: classification, no smoke overrides
    def tiny_classifier(name="tiny_classifier"):
        """Nothing but a Dense layer."""
        inputs = keras.Input(shape=(2,))
        return keras.Model(inputs, keras.layers.Dense(2)(inputs), name=name)

    assert keras_zoo.model_info("tiny_classifier").task == "classification"


def test_duplicate_registration_raises(scratch_registry):
    original = keras_zoo.model_info("lenet5").builder

    def lenet5():
        """An impostor."""

    with pytest.raises(ValueError, match="'lenet5' is already registered"):
        keras_zoo.register_model(lenet5)
    assert keras_zoo.model_info("lenet5").builder is original


def test_invalid_task_raises(scratch_registry):
    with pytest.raises(ValueError, match="task must be one of"):
        keras_zoo.register_model(task="segmentation")


# ---------------------------------------------------------------- python -m keras_zoo list

ROW = re.compile(r"^(\S+)\s+(\S+)\s+([\d,]+)\s+(\(.*?\))\s+(\S+)$")


def parse_rows(text):
    return {m[1]: m.groups()[1:] for m in map(ROW.match, text.splitlines()) if m}


@pytest.mark.slow
def test_cli_list_subprocess(backend):
    proc = subprocess.run([sys.executable, "-m", "keras_zoo", "list"], capture_output=True,
                          text=True, timeout=300, env=subprocess_env(backend))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"on the {backend} backend" in proc.stdout
    rows = parse_rows(proc.stdout)
    assert sorted(rows) == MODELS
    for name, (family, params, shape, task) in rows.items():
        info = keras_zoo.model_info(name)
        model = keras_zoo.build(name)
        assert family == info.family and task == info.task
        assert params == f"{model.count_params():,}"
        assert shape == str(tuple(model.inputs[0].shape[1:]))
    assert rows["lenet5"][:3] == ("cnn", "61,706", "(32, 32, 1)")
    assert rows["mlp"][:3] == ("mlp", "669,706", "(28, 28, 1)")


def test_cli_list_pattern_and_family(capsys):
    assert main(["list", "*_forecaster"]) == 0
    assert sorted(parse_rows(capsys.readouterr().out)) == keras_zoo.list_models("*_forecaster")
    assert main(["list", "--family", "cnn"]) == 0
    assert sorted(parse_rows(capsys.readouterr().out)) == ["cnn_from_spec", "lenet5"]


def test_cli_list_no_match(capsys):
    assert main(["list", "zzz*"]) == 1
    captured = capsys.readouterr()
    assert "no model matches 'zzz*'" in captured.err and captured.out == ""
