"""Jupyter notebooks from the tutorials: `python -m keras_zoo notebooks DIR [NAMES...]`.

The tutorials are flat `# %%` scripts (py:percent), so each converts cell for cell with
jupytext; the scripts stay the one source and the notebooks are generated, never edited.
Each notebook starts with one settings cell that names the tutorial and leaves the flags
in `KERAS_ZOO_ARGS` (`tutorial.setup` reads both inside a kernel, where the kernel's own
argv means nothing to the script). A cell's title (`# %% Data: ...`) stays at the top of
its code as a comment: jupytext would otherwise read it as cell metadata, which Jupyter
does not show. The backend cannot be chosen in a cell: `import keras` reads
`KERAS_BACKEND` once, so it is set before the kernel starts.

Needs the `notebooks` extra (jupytext; nbclient and ipykernel to run the notebooks).
"""

import re
from pathlib import Path

from keras_zoo.cli import TUTORIALS, CliError

INSTALL = "pip install keras_zoo[notebooks]"
SETTINGS = '''\
# Settings: the flags the script takes on the command line, e.g. "--smoke --epochs 2"
import os
os.environ["KERAS_ZOO_TUTORIAL"] = "{name}"
os.environ["KERAS_ZOO_ARGS"] = os.environ.get("KERAS_ZOO_ARGS", "")'''
BACKEND_NOTE = (
    "Generated from `tutorials/{name}.py` by `python -m keras_zoo notebooks`; edit the "
    "script, not this notebook. The backend is whatever `KERAS_BACKEND` said when the "
    "kernel started (`import keras` reads it once), e.g. `KERAS_BACKEND=jax jupyter lab`; "
    "`KERAS_ZOO_ARGS` takes the script's flags.")
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
_TITLE = re.compile(r"^# %%[ \t]+(?!\[)(\S.*)$", re.MULTILINE)  # "# %% Data: ...", not "[markdown]"


def _jupytext():
    try:
        import jupytext
    except ImportError:
        raise CliError(f"writing notebooks needs jupytext: {INSTALL}") from None
    return jupytext


def _folder(tutorials_dir):
    folder = Path(TUTORIALS if tutorials_dir is None else tutorials_dir)
    if not folder.is_dir():
        raise CliError(f"no tutorials in {folder}: they come with a source checkout of "
                       "keras_zoo, not with an installed package")
    return folder


def tutorial_names(tutorials_dir=None):
    """The tutorials' names (script stems), sorted."""
    return sorted(p.stem for p in _folder(tutorials_dir).glob("*.py"))


def to_notebook(script):
    """One tutorial script as a notebook (an nbformat node): a note, settings, its cells."""
    jupytext = _jupytext()
    from nbformat.v4 import new_code_cell, new_markdown_cell

    script, name = Path(script), Path(script).stem
    text = _TITLE.sub(r"# %%\n# \1", script.read_text())  # titles stay visible, as comments
    nb = jupytext.reads(text, fmt="py:percent")
    nb.cells[:0] = [new_markdown_cell(BACKEND_NOTE.format(name=name)),
                    new_code_cell(SETTINGS.format(name=name))]
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    return nb


def write_notebooks(out_dir, tutorials_dir=None, names=None):
    """Write `<name>.ipynb` under `out_dir` for each tutorial (all, or `names`).

    Args:
        out_dir: folder for the notebooks, created if needed.
        tutorials_dir: the tutorial scripts; default the `tutorials/` folder of the source
            checkout (`keras_zoo.cli.TUTORIALS`).
        names: tutorial names (with or without `.py`); None: every tutorial.

    Returns:
        The notebooks' paths, in the order of `names` (else sorted).

    Raises:
        CliError: jupytext is missing, there is no tutorials folder, or a name is
            not a tutorial.
    """
    jupytext = _jupytext()
    folder = _folder(tutorials_dir)
    known = tutorial_names(folder)
    names = known if not names else [n.removesuffix(".py") for n in names]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise CliError(f"no tutorial named {', '.join(unknown)}; "
                            f"the tutorials: {', '.join(known)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in names:
        path = out / f"{name}.ipynb"
        jupytext.write(to_notebook(folder / f"{name}.py"), path, fmt="ipynb")
        paths.append(path)
    return paths
