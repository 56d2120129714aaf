"""Layer tables as the lectures print them, and the homework CNN's spec checks."""

import numpy as np
import pytest

import keras_zoo
from keras_zoo.summary import COLUMNS, count_macs, shapes_only

# Homework 4, "make the design more flexible": [8, 16, 32, "pool"] on 30x30x3, 5 classes.
HOMEWORK_TABLE = [
    # layer, type, size, kernel, stride, activation, maps
    ("image", "Input", "30x30", "", "", "", "3"),
    ("conv1", "Conv", "28x28", "3x3", "1", "", "8"),
    ("relu1", "ReLU", "28x28", "", "", "relu", "8"),
    ("conv2", "Conv", "26x26", "3x3", "1", "", "16"),
    ("relu2", "ReLU", "26x26", "", "", "relu", "16"),
    ("conv3", "Conv", "24x24", "3x3", "1", "", "32"),
    ("relu3", "ReLU", "24x24", "", "", "relu", "32"),
    ("pool1", "Max Pool", "12x12", "2x2", "2", "", "32"),
    ("linear", "Dense", "5", "", "", "", ""),
]

# "Modern architectures", the LeNet-5 table.
LENET5_TABLE = [
    ("image", "Input", "32x32", "", "", "", "1"),
    ("C1", "Conv", "28x28", "5x5", "1", "tanh", "6"),
    ("S2", "Ave", "14x14", "2x2", "2", "tanh", "6"),
    ("C3", "Conv", "10x10", "5x5", "1", "tanh", "16"),
    ("S4", "Ave", "5x5", "2x2", "2", "tanh", "16"),
    ("C5", "Conv", "1x1", "5x5", "1", "tanh", "120"),
    ("F6", "Dense", "84", "", "", "tanh", ""),
    ("Out", "Dense", "10", "", "", "", ""),
]


def as_tuples(rows):
    return [tuple(row[c] for c in COLUMNS) for row in rows]


def test_homework_cnn_table():
    model = keras_zoo.build("cnn_from_spec", spec=[8, 16, 32, "pool"], input_shape=(30, 30, 3),
                            num_classes=5)
    assert as_tuples(keras_zoo.layer_table(model, merge_activations=False)) == HOMEWORK_TABLE


def test_homework_cnn_table_merged():
    model = keras_zoo.build("cnn_from_spec")
    rows = as_tuples(keras_zoo.layer_table(model))  # ReLU rows folded into the convs
    assert [r[0] for r in rows] == ["image", "conv1", "conv2", "conv3", "pool1", "linear"]
    assert [r[5] for r in rows[1:4]] == ["relu"] * 3


def test_lenet5_table():
    model = keras_zoo.build("lenet5")
    assert as_tuples(keras_zoo.layer_table(model)) == LENET5_TABLE


def test_format_layer_table():
    text = keras_zoo.format_layer_table(keras_zoo.build("lenet5"))
    lines = text.splitlines()
    assert lines[0].split() == list(COLUMNS)
    assert set(lines[1]) == {"-"}
    assert lines[-1] == "lenet5: 61,706 parameters"
    assert lines[3].split() == ["C1", "Conv", "28x28", "5x5", "1", "tanh", "6"]
    assert len(lines) == 2 + len(LENET5_TABLE) + 1


def test_print_layer_table(capsys):
    model = keras_zoo.build("cnn_from_spec")
    keras_zoo.print_layer_table(model, merge_activations=False)
    out = capsys.readouterr().out
    assert out.strip() == keras_zoo.format_layer_table(model, merge_activations=False)
    assert "Max Pool" in out and "cnn_from_spec: 29,077 parameters" in out


@pytest.mark.parametrize("name", keras_zoo.list_models())
def test_every_model_has_a_table(name):
    model = keras_zoo.build(name, **keras_zoo.model_info(name).smoke)
    if not getattr(model, "outputs", None):
        pytest.skip(f"{name} is a subclassed model: its parts have tables")
    rows = keras_zoo.layer_table(model)
    assert rows[0]["type"] == "Input"
    names = [row["layer"] for row in rows]
    assert len(set(names)) == len(names) and len(rows) >= 2
    out_layers = {out._keras_history.operation.name for out in model.outputs}
    assert out_layers & set(names) or rows[-1]["size"] in {
        str(out.shape[-1]) for out in model.outputs}, "the table stops before the output"
    assert all(set(row) == set(COLUMNS) for row in rows)


def test_recurrent_table():
    rows = as_tuples(keras_zoo.layer_table(keras_zoo.build("lstm_forecaster")))
    assert rows == [("window", "Input", "12", "", "", "", "1"),
                    ("lstm1", "LSTM", "64", "", "", "tanh", ""),
                    ("forecast", "Dense", "1", "", "", "", "")]


# ------------------------------------------------------------------ cnn_from_spec checks


@pytest.mark.parametrize("item", ["conv", 0, -3, True, 2.5, None])
def test_cnn_from_spec_rejects_bad_items(item):
    with pytest.raises(ValueError, match="positive int .* or 'pool'") as err:
        keras_zoo.build("cnn_from_spec", spec=[8, item, "pool"])
    assert repr(item) in str(err.value)


def test_cnn_from_spec_rejects_a_spec_that_shrinks_below_1x1():
    with pytest.raises(ValueError, match=r"shrinks a \(6, 6\) input below 1x1 at conv3"):
        keras_zoo.build("cnn_from_spec", spec=[4, 4, 4], input_shape=(6, 6, 1))
    keras_zoo.build("cnn_from_spec", spec=[4, 4], input_shape=(5, 5, 1))  # 1x1 is fine


def test_cnn_from_spec_rejects_pooling_below_1x1():
    with pytest.raises(ValueError, match="below 1x1"):
        keras_zoo.build("cnn_from_spec", spec=[4, "pool", "pool"], input_shape=(5, 5, 1))


def test_shapes_only_counts_without_weights_and_leaves_nothing_behind():
    with shapes_only():
        vgg = keras_zoo.build("vgg16")
    assert vgg.count_params() == 138_357_544
    assert count_macs(vgg) == 15_470_264_320
    # The deferred weights are forgotten: the next model trains normally (on JAX the
    # training step's stateless scope would otherwise allocate VGG's 138M weights).
    model = keras_zoo.build("mlp", input_shape=(4,), units=(3,), num_classes=2)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(np.zeros((2, 4), "float32"), np.zeros(2, "int32"), verbose=0)
    assert all(w._value is None for w in vgg.weights)  # still never allocated
