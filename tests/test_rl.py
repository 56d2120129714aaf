"""Reinforcement learning: game rules, reference players, MCTS, self-play, AlphaZero's net.

Hand-checkable cases: boards written out cell by cell, known tic-tac-toe values, search
that must find a win or a block, an exact value function that search must agree with,
symmetries that must carry the targets along, lockstep self-play that must repeat the
one-game-at-a-time games exactly with fewer evaluations. The network is checked last:
its loss against a NumPy computation, and a short `fit` on self-play data.
"""

import keras
import numpy as np
import pytest

import keras_zoo
from keras_zoo.models.rl import compile_alphazero
from keras_zoo.rl import (
    ConnectFour,
    TicTacToe,
    arena,
    augment,
    best_win_rate_vs_random,
    minimax_move_values,
    minimax_player,
    minimax_value,
    minimax_win_rate_vs_random,
    model_evaluator,
    one_ply_player,
    play_match,
    random_player,
    search,
    self_play,
    uniform_evaluator,
)

TTT, C4 = TicTacToe(), ConnectFour()
SMOKE = keras_zoo.model_info("alphazero_net").smoke


def board(rows):
    """A board from strings: X (first player, +1), O (-1), . (empty)."""
    return np.array([[{"X": 1, "O": -1, ".": 0}[c] for c in row] for row in rows], "int8")


def play_all(game, moves):
    state = game.initial()
    for move in moves:
        state = game.play(state, move)
    return state


# ---------------------------------------------------------------------------- game rules


def test_tictactoe_moves_turns_and_illegal_moves():
    state = TTT.initial()
    assert TTT.legal_moves(state).tolist() == list(range(9)) and TTT.to_move(state) == 1
    state = TTT.play(state, 4)  # X in the centre
    assert state[1, 1] == 1 and TTT.to_move(state) == -1
    assert TTT.legal_moves(state).tolist() == [0, 1, 2, 3, 5, 6, 7, 8]
    state = TTT.play(state, 0)  # O in the corner
    assert state[0, 0] == -1 and TTT.to_move(state) == 1 and TTT.winner(state) is None
    with pytest.raises(ValueError, match="move 4 is not legal"):
        TTT.play(state, 4)
    with pytest.raises(ValueError, match="move 9 is not legal"):
        TTT.play(state, 9)
    assert TTT.initial().sum() == 0, "play returns a new board"


@pytest.mark.parametrize("rows", [
    ("XXX", "OO.", "..."), ("OO.", "XXX", "..."), ("OO.", "...", "XXX"),  # rows
    ("XO.", "XO.", "X.."), (".XO", ".XO", ".X."), ("O.X", "O.X", "..X"),  # columns
    ("XO.", "OX.", "..X"), ("O.X", "OX.", "X.."),  # both diagonals
])
def test_tictactoe_wins(rows):
    state = board(rows)
    assert TTT.winner(state) == 1
    assert TTT.winner(-state) == -1  # the same line for O


def test_tictactoe_draw_and_unfinished():
    assert TTT.winner(board(("XOX", "XOO", "OXX"))) == 0
    assert TTT.winner(board(("XOX", "XOO", "OX."))) is None
    assert TTT.winner(TTT.initial()) is None


def test_connect_four_gravity_and_a_full_column():
    state = C4.play(C4.initial(), 3)
    assert state[5, 3] == 1 and state.sum() == 1  # the bottom row (row 0 is the top)
    state = C4.play(state, 3)
    assert state[4, 3] == -1  # on top of the first stone
    for _ in range(4):
        state = C4.play(state, 3)
    assert state[:, 3].tolist() == [-1, 1, -1, 1, -1, 1]
    assert C4.legal_moves(state).tolist() == [0, 1, 2, 4, 5, 6]
    with pytest.raises(ValueError, match="move 3 is not legal"):
        C4.play(state, 3)


@pytest.mark.parametrize("moves,winner", [
    ([0, 0, 1, 1, 2, 2, 3], 1),  # bottom row
    ([0, 1, 0, 1, 0, 1, 0], 1),  # column 0
    ([0, 1, 1, 2, 2, 3, 2, 3, 3, 6, 3], 1),  # rising diagonal (0,5) (1,4) (2,3) (3,2)
    ([6, 5, 5, 4, 4, 3, 4, 3, 3, 0, 3], 1),  # falling diagonal, mirrored
    ([6, 0, 6, 0, 6, 0, 5, 0], -1),  # the second player's column
])
def test_connect_four_wins(moves, winner):
    state = play_all(C4, moves)
    assert C4.winner(state) == winner
    assert C4.winner(play_all(C4, moves[:-1])) is None


def test_connect_four_draw():
    state = board(("XXOOXXO", "XXOOXXO", "OOXXOOX", "XXOOXXO", "OOXXOOX", "OOXXOOX"))
    assert state.sum() == 0 and C4.winner(state) == 0  # full, 21 stones each, no four
    assert C4.winner(np.where(np.arange(7) == 6, 0, state)) is None  # column 6 emptied


def test_planes_are_from_the_point_of_view_of_the_player_to_move():
    state = board(("X..", ".O.", "X.."))  # O to move
    planes = TTT.to_planes(state)
    assert planes.shape == (3, 3, 2) and planes.dtype == np.float32
    assert planes[..., 0].tolist() == [[0, 0, 0], [0, 1, 0], [0, 0, 0]]  # O's stone
    assert planes[..., 1].tolist() == [[1, 0, 0], [0, 0, 0], [1, 0, 0]]  # X's stones
    np.testing.assert_array_equal(TTT.from_planes(planes), state)
    state = play_all(C4, [3, 3, 4, 0])
    np.testing.assert_array_equal(C4.from_planes(C4.to_planes(state)), state)


# ----------------------------------------------------------------------------- players


@pytest.mark.parametrize("rows,value", [
    (("...", "...", "..."), 0),  # perfect play draws
    (("XX.", "OO.", "..."), 1),  # X to move completes the row
    (("XX.", "O..", "..."), -1),  # O to move blocks, but X forks
    (("X..", "...", "..."), 0),  # O to move: the centre holds the draw
    (("XO.", "...", "..."), 1),  # X to move: an edge reply to a corner loses
    (("XO.", ".X.", "..."), -1),  # O to move blocks the diagonal, X forks at the bottom left
])
def test_minimax_values_of_known_positions(rows, value):
    assert minimax_value(TTT, board(rows)) == value


def test_minimax_best_moves_and_players():
    values = minimax_move_values(TTT, board(("X..", "...", "...")))  # O to move
    assert [m for m, v in values.items() if v == 0] == [4]  # only the centre draws
    rng = np.random.default_rng(0)
    assert all(play_match(TTT, minimax_player, random_player, rng) == 1 for _ in range(5))
    assert all(play_match(TTT, random_player, minimax_player, rng) != 1 for _ in range(5))
    assert play_match(TTT, minimax_player, minimax_player, rng) == 0


def test_one_ply_player_wins_when_it_can_and_blocks_when_it_must():
    rng = np.random.default_rng(0)
    assert one_ply_player(C4, play_all(C4, [0, 6, 1, 6, 2, 5]), rng) == 3  # wins the row
    assert one_ply_player(C4, play_all(C4, [0, 6, 1, 6, 2]), rng) == 3  # blocks it
    assert one_ply_player(C4, play_all(C4, [6, 0, 6, 0, 5, 0]), rng) == 0  # blocks a column
    wins = [play_match(C4, one_ply_player, random_player, rng) for _ in range(10)]
    assert wins.count(1) >= 9


def test_best_win_rate_vs_random_by_hand():
    assert best_win_rate_vs_random(TTT, board(("XX.", "OO.", "...")), player=1) == 1.0
    # O to move; X threatens cells 1 and 3, O cannot block both. O's best is cell 1:
    # random X then wins at 3 (1/3), or plays 5 and O wins at 7 (1/3), or plays 7 and
    # the game is drawn (1/3). Every other O move leaves X a third of a chance or more
    # and O no win. So 1/3 for O.
    assert best_win_rate_vs_random(TTT, board(("X.X", ".O.", "X.O")),
                                   player=-1) == pytest.approx(1 / 3)
    # from the empty board: the known figures of perfect play against random moves
    assert best_win_rate_vs_random(TTT, player=1) == pytest.approx(0.9948, abs=1e-4)
    assert best_win_rate_vs_random(TTT, player=-1) == pytest.approx(0.9386, abs=1e-4)


def test_safe_and_tie_breaking_win_rates_vs_random():
    # X to move, one move from a win at 2 but O threatens 6 too: every safe X move takes
    # the win; safe and expectimax agree, and ties are irrelevant.
    state = board(("XX.", "OO.", "..."))
    assert best_win_rate_vs_random(TTT, state, player=1, safe=True) == 1.0
    assert minimax_win_rate_vs_random(TTT, state, player=1) == 1.0
    # O to move; X threatens 0-1-2, so blocking at 2 is O's only safe move: the safe
    # chance is the chance after that block. Expectimax may also weigh riskier moves.
    state = board(("XX.", ".O.", "..."))
    values = minimax_move_values(TTT, state)
    assert [m for m, v in values.items() if v == max(values.values())] == [2]
    safe = best_win_rate_vs_random(TTT, state, player=-1, safe=True)
    assert safe == pytest.approx(
        best_win_rate_vs_random(TTT, board(("XXO", ".O.", "...")), player=-1, safe=True))
    assert best_win_rate_vs_random(TTT, state, player=-1) >= safe
    assert 0 < minimax_win_rate_vs_random(TTT, state, player=-1) <= safe
    # From the empty board, against an independent brute force written for this check
    # (a 40-line script over tuples): the best never-losing player, and minimax with
    # random tie breaks (what `minimax_player` wins on average).
    assert best_win_rate_vs_random(TTT, player=1, safe=True) == pytest.approx(0.9948, abs=1e-4)
    assert best_win_rate_vs_random(TTT, player=-1, safe=True) == pytest.approx(0.9164, abs=1e-4)
    assert minimax_win_rate_vs_random(TTT, player=1) == pytest.approx(0.9678, abs=1e-4)
    assert minimax_win_rate_vs_random(TTT, player=-1) == pytest.approx(0.7775, abs=1e-4)


# -------------------------------------------------------------------------------- MCTS


def exact_evaluator(planes):
    """Uniform priors and the true (minimax) value of each tic-tac-toe position."""
    values = [minimax_value(TTT, TTT.from_planes(p)) for p in planes]
    return np.full((len(planes), 9), 1 / 9), np.array(values, dtype="float64")


@pytest.mark.parametrize("rows,move", [
    (("XX.", "O..", "O.."), 2),  # X wins at the top right
    (("X.O", ".XO", "..."), 8),  # X wins on the diagonal (and blocks O)
    (("XX.", "O..", "..."), 2),  # O must block at the top right
    (("X.X", ".O.", "..."), 1),  # O must block the top row
    (("O..", "XX.", "..."), 5),  # O must block the middle row
])
def test_mcts_with_a_uniform_prior_wins_and_blocks(rows, move):
    visits = search(TTT, board(rows), uniform_evaluator(9), num_simulations=200)
    assert visits.sum() == 200 and np.argmax(visits) == move, visits


@pytest.mark.parametrize("moves", [[], [4], [0], [1], [0, 4], [0, 1], [4, 0, 8], [1, 4, 7, 3]])
def test_mcts_with_exact_values_agrees_with_minimax(moves):
    state = play_all(TTT, moves)
    visits = search(TTT, state, exact_evaluator, num_simulations=100)
    values = minimax_move_values(TTT, state)
    assert values[int(np.argmax(visits))] == max(values.values()), (visits, values)
    assert set(np.flatnonzero(visits)) <= set(values), "only legal moves are visited"


def test_symmetries_carry_the_policy_with_the_board():
    """Target: each cell's minimax value (illegal: -9). Computed on every symmetric board
    directly, it must equal the symmetry applied to the original target."""
    def target(state):
        policy = np.full(9, -9.0)
        for move, value in minimax_move_values(TTT, state).items():
            policy[move] = value
        return policy

    state = board(("XO.", "...", "..."))  # no symmetry of its own: 8 different boards
    pairs = TTT.symmetries(TTT.to_planes(state), target(state))
    assert len(pairs) == 8 and len({p.tobytes() for p, _ in pairs}) == 8
    np.testing.assert_array_equal(pairs[0][0], TTT.to_planes(state))
    for planes, policy in pairs:
        np.testing.assert_array_equal(policy, target(TTT.from_planes(planes)))
    # Connect Four: the mirror; target: the columns that win at once
    state = play_all(C4, [0, 6, 1, 6, 2, 5])  # X wins at column 3 only
    wins = lambda s: np.array([C4.winner(C4.play(s, m)) == C4.to_move(s)  # noqa: E731
                               for m in range(7)], dtype="float32")
    pairs = C4.symmetries(C4.to_planes(state), wins(state))
    assert len(pairs) == 2 and pairs[1][1].tolist() == [0, 0, 0, 1, 0, 0, 0]
    for planes, policy in pairs:
        np.testing.assert_array_equal(policy, wins(C4.from_planes(planes)))


def linear_evaluator(seed=0):
    """A deterministic NumPy "network" (fixed linear maps) that counts its calls."""
    rng = np.random.default_rng(seed)
    w_policy, w_value = rng.normal(size=(18, 9)), rng.normal(size=18) * 0.3
    counts = {"calls": 0, "positions": 0}

    def evaluate(planes):
        counts["calls"] += 1
        counts["positions"] += len(planes)
        flat = planes.reshape(len(planes), -1)
        logits = flat @ w_policy
        priors = np.exp(logits - logits.max(axis=1, keepdims=True))
        return priors / priors.sum(axis=1, keepdims=True), np.tanh(flat @ w_value)

    return evaluate, counts


def test_lockstep_self_play_repeats_the_games_with_fewer_evaluations():
    options = dict(num_games=6, num_simulations=24, seed=3, dirichlet_alpha=1.0)
    one_by_one, slow = linear_evaluator()
    batched, fast = linear_evaluator()
    a = self_play(TTT, one_by_one, lockstep=False, cache=False, **options)
    b = self_play(TTT, batched, lockstep=True, cache=True, **options)
    for field in ("planes", "visits", "policies", "values", "winners"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)
    moves = len(a.planes)
    # one position per call: each move's root and every leaf that is not a finished game
    assert slow["calls"] == slow["positions"] <= moves * 25
    assert fast["calls"] < slow["calls"] / 5 and fast["positions"] < slow["positions"] / 2
    assert np.all(a.visits.sum(axis=1) == 24)
    np.testing.assert_allclose(a.policies.sum(axis=1), 1.0, rtol=1e-6)
    # z: the winner's moves are +1, the loser's -1 (players alternate from +1)
    first = 0
    for winner in a.winners:
        length = next(n for n in range(1, 10) if first + n == len(a.values)
                      or not a.planes[first + n].any())
        signs = np.array([1, -1] * 5)[:length]
        np.testing.assert_array_equal(a.values[first:first + length, 0], winner * signs)
        first += length
    assert first == len(a.values)


def test_arena_counts_and_colours():
    # a perfect network (exact values) never loses to random moves or to perfect play
    wins, draws, losses = arena(TTT, exact_evaluator, minimax_player, num_games=6,
                                num_simulations=60)
    assert (wins, draws, losses) == (0, 6, 0)
    wins, draws, losses = arena(TTT, exact_evaluator, random_player, num_games=7,
                                num_simulations=60)
    assert wins + draws + losses == 7 and losses == 0 and wins >= 5
    # a network that always wants the first free cell loses to perfect play, on both
    # colours: the counts are from the network's side, not the first player's
    def first_cell(planes):
        return np.tile(np.eye(9)[0], (len(planes), 1)), np.zeros(len(planes))
    result = arena(TTT, first_cell, minimax_player, num_games=4, num_simulations=1)
    assert result[0] == 0 and result[2] >= 2, result
    # one side only: moving first, the exact-value search wins these seeded games
    assert arena(TTT, exact_evaluator, random_player, num_games=4, num_simulations=60,
                 colours=(1,)) == (4, 0, 0)
    with pytest.raises(ValueError, match="colours"):
        arena(TTT, exact_evaluator, random_player, num_games=2, colours=(0,))
    # every game draws from its own seeded generator: the same matches again, the same counts
    assert arena(TTT, exact_evaluator, random_player, num_games=3, num_simulations=30,
                 seed=5) == arena(TTT, exact_evaluator, random_player, num_games=3,
                                  num_simulations=30, seed=5)


def test_augment_multiplies_the_positions_by_eight():
    data = self_play(TTT, uniform_evaluator(9), num_games=2, num_simulations=8)
    planes, policies, values = augment(TTT, data)
    n = len(data.planes)
    assert planes.shape == (8 * n, 3, 3, 2) and policies.shape == (8 * n, 9)
    np.testing.assert_array_equal(values[::8], data.values)
    np.testing.assert_array_equal(values[7::8], data.values)


# ----------------------------------------------------------------------------- network


def test_alphazero_net_on_a_connect_four_board():
    model = keras_zoo.build("alphazero_net", board_shape=(6, 7, 2), num_moves=7, **SMOKE)
    planes = np.stack([C4.to_planes(play_all(C4, m)) for m in ([], [3], [3, 3, 2])])
    out = model.predict_on_batch(planes)
    assert out["policy"].shape == (3, 7) and out["value"].shape == (3, 1)
    assert np.all(np.abs(out["value"]) <= 1)
    assert keras_zoo.build("alphazero_net", board_shape=(6, 7, 2)).get_layer(
        "policy").units == 42  # one logit per cell by default
    with pytest.raises(ValueError, match="must be \\(height, width, planes\\)"):
        keras_zoo.build("alphazero_net", board_shape=(3, 3))


def test_compile_alphazero_loss_is_cross_entropy_plus_squared_error():
    model = compile_alphazero(keras_zoo.build("alphazero_net", **SMOKE))
    x, y = keras_zoo.example_batch("alphazero_net", model, batch=4)
    out = model.predict_on_batch(x)
    logits = out["policy"].astype("float64")
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    cross_entropy = -np.mean(np.sum(y["policy"] * log_p, axis=1))
    squared = np.mean((y["value"] - out["value"]) ** 2)
    logs = model.test_on_batch(x, y, return_dict=True)
    np.testing.assert_allclose(logs["policy_loss"], cross_entropy, rtol=1e-4)
    np.testing.assert_allclose(logs["value_loss"], squared, rtol=1e-4)
    np.testing.assert_allclose(logs["loss"], cross_entropy + squared, rtol=1e-4)


def test_fit_on_self_play_lowers_the_loss():
    """The network plays a few games against itself (its leaves in batches), then 20
    steps of `fit` on those positions and their symmetries lower both losses."""
    keras.utils.set_random_seed(0)
    model = compile_alphazero(keras_zoo.build("alphazero_net", **SMOKE), learning_rate=2e-2)
    data = self_play(TTT, model_evaluator(model), num_games=4, num_simulations=4)
    assert data.planes.shape[1:] == (3, 3, 2) and set(data.winners) <= {-1, 0, 1}
    planes, policies, values = augment(TTT, data)
    targets = {"policy": policies, "value": values}
    before = model.evaluate(planes, targets, batch_size=len(planes), verbose=0,
                            return_dict=True)
    model.fit(planes, targets, batch_size=len(planes) // 4 + 1, epochs=5, verbose=0)
    after = model.evaluate(planes, targets, batch_size=len(planes), verbose=0,
                           return_dict=True)
    assert after["loss"] < 0.9 * before["loss"], (before, after)
    assert after["policy_loss"] < before["policy_loss"], (before, after)
    assert after["value_loss"] < before["value_loss"], (before, after)
