"""keras_zoo: the neural network zoo of introductory deep-learning lectures, in Keras 3.

Every model runs unchanged on TensorFlow, JAX or PyTorch (`KERAS_BACKEND`).

    import keras_zoo
    keras_zoo.list_models()                      # ['cnn_from_spec', 'gru_forecaster', ...]
    model = keras_zoo.build("lenet5", num_classes=10)
"""

import os as _os

_BACKENDS = ("tensorflow", "jax", "torch")
_backend = _os.environ.get("KERAS_BACKEND")
if _backend is not None and _backend not in _BACKENDS:
    raise ImportError(
        f"KERAS_BACKEND={_backend!r} is not supported by keras_zoo; "
        f"expected one of {', '.join(_BACKENDS)}"
    )

from keras_zoo.extras import check_backend as _check_backend  # noqa: E402

_check_backend()  # the backend Keras would load is missing: one line naming its extra

# layers and models register themselves; distribute and precision: keras_zoo.<module>.<fn>
from keras_zoo import distribute, layers, models, precision  # noqa: E402,F401
from keras_zoo.registry import (  # noqa: E402
    ModelInfo,
    build,
    example_batch,
    list_families,
    list_models,
    model_info,
    register_model,
)
from keras_zoo.saving import load, plain_keras  # noqa: E402
from keras_zoo.summary import format_layer_table, layer_table, print_layer_table  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "ModelInfo",
    "__version__",
    "build",
    "example_batch",
    "format_layer_table",
    "layer_table",
    "list_families",
    "list_models",
    "load",
    "model_info",
    "plain_keras",
    "print_layer_table",
    "register_model",
]
