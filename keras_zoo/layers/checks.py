"""Every reusable input check: bad input fails early, saying what was expected.

- Shapes, at the model's entrance: `InputShapeCheck`, `checked_input`,
  `checked_token_input`.
- Data, the one validation point: `check_data` (lengths, finite values, raw pixels,
  declared image ranges, targets against the loss, graph batches), which
  `CheckedDataMixin` runs on the NumPy data given to fit / evaluate / predict; every
  model the registry builds has it (`models.base.ZooModel` for the functional ones).
- Values: `check_range` (e.g. images in [-1, 1]), `check_finite`, `check_values` (only
  -1/+1, or [0, 1]).
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
    they are skipped here and checked where the data enters (`check_data`).

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
    check_finite(values, what)
    if values.size and (values.min() < low - 1e-5 or values.max() > high + 1e-5):
        raise ValueError(f"{what} must lie in [{low:g}, {high:g}], got values in "
                         f"[{values.min():.3g}, {values.max():.3g}]{'; ' + hint if hint else ''}")
    return x


class CheckedDataMixin:
    """For a `keras.Model` (sub)class: `check_data` on the NumPy data given to fit & co.

    Covers `fit` (and its `validation_data`), `evaluate`, `predict`, `train_on_batch`,
    `test_on_batch` and `predict_on_batch`, on every backend alike and before anything is
    compiled. A class whose images must lie in a range sets `image_range = (low, high)`
    and `range_hint` (how to get there).
    """

    image_range = None
    range_hint = ""

    def fit(self, x=None, y=None, *args, **kwargs):
        check_data(self, x, y, kwargs.get("sample_weight"))
        validation = kwargs.get("validation_data")
        if isinstance(validation, (tuple, list)) and 1 <= len(validation) <= 3:
            check_data(self, *validation, what="validation_data")
        return super().fit(x, y, *args, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        if not kwargs.get("_use_cached_eval_dataset"):  # fit's validation: checked once
            check_data(self, x, y, kwargs.get("sample_weight"))
        return super().evaluate(x, y, *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        check_data(self, x)
        return super().predict(x, *args, **kwargs)

    def train_on_batch(self, x, y=None, *args, **kwargs):
        check_data(self, x, y, kwargs.get("sample_weight"))
        return super().train_on_batch(x, y, *args, **kwargs)

    def test_on_batch(self, x, y=None, *args, **kwargs):
        check_data(self, x, y, kwargs.get("sample_weight"))
        return super().test_on_batch(x, y, *args, **kwargs)

    def predict_on_batch(self, x):
        check_data(self, x)
        return super().predict_on_batch(x)


def _numpy_leaves(data, label):
    """[(label, array)] for an array or a list / tuple / dict of arrays; None otherwise.

    Only NumPy is inspected: a `tf.data.Dataset`, a `PyDataset`, a generator, backend
    tensors or nested Python lists are passed through unchecked.
    """
    if data is None:
        return []
    if isinstance(data, np.ndarray):
        return [(label, data)]
    if isinstance(data, dict):
        items = [_numpy_leaves(v, f"{label}[{k!r}]") for k, v in data.items()]
    elif isinstance(data, (list, tuple)) and data and all(
            isinstance(v, (np.ndarray, dict)) for v in data):
        items = [_numpy_leaves(v, f"{label}[{i}]") for i, v in enumerate(data)]
    else:
        return None
    return None if any(i is None for i in items) else [leaf for i in items for leaf in i]


def check_finite(values, what):
    """Raise `ValueError` if a float array holds NaN or inf, saying how many and where."""
    values = np.asarray(values)
    if values.dtype.kind not in "fc":
        return
    bad = ~np.isfinite(values)
    if bad.any():
        first = np.argwhere(bad)[0]
        raise ValueError(
            f"{what} holds {int(np.isnan(values).sum())} NaN and {int(np.isinf(values).sum())} "
            f"inf values (the first at index {tuple(int(i) for i in first)}); drop or impute "
            "them first: one NaN spreads to every weight and output it reaches")


def _model_inputs(model, x):
    """[(label, array, input tensor)] pairing `x` with a functional model's inputs."""
    inputs = list(getattr(model, "inputs", None) or [])
    if isinstance(x, dict):
        by_name = {t.name: t for t in inputs}
        return [(f"x[{k!r}]", v, by_name[k]) for k, v in x.items() if k in by_name]
    if isinstance(x, np.ndarray):
        return [("x", x, inputs[0])] if len(inputs) == 1 else []
    if isinstance(x, (list, tuple)) and len(x) == len(inputs):
        return [(f"x[{i}]", v, t) for i, (v, t) in enumerate(zip(x, inputs))]
    return []


def _loss_name(loss):
    if isinstance(loss, str):
        return loss
    fn = getattr(loss, "fn", loss)  # a LossFunctionWrapper's function, or the function
    return getattr(fn, "__name__", type(loss).__name__)


def _check_targets(model, y, what):
    """Targets against the compiled loss: sparse class ids in [0, classes), BCE in [0, 1]."""
    outputs = getattr(model, "outputs", None) or []
    if not isinstance(y, np.ndarray) or len(outputs) != 1:
        return
    loss = getattr(model, "loss", None)
    name = _loss_name(loss) if loss is not None else ""
    if name in ("sparse_categorical_crossentropy", "SparseCategoricalCrossentropy"):
        classes = outputs[0].shape[-1]
        ignore = getattr(loss, "ignore_class", None)
        labels = y[y != ignore] if ignore is not None else y
        if y.dtype.kind == "f" and np.any(labels != np.round(labels)):
            raise ValueError(f"{model.name}: {what} must be integer class ids for "
                             f"{name}, got fractional values such as "
                             f"{labels[labels != np.round(labels)].ravel()[0]:g}")
        if labels.size and (labels.min() < 0 or labels.max() >= classes):
            raise ValueError(
                f"{model.name}: {what} must be class ids in [0, {classes}) for its "
                f"{classes} outputs, got values in [{labels.min():g}, {labels.max():g}]; "
                "1-based labels need y - 1, and more classes need num_classes=")
    elif name in ("binary_crossentropy", "BinaryCrossentropy") and y.size and (
            y.min() < 0 or y.max() > 1):
        raise ValueError(f"{model.name}: {what} must lie in [0, 1] for {name}, got values "
                         f"in [{y.min():g}, {y.max():g}]")


def check_data(model, x, y=None, sample_weight=None, what=None):
    """The one validation point for data that reaches a model as NumPy.

    Cheap, outside any compiled step, the same on every backend; each failure is a
    `ValueError` that names the model, the data and what was expected:

    - every array has the same number of examples;
    - float data is finite (no NaN or inf);
    - integer data fed to a float input holds no values above 1 (raw 0-255 pixels);
    - images lie in the model's `image_range` where it declares one;
    - targets fit the compiled loss: class ids in [0, classes) for sparse categorical
      cross-entropy (JAX would otherwise train on them silently), [0, 1] for binary;
    - a graph batch (a dict with senders and receivers) indexes only its own real nodes.

    Data that is not NumPy (datasets, generators, tensors) passes unchecked.
    """
    prefix = f"{what} " if what else ""
    xs, ys, ws = (_numpy_leaves(d, prefix + k) for d, k in ((x, "x"), (y, "y"),
                                                             (sample_weight, "sample_weight")))
    if xs is None or ys is None or ws is None:
        return
    leaves = xs + ys + ws
    lengths = {label: len(a) for label, a in leaves if a.ndim}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"{model.name}: inputs, targets and weights must hold the same "
                         "number of examples, got " +
                         ", ".join(f"{k}: {n}" for k, n in lengths.items()))
    for label, values in leaves:
        check_finite(values, f"{model.name}: {label}")
    for label, values, tensor in _model_inputs(model, x):
        values = np.asarray(values)
        if (values.dtype.kind in "iub" and "float" in str(tensor.dtype) and values.size
                and values.max() > 1):
            raise ValueError(
                f"{model.name}: {prefix}{label} is {values.dtype} with values up to "
                f"{values.max()} for a float input; scale raw pixels with "
                "x.astype('float32') / 255, or pass x.astype('float32') if these "
                "magnitudes are meant")
    if getattr(model, "image_range", None) is not None:
        images = x.get("images") if isinstance(x, dict) else x
        if isinstance(images, np.ndarray):
            check_range(images, *model.image_range, what=f"{model.name}: {prefix}images",
                        hint=model.range_hint)
    if isinstance(x, dict) and {"senders", "receivers"} <= set(x):
        from keras_zoo.datasets.graphs import check_graph_batch

        check_graph_batch(x)
    _check_targets(model, y, f"{prefix}y")


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
