"""Every tutorial runs in --smoke mode under the current backend.

The tutorials are integration tests (as in d2l): registering a new script under
tutorials/ is enough to get it run here. They run in this test process with `runpy`, as
`python tutorials/<name>.py --smoke` would run them: a fresh interpreter would import
TensorFlow, JAX or torch again, several seconds per script. One script also runs in its
own interpreter (`test_a_tutorial_runs_as_a_script`), and so do the --data error paths,
whose exit codes and stderr are the point.
"""

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
import pytest

from keras_zoo import tutorial

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = sorted((ROOT / "tutorials").glob("*.py"))


def run_tutorial(script, *flags, tmp_path, timeout=600):
    """`python script flags` in a child process on this backend; the CompletedProcess."""
    env = dict(os.environ, KERAS_BACKEND=keras.backend.backend(), MPLBACKEND="Agg",
               TFDS_DATA_DIR=str(tmp_path / "tfds"), TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run([sys.executable, str(script), *flags], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=timeout)


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
def test_tutorial_smoke(script, tmp_path, run_in_process):
    out = tmp_path / "out"
    check_smoke_run(script, run_in_process(script, "--smoke", "--out", str(out)), out)
    check_smoke_floor(script, out)


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


def test_invalid_data_choice(run_in_process, capsys):
    with pytest.raises(SystemExit) as exit_:
        run_in_process(ROOT / "tutorials" / "mlp_mnist.py", "--data", "imagenet")
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'imagenet'" in err and "embedded" in err


def test_unwritable_out_stops_before_any_work(run_in_process, capsys, tmp_path):
    taken = tmp_path / "a_file"
    taken.write_text("not a folder")
    with pytest.raises(SystemExit) as exit_:
        run_in_process(ROOT / "tutorials" / "mlp_mnist.py", "--smoke", "--out", str(taken))
    assert exit_.value.code == 2
    captured = capsys.readouterr()
    assert f"--out {taken}: cannot write there" in captured.err
    assert "backend=" not in captured.out  # stopped before the run started


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


@pytest.mark.parametrize("script,flag", [("gnn_karate", "--batch-size"),
                                         ("hopfield_patterns", "--epochs"),
                                         ("cnn_basics", "--epochs")])
def test_a_flag_the_tutorial_does_not_use_is_refused(script, flag, run_in_process, capsys):
    with pytest.raises(SystemExit) as exit_:
        run_in_process(ROOT / "tutorials" / f"{script}.py", flag, "3")
    assert exit_.value.code == 2
    assert f"unrecognized arguments: {flag} 3" in capsys.readouterr().err
