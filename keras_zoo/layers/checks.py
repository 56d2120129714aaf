"""Input checks: a wrong input shape fails at the model's entrance, saying what it expected.

Keras' own check on a functional model skips a last axis of size 1 (so 3-channel images
pass into a 1-channel model) and, on JAX, `predict` skips it altogether; the error then
comes from deep inside the first layer, different on every backend. `InputShapeCheck`
is an identity layer with a strict `InputSpec`, which Keras checks on every call path.
"""

import keras
from keras import layers


@keras.saving.register_keras_serializable(package="keras_zoo")
class InputShapeCheck(layers.Layer):
    """Identity layer that rejects inputs whose per-example shape is not `shape`.

    Args:
        shape: the expected shape without the batch axis; `None` entries match anything.

    Raises (when called):
        ValueError: "... expected shape=(None, *shape), found shape=(...)".
    """

    def __init__(self, shape, **kwargs):
        super().__init__(**kwargs)
        self.shape = tuple(shape)
        self.input_spec = layers.InputSpec(shape=(None, *self.shape))

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "shape": list(self.shape)}


def checked_input(shape, name):
    """`keras.Input(shape)` followed by an `InputShapeCheck`: returns (inputs, x)."""
    inputs = keras.Input(shape=tuple(shape), name=name)
    return inputs, InputShapeCheck(shape, name=f"{name}_check")(inputs)
