"""Time one training epoch of keras_zoo models on every Keras backend against native PyTorch.

    python benchmarks/epoch_time.py                       # every model of DEFAULT_MODELS
    python benchmarks/epoch_time.py --quick               # tiny sizes: a smoke run
    python benchmarks/epoch_time.py --models mlp --backends jax,torch --repeats 5
    python benchmarks/epoch_time.py --models lstm_forecaster --window 12 \\
        --variant torch:unroll=false --variant tensorflow:jit_compile=false

Each runner (tensorflow, jax, torch: the Keras backends; native: plain PyTorch from
`native_torch.py`) lives in its own worker process, since a process can hold only one
Keras backend. The workers start together, then this process drives them one at a time:
for each model, every runner builds it and trains a warm-up epoch (compilation, tracing,
first-touch allocation), then the timed epochs run interleaved, runner after runner and
round after round, so a burst of load from elsewhere on the machine hits all runners
alike. Reported: the median wall time of `--repeats` epochs and its ratio to native
PyTorch's median on the same model. A runner that fails (an import error, an exception,
a crash, a time-out) becomes an error row; the others carry on.

The Keras side is `keras_zoo.build(name, **overrides)` trained by `model.fit(x, y,
batch_size, epochs=1, verbose=0)` with the default shuffle, Adam(1e-3) and the model's
loss (sparse categorical cross-entropy on logits or MSE; self-supervised models such as
the GAN and the VAE compute their own and are fit on x only), no metrics. The native side
is the same architecture (equal parameter counts, asserted), data, batch size, optimizer
and loss in a hand-written loop (see `native_torch.py`). Data are synthetic arrays of
the real shapes (sizes in `BENCHMARKS`); the numbers only decide the work, not its cost.
A model not registered in keras_zoo yet becomes a "skipped" row.
"""

import argparse
import contextlib
import gc
import json
import os
import platform
import select
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

KERAS_BACKENDS = ("tensorflow", "jax", "torch")
NATIVE = "native"
FORECASTERS = ("rnn_forecaster", "gru_forecaster", "lstm_forecaster")

# What each benchmarked model is. `keras`: overrides for `keras_zoo.build(name, ...)`;
# `native`: arguments of the native PyTorch class (`native_torch.build`), the same
# architecture (the Keras worker asserts equal parameter counts before timing anything);
# `data`: the synthetic arrays (`make_data`), `shape` one example, `low`/`high` their
# range; `rows`: examples per epoch (full run, --quick); `batch`: the batch size (the
# notebook's where it names one); `steps`: full-batch models train that many one-step
# epochs per timed call (full, --quick) and report seconds per epoch.
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
KERAS_OPTIONS = ("jit_compile", "steps_per_execution", "unroll", "use_cudnn")
NATIVE_OPTIONS = ("compile", "loader", "adam")


class NotRegisteredError(RuntimeError):
    """The model has not landed in keras_zoo (yet): its row is skipped with this message."""


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


# --------------------------------------------------------------------------- workers


def _tuples(value):
    """JSON turns tuples into lists; builders expect tuples (shapes, widths)."""
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    if isinstance(value, dict):
        return {k: _tuples(v) for k, v in value.items()}
    return value


def _shapes(x):
    """Per-example shapes and dtype kinds of an input structure (array, list or dict)."""
    import numpy as np

    if isinstance(x, dict):
        return {k: _shapes(v) for k, v in sorted(x.items())}
    if isinstance(x, (list, tuple)):
        return [_shapes(v) for v in x]
    x = np.asarray(x)
    return (tuple(x.shape[1:]), "int" if x.dtype.kind in "iu" else x.dtype.kind)


def _kinds(shapes):
    """`_shapes` without the sizes (a model may take any length): ranks and dtype kinds."""
    if isinstance(shapes, dict):
        return {k: _kinds(v) for k, v in shapes.items()}
    if isinstance(shapes, list):
        return [_kinds(v) for v in shapes]
    return (len(shapes[0]), shapes[1])


class KerasTrainer:
    """A keras_zoo model compiled for `fit`; `epoch()` times one `fit(epochs=1)`.

    Full-batch models (the GCN) time one `fit(epochs=steps)` and return seconds per epoch.
    """

    def __init__(self, cfg, opts):
        import keras

        import keras_zoo

        name = cfg["model"]
        if name not in keras_zoo.list_models():
            raise NotRegisteredError(
                f"{name!r} is not registered in keras_zoo (not landed yet); the native "
                "side and the benchmark config are ready")
        info = keras_zoo.model_info(name)
        kwargs = _tuples(dict(BENCHMARKS[name].get("keras", {})))
        if name in FORECASTERS:
            kwargs = {"window": cfg["window"], "units": cfg["units"],
                      "unroll": opts.get("unroll", "auto")}
        elif "unroll" in opts:
            kwargs["unroll"] = opts["unroll"]
        keras.utils.set_random_seed(0)
        self.model = keras_zoo.build(name, **kwargs)
        self.name, self.batch_size, self.steps = name, cfg["batch_size"], cfg.get("steps", 1)
        expected = cfg.get("native_params")
        if expected is not None and self.num_params != expected:
            raise AssertionError(
                f"not the same architecture: keras_zoo {name} has {self.num_params:,} "
                f"parameters, the native PyTorch model {expected:,} (counted as Keras does)")
        if "use_cudnn" in opts:  # not a builder argument: set it on the built LSTM/GRU layers,
            for layer in self.model._flatten_layers():  # which read it on every call
                if hasattr(layer, "use_cudnn"):
                    layer.use_cudnn = opts["use_cudnn"]
        lr = cfg.get("lr", 1e-3)
        compile_kw = {"jit_compile": opts.get("jit_compile", "auto"),
                      "steps_per_execution": opts.get("steps_per_execution", 1)}
        if BENCHMARKS[name].get("own_optimizer"):  # the model's default (the GAN: two Adams)
            self.model.compile(**compile_kw)
        elif info.task == "self_supervised":
            self.model.compile(optimizer=keras.optimizers.Adam(lr), **compile_kw)
        else:
            loss = (keras.losses.SparseCategoricalCrossentropy(from_logits=True)
                    if info.task == "classification" else "mse")
            self.model.compile(optimizer=keras.optimizers.Adam(lr), loss=loss, **compile_kw)
        data = make_data(cfg)
        if BENCHMARKS[name]["data"] == "graph":
            self.x, self.y, self.sample_weight = graph_inputs(self.model, data)
        elif info.task == "self_supervised":  # fit(x): a wrong shape fails in the warm-up
            self.x, self.y, self.sample_weight = data["x"], None, None
        else:
            self.x, self.y, self.sample_weight = data["x"], data.get("y"), None
            want = _shapes(keras_zoo.example_batch(name, self.model, 2)[0])
            if _kinds(_shapes(self.x)) != _kinds(want):  # same structure, ranks and dtypes
                raise ValueError(f"benchmark data {_shapes(self.x)} do not fit {name}: "
                                 f"example_batch gives {want}")
            self.model(self.x[:2])  # and the model's own shape checks pass

    @property
    def num_params(self):
        return int(self.model.count_params())

    @property
    def resolved(self):
        """The settings Keras actually used (after "auto" was resolved)."""
        out = {"jit_compile": self.model.jit_compile,
               "steps_per_execution": self.model.steps_per_execution}
        for layer in self.model._flatten_layers():
            if isinstance(getattr(layer, "unroll", None), bool):
                out["unroll"] = layer.unroll
            if hasattr(layer, "use_cudnn"):
                out["use_cudnn"] = layer.use_cudnn
        return out

    def epoch(self):
        start = time.perf_counter()
        history = self.model.fit(self.x, self.y, batch_size=self.batch_size,
                                 epochs=self.steps, sample_weight=self.sample_weight,
                                 verbose=0)
        seconds = (time.perf_counter() - start) / self.steps
        losses = history.history.get("loss") or next(iter(history.history.values()))
        return seconds, float(losses[-1])


def graph_inputs(model, data):
    """(x, y, sample_weight) of `gcn_node_classifier`: the whole graph as a batch of one.

    keras_zoo's graph batch dict (`keras_zoo.datasets.graphs`): nodes (1, N, F), senders and
    receivers (1, E), node_mask (1, N), edge_mask (1, E); labels (1, N); the loss counts
    the labelled nodes only (sample_weight = the train mask).
    """
    import numpy as np

    nodes, edges = len(data["features"]), len(data["senders"])
    x = {"nodes": data["features"][None], "senders": data["senders"][None],
         "receivers": data["receivers"][None],
         "node_mask": np.ones((1, nodes), "float32"), "edge_mask": np.ones((1, edges), "float32")}
    names = sorted(t.name for t in model.inputs)
    if names != sorted(x):
        raise ValueError(f"{model.name} takes inputs {names}, the benchmark feeds {sorted(x)}")
    return x, data["labels"][None], data["train_mask"][None].astype("float32")


class NativeTrainer:
    """The native PyTorch model of `native_torch.py` on the same data."""

    def __init__(self, cfg, opts):
        import native_torch

        spec = BENCHMARKS[cfg["model"]]
        model_kwargs = ({"units": cfg["units"]} if cfg["model"] in FORECASTERS
                        else _tuples(dict(spec.get("native", {}))))
        self.trainer = native_torch.Trainer(
            cfg["model"], make_data(cfg), batch_size=cfg["batch_size"],
            model_kwargs=model_kwargs, lr=cfg.get("lr", 1e-3),
            weight_decay=cfg.get("weight_decay", 0.0), steps=cfg.get("steps", 1),
            compile=bool(opts.get("compile", False)), loader=opts.get("loader", "tensors"),
            adam=opts.get("adam", "default"))
        self.resolved = {"compile": bool(opts.get("compile", False)),
                         "loader": opts.get("loader", "tensors"),
                         "adam": opts.get("adam", "default")}
        if self.keras_params != self.num_params:
            self.resolved["keras-style params"] = f"{self.keras_params:,}"

    @property
    def num_params(self):
        return int(self.trainer.num_params)

    @property
    def keras_params(self):
        return int(self.trainer.keras_params)

    def epoch(self):
        return self.trainer.epoch()


def _worker_info(runner, threads):
    """Set thread counts before any work, and describe the runtime."""
    info = {"runner": runner, "python": platform.python_version(), "pid": os.getpid()}
    if runner in ("torch", NATIVE):
        import torch

        info["torch_threads_default"] = torch.get_num_threads()
        torch.set_num_threads(threads)
        info["torch_threads"] = torch.get_num_threads()
        info["torch"] = torch.__version__
    if runner == "tensorflow":
        import tensorflow as tf

        with contextlib.suppress(RuntimeError):  # already initialised: keep its default
            tf.config.threading.set_intra_op_parallelism_threads(threads)
        info["tensorflow"] = tf.__version__
        info["tf_intra_op_threads"] = tf.config.threading.get_intra_op_parallelism_threads()
    if runner == "jax":
        import jax

        info["jax"] = jax.__version__
        info["xla_flags"] = os.environ.get("XLA_FLAGS", "")
    if runner in KERAS_BACKENDS:
        import keras

        info["keras"] = keras.__version__
        info["keras_backend"] = keras.backend.backend()
        if info["keras_backend"] != runner:
            raise RuntimeError(f"asked for backend {runner!r}, Keras loaded "
                               f"{info['keras_backend']!r}")
    return info


def worker_main(runner, threads):
    """Serve one JSON request per stdin line; one JSON reply per line on the real stdout.

    Requests: {"cmd": "setup", "key", "cfg", "opts"} builds a model and runs the warm-up
    epoch; {"cmd": "epoch", "key"} times one epoch; {"cmd": "drop", "key"} frees it.
    """
    reply_to = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything a library prints goes to the log, not into the protocol

    def send(**msg):
        reply_to.write(json.dumps(msg) + "\n")

    sys.path.insert(0, str(Path(__file__).resolve().parent))  # for `import native_torch`
    try:
        info = _worker_info(runner, threads)
    except Exception as err:  # noqa: BLE001 - report any start-up failure as the row
        send(ok=False, error=f"{type(err).__name__}: {err}", traceback=traceback.format_exc())
        return
    send(ok=True, info=info)
    trainers = {}
    for line in sys.stdin:
        req = json.loads(line)
        try:
            if req["cmd"] == "setup":
                cls = NativeTrainer if runner == NATIVE else KerasTrainer
                cpu = time.process_time()
                trainer = cls(req["cfg"], req["opts"])
                warmup_s, loss = trainer.epoch()  # compiles / traces / allocates
                trainers[req["key"]] = trainer
                send(ok=True, warmup_s=warmup_s, setup_cpu_s=time.process_time() - cpu,
                     loss=loss, params=trainer.num_params,
                     keras_params=getattr(trainer, "keras_params", trainer.num_params),
                     resolved=trainer.resolved)
            elif req["cmd"] == "epoch":
                trainer = trainers[req["key"]]
                gc.collect()
                load = os.getloadavg()[0]
                cpu = time.process_time()
                seconds, loss = trainer.epoch()
                send(ok=True, seconds=seconds, cpu_s=time.process_time() - cpu, loss=loss,
                     load=load)
            elif req["cmd"] == "drop":
                trainers.pop(req["key"], None)
                gc.collect()
                send(ok=True)
            else:
                raise ValueError(f"unknown command {req['cmd']!r}")
        except NotRegisteredError as err:
            send(ok=False, error=f"skipped: {err}", skipped=True)
        except Exception as err:  # noqa: BLE001 - one failure is one error row
            send(ok=False, error=f"{type(err).__name__}: {str(err)[:300]}",
                 traceback=traceback.format_exc())


class Worker:
    """The driving side of one worker process."""

    def __init__(self, runner, threads, log_dir, omp_wait_policy="passive"):
        self.runner = runner
        env = dict(os.environ)
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        if omp_wait_policy != "inherit":
            env["OMP_WAIT_POLICY"] = omp_wait_policy.upper()
        if runner in KERAS_BACKENDS:
            env["KERAS_BACKEND"] = runner
        self.log_path = Path(log_dir) / f"{runner}.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker", runner,
             "--threads", str(threads)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, text=True,
            env=env)
        self.dead = None
        self.info = {}

    def _log_tail(self):
        try:
            lines = [ln for ln in self.log_path.read_text().splitlines() if ln.strip()]
        except OSError:
            return ""
        errors = [ln for ln in lines if "Error" in ln or "error:" in ln]
        return (errors or lines or [""])[-1][:200]

    def receive(self, timeout):
        """The next reply, or an error reply if the worker hangs or dies."""
        if self.dead:
            return {"ok": False, "error": self.dead}
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else None
        if line:
            return json.loads(line)
        if line is None:
            self.proc.kill()
            self.dead = f"worker timed out after {timeout:.0f} s"
        else:
            code = self.proc.wait()
            how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
            self.dead = f"worker {how}; log {self.log_path}: {self._log_tail()}"
        return {"ok": False, "error": self.dead}

    def request(self, timeout, **req):
        if self.dead:
            return {"ok": False, "error": self.dead}
        try:
            self.proc.stdin.write(json.dumps(req) + "\n")
            self.proc.stdin.flush()
        except OSError:
            return self.receive(timeout)  # it died: collect the reason
        return self.receive(timeout)

    def close(self):
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


# --------------------------------------------------------------------------- driver


def _parse_value(text):
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


def _fmt(value, spec):
    return "-" if value is None else format(value, spec)


def table_rows(results):
    """(header, rows) of strings for the console and markdown tables."""
    header = ["model", "runner", "epoch s", "min s", "vs native", "cpu s", "cpu vs native",
              "warm-up s", "params", "note"]
    rows = []
    for r in results:
        note = r["error"] if r["error"] else ", ".join(
            f"{k}={v}" for k, v in r["resolved"].items())
        rows.append([r["model"], r["runner"], _fmt(r["epoch_s"], ".2f"),
                     _fmt(r["min_s"], ".2f"),
                     "-" if r["ratio"] is None else f"{r['ratio']:.2f}x",
                     _fmt(r["cpu_s"], ".2f"),
                     "-" if r["cpu_ratio"] is None else f"{r['cpu_ratio']:.2f}x",
                     _fmt(r["warmup_s"], ".1f"), _fmt(r["params"], ","), note])
    return header, rows


def format_console(header, rows):
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    widths[-1] = len(header[-1])  # the note column is free-form
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)


def format_markdown(header, rows):
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---" if i < 2 or i == len(header) - 1 else "---:"
                            for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(c.replace("|", "/") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def summarize(results, models, backends):
    """Per model: the best default Keras backend vs native, and the 1.5x check."""
    lines = []
    for model in models:
        native = next((r for r in results if r["model"] == model and r["runner"] == NATIVE),
                      None)
        keras_rows = [r for r in results if r["model"] == model and r["runner"] in backends
                      and r["ratio"] is not None]
        skipped = [r for r in results if r["model"] == model and r.get("skipped")]
        if skipped:
            lines.append(f"{model}: {skipped[0]['error']}")
            continue
        if native is None or native["epoch_s"] is None or not keras_rows:
            lines.append(f"{model}: no ratio (native or every Keras backend failed)")
            continue
        best = min(keras_rows, key=lambda r: r["ratio"])
        worst = max(keras_rows, key=lambda r: r["ratio"])
        def cpu(r):
            return "" if r["cpu_ratio"] is None else f", cpu {r['cpu_ratio']:.2f}x"

        lines.append(
            f"{model}: best {best['runner']} {best['ratio']:.2f}x native{cpu(best)} "
            f"({'meets' if best['ratio'] <= 1.0 else 'misses'} <= 1.0x); "
            f"slowest {worst['runner']} {worst['ratio']:.2f}x{cpu(worst)} "
            f"({'meets' if worst['ratio'] <= 1.5 else 'misses'} <= 1.5x)")
    return lines


def run(args):
    models = args.models
    backends = [b for b in args.backends if b != NATIVE]
    runners = [(NATIVE, NATIVE, {})] + [(b, b, {}) for b in backends]
    runners += [parse_variant(spec, backends) for spec in args.variant]
    needed = sorted({r[1] for r in runners}, key=(KERAS_BACKENDS + (NATIVE,)).index)
    log_dir = Path(args.log_dir or tempfile.mkdtemp(prefix="keras_zoo_bench_"))
    log_dir.mkdir(parents=True, exist_ok=True)
    meta = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S"), "host": platform.node(),
        "platform": platform.platform(), "cpu_count": os.cpu_count(), "threads": args.threads,
        "repeats": args.repeats, "quick": args.quick, "batch_size": args.batch_size,
        "omp_wait_policy": (os.environ.get("OMP_WAIT_POLICY", "")
                            if args.omp_wait_policy == "inherit" else args.omp_wait_policy),
        "loadavg_start": os.getloadavg(), "log_dir": str(log_dir), "workers": {},
    }
    say = print if args.verbose else (lambda *a, **k: None)
    workers = {name: Worker(name, args.threads, log_dir, args.omp_wait_policy)
               for name in needed}  # they start (import) together; the timing is serial
    results = []
    try:
        for name, worker in workers.items():
            hello = worker.receive(args.timeout)
            worker.info = hello.get("info", {})
            meta["workers"][name] = worker.info or {"error": hello.get("error")}
            if not hello.get("ok"):
                worker.dead = hello.get("error", "worker failed to start")
            say(f"[{name}] {'ready' if hello.get('ok') else 'FAILED: ' + worker.dead}",
                file=sys.stderr)
        for model in models:
            cfg = model_config(model, args)
            rows = {}
            for label, name, opts in runners:  # native first: its parameter count is
                key = f"{model}|{label}"  # what every Keras model must have
                native = rows.get(NATIVE, {})
                reply = workers[name].request(
                    args.timeout, cmd="setup", key=key, opts=opts,
                    cfg=dict(cfg, native_params=native.get("keras_params")))
                rows[label] = {
                    "model": model, "runner": label, "backend": name, "options": opts,
                    "config": cfg, "times": [], "cpu_times": [], "loads": [],
                    "warmup_s": reply.get("warmup_s"), "setup_cpu_s": reply.get("setup_cpu_s"),
                    "params": reply.get("params"),
                    "keras_params": reply.get("keras_params"),
                    "skipped": bool(reply.get("skipped")),
                    "resolved": reply.get("resolved", {}),
                    "error": None if reply.get("ok") else reply.get("error", "failed"),
                    "traceback": reply.get("traceback"),
                }
                say(f"[{model} / {label}] warm-up "
                    + (f"{reply['warmup_s']:.1f} s" if reply.get("ok") else reply.get("error")),
                    file=sys.stderr)
            for rep in range(args.repeats):
                live = [r for r in runners if rows[r[0]]["error"] is None]
                shift = rep % len(live) if live else 0
                for label, name, _ in live[shift:] + live[:shift]:  # rotate the order
                    reply = workers[name].request(args.timeout, cmd="epoch",
                                                  key=f"{model}|{label}")
                    row = rows[label]
                    if reply.get("ok"):
                        row["times"].append(reply["seconds"])
                        row["cpu_times"].append(reply["cpu_s"])
                        row["loads"].append(reply["load"])
                        say(f"[{model} / {label}] epoch {rep + 1}: {reply['seconds']:.2f} s",
                            file=sys.stderr)
                    else:
                        row["error"] = reply.get("error", "failed")
                        row["traceback"] = reply.get("traceback")
            for label, name, _ in runners:
                if rows[label]["error"] is None:
                    workers[name].request(args.timeout, cmd="drop", key=f"{model}|{label}")
            native_ok = rows[NATIVE]["error"] is None and rows[NATIVE]["times"]
            native_s = statistics.median(rows[NATIVE]["times"]) if native_ok else None
            native_cpu = statistics.median(rows[NATIVE]["cpu_times"]) if native_ok else None
            for row in rows.values():
                ok = row["error"] is None and row["times"]
                row["epoch_s"] = statistics.median(row["times"]) if ok else None
                row["min_s"] = min(row["times"]) if ok else None
                row["cpu_s"] = statistics.median(row["cpu_times"]) if ok else None
                row["ratio"] = row["epoch_s"] / native_s if ok and native_s else None
                row["cpu_ratio"] = row["cpu_s"] / native_cpu if ok and native_cpu else None
                results.append(row)
    finally:
        for worker in workers.values():
            worker.close()
    meta["loadavg_end"] = os.getloadavg()
    meta["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    return meta, results


def report(meta, results, args):
    header, rows = table_rows(results)
    loads = [x for r in results for x in r["loads"]]
    load_note = (f"1-min load average during timed epochs: mean {statistics.mean(loads):.1f}, "
                 f"max {max(loads):.1f} on {meta['cpu_count']} cores" if loads else "")
    summary = summarize(results, args.models, [b for b in args.backends if b != NATIVE])
    print(format_console(header, rows))
    print()
    print(f"epoch s: median wall time of {meta['repeats']} epoch(s) after one warm-up epoch; "
          f"vs native: epoch s / native PyTorch epoch s (same model, data, batch "
          f"{meta['batch_size'] or '64 (VAE 100)'}, Adam); cpu s: the worker's CPU time in "
          f"that epoch (all threads), less sensitive to other load than wall time.")
    if load_note:
        print(load_note)
    for line in summary:
        print(line)
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        meta = dict(meta, summary=summary)
        out.write_text(json.dumps({"meta": meta, "results": results}, indent=1) + "\n")
        md = [f"# keras_zoo epoch times ({meta['started']}, {meta['cpu_count']} cores, "
              f"{meta['repeats']} repeat(s){', quick' if meta['quick'] else ''})", "",
              format_markdown(header, rows), ""]
        md += [load_note, ""] if load_note else []
        md += [f"- {line}" for line in summary]
        out.with_suffix(".md").write_text("\n".join(md) + "\n")
        print(f"wrote {out} and {out.with_suffix('.md')}")


def _csv(choices):
    def parse(text):
        items = [s.strip() for s in text.split(",") if s.strip()]
        bad = [s for s in items if s not in choices]
        if bad:
            raise argparse.ArgumentTypeError(f"unknown {bad}; choose from {', '.join(choices)}")
        return items
    return parse


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=_csv(KNOWN_MODELS), default=list(DEFAULT_MODELS),
                        help=f"comma-separated, from {', '.join(KNOWN_MODELS)} "
                             f"(default: {','.join(DEFAULT_MODELS)})")
    parser.add_argument("--backends", type=_csv(KERAS_BACKENDS + (NATIVE,)),
                        default=list(KERAS_BACKENDS),
                        help="Keras backends, comma-separated; native PyTorch always runs")
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed epochs per runner; the median is reported (default 5, "
                             "1 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="tiny data (the second `rows`/`steps` of BENCHMARKS) for a "
                             "smoke run of about a minute per backend")
    parser.add_argument("--out", default="out/epoch_time.json",
                        help="JSON results; the markdown table goes next to it as .md "
                             "(default: %(default)s; '' writes nothing)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="examples per step (default: 64; the VAE 100, as its notebook)")
    parser.add_argument("--rows", type=int, default=None, help="override the rows per epoch")
    parser.add_argument("--steps", type=int, default=None,
                        help="full-batch models (the GCN): one-step epochs per timed call "
                             "(default 50, 3 with --quick)")
    parser.add_argument("--window", type=int, default=40, help="forecaster window (40)")
    parser.add_argument("--units", type=int, default=100, help="forecaster units (100)")
    parser.add_argument("--variant", action="append", default=[], metavar="RUNNER:K=V,...",
                        help="an extra runner with options; Keras: jit_compile=auto|true|false,"
                             " steps_per_execution=N, unroll=auto|true|false, use_cudnn=auto|"
                             "false (LSTM/GRU: false skips the backend's fused kernel and "
                             "runs the generic RNN loop); native: "
                             "compile=true, loader=dataloader, adam=foreach|fused. Repeatable.")
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help="torch intra-op threads (native and Keras torch) and TF "
                             "intra-op threads (default: all %(default)s cores)")
    parser.add_argument("--omp-wait-policy", choices=("passive", "active", "inherit"),
                        default="passive",
                        help="OMP_WAIT_POLICY of the workers (torch's OpenMP threads). "
                             "passive (default) keeps idle threads from spinning, which on "
                             "a loaded machine makes torch epochs 10x slower and erratic; "
                             "inherit leaves the environment alone")
    parser.add_argument("--timeout", type=float, default=900,
                        help="seconds one worker request may take before it is killed")
    parser.add_argument("--log-dir", default=None, help="worker logs (default: a temp dir)")
    parser.add_argument("-q", "--quiet", dest="verbose", action="store_false",
                        help="no progress lines on stderr")
    parser.add_argument("--worker", choices=KERAS_BACKENDS + (NATIVE,), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker_main(args.worker, args.threads)
        return 0
    if args.repeats is None:
        args.repeats = 1 if args.quick else 5
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    try:
        for spec in args.variant:
            parse_variant(spec, args.backends)
    except ValueError as err:
        parser.error(str(err))
    meta, results = run(args)
    report(meta, results, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
