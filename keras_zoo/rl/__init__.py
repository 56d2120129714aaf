"""Reinforcement learning besides the networks, in plain NumPy: games, search, control.

The one home of everything in AlphaZero that is not the network (the network is
`keras_zoo.models.rl.alphazero_net`): the rules (`boards`), reference players
(`players`), and Monte Carlo tree search with batched self-play (`mcts`). And of policy
gradients besides their networks (`policy_mlp`, `value_mlp`): a control environment,
the lane-keeping car `LaneKeeping` (a `gymnasium.Env`), and REINFORCE with a baseline as
a weighted loss in `fit` (`control`: `run_episodes`, `reinforce_batch`, `compile_policy`).

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
from keras_zoo.rl.control import (
    MAX_WHEEL,
    Batch,
    Episode,
    LaneKeeping,
    compile_policy,
    discounted_returns,
    gaussian_policy,
    reinforce_batch,
    run_episodes,
    softmax_policy,
)
from keras_zoo.rl.mcts import (
    Evaluations,
    SelfPlayData,
    arena,
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
    best_win_rate_vs_random,
    minimax_move_values,
    minimax_player,
    minimax_value,
    minimax_win_rate_vs_random,
    one_ply_player,
    play_match,
    random_player,
    terminal_value,
)

__all__ = [
    "Batch", "ConnectFour", "Episode", "Evaluations", "KInARow", "LaneKeeping", "MAX_WHEEL",
    "SelfPlayData", "TicTacToe", "arena", "augment", "best_win_rate_vs_random",
    "choose_move", "compile_policy", "discounted_returns", "gaussian_policy", "mcts_player",
    "minimax_move_values", "minimax_player", "minimax_value", "minimax_win_rate_vs_random",
    "model_evaluator",
    "one_ply_player", "play_match", "random_player", "reinforce_batch", "run_episodes",
    "search", "search_many", "self_play", "softmax_policy", "terminal_value",
    "uniform_evaluator",
]
