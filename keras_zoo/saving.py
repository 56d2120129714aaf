"""`keras_zoo.load`: a safe-mode `.keras` loader that works across backends and says what
is wrong in one line; `keras_zoo.plain_keras`: a copy of a model that plain Keras loads.

`keras.saving.load_model` restores a compiled model with the compile settings of the
backend that saved it: a file saved on PyTorch names its optimizer by the torch class
(`keras.src.backend.torch.optimizers...`), whose first `fit` step then fails on
TensorFlow; a file saved on JAX keeps `jit_compile=True`, which sends `fit` on PyTorch
through `torch.compile`. `load` rewrites those two settings to their backend-neutral form
(the public optimizer class, `jit_compile="auto"`) before Keras reads the file; weights and
optimizer state load unchanged. Its errors name the problem: a missing or truncated file,
a file that is not a `.keras` archive, a class that is not registered.

A zoo model's file names keras_zoo's classes (`ZooModel`, `InputShapeCheck`), so loading
it needs `import keras_zoo`. `plain_keras(model)` returns the same network as a plain
functional `keras.Model` without them, whose file loads wherever Keras does, provided the
architecture itself uses only Keras layers.
"""

import json
import tempfile
import zipfile
from pathlib import Path

import keras

__all__ = ["load", "plain_keras"]

_BACKEND_MODULES = "keras.src.backend."


def _neutral_compile_config(config):
    """The compile config with the public optimizer class and `jit_compile="auto"`."""
    compile_config = dict(config.get("compile_config") or {})
    if not compile_config:
        return config, False
    changed = False
    optimizer = compile_config.get("optimizer")
    if isinstance(optimizer, dict) and str(optimizer.get("module", "")).startswith(
            _BACKEND_MODULES):
        compile_config["optimizer"] = {**optimizer, "module": "keras.optimizers"}
        changed = True
    if compile_config.get("jit_compile") not in (None, "auto"):
        compile_config["jit_compile"] = "auto"  # each backend decides for itself
        changed = True
    return {**config, "compile_config": compile_config}, changed


def load(path, compile=True, safe_mode=True):  # noqa: A002 - keras' own argument name
    """Load a `.keras` file saved on any backend, ready to predict and to train here.

    Args:
        path: the `.keras` file.
        compile: restore the compile settings (backend-neutral, see the module docstring).
        safe_mode: Keras' safe mode (no arbitrary code from the file); keep it on.

    Returns:
        The `keras.Model`.

    Raises:
        FileNotFoundError: no such file.
        ValueError: not a `.keras` archive (e.g. truncated), or it uses a class that is
            not registered; the message says which and what to do.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"keras_zoo.load: no file {path}")
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as err:
        raise ValueError(f"keras_zoo.load: {path} is not a complete .keras archive "
                         f"({type(err).__name__}: {err}); it may be truncated, or saved in "
                         f"another format (.h5, .weights.h5)") from None
    config, changed = _neutral_compile_config(config) if compile else (config, False)
    try:
        if not changed:
            return keras.saving.load_model(path, compile=compile, safe_mode=safe_mode)
        with tempfile.TemporaryDirectory() as tmp:
            patched = Path(tmp) / path.name
            with zipfile.ZipFile(path) as archive, zipfile.ZipFile(patched, "w") as out:
                for item in archive.infolist():
                    data = (json.dumps(config).encode() if item.filename == "config.json"
                            else archive.read(item.filename))
                    out.writestr(item, data)
            return keras.saving.load_model(patched, compile=compile, safe_mode=safe_mode)
    except TypeError as err:
        if "Could not locate class" in str(err) or "could not be deserialized" in str(err):
            raise ValueError(
                f"keras_zoo.load: {path} uses a class that is not registered here "
                f"({str(err).splitlines()[0][:200]}); import the package that defines it "
                f"before loading") from None
        raise


_CHECK = "keras_zoo>InputShapeCheck"
# keras_zoo layers whose config is their Keras twin's: a plain copy names the twin.
_KERAS_TWINS = {"keras_zoo>LSTM", "keras_zoo>GRU", "keras_zoo>Conv2D",
                "keras_zoo>DepthwiseConv2D", "keras_zoo>BatchNormalization"}


def _rewire(node, moved):
    """Replace every keras_history [layer, node, tensor] of a removed layer by its input."""
    if isinstance(node, dict):
        history = node.get("keras_history")
        if history and history[0] in moved:
            node = {**node, "keras_history": list(moved[history[0]])}
        return {k: _rewire(v, moved) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        if len(node) == 3 and isinstance(node[0], str) and node[0] in moved:
            return list(moved[node[0]])  # an input_layers / output_layers entry
        return type(node)(_rewire(v, moved) for v in node)
    return node


def plain_keras(model):
    """The same functional network and weights as a plain `keras.Model`: no keras_zoo class.

    The input checks (`InputShapeCheck`, identity layers) are dropped, and the data checks
    of `ZooModel` with them; keras_zoo's `LSTM` / `GRU` become Keras' own (the same
    config). Predictions are unchanged (up to rounding: on torch's CPU keras_zoo's LSTM
    runs PyTorch's fused kernel). Save the result to share a file that loads with
    `keras.saving.load_model` where keras_zoo is not installed.

    Args:
        model: a functional model, e.g. from `keras_zoo.build` (trained or not).

    Returns:
        A new `keras.Model` (Functional) holding copies of the weights.

    Raises:
        ValueError: the model is subclassed, or uses keras_zoo layers beyond the input
            checks (attention, graph, generative layers...), which plain Keras cannot load;
            the message names them.
    """
    if not hasattr(model, "inputs") or not model.inputs or not hasattr(model, "get_config"):
        raise ValueError(f"plain_keras: {model.name} is a subclassed model; only functional "
                         "models can be copied without keras_zoo")
    config = _to_keras_twins(model.get_config())
    if "layers" not in config:
        raise ValueError(f"plain_keras: {model.name} is not a functional model")
    moved = {}
    for layer in config["layers"]:
        if layer.get("registered_name") == _CHECK:
            (arg,) = layer["inbound_nodes"][0]["args"]
            moved[layer["name"]] = arg["config"]["keras_history"]
    custom = sorted({layer["class_name"] for layer in config["layers"]
                     if str(layer.get("registered_name") or "").startswith("keras_zoo>")
                     and layer.get("registered_name") != _CHECK}
                    | set(_nested_custom(config["layers"])))
    if custom:
        raise ValueError(f"plain_keras: {model.name} uses keras_zoo layers ({', '.join(custom)}) "
                         "that plain Keras cannot load; share the file with keras_zoo "
                         "installed (keras_zoo.load)")
    layers_config = [layer for layer in config["layers"] if layer["name"] not in moved]
    config = _rewire({**config, "layers": layers_config}, moved)
    copy = keras.Model.from_config(config)
    for layer in copy.layers:
        layer.set_weights(model.get_layer(layer.name).get_weights())
    return copy


def _to_keras_twins(node):
    """The config with keras_zoo's LSTM / GRU named as `keras.layers.LSTM` / `GRU`."""
    if isinstance(node, dict):
        if node.get("registered_name") in _KERAS_TWINS:
            node = {**node, "module": "keras.layers", "registered_name": None}
        return {k: _to_keras_twins(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_to_keras_twins(v) for v in node]
    return node


def _nested_custom(layers_config):
    """Class names of keras_zoo objects anywhere inside the layers' configs."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            name = node.get("registered_name")
            if isinstance(name, str) and name.startswith("keras_zoo>") and name != _CHECK:
                found.append(node.get("class_name", name))
            for value in node.values():
                walk(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                walk(value)

    walk(layers_config)
    return found
