"""Layer tables as the lectures print them.

Columns: layer, type, output size, kernel, stride, activation, maps. Also multiply-adds
per example (`count_macs`) and depth in weighted layers (`count_depth`). `shapes_only()`
builds a model's layers without its weights, for counting ImageNet-sized networks quickly.
"""

import contextlib

import keras
import numpy as np

_TYPES = {
    "InputLayer": "Input", "Conv2D": "Conv", "Conv1D": "Conv", "AveragePooling2D": "Ave",
    "MaxPooling2D": "Max Pool", "Dense": "Dense", "ReLU": "ReLU", "Activation": "Activation",
    "SimpleRNN": "RNN", "GRU": "GRU", "LSTM": "LSTM", "Dropout": "Dropout",
}
_SHAPE_ONLY = ("Flatten", "Reshape", "InputShapeCheck")
COLUMNS = ("layer", "type", "size", "kernel", "stride", "activation", "maps")


def _pair(value, square=False):
    """(5, 5) -> "5x5" (kernels, as the lectures write them) or "5" (`square=False`, strides)."""
    if value is None:
        return ""
    value = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(set(value)) == 1 and not square:
        return str(value[0])
    return "x".join(str(v) for v in value)


def _activation_name(layer):
    act = getattr(layer, "activation", None)
    if act is None:
        return "relu" if type(layer).__name__ == "ReLU" else ""
    name = getattr(act, "__name__", str(act))
    return "" if name == "linear" else name


def layer_table(model, merge_activations=True):
    """Rows describing each layer of a functional model, in order.

    Args:
        model: a built functional `keras.Model`.
        merge_activations: fold a standalone activation layer into the row before it
            (LeNet's "S2 ... tanh"); False keeps Conv and ReLU as separate rows (Homework 4).

    Returns:
        A list of dicts with keys `COLUMNS`; shape-only layers (Flatten) are left out, as in
        the lectures' tables. "size" is HxW for images, the width for vectors.
    """
    rows = []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind in _SHAPE_ONLY:
            continue
        shape = keras.tree.flatten(layer.output)[0].shape[1:]  # first output of a layer
        if merge_activations and kind in ("Activation", "ReLU") and rows:
            rows[-1]["activation"] = _activation_name(layer)
            continue
        size = "x".join(str(d) for d in shape[:-1]) if len(shape) > 1 else str(shape[-1])
        rows.append({
            "layer": layer.name,
            "type": _TYPES.get(kind, kind),
            "size": size,
            "kernel": _pair(getattr(layer, "kernel_size", getattr(layer, "pool_size", None)), True),
            "stride": _pair(getattr(layer, "strides", None)),
            "activation": _activation_name(layer),
            "maps": str(shape[-1]) if len(shape) > 1 else "",
        })
    return rows


def format_layer_table(model, merge_activations=True):
    """The `layer_table` as aligned text, with a header and the parameter count."""
    rows = layer_table(model, merge_activations)
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in COLUMNS}
    line = "  ".join(c.ljust(widths[c]) for c in COLUMNS)
    out = [line, "-" * len(line)]
    out += ["  ".join(r[c].ljust(widths[c]) for c in COLUMNS) for r in rows]
    out.append(f"{model.name}: {model.count_params():,} parameters")
    return "\n".join(out)


def print_layer_table(model, merge_activations=True):
    """Print `format_layer_table(model)`."""
    print(format_layer_table(model, merge_activations))



# ------------------------------------------------------------------ multiply-adds and depth

_WEIGHTED = ("Conv1D", "Conv2D", "Conv3D", "DepthwiseConv2D", "SeparableConv2D", "Dense")


def layer_macs(layer):
    """Multiply-adds of one layer for one example (biases, BatchNorm and pooling not counted).

    Conv: output positions x output channels x (kernel area x input channels / groups);
    depthwise: output positions x channels x multiplier x kernel area; separable: its
    depthwise part plus a 1x1 conv; dense: leading positions x inputs x units. Other
    layers count 0.

    Args:
        layer: a built layer of a functional model (its input and output shapes are read).

    Returns:
        An int.
    """
    kind = type(layer).__name__
    if kind not in _WEIGHTED:
        return 0
    in_shape, out_shape = layer.input.shape[1:], layer.output.shape[1:]
    positions = int(np.prod(out_shape[:-1])) if len(out_shape) > 1 else 1
    if kind == "Dense":
        return positions * in_shape[-1] * layer.units
    kernel_area = int(np.prod(layer.kernel_size))
    if kind == "DepthwiseConv2D":
        return positions * in_shape[-1] * layer.depth_multiplier * kernel_area
    if kind == "SeparableConv2D":
        depthwise = positions * in_shape[-1] * layer.depth_multiplier * kernel_area
        return depthwise + positions * in_shape[-1] * layer.depth_multiplier * layer.filters
    return positions * out_shape[-1] * kernel_area * in_shape[-1] // layer.groups


def _flat_layers(model):
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _flat_layers(layer)
        else:
            yield layer


def count_macs(model):
    """Multiply-adds per example of a functional model: the sum of `layer_macs` (nested too).

    The papers' "FLOPs" / "Mult-Adds" (ResNet-50 about 3.8-4.1G, MobileNetV2 300M).
    """
    return sum(layer_macs(layer) for layer in _flat_layers(model))


def count_depth(model):
    """Weighted layers (conv, dense) on the longest input-to-output path of a functional model.

    The depth the papers quote: 8 for AlexNet, 16 for VGG-16, 22 for GoogLeNet, 18 for
    ResNet-18 (projection shortcuts are off the longest path).
    """
    depth = {}
    for layer in model.layers:  # topological order
        parents = [p.operation for node in layer._inbound_nodes for p in node.parent_nodes]
        before = max((depth.get(id(p), 0) for p in parents), default=0)
        depth[id(layer)] = before + (type(layer).__name__ in _WEIGHTED)
    return max(depth.values(), default=0)


@contextlib.contextmanager
def shapes_only():
    """Builds models inside it with every weight's shape but none of their values.

    Inside `keras.StatelessScope(initialize_variables=False)` Keras defers each initializer,
    so VGG-16's 138M parameters cost milliseconds instead of a minute of random numbers:
    `count_params`, `count_macs`, `count_depth` and `summary` work, calling the model does
    not. On leaving, `keras.backend.clear_session()` forgets the deferred weights, which the
    next stateless call (every JAX training step) would otherwise allocate; it also resets
    Keras' layer-name counters.

    Example:
        with shapes_only():
            vgg = keras_zoo.build("vgg16")
        vgg.count_params()  # 138,357,544
    """
    with keras.StatelessScope(initialize_variables=False):
        yield
    keras.backend.clear_session()
