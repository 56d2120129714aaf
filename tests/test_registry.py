"""Every registered model: build, forward shape, output width, ten training steps.

Parametrized over `keras_zoo.list_models()` (as in timm): registering a model is enough
to get it tested here. Models are built with their `smoke` overrides (small and fast).
Also the registry API itself; the command line is tested in test_cli.py.
"""

import re

import keras
import numpy as np
import pytest
from helpers import example, flat, forward, registry_params

import keras_zoo
from keras_zoo import registry, training
from keras_zoo.cli import input_shapes
from keras_zoo.summary import shapes_only

MODELS = keras_zoo.list_models()
BUILT = registry_params(MODELS)  # ResNet-101 / -152 in the fuller tier (helpers)
LECTURE_PARAMS = {"lenet5": 61_706, "mlp": 669_706}  # lecture tables / quick-start network


EAGER_ABOVE_LAYERS = 150  # on TF, deep graphs (ResNet-50/101/152) train sooner eagerly


def count_layers(model):
    return sum(count_layers(layer) if isinstance(layer, keras.Model) else 1
               for layer in model.layers)


def compile_for(info, model, learning_rate=1e-2):
    """The task's loss (see `registry.TASKS`); self-supervised models bring their own.

    On TensorFlow, models deeper than EAGER_ABOVE_LAYERS run eagerly: tracing ResNet-152's
    `tf.function` costs more than ten eager steps, and its compiled path is the same block
    code that the shallower members of its family compile here. JAX always compiles: its
    eager mode compiles every op separately, which is slower still. Torch runs eagerly.
    """
    eager = keras.backend.backend() == "tensorflow" and count_layers(model) > EAGER_ABOVE_LAYERS
    loss = {"classification": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            "regression": keras.losses.MeanSquaredError(),
            "reconstruction": keras.losses.MeanSquaredError(),
            "self_supervised": None}[info.task]
    if loss is None:
        model.compile(optimizer=keras.optimizers.Adam(learning_rate), run_eagerly=eager)
    else:
        model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss,
                      run_eagerly=eager)
    return model


# Builder arguments that set the width of a model's (first) output, in order of preference.
OUTPUT_KEYS = ("num_classes", "num_actions", "horizon", "num_targets", "output_size",
               "target_vocab", "vocab_size")


def output_key(info):
    """The builder argument that sets the output width, if the model has one."""
    if info.task == "self_supervised":  # its outputs are images, boxes, energies ...
        return None
    return next((key for key in OUTPUT_KEYS if key in info.defaults), None)


WIDTH = 6  # the output width the forward test sets (example token ids 1..3 stay below it)


def scalar_loss(logs):
    """`test_on_batch` returns a loss, or a dict / list of them: their sum."""
    if isinstance(logs, dict):
        return float(sum(v for k, v in logs.items() if "loss" in k))
    if isinstance(logs, (list, tuple)):
        return float(logs[0])
    return float(logs)


# ---------------------------------------------------------------- every registered model


@pytest.mark.parametrize("name", MODELS)
def test_model_info(name):
    info = keras_zoo.model_info(name)
    assert info.name == name
    assert info.task in registry.TASKS
    assert info.summary, f"{name}: the builder needs a docstring (its first line is the summary)"
    assert set(info.smoke) <= set(info.defaults), f"{name}: smoke overrides unknown arguments"
    assert name in keras_zoo.list_models(family=info.family)


@pytest.mark.parametrize("name", BUILT)
def test_build_and_forward_shape(name, build_deterministic):
    """Smoke variant, with the output width (if the builder takes one) overridden to 5."""
    info = keras_zoo.model_info(name)
    key = output_key(info)
    overrides = {**info.smoke, **({key: WIDTH} if key else {})}
    if key:
        assert info.smoke.get(key, info.defaults[key]) != WIDTH, "pick another WIDTH"
    model = build_deterministic(name, **overrides)
    assert isinstance(model, keras.Model)
    assert model.name == name, "a model is named after its registry key"
    assert model.built and model.count_params() > 0
    x, _ = example(name, model, batch=3)
    outputs = flat(forward(model, x))
    if getattr(model, "outputs", None):  # functional: the symbolic shapes hold
        assert len(outputs) == len(model.outputs)
        for y, symbolic in zip(outputs, model.outputs):
            assert y.shape[1:] == tuple(d or s for d, s in zip(symbolic.shape[1:], y.shape[1:]))
    if key:
        assert outputs[0].shape[-1] == WIDTH, f"{key}={WIDTH} did not set the output width"
    for y in outputs:
        assert y.shape[0] == 3 and y.dtype == np.float32
        assert np.all(np.isfinite(y))
    spread = np.ptp(outputs[0].reshape(3, -1), axis=0)  # per output unit, across examples
    assert spread.max() > 1e-6, "the three different inputs give the same output"
    with shapes_only():  # what `python -m keras_zoo list` counts
        skeleton = keras_zoo.build(name, **overrides)
    assert skeleton.count_params() == model.count_params()
    assert input_shapes(skeleton) == input_shapes(model)


# On JAX, the ten steps of the deepest CNNs are compile-bound (XLA takes 13-25 s on two
# cores for each train step): fuller tier there; TensorFlow and PyTorch train them in the
# default tier, and JAX trains ResNet-18 / -34 and every other model.
JAX_ONLY_IN_FULL = (("googlenet", "mobilenet_v2", "resnet50")
                    if keras.backend.backend() == "jax" else ())
TRAINED = registry_params(MODELS, full_only=JAX_ONLY_IN_FULL)


FRESH_NOISE = {"dcgan", "gan_mlp", "ddpm", "vae", "rbm"}  # a new noise draw every step


@pytest.mark.parametrize("name", TRAINED)
def test_training_steps_lower_the_loss(name, build_deterministic):
    """Ten Adam steps on one fixed batch: the loss goes down and every weight moves.

    Models that draw fresh noise at every step (GANs, the VAE, diffusion, the RBM's Gibbs
    chain) need only a finite loss here; their own tests check that they learn. Every
    other model, self-supervised or not, must lower its loss on the fixed batch. Keras'
    seed is fixed too, so dropout draws the same masks in every run of a backend.
    """
    keras.utils.set_random_seed(0)
    info = keras_zoo.model_info(name)
    model = compile_for(info, build_deterministic(name, **info.smoke))
    x, y = example(name, model, batch=16, seed=2)
    initial = [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]
    before = scalar_loss(model.test_on_batch(x, y, return_dict=True))
    for _ in range(10):
        model.train_on_batch(x, y)
    after = scalar_loss(model.test_on_batch(x, y, return_dict=True))
    assert np.isfinite(before) and np.isfinite(after), f"{name}: loss {before} -> {after}"
    if name not in FRESH_NOISE:
        assert after < 0.97 * before, f"{name}: loss {before:.4f} -> {after:.4f} on one batch"
    frozen = [w.path for w, w0 in zip(model.trainable_weights, initial)
              if np.array_equal(keras.ops.convert_to_numpy(w), w0)]
    assert not frozen, f"{name}: no gradient reached {frozen}"


# ---------------------------------------------------------------------------- registry API


def test_list_models():
    assert MODELS == sorted(MODELS)
    assert {"mlp", "lenet5", "cnn_from_spec", "rnn_forecaster", "gru_forecaster",
            "lstm_forecaster"} <= set(MODELS)
    assert keras_zoo.list_models("*_forecaster") == [
        "gru_forecaster", "lstm_forecaster", "rnn_forecaster"]
    assert {"cnn_from_spec", "lenet5"} <= set(keras_zoo.list_models(family="cnn"))
    assert keras_zoo.list_models(family="mlp") == ["mlp"]
    assert keras_zoo.list_models("le*", family="cnn") == ["lenet5"]
    assert keras_zoo.list_models("lstm_f*", family="rnn") == ["lstm_forecaster"]
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


def test_summaries_state_the_default_parameter_counts():
    """A count in a builder's summary line ("61,706 parameters") is the default model's."""
    stated = {name: re.findall(r"([\d,]{5,}) parameters", keras_zoo.model_info(name).summary)
              for name in MODELS}
    stated = {name: counts for name, counts in stated.items() if counts}
    assert {"lenet5", "resnet18", "resnet50"} <= set(stated)
    with shapes_only():
        for name, counts in stated.items():
            assert counts == [f"{keras_zoo.build(name).count_params():,}"], name


def test_every_registered_class_is_public():
    """Each "keras_zoo>Name" class is `keras_zoo.layers.Name`, `keras_zoo.models.Name`,
    or (an optimizer) `keras_zoo.training.Name`."""
    registered = {key.split(">", 1)[1]: cls for key, cls in
                  keras.saving.get_custom_objects().items() if key.startswith("keras_zoo>")}
    assert len(registered) >= 30
    for name, cls in registered.items():
        is_layer = issubclass(cls, keras.layers.Layer) and not issubclass(cls, keras.Model)
        home = (training if issubclass(cls, keras.optimizers.Optimizer)
                else keras_zoo.layers if is_layer else keras_zoo.models)
        assert getattr(home, name, None) is cls, f"keras_zoo>{name} is not {home.__name__}.{name}"
        assert name in home.__all__, f"{name} is missing from {home.__name__}.__all__"


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

    def pairs(model, batch, rng):
        return rng.integers(0, 9, size=(batch, 2)).astype("float32"), None

    @keras_zoo.register_model(task="self_supervised", family="toys", example=pairs)
    def tiny_pairs(name="tiny_pairs"):
        """A model fed by its own example function."""
        inputs = keras.Input(shape=(2,))
        return keras.Model(inputs, keras.layers.Dense(1)(inputs), name=name)

    info = keras_zoo.model_info("tiny_pairs")
    assert info.family == "toys" and keras_zoo.list_models(family="toys") == ["tiny_pairs"]
    x, y = keras_zoo.example_batch("tiny_pairs", keras_zoo.build("tiny_pairs"), batch=5)
    assert x.shape == (5, 2) and y is None and np.all(x == np.round(x))


def test_default_example_batch():
    model = keras_zoo.build("lenet5")
    x, y = keras_zoo.example_batch("lenet5", model, batch=6, seed=3)
    assert x.shape == (6, 32, 32, 1) and x.dtype == np.float32 and 0 <= x.min() < x.max() < 1
    assert y.shape == (6,) and y.dtype == np.int32 and set(np.unique(y)) <= set(range(10))
    again, _ = keras_zoo.example_batch("lenet5", model, batch=6, seed=3)
    np.testing.assert_array_equal(x, again)
    model = keras_zoo.build("lstm_forecaster", horizon=2)
    x, y = keras_zoo.example_batch("lstm_forecaster", model, batch=2)
    assert x.shape == (2, 12, 1) and y.shape == (2, 2) and y.dtype == np.float32


def test_duplicate_registration_raises(scratch_registry):
    original = keras_zoo.model_info("lenet5").builder

    def lenet5():
        """An impostor."""

    with pytest.raises(ValueError, match="'lenet5' is already registered"):
        keras_zoo.register_model(lenet5)
    assert keras_zoo.model_info("lenet5").builder is original


def test_invalid_task_raises(scratch_registry):
    with pytest.raises(ValueError, match="task must be one of"):
        keras_zoo.register_model(task="segmentation")  # that is per-pixel classification

