"""Custom layers, registered as "keras_zoo>Name" for safe-mode loading."""

from keras_zoo.layers.checks import InputShapeCheck, checked_input

__all__ = ["InputShapeCheck", "checked_input"]
