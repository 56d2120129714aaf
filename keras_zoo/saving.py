"""`keras_zoo.load`: a safe-mode `.keras` loader that works across backends and says what
is wrong in one line.

`keras.saving.load_model` restores a compiled model with the compile settings of the
backend that saved it: a file saved on PyTorch names its optimizer by the torch class
(`keras.src.backend.torch.optimizers...`), whose first `fit` step then fails on
TensorFlow; a file saved on JAX keeps `jit_compile=True`, which sends `fit` on PyTorch
through `torch.compile`. `load` rewrites those two settings to their backend-neutral form
(the public optimizer class, `jit_compile="auto"`) before Keras reads the file; weights and
optimizer state load unchanged. Its errors name the problem: a missing or truncated file,
a file that is not a `.keras` archive, a class that is not registered.
"""

import json
import tempfile
import zipfile
from pathlib import Path

import keras

__all__ = ["load"]

_BACKEND_MODULES = "keras.src.backend."


def _neutral_compile_config(config):
    """The compile config with the public optimizer class and `jit_compile="auto"`."""
    compile_config = dict(config.get("compile_config") or {})
    if not compile_config:
        return config, False
    changed = False
    optimizer = compile_config.get("optimizer")
    if isinstance(optimizer, dict) and str(optimizer.get("module", "")).startswith(
            _BACKEND_MODULES):
        compile_config["optimizer"] = {**optimizer, "module": "keras.optimizers"}
        changed = True
    if compile_config.get("jit_compile") not in (None, "auto"):
        compile_config["jit_compile"] = "auto"  # each backend decides for itself
        changed = True
    return {**config, "compile_config": compile_config}, changed


def load(path, compile=True, safe_mode=True):  # noqa: A002 - keras' own argument name
    """Load a `.keras` file saved on any backend, ready to predict and to train here.

    Args:
        path: the `.keras` file.
        compile: restore the compile settings (backend-neutral, see the module docstring).
        safe_mode: Keras' safe mode (no arbitrary code from the file); keep it on.

    Returns:
        The `keras.Model`.

    Raises:
        FileNotFoundError: no such file.
        ValueError: not a `.keras` archive (e.g. truncated), or it uses a class that is
            not registered; the message says which and what to do.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"keras_zoo.load: no file {path}")
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as err:
        raise ValueError(f"keras_zoo.load: {path} is not a complete .keras archive "
                         f"({type(err).__name__}: {err}); it may be truncated, or saved in "
                         f"another format (.h5, .weights.h5)") from None
    config, changed = _neutral_compile_config(config) if compile else (config, False)
    try:
        if not changed:
            return keras.saving.load_model(path, compile=compile, safe_mode=safe_mode)
        with tempfile.TemporaryDirectory() as tmp:
            patched = Path(tmp) / path.name
            with zipfile.ZipFile(path) as archive, zipfile.ZipFile(patched, "w") as out:
                for item in archive.infolist():
                    data = (json.dumps(config).encode() if item.filename == "config.json"
                            else archive.read(item.filename))
                    out.writestr(item, data)
            return keras.saving.load_model(patched, compile=compile, safe_mode=safe_mode)
    except TypeError as err:
        if "Could not locate class" in str(err) or "could not be deserialized" in str(err):
            raise ValueError(
                f"keras_zoo.load: {path} uses a class that is not registered here "
                f"({str(err).splitlines()[0][:200]}); import the package that defines it "
                f"before loading") from None
        raise
