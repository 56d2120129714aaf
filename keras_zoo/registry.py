"""The model registry: `register_model`, `build`, `list_models`, `model_info`.

In the style of timm: each builder is a plain function registered under its own name;
the family is the module it lives in (`keras_zoo.models.cnn` -> "cnn"). Registering a
model is enough to get it built, trained one step and saved/reloaded by the test suite.
"""

import difflib
import fnmatch
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

TASKS = ("classification", "regression")


@dataclass(frozen=True)
class ModelInfo:
    """What the registry knows about one model.

    Args:
        name: registry name (the builder's function name).
        family: module the builder lives in (`mlp`, `cnn`, `rnn` ...).
        builder: the function that returns a `keras.Model`.
        task: "classification" (integer labels, logits out) or "regression".
        smoke: overrides that make a small, fast variant for tests.
    """

    name: str
    family: str
    builder: Callable
    task: str
    smoke: dict = field(default_factory=dict)

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
                   smoke: dict | None = None):
    """Register a model builder under its function name.

    Use bare (`@register_model`) or with options (`@register_model(task="regression")`).

    Args:
        fn: the builder; returns a `keras.Model`.
        task: "classification" or "regression"; tells the tests which loss and targets
            to use.
        smoke: builder overrides for a small variant (used by the registry tests).

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
            family=builder.__module__.rsplit(".", 1)[-1],
            builder=builder,
            task=task,
            smoke=dict(smoke or {}),
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
    """
    info = model_info(name)
    unknown = sorted(set(overrides) - set(info.defaults))
    if unknown:
        raise ValueError(
            f"{name}() got unknown argument(s) {unknown}; "
            f"it takes: {', '.join(f'{k}={v!r}' for k, v in info.defaults.items())}"
        )
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
