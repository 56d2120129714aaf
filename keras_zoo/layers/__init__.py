"""Custom layers, registered as "keras_zoo>Name" for safe-mode loading.

The foundation's models are built from stock Keras layers only; families that need
their own layers (graph convolutions, attention, ...) add them here.
"""

__all__: list[str] = []
