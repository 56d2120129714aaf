"""The CNN zoo: parameter counts against keras.applications and the papers, multiply-adds
and depth, the blocks' wiring, and a NumPy reference for the channel shuffle.

Where each figure comes from is said next to it. torchvision counts only trainable
parameters (no BatchNorm running statistics) and uses no conv biases in ResNets, so its
figures are compared with `trainable - conv biases`.
"""

import keras
import numpy as np
import pytest

import keras_zoo
from keras_zoo.layers import ChannelShuffle, ChannelSplit
from keras_zoo.models.classic import INCEPTION_V1, apply_inception_block
from keras_zoo.models.mobile import apply_inverted_residual_block, apply_shuffle_block
from keras_zoo.models.resnet import apply_basic_block, apply_bottleneck_block
from keras_zoo.summary import count_depth, count_macs, layer_macs, shapes_only

CNNS = ("alexnet", "vgg16", "vgg19", "googlenet", "resnet18", "resnet34", "resnet50",
        "resnet101", "resnet152", "mobilenet_v2", "shufflenet_v2")
_BUILT = {}


def imagenet(name):
    """The model at its ImageNet defaults (weight shapes only), built once per session."""
    if name not in _BUILT:
        with shapes_only():
            _BUILT[name] = keras_zoo.build(name)
    return _BUILT[name]


def trainable(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def conv_biases(model):
    return sum(int(np.prod(w.shape)) for w in model.weights
               if w.path.endswith("_conv/bias"))


def conv_params(k, c_in, c_out, groups=1, bias=True):
    return k * k * c_in // groups * c_out + (c_out if bias else 0)


# ------------------------------------------------------------------- parameter counts


@pytest.mark.parametrize("name,application", [
    ("vgg16", "VGG16"), ("resnet50", "ResNet50"), ("mobilenet_v2", "MobileNetV2")])
def test_parameters_equal_keras_applications(name, application):
    with shapes_only():
        reference = getattr(keras.applications, application)(weights=None)
    model = imagenet(name)
    assert model.count_params() == reference.count_params()
    assert trainable(model) == trainable(reference)
    assert model.output.shape == (None, 1000)


# keras.applications.<X>(weights=None).count_params(), measured with Keras 3.15.
KERAS_APPLICATIONS = {"vgg19": 143_667_240, "resnet101": 44_707_176, "resnet152": 60_419_944}
# torchvision.models.<name>().parameters() (its model cards' "num_params").
TORCHVISION = {"resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032,
               "resnet101": 44_549_160, "resnet152": 60_192_808, "mobilenet_v2": 3_504_872,
               "shufflenet_v2": 2_278_604}


@pytest.mark.parametrize("name", sorted(KERAS_APPLICATIONS))
def test_parameters_equal_keras_applications_figures(name):
    assert imagenet(name).count_params() == KERAS_APPLICATIONS[name]


@pytest.mark.parametrize("name", sorted(TORCHVISION))
def test_trainable_parameters_equal_torchvision(name):
    model = imagenet(name)
    assert trainable(model) - conv_biases(model) == TORCHVISION[name]


def test_resnet_without_biases_is_torchvision():
    model = keras_zoo.build("resnet18", use_bias=False)
    assert conv_biases(model) == 0 and trainable(model) == TORCHVISION["resnet18"]


@pytest.mark.parametrize("width,count", [  # torchvision shufflenet_v2_x0_5 ... x2_0
    (0.5, 1_366_792), (1.5, 3_503_624), (2.0, 7_393_996)])
def test_shufflenet_widths_equal_torchvision(width, count):
    assert trainable(keras_zoo.build("shufflenet_v2", width=width)) == count


def test_alexnet_parameters_by_hand():
    """Krizhevsky et al. 2012, Fig. 2: 96-256-384-384-256 filters, 6x6x256 -> 4096 -> 4096."""
    dense = (6 * 6 * 256 + 1) * 4096 + (4096 + 1) * 4096 + (4096 + 1) * 1000
    for groups in (1, 2):  # 2: the paper's two GPUs split conv2, conv4, conv5
        convs = (conv_params(11, 3, 96) + conv_params(5, 96, 256, groups)
                 + conv_params(3, 256, 384) + conv_params(3, 384, 384, groups)
                 + conv_params(3, 384, 256, groups))
        with shapes_only():
            model = keras_zoo.build("alexnet", groups=groups)
        assert model.count_params() == convs + dense
        assert round(model.count_params(), -6) == (62_000_000 if groups == 1 else 61_000_000)
    assert imagenet("alexnet").count_params() == 62_378_344  # the usual "62.3M"


def test_googlenet_parameters_from_table1():
    """Szegedy et al. 2015, Table 1: the filter columns give the count; "6.8M" weights."""
    def module(c_in, f):
        f1, r3, f3, r5, f5, fp = f
        return (conv_params(1, c_in, f1) + conv_params(1, c_in, r3) + conv_params(3, r3, f3)
                + conv_params(1, c_in, r5) + conv_params(5, r5, f5) + conv_params(1, c_in, fp))

    # Table 1's columns #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj, typed from
    # the paper (not from the code's INCEPTION_V1, which must equal them)
    table1 = {"3a": (64, 96, 128, 16, 32, 32), "3b": (128, 128, 192, 32, 96, 64),
              "4a": (192, 96, 208, 16, 48, 64), "4b": (160, 112, 224, 24, 64, 64),
              "4c": (128, 128, 256, 24, 64, 64), "4d": (112, 144, 288, 32, 64, 64),
              "4e": (256, 160, 320, 32, 128, 128), "5a": (256, 160, 320, 32, 128, 128),
              "5b": (384, 192, 384, 48, 128, 128)}
    assert INCEPTION_V1 == table1
    total, c_in = conv_params(7, 3, 64) + conv_params(1, 64, 64) + conv_params(3, 64, 192), 192
    for filters in table1.values():
        total += module(c_in, filters)
        c_in = filters[0] + filters[2] + filters[4] + filters[5]
    total += (c_in + 1) * 1000
    model = imagenet("googlenet")
    assert c_in == 1024 and model.count_params() == total
    weights_only = total - sum(int(np.prod(w.shape)) for w in model.weights
                               if w.path.endswith("bias"))
    # the table's per-layer figures run a little low (3a: "159K", its filters give 163K)
    assert abs(weights_only - 6.8e6) / 6.8e6 < 0.03


# ------------------------------------------------------------- multiply-adds and depth


def test_layer_macs_by_hand():
    inputs = keras.Input((8, 8, 4))
    conv = keras.layers.Conv2D(6, 3, padding="same", groups=2)  # 8*8*6 * 3*3*4/2
    depthwise = keras.layers.DepthwiseConv2D(3, strides=2, padding="same")  # 4*4*6 * 9
    separable = keras.layers.SeparableConv2D(5, 1)  # 4*4*6*1 + 4*4*6*5
    dense = keras.layers.Dense(3)  # 4*4*5 -> 3 on each of 4*4 positions
    x = dense(separable(depthwise(conv(inputs))))
    keras.Model(inputs, keras.layers.Flatten()(x))
    assert [layer_macs(layer) for layer in (conv, depthwise, separable, dense)] == [
        8 * 8 * 6 * 18, 4 * 4 * 6 * 9, 4 * 4 * 6 + 4 * 4 * 30, 4 * 4 * 5 * 3]
    assert layer_macs(keras.layers.ReLU()) == 0


def test_lenet5_macs_by_hand():
    # C1 28*28*6*25, C3 10*10*16*(25*6), C5 120*(25*16), F6 120*84, Out 84*10
    expected = 28 * 28 * 6 * 25 + 10 * 10 * 16 * 150 + 120 * 400 + 120 * 84 + 84 * 10
    assert count_macs(keras_zoo.build("lenet5")) == expected


# The papers' multiply-adds: VGG-16 15.5G (He et al. 2016 Table; "15.3 billion FLOPs"
# for VGG-19's 19.6G), ResNet 1.8 / 3.6 / 3.8 / 7.6 / 11.3G (He et al. 2016, Table 1,
# stride in the 1x1: ours strides in the 3x3, as torchvision's 4.1G for ResNet-50),
# GoogLeNet 1.5G (Szegedy et al. 2015), MobileNetV2 300M (Sandler et al. 2018, Table 4),
# ShuffleNetV2 1x 146M (Ma et al. 2018, Table 5). Tolerance: rounding in the papers.
PAPER_MACS = {"vgg16": 15.5e9, "vgg19": 19.6e9, "googlenet": 1.5e9, "resnet18": 1.8e9,
              "resnet34": 3.6e9, "resnet50": 4.1e9, "mobilenet_v2": 300e6,
              "shufflenet_v2": 146e6}


@pytest.mark.parametrize("name", sorted(PAPER_MACS))
def test_macs_match_the_papers(name):
    macs = count_macs(imagenet(name))
    assert abs(macs - PAPER_MACS[name]) / PAPER_MACS[name] < 0.06, f"{macs:,}"


PAPER_DEPTH = {"alexnet": 8, "vgg16": 16, "vgg19": 19, "googlenet": 22, "resnet18": 18,
               "resnet34": 34, "resnet50": 50, "resnet101": 101, "resnet152": 152,
               "mobilenet_v2": 53}


@pytest.mark.parametrize("name", sorted(PAPER_DEPTH))
def test_depth_is_the_papers(name):
    assert count_depth(imagenet(name)) == PAPER_DEPTH[name]


# --------------------------------------------------------------------------- blocks


def test_channel_shuffle_numpy_reference():
    x = np.arange(2 * 3 * 2 * 12, dtype="float32").reshape(2, 3, 2, 12)
    for groups in (2, 3, 4):
        expected = x.reshape(2, 3, 2, groups, 12 // groups).swapaxes(3, 4).reshape(x.shape)
        got = keras.ops.convert_to_numpy(ChannelShuffle(groups)(x))
        np.testing.assert_array_equal(got, expected)
    by_hand = keras.ops.convert_to_numpy(ChannelShuffle(2)(np.arange(6.0).reshape(1, 1, 1, 6)))
    np.testing.assert_array_equal(by_hand.ravel(), [0, 3, 1, 4, 2, 5])  # a0 b0 a1 b1 a2 b2
    with pytest.raises(ValueError, match="groups"):
        ChannelShuffle(4)(np.zeros((1, 2, 2, 6), "float32"))


def test_channel_split_halves():
    x = np.arange(8.0, dtype="float32").reshape(1, 1, 1, 8)
    left, right = (keras.ops.convert_to_numpy(t) for t in ChannelSplit()(x))
    np.testing.assert_array_equal(left.ravel(), [0, 1, 2, 3])
    np.testing.assert_array_equal(right.ravel(), [4, 5, 6, 7])
    with pytest.raises(ValueError, match="odd"):
        ChannelSplit()(np.zeros((1, 1, 1, 5), "float32"))


def _block_model(apply, shape=(6, 6, 8), **kwargs):
    inputs = keras.Input(shape)
    return keras.Model(inputs, apply(inputs, **kwargs))


def _zero(model, suffix):
    for w in model.weights:
        if w.path.endswith(suffix):
            w.assign(np.zeros(w.shape, "float32"))


@pytest.mark.parametrize("apply,kwargs,last_bn", [
    (apply_basic_block, {"filters": 8}, "b_2_bn"),
    (apply_bottleneck_block, {"filters": 2}, "b_3_bn")])
def test_residual_blocks_add_the_identity(apply, kwargs, last_bn):
    """With the residual branch's last BatchNorm zeroed, a block is ReLU(x)."""
    model = _block_model(apply, name="b", **kwargs)
    assert not any("_0_conv" in layer.name for layer in model.layers)  # identity shortcut
    _zero(model, f"{last_bn}/gamma")
    _zero(model, f"{last_bn}/beta")
    x = np.random.default_rng(0).normal(size=(2, 6, 6, 8)).astype("float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x)), np.maximum(x, 0),
                               atol=1e-6)


@pytest.mark.parametrize("apply,kwargs,channels", [
    (apply_basic_block, {"filters": 16, "strides": 2}, 16),
    (apply_bottleneck_block, {"filters": 4, "strides": 2}, 16)])
def test_residual_blocks_project_when_the_shape_changes(apply, kwargs, channels):
    model = _block_model(apply, name="b", **kwargs)
    assert model.output.shape == (None, 3, 3, channels)
    assert "b_0_conv" in [layer.name for layer in model.layers]


@pytest.mark.parametrize("size", [6, 7])
def test_strided_projection_is_a_strided_1x1_convolution(size, rng):
    """The shortcut's subsample + 1x1 conv equals Conv2D(1x1, strides=2, "same") (odd sizes too)."""
    block = _block_model(apply_basic_block, (size, size, 8), name="b", filters=16, strides=2)
    model = keras.Model(block.input, block.get_layer("b_0_conv").output)
    conv = model.get_layer("b_0_conv")
    strided = keras.layers.Conv2D(16, 1, strides=2, padding="same")
    x = rng.normal(size=(2, size, size, 8)).astype("float32")
    strided.build(x.shape)
    strided.set_weights([rng.normal(size=w.shape).astype("float32") for w in strided.weights])
    conv.set_weights(strided.get_weights())
    expected = keras.ops.convert_to_numpy(strided(x))  # (2, ceil(size / 2), ..., 16)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x)), expected, atol=1e-5)


def test_inverted_residual_is_linear_and_adds():
    """Zeroed projection BN: output = x exactly (no ReLU6 after the add: linear bottleneck)."""
    model = _block_model(apply_inverted_residual_block, filters=8, name="ir")
    _zero(model, "ir_project_bn/gamma")
    _zero(model, "ir_project_bn/beta")
    x = np.random.default_rng(0).normal(size=(2, 6, 6, 8)).astype("float32") * 10
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x)), x, atol=1e-5)
    strided = _block_model(apply_inverted_residual_block, filters=8, strides=2, name="ir")
    assert strided.output.shape == (None, 3, 3, 8)
    assert "ir_add" not in [layer.name for layer in strided.layers]
    assert "ir_expand" in [layer.name for layer in strided.layers]


def test_inception_block_branches():
    """Output = concat(1x1, 3x3, 5x5, pool proj); the first branch is ReLU(x @ W + b)."""
    model = _block_model(apply_inception_block, filters=(3, 2, 4, 2, 5, 6), name="inc")
    assert model.output.shape == (None, 6, 6, 3 + 4 + 5 + 6)
    x = np.random.default_rng(0).normal(size=(2, 6, 6, 8)).astype("float32")
    kernel, bias = (keras.ops.convert_to_numpy(w) for w in model.get_layer("inc_1x1").weights)
    expected = np.maximum(x @ kernel[0, 0] + bias, 0)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x))[..., :3], expected,
                               rtol=1e-5, atol=1e-5)


def test_shuffle_unit_passes_half_through():
    """Stride 1: the untouched half lands on the even channels after the shuffle."""
    model = _block_model(apply_shuffle_block, filters=8, name="u")
    x = np.random.default_rng(0).normal(size=(2, 6, 6, 8)).astype("float32")
    y = keras.ops.convert_to_numpy(model(x))
    np.testing.assert_allclose(y[..., 0::2], x[..., :4], atol=1e-6)
    assert np.all(y[..., 1::2] >= 0)  # the other branch ends in a ReLU
    down = _block_model(apply_shuffle_block, filters=16, strides=2, name="u")
    assert down.output.shape == (None, 3, 3, 16)


# ---------------------------------------------------------------- small variants, errors


@pytest.mark.parametrize("name,overrides", [
    ("alexnet", {"stem": "small", "width": 0.125, "dense_units": 16}),
    ("vgg16", {"width": 0.125, "dense_units": 16}),
    ("googlenet", {"stem": "small", "width": 0.125}),
    ("resnet18", {"stem": "small", "width": 0.25}),
    ("mobilenet_v2", {"stem": "small", "alpha": 0.35}),
    ("shufflenet_v2", {"stem": "small", "width": 0.5})])
def test_small_variants_accept_28x28_inputs_under_a_million_parameters(name, overrides):
    """The shapes of the raced variants (no weights, no digits: the tutorial trains them)."""
    with shapes_only():  # counts as a real build does (test_registry)
        model = keras_zoo.build(name, input_shape=(28, 28, 1), num_classes=10, **overrides)
    assert model.output.shape == (None, 10)
    assert model.count_params() < 1_000_000


@pytest.mark.parametrize("name,overrides,match", [
    ("resnet18", {"stem": "cifar"}, "stem"),
    ("googlenet", {"stem": "tiny"}, "stem"),
    ("shufflenet_v2", {"width": 0.75}, "width must be one of"),
    ("alexnet", {"groups": 2, "width": 0.01}, "groups")])
def test_bad_arguments(name, overrides, match):
    with pytest.raises(ValueError, match=match):
        keras_zoo.build(name, **overrides)
