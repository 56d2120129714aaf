"""`python -m keras_zoo notebooks`: the tutorials as Jupyter notebooks, and one of them run.

Converting is text work that does not depend on the backend: checked once, on the
TensorFlow run. Running a notebook needs a real kernel (a child process that imports Keras
again), so one quick tutorial runs, once, on the JAX run.
"""

import json
import re
import subprocess
import sys

import keras
import pytest

from keras_zoo import notebooks
from keras_zoo.__main__ import main
from keras_zoo.cli import TUTORIALS

nbformat = pytest.importorskip("nbformat", reason="the notebooks extra is not installed")

BACKEND = keras.backend.backend()
SCRIPTS = sorted(TUTORIALS.glob("*.py"))
ON_TENSORFLOW_ONLY = pytest.mark.skipif(
    BACKEND != "tensorflow",
    reason="converting does not depend on the backend: checked once on the TensorFlow run")
RUN = "gnn_karate"  # the quickest tutorial in smoke mode


def code_cells(path):
    return [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def code_lines(text):
    return [line.strip() for line in text.splitlines() if line.strip()]


@ON_TENSORFLOW_ONLY
def test_every_tutorial_converts_cell_for_cell(tmp_path):
    paths = notebooks.write_notebooks(tmp_path)
    assert [p.name for p in paths] == [s.stem + ".ipynb" for s in SCRIPTS]
    for script, path in zip(SCRIPTS, paths):
        text, cells = script.read_text(), code_cells(path)
        assert cells[0] == notebooks.SETTINGS.format(name=script.stem), path.name
        headers = re.findall(r"^# %%(.*)$", text, re.MULTILINE)
        preamble = bool(text.split("# %%")[0].strip())  # the docstring: a cell of its own
        assert len(cells) == 1 + preamble + len(headers), path.name
        # the code survives verbatim; a cell's title becomes a comment on its first line
        expected = re.sub(r"^# %%[ \t]*", "# ", text, flags=re.MULTILINE)
        assert code_lines("\n".join(cells[1:])) == [
            line for line in code_lines(expected) if line != "#"], path.name


@ON_TENSORFLOW_ONLY
def test_command_writes_the_named_notebooks(tmp_path, capsys):
    assert main(["notebooks", str(tmp_path), "mlp_mnist", "gnn_karate.py"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gnn_karate.ipynb", "mlp_mnist.ipynb"]
    assert f"wrote 2 notebooks to {tmp_path}" in capsys.readouterr().out
    nb = nbformat.read(tmp_path / "mlp_mnist.ipynb", as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert "KERAS_BACKEND" in nb.cells[0].source  # the note: the backend is the kernel's


@pytest.mark.bad_input
@ON_TENSORFLOW_ONLY
def test_unknown_tutorial_is_one_line(tmp_path, capsys):
    assert main(["notebooks", str(tmp_path), "gnn_karat"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("keras_zoo notebooks: no tutorial named gnn_karat;")
    assert "gnn_karate" in err  # the list of tutorials
    assert err.count("\n") == 1 and not list(tmp_path.iterdir())


@pytest.mark.bad_input
@ON_TENSORFLOW_ONLY
def test_without_jupytext_the_message_names_the_extra(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "jupytext", None)  # `import jupytext` raises ImportError
    assert main(["notebooks", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err == "keras_zoo notebooks: writing notebooks needs jupytext: " \
                  "pip install keras_zoo[notebooks]\n"


EXECUTE = """
import sys, nbclient, nbformat
nb = nbformat.read(sys.argv[1], as_version=4)
nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                        resources={"metadata": {"path": sys.argv[2]}}).execute()
nbformat.write(nb, sys.argv[1])
"""


@pytest.mark.slow
@pytest.mark.skipif(BACKEND != "jax",
                    reason="a real kernel imports Keras again: one notebook, on the JAX run")
def test_a_notebook_runs_in_a_kernel(tmp_path, monkeypatch):
    pytest.importorskip("nbclient")
    out = tmp_path / "out"
    [path] = notebooks.write_notebooks(tmp_path, names=[RUN])
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("import sys; print('KERNEL', sys.executable)"))
    nbformat.write(nb, path)
    # The kernel inherits this environment: the flags, and the suite's MPLBACKEND=Agg
    # (savefig shows the saved PNG, so figures display inline whatever the backend).
    monkeypatch.setenv("KERAS_ZOO_ARGS", f"--smoke --out {out}")
    monkeypatch.delenv("KERAS_ZOO_TUTORIAL", raising=False)
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    # nbclient runs in a child process: driving a kernel from the test process left JAX
    # computations of later tests in the same worker waiting forever.
    result = subprocess.run([sys.executable, "-c", EXECUTE, str(path), str(tmp_path)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    nb = nbformat.read(path, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert f"KERNEL {sys.executable}" in printed  # this environment's Python, not another
    assert re.search(rf"^RESULT {RUN} backend=jax ", printed, re.MULTILINE), printed[-2000:]
    assert any("image/png" in o.get("data", {}) for o in outputs if
               o.output_type == "display_data"), "no inline figure"
    metrics = json.loads((out / "metrics.json").read_text())
    assert (metrics["tutorial"], metrics["backend"], metrics["smoke"]) == (RUN, "jax", True)
