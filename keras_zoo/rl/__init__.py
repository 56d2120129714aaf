"""Reinforcement learning besides the networks, in plain NumPy: games, search, control.

The one home of everything in AlphaZero that is not the network (the network is
`keras_zoo.models.rl.alphazero_net`): the rules (`boards`), reference players
(`players`), and Monte Carlo tree search with batched self-play (`mcts`).

    from keras_zoo.rl import TicTacToe, self_play, model_evaluator
    game = TicTacToe()
    data = self_play(game, model_evaluator(model), num_games=32, num_simulations=50)
    model.fit(data.planes, {"policy": data.policies, "value": data.values})

A game: `initial()`, `to_move(state)`, `legal_moves(state)`, `play(state, move)`,
`winner(state)` (+1 / -1, 0 a draw, None not over), `to_planes(state)` (the network's
input, from the point of view of the player to move), `symmetries(planes, policy)`,
`num_moves`, `planes_shape`.
"""

from keras_zoo.rl.boards import ConnectFour, KInARow, TicTacToe
from keras_zoo.rl.mcts import (
    Evaluations,
    SelfPlayData,
    augment,
    choose_move,
    mcts_player,
    model_evaluator,
    search,
    search_many,
    self_play,
    uniform_evaluator,
)
from keras_zoo.rl.players import (
    minimax_move_values,
    minimax_player,
    minimax_value,
    one_ply_player,
    play_match,
    random_player,
    terminal_value,
)

__all__ = [
    "ConnectFour", "Evaluations", "KInARow", "SelfPlayData", "TicTacToe", "augment",
    "choose_move", "mcts_player", "minimax_move_values", "minimax_player", "minimax_value",
    "model_evaluator", "one_ply_player", "play_match", "random_player", "search",
    "search_many", "self_play", "terminal_value", "uniform_evaluator",
]
