"""Data-parallel step time on 1, 2 and 4 simulated JAX devices, and the arithmetic for 8 GPUs.

    python benchmarks/data_parallel.py                     # mlp, global batch 256
    python benchmarks/data_parallel.py --model resnet18 --smoke --batch 64
    python benchmarks/data_parallel.py --write             # files results/data_parallel/

Each device count runs in its own JAX process (`XLA_FLAGS=--xla_force_host_platform_device_count=N`
must be set before JAX starts) under `keras_zoo.distribute.data_parallel`: the same model,
the same global batch, `fit` for `--steps` steps after a warm-up epoch; reported is the
median seconds per step of `--repeats` epochs.

Simulated devices are threads of one CPU sharing its cores: N of them do the same
arithmetic as one device plus the splitting and the all-reduce. The figure is the
overhead of data parallelism, not a speed-up. On a real host each device has its own
compute; what then matters is the per-device batch and the gradient bytes each device
exchanges per step, given for 8 GPUs (`real_host_plan`): a ring all-reduce sends and
receives 2 (N - 1) / N of the float32 gradient per device. `--write` files the run with
its date, machine, versions and load as results/data_parallel/jax_<model>.json, from which
`scripts/results.py render` writes the README's scaling line. Measure with nothing else
running.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from reporting import provenance

RESULTS = Path(__file__).resolve().parent.parent / "results" / "data_parallel"
DEVICE_COUNTS = (1, 2, 4)


def real_host_plan(params, global_batch, devices=8, bytes_per_value=4):
    """Per-device batch and ring all-reduce traffic per device and step on a real host."""
    return {"devices": devices, "per_device_batch": global_batch // devices,
            "gradient_bytes": params * bytes_per_value,
            "allreduce_bytes_per_device": 2 * (devices - 1) / devices * params
            * bytes_per_value}


def child(args):
    """In a process with `args.child` devices: seconds per step, as one JSON line."""
    import keras

    import keras_zoo
    from keras_zoo import distribute

    if args.child > 1:
        distribute.data_parallel()
    keras.utils.set_random_seed(0)
    overrides = keras_zoo.model_info(args.model).smoke if args.smoke else {}
    model = keras_zoo.build(args.model, **overrides)
    x, y = keras_zoo.example_batch(args.model, model, batch=args.batch * args.steps, seed=0)
    info = keras_zoo.model_info(args.model)
    loss = {"classification": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            "regression": "mse", "reconstruction": "mse"}.get(info.task)
    model.compile(optimizer="adam", **({"loss": loss} if loss else {}))
    fit = dict(batch_size=args.batch, epochs=1, shuffle=False, verbose=0)
    model.fit(x, y, **fit)  # warm-up: compiles
    seconds = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        model.fit(x, y, **fit)
        seconds.append((time.perf_counter() - start) / args.steps)
    replicas = keras.distribution.distribution().num_model_replicas if args.child > 1 else 1
    print(json.dumps({"devices": replicas, "step_seconds": statistics.median(seconds),
                      "params": model.count_params()}))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="mlp")
    parser.add_argument("--smoke", action="store_true", help="the model's smoke overrides")
    parser.add_argument("--batch", type=int, default=256, help="global batch size")
    parser.add_argument("--steps", type=int, default=20, help="steps per timed epoch")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--write", action="store_true",
                        help="file the run as results/data_parallel/jax_<model>.json")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        return child(args)
    load_before = os.getloadavg()[0]
    rows = []
    for devices in DEVICE_COUNTS:
        env = dict(os.environ, KERAS_BACKEND="jax", TF_CPP_MIN_LOG_LEVEL="2",
                   XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}")
        flags = [f"--{k}={v}" for k, v in (("model", args.model), ("batch", args.batch),
                                           ("steps", args.steps), ("repeats", args.repeats))]
        done = subprocess.run([sys.executable, __file__, *flags, f"--child={devices}",
                               *(["--smoke"] if args.smoke else [])],
                              env=env, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"{devices} devices failed:\n{done.stderr[-3000:]}")
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    base = rows[0]["step_seconds"]
    print(f"jax, {args.model}{' (smoke)' if args.smoke else ''}, {rows[0]['params']:,} "
          f"parameters, global batch {args.batch}, median of {args.repeats} x "
          f"{args.steps} steps; simulated devices share this machine's "
          f"{os.cpu_count()} cores")
    print(f"{'devices':>8} {'per device':>10} {'ms/step':>8} {'vs 1':>6}")
    for row in rows:
        row["relative"] = round(row["step_seconds"] / base, 2)
        print(f"{row['devices']:8d} {args.batch // row['devices']:10d} "
              f"{1000 * row['step_seconds']:8.1f} {row['relative']:5.2f}x")
    plan = real_host_plan(rows[0]["params"], args.batch)
    print(f"real 8-GPU host: {plan['per_device_batch']} examples per device; ring all-reduce "
          f"{plan['allreduce_bytes_per_device'] / 1e6:.1f} MB per device per step "
          f"(gradient {plan['gradient_bytes'] / 1e6:.1f} MB)")
    if args.write:
        record = {
            "backend": "jax", "model": args.model, "smoke": args.smoke,
            "params": rows[0]["params"], "global_batch": args.batch, "steps": args.steps,
            "repeats": args.repeats,
            "devices": [{"devices": r["devices"], "per_device_batch": args.batch // r["devices"],
                         "ms_per_step": round(1000 * r["step_seconds"], 2),
                         "relative": r["relative"]} for r in rows],
            "real_host": plan,
            "run": provenance(("keras", "jax", "jaxlib"), load_before)}
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"jax_{args.model}.json"
        path.write_text(json.dumps(record, indent=1) + "\n")
        print(f"filed {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
