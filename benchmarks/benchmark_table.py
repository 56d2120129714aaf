"""What the epoch-time benchmark runs: the models, their sizes, their data and options.

`BENCHMARKS` holds one entry per model (its `keras_zoo.build` overrides, the arguments of
its native PyTorch twin, the shape and size of its synthetic data, its batch size);
`make_data` makes those arrays, `model_config` turns an entry and the command line into
what every runner of the model is told, and `parse_variant` reads a `--variant` option.
Nothing here imports a deep-learning framework, so the driver and the tests load it
cheaply and every worker process builds the same arrays from it.
"""

# The runners: one worker process per Keras backend, plus native PyTorch.
KERAS_BACKENDS = ("tensorflow", "jax", "torch")
NATIVE = "native"
# Built from --window/--units rather than from an entry's overrides.
FORECASTERS = ("rnn_forecaster", "gru_forecaster", "lstm_forecaster")

# What each benchmarked model is. `keras`: overrides for `keras_zoo.build(name, ...)`;
# `native`: arguments of the native PyTorch class (`native_torch.build`), the same
# architecture (the Keras worker asserts equal parameter counts before timing anything);
# `data`: the synthetic arrays (`make_data`), `shape` one example, `low`/`high` their
# range; `rows`: examples per epoch (full run, --quick); `batch`: the batch size (the
# notebook's where it names one); `steps`: full-batch models train that many one-step
# epochs per timed call (full, --quick) and report seconds per epoch.
# Every name is a registered keras_zoo model: a Keras worker that cannot build one fails
# its row (tests/test_benchmarks.py checks the registry).
IMAGE28 = {"data": "images", "shape": (28, 28, 1)}
BENCHMARKS = {
    # Foundation: an MNIST-shaped MLP over 20,000 rows; LeNet-5 over 10,000 zero-padded
    # 32x32 digits; an LSTM(100) over 8,192 windows of 40.
    "mlp": {**IMAGE28, "rows": (20_000, 640)},
    "lenet5": {"data": "images", "shape": (32, 32, 1), "rows": (10_000, 320)},
    **{name: {"data": "windows", "rows": (8_192, 256)} for name in FORECASTERS},
    # The small variants that tutorials/cnn_architectures.py races on zero-padded
    # 32x32 digits (ResNet-18: the CIFAR-style 3x3 stem, no pooling, 8-16-32-64 filters,
    # biased convolutions as keras.applications; MobileNetV2: width 0.35, stride-1 stem,
    # last conv 128).
    "resnet18": {"data": "images", "shape": (32, 32, 1), "rows": (2_048, 128),
                 "keras": {"input_shape": (32, 32, 1), "num_classes": 10, "stem": "small",
                           "width": 0.125},
                 "native": {"width": 8, "in_channels": 1, "num_classes": 10, "bias": True}},
    "mobilenet_v2": {"data": "images", "shape": (32, 32, 1), "rows": (1_024, 128),
                     "keras": {"input_shape": (32, 32, 1), "num_classes": 10, "stem": "small",
                               "alpha": 0.35, "last_filters": 128},
                     "native": {"alpha": 0.35, "in_channels": 1, "num_classes": 10,
                                "stem_stride": 1, "last_channels": 128}},
    # MNIST read row by row (28 steps of 28 pixels) with an LSTM; a one-block
    # Transformer on token ids (keras.io's text-classification sizes).
    "rnn_classifier": {**IMAGE28, "rows": (8_192, 256), "keras": {"cell": "lstm"},
                       "native": {"cell": "lstm", "units": 128}},
    "transformer_classifier": {"data": "tokens", "shape": (128,), "vocab": 1000,
                               "classes": 2, "rows": (2_048, 64), "keras": {}, "native": {}},
    # Full-batch node classification on a random Cora-sized graph: 3,000 nodes,
    # 10,000 directed edges, 1,433 sparse binary features, 7 classes, 140 labelled nodes;
    # the notebook's GCN (16 hidden, dropout 0.5, Adam 0.01, weight decay 5e-4), one
    # step per epoch.
    "gcn_node_classifier": {"data": "graph", "nodes": 3_000, "edges": 10_000,
                            "features": 1433, "classes": 7, "labelled": 140,
                            "steps": (50, 3), "lr": 0.01, "weight_decay": 5e-4,
                            "keras": {"node_features": 1433, "num_classes": 7},
                            "native": {"node_features": 1433, "num_classes": 7}},
    # The notebooks' GAN (MNIST in [-1, 1], batch 64, Adam 2e-4 beta1 0.5) and
    # VAE (MNIST in [0, 1], batch 100, Adam 1e-3); both fit on x only.
    "gan_mlp": {**IMAGE28, "low": -1.0, "high": 1.0, "rows": (6_400, 128), "keras": {},
                "native": {}, "own_optimizer": True},
    "vae": {**IMAGE28, "rows": (10_000, 200), "batch": 100, "keras": {}, "native": {}},
}
KNOWN_MODELS = tuple(BENCHMARKS)
DEFAULT_MODELS = ("mlp", "lenet5", "lstm_forecaster", "resnet18", "mobilenet_v2",
                  "rnn_classifier", "transformer_classifier", "gcn_node_classifier",
                  "gan_mlp", "vae")

# Options a --variant may set, per kind of runner.
KERAS_OPTIONS = ("jit_compile", "steps_per_execution", "unroll", "use_cudnn", "fused",
                 "full_batch")
NATIVE_OPTIONS = ("compile", "loader", "adam")


# --------------------------------------------------------------------------- data


def make_data(cfg, seed=0):
    """Synthetic arrays of a model's real shapes; the same arrays in every worker.

    Returns a dict: "x" (and "y" for supervised models): images (rows, *shape) uniform in
    [low, high) with int labels 0..9; token ids (rows, length) in [1, vocab) with labels
    0..classes-1; forecaster windows (rows, window, 1) of a noisy sine and the next value
    (rows, 1). For "graph": "features" (nodes, features) sparse binary, "senders",
    "receivers" (edges,) without self-loops or duplicates, "labels" (nodes,), "train_mask"
    (nodes,) with `labelled` True entries.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    spec, rows = BENCHMARKS[cfg["model"]], cfg.get("rows")
    kind, supervised = spec["data"], cfg["model"] not in ("gan_mlp", "vae")
    if kind == "images":
        low, high = spec.get("low", 0.0), spec.get("high", 1.0)
        x = (low + (high - low) * rng.random((rows, *spec["shape"]))).astype("float32")
        y = rng.integers(0, 10, size=rows).astype("int32")
        return {"x": x, "y": y} if supervised else {"x": x}
    if kind == "tokens":
        x = rng.integers(1, spec["vocab"], size=(rows, *spec["shape"])).astype("int32")
        return {"x": x, "y": rng.integers(0, spec["classes"], size=rows).astype("int32")}
    if kind == "graph":
        nodes, edges = spec["nodes"], spec["edges"]
        pairs = np.unique(rng.integers(0, nodes, size=(2 * edges, 2)), axis=0)
        pairs = pairs[pairs[:, 0] != pairs[:, 1]]
        pairs = pairs[rng.permutation(len(pairs))[:edges]]
        features = (rng.random((nodes, spec["features"])) < 0.02).astype("float32")
        mask = np.zeros(nodes, bool)
        mask[rng.permutation(nodes)[:spec["labelled"]]] = True
        return {"features": features, "senders": pairs[:, 0].astype("int32"),
                "receivers": pairs[:, 1].astype("int32"),
                "labels": rng.integers(0, spec["classes"], size=nodes).astype("int32"),
                "train_mask": mask}
    window = cfg["window"]
    t = np.arange(rows + window, dtype="float64")
    series = np.sin(0.1 * t) + 0.5 * np.sin(0.037 * t) + 0.05 * rng.standard_normal(len(t))
    series = series.astype("float32")
    idx = np.arange(rows)[:, None] + np.arange(window)
    return {"x": series[idx][..., None], "y": series[np.arange(rows) + window][:, None]}


# --------------------------------------------------------------------------- config


def model_config(model, args):
    """What every runner of `model` is told: sizes, batch size, learning rate."""
    spec, which = BENCHMARKS[model], 1 if args.quick else 0
    cfg = {"model": model, "batch_size": args.batch_size or spec.get("batch", 64)}
    if "rows" in spec:
        cfg["rows"] = args.rows or spec["rows"][which]
    if "steps" in spec:  # full batch: the whole graph is one batch, `steps` epochs per call
        cfg.update(steps=args.steps or spec["steps"][which], batch_size=1)
    cfg.update({k: spec[k] for k in ("lr", "weight_decay") if k in spec})
    if model in FORECASTERS:
        cfg.update(window=args.window, units=args.units)
    return cfg


def _parse_value(text):
    """A --variant value: true/false as a bool, "auto" as is, a number as an int."""
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if low == "auto":
        return "auto"
    try:
        return int(text)
    except ValueError:
        return text


def parse_variant(spec, backends):
    """"torch:unroll=false,jit_compile=true" -> ("torch[unroll=false,...]", "torch", opts)."""
    runner, _, rest = spec.partition(":")
    if runner not in KERAS_BACKENDS + (NATIVE,) or not rest:
        raise ValueError(f"--variant {spec!r}: expected RUNNER:key=value[,key=value], "
                         f"RUNNER one of {', '.join(KERAS_BACKENDS + (NATIVE,))}")
    allowed = NATIVE_OPTIONS if runner == NATIVE else KERAS_OPTIONS
    opts = {}
    for item in rest.split(","):
        key, eq, value = item.partition("=")
        if not eq or key not in allowed:
            raise ValueError(f"--variant {spec!r}: {runner} takes {', '.join(allowed)}")
        opts[key] = _parse_value(value)
    return f"{runner}[{rest}]", runner, opts
