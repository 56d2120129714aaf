"""`python -m keras_zoo`: list (from the index), index, info, train, eval, export.

Commands run in this process through `main([...])`; one `list` runs as its own process
to show that it imports no Keras. Training runs at `--smoke` size.
"""

import fnmatch
import json
import re
import subprocess
import sys
import warnings

import keras
import numpy as np
import pytest
from helpers import forward, subprocess_env

import keras_zoo
from keras_zoo import __main__ as zoo_main
from keras_zoo import cli, datasets
from keras_zoo.__main__ import INDEX, WRITE_COMMAND, main, read_index

MODELS = keras_zoo.list_models()
BACKEND = keras.backend.backend()
STALE = f"keras_zoo/data/models.json is out of date: run `{WRITE_COMMAND}`"
ON_TENSORFLOW_ONLY = pytest.mark.skipif(
    BACKEND != "tensorflow",
    reason="counts and layer tables do not depend on the backend: checked once on the "
           "TensorFlow run")
INFO_EVERYWHERE = ("lenet5", "dcgan", "transformer", "hopfield")  # graph, GAN, 2 inputs, none


# ---------------------------------------------------------------------------- the index


def test_index_has_the_registrys_names_families_tasks_and_summaries():
    index = read_index()
    assert sorted(index) == MODELS, STALE
    for name in MODELS:
        info, entry = keras_zoo.model_info(name), index[name]
        assert (entry["family"], entry["task"], entry["summary"]) == (
            info.family, info.task, info.summary), f"{name}: {STALE}"


@ON_TENSORFLOW_ONLY
def test_index_counts_and_shapes_are_those_of_shapes_only_builds(tmp_path, capsys):
    """Rewriting the index (every model built with `shapes_only`) gives the shipped file."""
    assert zoo_main.index(write=True, path=tmp_path / "models.json") == 0
    assert (tmp_path / "models.json").read_text() == INDEX.read_text(), STALE
    index = read_index()  # the lecture's numbers
    assert (index["lenet5"]["parameters"], index["lenet5"]["inputs"]) == (61_706, [[32, 32, 1]])
    assert (index["mlp"]["parameters"], index["mlp"]["inputs"]) == (669_706, [[28, 28, 1]])


def test_index_check_names_the_stale_models(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(zoo_main, "describe", lambda name: {"parameters": len(name)})
    stored, path = {n: {"parameters": len(n)} for n in MODELS}, tmp_path / "models.json"
    path.write_text(json.dumps({"models": stored}))
    assert zoo_main.index(path=path) == 0
    assert f"up to date ({len(MODELS)} models)" in capsys.readouterr().out
    stored["mlp"]["parameters"] = 0
    path.write_text(json.dumps({"models": stored}))
    assert zoo_main.index(path=path) == 1
    assert f"out of date for mlp; run `{WRITE_COMMAND}`" in capsys.readouterr().err


# ------------------------------------------------------------------------------- list

ROW = re.compile(r"^(\S+)\s+(\S+)\s+([\d,]+)\s+(\S+)\s+(\(.*\)|-)\s+(\S+)$")


def parse_rows(text):
    return {m[1]: m.groups()[1:] for m in map(ROW.match, text.splitlines()) if m}


def indexed(pattern="*", family=None):
    """The index's names that `list` should print (whether the index is current is
    test_index_has_the_registrys_names_families_tasks_and_summaries' business)."""
    return sorted(n for n, e in read_index().items() if fnmatch.fnmatch(n, pattern)
                  and family in (None, e["family"]))


def test_list_every_model_with_its_counts(capsys):
    assert main(["list"]) == 0
    rows = parse_rows(capsys.readouterr().out)
    assert sorted(rows) == indexed()
    assert rows["lenet5"] == ("cnn", "61,706", "416.52K", "(32, 32, 1)", "classification")
    assert rows["mlp"] == ("mlp", "669,706", "668.67K", "(28, 28, 1)", "classification")
    assert rows["resnet50"][2] == "4.09G"  # He et al.'s "3.8 x 10^9 FLOPs" counts 1000 fewer
    assert rows["gin_graph_classifier"][0] == "gnn" and rows["dcgan"][2:4] == ("-", "-")


def test_list_pattern_and_family(capsys):
    assert main(["list", "*_forecaster"]) == 0
    assert sorted(parse_rows(capsys.readouterr().out)) == indexed("*_forecaster")
    assert main(["list", "--family", "cnn"]) == 0
    assert sorted(parse_rows(capsys.readouterr().out)) == indexed(family="cnn")


@pytest.mark.bad_input
def test_list_unknown_family_names_the_families(capsys):
    assert main(["list", "--family", "bogus"]) == 1
    err = capsys.readouterr().err
    assert "no family 'bogus'; families: " in err and "cnn" in err


@pytest.mark.bad_input
def test_list_no_match(capsys):
    assert main(["list", "zzz*"]) == 1
    captured = capsys.readouterr()
    assert "no model matches 'zzz*'" in captured.err and captured.out == ""


# `python -m keras_zoo list`, reporting which modules the package and the command imported.
LIST_IN_A_WRAPPER = """
import json, runpy, sys
import keras_zoo
before = set(sys.modules)
sys.argv = ["python -m keras_zoo", "list", "l*"]
try:
    runpy.run_module("keras_zoo", run_name="__main__", alter_sys=True)
except SystemExit as exit:
    status = exit.code
print(json.dumps({"status": status, "package": sorted(before),
                  "command": sorted(set(sys.modules) - before)}))
"""
FRAMEWORKS = ("keras", "tensorflow", "jax", "torch", "numpy")


@pytest.mark.slow
@pytest.mark.skipif(BACKEND != "jax", reason="list imports no backend: run once, on the JAX run")
def test_list_subprocess_builds_nothing():
    proc = subprocess.run([sys.executable, "-c", LIST_IN_A_WRAPPER], capture_output=True,
                          text=True, timeout=120, env=subprocess_env(BACKEND))
    *printed, report = proc.stdout.strip().splitlines()
    report = json.loads(report)
    assert report["status"] == 0, proc.stderr[-3000:]
    assert sorted(parse_rows("\n".join(printed))) == indexed("l*")
    assert "backend" not in "\n".join(printed)
    # the command itself imports no framework and builds nothing; the package import
    # (which registers keras_zoo's classes for safe-mode loading) brings keras
    assert not [m for m in report["command"] if m.split(".")[0] in FRAMEWORKS]


# ------------------------------------------------------------------------------- info


@pytest.mark.parametrize("name", [
    n if n in INFO_EVERYWHERE or BACKEND == "tensorflow" else pytest.param(
        n, marks=pytest.mark.skip(reason="info for every model is checked once on the "
                                  "TensorFlow run; a few models here")) for n in MODELS])
def test_info(name, capsys):
    assert main(["info", name]) == 0
    out = capsys.readouterr().out
    info, entry = keras_zoo.model_info(name), read_index()[name]
    assert out.startswith(f"{name}  ({info.family}, {info.task})\n  {info.summary}\n")
    assert f"parameters  {entry['parameters']:,}\n" in out
    assert f"input       {cli.format_shapes(entry['inputs'])}\n" in out
    assert "tutorials   " in out
    table = f"{name}: {entry['parameters']:,} parameters" in out  # a table, the same count
    assert table or "(no layer table" in out
    assert table or not entry["inputs"]  # only a model without a layer graph has none


def test_info_names_the_tutorials_and_their_figures(capsys, monkeypatch, tmp_path):
    assert main(["info", "lenet5"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^tutorials .*lenet5_mnist\.py", out, re.M)
    # the README's results row of each tutorial, cell for cell
    readme = (cli.TUTORIALS.parent / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith("| `lenet5_mnist` |"))
    cells = [c.strip() for c in row.strip("|").split("|")]  # name, what, tf, jax, torch, bar
    figures = next(line for line in out.splitlines() if line.startswith("figures "))
    assert f"tensorflow {cells[2]}, jax {cells[3]}, torch {cells[4]} (bar {cells[5]})" in figures
    monkeypatch.setattr(cli, "TUTORIALS", tmp_path / "absent")
    assert main(["info", "mlp"]) == 0
    assert "source checkout" in capsys.readouterr().out


@pytest.mark.bad_input
def test_info_unknown_name_suggests_close_ones(capsys):
    assert main(["info", "lenet"]) == 1
    err = capsys.readouterr().err
    assert "Unknown model 'lenet'. Did you mean 'lenet5'" in err and err.count("\n") == 1


# ------------------------------------------------------------------------- train, eval


def test_train_then_eval_round_trip(tmp_path, capsys):
    """LeNet-5 on the embedded 28x28 digits: padded to 32x32, saved, reloaded, evaluated."""
    path = tmp_path / "out" / "lenet5.keras"
    assert main(["train", "lenet5", "--smoke", "--save", str(path)]) == 0
    assert f"saved {path}" in capsys.readouterr().out
    history = path.with_suffix(".history.csv").read_text().splitlines()
    assert history[0] == "epoch,accuracy,loss,val_accuracy,val_loss" and len(history) == 2
    assert main(["eval", str(path)]) == 0
    printed = re.search(r"loss (\S+), accuracy (\S+)$", capsys.readouterr().out.strip())
    model = keras_zoo.load(path)
    assert model.inputs[0].shape[1:] == (32, 32, 1) and model.compiled
    _, (x, y) = datasets.load_mnist("embedded")
    results = model.evaluate(cli.fit_images(x, (32, 32, 1)), y, verbose=0, return_dict=True)
    assert float(printed[1]) == pytest.approx(results["loss"], abs=6e-5)
    assert float(printed[2]) == pytest.approx(results["accuracy"], abs=6e-5)


@pytest.mark.bad_input
def test_train_stops_when_the_loss_is_no_longer_finite(tmp_path, capsys):
    """Adam moves every weight by about the learning rate: 1e30 overflows the logits."""
    path = tmp_path / "mlp.keras"
    assert main(["train", "mlp", "--smoke", "--learning-rate", "1e30", "--save", str(path)]) == 1
    err = capsys.readouterr().err
    assert re.fullmatch(r"keras_zoo train: mlp: training diverged, loss=(nan|inf) at epoch 1 "
                        r"of 1, batch \d+ of \d+; try a lower learning rate, or check the data "
                        r"for NaN and inf \(np.isfinite\(x\).all\(\)\); nothing saved "
                        r"\(e.g. a smaller --learning-rate\)\n", err), err
    assert not path.exists() and path.with_suffix(".history.csv").exists()


@pytest.mark.bad_input
@pytest.mark.parametrize("argv, message", [
    (["train", "unet"], "unet is not an image classifier; train works for: alexnet, "),
    (["train", "lenet"], "Did you mean 'lenet5'"),
    (["train", "mlp", "--save", "mlp.h5"], "--save must name a .keras file"),
    (["eval", "missing.keras"], "no file missing.keras"),
])
def test_train_and_eval_refuse_in_one_line(argv, message, capsys):
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


@pytest.mark.bad_input
def test_train_on_unavailable_data_says_so_in_one_line(monkeypatch, capsys):
    def offline(name):
        raise datasets.DatasetUnavailableError(f"cannot load {name!r} from tensorflow-datasets")

    monkeypatch.setattr(datasets, "load_tfds_images", offline)
    assert main(["train", "lenet5", "--data", "cifar10", "--smoke"]) == 1
    assert capsys.readouterr().err == ("keras_zoo train: cannot load 'cifar10' from "
                                       "tensorflow-datasets\n")


def test_fit_images_pads_a_little_resizes_more_and_matches_channels():
    x = np.random.default_rng(0).uniform(size=(2, 28, 28, 1)).astype("float32")
    padded = cli.fit_images(x, (32, 32, 1))  # LeNet-5: 2 pixels of zeros on every side
    np.testing.assert_array_equal(padded[:, 2:30, 2:30], x)
    assert padded.sum() == pytest.approx(x.sum())
    colour = cli.fit_images(x, (28, 28, 3))
    np.testing.assert_array_equal(colour[..., 2], x[..., 0])
    assert cli.fit_images(x, (56, 56, 1)).shape == (2, 56, 56, 1)
    np.testing.assert_allclose(cli.fit_images(colour, (28, 28, 1)), x, rtol=1e-6)


@pytest.fixture(scope="module")
def saved_lenet5(tmp_path_factory):
    """An uncompiled LeNet-5 in a .keras file."""
    path = tmp_path_factory.mktemp("export") / "lenet5.keras"
    keras_zoo.build("lenet5").save(path)
    return path


def test_eval_compiles_an_uncompiled_file(saved_lenet5, capsys):
    assert main(["eval", str(saved_lenet5)]) == 0
    assert re.search(r"1,000 images: loss \d+\.\d{4}, accuracy 0\.\d{4}$",
                     capsys.readouterr().out.strip())


# ----------------------------------------------------------------------------- export

WORKS_WITHOUT_EXTRAS = {"tensorflow": {"tf_saved_model", "litert"}, "jax": {"tf_saved_model"},
                        "torch": {"torch"}}
# ... and with the `export` extra (pyproject.toml); docs/cli.md's table says the same
WORKS_WITH_EXTRAS = {"tensorflow": {"onnx", "openvino"}, "jax": {"onnx"},
                     "torch": {"onnx", "openvino"}}


def run_exported(fmt, out, x):
    """The exported artifact's output for `x`, run by its own runtime."""
    if fmt in ("tf_saved_model", "litert"):
        import tensorflow as tf

        if fmt == "tf_saved_model":
            artifact = tf.saved_model.load(str(out))  # held: `serve` uses its variables
            return artifact.serve(x).numpy()
        with warnings.catch_warnings():  # tf.lite.Interpreter: deprecated, still there
            warnings.simplefilter("ignore")
            interpreter = tf.lite.Interpreter(model_path=str(out))
        source, = interpreter.get_input_details()
        interpreter.resize_tensor_input(source["index"], x.shape)
        interpreter.allocate_tensors()
        interpreter.set_tensor(source["index"], x)
        interpreter.invoke()
        return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    if fmt == "torch":
        import torch

        return torch.export.load(str(out)).module()(torch.from_numpy(x)).detach().numpy()
    if fmt == "onnx":
        ort = pytest.importorskip("onnxruntime")
        session = ort.InferenceSession(str(out))
        return session.run(None, {session.get_inputs()[0].name: x})[0]
    ov = pytest.importorskip("openvino")
    # float32, as exported: on a CPU with bfloat16 units (AVX512-BF16, AMX) OpenVINO's
    # default is bfloat16 inference, ~1e-3 off LeNet-5's logits
    compiled = ov.Core().compile_model(str(out), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    return compiled(x)[0]


@pytest.mark.parametrize("fmt", cli.EXPORT_FORMATS)
def test_export(fmt, saved_lenet5, tmp_path, capsys):
    """Where the format works: the artifact computes what the model does (a batch of 3:
    the batch size stays free). Elsewhere: one line, and Keras itself refuses too."""
    out = tmp_path / f"lenet5{cli.EXPORT_SUFFIX.get(fmt, '')}"
    problem = cli.export_problem(fmt)
    if fmt in WORKS_WITHOUT_EXTRAS[BACKEND]:
        assert problem is None
    elif fmt in WORKS_WITH_EXTRAS[BACKEND]:  # works, or names what to install
        assert problem is None or " not installed here (pip install " in problem
    else:  # not with Keras 3.15 on this backend (or only with what it lacks): says where
        assert problem and "rerun with KERAS_BACKEND=" in problem
    status = main(["export", str(saved_lenet5), str(out), "--format", fmt])
    err = capsys.readouterr().err
    model = keras_zoo.load(saved_lenet5)
    if problem is None:
        assert status == 0, err
        x = np.random.default_rng(0).uniform(size=(3, 32, 32, 1)).astype("float32")
        np.testing.assert_allclose(run_exported(fmt, out, x), forward(model, x),
                                   rtol=1e-4, atol=1e-5)
    else:
        assert status == 1 and err == f"keras_zoo export: {problem}\n" and not out.exists()
        with pytest.raises(Exception):  # noqa: B017 - the table is no stricter than Keras
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.export(str(out), format=fmt, verbose=False)


@pytest.mark.bad_input
def test_export_names_the_file_suffix_and_a_missing_file(saved_lenet5, tmp_path, capsys):
    fmt = sorted(WORKS_WITHOUT_EXTRAS[BACKEND])[-1]
    out = tmp_path / f"m{cli.EXPORT_SUFFIX.get(fmt, '')}"
    assert main(["export", str(tmp_path / "no.keras"), str(out), "--format", fmt]) == 1
    assert "keras_zoo.load: no file" in capsys.readouterr().err
    if fmt in cli.EXPORT_SUFFIX:
        assert main(["export", str(saved_lenet5), str(tmp_path / "m.bin"), "--format", fmt]) == 1
        assert f"writes a {cli.EXPORT_SUFFIX[fmt]} file" in capsys.readouterr().err
