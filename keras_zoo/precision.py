"""Mixed precision: the policies keras_zoo supports and a switch for them.

    keras_zoo.precision.set_precision("mixed_bfloat16")   # every model built after this
    with keras_zoo.precision.precision("mixed_bfloat16"):  # or only inside the block
        model = keras_zoo.build("resnet18")

Under a mixed policy a layer computes in 16 bits and keeps its weights in float32
(`keras.mixed_precision`). Every model's output layer computes in float32, so that the
loss (softmax cross-entropy, MSE, a log-likelihood) sees float32 values whatever the
policy; the models with their own losses (GANs, VAE, DDPM, SSD) compute them in float32
too, and the Hopfield network and the RBM compute in float32 throughout.
`mixed_float16` needs loss scaling against underflow: `compile` wraps the optimizer in
a `keras.optimizers.LossScaleOptimizer` by itself under that policy. `mixed_bfloat16`
has float32's range and needs none; it is the policy for CPUs and TPUs.
"""

import contextlib

import keras

POLICIES = ("float32", "mixed_bfloat16", "mixed_float16")

__all__ = ["POLICIES", "precision", "set_precision"]


def set_precision(policy):
    """Set the global dtype policy for the models built from now on.

    Args:
        policy: one of `POLICIES`.

    Returns:
        The policy's name.

    Raises:
        ValueError: another name.
    """
    if policy not in POLICIES:
        raise ValueError(f"precision must be one of {', '.join(POLICIES)}, got {policy!r}")
    keras.mixed_precision.set_global_policy(policy)
    return policy


@contextlib.contextmanager
def precision(policy):
    """`set_precision(policy)` inside the block; the policy before it afterwards."""
    before = keras.mixed_precision.global_policy().name
    set_precision(policy)
    try:
        yield policy
    finally:
        keras.mixed_precision.set_global_policy(before)
