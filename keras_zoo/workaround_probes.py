"""The probes of `keras_zoo.workarounds`: small programs, each run in a fresh process,
that return True while an upstream problem is still there.

    python -m keras_zoo workarounds                # every probe, in its own process
    python -m keras_zoo workarounds --probe NAME   # one probe, here

`PROBES` maps each workaround's name (`workarounds.WORKAROUNDS`) to its probe, and
`PROBE_ENV` to the environment it needs (its backend, flags); tests/test_workarounds.py
checks that every workaround has both.
"""

import keras
from keras import layers

from keras_zoo.workarounds import (
    WORKAROUNDS,
    depthwise_by_taps,
    fused_adam_on_torch,
)

# The probe of oneDNN's AVX2 kernel limits oneDNN to AVX2, so it shows on any x86-64 CPU.
PROBE_ENV = {"onednn_avx2_strided_1x1": {"ONEDNN_MAX_CPU_ISA": "AVX2", "OMP_NUM_THREADS": "1",
                                         "KERAS_BACKEND": "torch"},
              "jax_cpu_depthwise": {"KERAS_BACKEND": "jax", "XLA_FLAGS": ""},
              "torch_simple_rnn_loop": {"KERAS_BACKEND": "torch"},
              "torch_cpu_fused_rnn": {"KERAS_BACKEND": "torch"},
              "torch_adam_temporaries": {"KERAS_BACKEND": "torch"},
              "jax_indivisible_batch": {"KERAS_BACKEND": "jax",
                                        "XLA_FLAGS": "--xla_force_host_platform_device_count=2"},
              "tf_array_iterator_per_epoch": {"KERAS_BACKEND": "tensorflow"},
              "torch_array_copy_per_step": {"KERAS_BACKEND": "torch"},
              "torch_gather_scatter_rows": {"KERAS_BACKEND": "torch"},
              "torch_conv_input_copies": {"KERAS_BACKEND": "torch"},
              "torch_unfused_batch_norm": {"KERAS_BACKEND": "torch"}}


def best_seconds(fn, repeats=7):
    """The fastest of `repeats` calls of `fn`, after one warm-up call."""
    import time

    fn()  # compile / warm up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _probe_jax_cpu_depthwise():
    """One training step of a 3x3 depthwise conv on (64, 14, 14, 48): XLA's grouped
    convolution vs taps. Present while XLA's is more than 1.5x slower."""
    import jax
    import numpy as np

    rng = np.random.default_rng(0)
    x = jax.numpy.asarray(rng.normal(size=(64, 14, 14, 48)).astype("float32"))
    kernel = jax.numpy.asarray(rng.normal(size=(3, 3, 48, 1)).astype("float32"))

    def grouped(x, k):
        return jax.lax.conv_general_dilated(x, k.reshape(3, 3, 1, 48), (1, 1), "SAME",
                                            dimension_numbers=("NHWC", "HWIO", "NHWC"),
                                            feature_group_count=48)

    def taps(x, k):
        return depthwise_by_taps(x, k, (1, 1), "same")

    def step_seconds(conv):
        grad = jax.jit(jax.grad(lambda x, k: (conv(x, k) ** 2).sum(), argnums=(0, 1)))
        return best_seconds(lambda: jax.block_until_ready(grad(x, kernel)))

    ratio = step_seconds(grouped) / step_seconds(taps)
    print(f"XLA grouped conv / taps, one training step: {ratio:.2f}x")
    return ratio > 1.5


def _probe_onednn_avx2_strided_1x1():
    """The weight gradient of a stride-2 1x1 conv, channels-last input with 4 channels,
    against float64 by hand. Present while it is wrong (or the process crashes/hangs)."""
    import platform

    import torch

    if platform.machine().lower() not in ("x86_64", "amd64"):
        return None
    torch.manual_seed(0)
    x = torch.randn(32, 32, 32, 4).permute(0, 3, 1, 2)  # NCHW view of channels-last memory
    weight = torch.randn(8, 4, 1, 1, requires_grad=True)
    y = torch.nn.functional.conv2d(x, weight, stride=2)
    upstream = torch.randn_like(y)
    (grad,) = torch.autograd.grad(y, [weight], upstream)
    expected = torch.einsum("nchw,nfhw->fc", x[:, :, ::2, ::2].double(), upstream.double())
    error = ((grad[:, :, 0, 0].double() - expected).abs().max() / expected.abs().max()).item()
    print(f"relative error of the weight gradient: {error:.2e}")
    return error > 1e-4


def _rnn_step_seconds(layer, shape=(64, 40, 1)):
    """Best seconds of one forward + backward of a recurrent layer on the torch backend."""
    import numpy as np
    import torch

    x = torch.tensor(np.random.default_rng(0).normal(size=shape).astype("float32"))
    layer.build(x.shape)
    variables = [v.value for v in layer.trainable_variables]
    return best_seconds(lambda: torch.autograd.grad(layer(x).square().sum(), variables))


def _probe_torch_simple_rnn_loop():
    """Forward + backward of SimpleRNN(32) on (64, 40, 1), torch backend: loop vs
    unrolled. Present while the loop is more than 1.1x slower."""
    ratio = (_rnn_step_seconds(layers.SimpleRNN(32, unroll=False))
             / _rnn_step_seconds(layers.SimpleRNN(32, unroll=True)))
    print(f"SimpleRNN loop / unrolled, one training step: {ratio:.2f}x")
    return ratio > 1.1


def _probe_torch_cpu_fused_rnn():
    """Forward + backward of LSTM(100) on (64, 40, 1), torch backend on CPU: Keras' own
    layer vs keras_zoo's (the fused kernel). Present while Keras' is > 1.2x slower."""
    from keras_zoo.layers import LSTM

    ratio = _rnn_step_seconds(layers.LSTM(100)) / _rnn_step_seconds(LSTM(100))
    print(f"LSTM on CPU, one training step, Keras' layer / the fused kernel: {ratio:.2f}x")
    return ratio > 1.2


def _probe_torch_adam_temporaries():
    """One Adam update of 670k float32 variables (the MLP's shapes), torch backend:
    Keras' update vs the fused one. Present while Keras' is > 1.5x slower."""
    import numpy as np
    import torch

    rng = np.random.default_rng(0)
    shapes = [(784, 512), (512,), (512, 512), (512,), (512, 10), (10,)]
    variables = [keras.Variable(rng.normal(size=s).astype("float32")) for s in shapes]
    grads = [torch.tensor(rng.normal(size=s).astype("float32")) for s in shapes]

    def update_seconds():
        optimizer = keras.optimizers.Adam(1e-3)
        optimizer.build(variables)
        return best_seconds(lambda: optimizer.apply(grads, variables), repeats=30)

    fused_adam_on_torch(enable=False)
    keras_seconds = update_seconds()
    fused_adam_on_torch()
    ratio = keras_seconds / update_seconds()
    print(f"Adam update of 670k variables, Keras' / fused: {ratio:.2f}x")
    return ratio > 1.5


def _probe_jax_indivisible_batch():
    """`fit` of 3 examples in batches of 2 under Keras' own DataParallel over 2 devices.
    Present while the last batch (1 example) fails."""
    import jax
    import numpy as np

    if jax.device_count() < 2:
        return None
    keras.distribution.set_distribution(keras.distribution.DataParallel())
    model = keras.Sequential([keras.Input((2,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    try:
        model.fit(np.ones((3, 2)), np.ones((3, 1)), batch_size=2, verbose=0)
    except ValueError as err:  # jax's IndivisibleError is a ValueError
        print(f"{type(err).__name__}: {str(err)[:120]}")
        return True
    return False


def _full_batch_ratio():
    """Seconds per epoch of `fit(epochs=20)` of a Dense layer on one batch of (3000,
    1433) features, NumPy arrays over `workarounds.full_batch`."""
    import numpy as np

    from keras_zoo.workarounds import full_batch

    rng = np.random.default_rng(0)
    x = rng.random((1, 3000, 1433), dtype="float32")
    y = rng.integers(0, 7, size=(1, 3000))
    model = keras.Sequential([keras.Input((3000, 1433)), layers.Dense(7)])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    arrays = {"x": x, "y": y, "batch_size": 1}
    seconds = [best_seconds(lambda data=data: model.fit(**data, epochs=20, verbose=0),
                            repeats=3) for data in (arrays, full_batch(x, y))]
    ratio = seconds[0] / seconds[1]
    print(f"fit on one batch per epoch, arrays / full_batch: {ratio:.2f}x")
    return ratio


def _probe_tf_array_iterator_per_epoch():
    """TensorFlow: present while the arrays are > 1.5x slower per epoch."""
    return _full_batch_ratio() > 1.5


def _probe_torch_array_copy_per_step():
    """torch: present while the arrays are > 1.2x slower per epoch."""
    return _full_batch_ratio() > 1.2


def _probe_torch_gather_scatter_rows():
    """Forward + backward of one message-passing round on (3000, 16) node features and
    13,000 edges, torch backend: Keras' take + segment_sum vs `gather_rows` +
    `segment_sum` here. Present while Keras' is > 1.15x slower."""
    import numpy as np
    import torch

    from keras_zoo import workarounds

    rng = np.random.default_rng(0)
    x = torch.tensor(rng.normal(size=(3000, 16)).astype("float32"), requires_grad=True)
    senders, receivers = (torch.tensor(rng.integers(0, 3000, 13_000)) for _ in range(2))

    def round_seconds(take, segment_sum):
        def step():
            messages = take(x, senders) * take(x, receivers)
            segment_sum(messages, receivers, 3000).sum().backward()
        return best_seconds(step, repeats=20)

    keras_seconds = round_seconds(lambda a, i: keras.ops.take(a, i, axis=0),
                                  keras.ops.segment_sum)
    ratio = keras_seconds / round_seconds(workarounds.gather_rows, workarounds.segment_sum)
    print(f"gather + segment sum, Keras' / row-wise: {ratio:.2f}x")
    return ratio > 1.15


def _aten_calls(fn):
    """The ATen ops (and their first argument's size) that `fn()` dispatches on torch."""
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    calls = []

    class Record(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            first = args[0] if args and isinstance(args[0], torch.Tensor) else None
            calls.append((func.overloadpacket.__name__, None if first is None else first.numel()))
            return func(*args, **(kwargs or {}))

    with Record():
        fn()
    return calls


def _probe_torch_conv_input_copies():
    """`keras.ops.conv` of a channels-last (2, 8, 8, 4) input on the torch backend: present
    while it copies the input more than once."""
    import numpy as np

    x = keras.ops.convert_to_tensor(np.ones((2, 8, 8, 4), "float32"))
    kernel = keras.ops.convert_to_tensor(np.ones((3, 3, 4, 5), "float32"))
    calls = _aten_calls(lambda: keras.ops.conv(x, kernel, padding="same"))
    return sum(name in ("clone", "copy_", "_to_copy") and size == 2 * 8 * 8 * 4
               for name, size in calls) >= 2


def _probe_torch_unfused_batch_norm():
    """A training call of `keras.layers.BatchNormalization` on the torch backend: present
    while it does not run one of PyTorch's batch-norm kernels."""
    import numpy as np

    layer = layers.BatchNormalization()
    x = keras.ops.convert_to_tensor(np.ones((4, 5, 5, 3), "float32"))
    layer.build(x.shape)
    calls = _aten_calls(lambda: layer(x, training=True))
    return not any("batch_norm" in name for name, _ in calls)


PROBES = {"jax_cpu_depthwise": _probe_jax_cpu_depthwise,
           "onednn_avx2_strided_1x1": _probe_onednn_avx2_strided_1x1,
           "torch_simple_rnn_loop": _probe_torch_simple_rnn_loop,
           "torch_cpu_fused_rnn": _probe_torch_cpu_fused_rnn,
           "torch_adam_temporaries": _probe_torch_adam_temporaries,
           "jax_indivisible_batch": _probe_jax_indivisible_batch,
           "tf_array_iterator_per_epoch": _probe_tf_array_iterator_per_epoch,
           "torch_array_copy_per_step": _probe_torch_array_copy_per_step,
           "torch_gather_scatter_rows": _probe_torch_gather_scatter_rows,
           "torch_conv_input_copies": _probe_torch_conv_input_copies,
           "torch_unfused_batch_norm": _probe_torch_unfused_batch_norm}


def report(name=None):
    """CLI: with `name`, run that probe here and print present / absent / n/a; without,
    run every probe in its own process and print what each finds. Returns 0."""
    if name is not None:
        if name not in PROBES:
            raise SystemExit(f"no probe {name!r}; known: {', '.join(PROBES)}")
        print({True: "present", False: "absent", None: "n/a"}[PROBES[name]()])
        return 0
    for workaround in WORKAROUNDS.values():
        found = {True: "present", False: "GONE: remove the workaround", None: "n/a here"}[
            workaround.probe()]
        beyond = workaround.versions_beyond_checked()
        print(f"{workaround.name}: problem {found}"
              f"{f'; newer than checked: {beyond}' if beyond else ''}")
    return 0
