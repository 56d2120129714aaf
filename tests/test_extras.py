"""Installs with one backend: keras_zoo works without the other backends and the extras.

pyproject.toml makes the backends (`jax`, `tensorflow`, `torch`) and the optional data and
tools (`graphs`, `full-data`, `logs`, `notebooks`, `export`) extras. A child process on
this run's backend, in which the other backends and every optional package look
uninstalled, imports keras_zoo, builds every registered model (shapes only; a few for
real, called on their example batch), loads the embedded data, and checks that each
loader of an optional package fails with the one line naming its extra.

Uninstalled: every finder on `sys.meta_path` is wrapped so that it does not find the
blocked top-level packages. `import x` then raises `ModuleNotFoundError` and
`importlib.util.find_spec(x)` returns None, as without the package; the child checks that
(and that nothing blocked was imported) before reporting.

The functions of keras_zoo.extras (`require`, `check_backend`) are tested here too, in
this process, and `check_backend` also as the package runs it: before Keras is imported.
"""

import json
import subprocess
import sys

import keras
import pytest
from helpers import subprocess_env

from keras_zoo import extras
from keras_zoo.datasets import DatasetUnavailableError, MissingDataExtraError, require_for_data

BACKEND = keras.backend.backend()
# The other backends' modules; tensorflow too where it is not the backend: Keras on JAX
# or PyTorch must not need it.
OTHER_BACKENDS = {"tensorflow": ("jax", "jaxlib", "torch"),
                  "jax": ("tensorflow", "torch"),
                  "torch": ("tensorflow", "jax", "jaxlib")}
# Every optional package: the extras graphs, full-data, logs, notebooks, export, and
# tf-keras (test only).
OPTIONAL = ("networkx", "rdkit", "spektral", "tensorflow_datasets", "importlib_resources",
            "tensorboard", "jupytext", "nbclient", "ipykernel", "onnx", "onnxruntime",
            "tf2onnx", "jax2onnx", "openvino", "tf_keras")
CALLED = ("lenet5", "gcn_node_classifier")  # small ones: a CNN and a GNN (CI time on JAX)

CHILD = r'''
import json, sys

BLOCKED = frozenset(sys.argv[1].split(","))
report = {"present_at_start": sorted(BLOCKED & {m.partition(".")[0] for m in sys.modules})}


class Uninstalled:
    """A `sys.meta_path` finder that does not find the blocked packages (else: as `finder`)."""

    def __init__(self, finder):
        self.finder = finder

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            return None
        find = getattr(self.finder, "find_spec", None)
        return find(name, path, target) if find else None

    def __getattr__(self, attribute):  # invalidate_caches, find_distributions, ...
        return getattr(self.finder, attribute)


sys.meta_path[:] = [Uninstalled(finder) for finder in sys.meta_path]

import contextlib, importlib, importlib.util, io


def error_of(fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except Exception as err:  # noqa: BLE001
        return {"classes": [c.__name__ for c in type(err).__mro__], "message": str(err)}
    return None


report["block"] = {name: {"find_spec": importlib.util.find_spec(name) is None,
                          "import": error_of(importlib.import_module, name)}
                   for name in sorted(BLOCKED)}

import keras
import keras_zoo
from keras_zoo import datasets, extras
from keras_zoo.datasets import graphs, molecules, text
from keras_zoo.summary import shapes_only

report["backend"] = keras.backend.backend()
report["models"] = keras_zoo.list_models()
failed = {}
with shapes_only():  # one scope for all: leaving it collects garbage, 0.1 s or more each
    for name in report["models"]:
        try:
            keras_zoo.build(name)
        except Exception as err:  # noqa: BLE001
            failed[name] = f"{type(err).__name__}: {err}"[:300]
report["failed_builds"] = failed

report["called"] = {}
for name in sys.argv[2].split(","):
    model = keras_zoo.build(name, **keras_zoo.model_info(name).smoke)
    x, _ = keras_zoo.example_batch(name, model, batch=2)
    y = model(x, training=False)
    report["called"][name] = [list(t.shape) for t in keras.tree.flatten(y)]

(x_train, _), (x_test, _) = datasets.load_mnist()
train_text, _ = text.load_char_corpus()
report["embedded"] = {"mnist": [len(x_train), len(x_test)], "text": len(train_text) > 0,
                      "photo": list(datasets.load_sample_photo().shape),
                      "airline": len(datasets.load_airline_passengers()[1])}
report["optional"] = {
    "karate club": error_of(graphs.load_karate_club),
    "smiles": error_of(molecules.smiles_to_graph, "CCO"),
    "nci": error_of(molecules.load_nci_tpsa, limit=5),
    "cora": error_of(graphs.load_planetoid, "cora"),
    "mnist full": error_of(datasets.load_mnist, "full"),
    "text full": error_of(text.load_char_corpus, "full"),
}
other = next(b for b in extras.BACKEND_MODULES if b != report["backend"])
report["other backend"] = [other, error_of(extras.check_backend, other)]

from keras_zoo import cli
from keras_zoo.__main__ import main

report["export onnx"] = cli.export_problem("onnx")

with contextlib.redirect_stderr(io.StringIO()) as err:
    status = main(["train", "lenet5", "--data", "mnist", "--smoke"])
report["cli"] = [status, err.getvalue()]
report["imported"] = sorted(BLOCKED & {m.partition(".")[0] for m in sys.modules})
print(json.dumps(report))
'''


def one_line(error, classes, package, extra):
    """The message of `error`, after checking that it is one line, an instance of all the
    `classes`, and (given `package`) ends naming the package and the extra to install."""
    assert error is not None, "no error"
    assert set(classes) <= set(error["classes"]), error
    message = error["message"]
    assert "\n" not in message, message
    if package is not None:
        assert message.endswith(f" needs {package}: pip install 'keras_zoo[{extra}]'"), message
    return message


# ---------------------------------------------------------------- in this process


def test_require_returns_the_module_or_one_line_naming_the_extra(monkeypatch):
    assert require_for_data("json", "graphs", "x") is json
    monkeypatch.setitem(sys.modules, "networkx", None)  # as if not installed
    with pytest.raises(MissingDataExtraError) as err:
        require_for_data("networkx", "graphs", "the karate club graph")
    assert isinstance(err.value, ImportError) and isinstance(err.value, DatasetUnavailableError)
    assert str(err.value) == "the karate club graph needs networkx: pip install 'keras_zoo[graphs]'"
    assert err.value.name == "networkx" and err.value.__cause__ is None
    with pytest.raises(extras.MissingExtraError) as err:  # there, but not that module
        extras.require("json.nothing_here", "full-data", "x")
    assert str(err.value) == ("x needs json, which fails to import here (ModuleNotFoundError: "
                              "No module named 'json.nothing_here'); "
                              "pip install 'keras_zoo[full-data]'")


def test_a_package_that_is_there_but_fails_to_import_says_why(tmp_path, monkeypatch):
    (tmp_path / "kz_broken").mkdir()
    (tmp_path / "kz_broken" / "__init__.py").write_text("import kz_missing_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(extras.MissingExtraError) as err:
        extras.require("kz_broken", "graphs", "the thing")
    assert str(err.value) == (
        "the thing needs kz-broken, which fails to import here (ModuleNotFoundError: No module "
        "named 'kz_missing_dependency'); pip install 'keras_zoo[graphs]'")


def test_check_backend_names_the_backends_extra(monkeypatch):
    monkeypatch.setattr(extras, "installed", lambda module: module not in ("torch", "jaxlib"))
    assert extras.check_backend("tensorflow") == "tensorflow"
    assert extras.check_backend("nonsense") == "nonsense"  # Keras names the choices itself
    with pytest.raises(extras.MissingExtraError) as err:
        extras.check_backend("jax")
    assert str(err.value) == ("the jax backend needs jaxlib: pip install 'keras_zoo[jax]', or "
                              "set KERAS_BACKEND=tensorflow (installed)")
    assert extras.check_backend() is None  # Keras is imported: nothing left to check


# keras_zoo/extras.py loaded alone, as the package's __init__ runs it: before Keras.
BEFORE_KERAS = """
import importlib.util, sys
sys.modules["torch"] = None  # as if not installed
spec = importlib.util.spec_from_file_location("extras", sys.argv[1])
extras = importlib.util.module_from_spec(spec)
spec.loader.exec_module(extras)
try:
    extras.check_backend()
except extras.MissingExtraError as err:
    print(err)
print(sorted(m for m in ("keras", "tensorflow", "jax") if m in sys.modules))
"""


@pytest.mark.slow
def test_check_backend_before_keras_reads_keras_backend(tmp_path):
    done = subprocess.run([sys.executable, "-c", BEFORE_KERAS, extras.__file__],
                          capture_output=True, text=True, timeout=60,
                          env={**subprocess_env("torch"), "KERAS_HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines() == [
        "the torch backend (KERAS_BACKEND) needs torch: pip install 'keras_zoo[torch]', "
        "or set KERAS_BACKEND=tensorflow or jax (installed)", "[]"]


def test_keras_backend_is_read_as_keras_reads_it(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    assert extras.keras_backend() == "torch"
    monkeypatch.delenv("KERAS_BACKEND")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert extras.keras_backend() == "tensorflow"  # no keras.json: Keras' default
    (tmp_path / "keras.json").write_text(json.dumps({"backend": "jax"}))
    assert extras.keras_backend() == "jax"


# ------------------------------------------------- a child with one backend, no extras


def run_child():
    """The child's report (JSON) on this run's backend, the other backends and extras blocked."""
    blocked = (*OTHER_BACKENDS[BACKEND], *OPTIONAL)
    done = subprocess.run([sys.executable, "-c", CHILD, ",".join(blocked), ",".join(CALLED)],
                          capture_output=True, text=True, timeout=300,
                          env=subprocess_env(BACKEND))
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


# One test, one child: pytest-xdist would start a child per worker for a shared fixture.
@pytest.mark.slow
def test_keras_zoo_with_one_backend_and_no_extras():
    report = run_child()
    # the block: what is blocked looks uninstalled, and stayed out of the process
    assert not report["present_at_start"], "imported before the block: not blocked"
    assert set(report["block"]) == {*OTHER_BACKENDS[BACKEND], *OPTIONAL}
    for name, got in report["block"].items():
        assert got["find_spec"], f"find_spec({name!r}) found it"
        assert got["import"] and "ModuleNotFoundError" in got["import"]["classes"], (name, got)
        assert got["import"]["message"] == f"No module named {name!r}"
    assert not report["imported"], "imported despite the block"

    # every model builds; small ones run
    assert report["backend"] == BACKEND
    assert len(report["models"]) > 40
    assert not report["failed_builds"]
    assert set(report["called"]) == set(CALLED)
    assert all(shape and shape[0] for shapes in report["called"].values() for shape in shapes)

    # embedded data needs no extra
    assert report["embedded"] == {"mnist": [4000, 1000], "text": True,
                                  "photo": [427, 640, 3], "airline": 144}

    # each missing optional package: one line naming its extra
    got = report["optional"]
    loader = ("MissingDataExtraError", "MissingExtraError", "ImportError",
              "DatasetUnavailableError")
    assert one_line(got["karate club"], loader, "networkx", "graphs") == (
        "the karate club graph needs networkx: pip install 'keras_zoo[graphs]'")
    assert one_line(got["smiles"], loader, "rdkit", "graphs").startswith("reading SMILES into")
    assert one_line(got["nci"], loader, "rdkit", "graphs").startswith("the NCI molecule set")
    assert one_line(got["cora"], loader, "spektral", "graphs") == (
        "loading 'cora' (the full data set) needs spektral: pip install 'keras_zoo[graphs]'")
    for key, name in (("mnist full", "mnist"), ("text full", "tiny_shakespeare")):
        assert one_line(got[key], loader, "tensorflow-datasets", "full-data") == (
            f"loading {name!r} (the full data set) needs tensorflow-datasets: "
            "pip install 'keras_zoo[full-data]'")

    # a missing backend, the CLI's `--data mnist` and `export --format onnx`
    other, error = report["other backend"]
    assert one_line(error, ["MissingExtraError"], None, None) == (
        f"the {other} backend needs {other}: pip install 'keras_zoo[{other}]', "
        f"or set KERAS_BACKEND={BACKEND} (installed)")
    status, err = report["cli"]
    assert status == 1 and err == (
        "keras_zoo train: loading 'mnist' (the full data set) needs tensorflow-datasets: "
        "pip install 'keras_zoo[full-data]'\n")
    assert " not installed here (pip install 'keras_zoo[export]')" in report["export onnx"]
