"""Recurrent forecasters and sequence classifiers: MNIST read row by row, lecture cells.

Lecture: "Modern architectures" (recurrent networks, "Example: time series": sequences of
40 points, one prediction at the end; the LSTM and GRU cells) and the companion notebook's
LSTM on the airline passengers; lecture 03's many-to-one structure (an image read as a
sequence of 28 rows of 28 pixels). Elman 1990 (SimpleRNN); Cho et al. 2014 (GRU);
Hochreiter & Schmidhuber 1997 (LSTM).
"""

from keras import layers

from keras_zoo.layers import checked_input
from keras_zoo.layers.recurrent import GRU, LECTURE_CELLS, LSTM
from keras_zoo.models.base import ZooModel
from keras_zoo.registry import register_model
from keras_zoo.workarounds import default_unroll

# keras_zoo's LSTM and GRU are Keras' own, run by PyTorch's fused kernel on torch's CPU.
CELLS = {"rnn": layers.SimpleRNN, "gru": GRU, "lstm": LSTM}


def apply_recurrent_stack(x, cell, units, num_layers=1, dropout=0.0, unroll=False,
                          name="rnn", return_sequences=False):
    """`num_layers` recurrent layers; all but the last return the whole sequence.

    Args:
        x: tensor of shape (batch, time, features).
        cell: "rnn", "gru" or "lstm".
        units: hidden size of every layer.
        num_layers: how many layers to stack.
        dropout: dropout on each layer's inputs.
        unroll: unroll the time loop (fixed, short windows only).
        name: prefix for the layer names.
        return_sequences: the top layer returns every step too (many-to-many).

    Returns:
        Tensor of shape (batch, units): the last hidden state of the top layer, or
        (batch, time, units) with `return_sequences`.
    """
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
    for i in range(num_layers):
        last = i == num_layers - 1
        x = CELLS[cell](units, return_sequences=return_sequences or not last,
                        dropout=dropout, unroll=unroll, name=f"{name}{i + 1}")(x)
    return x


def _forecaster(cell, window, features, units, num_layers, horizon, dropout, unroll, name):
    if unroll == "auto":
        unroll = default_unroll(window, cell)
    inputs, x = checked_input((window, features), name="window")  # (batch, window, features)
    x = apply_recurrent_stack(x, cell, units, num_layers, dropout, unroll, name=cell)
    outputs = layers.Dense(horizon, dtype="float32", name="forecast")(x)  # (batch, horizon)
    return ZooModel(inputs, outputs, name=name)


@register_model(task="regression", smoke={"units": 8})
def rnn_forecaster(window=12, features=1, units=64, num_layers=1, horizon=1, dropout=0.0,
                   unroll="auto", name="rnn_forecaster"):
    """Elman RNN forecaster: past window -> next value.

    Args:
        window: number of past time steps in each input.
        features: values per time step.
        units: hidden size of each recurrent layer.
        num_layers: stacked recurrent layers.
        horizon: how many future values to predict.
        dropout: dropout on the recurrent layers' inputs.
        unroll: True, False or "auto" (`default_unroll`: SimpleRNN on torch only).
        name: model name.

    Returns:
        A functional `keras.Model` mapping (batch, window, features) to (batch, horizon).
    """
    return _forecaster("rnn", window, features, units, num_layers, horizon, dropout, unroll,
                       name)


@register_model(task="regression", smoke={"units": 8})
def gru_forecaster(window=12, features=1, units=64, num_layers=1, horizon=1, dropout=0.0,
                   unroll="auto", name="gru_forecaster"):
    """GRU forecaster: past window -> next value.

    Arguments and output: as `rnn_forecaster`, with a GRU cell.
    """
    return _forecaster("gru", window, features, units, num_layers, horizon, dropout, unroll,
                       name)


@register_model(task="regression", smoke={"units": 8})
def lstm_forecaster(window=12, features=1, units=64, num_layers=1, horizon=1, dropout=0.0,
                    unroll="auto", name="lstm_forecaster"):
    """LSTM forecaster: past window -> next value.

    Arguments and output: as `rnn_forecaster`, with an LSTM cell.
    """
    return _forecaster("lstm", window, features, units, num_layers, horizon, dropout, unroll,
                       name)


def apply_rows_block(x, name="rows"):
    """An image (batch, rows, cols, channels) as a sequence of rows (batch, rows, cols * ch)."""
    rows, cols, channels = x.shape[1:]
    return layers.Reshape((rows, cols * channels), name=name)(x)


def _row_classifier(input_shape, name):
    inputs, x = checked_input(input_shape, name="image")  # (batch, 28, 28, 1)
    return inputs, apply_rows_block(x)  # (batch, 28 steps, 28 pixels)


@register_model(smoke={"units": 8, "input_shape": (8, 8, 1)})
def rnn_classifier(input_shape=(28, 28, 1), cell="lstm", units=128, num_layers=1,
                   num_classes=10, dropout=0.0, unroll="auto", name="rnn_classifier"):
    """Many-to-one: an image read row by row (28 steps of 28 pixels) -> class logits.

    The lecture's example of an RNN on MNIST: each time step sees one row of pixels, the
    last hidden state sees the whole digit and feeds a dense layer.

    Args:
        input_shape: (rows, cols, channels); rows are the time steps.
        cell: "rnn" (SimpleRNN), "gru" or "lstm".
        units: hidden size of each recurrent layer.
        num_layers: stacked recurrent layers.
        num_classes: number of output logits.
        dropout: dropout on the recurrent layers' inputs.
        unroll: True, False or "auto" (`default_unroll`: SimpleRNN on torch only).
        name: model name.

    Returns:
        A functional `keras.Model` mapping (batch, rows, cols, channels) to
        (batch, num_classes) logits.
    """
    if unroll == "auto":
        unroll = default_unroll(input_shape[0], cell)
    inputs, x = _row_classifier(input_shape, name)
    x = apply_recurrent_stack(x, cell, units, num_layers, dropout, unroll, name=cell)
    outputs = layers.Dense(num_classes, dtype="float32", name="logits")(x)  # (batch, num_classes)
    return ZooModel(inputs, outputs, name=name)


def _lecture_classifier(cell, input_shape, units, num_classes, name):
    inputs, x = _row_classifier(input_shape, name)
    x = layers.RNN(LECTURE_CELLS[cell](units, name=f"{cell}_cell"), name=cell)(x)  # (b, units)
    outputs = layers.Dense(num_classes, dtype="float32", name="logits")(x)  # (batch, num_classes)
    return ZooModel(inputs, outputs, name=name)


@register_model(smoke={"units": 8, "input_shape": (8, 8, 1)})
def lecture_lstm(input_shape=(28, 28, 1), units=64, num_classes=10, name="lecture_lstm"):
    """Row-by-row classifier on the lecture's LSTM cell (gates i, f, g, o).

    The cell is `keras_zoo.layers.recurrent.LectureLSTMCell`, written from the lecture's
    equations and wrapped in `keras.layers.RNN`; given the same weights it computes what
    `keras.layers.LSTM` computes (tests/test_rnn_zoo.py).

    Args:
        input_shape: (rows, cols, channels); rows are the time steps.
        units: hidden size.
        num_classes: number of output logits.
        name: model name.

    Returns:
        A functional `keras.Model` mapping (batch, rows, cols, channels) to
        (batch, num_classes) logits.
    """
    return _lecture_classifier("lstm", input_shape, units, num_classes, name)


@register_model(smoke={"units": 8, "input_shape": (8, 8, 1)})
def lecture_gru(input_shape=(28, 28, 1), units=64, num_classes=10, name="lecture_gru"):
    """Row-by-row classifier on the lecture's GRU cell (update and reset gates).

    The cell is `keras_zoo.layers.recurrent.LectureGRUCell`; given the same weights it
    computes what `keras.layers.GRU` computes. Arguments and output: as `lecture_lstm`.
    """
    return _lecture_classifier("gru", input_shape, units, num_classes, name)
