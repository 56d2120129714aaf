"""The commands of `python -m keras_zoo` that build or load models: info, train, eval, export.

`keras_zoo.__main__` parses the command line, reads and writes the index
(keras_zoo/data/models.json) and passes its entries here. A problem the user can fix (an
unknown name, a model that cannot be trained from images, a format this backend cannot
export) raises `CliError`, which `__main__` prints as one line.
"""

import importlib.util
import re
import sys
import warnings
from pathlib import Path

import keras
import numpy as np

import keras_zoo
from keras_zoo import datasets, workarounds
from keras_zoo.callbacks import StopOnNaN, TrainingDiverged
from keras_zoo.extras import install_command, installed
from keras_zoo.summary import format_layer_table, shapes_only

TUTORIALS = Path(__file__).resolve().parent.parent / "tutorials"  # in a source checkout
RESULTS = TUTORIALS.parent / "scripts" / "results.py"  # renders the README's results table
SMOKE_EXAMPLES = 512  # `train --smoke`: this many training images, one epoch
PAD_AT_MOST = 4  # pixels; a slightly larger model input is zero-padded (LeNet-5: 28 -> 32)


class CliError(Exception):
    """A one-line problem the user can fix; `python -m keras_zoo` prints it, exit code 1."""


# ------------------------------------------------------------------------------- info


def format_shapes(shapes):
    """[[32, 32, 1]] -> "(32, 32, 1)", as `str(tuple)` writes it; "-" for none."""
    return " + ".join(str(tuple(s)) for s in shapes or []) or "-"


def input_shapes(model):
    """"(32, 32, 1)"; several inputs joined by " + "; "-" for a subclassed model."""
    return format_shapes([t.shape[1:] for t in getattr(model, "inputs", None) or []])


_FSTRING_BUILD = re.compile(r"""build\(f(["'])(.+?)\1""")  # build(f"{cell}_forecaster"


def tutorials_using(name, folder=TUTORIALS):
    """Tutorial file names whose source names the model (quoted or as a whole word), or
    builds it from an f-string whose fixed parts fit (f"{cell}_forecaster")."""
    word = re.compile(rf"(?<!\w){re.escape(name)}(?!\w)")

    def uses(text):
        templates = (m[2] for m in _FSTRING_BUILD.finditer(text))
        return word.search(text) or any(
            re.fullmatch(r"\w+".join(map(re.escape, re.split(r"\{[^}]*\}", t))), name)
            for t in templates)

    return sorted(p.name for p in folder.glob("*.py") if uses(p.read_text()))


def reported_figures(tutorials, script=RESULTS):
    """The README's results rows for these tutorial files: one line per row, "row: what:
    tensorflow <headline (seconds)>, jax ..., torch ... (bar ...)", from the runs filed
    under results/runs/ by the same code that renders the README's table."""
    if not script.is_file():
        return []
    spec = importlib.util.spec_from_file_location("keras_zoo_results", script)
    results = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(results)
    newest, stems = results.latest(results.load_runs()), {Path(t).stem for t in tutorials}
    lines = []
    for row, (what, _, bar) in results.HEADLINES.items():
        if row.split()[0] in stems:
            cells = ", ".join(f"{b} {results.cell(newest[row, b])}" for b in results.BACKENDS
                              if (row, b) in newest)
            lines.append(f"{row}: {what}: {cells or 'no run filed'}"
                         + (f" (bar {bar})" if bar else ""))
    return lines


def registered(name):
    """`model_info(name)`; an unknown name: the registry's did-you-mean line."""
    try:
        return keras_zoo.model_info(name)
    except ValueError as err:
        raise CliError(str(err)) from None


def info(name, models):
    """`info NAME`: summary, arguments, counts, shapes, tutorials and the figures the
    README reports for them, the layer table.

    Args:
        name: registry name.
        models: the index, {name: entry}.
    """
    spec, entry = registered(name), models.get(name)
    if entry is None:
        raise CliError(f"{name} is not in the index; run `python -m keras_zoo index --write`")
    macs = entry["macs"]
    print(f"{name}  ({spec.family}, {spec.task})")
    print(f"  {spec.summary}")
    print(f"arguments   {', '.join(f'{k}={v!r}' for k, v in spec.defaults.items())}")
    print(f"parameters  {entry['parameters']:,}")
    print(f"mult-adds   {'-' if macs is None else f'{macs:,} per example'}")
    print(f"input       {format_shapes(entry['inputs'])}")
    print(f"output      {format_shapes(entry['outputs'])}")
    if TUTORIALS.is_dir():
        tutorials = tutorials_using(name)
        print(f"tutorials   {', '.join(tutorials) or '-'}")
        for i, line in enumerate(reported_figures(tutorials)):
            print(f"{'figures' if i == 0 else '':<12}{line}")
    else:
        print("tutorials   - (the tutorials/ folder comes with a source checkout, not installed)")
    print()
    with shapes_only():
        model = keras_zoo.build(name)
        try:
            print(format_layer_table(model))
        except (TypeError, ValueError, AttributeError):
            print(f"(no layer table: {name} is a subclassed model without a layer graph)")
    return 0


# ------------------------------------------------------------------ images for a model


def trainable_names(models):
    """Models `train` accepts: classification, one image input, one vector of logits out."""
    return [n for n, e in models.items() if e["task"] == "classification"
            and len(e["inputs"]) == 1 and len(e["inputs"][0]) == 3
            and len(e["outputs"]) == 1 and len(e["outputs"][0]) == 1]


def load_images(data):
    """((x_train, y_train), (x_test, y_test)) for `--data`; tfds ones may be unavailable."""
    try:
        if data == "embedded":
            return datasets.load_mnist("embedded")
        return datasets.load_tfds_images(data)
    except datasets.DatasetUnavailableError as err:
        raise CliError(str(err)) from None


def fit_images(x, shape):
    """Images (N, H, W, C) made to fit a model input (h, w, c).

    Channels: gray is repeated to colour, colour averaged to gray. Size: zero-padded around
    when the model's input is at most PAD_AT_MOST pixels larger (LeNet-5's 32x32 for 28x28
    MNIST, as in the paper), else resized (bilinear).
    """
    h, w, c = shape
    if x.shape[-1] != c:
        if x.shape[-1] == 1:
            x = np.repeat(x, c, axis=-1)
        elif c == 1:
            x = x.mean(axis=-1, keepdims=True)
        else:
            raise CliError(f"cannot fit {x.shape[-1]}-channel images to a {c}-channel model")
    dh, dw = h - x.shape[1], w - x.shape[2]
    if (dh, dw) == (0, 0):
        return x
    if 0 <= dh <= PAD_AT_MOST and 0 <= dw <= PAD_AT_MOST:
        return np.pad(x, ((0, 0), (dh // 2, dh - dh // 2), (dw // 2, dw - dw // 2), (0, 0)))
    chunks = [keras.ops.image.resize(x[i:i + 256], (h, w)) for i in range(0, len(x), 256)]
    return np.concatenate([keras.ops.convert_to_numpy(a) for a in chunks]).astype("float32")


def build_for_images(name, image_shape, num_classes):
    """The model with `num_classes` outputs, taking the data's own image size if it can.

    Some networks cannot take small images (LeNet-5's C5 needs 32x32, AlexNet's 227x227
    valid convolutions); those keep their own size and `fit_images` pads or resizes.
    """
    try:
        return keras_zoo.build(name, input_shape=tuple(image_shape), num_classes=num_classes)
    except ValueError:
        own = keras_zoo.model_info(name).defaults["input_shape"]
        return keras_zoo.build(name, input_shape=(*own[:2], image_shape[-1]),
                               num_classes=num_classes)


def image_model_shape(model, what):
    """(h, w, c) of a model's single image input, or a CliError naming what is accepted."""
    inputs = getattr(model, "inputs", None) or []
    if len(inputs) != 1 or len(inputs[0].shape) != 4 or None in inputs[0].shape[1:]:
        raise CliError(f"{what} takes one image input (h, w, c); found {input_shapes(model)}")
    return tuple(inputs[0].shape[1:])


def compile_classifier(model, learning_rate=1e-3):
    workarounds.fused_adam_on_torch()  # PyTorch's one-pass Adam update (torch backend)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


# --------------------------------------------------------------------------- train, eval


def train(name, models, data="embedded", epochs=5, batch_size=128, learning_rate=1e-3,
          save=None, smoke=False):
    """`train NAME`: fit on an image data set, save the .keras file and its history CSV.

    `models` is the index ({name: entry}); the other arguments are the command's options.
    """
    registered(name)
    allowed = trainable_names(models)
    if name not in allowed:
        raise CliError(f"{name} is not an image classifier; train works for: {', '.join(allowed)}")
    save = Path(save or f"{name}.keras")
    if save.suffix != ".keras":
        raise CliError(f"--save must name a .keras file, got {save}")
    (x, y), _ = load_images(data)
    if smoke:
        x, y, epochs = x[:SMOKE_EXAMPLES], y[:SMOKE_EXAMPLES], 1
    model = build_for_images(name, x.shape[1:], int(y.max()) + 1)
    x = fit_images(x, image_model_shape(model, name))
    compile_classifier(model, learning_rate)
    history = save.with_suffix(".history.csv")
    save.parent.mkdir(parents=True, exist_ok=True)
    print(f"{name}: {len(x):,} {data} images {x.shape[1:]}, {model.count_params():,} parameters")
    try:
        model.fit(x, y, batch_size=batch_size, epochs=epochs, validation_split=0.1,
                  verbose=1 if sys.stdout.isatty() else 2,  # a progress bar only in a terminal
                  callbacks=[StopOnNaN(name), keras.callbacks.CSVLogger(str(history))])
    except TrainingDiverged as err:
        raise CliError(f"{err}; nothing saved (e.g. a smaller --learning-rate)") from None
    model.save(save)
    print(f"saved {save} (history: {history})")
    return 0


def evaluate(path, data="embedded"):
    """`eval FILE.keras`: test-split loss and accuracy, one line."""
    try:
        model = keras_zoo.load(path)
    except (FileNotFoundError, ValueError) as err:
        raise CliError(str(err)) from None
    _, (x, y) = load_images(data)
    x = fit_images(x, image_model_shape(model, Path(path).name))
    width = model.outputs[0].shape[-1]
    if len(model.outputs[0].shape) != 2 or width <= int(y.max()):
        raise CliError(f"{path} gives {input_shapes(model)} -> {tuple(model.outputs[0].shape)}"
                       f", not logits for the {int(y.max()) + 1} classes of {data}")
    results = model.evaluate(x, y, verbose=0, return_dict=True) if model.compiled else {}
    if "accuracy" not in results:  # saved uncompiled, or compiled without accuracy
        results = compile_classifier(model).evaluate(x, y, verbose=0, return_dict=True)
    print(f"{path}: {data} test split, {len(x):,} images: "
          f"loss {results['loss']:.4f}, accuracy {results['accuracy']:.4f}")
    return 0


# ----------------------------------------------------------------------------- export

# Format -> {backend: modules it needs}; a backend not listed cannot export that format.
# onnx on PyTorch: Keras exports a free batch size through TorchScript, which needs onnx
# only (onnxscript is for its dynamo path, taken only when every dimension is fixed).
# tf_saved_model on JAX: Keras converts through jax2tf, which needs TensorFlow.
EXPORT_FORMATS = {
    "tf_saved_model": {"tensorflow": (), "jax": ("tensorflow",), "torch": ("torch_xla",)},
    "litert": {"tensorflow": (), "torch": ("litert_torch",)},
    "torch": {"torch": ()},
    "onnx": {"tensorflow": ("tf2onnx", "onnx"), "jax": ("jax2onnx", "onnx"), "torch": ("onnx",)},
    "openvino": {"tensorflow": ("openvino",), "torch": ("openvino",)},
}
EXPORT_SUFFIX = {"litert": ".tflite", "torch": ".pt2", "onnx": ".onnx", "openvino": ".xml"}
# Module -> the keras_zoo extra that installs it; the others are named as pip packages.
EXPORT_EXTRAS = {"onnx": "export", "tf2onnx": "export", "jax2onnx": "export",
                 "openvino": "export", "tensorflow": "tensorflow"}
# (format, backend) -> why Keras tries that combination but cannot finish it, whatever is
# installed: said instead of "Keras exports F on ..., not B".
EXPORT_BROKEN = {
    ("openvino", "jax"): "Keras converts JAX through jax2tf, whose XlaCallModule op "
                         "OpenVINO cannot convert",
}


def export_problem(fmt, backend=None):
    """Why `fmt` cannot be exported on `backend` here, or None if it can."""
    backend = backend or keras.backend.backend()
    needs = EXPORT_FORMATS[fmt]
    if backend not in needs:
        where = " or ".join(needs)
        rerun = f"rerun with KERAS_BACKEND={next(iter(needs))} (a .keras file loads anywhere)"
        if (fmt, backend) in EXPORT_BROKEN:
            return f"{fmt} export fails on {backend}: {EXPORT_BROKEN[fmt, backend]}; {rerun}"
        return f"Keras exports {fmt} on the {where} backend, not {backend}; {rerun}"
    missing = [m for m in needs[backend] if not installed(m)]
    if missing:
        extras = sorted({EXPORT_EXTRAS[m] for m in missing if m in EXPORT_EXTRAS})
        packages = [m.replace("_", "-") for m in missing if m not in EXPORT_EXTRAS]
        command = install_command(",".join(extras)) if extras else "pip install"
        ready = [b for b, modules in needs.items() if not modules]
        rerun = f", or rerun with KERAS_BACKEND={ready[0]}" if ready else ""
        return (f"{fmt} export on the {backend} backend needs {', '.join(missing)}, "
                f"not installed here ({' '.join([command, *packages])}){rerun}")
    return None


def input_signature(model):
    """Keras' own export signature of a model with known inputs (`keras.InputSpec`s, batch
    dimension free), or None for a subclassed model. Keras' ONNX exporter asks for one
    when the model has never been called, as a model loaded from a file has not."""
    if not getattr(model, "inputs", None):
        return None

    def spec(tensor):
        return keras.InputSpec(shape=(None, *tensor.shape[1:]), dtype=tensor.dtype,
                               name=tensor.name)

    return [keras.tree.map_structure(spec, model.input)]


def export(path, out, fmt):
    """`export FILE.keras OUT --format F`: Keras' `model.export`, or one line saying why not."""
    problem = export_problem(fmt)
    if problem:
        raise CliError(problem)
    suffix = EXPORT_SUFFIX.get(fmt)
    if suffix and Path(out).suffix != suffix:
        raise CliError(f"--format {fmt} writes a {suffix} file; name OUT like model{suffix}")
    try:
        model = keras_zoo.load(path)
    except (FileNotFoundError, ValueError) as err:
        raise CliError(str(err)) from None
    kwargs = {}
    if fmt == "torch" and len(getattr(model, "inputs", None) or []) == 1:
        import torch  # Keras' default traces batch size 1 and keeps it fixed: free it

        kwargs["dynamic_shapes"] = {0: torch.export.Dim("batch")}
    signature = input_signature(model) if fmt == "onnx" else None
    if signature:  # else Keras' "The model provided has never called"
        kwargs["input_signature"] = signature
    try:
        with warnings.catch_warnings():  # PyTorch's tracer warnings, which Keras means to hide
            warnings.filterwarnings("ignore", message="Converting a tensor to a Python")
            model.export(str(out), format=fmt, verbose=False, **kwargs)
    except Exception as err:  # noqa: BLE001 - any exporter failure: one line, not a traceback
        lines = [line.strip(" -") for line in str(err).splitlines() if line.strip()]
        # OpenVINO's first line is a source location; the op it cannot convert comes later
        first = next((line for line in lines if "No conversion rule" in line),
                     lines[0] if lines else "")[:300]
        raise CliError(f"exporting {path} as {fmt} failed: {type(err).__name__}: {first}") from None
    print(f"exported {path} to {out} ({fmt})")
    return 0
