"""Channel split and channel shuffle: the two tensor moves of a ShuffleNet unit.

Ma, Zhang, Zheng & Sun, "ShuffleNet V2: Practical guidelines for efficient CNN
architecture design", ECCV 2018 (Fig. 3c/d); the shuffle itself is from Zhang et al.,
"ShuffleNet", CVPR 2018. Both are plain `keras.ops` reshapes/transposes, so they run on
every backend and save in safe mode.
"""

import keras
from keras import layers, ops


@keras.saving.register_keras_serializable(package="keras_zoo")
class ChannelShuffle(layers.Layer):
    """Interleave the channels of `groups` groups: (g, c/g) -> transpose -> (c/g, g).

    With 2 groups and channels [a0 a1 a2 b0 b1 b2] the output is [a0 b0 a1 b1 a2 b2], so
    the next unit's split sees channels from both branches of this one.

    Args:
        groups: number of channel groups; must divide the channel count.
    """

    def __init__(self, groups=2, **kwargs):
        super().__init__(**kwargs)
        self.groups = int(groups)

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is not None and channels % self.groups:
            raise ValueError(f"{self.name}: {channels} channels do not split into "
                             f"{self.groups} groups")

    def call(self, inputs):
        height, width, channels = inputs.shape[1:]  # static: (batch, h, w, c)
        x = ops.reshape(inputs, (-1, height, width, self.groups, channels // self.groups))
        x = ops.transpose(x, (0, 1, 2, 4, 3))  # (b, h, w, c/g, g)
        return ops.reshape(x, (-1, height, width, channels))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "groups": self.groups}


@keras.saving.register_keras_serializable(package="keras_zoo")
class ChannelSplit(layers.Layer):
    """Split the channels into two halves: (b, h, w, c) -> [(b, h, w, c/2), (b, h, w, c/2)]."""

    def build(self, input_shape):
        if input_shape[-1] is not None and input_shape[-1] % 2:
            raise ValueError(f"{self.name}: an odd number of channels ({input_shape[-1]}) "
                             "cannot be split in half")

    def call(self, inputs):
        half = inputs.shape[-1] // 2
        return [inputs[..., :half], inputs[..., half:]]

    def compute_output_shape(self, input_shape):
        half = (*input_shape[:-1], input_shape[-1] // 2)
        return [half, half]
