"""Backend and hardware workarounds, in one place, each kept only until upstream fixes it.

Each `Workaround` in `WORKAROUNDS` names the upstream problem (a link), the package
versions it was checked on, the code here that avoids it, and a `probe`: a small
program (in `keras_zoo/workaround_probes.py`) that returns True while the upstream
problem is still there. The tests
(`tests/test_workarounds.py`) run every probe (the timed ones in the "full" tier) and
fail when a probe finds the problem gone, or when a newer version of a package is
installed than the workaround was checked on: then re-run the probe and remove the
workaround, or raise its `checked` bound.

    python -m keras_zoo workarounds          # run every probe, print what it finds
"""

import dataclasses
import functools
import importlib.metadata
import os
import subprocess
import sys

import keras
from keras import layers, ops
from packaging.version import Version

from keras_zoo import extras

# ---------------------------------------------------------------- 1. JAX depthwise taps


@functools.cache
def _jax_on_cpu_only():
    return all(d.startswith("cpu") for d in keras.distribution.list_devices())


def use_depthwise_taps(layer, inputs):
    """Whether `DepthwiseConv2D` computes by shifted taps: JAX on CPU devices, multiplier
    and dilation 1, channels last, static spatial size."""
    return (keras.backend.backend() == "jax" and layer.depth_multiplier == 1
            and tuple(layer.dilation_rate) == (1, 1)
            and layer.data_format == "channels_last"
            and None not in tuple(inputs.shape[1:3]) and _jax_on_cpu_only())


def _same_padding(size, kernel, stride):
    """TensorFlow's "same" padding (before, after) and the output size along one axis."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return (total // 2, total - total // 2), out


def depthwise_by_taps(x, kernel, strides, padding):
    """Depthwise convolution (multiplier 1, channels last) as a sum of shifted copies.

    Args:
        x: (batch, h, w, c).
        kernel: (kh, kw, c, 1), as `keras.layers.DepthwiseConv2D` stores it.
        strides: (sh, sw).
        padding: "same" or "valid".

    Returns:
        (batch, h_out, w_out, c), equal to `ops.depthwise_conv(x, kernel, strides, padding)`.
    """
    (kh, kw), (sh, sw), (h, w) = kernel.shape[:2], strides, x.shape[1:3]
    if padding == "same":
        pad_h, out_h = _same_padding(h, kh, sh)
        pad_w, out_w = _same_padding(w, kw, sw)
        x = ops.pad(x, ((0, 0), pad_h, pad_w, (0, 0)))
    else:
        out_h, out_w = (h - kh) // sh + 1, (w - kw) // sw + 1
    outputs = 0
    for i in range(kh):
        for j in range(kw):  # tap (i, j): every output position reads x[i + s*y, j + s*x]
            window = x[:, i: i + (out_h - 1) * sh + 1: sh, j: j + (out_w - 1) * sw + 1: sw]
            outputs = outputs + window * kernel[i, j, :, 0]
    return outputs


# ------------------------------------------------------- 2. strided 1x1 conv subsample


def subsample(x, strides, name):
    """Every `strides`-th pixel (a 1x1 max pool): followed by a 1x1 convolution it is a
    strided 1x1 convolution with the same weights and outputs, whose weight gradient
    avoids oneDNN's AVX2 1x1 kernel (PyTorch on AVX2-only CPUs).

    x: (b, h, w, c) -> (b, ceil(h / s), ceil(w / s), c); layer name f"{name}_subsample".
    """
    return layers.MaxPooling2D(1, strides=strides, padding="same",
                               name=f"{name}_subsample")(x)


# ------------------------------------------------------------ 3. SimpleRNN unroll on torch


def default_unroll(window, cell="rnn"):
    """Per-backend default for `unroll`: True only for SimpleRNN on torch, fixed windows.

    On the torch backend Keras runs the recurrence as a Python loop of small ops; an
    unrolled SimpleRNN trains faster (its probe below). Keras' torch LSTM/GRU ignore
    `unroll` on CPU (and unrolling would switch cuDNN off on GPU); TF and JAX compile
    the loop.
    """
    return keras.backend.backend() == "torch" and cell == "rnn" and window is not None


# ------------------------------------------- 4. JAX data parallel: indivisible batches


def replicate_indivisible_batches():
    """Under `keras.distribution.DataParallel` on JAX in one process, lay out a batch that
    the device count does not divide (the last of an epoch, a short `predict`) whole on
    every device instead of failing: each device computes what one device would.

    Keras splits every batch of an epoch along the layout of the first batch, and JAX
    refuses a split into unequal parts. Wraps Keras' `distribute_data_input` (the call
    that places each batch on the devices); idempotent. Across processes each one holds
    other rows, which a replicated layout would wrongly declare equal: there the batch is
    left to Keras, whose error stands.
    """
    import jax
    from keras.src.backend.jax import distribution_lib

    place = distribution_lib.distribute_data_input
    if getattr(place, "keras_zoo_replicates", False):
        return

    def distribute_data_input(per_process_batch, layout, batch_dim_name):
        sharding = layout.backend_layout if hasattr(layout, "backend_layout") else layout
        mesh = getattr(sharding, "mesh", None)
        rows = per_process_batch.shape[0] if per_process_batch.ndim else None
        if (mesh is not None and rows is not None and jax.process_count() == 1
                and batch_dim_name in mesh.shape and rows % mesh.shape[batch_dim_name]):
            sharding = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec())
        return place(per_process_batch, sharding, batch_dim_name)

    distribute_data_input.keras_zoo_replicates = True
    distribution_lib.distribute_data_input = distribute_data_input


# ------------------------------------------------ 5. torch LSTM/GRU on CPU: fused kernel


def _is(fn, *names):
    """Whether `fn` is Keras' (or keras.ops') activation of one of these names."""
    return any(fn is getattr(keras.activations, n) or fn is getattr(ops, n) for n in names)


def fused_recurrence(layer, sequences, initial_state, mask, training):
    """A `keras.layers.LSTM`/`GRU`'s whole recurrence by PyTorch's fused ATen kernel.

    Keras' torch backend calls `torch._VF.lstm`/`gru` (what `nn.LSTM`/`nn.GRU` run) only
    on CUDA; on CPU it steps a Python loop of small ops. This calls the same kernel on
    CPU with the layer's own weights: the LSTM's gate blocks (i, f, c, o) are PyTorch's
    order, the GRU's (z, r, h) are reordered to PyTorch's (r, z, n); Keras' one LSTM bias
    is PyTorch's input bias (the recurrent bias is zero), the GRU's two biases (input,
    recurrent; `reset_after=True`) are PyTorch's two. Input dropout is applied as Keras
    applies it (one mask for every step). A mask that pads on the right (each row some
    steps, then only padding) runs as PyTorch's packed sequences: the state stops at each
    row's last step and the padded steps output what Keras' loop outputs there (the last
    output, or zeros with `zero_output_for_mask`). With `go_backwards` (the backward half
    of a bidirectional layer) Keras reads each row from its end, the padding first: each
    row is reversed within its length, packed, and its outputs are shifted right behind
    the zeros Keras outputs for the padding it read first.

    Args:
        layer: the `LSTM` or `GRU` layer (its `cell` holds the weights).
        sequences: (batch, time, features); initial_state: [h, c] or [h], each
            (batch, units); mask and training: as `keras.layers.RNN.inner_loop`.

    Returns:
        `(last_output, outputs, states)` as `RNN.inner_loop` returns them, or None where
        the kernel does not apply (another backend, a CUDA tensor (Keras uses cuDNN
        there), a mask that is not right-padding or with an empty row, recurrent
        dropout, other activations, `reset_after=False`,
        `use_cudnn=False`, tracing or `torch.compile`): the caller runs Keras' own path.
    """
    if keras.backend.backend() != "torch" or layer.use_cudnn is False:
        return None
    import torch

    cell = layer.cell
    gru = isinstance(layer, layers.GRU)
    if isinstance(mask, (list, tuple)):
        mask = mask[0]
    if (cell.recurrent_dropout or (gru and not cell.reset_after)
            or not _is(cell.activation, "tanh")
            or not _is(cell.recurrent_activation, "sigmoid")
            or sequences.device.type != "cpu" or torch.jit.is_tracing()
            or torch.compiler.is_compiling() or torch.compiler.is_exporting()):
        return None
    lengths = None
    if mask is not None:  # (batch, time): True for the steps a row has
        mask = ops.cast(mask, "bool")
        lengths = torch.sum(mask, dim=1)  # (batch,)
        right_padded = mask == (torch.arange(mask.shape[1]) < lengths[:, None])
        if not bool(torch.all(right_padded)) or not bool(torch.all(lengths > 0)):
            return None
    if training and cell.dropout:  # one input-dropout mask for every step, as Keras does
        sequences = sequences * ops.expand_dims(cell.get_dropout_mask(sequences[:, 0]), 1)
    dtype = sequences.dtype
    kernel, recurrent = (ops.cast(w, dtype) for w in (cell.kernel, cell.recurrent_kernel))
    bias = None if cell.bias is None else ops.cast(cell.bias, dtype)
    if not isinstance(initial_state, (list, tuple)):
        initial_state = [initial_state]
    states = [ops.cast(s, dtype)[None] for s in initial_state]  # each (1, batch, units)
    if gru:  # blocks z, r, h -> r, z, n
        z, r, h = (slice(k * cell.units, (k + 1) * cell.units) for k in range(3))
        kernel, recurrent = (torch.cat([w[..., r], w[..., z], w[..., h]], dim=-1)
                             for w in (kernel, recurrent))
        biases = [] if bias is None else [torch.cat([b[r], b[z], b[h]]) for b in bias]
    else:
        biases = [] if bias is None else [bias, torch.zeros_like(bias)]
    params = [kernel.T.contiguous(), recurrent.T.contiguous(), *biases]
    steps = torch.arange(sequences.shape[1])
    if layer.go_backwards and lengths is not None:  # row i read from step length_i - 1 down
        read = (lengths[:, None] - 1 - steps).clamp(min=0)  # (batch, time); past the end: 0
        sequences = torch.gather(sequences, 1, read[..., None].expand_as(sequences))
    elif layer.go_backwards:  # Keras returns the outputs in the order it read the steps
        sequences = torch.flip(sequences, dims=[1])
    run = torch._VF.gru if gru else torch._VF.lstm
    flags = (bias is not None, 1, 0.0, torch.is_grad_enabled(), False)  # has_biases,
    if lengths is None:  # num_layers, dropout, train, bidirectional (then batch_first)
        hx = states[0] if gru else tuple(states)
        outputs, *last = run(sequences, hx, params, *flags, True)  # (batch, time, units)
        return outputs[:, -1], outputs, [s[0] for s in last]
    rnn_utils = torch.nn.utils.rnn
    packed = rnn_utils.pack_padded_sequence(sequences, lengths.cpu(), batch_first=True,
                                            enforce_sorted=False)  # rows by length
    states = [s[:, packed.sorted_indices] for s in states]
    data, *last = run(packed.data, packed.batch_sizes, states[0] if gru else tuple(states),
                      params, *flags)
    packed = rnn_utils.PackedSequence(data, *packed[1:])  # the outputs, packed alike
    outputs, _ = rnn_utils.pad_packed_sequence(packed, batch_first=True,
                                               total_length=sequences.shape[1])  # 0-padded
    last_output = outputs[torch.arange(len(lengths)), lengths - 1]  # (batch, units)
    if layer.go_backwards:  # Keras read the padding first (outputs 0), then the row
        shift = steps - (sequences.shape[1] - lengths[:, None])  # (batch, time)
        moved = torch.gather(outputs, 1, shift.clamp(min=0)[..., None].expand_as(outputs))
        outputs = torch.where((shift >= 0)[..., None], moved, torch.zeros_like(moved))
    elif not layer.zero_output_for_mask:  # a padded step repeats the last output
        outputs = torch.where(mask[..., None], outputs, last_output[:, None])
    return last_output, outputs, [s[0, packed.unsorted_indices] for s in last]


# ---------------------------------------------- 6. torch Adam: one fused update per step


def fused_adam_on_torch(enable=True):
    """On the torch backend, Keras' Adam (and AdamW) update by PyTorch's fused kernel.

    Keras' torch Adam updates all variables with `torch._foreach_*` ops, but allocates
    five full-size temporaries on the way (g * g, sqrt(v), + epsilon, alpha * m, the
    quotient): each a pass over memory. `torch._fused_adam_` (what `torch.optim.Adam(
    fused=True)` runs, on CPU too) makes one pass. The arithmetic is Keras' own: PyTorch
    divides sqrt(v) by sqrt(1 - beta_2^t) before adding epsilon, Keras adds epsilon to
    sqrt(v) and folds that factor into the step size, so the kernel is given
    epsilon / sqrt(1 - beta_2^t), which makes the two equal. AMSGrad, and variables on
    several devices or of several dtypes, keep Keras' path.

    Installed for the process (a no-op on other backends, or when installed already);
    the tutorials and `keras-zoo train` call it. `enable=False` puts Keras' update back.
    Returns whether the fused update is installed.
    """
    if keras.backend.backend() != "torch":
        return False
    import math

    import torch
    from keras.src.backend.torch.optimizers import torch_adam

    current = torch_adam.Adam._parallel_update_step
    keras_update = getattr(current, "keras_update", current)
    if not enable:
        torch_adam.Adam._parallel_update_step = keras_update
        return False
    if current is not keras_update:
        return True

    def update(self, grads, variables, learning_rate):
        kinds = {(g.device, g.dtype) for g in grads}
        if self.amsgrad or len(kinds) != 1:  # the kernel takes one device and dtype
            return keras_update(self, grads, variables, learning_rate)
        index = [self._get_variable_index(v) for v in variables]
        step = float(self.iterations.value) + 1.0  # this update's t, as Keras counts it
        steps = list(torch.full((len(index),), step, device=grads[0].device).unbind())
        torch._fused_adam_(
            [v.value for v in variables], list(grads),
            [self._momentums[i].value for i in index], [self._velocities[i].value for i in index],
            [], steps, amsgrad=False, lr=float(learning_rate), beta1=self.beta_1,
            beta2=self.beta_2, weight_decay=0.0,  # Keras decays before the update
            eps=self.epsilon / math.sqrt(1.0 - self.beta_2**step), maximize=False)

    update.keras_update = keras_update
    torch_adam.Adam._parallel_update_step = update
    return True


# ---------------------------------------- 7. full-batch data on TensorFlow and PyTorch


def full_batch(x, y=None, sample_weight=None, validation=False):
    """`fit` keyword arguments for a model trained on one whole batch per epoch.

    A graph trained whole (`gnn_cora`, the GCN benchmark row) is one step per epoch, and
    `fit` over NumPy arrays prepares every epoch as if it had many batches:
    - TensorFlow makes a new tf.data iterator of the arrays at every epoch, and another
      for the validation arrays, each copying them (tens of milliseconds for Cora's
      features, several times the step itself). Here: the one batch repeated forever,
      one step per epoch, iterated once per `fit`.
    - PyTorch slices the arrays and copies them into new tensors at every step. Here: a
      `DataLoader` of the one batch, as tensors that share the arrays' memory.
    JAX keeps the arrays. The steps and their numbers are the same.

        model.fit(**full_batch(x, y, train_weights),
                  **full_batch(x, y, val_weights, validation=True), epochs=100)

    Args:
        x: the inputs (an array or a dict of arrays), one batch along the first axis.
        y, sample_weight: targets and per-sample weights, as `fit` takes them.
        validation: give `validation_data` (and `validation_steps`) instead.
    """
    if y is None and sample_weight is not None:
        raise ValueError("full_batch: sample_weight weighs the targets y; got no y")
    batch = tuple(part for part in (x, y, sample_weight) if part is not None)
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        repeated = tf.data.Dataset.from_tensors(batch).repeat()
        return ({"validation_data": repeated, "validation_steps": 1} if validation
                else {"x": repeated, "steps_per_epoch": 1, "shuffle": False})
    if backend == "torch":
        import torch

        tensors = keras.tree.map_structure(torch.as_tensor, batch)
        loader = torch.utils.data.DataLoader(_OneBatch(tensors), batch_size=None)
        return {"validation_data": loader} if validation else {"x": loader, "shuffle": False}
    if validation:
        return {"validation_data": batch}
    first = next(iter(x.values())) if isinstance(x, dict) else x
    return {"x": x, "y": y, "sample_weight": sample_weight, "batch_size": len(first)}


class _OneBatch:
    """A map-style dataset (torch.utils.data) of one item: the whole batch."""

    def __init__(self, batch):
        self.batch = batch

    def __len__(self):
        return 1

    def __getitem__(self, index):
        if index != 0:
            raise IndexError(index)
        return self.batch


# ------------------------------------------------ 8. gather and segment sum on torch


def gather_rows(x, indices):
    """`ops.take(x, indices, axis=0)` for indices in range (graph layers: edge endpoints).

    On the torch backend Keras takes rows of a matrix through `embedding`, whose gradient
    (`embedding_dense_backward`) is several times slower than `index_select`'s
    (`index_add`). An index out of range raises there instead of being clipped.
    """
    if keras.backend.backend() != "torch":
        return ops.take(x, indices, axis=0)
    import torch

    x = ops.convert_to_tensor(x)
    indices = ops.convert_to_tensor(indices).long()
    out = torch.index_select(x, 0, indices.reshape(-1))
    return out.reshape(tuple(indices.shape) + tuple(x.shape[1:]))


def segment_sum(data, segment_ids, num_segments):
    """`ops.segment_sum(data, segment_ids, num_segments)` for ids in [0, num_segments).

    On the torch backend Keras repeats every id over the feature axes and scatters
    (`repeat_interleave`, `scatter_reduce`, and a gather in the gradient); `index_add`
    sums whole rows. As Keras does, 16-bit data are summed in float32.
    """
    if keras.backend.backend() != "torch":
        return ops.segment_sum(data, segment_ids, num_segments)
    import torch

    data = ops.convert_to_tensor(data)
    ids = ops.convert_to_tensor(segment_ids).long()
    wide = data.float() if data.dtype in (torch.float16, torch.bfloat16) else data
    out = torch.zeros((num_segments, *data.shape[1:]), dtype=wide.dtype, device=data.device)
    return out.index_add(0, ids, wide).to(data.dtype)


# ------------------------- 9. torch convolution and batch norm on channels-last data


def channels_last_conv(layer, inputs, kernel, bias=None, depthwise=False):
    """A `Conv2D` / `DepthwiseConv2D` layer's convolution on the torch backend, no copies.

    Keras' torch conv permutes NHWC to NCHW and copies the result into NCHW memory, then
    copies it again into channels-last memory for PyTorch's kernel: two copies of every
    input, and their gradients. The permuted view already is channels-last memory, which
    is what this passes. "same" padding is TensorFlow's (the extra row / column after);
    symmetric padding is the kernel's own argument, asymmetric padding a `pad`. The bias
    is added by the kernel, as `nn.Conv2d` adds it, not by one more op.

    Args:
        layer: the layer (its strides, padding, dilation and groups).
        inputs: (batch, height, width, channels).
        kernel: (kh, kw, in_channels / groups, filters), Keras' layout; with `depthwise`,
            (kh, kw, in_channels, multiplier), one group per input channel.
        bias: (filters,) or None.

    Returns:
        (batch, height', width', filters), or None where this does not apply (another
        backend, channels-first data, other ranks): the caller runs Keras' own path.
    """
    if (keras.backend.backend() != "torch" or layer.data_format != "channels_last"
            or len(inputs.shape) != 4):
        return None
    import torch

    x = ops.convert_to_tensor(inputs).permute(0, 3, 1, 2)  # NCHW view of NHWC memory
    w = ops.convert_to_tensor(kernel)
    if depthwise:  # output channel c * multiplier + m, as Keras orders them
        w = w.reshape(*w.shape[:2], 1, w.shape[2] * w.shape[3])
    w = w.permute(3, 2, 0, 1).contiguous(memory_format=torch.channels_last)  # (out, in, kh, kw)
    strides, dilation = tuple(layer.strides), tuple(layer.dilation_rate)
    padding = (0, 0)
    if layer.padding == "same":
        (top, bottom), _ = _same_padding(x.shape[2], (w.shape[2] - 1) * dilation[0] + 1,
                                         strides[0])
        (left, right), _ = _same_padding(x.shape[3], (w.shape[3] - 1) * dilation[1] + 1,
                                         strides[1])
        if (top, left) == (bottom, right):
            padding = (top, left)
        else:
            x = torch.nn.functional.pad(x, (left, right, top, bottom))
    groups = x.shape[1] // w.shape[1]
    if bias is not None:
        bias = ops.convert_to_tensor(bias)
    y = torch.nn.functional.conv2d(x, w, bias, strides, padding, dilation, groups)
    return y.permute(0, 2, 3, 1)  # NHWC view of the channels-last output


def fused_batch_norm(layer, inputs, training=None, mask=None):
    """A `BatchNormalization` layer's call by PyTorch's fused kernel on the torch backend.

    Keras computes the moments and the normalization as about ten elementwise ops and
    reductions, each a pass over memory, and as many again in the gradient. PyTorch's
    `native_batch_norm` makes one pass each way (what `nn.BatchNorm2d` runs). The numbers
    are Keras': the batch's biased variance, the moving averages updated as Keras
    updates them (from the kernel's mean and 1 / sqrt(var + epsilon)), inputs below
    float32 normalized in float32. Channels-last data stay in channels-last memory.

    Returns:
        The layer's outputs, or None where this does not apply (another backend, a mask,
        `renorm`, `synchronized`): the caller runs Keras' own path.
    """
    if (keras.backend.backend() != "torch" or mask is not None or layer.renorm
            or layer.synchronized):
        return None
    import torch

    x = ops.cast(inputs, keras.backend.result_type(inputs.dtype, "float32"))
    axis = layer.axis % len(x.shape)
    x_c = torch.movedim(x, axis, 1)  # channels second, as PyTorch's kernels take them
    gamma = ops.cast(layer.gamma, x.dtype) if layer.scale else None
    beta = ops.cast(layer.beta, x.dtype) if layer.center else None
    moving_mean = ops.cast(layer.moving_mean, x.dtype)
    moving_variance = ops.cast(layer.moving_variance, x.dtype)
    if training and layer.trainable:
        y, mean, inv_std = torch.native_batch_norm(x_c, gamma, beta, None, None, True, 0.0,
                                                   layer.epsilon)
        variance = inv_std.detach() ** -2 - layer.epsilon  # biased, as Keras' moments
        layer.moving_mean.assign(moving_mean * layer.momentum
                                 + mean.detach() * (1.0 - layer.momentum))
        layer.moving_variance.assign(moving_variance * layer.momentum
                                     + variance * (1.0 - layer.momentum))
    else:
        y = torch.nn.functional.batch_norm(x_c, moving_mean, moving_variance, gamma, beta,
                                           False, 0.0, layer.epsilon)
    return ops.cast(torch.movedim(y, 1, axis), layer.compute_dtype)


# ----------------------------------------------------------------------- the register


@dataclasses.dataclass(frozen=True)
class Workaround:
    """One upstream problem and what keras_zoo does about it.

    Attributes:
        name: key in `WORKAROUNDS`.
        problem: what goes wrong upstream, and where.
        upstream: link to the upstream report.
        applied_by: the code in keras_zoo that avoids it.
        checked: package -> first version not yet checked (the problem was seen on every
            installed version below it).
        timed: the probe compares timings (the "full" test tier runs it).
    """

    name: str
    problem: str
    upstream: str
    applied_by: str
    checked: dict
    timed: bool = False

    def versions_beyond_checked(self):
        """{package: installed version} for installed packages at or past `checked`."""
        beyond = {}
        for package, bound in self.checked.items():
            try:
                installed = importlib.metadata.version(package)
            except importlib.metadata.PackageNotFoundError:
                continue
            if Version(installed).release >= Version(bound).release:
                beyond[package] = installed
        return beyond

    def probe(self):
        """Run the probe in a fresh process: True while the upstream problem is there.

        Returns None where it cannot show here (e.g. not an x86-64 CPU).
        """
        from keras_zoo.workaround_probes import PROBE_ENV

        env = {**os.environ, **PROBE_ENV.get(self.name, {})}
        if not extras.installed(env.get("KERAS_BACKEND", "tensorflow")):
            return None  # a one-backend install: the other backends' problems cannot show
        try:
            done = subprocess.run(
                [sys.executable, "-m", "keras_zoo", "workarounds", "--probe", self.name],
                env=env, capture_output=True, text=True, timeout=60)
        except subprocess.TimeoutExpired:
            return True  # a hang is the problem too
        if done.returncode == 0:
            return {"present": True, "absent": False, "n/a": None}[
                done.stdout.strip().splitlines()[-1]]
        return True  # crashed (e.g. SIGSEGV in the probed kernel)


WORKAROUNDS = {w.name: w for w in [
    Workaround(
        name="jax_cpu_depthwise",
        problem="XLA's CPU grouped convolution (a depthwise conv is one group per channel) "
                "and its gradient are slower than a sum of kh x kw shifted, scaled copies",
        upstream="https://github.com/jax-ml/jax/issues/13800",
        applied_by="keras_zoo.layers.DepthwiseConv2D (use_depthwise_taps, depthwise_by_taps)",
        checked={"jaxlib": "0.11"}, timed=True),
    Workaround(
        name="onednn_avx2_strided_1x1",
        problem="oneDNN's AVX2 1x1 convolution weight gradient (channels-last input, "
                "stride > 1, fewer input channels than its block) writes past its "
                "workspace: wrong gradients, hangs or crashes in PyTorch on AVX2-only CPUs",
        upstream="https://github.com/uxlfoundation/oneDNN/issues/6035",
        applied_by="keras_zoo.models.resnet (shortcut: workarounds.subsample + 1x1 conv)",
        checked={"torch": "2.14"}),
    Workaround(
        name="torch_simple_rnn_loop",
        problem="Keras' torch backend steps a recurrence as a Python loop of small ops; "
                "for SimpleRNN the unrolled graph trains faster",
        upstream="https://github.com/keras-team/keras/issues/20902",
        applied_by="keras_zoo.workarounds.default_unroll (models.rnn, unroll='auto')",
        checked={"keras": "3.16", "torch": "2.14"}, timed=True),
    Workaround(
        name="jax_indivisible_batch",
        problem="Keras' JAX data parallelism splits every batch along the first batch's "
                "layout; a batch the device count does not divide (the last of an epoch, "
                "a short predict) fails with IndivisibleError",
        upstream="https://github.com/keras-team/keras/issues/21167",
        applied_by="keras_zoo.workarounds.replicate_indivisible_batches "
                   "(keras_zoo.distribute.data_parallel)",
        checked={"keras": "3.16"}),
    Workaround(
        name="torch_cpu_fused_rnn",
        problem="Keras' torch backend runs PyTorch's fused LSTM/GRU kernel (what nn.LSTM "
                "runs) only on CUDA; on CPU it steps a Python loop, several times slower",
        upstream="https://github.com/keras-team/keras/issues/20902",
        applied_by="keras_zoo.layers.LSTM / GRU (workarounds.fused_recurrence)",
        checked={"keras": "3.16", "torch": "2.14"}, timed=True),
    Workaround(
        name="torch_adam_temporaries",
        problem="Keras' torch Adam allocates five full-size temporaries per update (one "
                "pass over memory each); PyTorch's fused Adam makes one pass",
        upstream="https://github.com/keras-team/keras/issues/21481",
        applied_by="keras_zoo.workarounds.fused_adam_on_torch (tutorials, keras-zoo train)",
        checked={"keras": "3.16", "torch": "2.14"}, timed=True),
    Workaround(
        name="tf_array_iterator_per_epoch",
        problem="Keras' TensorFlow fit over NumPy arrays makes a new tf.data iterator "
                "every epoch (and one per validation), each copying the arrays: for a "
                "graph trained whole, one step per epoch, that costs several steps; "
                "arrays cannot be repeated instead (NNPDF/nnpdf#1802 met the same cost)",
        upstream="https://github.com/keras-team/keras/issues/19037",
        applied_by="keras_zoo.workarounds.full_batch (tutorials/gnn_cora.py, benchmarks)",
        checked={"keras": "3.16", "tensorflow": "2.22"}, timed=True),
    Workaround(
        name="torch_array_copy_per_step",
        problem="Keras' torch fit over NumPy arrays slices the arrays and copies each "
                "batch into new tensors at every step; for a graph trained whole that "
                "is a copy of every feature at every step",
        upstream="https://github.com/keras-team/keras/pull/19041",
        applied_by="keras_zoo.workarounds.full_batch (tutorials/gnn_cora.py, benchmarks)",
        checked={"keras": "3.16", "torch": "2.14"}, timed=True),
    Workaround(
        name="torch_gather_scatter_rows",
        problem="Keras' torch take(x, i, axis=0) runs embedding (a slow dense gradient) "
                "and segment_sum repeats every id over the features to scatter_reduce; "
                "index_select and index_add move whole rows (not reported upstream yet: "
                "the link is Keras' code)",
        upstream="https://github.com/keras-team/keras/blob/v3.15.1/keras/src/backend/torch/"
                 "math.py",
        applied_by="keras_zoo.workarounds.gather_rows / segment_sum (keras_zoo.layers.graph, "
                   "graph_blocks)",
        checked={"keras": "3.16", "torch": "2.14"}, timed=True),
    Workaround(
        name="torch_conv_input_copies",
        problem="Keras' torch conv copies a channels-last input into NCHW memory and then "
                "back into channels-last memory for PyTorch's kernel: two copies of every "
                "input (and of its gradient) where the permuted view needs none",
        upstream="https://github.com/keras-team/keras/issues/23279",
        applied_by="keras_zoo.layers.Conv2D / DepthwiseConv2D "
                   "(workarounds.channels_last_conv)",
        checked={"keras": "3.16", "torch": "2.14"}),
    Workaround(
        name="torch_unfused_batch_norm",
        problem="Keras' torch BatchNormalization computes the moments and the "
                "normalization as about ten elementwise ops and reductions (as many again "
                "in the gradient); PyTorch's native_batch_norm makes one pass each way",
        upstream="https://github.com/keras-team/keras/issues/21313",
        applied_by="keras_zoo.layers.BatchNormalization (workarounds.fused_batch_norm)",
        checked={"keras": "3.16", "torch": "2.14"}),
]}
