"""The model registry: `register_model`, `build`, `list_models`, `model_info`.

In the style of timm: each builder is a plain function registered under its own name;
the family is the module it lives in (`keras_zoo.models.cnn` -> "cnn") unless given.
Registering a model is enough to get it built, trained one step and saved/reloaded by
the test suite, which feeds it `example_batch(name, model)`.
"""

import difflib
import fnmatch
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from keras_zoo.layers.checks import check_builder_arguments

# classification: logits (batch, ..., classes), integer targets of shape (batch, ...):
#     image classes, per-pixel (segmentation), per-step (tagging, language models) alike.
# regression: real-valued targets shaped like the output; loss MSE.
# reconstruction: the target is the input itself (autoencoders); loss MSE.
# self_supervised: the model computes its own loss in `compute_loss`/`train_step`
#     (GAN, VAE, diffusion, detection, energy models); `compile(optimizer)` is enough.
TASKS = ("classification", "regression", "reconstruction", "self_supervised")


@dataclass(frozen=True)
class ModelInfo:
    """What the registry knows about one model.

    Args:
        name: registry name (the builder's function name).
        family: module the builder lives in (`mlp`, `cnn`, `rnn` ...).
        builder: the function that returns a `keras.Model`.
        task: one of `TASKS` (see there): which targets and loss go with the model.
        smoke: overrides that make a small, fast variant for tests.
        example: optional `example(model, batch, rng) -> (x, y)` for models whose inputs
            or targets the default `example_batch` cannot guess (several inputs with
            constraints, token ids, graphs, encoded boxes, subclassed models).
    """

    name: str
    family: str
    builder: Callable
    task: str
    smoke: dict = field(default_factory=dict)
    example: Callable | None = None

    @property
    def summary(self) -> str:
        """First line of the builder's docstring."""
        doc = inspect.getdoc(self.builder) or ""
        return doc.splitlines()[0] if doc else ""

    @property
    def defaults(self) -> dict:
        """The builder's keyword arguments and their default values."""
        params = inspect.signature(self.builder).parameters.values()
        return {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}


_MODELS: dict[str, ModelInfo] = {}


def register_model(fn: Callable | None = None, *, task: str = "classification",
                   smoke: dict | None = None, family: str | None = None,
                   example: Callable | None = None):
    """Register a model builder under its function name.

    Use bare (`@register_model`) or with options (`@register_model(task="regression")`).

    Args:
        fn: the builder; returns a `keras.Model`.
        task: one of `TASKS`; tells the tests which loss and targets to use.
        smoke: builder overrides for a small variant (used by the registry tests).
        family: the family name; default: the builder's module name.
        example: `example(model, batch, rng) -> (x, y)`, see `ModelInfo`.

    Returns:
        The builder, unchanged.
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")

    def wrap(builder: Callable) -> Callable:
        name = builder.__name__
        if name in _MODELS:
            raise ValueError(f"model {name!r} is already registered")
        _MODELS[name] = ModelInfo(
            name=name,
            family=family or builder.__module__.rsplit(".", 1)[-1],
            builder=builder,
            task=task,
            smoke=dict(smoke or {}),
            example=example,
        )
        return builder

    return wrap(fn) if fn is not None else wrap


def model_info(name: str) -> ModelInfo:
    """Return the `ModelInfo` of a registered model; unknown names raise `ValueError`."""
    if name not in _MODELS:
        close = difflib.get_close_matches(name, list(_MODELS), n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(
            f"Unknown model {name!r}.{hint} "
            f"Known models: {', '.join(sorted(_MODELS))} (see keras_zoo.list_models())."
        )
    return _MODELS[name]


def build(name: str, **overrides: Any):
    """Build a registered model.

    Args:
        name: registry name, e.g. "lenet5"; see `list_models()`.
        **overrides: builder arguments to change, e.g. `num_classes=5`.

    Returns:
        A fresh `keras.Model` named after `name`.

    Raises:
        ValueError: an unknown name or argument, or a meaningless value
            (`layers.checks.check_builder_arguments`).
    """
    if not isinstance(name, str):
        raise TypeError(f"build: the model name must be a string such as 'lenet5', got "
                        f"{name!r}; see keras_zoo.list_models()")
    info = model_info(name)
    unknown = sorted(set(overrides) - set(info.defaults))
    if unknown:
        raise ValueError(
            f"{name}() got unknown argument(s) {unknown}; "
            f"it takes: {', '.join(f'{k}={v!r}' for k, v in info.defaults.items())}"
        )
    check_builder_arguments(name, info.defaults, overrides)
    return info.builder(**overrides)


def list_models(pattern: str = "*", family: str | None = None) -> list[str]:
    """Names of registered models matching a shell-style `pattern`, optionally one family."""
    return sorted(
        name
        for name, info in _MODELS.items()
        if fnmatch.fnmatch(name, pattern) and (family is None or info.family == family)
    )


def list_families() -> list[str]:
    """The families that have at least one registered model."""
    return sorted({info.family for info in _MODELS.values()})


def random_inputs(model, batch: int, rng: np.random.Generator):
    """Random inputs for a functional model: floats in [0, 1), integer inputs in [1, 4).

    Each example's floats are scaled by its own brightness in [0.25, 1), so that examples
    still differ after a network averages over space (global pooling of i.i.d. noise
    would make them all alike). One array for a single input, else a list in
    `model.inputs` order.
    """
    arrays = []
    for tensor in model.inputs:
        shape = (batch, *tensor.shape[1:])
        if None in shape:
            raise ValueError(f"{model.name}: input {tensor.name} has an unknown size {shape}; "
                             "register the model with an `example=` function")
        if "int" in str(tensor.dtype):
            arrays.append(rng.integers(1, 4, size=shape).astype(str(tensor.dtype)))
        else:
            brightness = rng.uniform(0.25, 1.0, size=(batch,) + (1,) * (len(shape) - 1))
            arrays.append((rng.uniform(0.0, 1.0, size=shape) * brightness).astype("float32"))
    return arrays[0] if len(arrays) == 1 else arrays


def random_targets(task: str, model, x, batch: int, rng: np.random.Generator):
    """Random targets for `task` shaped like the model's (first) output; None if self-supervised."""
    if task == "self_supervised":
        return None
    if task == "reconstruction":
        return x
    out = model.outputs[0]
    if task == "classification":
        shape = (batch, *out.shape[1:-1])
        return rng.integers(0, out.shape[-1], size=shape).astype("int32")
    return rng.normal(size=(batch, *out.shape[1:])).astype("float32")


def example_batch(name: str, model, batch: int = 4, seed: int = 1):
    """A random `(x, y)` batch that `model` (built from registry entry `name`) accepts.

    What the registry tests feed every model. Float inputs are uniform in [0, 1) (the
    first thing drawn from `np.random.default_rng(seed)`), targets follow the task; a
    model registered with `example=` supplies its own.

    Args:
        name: registry name.
        model: the built model (its input shapes and output width are read from it).
        batch: batch size.
        seed: NumPy seed; the same seed gives the same arrays on every backend.

    Returns:
        `(x, y)`: x an array, a list or a dict of arrays; y the targets or None.
    """
    info = model_info(name)
    rng = np.random.default_rng(seed)
    if info.example is not None:
        return info.example(model, batch, rng)
    x = random_inputs(model, batch, rng)
    return x, random_targets(info.task, model, x, batch, rng)
