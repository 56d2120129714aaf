"""micrograd-style parity: the lecture's equations in plain NumPy vs the Keras models.

Each reference below is written from the lecture (not from the Keras code): the MLP's
affine maps and ReLUs, LeNet-5's valid convolutions, average pooling and tanh, the
homework CNN, and the SimpleRNN / GRU / LSTM cell equations. It gets the model's weights
(deterministic, from NumPy) and must give the model's output to rtol 1e-4, in float64.

Keras weight layouts used here: Dense kernel (in, out); Conv2D kernel (kh, kw, in, out),
channels last; LSTM kernel columns [i, f, c, o]; GRU columns [z, r, h] with
reset_after=True (the Keras default), so its bias is (2, 3 units): input and recurrent.
"""

import keras
import numpy as np
import pytest
from helpers import fixed_input, forward, set_deterministic_weights

import keras_zoo

RTOL, ATOL = 1e-4, 1e-5
SEED = 7


def weights_of(model):
    """{'hidden1/kernel': float64 array, ...}."""
    return {w.path: keras.ops.convert_to_numpy(w).astype("float64") for w in model.weights}


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def relu(z):
    return np.maximum(z, 0.0)


def conv2d_valid(x, kernel, bias):
    """Cross-correlation, stride 1, no padding: (N, H, W, C) -> (N, H-kh+1, W-kw+1, F)."""
    kh, kw = kernel.shape[:2]
    patches = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))
    return np.einsum("nhwcij,ijcf->nhwf", patches, kernel) + bias  # patches: (N,h,w,C,kh,kw)


def pool2x2(x, reduce):
    """2x2 pooling with stride 2; an odd last row/column is dropped (valid padding)."""
    n, h, w, c = x.shape
    x = x[:, : h // 2 * 2, : w // 2 * 2]
    return reduce(x.reshape(n, h // 2, 2, w // 2, 2, c), axis=(2, 4))


# ------------------------------------------------------------------------ the references


def mlp_reference(x, p, units):
    """Flatten, then h <- relu(h W + b) per hidden layer, then logits = h W + b."""
    h = x.reshape(len(x), -1)
    for i in range(len(units)):
        h = relu(h @ p[f"hidden{i + 1}/kernel"] + p[f"hidden{i + 1}/bias"])
    return h @ p["logits/kernel"] + p["logits/bias"]


def lenet5_reference(x, p):
    """C1 conv5 tanh, S2 avg-pool tanh, C3 conv5 tanh, S4 avg-pool tanh, C5 conv5 tanh, F6, Out."""
    h = np.tanh(conv2d_valid(x, p["C1/kernel"], p["C1/bias"]))  # (N, 28, 28, 6)
    h = np.tanh(pool2x2(h, np.mean))  # S2 (N, 14, 14, 6)
    h = np.tanh(conv2d_valid(h, p["C3/kernel"], p["C3/bias"]))  # (N, 10, 10, 16)
    h = np.tanh(pool2x2(h, np.mean))  # S4 (N, 5, 5, 16)
    h = np.tanh(conv2d_valid(h, p["C5/kernel"], p["C5/bias"]))  # (N, 1, 1, 120)
    h = np.tanh(h.reshape(len(h), -1) @ p["F6/kernel"] + p["F6/bias"])  # (N, 84)
    return h @ p["Out/kernel"] + p["Out/bias"]  # (N, 10)


def cnn_from_spec_reference(x, p, spec):
    """Homework 4: int -> 3x3 valid conv + ReLU, "pool" -> 2x2 max pool; then linear."""
    h, n_conv = x, 0
    for item in spec:
        if item == "pool":
            h = pool2x2(h, np.max)
        else:
            n_conv += 1
            h = relu(conv2d_valid(h, p[f"conv{n_conv}/kernel"], p[f"conv{n_conv}/bias"]))
    return h.reshape(len(h), -1) @ p["linear/kernel"] + p["linear/bias"]


def rnn_step(x_t, state, kernel, recurrent, bias):
    """Elman: h_t = tanh(x_t W + h_{t-1} U + b)."""
    (h,) = state
    return (np.tanh(x_t @ kernel + h @ recurrent + bias),)


def gru_step(x_t, state, kernel, recurrent, bias):
    """GRU (Cho et al. 2014), reset gate applied after the recurrent matmul (reset_after)."""
    (h,) = state
    xz, xr, xh = np.split(x_t @ kernel + bias[0], 3, axis=-1)
    hz, hr, hh = np.split(h @ recurrent + bias[1], 3, axis=-1)
    z = sigmoid(xz + hz)  # update gate
    r = sigmoid(xr + hr)  # reset gate
    candidate = np.tanh(xh + r * hh)
    return (z * h + (1.0 - z) * candidate,)


def lstm_step(x_t, state, kernel, recurrent, bias):
    """LSTM (Hochreiter & Schmidhuber 1997) with a forget gate; gate order i, f, c, o."""
    h, c = state
    i, f, g, o = np.split(x_t @ kernel + h @ recurrent + bias, 4, axis=-1)
    c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c), c


CELL_STEPS = {"rnn": (rnn_step, 1, "simple_rnn_cell"), "gru": (gru_step, 1, "gru_cell"),
              "lstm": (lstm_step, 2, "lstm_cell")}


def forecaster_reference(x, p, cell, num_layers, units):
    """Stacked recurrent layers over the window (zero initial state), Dense on the last h."""
    step, n_states, cell_name = CELL_STEPS[cell]
    sequence = x  # (N, T, features)
    for layer in range(1, num_layers + 1):
        prefix = f"{cell}{layer}/{cell_name}"
        kernel, recurrent, bias = (p[f"{prefix}/{k}"] for k in
                                   ("kernel", "recurrent_kernel", "bias"))
        state = tuple(np.zeros((len(x), units)) for _ in range(n_states))
        outputs = []
        for t in range(sequence.shape[1]):
            state = step(sequence[:, t], state, kernel, recurrent, bias)
            outputs.append(state[0])
        sequence = np.stack(outputs, axis=1)  # (N, T, units)
    return sequence[:, -1] @ p["forecast/kernel"] + p["forecast/bias"]


# ----------------------------------------------------------------------------- the tests


def check(model, reference):
    set_deterministic_weights(model, SEED)
    x = fixed_input(model, batch=4, seed=SEED)
    expected = reference(x.astype("float64"), weights_of(model))
    actual = forward(model, x)
    assert actual.shape == expected.shape
    assert np.std(expected) > 1e-3, "degenerate reference output: the test would prove nothing"
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("overrides", [{}, {"units": (16, 8, 4), "num_classes": 3}],
                         ids=["default", "three_hidden"])
def test_mlp_matches_numpy(overrides):
    model = keras_zoo.build("mlp", **overrides)
    units = overrides.get("units", keras_zoo.model_info("mlp").defaults["units"])
    check(model, lambda x, p: mlp_reference(x, p, units))


def test_lenet5_matches_numpy():
    check(keras_zoo.build("lenet5"), lenet5_reference)


@pytest.mark.parametrize("spec,input_shape", [
    ((8, 16, 32, "pool"), (30, 30, 3)),  # the homework's: 28, 26, 24, pool 12
    ((4, "pool", 6, "pool"), (15, 15, 2)),  # odd sizes: 13, pool 6 (a row dropped), 4, 2
], ids=["homework", "odd_sizes"])
def test_cnn_from_spec_matches_numpy(spec, input_shape):
    model = keras_zoo.build("cnn_from_spec", spec=spec, input_shape=input_shape)
    if input_shape[0] == 15:  # the case exists to pool an odd size (valid: the last row goes)
        assert model.get_layer("pool1").output.shape[1:3] == (6, 6)
    check(model, lambda x, p: cnn_from_spec_reference(x, p, spec))


FORECASTER_CASES = [
    ("rnn", {}), ("gru", {}), ("lstm", {}),
    ("rnn", {"num_layers": 2, "units": 8, "horizon": 3, "window": 5, "features": 2}),
    ("gru", {"num_layers": 2, "units": 8, "horizon": 3, "window": 5, "features": 2}),
    ("lstm", {"num_layers": 2, "units": 8, "horizon": 3, "window": 5, "features": 2}),
    ("lstm", {"units": 8, "unroll": True}),
    ("gru", {"units": 8, "unroll": False}),
]


@pytest.mark.parametrize("cell,overrides", FORECASTER_CASES,
                         ids=[f"{c}-{'-'.join(f'{k}{v}' for k, v in o.items()) or 'default'}"
                              for c, o in FORECASTER_CASES])
def test_forecaster_matches_numpy(cell, overrides):
    name = f"{cell}_forecaster"
    defaults = keras_zoo.model_info(name).defaults
    config = {**defaults, **overrides}
    model = keras_zoo.build(name, **overrides)
    check(model, lambda x, p: forecaster_reference(x, p, cell, config["num_layers"],
                                                   config["units"]))


def test_reference_detects_a_wrong_gate_order():
    """Sanity check of the test itself: swapping the GRU's z and r gates must be caught."""
    model = set_deterministic_weights(keras_zoo.build("gru_forecaster", units=8), SEED)
    x = fixed_input(model, batch=4, seed=SEED)
    p = weights_of(model)
    for key in ("gru1/gru_cell/kernel", "gru1/gru_cell/recurrent_kernel", "gru1/gru_cell/bias"):
        z, r, h = np.split(p[key], 3, axis=-1)
        p[key] = np.concatenate([r, z, h], axis=-1)
    wrong = forecaster_reference(x.astype("float64"), p, "gru", 1, 8)
    assert not np.allclose(forward(model, x), wrong, rtol=RTOL, atol=ATOL)
