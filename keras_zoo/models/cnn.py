"""Convolutional networks: LeNet-5 and the homework's CNN built from a spec.

Lectures: "Modern architectures" (LeNet-5 table: C1, S2, C3, S4, C5, F6) and
"CNN, RNN, Transformer" (Homework 4, "make the design more flexible": `[8, 16, 32, "pool"]`).
LeCun, Bottou, Bengio & Haffner, "Gradient-based learning applied to document
recognition", Proc. IEEE 1998.
"""

from keras import layers

from keras_zoo.layers import checked_input
from keras_zoo.layers.conv import Conv2D
from keras_zoo.models.base import ZooModel
from keras_zoo.registry import register_model


def apply_conv_pool_block(x, filters, kernel_size=5, pool="average", activation="tanh",
                          name="C"):
    """LeNet's convolution then subsampling: conv (valid) -> pool 2x2 -> squashing.

    Args:
        x: tensor of shape (batch, height, width, channels).
        filters: number of feature maps.
        kernel_size: square kernel size.
        pool: "average" (LeNet's subsampling) or "max".
        activation: activation of the convolution and of the pooled maps.
        name: a pair "C1,S2" of layer names, or a prefix.

    Returns:
        Tensor of shape (batch, (height - k + 1) // 2, (width - k + 1) // 2, filters).
    """
    conv_name, pool_name = name.split(",") if "," in name else (f"{name}_conv", f"{name}_pool")
    x = Conv2D(filters, kernel_size, activation=activation, name=conv_name)(x)
    pool_layer = layers.AveragePooling2D if pool == "average" else layers.MaxPooling2D
    x = pool_layer(2, name=pool_name)(x)
    return layers.Activation(activation, name=f"{pool_name}_{activation}")(x)


@register_model
def lenet5(input_shape=(32, 32, 1), num_classes=10, activation="tanh", name="lenet5"):
    """LeNet-5 as in the lecture's table (61,706 parameters for 10 classes); logits out.

    In 32x32x1 (MNIST zero-padded) -> C1 conv 5x5x6 -> S2 avg-pool 2 -> C3 conv 5x5x16
    -> S4 avg-pool 2 -> C5 conv 5x5x120 -> F6 dense 84 -> Out dense `num_classes`,
    tanh everywhere (the pooled maps are squashed too, as in the table and the paper).

    Args:
        input_shape: (height, width, channels); 32x32 gives C5 an output of 1x1.
        num_classes: number of output logits.
        activation: the squashing function.
        name: model name.

    Returns:
        A functional `keras.Model` mapping (batch, 32, 32, 1) to (batch, num_classes).
    """
    if min(input_shape[:2]) < 32:
        raise ValueError(f"lenet5: input_shape={tuple(input_shape)} is too small; C5's 5x5 "
                         f"convolution needs at least 32x32 (pad 28x28 digits by 2 pixels, "
                         f"as LeCun et al. did)")
    inputs, x = checked_input(input_shape, name="image")
    x = apply_conv_pool_block(x, 6, activation=activation, name="C1,S2")  # (b, 14, 14, 6)
    x = apply_conv_pool_block(x, 16, activation=activation, name="C3,S4")  # (b, 5, 5, 16)
    x = Conv2D(120, 5, activation=activation, name="C5")(x)  # (b, 1, 1, 120)
    x = layers.Flatten(name="flatten")(x)  # (b, 120)
    x = layers.Dense(84, activation=activation, name="F6")(x)  # (b, 84)
    outputs = layers.Dense(num_classes, dtype="float32", name="Out")(x)  # (b, num_classes)
    return ZooModel(inputs, outputs, name=name)


def _check_spec(spec):
    for item in spec:
        ok = item == "pool" or (isinstance(item, int) and not isinstance(item, bool) and item > 0)
        if not ok:
            raise ValueError(
                f"cnn_from_spec: each spec item must be a positive int (filters of a 3x3 "
                f"conv) or 'pool' (2x2 max pool), got {item!r} in {list(spec)!r}"
            )


def _check_size(height, width, spec, input_shape, layer):
    if min(height, width) < 1:
        raise ValueError(
            f"cnn_from_spec: spec {list(spec)!r} shrinks a {tuple(input_shape[:2])} input "
            f"below 1x1 at {layer}; use a larger input_shape or fewer layers"
        )


@register_model(smoke={"spec": (4, "pool", 8)})
def cnn_from_spec(spec=(8, 16, 32, "pool"), input_shape=(30, 30, 3), num_classes=5,
                  kernel_size=3, name="cnn_from_spec"):
    """The homework's flexible CNN: an int adds a 3x3 valid conv + ReLU, "pool" a 2x2 max pool.

    For `[8, 16, 32, "pool"]` on 30x30x3 with 5 classes the layers are 28x28x8,
    26x26x16, 24x24x32, 12x12x32, then a linear classifier to 5 logits.

    Args:
        spec: sequence of ints (conv filters) and "pool".
        input_shape: (height, width, channels).
        num_classes: number of output logits.
        kernel_size: convolution kernel size.
        name: model name.

    Returns:
        A functional `keras.Model`; `keras_zoo.print_layer_table(model, merge_activations=False)`
        prints the lecture's table.
    """
    _check_spec(spec)
    height, width = input_shape[:2]
    inputs, x = checked_input(input_shape, name="image")
    n_conv, n_pool = 0, 0
    for item in spec:
        if item == "pool":
            n_pool += 1
            height, width = height // 2, width // 2
            _check_size(height, width, spec, input_shape, f"pool{n_pool}")
            x = layers.MaxPooling2D(2, name=f"pool{n_pool}")(x)
        else:
            n_conv += 1
            height, width = height - kernel_size + 1, width - kernel_size + 1
            _check_size(height, width, spec, input_shape, f"conv{n_conv}")
            x = Conv2D(item, kernel_size, name=f"conv{n_conv}")(x)
            x = layers.ReLU(name=f"relu{n_conv}")(x)
    x = layers.Flatten(name="flatten")(x)
    outputs = layers.Dense(num_classes, dtype="float32", name="linear")(x)
    return ZooModel(inputs, outputs, name=name)
