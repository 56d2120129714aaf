"""Where a training step's time goes on Keras' torch backend, next to the same step in
native PyTorch: the minimal reproducer of the torch backend's per-step overhead.

One process, torch backend, CPU. The model is the lecture's MLP (784-512-512-10, ReLU,
Adam 1e-3, cross-entropy on logits): the overhead is per step, per layer and per
variable, and the MLP has little else. Keras trains one epoch with `fit` on NumPy
arrays, once with its own Adam update (`keras`) and once with keras_zoo's
`workarounds.fused_adam_on_torch` (`keras_zoo`, what the tutorials run); native PyTorch
trains the same epoch with a hand-written loop on pre-made tensors. Each is timed per
phase with wall-clock timers wrapped around the calls it makes (no profiler: its own
cost would swamp the Python overhead being measured):

    data      Keras: the epoch iterator (slicing the NumPy arrays, converting to tensors);
              native: indexing the pre-made tensors with a permutation
    forward   the model's call
    loss      the loss (Keras: `compute_loss`, its loss tracker's update)
    backward  autograd
    optimizer Keras: `optimizer.apply` (its torch Adam updates all variables with
              `torch._foreach_*`); native: `torch.optim.Adam.step` and `zero_grad`
    metrics   Keras: `compute_metrics` and the logs; native: the running mean of the loss
    rest      the step's wall time minus the above: Keras' trainer and callbacks

    python benchmarks/torch_step_overhead.py [--rows 20000] [--batch-size 64] [--repeats 3]

Prints a table of milliseconds per step (median over the repeats) and writes
`--out` (JSON, default out/torch_step_overhead.json) with the machine's load before
and after.
"""

import argparse
import collections
import contextlib
import json
import os
import pathlib
import time

os.environ["KERAS_BACKEND"] = "torch"

import keras  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

import keras_zoo  # noqa: E402
from keras_zoo import workarounds  # noqa: E402

PHASES = ("data", "forward", "loss", "backward", "optimizer", "metrics", "rest")


class Timers:
    """Wall seconds per phase; nested phases count once, for the outermost."""

    def __init__(self):
        self.seconds = collections.Counter()
        self.depth = 0

    @contextlib.contextmanager
    def phase(self, name):
        if self.depth:
            yield
            return
        self.depth += 1
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - start
            self.depth -= 1

    def wrap(self, name, fn):
        def timed(*args, **kwargs):
            with self.phase(name):
                return fn(*args, **kwargs)
        return timed


def keras_epoch(x, y, batch_size, timers, fused_adam=False):
    """One timed `fit` epoch after an untimed warm-up epoch; returns (seconds, steps)."""
    workarounds.fused_adam_on_torch(enable=fused_adam)
    keras.utils.set_random_seed(0)
    model = keras_zoo.build("mlp")
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x[: batch_size * 4], y[: batch_size * 4], batch_size=batch_size, verbose=0)
    # The phases, as TorchTrainer.train_step calls them (instance attributes come first).
    call = type(model).__call__
    type(model).__call__ = lambda self, *a, **k: timers.wrap("forward", call)(self, *a, **k)
    model._compute_loss = timers.wrap("loss", model._compute_loss)
    model._loss_tracker.update_state = timers.wrap("loss", model._loss_tracker.update_state)
    model.optimizer.apply = timers.wrap("optimizer", model.optimizer.apply)
    model.zero_grad = timers.wrap("optimizer", model.zero_grad)
    model.compute_metrics = timers.wrap("metrics", model.compute_metrics)
    backward = torch.Tensor.backward
    torch.Tensor.backward = lambda self, *a, **k: timers.wrap("backward", backward)(
        self, *a, **k)
    step = model.train_function
    in_steps = collections.Counter()

    def timed_step(data):
        start = time.perf_counter()
        out = step(data)
        in_steps["seconds"] += time.perf_counter() - start
        in_steps["steps"] += 1
        return out

    model.train_function = timed_step
    try:
        start = time.perf_counter()
        model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
        total = time.perf_counter() - start
    finally:
        type(model).__call__, torch.Tensor.backward = call, backward
    inside = sum(timers.seconds[p] for p in PHASES if p != "data")
    timers.seconds["rest"] += in_steps["seconds"] - inside
    timers.seconds["data"] += total - in_steps["seconds"]  # iterator and callbacks
    return total, in_steps["steps"]


def native_epoch(x, y, batch_size, timers):
    """The same MLP and Adam in plain PyTorch, one timed epoch after a warm-up."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512),
                          nn.ReLU(), nn.Linear(512, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y).long()

    def epoch(rows, timed):
        t = timers if timed else Timers()
        running, steps = 0.0, 0
        with t.phase("data"):
            order = torch.randperm(rows)
        for begin in range(0, rows, batch_size):
            with t.phase("data"):
                index = order[begin: begin + batch_size]
                xb, yb = xt[index], yt[index]
            with t.phase("forward"):
                logits = model(xb)
            with t.phase("loss"):
                loss = loss_fn(logits, yb)
            with t.phase("optimizer"):
                optimizer.zero_grad()
            with t.phase("backward"):
                loss.backward()
            with t.phase("optimizer"):
                optimizer.step()
            with t.phase("metrics"):
                steps += 1
                running += (loss.item() - running) / steps
        return steps

    epoch(batch_size * 4, timed=False)
    start = time.perf_counter()
    steps = epoch(len(x), timed=True)
    return time.perf_counter() - start, steps


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default="out/torch_step_overhead.json")
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    rng = np.random.default_rng(0)
    x = rng.random((args.rows, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, args.rows).astype("int64")
    load_before = os.getloadavg()[0]
    runners = {"native": native_epoch, "keras": keras_epoch,
               "keras_zoo": lambda *a: keras_epoch(*a, fused_adam=True)}
    runs = {name: [] for name in runners}
    for _ in range(args.repeats):  # taking turns, so that outside load hits all of them
        for name, run in runners.items():
            timers = Timers()
            seconds, steps = run(x, y, args.batch_size, timers)
            runs[name].append({"seconds": seconds, "steps": steps,
                               **{p: timers.seconds[p] for p in PHASES}})
    load_after = os.getloadavg()[0]
    table = {name: {p: 1e3 * float(np.median([r[p] / r["steps"] for r in rows]))
                    for p in (*PHASES, "seconds")} for name, rows in runs.items()}
    print(f"ms per step, median of {args.repeats} epochs of {args.rows:,} rows in batches "
          f"of {args.batch_size} (MLP 784-512-512-10, Adam); load {load_before:.2f} -> "
          f"{load_after:.2f}")
    print(f"{'phase':10} {'native':>8} {'keras':>8} {'keras_zoo':>10}")
    for p in (*PHASES, "seconds"):
        print(f"{'step' if p == 'seconds' else p:10} {table['native'][p]:8.3f} "
              f"{table['keras'][p]:8.3f} {table['keras_zoo'][p]:10.3f}")
    print("keras: Keras' own Adam update; keras_zoo: with workarounds.fused_adam_on_torch")
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "date": time.strftime("%Y-%m-%d %H:%M"), "cpu_count": os.cpu_count(),
        "versions": {"keras": keras.__version__, "torch": torch.__version__},
        "load_before": load_before, "load_after": load_after, "args": vars(args),
        "ms_per_step": table, "runs": runs}, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
