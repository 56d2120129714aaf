"""Optional packages: the extra that installs each, and one line when one is missing.

The core install (`pip install keras_zoo`) holds every model but no Keras backend; the
backend and the optional data and tools come as extras (pyproject.toml, docs/install.md):

    pip install "keras_zoo[jax]"             # or [tensorflow], [torch]: one backend
    pip install "keras_zoo[jax,graphs]"      # + rdkit, networkx, spektral (graph data)
    pip install "keras_zoo[all]"             # every backend and optional data set

Code that needs an optional package imports it through `require`, which raises
`MissingExtraError` (an `ImportError`) with one line: what needs which package, and the
`pip install` command of the extra that brings it. `check_backend` says the same of a
missing backend; it runs before `import keras`, so this module imports neither Keras nor
anything optional.
"""

import importlib
import importlib.util
import json
import os
import sys

# Keras backend -> the modules it imports (the `jax` package needs `jaxlib` to run).
BACKEND_MODULES = {"tensorflow": ("tensorflow",), "jax": ("jax", "jaxlib"), "torch": ("torch",)}


class MissingExtraError(ImportError):
    """An optional package is not installed; the message (one line) names the extra."""


def install_command(extra):
    """`pip install 'keras_zoo[extra]'`, quoted so that zsh does not read the brackets."""
    return f"pip install 'keras_zoo[{extra}]'"


def installed(module):
    """Whether the top-level package of `module` can be imported here (without importing it)."""
    try:
        return importlib.util.find_spec(module.partition(".")[0]) is not None
    except (ImportError, ValueError):  # an import hook refuses it; a module without a spec
        return False


def _first_line(err):
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0][:160] if text else 'no details'}"


def require(module, extra, what, error=MissingExtraError):
    """`importlib.import_module(module)`, or one line naming the extra to install.

    Args:
        module: the module to import, e.g. "networkx" or "spektral.datasets".
        extra: the keras_zoo extra that installs it, e.g. "graphs".
        what: what needs it, the start of the message, e.g. "the karate club graph".
        error: the exception class raised: `MissingExtraError` or a subclass of it.

    Returns:
        The imported module.

    Raises:
        `error`: "<what> needs <package>: pip install 'keras_zoo[<extra>]'", one line; when
            the package is there but fails to import, the line says why.
    """
    try:
        return importlib.import_module(module)
    except ImportError as err:
        top = module.partition(".")[0]
        package = top.replace("_", "-")
        if installed(top):  # there, but it (or something it imports) is broken or missing
            message = (f"{what} needs {package}, which fails to import here "
                       f"({_first_line(err)}); {install_command(extra)}")
        else:
            message = f"{what} needs {package}: {install_command(extra)}"
        raise error(message, name=top) from None


def keras_backend():
    """The backend `import keras` loads: $KERAS_BACKEND, else keras.json's, else tensorflow.

    Read as Keras reads it ($KERAS_HOME, else ~/.keras, else /tmp/.keras where the home
    folder is not writable), without importing Keras, which fails without its backend.
    """
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    home = os.path.expanduser("~")
    folder = os.environ.get("KERAS_HOME") or os.path.join(
        home if os.access(home, os.W_OK) else "/tmp", ".keras")
    try:
        with open(os.path.join(folder, "keras.json")) as f:
            return str(json.load(f).get("backend", "tensorflow"))
    except (OSError, ValueError, AttributeError):  # none, unreadable, or not a JSON object
        return "tensorflow"


def check_backend(backend=None):
    """Raise `MissingExtraError` when the Keras backend is not installed, else return its name.

    Meant to run before `import keras`, whose own error is a traceback from inside Keras.
    With `backend=None`: the backend `import keras` would load (`keras_backend()`), and
    None without a check once Keras is imported. An unknown name passes: Keras says what
    it expects.
    """
    if backend is None and "keras" in sys.modules:
        return None
    chosen = backend or keras_backend()
    modules = BACKEND_MODULES.get(chosen)
    missing = [m for m in modules or () if not installed(m)]
    if not missing:
        return chosen
    how = ("" if backend else " (KERAS_BACKEND)" if os.environ.get("KERAS_BACKEND")
           else " (no KERAS_BACKEND: keras.json's or Keras' default)")
    others = [b for b, mods in BACKEND_MODULES.items()
              if b != chosen and all(installed(m) for m in mods)]
    instead = f", or set KERAS_BACKEND={' or '.join(others)} (installed)" if others else ""
    raise MissingExtraError(f"the {chosen} backend{how} needs {missing[0]}: "
                            f"{install_command(chosen)}{instead}", name=missing[0])
