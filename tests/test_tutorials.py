"""Every tutorial runs in --smoke mode under the current backend.

The tutorials are integration tests (as in d2l): registering a new script under
tutorials/ is enough to get it run here. They run in this test process with `runpy`, as
`python tutorials/<name>.py --smoke` would run them: a fresh interpreter would import
TensorFlow, JAX or torch again, several seconds per script. One script also runs in its
own interpreter (`test_a_tutorial_runs_as_a_script`), and so do the --data error paths,
whose exit codes and stderr are the point.
"""

import importlib.util
import json
import math
import os
import runpy
import signal
import subprocess
import sys
import types
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
import pytest

import keras_zoo
from keras_zoo import callbacks as zoo_callbacks
from keras_zoo import tutorial

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS_DIR = ROOT / "tutorials"
TUTORIALS = sorted(TUTORIALS_DIR.glob("*.py"))


def child_env(tmp_path):
    """The environment of a tutorial run in a child process on this backend."""
    return dict(os.environ, KERAS_BACKEND=keras.backend.backend(), MPLBACKEND="Agg",
                TFDS_DATA_DIR=str(tmp_path / "tfds"), TF_CPP_MIN_LOG_LEVEL="2")


def run_tutorial(script, *flags, tmp_path, timeout=600):
    """`python script flags` in a child process on this backend; the CompletedProcess."""
    return subprocess.run([sys.executable, str(script), *flags], cwd=tmp_path,
                          env=child_env(tmp_path), capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture
def run_in_process(monkeypatch, capsys, tmp_path):
    """`run_in_process(script, *flags)`: the script's stdout, run as `__main__` here.

    `tutorial.setup` replaces `sys.excepthook` and seeds Keras; the hook, `sys.argv` and
    the working directory are restored afterwards, figures closed and Keras' global
    state (layer names, deferred variables) cleared, so the next test starts clean.
    """

    def run(script, *flags):
        monkeypatch.setattr(sys, "argv", [str(script), *flags])
        monkeypatch.setattr(sys, "excepthook", sys.excepthook)
        monkeypatch.chdir(tmp_path)
        capsys.readouterr()
        try:
            runpy.run_path(str(script), run_name="__main__")
        finally:
            plt.close("all")
            keras.backend.clear_session()
        return capsys.readouterr().out

    return run


def check_smoke_run(script, stdout, out):
    """The shared contract: backend line, one final RESULT line, metrics.json, figures."""
    backend = keras.backend.backend()
    lines = stdout.strip().splitlines()
    assert f"backend={backend}" in lines[0]
    results = [line for line in lines if line.startswith("RESULT ")]
    assert len(results) == 1, stdout
    assert lines[-1] == results[0], "RESULT must be the last line"
    assert f"backend={backend}" in results[0]
    metrics = json.loads((out / "metrics.json").read_text(),  # strict JSON: no NaN
                         parse_constant=lambda c: pytest.fail(f"metrics.json holds {c}"))
    assert metrics["tutorial"] == script.stem and metrics["smoke"] is True
    run = metrics["run"]  # provenance, for scripts/results.py
    assert run["seed"] == 0 and run["date"].endswith("Z") and run["machine"]["cores"] >= 1
    assert set(run["versions"]) >= {"python", "keras", "numpy"}
    figures = list(out.glob("*.png"))
    assert figures, f"{script.name} saved no figure"
    assert all(f.stat().st_size > 5_000 for f in figures), "a figure is (nearly) empty"
    return results[0]


# Even a --smoke run (a batch or two) must beat chance here: a tutorial that runs but does
# not learn fails. Loose floors, far from the default runs' figures; where the value is
# an answer worked out in the lecture, it is exact.
SMOKE_FLOORS = {
    "mlp_mnist": lambda m: m["fit_test_accuracy"] >= 0.25 and m["loop_test_accuracy"] >= 0.2,
    "lenet5_mnist": lambda m: m["test_accuracy"] >= 0.25,  # chance: 0.1
    "cnn_architectures": lambda m: m["lenet5_accuracy"] >= 0.2,
    "cnn_basics": lambda m: (m["edge_top_left"], m["binary_top_left"], m["maxpool_ok"]) == (
        6, 4, True),  # the lecture's worked answers
    "boltzmann_machine": lambda m: m["pseudo_likelihood"] > m["pseudo_likelihood_start"] + 100,
    "hopfield_patterns": lambda m: m["t_recovered_exactly"] and m["energy_monotone"],
    "vae_mnist": lambda m: m["test_neg_elbo"] < 784 * np.log(2),  # below "0.5 everywhere"
}


def check_smoke_floor(script, out):
    floor = SMOKE_FLOORS.get(script.stem)
    if floor is not None:
        metrics = json.loads((out / "metrics.json").read_text())
        assert floor(metrics), f"{script.stem} --smoke learnt nothing: {metrics}"


def test_every_smoke_floor_names_a_tutorial():
    assert set(SMOKE_FLOORS) <= {t.stem for t in TUTORIALS}


def test_tutorials_exist():
    names = {t.stem for t in TUTORIALS}
    assert {"mlp_mnist", "cnn_basics", "lenet5_mnist", "lstm_timeseries"} <= names


@pytest.mark.parametrize("script", TUTORIALS, ids=lambda p: p.stem)
def test_tutorial_smoke(script, tmp_path, run_in_process, monkeypatch):
    guarded = []  # per fit: was it given tutorial.callbacks (the NaN stop among them)?
    logged = []  # per fit: does it write a history file?
    fit = keras.Model.fit

    def checked_fit(self, *args, callbacks=None, **kwargs):
        guarded.append(any(isinstance(c, zoo_callbacks.StopOnNaN) for c in callbacks or ()))
        logged.append(any(isinstance(c, zoo_callbacks.HistoryCSV) for c in callbacks or ()))
        return fit(self, *args, callbacks=callbacks, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", checked_fit)
    out = tmp_path / "out"
    check_smoke_run(script, run_in_process(script, "--smoke", "--out", str(out)), out)
    check_smoke_floor(script, out)
    assert all(guarded), (f"{script.stem}: a fit without callbacks=tutorial.callbacks(args): "
                          "a NaN loss would train on silently")
    assert not (out / "backup").exists(), "a finished run leaves no backup behind"
    if logged:  # resumable fits write their history: one row per epoch
        for history in out.glob("history*.csv"):
            assert history.read_text().startswith("epoch,"), history
        assert len(list(out.glob("history*.csv"))) == sum(logged), "a fit's history is missing"


@pytest.mark.slow
def test_a_tutorial_runs_as_a_script(tmp_path):
    """What a student types, in a fresh interpreter: nothing borrowed from the test process."""
    script, out = ROOT / "tutorials" / "cnn_basics.py", tmp_path / "out"
    proc = run_tutorial(script, "--smoke", "--out", str(out), tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    check_smoke_run(script, proc.stdout, out)


@pytest.mark.parametrize("argv,epochs", [
    ([], 60), (["--model", "dcgan"], 10), (["--model", "dcgan", "--epochs", "3"], 3),
    (["--model", "dcgan", "--smoke"], 1)])
def test_epochs_per_choice(monkeypatch, tmp_path, argv, epochs):
    monkeypatch.setattr(sys, "argv", ["gan_mnist.py", "--out", str(tmp_path), *argv])
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # setup() replaces it
    args = tutorial.setup("doc", epochs={"gan_mlp": 60, "dcgan": 10}, batch_size=8,
                          model=("gan_mlp", "dcgan"))
    assert args.epochs == epochs
    with pytest.raises(ValueError, match="must name every value of one choice flag"):
        tutorial.setup("doc", epochs={"gan_mlp": 60}, batch_size=8, model=("gan_mlp", "dcgan"))


def test_gan_tutorial_trains_the_dcgan(tmp_path, run_in_process):
    out = tmp_path / "out"
    script = ROOT / "tutorials" / "gan_mnist.py"
    result = check_smoke_run(script, run_in_process(script, "--model", "dcgan", "--smoke",
                                                    "--out", str(out)), out)
    assert "model=dcgan" in result
    assert (out / "dcgan_samples.png").stat().st_size > 5_000


@pytest.mark.skipif(keras.backend.backend() != "jax",
                    reason="the network is the same as for tic-tac-toe (smoke-tested on every "
                           "backend); the Connect Four path is NumPy: checked once, on JAX")
def test_alphazero_tutorial_plays_connect_four(tmp_path, run_in_process):
    out = tmp_path / "out"
    script = ROOT / "tutorials" / "alphazero_tictactoe.py"
    result = check_smoke_run(script, run_in_process(script, "--game", "connect4", "--smoke",
                                                    "--out", str(out)), out)
    assert "game=connect4" in result and "win_rate_vs_one_ply=" in result


@pytest.mark.bad_input
@pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                    reason="the data path is NumPy, the same on every backend: checked once, "
                           "on the TensorFlow run")
def test_full_data_offline_gives_one_line_error(tmp_path, monkeypatch):
    # A dead proxy on loopback makes the run offline even on a machine with network.
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    proc = run_tutorial(ROOT / "tutorials" / "mlp_mnist.py", "--data", "full", "--smoke",
                        "--out", str(tmp_path / "out"), tmp_path=tmp_path, timeout=300)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "--data embedded" in last, proc.stderr[-2000:]


@pytest.mark.bad_input
def test_invalid_data_choice(run_in_process, capsys):
    with pytest.raises(SystemExit) as exit_:
        run_in_process(ROOT / "tutorials" / "mlp_mnist.py", "--data", "imagenet")
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'imagenet'" in err and "embedded" in err


@pytest.mark.bad_input
def test_unwritable_out_stops_before_any_work(run_in_process, capsys, tmp_path):
    taken = tmp_path / "a_file"
    taken.write_text("not a folder")
    with pytest.raises(SystemExit) as exit_:
        run_in_process(ROOT / "tutorials" / "mlp_mnist.py", "--smoke", "--out", str(taken))
    assert exit_.value.code == 2
    captured = capsys.readouterr()
    assert f"--out {taken}: cannot write there" in captured.err
    assert "backend=" not in captured.out  # stopped before the run started


@pytest.mark.bad_input
def test_metrics_are_strict_json_with_undefined_values_named(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["t.py", "--out", str(tmp_path / "gone" / "out")])
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # setup() replaces it
    args = tutorial.setup("doc", epochs=1, batch_size=2)
    (tmp_path / "gone" / "out").rmdir()  # the folder vanishes during the run
    record = tutorial.report(args, accuracy=0.5, long_inputs=float("nan"))
    text = (tmp_path / "gone" / "out" / "metrics.json").read_text()  # recreated
    loaded = json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} is not JSON"))
    assert loaded["long_inputs"] is None and loaded["accuracy"] == 0.5
    assert loaded["undefined"]["metrics"] == ["long_inputs"] and record == loaded


@pytest.mark.bad_input
@pytest.mark.parametrize("script,flag", [("gnn_karate", "--batch-size"),
                                         ("hopfield_patterns", "--epochs"),
                                         ("cnn_basics", "--epochs")])
def test_a_flag_the_tutorial_does_not_use_is_refused(script, flag, run_in_process, capsys):
    with pytest.raises(SystemExit) as exit_:
        run_in_process(ROOT / "tutorials" / f"{script}.py", flag, "3")
    assert exit_.value.code == 2
    assert f"unrecognized arguments: {flag} 3" in capsys.readouterr().err


@pytest.mark.bad_input
@pytest.mark.parametrize("script", ["hopfield_patterns", "rbf_network", "cnn_architectures",
                                    "cnn_basics"])
def test_resume_is_refused_where_nothing_can_be_resumed(script, run_in_process, capsys):
    with pytest.raises(SystemExit) as exit_:
        run_in_process(ROOT / "tutorials" / f"{script}.py", "--resume")
    assert exit_.value.code == 2
    assert "unrecognized arguments: --resume" in capsys.readouterr().err


# --- A NaN or infinite loss stops training with one line that says what to try ---------

@pytest.mark.bad_input
def test_stop_on_nan_checks_every_loss_of_a_batch():
    stop = zoo_callbacks.StopOnNaN("gan_mnist")
    stop.set_params({"epochs": 5, "steps": 40})
    stop.on_epoch_begin(2)
    stop.on_train_batch_end(6, {"loss": 0.3, "accuracy": math.nan})  # only losses count
    with pytest.raises(zoo_callbacks.TrainingDiverged) as diverged:
        stop.on_train_batch_end(7, {"d_loss": 0.7, "g_loss": math.inf})
    message = str(diverged.value)
    assert message.startswith("gan_mnist: training diverged, g_loss=inf at epoch 3 of 5, "
                              "batch 8 of 40;"), message
    assert "lower learning rate" in message and "NaN" in message and "\n" not in message


@pytest.mark.bad_input
def test_fit_stops_at_the_first_batch_whose_loss_is_nan(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["toy.py", "--out", str(tmp_path), "--epochs", "2"])
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # setup() replaces it
    args = tutorial.setup("doc", epochs=2, batch_size=4)
    x = np.ones((12, 3), "float32")
    x[5, 1] = np.nan  # in the second batch of four
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(zoo_callbacks.TrainingDiverged,
                       match=r"^toy \(linear\): training diverged, loss=nan at epoch 1 of 2, "
                             r"batch 2 of 3;"):
        model.fit(x, np.zeros(12), batch_size=4, epochs=2, shuffle=False, verbose=0,
                  callbacks=tutorial.callbacks(args, name="linear"))
    assert not (tmp_path / "backup" / "linear" / "latest.weights.h5").exists()  # no epoch ended


@pytest.mark.bad_input
def test_training_diverged_prints_one_line_without_traceback(capsys):
    try:
        raise zoo_callbacks.TrainingDiverged("toy: training diverged, loss=nan at epoch 1")
    except zoo_callbacks.TrainingDiverged as err:
        tutorial._excepthook(type(err), err, err.__traceback__)
    assert capsys.readouterr().err == "error: toy: training diverged, loss=nan at epoch 1\n"


# --- --resume: a run killed mid-fit continues from its backup --------------------------

# Kills the process (SIGKILL: no cleanup, as a power cut or the OOM killer would) right
# after the backup of the first epoch is on disk, then runs the script given after it.
KILL_AFTER_FIRST_BACKUP = """
import os, runpy, signal, sys
import keras
sys.path.insert(0, sys.argv[1])  # tests/: initial weights drawn as in the test process
from helpers import numpy_initializers_on_jax
numpy_initializers_on_jax()
back_up = keras.callbacks.BackupAndRestore.on_epoch_end
def on_epoch_end(self, epoch, logs=None):
    back_up(self, epoch, logs)
    if epoch == 0:
        os.kill(os.getpid(), signal.SIGKILL)
keras.callbacks.BackupAndRestore.on_epoch_end = on_epoch_end
sys.argv = sys.argv[2:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def metrics_of(out):
    """metrics.json without what differs between any two runs (date, machine, seconds)."""
    record = json.loads((out / "metrics.json").read_text())
    return {k: v for k, v in record.items() if k not in ("run", "seconds")}


@pytest.mark.bad_input
@pytest.mark.slow
def test_resume_continues_a_killed_run_as_if_never_interrupted(tmp_path, run_in_process):
    """Killed after epoch 1 of 2, resumed: the same numbers as a run never interrupted.

    Exact on every backend because the backup holds everything the second epoch draws
    on besides the weights and the optimizer: the NumPy / torch generators that shuffle
    the batches on JAX / torch (on TensorFlow, Keras shuffles NumPy arrays in the same
    order every epoch, so there is nothing to restore) and the model's seeds. Without
    the generators, the resumed run would shuffle its second epoch as the first.
    Only the killed run needs a process of its own; the uninterrupted one runs here
    meanwhile, and so does the resumed one, which has only the files on disk to go on.
    """
    script = ROOT / "tutorials" / "lenet5_mnist.py"
    flags = ("--smoke", "--epochs", "2")
    out = tmp_path / "resumed"
    killed = subprocess.Popen(
        [sys.executable, "-c", KILL_AFTER_FIRST_BACKUP, str(ROOT / "tests"), str(script),
         *flags, "--out", str(out)],
        cwd=tmp_path, env=child_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    try:
        run_in_process(script, *flags, "--out", str(tmp_path / "whole"))
        _, stderr = killed.communicate(timeout=600)
    finally:
        killed.kill()  # a no-op once it has died
    assert killed.returncode == -signal.SIGKILL, stderr[-3000:]
    backup = out / "backup" / "model"
    assert {"latest.weights.h5", "training_metadata.json", "state.pkl"} <= {
        f.name for f in backup.iterdir()}
    assert json.loads((backup / "training_metadata.json").read_text())["epoch"] == 1
    assert not (out / "metrics.json").exists()

    stdout = run_in_process(script, *flags, "--out", str(out), "--resume")
    assert f"lenet5_mnist: resumed after epoch 1 of 2 from {backup}" in stdout
    assert metrics_of(out) == metrics_of(tmp_path / "whole")
    assert not (out / "backup").exists()  # a finished run leaves nothing to resume


class Interrupted(Exception):
    pass


class EpochRecord(keras.callbacks.Callback):
    """A tutorial's own callback with per-epoch state (as gan_mnist's SampleGrid)."""

    def __init__(self, stop_at=None):
        super().__init__()
        self.seen, self.stop_at = [], stop_at

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.stop_at:
            raise Interrupted  # after the backup of the epoch before

    def on_epoch_end(self, epoch, logs=None):
        self.seen.append(epoch)


def test_backup_restores_history_generators_and_callbacks_in_process(tmp_path):
    """The pieces `Backup` adds to Keras' BackupAndRestore, on a toy model: a resumed fit
    returns the whole run's History, weights and callback state; a finished fit's backup
    makes a later fit train no further epoch."""
    data = np.random.default_rng(0).normal(size=(16, 4)).astype("float32")
    x, y = data[:, :3], data[:, 3:]

    def fit(*extra, backup=True):
        keras.utils.set_random_seed(0)  # as tutorial.setup does in each new run
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        model.compile(optimizer="adam", loss="mse")
        callbacks = [*extra, zoo_callbacks.Backup(tmp_path / "fit", "toy", extra[:1])] if backup \
            else list(extra)
        history = model.fit(x, y, batch_size=4, epochs=3, verbose=0, callbacks=callbacks)
        return history.history, model.get_weights()

    whole, whole_weights = fit(EpochRecord(), backup=False)
    with pytest.raises(Interrupted):
        fit(EpochRecord(), EpochRecord(stop_at=1))
    resumed, again = EpochRecord(), EpochRecord()
    history, weights = fit(resumed)
    assert history == whole and resumed.seen == [0, 1, 2]  # epoch 0 from the backup
    assert all(np.array_equal(a, b) for a, b in zip(weights, whole_weights))
    history, weights = fit(again)  # the backup of a finished fit: nothing left to train
    assert history == whole and again.seen == [0, 1, 2]
    assert all(np.array_equal(a, b) for a, b in zip(weights, whole_weights))


@pytest.mark.bad_input
def test_resume_refuses_a_backup_made_with_other_flags(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # setup() replaces it
    monkeypatch.setattr(sys, "argv", ["toy.py", "--out", str(tmp_path), "--epochs", "3"])
    args = tutorial.setup("doc", epochs=10, batch_size=4)
    tutorial.callbacks(args, name="first")  # a run that made its backup folders, then died
    with pytest.raises(ValueError, match="two fits are both named 'first'"):
        tutorial.callbacks(args, name="first")
    monkeypatch.setattr(sys, "argv", ["toy.py", "--out", str(tmp_path), "--epochs", "5",
                                      "--resume"])
    with pytest.raises(SystemExit) as exit_:
        tutorial.setup("doc", epochs=10, batch_size=4)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert f"--resume: the backup in {tmp_path / 'backup'} was made with other settings: " \
           "epochs=3 (now 5)" in err, err


def test_save_tensorboard_and_history(tmp_path, run_in_process):
    """--save keeps the trained model, --tensorboard writes logs, history.csv one row per
    epoch; the saved file loads with keras_zoo.load and predicts as the run's model did."""
    out, models, logs = tmp_path / "out", tmp_path / "models", tmp_path / "tb"
    run_in_process(TUTORIALS_DIR / "lenet5_mnist.py", "--smoke", "--epochs", "2", "--out",
                   str(out), "--save", str(models), "--tensorboard", str(logs))
    rows = (out / "history.csv").read_text().splitlines()
    assert rows[0].split(",")[:1] == ["epoch"] and [r.split(",")[0] for r in rows[1:]] == [
        "1", "2"]
    model = keras_zoo.load(models / "lenet5_mnist.keras")
    assert model.name == "lenet5" and model.compiled
    assert list((logs / "lenet5_mnist").rglob("events.out.tfevents.*"))


@pytest.mark.bad_input
def test_tensorboard_without_the_package_says_what_to_install(run_in_process, capsys,
                                                              monkeypatch, tmp_path):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "tensorboard" else find_spec(name, *a))
    with pytest.raises(SystemExit) as exit_:
        run_in_process(TUTORIALS_DIR / "lenet5_mnist.py", "--smoke", "--tensorboard",
                       str(tmp_path / "tb"))
    assert exit_.value.code == 2
    assert "--tensorboard needs the tensorboard package: pip install tensorboard" in (
        capsys.readouterr().err)


def test_setup_in_a_notebook_ignores_the_kernels_arguments(monkeypatch, tmp_path):
    """A Jupyter kernel's argv is `-f kernel.json`: the flags come from KERAS_ZOO_ARGS."""
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    monkeypatch.setattr(sys, "argv", ["ipykernel_launcher.py", "-f", "/run/kernel-1.json"])
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setenv("KERAS_ZOO_TUTORIAL", "mlp_mnist")
    monkeypatch.setenv("KERAS_ZOO_ARGS", f"--smoke --epochs 2 --out {tmp_path / 'o'}")
    args = tutorial.setup("doc", epochs=10, batch_size=32)
    assert (args.name, args.epochs, args.smoke, args.out) == ("mlp_mnist", 2, True,
                                                              tmp_path / "o")
    monkeypatch.setenv("KERAS_ZOO_ARGS", "")
    monkeypatch.chdir(tmp_path)
    assert tutorial.setup("doc", epochs=10, batch_size=32).epochs == 10  # the defaults
