"""Layer tables as the lectures print them.

Columns: layer, type, output size, kernel, stride, activation, maps.
"""


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
        shape = layer.output.shape[1:]
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

