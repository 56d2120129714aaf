"""keras_zoo.workarounds: each workaround computes what upstream computes, and each stays
only while its upstream problem does.

- Parity: the shifted-taps depthwise convolution equals a NumPy reference and the Keras
  layer; `default_unroll` and the tap switch decide as documented. (ResNet's subsample +
  1x1 shortcut equals a strided 1x1 convolution: tests/test_cnn_zoo.py.)
- Removal: every probe must still find its problem (timed probes in the "full" tier), and
  the installed packages must be versions the workaround was checked on. When one of
  these fails, upstream changed: re-run `python -m keras_zoo workarounds`, then remove
  the workaround or raise its `checked` bound.
"""

import keras
import numpy as np
import pytest

from keras_zoo import workaround_probes, workarounds
from keras_zoo.layers import DepthwiseConv2D
from keras_zoo.workarounds import WORKAROUNDS, default_unroll, depthwise_by_taps

# ------------------------------------------------------------------------------ removal


@pytest.mark.parametrize("name", sorted(WORKAROUNDS))
def test_installed_versions_are_ones_the_workaround_was_checked_on(name):
    workaround = WORKAROUNDS[name]
    beyond = workaround.versions_beyond_checked()
    assert not beyond, (
        f"{name}: installed {beyond}, newer than checked ({workaround.checked}). Run "
        f"`python -m keras_zoo workarounds`: if the problem is gone, remove the workaround "
        f"({workaround.applied_by}); otherwise raise `checked`. Upstream: "
        f"{workaround.upstream}")


def _still_there(name):
    workaround = WORKAROUNDS[name]
    present = workaround.probe()
    if present is None:
        pytest.skip(f"{name}: the probe cannot show the problem on this machine")
    assert present, (f"{name}: the upstream problem is gone ({workaround.upstream}); "
                     f"remove the workaround: {workaround.applied_by}")


@pytest.mark.skipif(keras.backend.backend() != "torch",
                    reason="a PyTorch problem: probed once, in the torch run")
def test_onednn_avx2_strided_1x1_problem_is_still_there():
    _still_there("onednn_avx2_strided_1x1")


@pytest.mark.skipif(keras.backend.backend() != "jax",
                    reason="a JAX problem: probed once, in the JAX run")
def test_jax_indivisible_batch_problem_is_still_there():
    _still_there("jax_indivisible_batch")


@pytest.mark.skipif(keras.backend.backend() != "torch",
                    reason="Keras' torch backend: probed once, in the torch run")
@pytest.mark.parametrize("name", ["torch_conv_input_copies", "torch_unfused_batch_norm"])
def test_torch_conv_and_batch_norm_problems_are_still_there(name):
    _still_there(name)


@pytest.mark.full  # timed: a benchmark, not part of the fast suite
@pytest.mark.parametrize("name", sorted(n for n, w in WORKAROUNDS.items() if w.timed))
def test_timed_problem_is_still_there(name):
    _still_there(name)


def test_every_workaround_has_a_probe_and_an_upstream_link():
    for name, workaround in WORKAROUNDS.items():
        assert name in workaround_probes.PROBES and name in workaround_probes.PROBE_ENV
        assert workaround.upstream.startswith("https://github.com/")
        assert workaround.checked


# ------------------------------------------------------------------------------ parity


def test_default_unroll_only_for_simple_rnn_on_torch():
    on_torch = keras.backend.backend() == "torch"
    assert default_unroll(40, "rnn") is on_torch
    assert not default_unroll(40, "lstm") and not default_unroll(40, "gru")
    assert not default_unroll(None, "rnn")  # variable length: never unrolled


def test_depthwise_taps_only_where_they_apply():
    x = keras.KerasTensor((2, 8, 8, 4))
    plain = DepthwiseConv2D(3)
    on_jax_cpu = keras.backend.backend() == "jax" and all(
        d.startswith("cpu") for d in keras.distribution.list_devices())
    assert workarounds.use_depthwise_taps(plain, x) is on_jax_cpu
    for layer in (DepthwiseConv2D(3, depth_multiplier=2), DepthwiseConv2D(3, dilation_rate=2)):
        assert not workarounds.use_depthwise_taps(layer, x)
    assert not workarounds.use_depthwise_taps(plain, keras.KerasTensor((2, None, 8, 4)))


def _depthwise_numpy(x, weights, strides, padding):
    """Depthwise convolution by loops over the kernel; "same" pads as TF and Keras do."""
    (kh, kw), (sh, sw) = weights.shape[:2], strides
    if padding == "same":
        pads = []
        for size, k, s in ((x.shape[1], kh, sh), (x.shape[2], kw, sw)):
            total = max((-(-size // s) - 1) * s + k - size, 0)
            pads.append((total // 2, total - total // 2))
        x = np.pad(x, ((0, 0), *pads, (0, 0)))
    out_h, out_w = (x.shape[1] - kh) // sh + 1, (x.shape[2] - kw) // sw + 1
    out = np.zeros((x.shape[0], out_h, out_w, x.shape[3]), "float64")
    for i in range(kh):
        for j in range(kw):
            out += x[:, i:i + sh * out_h:sh, j:j + sw * out_w:sw] * weights[i, j, :, 0]
    return out


@pytest.mark.parametrize("size", [7, 8])
@pytest.mark.parametrize("kernel,strides,padding", [
    (3, 1, "same"), (3, 2, "same"), (3, 2, "valid"), (5, 2, "same"), ((3, 2), (1, 2), "same")])
def test_depthwise_by_taps_equals_the_convolution(size, kernel, strides, padding, rng):
    """The shifted-taps form (used on JAX's CPU backend) is the depthwise convolution.

    The reference is NumPy: TF's CPU kernel (without oneDNN, e.g. on AMD machines) rejects
    unequal strides, so `keras.ops.depthwise_conv` is compared only where they are equal.
    """
    x = rng.normal(size=(2, size, size + 1, 3)).astype("float32")
    kernel_size = (kernel, kernel) if isinstance(kernel, int) else kernel
    weights = rng.normal(size=(*kernel_size, 3, 1)).astype("float32")
    stride_pair = (strides, strides) if isinstance(strides, int) else strides
    expected = _depthwise_numpy(x, weights, stride_pair, padding)
    got = keras.ops.convert_to_numpy(depthwise_by_taps(
        keras.ops.convert_to_tensor(x), keras.ops.convert_to_tensor(weights), stride_pair,
        padding))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    if stride_pair[0] == stride_pair[1]:
        by_keras = keras.ops.depthwise_conv(x, weights, strides=stride_pair, padding=padding)
        np.testing.assert_allclose(got, keras.ops.convert_to_numpy(by_keras), rtol=1e-5,
                                   atol=1e-5)
    # one output by hand: tap sum over the window at output (0, 0) of a "valid" conv
    if padding == "valid":
        by_hand = np.einsum("hwc,hwc->c", x[0, :kernel_size[0], :kernel_size[1]],
                            weights[..., 0])
        np.testing.assert_allclose(got[0, 0, 0], by_hand, rtol=1e-5)


def test_depthwise_layer_is_keras_depthwise(rng):
    """Same weights, bias, activation and config as keras.layers.DepthwiseConv2D."""
    x = rng.normal(size=(2, 9, 9, 4)).astype("float32")
    ours = DepthwiseConv2D(3, strides=2, padding="same", activation="relu", name="dw")
    theirs = keras.layers.DepthwiseConv2D(3, strides=2, padding="same", activation="relu")
    ours.build(x.shape), theirs.build(x.shape)
    weights = [rng.normal(size=w.shape).astype("float32") for w in theirs.get_weights()]
    ours.set_weights(weights), theirs.set_weights(weights)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(ours(x)),
                               keras.ops.convert_to_numpy(theirs(x)), rtol=1e-5, atol=1e-6)
    config = ours.get_config()
    assert config == DepthwiseConv2D.from_config(config).get_config()
    assert {k: v for k, v in config.items() if k != "name"} == {
        k: v for k, v in theirs.get_config().items() if k != "name"}


# PyTorch's fused LSTM/GRU kernel on torch's CPU (workarounds.fused_recurrence) computes
# what Keras' own layers compute: outputs, states and one SGD step's weights.
RECURRENT_SETTINGS = {
    "last": {}, "sequences": {"return_sequences": True},
    "backwards": {"go_backwards": True, "return_sequences": True},
    "states": {"return_state": True}, "no_bias": {"use_bias": False},
    "input_dropout": {"dropout": 0.3, "seed": 7},
}


def _recurrent_pair(kind, settings, rng, x, masked=False):
    """keras_zoo's layer and Keras' own (its generic loop: `use_cudnn=False`), as one-layer
    models with the same random weights, each compiled with SGD(1) on the MSE; `masked`:
    all-zero steps are masked (`keras.layers.Masking`)."""
    from keras_zoo.layers import GRU, LSTM

    ours_cls, theirs_cls = {"lstm": (LSTM, keras.layers.LSTM), "gru": (GRU, keras.layers.GRU)}[kind]
    models = []
    for layer in (ours_cls(4, **settings), theirs_cls(4, use_cudnn=False, **settings)):
        inputs = keras.Input(x.shape[1:])
        steps = keras.layers.Masking(0.0)(inputs) if masked else inputs
        models.append(keras.Model(inputs, layer(steps)))
    weights = [rng.normal(scale=0.5, size=w.shape).astype("float32")
               for w in models[0].get_weights()]
    for model in models:
        model.set_weights(weights)
        model.compile(optimizer=keras.optimizers.SGD(1.0), loss="mse")
    return models


@pytest.mark.skipif(keras.backend.backend() != "torch",
                    reason="the fused kernel runs on torch only: elsewhere both are Keras'")
@pytest.mark.parametrize("settings", sorted(RECURRENT_SETTINGS))
@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_fused_recurrence_equals_keras_layer(kind, settings, rng):
    x = rng.normal(size=(6, 9, 3)).astype("float32")
    ours, theirs = _recurrent_pair(kind, RECURRENT_SETTINGS[settings], rng, x)
    for a, b in zip(keras.tree.flatten(ours(x)), keras.tree.flatten(theirs(x))):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(a),
                                   keras.ops.convert_to_numpy(b), rtol=1e-5, atol=1e-6)
    if settings == "states":
        return  # several outputs: the weights' step is checked on the others
    y = rng.normal(size=ours.output.shape[1:]).astype("float32")[None].repeat(len(x), 0)
    ours.train_on_batch(x, y), theirs.train_on_batch(x, y)  # a step with input dropout
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(keras.backend.backend() != "torch",
                    reason="the fused kernel runs on torch only: elsewhere both are Keras'")
@pytest.mark.parametrize("settings", [
    {}, {"return_sequences": True}, {"return_state": True},
    {"return_sequences": True, "zero_output_for_mask": True},
    {"go_backwards": True}, {"go_backwards": True, "return_sequences": True},
    {"go_backwards": True, "return_sequences": True, "zero_output_for_mask": True},
    {"go_backwards": True, "return_state": True}])
@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_fused_recurrence_with_right_padding_equals_keras_layer(kind, settings, rng):
    """Rows of 9, 3, 6 and 1 steps, zero-padded to 9: packed sequences, as Keras' loop
    (backwards: each row reversed within its length, the outputs behind its padding)."""
    x = rng.normal(size=(4, 9, 3)).astype("float32")
    for row, length in enumerate((9, 3, 6, 1)):
        x[row, length:] = 0.0
    ours, theirs = _recurrent_pair(kind, settings, rng, x, masked=True)
    for a, b in zip(keras.tree.flatten(ours(x)), keras.tree.flatten(theirs(x))):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(a),
                                   keras.ops.convert_to_numpy(b), rtol=1e-5, atol=1e-6)
    if "return_state" in settings:
        return
    y = rng.normal(size=ours.output.shape[1:]).astype("float32")[None].repeat(len(x), 0)
    ours.train_on_batch(x, y), theirs.train_on_batch(x, y)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(keras.backend.backend() != "torch",
                    reason="the fused kernel runs on torch only: elsewhere both are Keras'")
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_fused_recurrence_right_padding_from_given_states(kind, go_backwards, rng):
    """Each row starts from its own state (packed sequences reorder the rows by length)."""
    from keras_zoo.layers import GRU, LSTM

    x = rng.normal(size=(4, 7, 3)).astype("float32")
    mask = np.arange(7) < np.array([[2], [7], [4], [5]])
    states = [rng.normal(size=(4, 5)).astype("float32") for _ in range(2 if kind == "lstm" else 1)]
    ours, theirs = {"lstm": (LSTM, keras.layers.LSTM), "gru": (GRU, keras.layers.GRU)}[kind]
    ours = ours(5, return_state=True, return_sequences=True, go_backwards=go_backwards)
    theirs = theirs(5, return_state=True, return_sequences=True, go_backwards=go_backwards,
                    use_cudnn=False)
    ours.build(x.shape), theirs.build(x.shape)
    theirs.set_weights([rng.normal(scale=0.5, size=w.shape).astype("float32")
                        for w in theirs.get_weights()])
    ours.set_weights(theirs.get_weights())
    got = ours(x, mask=mask, initial_state=states)
    expected = theirs(x, mask=mask, initial_state=states)
    for a, b in zip(got, expected):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(a),
                                   keras.ops.convert_to_numpy(b), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_fused_recurrence_only_where_it_applies(kind, rng):
    from keras_zoo.layers import GRU, LSTM

    cls = {"lstm": LSTM, "gru": GRU}[kind]
    x = keras.ops.convert_to_tensor(rng.normal(size=(2, 5, 3)).astype("float32"))
    states = [keras.ops.zeros((2, 4))] * (2 if kind == "lstm" else 1)
    mask = keras.ops.convert_to_tensor(np.array([[1, 1, 1, 0, 0]] * 2, dtype=bool))

    def fused(mask=None, **settings):
        layer = cls(4, **settings)
        layer.build(x.shape)
        return workarounds.fused_recurrence(layer, x, states, mask, False) is not None

    on_torch = keras.backend.backend() == "torch"
    assert fused() is on_torch  # (a CUDA tensor: Keras' cuDNN)
    assert fused(mask=mask) is on_torch  # right-padding: packed sequences
    assert fused(mask=mask, go_backwards=True) is on_torch  # rows reversed within length
    middle = keras.ops.convert_to_tensor(np.array([[1, 0, 1, 1, 0]] * 2, dtype=bool))
    empty = keras.ops.convert_to_tensor(np.array([[1, 1, 0, 0, 0], [0] * 5], dtype=bool))
    assert not fused(mask=middle) and not fused(mask=empty)  # Keras' loop
    assert not fused(recurrent_dropout=0.1)
    assert not fused(activation="relu") and not fused(use_cudnn=False)
    if kind == "gru":
        assert not fused(reset_after=False)  # not PyTorch's form of the GRU


def test_fused_layers_keep_keras_config_and_bidirectional_copies():
    from keras_zoo.layers import LSTM, BidirectionalRNN

    ours = LSTM(4, go_backwards=True, name="rnn")
    theirs = keras.layers.LSTM(4, go_backwards=True, name="rnn")
    assert ours.get_config() == {**theirs.get_config(), "use_cudnn": "auto"}
    assert keras.saving.get_registered_name(LSTM) == "keras_zoo>LSTM"
    bidirectional = BidirectionalRNN(LSTM(4))
    assert type(bidirectional.forward_layer) is LSTM and type(bidirectional.backward_layer) is LSTM


@pytest.mark.skipif(keras.backend.backend() != "torch", reason="PyTorch's fused Adam")
@pytest.mark.parametrize("settings", [
    {"learning_rate": 0.01}, {"learning_rate": 0.01, "weight_decay": 0.1},
    {"learning_rate": keras.optimizers.schedules.ExponentialDecay(0.01, 2, 0.5)},
    {"learning_rate": 0.01, "beta_1": 0.5, "beta_2": 0.9, "epsilon": 1e-3},
])
def test_fused_adam_updates_as_keras_adam(settings, rng, monkeypatch):
    """Five updates from the same start equal Keras' own, where v is near 0 too (there
    epsilon decides the step, and PyTorch places it differently: the docstring)."""
    from keras.src.backend.torch.optimizers import torch_adam

    start = [rng.normal(size=(7, 5)).astype("float32"), np.zeros(5, "float32")]
    grads = [[rng.normal(size=w.shape).astype("float32") * scale for w in start]
             for scale in (1.0, 1e-4, 1.0, 1e-6, 1.0)]  # tiny gradients: v near 0

    def train():
        variables = [keras.Variable(w) for w in start]
        optimizer = keras.optimizers.Adam(**settings)
        for step_grads in grads:
            optimizer.apply([keras.ops.convert_to_tensor(g) for g in step_grads], variables)
        return [keras.ops.convert_to_numpy(v) for v in variables], optimizer

    assert workarounds.fused_adam_on_torch()  # installed (for the rest of this process)
    fused, optimizer = train()
    assert int(keras.ops.convert_to_numpy(optimizer.iterations)) == len(grads)
    monkeypatch.setattr(torch_adam.Adam, "_parallel_update_step",  # put back afterwards
                        torch_adam.Adam._parallel_update_step)
    assert not workarounds.fused_adam_on_torch(enable=False)
    expected, _ = train()  # Keras' own update
    for a, b in zip(fused, expected):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    assert not np.allclose(fused[0], start[0])  # it did move


def test_fused_adam_only_on_torch():
    assert workarounds.fused_adam_on_torch() is (keras.backend.backend() == "torch")


# ------------------------------------------------------------------ full-batch data


def test_full_batch_fit_equals_fit_on_the_arrays(rng):
    """`full_batch` (on TensorFlow a repeated one-batch dataset, one step per epoch; the
    arrays elsewhere) trains exactly as the arrays do: the same losses and validation
    losses per epoch, with per-node sample weights, and the same weights after."""
    x = {"nodes": rng.normal(size=(1, 12, 5)).astype("float32")}
    y = rng.integers(0, 3, size=(1, 12))
    train, val = (np.where(np.arange(12) % 3 == k, 1.0, 0.0)[None].astype("float32")
                  for k in (0, 1))
    runs = []
    for use_full_batch in (False, True):
        inputs = keras.Input((12, 5), name="nodes")
        model = keras.Model({"nodes": inputs}, keras.layers.Dense(3)(inputs))
        model.set_weights([np.linspace(-1, 1, 15).reshape(5, 3).astype("float32"),
                           np.zeros(3, "float32")])
        model.compile(keras.optimizers.Adam(0.05),
                      keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      weighted_metrics=["accuracy"])
        if use_full_batch:
            data = {**workarounds.full_batch(x, y, train),
                    **workarounds.full_batch(x, y, val, validation=True)}
        else:
            data = {"x": x, "y": y, "sample_weight": train, "batch_size": 1,
                    "validation_data": (x, y, val)}
        history = model.fit(**data, epochs=4, verbose=0).history
        runs.append((history, [keras.ops.convert_to_numpy(w) for w in model.weights]))
    (arrays, arrays_weights), (full, full_weights) = runs
    assert sorted(full) == sorted(arrays) and len(full["loss"]) == 4
    for key in arrays:
        np.testing.assert_allclose(full[key], arrays[key], rtol=1e-6, err_msg=key)
    for a, b in zip(full_weights, arrays_weights):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert full["val_loss"] != full["loss"]  # the validation weights were used


@pytest.mark.bad_input
def test_full_batch_refuses_weights_without_targets():
    with pytest.raises(ValueError, match="sample_weight weighs the targets y; got no y"):
        workarounds.full_batch(np.zeros((1, 4, 2)), sample_weight=np.ones((1, 4)))


def test_full_batch_feeds_each_backend_what_it_iterates_cheaply():
    x, y = np.zeros((1, 4, 2), "float32"), np.zeros((1, 4), "int32")
    train, val = workarounds.full_batch(x, y), workarounds.full_batch(x, y, validation=True)
    if keras.backend.backend() == "tensorflow":  # one batch, repeated, iterated once
        import tensorflow as tf

        assert train["steps_per_epoch"] == 1 and val["validation_steps"] == 1
        assert train["x"].cardinality() == tf.data.INFINITE_CARDINALITY
        assert set(train) == {"x", "steps_per_epoch", "shuffle"}
    elif keras.backend.backend() == "torch":  # one batch of tensors sharing the arrays
        import torch

        assert set(train) == {"x", "shuffle"} and set(val) == {"validation_data"}
        for loader in (train["x"], val["validation_data"]):
            assert isinstance(loader, torch.utils.data.DataLoader) and len(loader) == 1
            (tx, ty), = list(loader)
            assert np.shares_memory(tx.numpy(), x) and np.shares_memory(ty.numpy(), y)
    else:
        assert train == {"x": x, "y": y, "sample_weight": None, "batch_size": 1}
        assert val == {"validation_data": (x, y)}


# ------------------------------------------------------- row gathers and sums (graphs)


def as_float32(tensor):
    return keras.ops.convert_to_numpy(keras.ops.cast(tensor, "float32"))


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_gather_rows_and_segment_sum_equal_keras_ops(dtype, rng):
    """The graph layers' gather and segment sum equal `ops.take(..., axis=0)` and
    `ops.segment_sum`: values for 1-D, 2-D and 3-D rows (repeated ids, empty segments,
    16-bit data summed in float32 as Keras does), and on torch, where they are
    `index_select` / `index_add`, the gradients too."""
    x = rng.normal(size=(6, 3, 2)).astype("float32")
    ids = np.array([4, 0, 4, 5, 1, 4, 0], "int32")  # segments 2 and 3 stay empty
    for rows in (x[:, 0, 0], x[:, :, 0], x):
        data = keras.ops.cast(rows, dtype)  # 6 rows
        gathered = keras.ops.take(data, ids, axis=0)  # 7 rows, one per id
        for ours, theirs in (
                (workarounds.gather_rows(data, ids), gathered),
                (workarounds.segment_sum(gathered, ids, 6),
                 keras.ops.segment_sum(gathered, ids, 6))):
            assert keras.backend.standardize_dtype(ours.dtype) == dtype
            assert tuple(ours.shape) == tuple(theirs.shape)
            np.testing.assert_allclose(as_float32(ours), as_float32(theirs), rtol=1e-6)
    if keras.backend.backend() == "torch":
        import torch

        grads = []
        for take, segment_sum in ((workarounds.gather_rows, workarounds.segment_sum),
                                  (lambda a, i: keras.ops.take(a, i, axis=0),
                                   keras.ops.segment_sum)):
            leaf = torch.tensor(x[:, :, 0], requires_grad=True)
            messages = take(leaf, ids[:5]) * take(leaf, ids[2:])
            (segment_sum(messages, ids[:5], 6) ** 2).sum().backward()
            grads.append(leaf.grad.numpy())
        np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)
        assert np.abs(grads[0]).sum() > 0


# keras_zoo's Conv2D / DepthwiseConv2D / BatchNormalization on the torch backend
# (workarounds.channels_last_conv, fused_batch_norm) compute what Keras' layers compute:
# outputs, one SGD step's weights, the moving statistics. Elsewhere they are Keras' layers.
CONV_SETTINGS = {  # on 8x8 inputs with 4 channels
    "same": {"filters": 5, "kernel_size": 3, "padding": "same"},
    "same_stride2_asymmetric": {"filters": 5, "kernel_size": 3, "strides": 2,
                                "padding": "same"},  # pads 0 before, 1 after
    "same_stride2_even_kernel": {"filters": 5, "kernel_size": 4, "strides": 2,
                                 "padding": "same"},  # pads 1 and 1
    "valid_stride2": {"filters": 5, "kernel_size": 3, "strides": 2},
    "dilated": {"filters": 5, "kernel_size": 3, "dilation_rate": 2, "padding": "same"},
    "groups_relu_no_bias": {"filters": 6, "kernel_size": 3, "groups": 2, "padding": "same",
                            "use_bias": False, "activation": "relu"},
    "depthwise": {"kernel_size": 3, "padding": "same", "depth_multiplier": 2},
    "depthwise_stride2": {"kernel_size": 3, "strides": 2, "padding": "same",
                          "activation": "relu"},
}
BN_SETTINGS = {  # input shape, layer arguments
    "images": ((6, 5, 5, 4), {}),
    "features": ((6, 4), {"momentum": 0.5, "epsilon": 1e-5}),
    "channels_first_sequence": ((6, 4, 7), {"axis": 1}),
    "no_scale_no_center": ((6, 5, 5, 4), {"scale": False, "center": False}),
    "frozen": ((6, 5, 5, 4), {"trainable": False}),
    "mixed_bfloat16": ((6, 5, 5, 4), {"dtype": "mixed_bfloat16"}),
}


def _layer_pair(ours, theirs, rng, shape):
    """One-layer models of ours and Keras' layer with the same random weights (moving
    statistics too), compiled with SGD(1) on the MSE to targets of the output's shape."""
    models = [keras.Model(inputs := keras.Input(shape[1:]), layer(inputs))
              for layer in (ours, theirs)]
    weights = [rng.normal(scale=0.5, size=w.shape).astype("float32") for w in models[0].weights]
    weights = [abs(v) + 0.5 if "moving_variance" in w.path else v  # variances above 0
               for v, w in zip(weights, models[0].weights)]
    for model in models:
        model.set_weights(weights)
        model.compile(optimizer=keras.optimizers.SGD(1.0), loss="mse")
    return models


def _assert_same_step(ours, theirs, x, rng, atol=1e-6):
    for training in (False, True):  # training=True also moves the moving statistics
        np.testing.assert_allclose(keras.ops.convert_to_numpy(ours(x, training=training)),
                                   keras.ops.convert_to_numpy(theirs(x, training=training)),
                                   rtol=1e-5, atol=atol, equal_nan=False)
    y = rng.normal(size=ours.output.shape[1:]).astype("float32")[None].repeat(len(x), 0)
    ours.train_on_batch(x, y), theirs.train_on_batch(x, y)
    for a, b, w in zip(ours.get_weights(), theirs.get_weights(), theirs.weights):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=atol, equal_nan=False, err_msg=w.path)


@pytest.mark.skipif(keras.backend.backend() != "torch",
                    reason="the copy-free conv runs on torch only: elsewhere both are Keras'")
@pytest.mark.parametrize("settings", sorted(CONV_SETTINGS))
def test_channels_last_conv_equals_keras_layer(settings, rng):
    from keras_zoo.layers import Conv2D

    kwargs = CONV_SETTINGS[settings]
    ours, theirs = ((DepthwiseConv2D(**kwargs), keras.layers.DepthwiseConv2D(**kwargs))
                    if "depthwise" in settings else
                    (Conv2D(**kwargs), keras.layers.Conv2D(**kwargs)))
    x = rng.normal(size=(3, 8, 8, 4)).astype("float32")
    _assert_same_step(*_layer_pair(ours, theirs, rng, x.shape), x, rng)


@pytest.mark.skipif(keras.backend.backend() != "torch",
                    reason="the fused kernel runs on torch only: elsewhere both are Keras'")
@pytest.mark.parametrize("settings", sorted(BN_SETTINGS))
def test_fused_batch_norm_equals_keras_layer(settings, rng):
    from keras_zoo.layers import BatchNormalization

    shape, kwargs = BN_SETTINGS[settings]
    ours, theirs = BatchNormalization(**kwargs), keras.layers.BatchNormalization(**kwargs)
    x = (rng.normal(size=shape) * 3 + 1).astype("float32")
    atol = 1e-2 if settings == "mixed_bfloat16" else 1e-5  # outputs rounded to bfloat16
    _assert_same_step(*_layer_pair(ours, theirs, rng, shape), x, rng, atol=atol)
    assert ours.compute_dtype == theirs.compute_dtype


def test_conv_and_batch_norm_fast_paths_only_on_torch(rng):
    from keras_zoo.layers import BatchNormalization, Conv2D

    on_torch = keras.backend.backend() == "torch"
    conv, first = Conv2D(3, 3), Conv2D(3, 3, data_format="channels_first")
    bn, masked = BatchNormalization(), BatchNormalization()
    x = rng.normal(size=(2, 6, 6, 4)).astype("float32")
    for layer in (conv, first, bn):
        layer(x)
    assert (workarounds.channels_last_conv(conv, x, conv.kernel) is not None) is on_torch
    assert workarounds.channels_last_conv(first, x, first.kernel) is None
    assert (workarounds.fused_batch_norm(bn, x, training=True) is not None) is on_torch
    masked(x[..., 0])
    assert workarounds.fused_batch_norm(masked, x[..., 0], True, np.ones((2, 6), bool)) is None


def test_conv_and_batch_norm_layers_keep_keras_config():
    from keras_zoo.layers import BatchNormalization, Conv2D

    for ours, theirs in [(Conv2D(4, 3, strides=2, name="c"), keras.layers.Conv2D(4, 3, strides=2)),
                         (BatchNormalization(momentum=0.9, name="b"),
                          keras.layers.BatchNormalization(momentum=0.9))]:
        config = ours.get_config()
        assert config == type(ours).from_config(config).get_config()
        assert {k: v for k, v in config.items() if k != "name"} == {
            k: v for k, v in theirs.get_config().items() if k != "name"}
