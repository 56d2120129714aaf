"""Config round trips that can fail: every registered layer (graph layers: test_gnn.py)
and subclassed model, built with non-default arguments, records each constructor argument
in its config, rebuilds from it, and gives the same outputs after a safe-mode save/load.

With default arguments a `get_config` that forgets an argument still round-trips (the
rebuilt object takes the same default); here every argument is set away from its default.
"""

import inspect
import json

import keras
import numpy as np
import pytest
from helpers import forward, set_deterministic_weights

import keras_zoo
from keras_zoo import layers as zl

BASE_ARGS = {"self", "kwargs", "trainable", "dtype", "autocast", "name",
             "activity_regularizer"}  # keras.layers.Layer's own


def _inputs(*shapes, dtype="float32"):
    return [keras.Input(shape, dtype=dtype) for shape in shapes]


# class -> (non-default constructor arguments, input shapes, call(layer, inputs))
LAYER_CASES = {
    "BahdanauAttention": (dict(units=5), [(3, 4), (6, 4)],
                          lambda layer, x: layer(x[0], x[1])[0]),
    "SinusoidalPositionEncoding": (dict(max_length=9, scale=False), [(6, 8)],
                                   lambda layer, x: layer(x[0])),
    "PatchEmbedding": (dict(patch_size=4, dim=6), [(8, 8, 1)], lambda layer, x: layer(x[0])),
    "ClassToken": (dict(), [(4, 6)], lambda layer, x: layer(x[0])),
    "PositionEmbedding": (dict(length=4), [(4, 6)], lambda layer, x: layer(x[0])),
    "PaddingMask": (dict(pad_id=3, expand=False), [(5,)], lambda layer, x: layer(x[0])),
    "GaussianRBF": (dict(units=3, width=0.5, centers_initializer="glorot_uniform"), [(2,)],
                    lambda layer, x: layer(x[0])),
    "ChannelShuffle": (dict(groups=3), [(2, 2, 6)], lambda layer, x: layer(x[0])),
    "ChannelSplit": (dict(), [(2, 2, 6)], lambda layer, x: layer(x[0])[1]),
    "SinusoidalEmbedding": (dict(dim=6, max_period=50.0), [(1,)], lambda layer, x: layer(x[0])),
    "InputShapeCheck": (dict(shape=(3,)), [(3,)], lambda layer, x: layer(x[0])),
    "DepthwiseConv2D": (dict(kernel_size=(2, 2), strides=(2, 2), padding="same", use_bias=False,
                             activation="relu"), [(5, 5, 3)], lambda layer, x: layer(x[0])),
    "Conv2D": (dict(filters=4, kernel_size=(3, 2), strides=(2, 1), padding="same", groups=1,
                    use_bias=False, activation="relu"), [(5, 5, 3)], lambda layer, x: layer(x[0])),
    "BatchNormalization": (dict(momentum=0.5, epsilon=1e-4, center=False), [(5, 5, 3)],
                           lambda layer, x: layer(x[0], training=True)),
    "LectureLSTMCell": (dict(units=3, unit_forget_bias=False), [(4, 2)],
                        lambda layer, x: keras.layers.RNN(layer)(x[0])),
    "LectureGRUCell": (dict(units=3), [(4, 2)],
                       lambda layer, x: keras.layers.RNN(layer)(x[0])),
    "LSTM": (dict(units=3, return_sequences=True, go_backwards=True, unit_forget_bias=False),
             [(4, 2)], lambda layer, x: layer(x[0])),
    "GRU": (dict(units=3, return_state=True, reset_after=False), [(4, 2)],
            lambda layer, x: layer(x[0])[1]),
    "BidirectionalRNN": (dict(layer=keras.layers.LSTM(3, return_sequences=True),
                              merge_mode="sum"), [(4, 2)], lambda layer, x: layer(x[0])),
}
INT_INPUTS = {"PaddingMask"}
GRAPH_LAYERS = {"GATConv", "GCNConv", "GINConv", "MessagePassing", "EdgeConditionedConv",
                "InteractionNetwork", "GlobalPool", "GlobalAttentionPool"}  # test_gnn.py
COMPOSITE = {"AttentionLSTMDecoder"}  # below, inside seq2seq_attention


# Constructor arguments that keras' own base class leaves out of its config
INHERITED_UNSAVED = {"BidirectionalRNN": {"weights"}}  # keras.layers.Bidirectional's


def constructor_args(cls):
    skip = BASE_ARGS | INHERITED_UNSAVED.get(cls.__name__, set())
    return {n for n in inspect.signature(cls.__init__).parameters if n not in skip}


def as_json(value):
    """Configs compared as a saved file holds them (tuples become lists)."""
    return json.loads(json.dumps(value))


def check_recorded(config, key, value):
    """`config[key]` records the non-default `value` (an identifier: the object it names)."""
    if isinstance(config[key], dict) and isinstance(value, str):
        assert config[key]["class_name"] == type(keras.initializers.get(value)).__name__
    else:
        assert as_json(config[key]) == as_json(value), (key, config[key], value)


def test_every_registered_layer_has_a_case():
    registered = {name for name in zl.__all__ if isinstance(getattr(zl, name), type)}
    assert registered == set(LAYER_CASES) | GRAPH_LAYERS | COMPOSITE


@pytest.mark.parametrize("name", sorted(LAYER_CASES))
def test_layer_config_round_trip(name, tmp_path, rng):
    cls = getattr(zl, name)
    kwargs, shapes, call = LAYER_CASES[name]
    if name == "BidirectionalRNN":  # a layer argument is used once: a fresh one per test
        kwargs = dict(kwargs, layer=keras.layers.LSTM(3, return_sequences=True))
    layer = cls(**kwargs)
    config = layer.get_config()
    missing = constructor_args(cls) - set(config)
    assert not missing, f"{name}.get_config() misses {sorted(missing)}"
    for key, value in kwargs.items():
        if not isinstance(value, keras.layers.Layer):
            check_recorded(config, key, value)
    assert as_json(cls.from_config(config).get_config()) == as_json(config)

    dtype = "int32" if name in INT_INPUTS else "float32"
    inputs = _inputs(*shapes, dtype=dtype)
    model = set_deterministic_weights(keras.Model(inputs, call(layer, inputs)))
    x = [rng.integers(0, 5, size=(2, *s)).astype(dtype) if dtype == "int32"
         else rng.normal(size=(2, *s)).astype(dtype) for s in shapes]
    x = x[0] if len(x) == 1 else x
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_allclose(forward(loaded, x), forward(model, x), rtol=1e-6, atol=1e-6)


# registry name -> non-default arguments of the subclassed model the builder returns
MODEL_CASES = {
    "ddpm": dict(filters=(8, 16), timesteps=7, schedule="cosine", seed=3),
    "gan_mlp": dict(generator_units=(8,), discriminator_units=(8,), latent_dim=5, seed=4),
    "vae": dict(units=(8,), latent_dim=3, seed=5),
    "rbm": dict(visible_units=12, hidden_units=5, k=2, seed=6),
    "hopfield": dict(units=9, update="sync", steps=3),
    "ssd_lite": dict(filters=(4, 8, 8, 8), neg_pos_ratio=2.0),
    "seq2seq_attention": dict(embed_dim=4, units=6, attention_units=5),  # AttentionLSTMDecoder
}


@pytest.mark.parametrize("name", sorted(MODEL_CASES))
def test_subclassed_model_config_round_trip(name, tmp_path):
    info = keras_zoo.model_info(name)
    kwargs = MODEL_CASES[name]
    assert set(kwargs) <= set(info.defaults), f"{name} takes no {set(kwargs) - set(info.defaults)}"
    model = set_deterministic_weights(keras_zoo.build(name, **kwargs))
    config = model.get_config()
    functional = isinstance(model, keras_zoo.models.ZooModel) or type(model).__module__.startswith(
        "keras.")
    if not functional:  # subclassed: its config must hold every constructor argument
        missing = constructor_args(type(model)) - set(config)
        assert not missing, f"{type(model).__name__}.get_config() misses {sorted(missing)}"
        for key, value in kwargs.items():
            if key in config:
                check_recorded(config, key, value)
    x, _ = keras_zoo.example_batch(name, model, batch=2)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    assert as_json(loaded.get_config()) == as_json(config)
    for a, b in zip(keras.tree.flatten(forward(loaded, x)), keras.tree.flatten(forward(model, x))):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
