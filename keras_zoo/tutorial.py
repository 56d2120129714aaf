"""The tiny flag helper every tutorial shares.

    args = tutorial.setup(__doc__, epochs=10, batch_size=128)
    ...
    model.fit(x, y, epochs=args.epochs, callbacks=tutorial.callbacks(args))
    tutorial.savefig(fig, args, "curves.png")
    tutorial.report(args, test_accuracy=0.97)

Flags: --epochs, --batch-size, --data {embedded,full}, --smoke (a few seconds, for
tests), --out (figures, metrics.json and each fit's history CSV), --seed, --precision
{float32,mixed_bfloat16,mixed_float16} (`keras_zoo.precision`), --distribute {none,data}
(data-parallel over all devices, JAX only: `keras_zoo.distribute`), --resume (continue
an interrupted run from the backup in --out), --save DIR (each trained model as a .keras
file), --tensorboard DIR (TensorBoard logs; needs the `tensorboard` package); plus any
choice flags a tutorial names. The backend is never set here: it is whatever
`KERAS_BACKEND` says.

In a Jupyter kernel (a notebook made by `python -m keras_zoo notebooks`) the kernel's own
arguments are ignored: the flags come from the environment variable `KERAS_ZOO_ARGS`
(e.g. "--smoke --epochs 2", empty for the defaults) and the tutorial's name from
`KERAS_ZOO_TUTORIAL`, which the notebook's first cell sets; figures show inline and are
saved as well.

`callbacks` gives every `fit` two guards. Training stops with a one-line `error: ...` at
the first batch whose loss is NaN or infinite (`TrainingDiverged`). Where the tutorial is
resumable, the state of each `fit` (weights, optimizer, epoch, the epochs' logs, the
random generators and the tutorial's own callbacks) is backed up under
`--out/backup/<name>/` after its first epoch, then at most every `callbacks.BACKUP_SECONDS` and
after its last epoch; `--resume` restores it and carries on as the interrupted run would
have. Without `--resume` old backups are deleted, so a run starts fresh; a run that
reaches `report` deletes its own.
"""

import argparse
import datetime
import importlib.metadata
import importlib.util
import json
import os
import platform
import shlex
import shutil
import sys
import time
from pathlib import Path

import keras

from keras_zoo import distribute, precision, workarounds
from keras_zoo.callbacks import Backup, HistoryCSV, SaveModel, StopOnNaN, TrainingStopped
from keras_zoo.datasets import DATA_CHOICES, DatasetUnavailableError
from keras_zoo.extras import MissingExtraError

SMOKE_EPOCHS = 1
BACKUP = "backup"  # --out/backup/<fit name>/: one BackupAndRestore folder per fit
SETTINGS = "settings.json"  # --out/backup/settings.json: the flags the backups were made with


def in_notebook():
    """True inside a Jupyter (IPython) kernel."""
    return "ipykernel" in sys.modules


def _excepthook(kind, value, tb, _default=sys.excepthook):
    if issubclass(kind, (DatasetUnavailableError, TrainingStopped, MissingExtraError)):
        print(f"error: {value}", file=sys.stderr)  # one line, no traceback
        return
    _default(kind, value, tb)


def setup(description, *, epochs=None, batch_size=None, data=DATA_CHOICES, resumable=True,
          **choices):
    """Parse the shared flags, seed everything, print the backend; returns the args.

    Args:
        description: the tutorial's docstring (shown by --help).
        epochs: default number of epochs (1 with --smoke unless --epochs is given), or a
            dict from the values of one choice flag to epochs, e.g. `{"gan_mlp": 60,
            "dcgan": 10}` with `model=("gan_mlp", "dcgan")`. None: the tutorial has no
            epochs, and `--epochs` is refused rather than silently ignored.
        batch_size: default batch size; None: no `--batch-size` flag (e.g. one graph,
            trained whole).
        data: the `--data` values this tutorial supports, the first the default
            (`datasets.DATA_CHOICES` unless the tutorial has data of its own).
        resumable: True: the tutorial trains with `fit` over epochs, passing
            `callbacks(args, ...)`, and offers `--resume`. False: no `--resume` flag (e.g.
            one pass of Hebb's rule, or many tiny fits that take seconds).
        **choices: extra choice flags, e.g. `series=("airline", "synthetic")` adds
            `--series {airline,synthetic}` defaulting to the first.

    Returns:
        `argparse.Namespace` with epochs, batch_size, data, smoke, out (a `Path`), seed,
        precision, distribute, resumable, resume (False where not resumable), save and
        tensorboard (`Path`s or None), the extra choices, name (the script's name) and
        backend.
    """
    if in_notebook():  # the kernel's argv is its own (-f kernel.json): flags from the env
        script = os.environ.get("KERAS_ZOO_TUTORIAL", "notebook")
        argv = shlex.split(os.environ.get("KERAS_ZOO_ARGS", ""))
    else:
        script, argv = Path(sys.argv[0]).stem or "tutorial", sys.argv[1:]
    parser = argparse.ArgumentParser(
        prog=script, description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    by_choice = None
    if isinstance(epochs, dict):  # {choice value: epochs} for the flag offering those values
        by_choice = next((flag for flag, values in choices.items() if set(epochs) == set(values)),
                         None)
        if by_choice is None:
            raise ValueError(f"epochs {epochs} must name every value of one choice flag, "
                             f"got choices {choices}")
    if epochs is not None:
        parser.add_argument("--epochs", type=int, default=None, help=f"default {epochs}")
    if batch_size is not None:
        parser.add_argument("--batch-size", type=int, default=batch_size)
    parser.add_argument("--data", choices=data, default=data[0],
                        help="embedded: offline data shipped with a dependency; "
                             "full: tensorflow-datasets (needs network once)")
    parser.add_argument("--smoke", action="store_true", help="tiny run for tests")
    parser.add_argument("--out", type=Path, default=Path("out") / script,
                        help="folder for figures and metrics.json")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--precision", choices=precision.POLICIES, default="float32",
                        help="mixed_*: 16-bit compute, float32 weights and outputs")
    parser.add_argument("--distribute", choices=("none", "data"), default="none",
                        help="data: split each batch over all devices (JAX)")
    if resumable:
        parser.add_argument("--resume", action="store_true",
                            help="continue an interrupted run from the backup in --out")
        parser.add_argument("--save", type=Path, default=None,
                            help="save each trained model as DIR/<name>.keras")
        parser.add_argument("--tensorboard", type=Path, default=None,
                            help="write TensorBoard logs under DIR/<name>")
    for flag, values in choices.items():
        parser.add_argument(f"--{flag.replace('_', '-')}", choices=values, default=values[0])
    args = parser.parse_args(argv)
    args.epochs, args.batch_size = getattr(args, "epochs", None), getattr(args, "batch_size", None)
    if args.epochs is None and epochs is not None:
        default = epochs[getattr(args, by_choice)] if by_choice else epochs
        args.epochs = SMOKE_EPOCHS if args.smoke else default
    for flag, value in (("--epochs", args.epochs), ("--batch-size", args.batch_size)):
        if value is not None and value < 1:
            parser.error(f"{flag} must be positive, got {value}")
    args.name, args.backend, args.start = script, keras.backend.backend(), time.perf_counter()
    args.choices = {flag: getattr(args, flag) for flag in choices}
    args.resumable, args.resume = resumable, getattr(args, "resume", False)
    args.save, args.tensorboard = getattr(args, "save", None), getattr(args, "tensorboard", None)
    if args.tensorboard is not None and importlib.util.find_spec("tensorboard") is None:
        parser.error("--tensorboard needs the tensorboard package: pip install tensorboard "
                     "(or keras_zoo[logs])")
    args.fits = set()  # the names given to `callbacks`, one backup folder each
    if args.distribute == "data" and args.backend != "jax":
        parser.error(distribute.UNSUPPORTED.get(args.backend, "--distribute data needs JAX"))
    _check_writable(parser, args.out)  # before any work, not after it
    note = _check_backup(parser, args) if resumable else None
    precision.set_precision(args.precision)  # before any model is built
    workarounds.fused_adam_on_torch()  # PyTorch's one-pass Adam update (torch backend)
    if args.distribute == "data":
        distribute.data_parallel()
    keras.utils.set_random_seed(args.seed)
    sys.excepthook = _excepthook
    used = "".join(f" {k}={v}" for k, v in (("epochs", args.epochs),
                                             ("batch_size", args.batch_size)) if v is not None)
    used += "".join(f" {k}={v}" for k, v, default in (
        ("precision", args.precision, "float32"), ("distribute", args.distribute, "none"))
        if v != default)
    if args.distribute == "data":
        used += f" devices={keras.distribution.distribution().num_model_replicas}"
    print(f"{script}: backend={args.backend} data={args.data}{used}"
          f"{' (smoke)' if args.smoke else ''}")
    if note:
        print(note)
    return args


def _check_writable(parser, out):
    """Create `out` and write a probe file in it, or stop with one line saying why."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write_test"
        probe.write_text("")
        probe.unlink()
    except OSError as err:
        parser.error(f"--out {out}: cannot write there ({err.strerror or err}); "
                     f"pass a writable folder")


def _settings(args):
    """What a backup must agree with to be resumed: the flags that change the run."""
    return {"backend": args.backend, "data": args.data, "epochs": args.epochs,
            "batch_size": args.batch_size, "seed": args.seed, "smoke": args.smoke,
            "choices": args.choices, "precision": args.precision,
            "distribute": args.distribute}


def _check_backup(parser, args):
    """--resume: the backup must come from the same flags. Otherwise: delete old backups.

    Returns a line to print when --resume finds nothing to resume, else None.
    """
    folder = args.out / BACKUP
    marker = folder / SETTINGS
    if not args.resume:
        if marker.exists():  # only a folder this module wrote
            shutil.rmtree(folder)
        return None
    if not marker.exists():
        return f"--resume: no backup in {folder}; starting from the beginning"
    saved, now = json.loads(marker.read_text()), _settings(args)
    differ = [f"{k}={saved.get(k)!r} (now {v!r})" for k, v in now.items() if saved.get(k) != v]
    if differ:
        parser.error(f"--resume: the backup in {folder} was made with other settings: "
                     f"{', '.join(differ)}; rerun with the same flags, or without --resume")
    return None


def callbacks(args, *extra, name="model"):
    """The callbacks for one `fit` of a tutorial: `extra`, a NaN stop, backup and logs.

    Args:
        args: from `setup`.
        *extra: the tutorial's own callbacks (e.g. `EarlyStopping`).
        name: names this `fit` in messages, its backup folder `--out/backup/<name>`, its
            history file and saved model; distinct for every `fit` of a run.

    Returns:
        A list for `fit(callbacks=...)`: `StopOnNaN`, then `extra`, then (where the
        tutorial is resumable) a `Backup`, the history (`--out/history.csv`, or
        `history_<name>.csv` for a named fit), and with `--save` / `--tensorboard` the
        model file and TensorBoard logs. The backup runs after `extra`, so that it records
        the epoch after they have acted on it (an early stop, a lowered learning rate).
    """
    if name in args.fits:
        raise ValueError(f"two fits are both named {name!r}: their backups would collide")
    args.fits.add(name)
    label = args.name if name == "model" else f"{args.name} ({name})"
    stop = StopOnNaN(label)
    if not args.resumable:
        return [stop, *extra]
    folder = args.out / BACKUP / name
    if not args.resume and folder.exists():
        shutil.rmtree(folder)  # a fresh run starts fresh
    marker = args.out / BACKUP / SETTINGS
    if not marker.exists():
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(json.dumps(_settings(args)) + "\n")
    stem = args.name if name == "model" else name
    logs = [HistoryCSV(args.out / ("history.csv" if name == "model" else f"history_{name}.csv"))]
    if args.save is not None:
        logs.append(SaveModel(args.save / f"{stem}.keras"))
    if args.tensorboard is not None:
        logs.append(keras.callbacks.TensorBoard(str(args.tensorboard / stem)))
    return [stop, *extra, Backup(folder, label, extra), *logs]


def small(args, *arrays, n=256):
    """The first `n` rows of each array with --smoke; the arrays unchanged otherwise."""
    out = tuple(a[:n] for a in arrays) if args.smoke else arrays
    return out if len(out) > 1 else out[0]


def verbose(args):
    """`verbose=` for `fit`: Keras' progress bar in a terminal or a notebook, one line per
    epoch when the output goes to a file or CI log, silent with --smoke."""
    if args.smoke:
        return 0
    return 1 if in_notebook() or sys.stdout.isatty() else 2


def savefig(fig, args, filename):
    """Save a matplotlib figure as a PNG under `args.out` (and show it in a notebook)."""
    path = args.out / filename
    args.out.mkdir(parents=True, exist_ok=True)  # recreated if it vanished during the run
    fig.savefig(path, dpi=110, bbox_inches="tight")
    if in_notebook():  # the saved PNG, whatever matplotlib backend the kernel has
        from IPython.display import Image, display

        display(Image(filename=str(path)))
    fig.clf()
    import matplotlib.pyplot as plt

    plt.close(fig)
    print(f"saved {path}")
    return path


def cpu_model():
    """The CPU's model name (from /proc/cpuinfo where there is one)."""
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f
                        if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def provenance(args):
    """Where and how a run was made: date (UTC), settings, machine, library versions."""
    packages = ("keras", "numpy", {"tensorflow": "tensorflow", "jax": "jaxlib",
                                   "torch": "torch"}[args.backend])
    return {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "seed": args.seed, "epochs": args.epochs, "batch_size": args.batch_size,
            "choices": args.choices, "precision": args.precision,
            "distribute": args.distribute,
            "machine": {"cpu": cpu_model(), "cores": os.cpu_count(),
                        "os": platform.system().lower(), "arch": platform.machine()},
            "versions": {"python": platform.python_version(),
                         **{p: importlib.metadata.version(p) for p in packages}}}


def report(args, **metrics):
    """Print the one final metrics line and write the run to `args.out/metrics.json`.

    The line reads `RESULT <tutorial> backend=... data=... key=value ... seconds=...`; the
    file adds the run's provenance under "run" (`provenance`). `scripts/results.py
    record out/` files such runs under `results/`, from which the README's table and
    `docs/results.md` are generated.
    """
    metrics = {k: getattr(v, "item", lambda v=v: v)() for k, v in metrics.items()}  # NumPy scalars
    metrics = {k: round(v, 4) if isinstance(v, float) else v for k, v in metrics.items()}
    record = {"tutorial": args.name, "backend": args.backend, "data": args.data,
              "smoke": args.smoke, **metrics,
              "seconds": round(time.perf_counter() - args.start, 1)}
    fields = " ".join(f"{k}={v}" for k, v in record.items() if k not in ("tutorial", "smoke"))
    undefined = sorted(k for k, v in record.items() if isinstance(v, float) and v != v)
    if undefined:  # strict JSON has no NaN: null, and the keys listed with the reason
        record.update({k: None for k in undefined})
        record["undefined"] = {"metrics": undefined,
                               "why": "NaN: nothing to measure in this run (e.g. an empty bin)"}
    record["run"] = provenance(args)
    args.out.mkdir(parents=True, exist_ok=True)  # recreated if it vanished during the run
    (args.out / "metrics.json").write_text(json.dumps(record, indent=1, allow_nan=False) + "\n")
    if args.resumable and (args.out / BACKUP / SETTINGS).exists():
        shutil.rmtree(args.out / BACKUP)  # the run is complete: nothing left to resume
    print(f"RESULT {args.name} {fields}", flush=True)
    return record
