"""Custom layers, registered as "keras_zoo>Name" for safe-mode loading (one line per module)."""

from keras_zoo.layers.checks import InputShapeCheck, checked_input  # noqa: F401
