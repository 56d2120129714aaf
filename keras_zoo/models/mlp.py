"""Multilayer perceptrons: the fully connected networks of the lectures' first pages.

Lecture: "Neural network zoo" (feed-forward networks, forward and backward pass); the
PyTorch quick-start network 28*28 -> 512 -> 512 -> 10 that the lecture code shows.
"""

from keras import layers

from keras_zoo.layers import checked_input
from keras_zoo.models.base import ZooModel
from keras_zoo.registry import register_model


def apply_dense_block(x, units, activation="relu", dropout=0.0, name="dense"):
    """Dense -> activation -> optional dropout.

    Args:
        x: tensor of shape (batch, features).
        units: output width.
        activation: any Keras activation name.
        dropout: dropout rate after the activation (0 disables it).
        name: prefix for the layer names.

    Returns:
        Tensor of shape (batch, units).
    """
    x = layers.Dense(units, activation=activation, name=name)(x)
    if dropout:
        x = layers.Dropout(dropout, name=f"{name}_dropout")(x)
    return x


@register_model(smoke={"units": (32, 32)})
def mlp(input_shape=(28, 28, 1), num_classes=10, units=(512, 512), activation="relu",
        dropout=0.0, name="mlp"):
    """The lecture's MNIST network: flatten, 784 -> 512 -> 512 -> 10 with ReLU; logits out.

    Args:
        input_shape: shape of one example; it is flattened first.
        num_classes: number of output logits.
        units: width of each hidden layer.
        activation: hidden activation.
        dropout: dropout rate after each hidden layer.
        name: model name.

    Returns:
        A functional `keras.Model` mapping (batch, *input_shape) to (batch, num_classes).
    """
    inputs, x = checked_input(input_shape, name="image")
    x = layers.Flatten(name="flatten")(x)  # (batch, 784)
    for i, width in enumerate(units):
        x = apply_dense_block(x, width, activation, dropout, name=f"hidden{i + 1}")
    outputs = layers.Dense(num_classes, dtype="float32", name="logits")(x)  # (batch, num_classes)
    return ZooModel(inputs, outputs, name=name)
