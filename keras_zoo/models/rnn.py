"""Recurrent forecasters: a window of past values -> the next value(s).

Lecture: "Modern architectures" (recurrent networks, "Example: time series": sequences of
40 points, one prediction at the end; the LSTM cell) and the companion notebook's LSTM on
the airline passengers. Elman 1990 (SimpleRNN); Cho et al. 2014 (GRU); Hochreiter &
Schmidhuber 1997 (LSTM).
"""

import keras
from keras import layers

from keras_zoo.layers import checked_input
from keras_zoo.registry import register_model

CELLS = {"rnn": layers.SimpleRNN, "gru": layers.GRU, "lstm": layers.LSTM}


def default_unroll(window, cell="rnn"):
    """Per-backend default for `unroll`: True only for SimpleRNN on torch, fixed windows.

    Measured in `benchmarks/` (RESULTS.md): on the torch backend an unrolled SimpleRNN
    trains 1.2-2.4x faster at windows 12-128; Keras 3.15's torch LSTM/GRU ignore `unroll`
    on CPU (and unrolling would switch cuDNN off on GPU); TF and JAX compile the loop.
    """
    return keras.backend.backend() == "torch" and cell == "rnn" and window is not None


def apply_recurrent_stack(x, cell, units, num_layers=1, dropout=0.0, unroll=False,
                          name="rnn"):
    """`num_layers` recurrent layers; all but the last return the whole sequence.

    Args:
        x: tensor of shape (batch, time, features).
        cell: "rnn", "gru" or "lstm".
        units: hidden size of every layer.
        num_layers: how many layers to stack.
        dropout: dropout on each layer's inputs.
        unroll: unroll the time loop (fixed, short windows only).
        name: prefix for the layer names.

    Returns:
        Tensor of shape (batch, units): the last hidden state of the top layer.
    """
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
    for i in range(num_layers):
        last = i == num_layers - 1
        x = CELLS[cell](units, return_sequences=not last, dropout=dropout, unroll=unroll,
                        name=f"{name}{i + 1}")(x)
    return x


def _forecaster(cell, window, features, units, num_layers, horizon, dropout, unroll, name):
    if unroll == "auto":
        unroll = default_unroll(window, cell)
    inputs, x = checked_input((window, features), name="window")  # (batch, window, features)
    x = apply_recurrent_stack(x, cell, units, num_layers, dropout, unroll, name=cell)
    outputs = layers.Dense(horizon, name="forecast")(x)  # (batch, horizon)
    return keras.Model(inputs, outputs, name=name)


_ARGS_DOC = """
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


@register_model(task="regression", smoke={"units": 8})
def rnn_forecaster(window=12, features=1, units=64, num_layers=1, horizon=1, dropout=0.0,
                   unroll="auto", name="rnn_forecaster"):
    return _forecaster("rnn", window, features, units, num_layers, horizon, dropout, unroll,
                       name)


@register_model(task="regression", smoke={"units": 8})
def gru_forecaster(window=12, features=1, units=64, num_layers=1, horizon=1, dropout=0.0,
                   unroll="auto", name="gru_forecaster"):
    return _forecaster("gru", window, features, units, num_layers, horizon, dropout, unroll,
                       name)


@register_model(task="regression", smoke={"units": 8})
def lstm_forecaster(window=12, features=1, units=64, num_layers=1, horizon=1, dropout=0.0,
                    unroll="auto", name="lstm_forecaster"):
    return _forecaster("lstm", window, features, units, num_layers, horizon, dropout, unroll,
                       name)


rnn_forecaster.__doc__ = "Elman RNN forecaster: past window -> next value.\n" + _ARGS_DOC
gru_forecaster.__doc__ = "GRU forecaster: past window -> next value.\n" + _ARGS_DOC
lstm_forecaster.__doc__ = "LSTM forecaster: past window -> next value.\n" + _ARGS_DOC
