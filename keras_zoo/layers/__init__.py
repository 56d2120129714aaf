"""Custom layers, registered as "keras_zoo>Name" for safe-mode loading.

Importing keras_zoo registers every layer module (the model modules import the rest).
"""

import keras_zoo.layers.graph_blocks  # noqa: F401  (also registers layers.graph)
from keras_zoo.layers.checks import InputShapeCheck, checked_input  # noqa: F401
from keras_zoo.layers.conv import DepthwiseConv2D  # noqa: F401
from keras_zoo.layers.shuffle import ChannelShuffle, ChannelSplit  # noqa: F401
