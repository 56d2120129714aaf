"""Every reusable input check: bad input fails early, saying what was expected.

- Shapes, at the model's entrance: `InputShapeCheck`, `checked_input`,
  `checked_token_input`.
- Values: `check_range` (e.g. images in [-1, 1]), `check_values` (only -1/+1, or [0, 1]),
  and `CheckedImagesMixin`, which checks the images given to fit / evaluate.
- Builder arguments: `check_builder_arguments`, which `keras_zoo.build` runs on every
  override before building (types and signs, from the builder's defaults).

A builder's checks that need several arguments at once (a divisibility, an input size)
stay next to those arguments.

Keras' own check on a functional model skips a last axis of size 1 (so 3-channel images
pass into a 1-channel model) and, on JAX, `predict` skips it altogether; the error then
comes from deep inside the first layer, different on every backend. `InputShapeCheck`
is an identity layer with a strict `InputSpec`, which Keras checks on every call path.
"""

import keras
import numpy as np
from keras import layers


@keras.saving.register_keras_serializable(package="keras_zoo")
class InputShapeCheck(layers.Layer):
    """Identity layer that rejects inputs whose per-example shape is not `shape`.

    Args:
        shape: the expected shape without the batch axis; `None` entries match anything.

    Raises (when called):
        ValueError: "... expected shape=(None, *shape), found shape=(...)".
    """

    def __init__(self, shape, **kwargs):
        super().__init__(**kwargs)
        self.shape = tuple(shape)
        self.input_spec = layers.InputSpec(shape=(None, *self.shape))

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "shape": list(self.shape)}


def checked_input(shape, name):
    """`keras.Input(shape)` followed by an `InputShapeCheck`: returns (inputs, x)."""
    inputs = keras.Input(shape=tuple(shape), name=name)
    return inputs, InputShapeCheck(shape, name=f"{name}_check")(inputs)


def checked_token_input(length=None, name="tokens", batch_size=None):
    """An int32 `keras.Input` of token ids (batch, length) and an `InputShapeCheck`.

    `length=None` accepts any length. Returns (inputs, x).
    """
    inputs = keras.Input(batch_shape=(batch_size, length), dtype="int32", name=name)
    return inputs, InputShapeCheck((length,), name=f"{name}_check")(inputs)


def check_range(x, low, high, what="images", hint=""):
    """Raise a clear `ValueError` if a concrete array has values outside [low, high].

    Symbolic or traced tensors (inside `fit` on TensorFlow and JAX) cannot be inspected;
    they are skipped here and checked where the data enters (`CheckedImagesMixin`).

    Args:
        x: array or tensor.
        low, high: the allowed range.
        what: what the values are, for the message.
        hint: how to fix it, appended to the message.

    Returns:
        x, unchanged.
    """
    if isinstance(x, keras.KerasTensor):
        return x
    try:
        values = keras.ops.convert_to_numpy(x)
    except Exception:  # noqa: BLE001 - traced / symbolic: nothing to check yet
        return x
    if values.size and (values.min() < low - 1e-5 or values.max() > high + 1e-5):
        raise ValueError(f"{what} must lie in [{low:g}, {high:g}], got values in "
                         f"[{values.min():.3g}, {values.max():.3g}]{'; ' + hint if hint else ''}")
    return x


class CheckedImagesMixin:
    """For a `keras.Model` subclass: check the images given to fit/evaluate/train/test.

    The class sets `image_range = (low, high)` and `range_hint`; the images are the data
    `x` itself or its `"images"` entry when `x` is a dict.
    """

    image_range = (0.0, 1.0)
    range_hint = ""

    def check_images(self, x):
        images = x.get("images") if isinstance(x, dict) else x
        if images is not None and not isinstance(images, (list, tuple)):
            check_range(images, *self.image_range, what=f"{self.name}: images",
                        hint=self.range_hint)
        return x

    def fit(self, x=None, *args, **kwargs):
        return super().fit(self.check_images(x), *args, **kwargs)

    def evaluate(self, x=None, *args, **kwargs):
        return super().evaluate(self.check_images(x), *args, **kwargs)

    def train_on_batch(self, x, *args, **kwargs):
        return super().train_on_batch(self.check_images(x), *args, **kwargs)

    def test_on_batch(self, x, *args, **kwargs):
        return super().test_on_batch(self.check_images(x), *args, **kwargs)


def check_values(x, allowed, what, hint):
    """Raise `ValueError` unless every entry of the NumPy-convertible `x` is allowed.

    Args:
        x: array-like.
        allowed: "bipolar" (only -1 and +1) or "unit" (inside [0, 1]).
        what: name of the data in the message.
        hint: how to fix it.
    """
    x = np.asarray(x)
    if allowed == "bipolar":
        bad = ~np.isin(x, (-1.0, 1.0))
        expected = "only -1 and +1"
    else:
        bad = ~((x >= 0.0) & (x <= 1.0))
        expected = "values in [0, 1]"
    if np.any(bad):
        raise ValueError(f"{what}: expected {expected}, found {x[bad].ravel()[:3].tolist()} "
                         f"(range [{np.nanmin(x):.3g}, {np.nanmax(x):.3g}]); {hint}")


# Arguments that may be 0 (a rate or a strength of 0 turns the feature off)
_ZERO_ALLOWED = {"dropout", "noise_stddev", "weight_decay", "seed"}
_BELOW_ONE = {"dropout"}  # rates: [0, 1)


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _is_real(value):
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value,
                                                                                    bool)


def _argument_error(model, key, value, expected):
    return ValueError(f"{model}: {key}={value!r} is not allowed; expected {expected}")


def check_builder_arguments(model, defaults, overrides):
    """Refuse meaningless builder arguments before anything is built.

    The rule for each override comes from the type of the builder's default: an int
    default asks for a positive int (`num_layers=0`, `units=-1`, `num_classes="10"` are
    refused), a float default for a positive number (0 allowed for rates such as
    `dropout`, which must also stay below 1), a bool for a bool, a tuple for a tuple or
    list (of positive ints where the default holds ints), a string for a string. `seed`
    and the `None` defaults (optional lengths) take None or an int.

    Args:
        model: the registry name, for the message.
        defaults: the builder's keyword defaults (`ModelInfo.defaults`).
        overrides: the arguments given to `keras_zoo.build`.

    Raises:
        ValueError: naming the argument, its value and what is allowed.
    """
    for key, value in overrides.items():
        default = defaults[key]
        floor = 0 if key in _ZERO_ALLOWED else 1
        if isinstance(default, bool):
            if not isinstance(value, (bool, np.bool_)):
                raise _argument_error(model, key, value, "True or False")
        elif _is_int(default) or default is None:
            if default is None and value is None:
                continue
            if not _is_int(value) or value < floor:
                what = "None or " if default is None else ""
                raise _argument_error(model, key, value, f"{what}an int >= {floor}")
        elif isinstance(default, float):
            if not _is_real(value) or not np.isfinite(value) or value < 0 or (
                    floor and value == 0):
                raise _argument_error(model, key, value, "a number > 0" if floor else
                                      "a number >= 0")
            if key in _BELOW_ONE and value >= 1:
                raise _argument_error(model, key, value, "a rate in [0, 1)")
        elif isinstance(default, tuple):
            if not isinstance(value, (tuple, list)):
                raise _argument_error(model, key, value, "a tuple or list")
            if default and all(_is_int(d) for d in default) and not all(
                    _is_int(v) and v >= 1 for v in value):
                raise _argument_error(model, key, value, "positive ints")
        elif isinstance(default, str) and key != "unroll":
            if not (isinstance(value, str) or (key == "activation" and callable(value))):
                raise _argument_error(model, key, value, "a string")
