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
the real shapes (sizes in `BENCHMARKS` of `benchmark_table.py`); the numbers only decide
the work, not its cost.

The code is split by what it holds: `benchmark_table.py` (the models, their sizes and
data), `trainers.py` (what a worker trains and times), `workers.py` (the worker processes
and their protocol), `reporting.py` (the table, the summary, the output files); this
file is the command line and the loop that drives the workers.
"""

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmark_table import (
    DEFAULT_MODELS,
    KERAS_BACKENDS,
    KNOWN_MODELS,
    NATIVE,
    model_config,
    parse_variant,
)
from reporting import report
from workers import Worker, worker_main


def run(args):
    """Start the workers, set up and time every model on every runner; (meta, result rows).

    For each model: every runner builds it and trains the warm-up epoch (native first:
    its parameter count is what every Keras model must match), then `--repeats` rounds of
    one timed epoch per runner, the order rotated each round; a runner that fails drops
    out of that model's rounds with its error in its row.
    """
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
                             "runs the generic RNN loop), fused=false (torch: Keras' own "
                             "layers and Adam, not keras_zoo's kernels); native: "
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
    # Internal: workers.Worker starts this script with --worker RUNNER as a worker process.
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
