"""Child process of tests/test_distribute.py: `fit` on one device and data-parallel on 2 / 4.

Run on JAX with `XLA_FLAGS=--xla_force_host_platform_device_count=4` (four simulated CPU
devices; the flag must be set before JAX starts, hence a process of its own). For each
model named on the command line: the same NumPy weights, the same 10 examples in batches
of 4 (three SGD steps; the last batch of 2 does not split over 4 devices), once without a
distribution and once under `keras_zoo.distribute.data_parallel` over 4 devices (and 2
for the first argument, the probed model). For the probed model it also records, from
inside the compiled train step, the sharding of the model's input and output (a probe
layer on each side). Prints one JSON object.

    XLA_FLAGS=--xla_force_host_platform_device_count=4 KERAS_BACKEND=jax \
        python tests/data_parallel_child.py PROBED_MODEL MODEL...
"""

import json
import sys

import jax
import keras
import numpy as np
from helpers import example, numpy_initializers_on_jax, set_deterministic_weights

import keras_zoo
from keras_zoo import distribute

LOSSES = {"classification": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
          "regression": "mse", "reconstruction": "mse", "self_supervised": None}
ROWS, BATCH, STEPS = 10, 4, 3


class ShardingProbe(keras.layers.Layer):
    """Identity; records the sharding XLA gives its input inside a compiled function."""

    seen = {}

    def __init__(self, tag, **kwargs):
        super().__init__(**kwargs)
        self.tag = tag

    def call(self, x):
        def record(sharding, tag=self.tag, shape=tuple(x.shape)):
            ShardingProbe.seen.setdefault(tag, []).append(
                {"global": list(shape), "shard": list(sharding.shard_shape(shape)),
                 "replicated": sharding.is_fully_replicated})

        jax.debug.inspect_array_sharding(x, callback=record)
        return x


def train(name, devices, probe=False):
    """The weights after `fit` (one epoch, batches of BATCH, no shuffling)."""
    keras.distribution.set_distribution(None)
    if devices > 1:
        distribute.data_parallel(keras.distribution.list_devices()[:devices])
    keras.utils.set_random_seed(0)
    info = keras_zoo.model_info(name)
    model = set_deterministic_weights(keras_zoo.build(name, **info.smoke))
    x, y = example(name, model, batch=ROWS, seed=2)
    if probe:  # input -> probe -> the model -> probe: shardings inside the train step
        inputs = keras.Input(model.inputs[0].shape[1:])
        model = keras.Model(inputs, ShardingProbe(f"out{devices}")(
            model(ShardingProbe(f"in{devices}")(inputs))))
    loss = LOSSES[info.task]
    optimizer = keras.optimizers.SGD(0.05)
    model.compile(optimizer=optimizer, **({"loss": loss} if loss is not None else {}))
    history = model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    return [keras.ops.convert_to_numpy(w) for w in model.weights], history.history


def main(names, probe_model):
    numpy_initializers_on_jax()
    found = {"devices": jax.device_count(), "models": {}}
    for name in names:
        reference, ref_history = train(name, 1, probe=name == probe_model)
        row = {}
        for devices in (2, 4) if name == probe_model else (4,):
            weights, history = train(name, devices, probe=name == probe_model)
            row[devices] = {
                "max_abs_diff": max(float(np.max(np.abs(a - b)))
                                    for a, b in zip(weights, reference)),
                "max_abs_weight": max(float(np.max(np.abs(a))) for a in reference),
                "logs": {k: v[-1] for k, v in history.items()},
                "logs_one_device": {k: v[-1] for k, v in ref_history.items()}}
        found["models"][name] = row
    found["shardings"] = ShardingProbe.seen
    print(json.dumps(found))


if __name__ == "__main__":
    main(sys.argv[2:], probe_model=sys.argv[1])
