"""Time every tutorial's default run on this backend, one after another, and file the runs.

    KERAS_BACKEND=jax python scripts/time_tutorials.py                  # every tutorial
    KERAS_BACKEND=torch python scripts/time_tutorials.py lenet5_mnist vit_mnist --record
    python scripts/time_tutorials.py cnn_basics --flags="--smoke"       # a quick check

Each tutorial runs as a student runs it (`python tutorials/<name>.py --out OUT/<name>`
plus `--flags`), in its own process on the backend `KERAS_BACKEND` names. Printed per
tutorial: the wall seconds of the process (imports included), the seconds the tutorial
reports itself (from `tutorial.setup` to its RESULT line), and its README headline. The
machine's load average is read before and after every run, and everything is written to
OUT/timing.json with the date, machine and versions. `--record` files each finished
non-smoke run under results/runs/ (`scripts/results.py record`), from which `render`
writes the README table. Run it with nothing else on the machine: a timing taken while
other jobs share the cores is not a measurement.
"""

import argparse
import datetime
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import results  # noqa: E402

TUTORIALS = ROOT / "tutorials"


def time_one(name, out, flags, backend):
    """Run one tutorial; returns its row (wall seconds, its own seconds, headline)."""
    load = os.getloadavg()[0]
    start = time.perf_counter()
    done = subprocess.run([sys.executable, str(TUTORIALS / f"{name}.py"), "--out", str(out),
                           *flags], env=dict(os.environ, KERAS_BACKEND=backend,
                                             MPLBACKEND="Agg", TF_CPP_MIN_LOG_LEVEL="2"),
                          capture_output=True, text=True)
    row = {"tutorial": name, "wall_seconds": round(time.perf_counter() - start, 1),
           "load_before": round(load, 2), "load_after": round(os.getloadavg()[0], 2),
           "returncode": done.returncode}
    metrics = out / "metrics.json"
    if done.returncode or not metrics.exists():
        row["error"] = (done.stderr.strip().splitlines() or ["no output"])[-1][:300]
        return row
    run = json.loads(metrics.read_text())
    row["seconds"] = run["seconds"]
    row["smoke"] = run["smoke"]
    key = results.row(run)
    row["headline"] = results.headline(run) if key in results.HEADLINES else None
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="tutorials (default: all)")
    parser.add_argument("--out", type=Path, default=Path("out") / "timed")
    parser.add_argument("--flags", default="", help='extra flags for every run, e.g. "--smoke"')
    parser.add_argument("--record", action="store_true",
                        help="file the finished non-smoke runs under results/runs/")
    args = parser.parse_args(argv)
    known = sorted(p.stem for p in TUTORIALS.glob("*.py"))
    unknown = sorted(set(args.names) - set(known))
    if unknown:
        parser.error(f"unknown tutorials {unknown}; known: {', '.join(known)}")
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    flags = shlex.split(args.flags)
    rows = []
    print(f"{'tutorial':>26} {'wall s':>7} {'own s':>7} {'load':>11}  headline")
    for name in args.names or known:
        row = time_one(name, args.out / name, flags, backend)
        rows.append(row)
        load = f"{row['load_before']}->{row['load_after']}"
        shown = row.get("headline") or row.get("error", "")
        print(f"{name:>26} {row['wall_seconds']:7.1f} {row.get('seconds', float('nan')):7.1f} "
              f"{load:>11}  {shown}", flush=True)
    record = {"backend": backend, "flags": flags, "tutorials": rows,
              "date": datetime.datetime.now(datetime.timezone.utc).strftime(
                  "%Y-%m-%dT%H:%M:%SZ"), "cores": os.cpu_count()}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "timing.json").write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {args.out / 'timing.json'}")
    if args.record:  # only this invocation's finished runs, not older ones in OUT
        ran = [args.out / row["tutorial"] for row in rows if not row["returncode"]]
        for path in results.record(ran):
            print(f"filed {path.relative_to(ROOT)}")
    return 1 if any(r["returncode"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
