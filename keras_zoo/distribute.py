"""Data-parallel training with `keras.distribution` (JAX), and what to use on the others.

    keras_zoo.distribute.data_parallel()        # first, before any model is built
    model = keras_zoo.build("resnet18")
    model.compile(...); model.fit(x, y, batch_size=256)

`data_parallel` sets a `keras.distribution.DataParallel` over every device JAX sees: each
variable is replicated on every device, each batch is split along its first axis, and
XLA sums the gradients across devices inside the compiled step. The computation is the
one-device computation, only spread out: BatchNorm's statistics and the loss are still
over the whole batch. `batch_size` in `fit` is the global batch; each of N devices
computes batch_size / N rows. A batch that N does not divide (the last of an epoch, a
`predict` of a few examples) runs whole on every device instead of failing
(`workarounds.replicate_indivisible_batches`, in one process).

Several hosts: each host runs the same script, and before anything else calls

    keras.distribution.initialize(job_addresses="10.0.0.1:1234",  # host 0, coordinator
                                  num_processes=2, process_id=i)  # i = 0, 1
    keras_zoo.distribute.data_parallel()  # now over the devices of all hosts

(or sets KERAS_DISTRIBUTION_JOB_ADDRESSES / _NUM_PROCESSES / _PROCESS_ID and calls
`initialize()`). Each host then feeds its own part of the data. With NumPy arrays,
`batch_size` is per host: the global batch is batch_size x hosts, and each host's batch
must divide by its local device count. A batched `tf.data.Dataset` is split across hosts
by Keras itself: its batch is the global one.

TensorFlow and PyTorch: Keras 3 implements `keras.distribution` on JAX only.
`UNSUPPORTED` says what to use there instead; `data_parallel` raises it rather than
silently training on one device.
"""

import keras

from keras_zoo import workarounds

__all__ = ["UNSUPPORTED", "data_parallel"]

UNSUPPORTED = {
    "tensorflow": (
        "keras.distribution (--distribute data) runs on JAX only. On TensorFlow use "
        "tf.distribute.MirroredStrategy: build and compile the model inside "
        "`with tf.distribute.MirroredStrategy().scope():`, then fit splits each batch "
        "across the GPUs; or run with KERAS_BACKEND=jax"),
    "torch": (
        "keras.distribution (--distribute data) runs on JAX only. On PyTorch wrap the "
        "model in torch.nn.parallel.DistributedDataParallel in a training loop started "
        "by torchrun (keras.io: 'Multi-GPU distributed training with PyTorch'); or run "
        "with KERAS_BACKEND=jax"),
}


def data_parallel(devices=None):
    """Train every model built from now on data-parallel over `devices` (JAX).

    Args:
        devices: device names as `keras.distribution.list_devices()` gives them
            (e.g. ["gpu:0", "gpu:1"]); default: all of them.

    Returns:
        The `DataParallel` distribution, now Keras' global one.

    Raises:
        NotImplementedError: on TensorFlow or PyTorch, with what to use there.
    """
    backend = keras.backend.backend()
    if backend != "jax":
        raise NotImplementedError(UNSUPPORTED.get(
            backend, f"keras.distribution does not run on the {backend} backend"))
    devices = list(devices) if devices is not None else keras.distribution.list_devices()
    if not devices:
        raise ValueError("data_parallel: no devices given")
    distribution = keras.distribution.DataParallel(devices=devices)
    keras.distribution.set_distribution(distribution)
    workarounds.replicate_indivisible_batches()
    return distribution
