"""Networks for reinforcement learning: AlphaZero's policy-value network, and the policy
and value networks of policy gradients.

Lecture: "Neural networks: CNN, RNN, Transformer, RL" (NN for RL: "which move" is a
classification, "how good" a regression; AlphaZero: a ResNet backbone with a policy
network and a value network, guiding Monte Carlo tree search).
Silver et al., "Mastering the game of Go without human knowledge", Nature 2017 (the
network) and "A general reinforcement learning algorithm that masters chess, shogi and
Go through self-play", Science 2018 (AlphaZero). Williams, "Simple statistical
gradient-following algorithms for connectionist reinforcement learning", Machine
Learning 1992 (REINFORCE: `policy_mlp`, with `value_mlp` as its baseline).

The games, the tree search and self-play that produce the training data are plain NumPy
in `keras_zoo.rl`, and so are the control environments and the policy-gradient updates
(`keras_zoo.rl.control`); this module holds only the networks and AlphaZero's loss.
"""

import keras
import numpy as np
from keras import layers

from keras_zoo.layers import checked_input
from keras_zoo.layers.conv import BatchNormalization, Conv2D
from keras_zoo.models.autoencoder import apply_dense_stack
from keras_zoo.models.base import ZooModel
from keras_zoo.models.resnet import BN_EPSILON, BN_MOMENTUM, apply_basic_block
from keras_zoo.registry import register_model


def _conv_bn_relu(x, filters, kernel_size, name):
    x = Conv2D(filters, kernel_size, padding="same", use_bias=False,
               name=f"{name}_conv")(x)
    x = BatchNormalization(momentum=BN_MOMENTUM, epsilon=BN_EPSILON,
                           name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def apply_policy_head(x, num_moves, name="policy"):
    """1x1 conv to 2 planes, BN, ReLU, flatten, dense: one logit per move.

    Args:
        x: (batch, h, w, filters), the tower's output.
        num_moves: number of moves (9 cells for tic-tac-toe, 7 columns for Connect Four).
        name: the name of the output layer; its other layers are prefixed with it.

    Returns:
        (batch, num_moves) logits.
    """
    x = _conv_bn_relu(x, 2, 1, f"{name}_head")  # (b, h, w, 2)
    x = layers.Flatten(name=f"{name}_flatten")(x)  # (b, 2 h w)
    return layers.Dense(num_moves, dtype="float32", name=name)(x)


def apply_value_head(x, units, name="value"):
    """1x1 conv to 1 plane, BN, ReLU, dense(units) ReLU, dense(1) tanh: the expected
    outcome for the player to move, in [-1, 1].

    Args:
        x: (batch, h, w, filters), the tower's output.
        units: width of the hidden dense layer (256 in the paper).
        name: the name of the output layer; its other layers are prefixed with it.

    Returns:
        (batch, 1).
    """
    x = _conv_bn_relu(x, 1, 1, f"{name}_head")  # (b, h, w, 1)
    x = layers.Flatten(name=f"{name}_flatten")(x)  # (b, h w)
    x = layers.Dense(units, activation="relu", name=f"{name}_hidden")(x)  # (b, units)
    return layers.Dense(1, activation="tanh", dtype="float32", name=name)(x)


def _example(model, batch, rng):
    """Boards of random stones (one-hot planes: at most one stone per cell) and
    AlphaZero's targets: a visit distribution over the moves and an outcome in [-1, 1]."""
    height, width, planes = model.inputs[0].shape[1:]
    cells = rng.integers(0, planes + 1, size=(batch, height, width, 1))  # 0: empty
    x = (cells == np.arange(1, planes + 1)).astype("float32")  # (b, h, w, planes)
    num_moves = model.get_layer("policy").units
    policy = rng.dirichlet(np.ones(num_moves), size=batch).astype("float32")
    value = rng.uniform(-1.0, 1.0, size=(batch, 1)).astype("float32")
    return x, {"policy": policy, "value": value}


# The targets are real-valued arrays shaped like the outputs (a visit distribution, an
# outcome): the "regression" contract. The registry's generic MSE on both outputs trains
# it; `compile_alphazero` gives the paper's loss (cross-entropy for the policy).
@register_model(task="regression", example=_example,
                smoke={"filters": 8, "num_blocks": 1, "value_units": 8})
def alphazero_net(board_shape=(3, 3, 2), num_moves=None, filters=64, num_blocks=3,
                  value_units=64, name="alphazero_net"):
    """AlphaZero's policy-value network: a residual tower, a policy head and a value head.

    The input is the board as planes from the point of view of the player to move
    (`keras_zoo.rl`: plane 0 their stones, plane 1 the opponent's), so one network
    plays both sides. The paper's tower is 19 or 39 blocks of 256 filters on a 19x19
    board; tic-tac-toe and Connect Four need far less.

    Args:
        board_shape: (height, width, planes); (6, 7, 2) for Connect Four.
        num_moves: number of policy logits; None: one per cell (height * width).
        filters: width of the stem and of every residual block.
        num_blocks: residual basic blocks (`resnet.apply_basic_block`, stride 1).
        value_units: hidden width of the value head.
        name: model name.

    Returns:
        A functional `keras.Model` mapping (batch, *board_shape) to {"policy": (batch,
        num_moves) logits, "value": (batch, 1) in [-1, 1]}. Train it with
        `compile_alphazero` on `{"policy": visit distributions, "value": outcomes}`.
    """
    if len(board_shape) != 3:
        raise ValueError(f"alphazero_net: board_shape={tuple(board_shape)!r} must be "
                         "(height, width, planes)")
    height, width, _ = board_shape
    num_moves = height * width if num_moves is None else num_moves
    inputs, x = checked_input(board_shape, name="board")
    x = _conv_bn_relu(x, filters, 3, "stem")  # (b, h, w, filters)
    for i in range(num_blocks):
        x = apply_basic_block(x, filters, 1, use_bias=False, name=f"block{i + 1}")
    policy = apply_policy_head(x, num_moves)  # (b, num_moves) logits
    value = apply_value_head(x, value_units)  # (b, 1)
    return ZooModel(inputs, {"policy": policy, "value": value}, name=name)


def compile_alphazero(model, learning_rate=1e-3, weight_decay=1e-4):
    """Compile with AlphaZero's loss: (z - v)^2 - pi . log p, plus weight decay.

    Cross-entropy from the policy logits to the search's visit distribution pi (soft
    targets, so `CategoricalCrossentropy`, not the sparse one) plus the squared error of
    the value against the game's outcome z. The paper's L2 term c ||theta||^2 is AdamW's
    decoupled weight decay here. Fit with `model.fit(planes, {"policy": pi, "value": z})`.

    Returns:
        The model, compiled.
    """
    model.compile(optimizer=keras.optimizers.AdamW(learning_rate, weight_decay=weight_decay),
                  loss={"policy": keras.losses.CategoricalCrossentropy(from_logits=True),
                        "value": keras.losses.MeanSquaredError()})
    return model


# --- Policy gradients: a policy network and a value network over an observation vector ---
# (tanh hidden units, as in the policy-gradient papers: bounded, smooth outputs)

@register_model(smoke={"units": (8, 8)})
def policy_mlp(observation_dim=4, num_actions=2, units=(64, 64), activation="tanh",
               name="policy_mlp"):
    """A policy network: an observation vector -> one output per action.

    With discrete actions the outputs are the logits of a softmax policy pi(a | s) (train
    it with `SparseCategoricalCrossentropy(from_logits=True)` weighted by the advantages:
    REINFORCE); with a continuous action they are the mean of a Gaussian policy (a
    weighted MSE). `keras_zoo.rl.control` has both updates.

    Args:
        observation_dim: length of the observation (4 for CartPole).
        num_actions: number of discrete actions, or of continuous action dimensions.
        units: hidden widths.
        activation: hidden activation.
        name: model name.

    Returns:
        A functional `keras.Model` mapping (batch, observation_dim) to (batch, num_actions).
    """
    inputs, x = checked_input((observation_dim,), name="observation")
    x = apply_dense_stack(x, units, activation, name="policy_hidden")  # (b, units[-1])
    outputs = layers.Dense(num_actions, dtype="float32", name="policy")(x)  # (b, num_actions)
    return ZooModel(inputs, outputs, name=name)


@register_model(task="regression", smoke={"units": (8, 8)})
def value_mlp(observation_dim=4, units=(64, 64), activation="tanh", name="value_mlp"):
    """A value network: an observation vector -> the expected return V(s).

    The baseline of REINFORCE (the critic of actor-critic): fitted with MSE to the
    returns, it turns returns into advantages A = G - V(s).

    Args:
        observation_dim: length of the observation (4 for CartPole).
        units: hidden widths.
        activation: hidden activation.
        name: model name.

    Returns:
        A functional `keras.Model` mapping (batch, observation_dim) to (batch, 1).
    """
    inputs, x = checked_input((observation_dim,), name="observation")
    x = apply_dense_stack(x, units, activation, name="value_hidden")  # (b, units[-1])
    outputs = layers.Dense(1, dtype="float32", name="value")(x)  # (b, 1)
    return ZooModel(inputs, outputs, name=name)
