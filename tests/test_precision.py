"""Mixed precision: every registered model builds, runs and trains under `mixed_bfloat16`.

Parametrized over `keras_zoo.list_models()`, as tests/test_registry.py: a new model is
checked here as soon as it is registered. Each model is built twice with its `smoke`
overrides and the same deterministic NumPy weights, in float32 and under
`mixed_bfloat16`; under the mixed policy its weights must stay float32, every output
must be float32 (the output layers compute in float32, so the loss reads float32
values) and close to the float32 model's, and three Adam steps must give finite losses.

Tolerance: |mixed - float32| <= MIXED_TOLERANCE * max |float32 output|, per output.
bfloat16 keeps 8 significant bits, so each rounding of an activation or a weight moves
it by up to 2^-8 (0.4%) of its size. The errors of many layers add up, and they are
measured against the output's scale (its largest magnitude) rather than element by
element, since an output near zero is the difference of larger terms and keeps only
their absolute error. The models here lose up to 3% of that scale on this batch (GIN's
sum readouts, MobileNetV2, the GANs) and up to 4% on other inputs (the Elman RNN
forecaster, whose 16-bit hidden state is rounded at each of its 12 steps and fed back).
2^-4 = 16 roundings' worth leaves room for the backends' different orders of
summation while still failing a layer that goes wrong in 16 bits (a softmax or a norm
that saturates, a long sum that loses its small terms).

CI time: the forward checks run for every model on every backend, but for ResNet-101 and
-152 (ResNet-50's blocks, more of them: helpers.DEEP_ONLY_IN_FULL), which run in the
fuller tier (`pytest -m full`). A training step is traced (TensorFlow) or compiled (JAX,
where bfloat16 code compiles more slowly than float32) before it runs: seconds for a
deep model, more than its three steps cost. So the models of more than DEEP_LAYERS
layers train eagerly on TensorFlow, and on JAX (whose eager mode compiles every op,
slower still) only in the fuller tier. JAX promotes mixed dtypes, and the deep models'
forward passes, checked in both tiers, are where a 16-bit path would break there.

`mixed_float16` has a 5-bit exponent: `compile` wraps the optimizer in a
`LossScaleOptimizer` (checked here on an MLP and LeNet-5). `keras_zoo.precision` itself
is tested last.
"""

import keras
import numpy as np
import pytest
from helpers import example, flat, forward, registry_params
from test_registry import compile_for, count_layers, scalar_loss

import keras_zoo
from keras_zoo.precision import POLICIES, precision, set_precision

MODELS = keras_zoo.list_models()
MIXED_TOLERANCE = 2.0**-4  # of the output's largest magnitude (module docstring)
# Binary units whose thresholds and Gibbs draws compare with 0 and with uniform numbers:
# float32 under any policy (keras_zoo/models/energy.py). Every other model computes in
# bfloat16 somewhere under mixed_bfloat16.
FLOAT32_MODELS = {"hopfield", "rbm"}
STEPS = 3
DEEP_LAYERS = 25  # a model with more layers (test_registry.count_layers) is "deep" here
# The deep registered models; test_mixed_bfloat16_trains checks the list.
DEEP = ("ddpm", "googlenet", "mobilenet_v2", "resnet101", "resnet152", "resnet18",
        "resnet34", "resnet50", "shufflenet_v2", "ssd_lite", "transformer", "vgg16",
        "vgg19")
# The fuller tier (module docstring): ResNet-101 and -152 everywhere (helpers), and the
# mixed training of every deep model on JAX.
BUILT = registry_params(MODELS)
TRAINED = registry_params(MODELS, full_only=DEEP if keras.backend.backend() == "jax" else ())


def float_dtypes(model):
    """The dtypes of the model's floating-point weights (seed states etc. are integers)."""
    return {str(w.dtype) for w in model.weights if "float" in str(w.dtype)}


def scaled_error(actual, expected):
    """max |actual - expected| over max |expected| (1 if that is 0)."""
    actual, expected = np.asarray(actual, "float64"), np.asarray(expected, "float64")
    scale = np.max(np.abs(expected)) if expected.size else 0.0
    return float(np.max(np.abs(actual - expected), initial=0.0) / (scale or 1.0))


@pytest.mark.parametrize("name", BUILT)
def test_mixed_bfloat16_outputs_are_float32_and_close(name, build_deterministic):
    info = keras_zoo.model_info(name)
    reference = build_deterministic(name, **info.smoke)  # under the default float32 policy
    # batch 3, as test_registry's forward check: on JAX both compile the same float32
    # predict function, which the suite's persistent compilation cache then holds once
    x, _ = example(name, reference, batch=3)
    expected = flat(forward(reference, x))
    with precision("mixed_bfloat16"):
        model = build_deterministic(name, **info.smoke)
        outputs = flat(forward(model, x))
    computes = {layer.compute_dtype for layer in model._flatten_layers()}
    assert ("bfloat16" in computes) == (name not in FLOAT32_MODELS), computes
    assert float_dtypes(model) == {"float32"}, f"{name}: weights {float_dtypes(model)}"
    assert len(outputs) == len(expected)
    for i, (a, b) in enumerate(zip(outputs, expected)):
        assert a.dtype == np.float32, f"{name}: output {i} is {a.dtype}, not float32"
        assert a.shape == b.shape and np.all(np.isfinite(a)), name
        error = scaled_error(a, b)
        assert error <= MIXED_TOLERANCE, (
            f"{name}: output {i} is {error:.3g} of its scale away from float32's "
            f"(tolerance {MIXED_TOLERANCE})")


@pytest.mark.parametrize("name", TRAINED)
def test_mixed_bfloat16_trains(name, build_deterministic):
    info = keras_zoo.model_info(name)
    with precision("mixed_bfloat16"):
        model = build_deterministic(name, **info.smoke)
        deep = count_layers(model) > DEEP_LAYERS
        assert deep == (name in DEEP), f"{name}: update DEEP ({count_layers(model)} layers)"
        compile_for(info, model)
        if deep and keras.backend.backend() == "tensorflow":
            model.run_eagerly = True  # tracing costs more than the steps (module docstring)
        x, y = example(name, model, batch=4)
        losses = [scalar_loss(model.train_on_batch(x, y, return_dict=True))
                  for _ in range(STEPS)]
    assert np.all(np.isfinite(losses)), f"{name}: losses {losses} under mixed_bfloat16"
    assert float_dtypes(model) == {"float32"}, f"{name}: weights after training"


def test_mixed_float16_gan_scales_each_players_loss(build_deterministic):
    """The GAN's two optimizers (one `OptimizerGroup`) are each wrapped in a
    LossScaleOptimizer, and `training.minimize` differentiates the scaled loss: both
    players' weights move and the losses are finite and unscaled."""
    info = keras_zoo.model_info("gan_mlp")
    with precision("mixed_float16"):
        model = build_deterministic("gan_mlp", **info.smoke)
        model.compile(optimizer=keras.optimizers.Adam(1e-3))
        members = model.optimizer.members
        assert all(isinstance(m, keras.optimizers.LossScaleOptimizer) for m in members.values())
        x, y = example("gan_mlp", model, batch=16, seed=2)
        initial = [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]
        logs = model.fit(x, y, batch_size=8, epochs=2, verbose=0).history
    assert all(np.all(np.isfinite(v)) for v in logs.values()), logs
    assert all(0 < v[-1] < 50 for k, v in logs.items() if "loss" in k), logs  # not scaled
    moved = [not np.array_equal(keras.ops.convert_to_numpy(w), w0)
             for w, w0 in zip(model.trainable_weights, initial)]
    assert all(moved), "a player's weights did not move under mixed_float16"


@pytest.mark.parametrize("name", ["mlp", "lenet5"])
def test_mixed_float16_trains_with_loss_scaling(name, build_deterministic):
    """`mixed_float16`: compile wraps the optimizer in a LossScaleOptimizer, `fit` and
    `train_on_batch` give finite losses (steps whose scaled gradients overflow are skipped
    and the scale lowered, as they should be), the weights stay float32 and move, and the
    logits come out float32."""
    info = keras_zoo.model_info(name)
    with precision("mixed_float16"):
        model = compile_for(info, build_deterministic(name, **info.smoke), learning_rate=1e-3)
        assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
        x, y = example(name, model, batch=32, seed=2)
        initial = [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]
        history = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
        losses = history.history["loss"] + [
            scalar_loss(model.train_on_batch(x[:8], y[:8], return_dict=True))]
        assert np.all(np.isfinite(losses)), f"{name}: losses {losses} under mixed_float16"
        assert float_dtypes(model) == {"float32"}
        moved = [not np.array_equal(keras.ops.convert_to_numpy(w), w0)
                 for w, w0 in zip(model.trainable_weights, initial)]
        assert all(moved), f"{name}: no step was applied to some weights"
        logits = flat(forward(model, x[:4]))[0]
        assert logits.dtype == np.float32 and np.all(np.isfinite(logits))
    assert keras.mixed_precision.global_policy().name == "float32"


# ------------------------------------------------------------------- keras_zoo.precision


def test_set_precision_sets_the_global_policy():
    assert POLICIES == ("float32", "mixed_bfloat16", "mixed_float16")
    try:
        for policy in POLICIES:
            assert set_precision(policy) == policy
            assert keras.mixed_precision.global_policy().name == policy
            dense = keras.layers.Dense(2)
            assert (dense.compute_dtype, dense.variable_dtype) == (
                policy.removeprefix("mixed_"), "float32")
    finally:
        set_precision("float32")


def test_unknown_policy_names_the_choices():
    with pytest.raises(ValueError, match="float32, mixed_bfloat16, mixed_float16") as err:
        set_precision("bfloat16")
    assert "'bfloat16'" in str(err.value)
    with pytest.raises(ValueError, match="mixed_bfloat16"):
        with precision("float64"):
            pass
    assert keras.mixed_precision.global_policy().name == "float32"


def test_precision_restores_the_policy_before_it():
    with precision("mixed_bfloat16") as policy:
        assert policy == "mixed_bfloat16"
        assert keras.mixed_precision.global_policy().name == "mixed_bfloat16"
        with precision("mixed_float16"):
            assert keras.mixed_precision.global_policy().name == "mixed_float16"
        assert keras.mixed_precision.global_policy().name == "mixed_bfloat16"
    assert keras.mixed_precision.global_policy().name == "float32"
    with pytest.raises(RuntimeError, match="inside"):
        with precision("mixed_float16"):
            raise RuntimeError("raised inside the block")
    assert keras.mixed_precision.global_policy().name == "float32"
