"""What a worker process trains and times: one model on one runner.

`KerasTrainer` builds a keras_zoo model with the benchmark's overrides, compiles it for
`fit` and times `fit(epochs=1)`; `NativeTrainer` wraps the hand-written PyTorch twin of
`native_torch.py`. Both train on `make_data`'s arrays and report the same things:
`num_params` (checked equal before anything is timed), `resolved` (the settings actually
used) and `epoch()` -> (seconds, last loss). Frameworks are imported inside the trainers,
so only the worker that needs a backend loads it.
"""

import time

from benchmark_table import BENCHMARKS, FORECASTERS, make_data


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
        # keras_zoo's fused kernels on torch, as the tutorials run: PyTorch's LSTM/GRU
        # kernel (keras_zoo.layers.LSTM / GRU), copy-free convolutions and fused batch norm
        # (keras_zoo.layers.Conv2D / DepthwiseConv2D / BatchNormalization) and Adam update
        # (fused_adam_on_torch). `fused=false`: Keras' own layers (the same weights) and
        # Adam update: the before.
        self.fused = opts.get("fused", True)
        if not self.fused:
            for layer in self.model._flatten_layers():
                if type(layer).__module__ in ("keras_zoo.layers.recurrent",
                                              "keras_zoo.layers.conv"):
                    layer.__class__ = next(c for c in type(layer).__mro__  # Keras' LSTM,
                                           if c.__module__.startswith("keras."))  # Conv2D ...
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
        # `full_batch=false`: the graph's arrays straight to fit (workarounds.full_batch)
        self.full_batch = BENCHMARKS[name]["data"] == "graph" and opts.get("full_batch", True)
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
        if BENCHMARKS[self.name]["data"] == "graph":
            out["full_batch"] = self.full_batch
        for layer in self.model._flatten_layers():
            if isinstance(getattr(layer, "unroll", None), bool):
                out["unroll"] = layer.unroll
            if hasattr(layer, "use_cudnn"):
                out["use_cudnn"] = layer.use_cudnn
        return out

    def epoch(self):
        from keras_zoo import workarounds

        workarounds.fused_adam_on_torch(self.fused)  # per epoch: variants share a process
        data = {"x": self.x, "y": self.y, "sample_weight": self.sample_weight,
                "batch_size": self.batch_size}
        if self.full_batch:  # the graph, one step per epoch, as tutorials/gnn_cora.py feeds it
            data = workarounds.full_batch(self.x, self.y, self.sample_weight)
        start = time.perf_counter()
        history = self.model.fit(**data, epochs=self.steps, verbose=0)
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
