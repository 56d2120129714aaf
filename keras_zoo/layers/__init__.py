"""Custom layers, registered as "keras_zoo>Name" for safe-mode loading.

Every public layer is importable from here, as from `keras.layers`:

    from keras_zoo.layers import GCNConv, MessagePassing, BahdanauAttention
"""

from keras_zoo.layers.attention import (
    AttentionLSTMDecoder,
    BahdanauAttention,
    ClassToken,
    PaddingMask,
    PatchEmbedding,
    PositionEmbedding,
    SinusoidalPositionEncoding,
)
from keras_zoo.layers.checks import InputShapeCheck, checked_input, checked_token_input
from keras_zoo.layers.conv import BatchNormalization, Conv2D, DepthwiseConv2D
from keras_zoo.layers.generative import SinusoidalEmbedding
from keras_zoo.layers.graph import GATConv, GCNConv, GINConv, MessagePassing
from keras_zoo.layers.graph_blocks import (
    EdgeConditionedConv,
    GlobalAttentionPool,
    GlobalPool,
    InteractionNetwork,
)
from keras_zoo.layers.rbf import GaussianRBF
from keras_zoo.layers.recurrent import (
    GRU,
    LSTM,
    BidirectionalRNN,
    LectureGRUCell,
    LectureLSTMCell,
)
from keras_zoo.layers.shuffle import ChannelShuffle, ChannelSplit

__all__ = [
    "AttentionLSTMDecoder",
    "BahdanauAttention",
    "BatchNormalization",
    "BidirectionalRNN",
    "ChannelShuffle",
    "ChannelSplit",
    "ClassToken",
    "Conv2D",
    "DepthwiseConv2D",
    "EdgeConditionedConv",
    "GATConv",
    "GCNConv",
    "GINConv",
    "GRU",
    "GaussianRBF",
    "GlobalAttentionPool",
    "GlobalPool",
    "InputShapeCheck",
    "InteractionNetwork",
    "LSTM",
    "LectureGRUCell",
    "LectureLSTMCell",
    "MessagePassing",
    "PaddingMask",
    "PatchEmbedding",
    "PositionEmbedding",
    "SinusoidalEmbedding",
    "SinusoidalPositionEncoding",
    "checked_input",
    "checked_token_input",
]
