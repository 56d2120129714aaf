"""Reference players: perfect minimax (small games), random, and one-ply lookahead.

A player is a function `player(game, state, rng) -> move`; `play_match` pits two of
them against each other. Values are always from the point of view of the player to move:
+1 a win, -1 a loss, 0 a draw (with perfect play from here on).
"""

_MINIMAX = {}  # (game name, board bytes) -> value for the player to move
_VS_RANDOM = {}  # (game name, board bytes, player, choice) -> chance to beat a random player


def terminal_value(game, state):
    """The finished game's value for the player to move (-1, 0 or +1), None if not over."""
    winner = game.winner(state)
    return None if winner is None else winner * game.to_move(state)


def minimax_value(game, state):
    """The exact value of `state` for the player to move, by full search (memoized).

    Tic-tac-toe has 5,478 positions: the first call searches them all once, later calls
    are lookups. Far too many for Connect Four.
    """
    key = (game.name, state.tobytes())
    if key not in _MINIMAX:
        value = terminal_value(game, state)
        if value is None:  # my best move is the one that is worst for the opponent
            value = max(-minimax_value(game, game.play(state, m))
                        for m in game.legal_moves(state))
        _MINIMAX[key] = value
    return _MINIMAX[key]


def minimax_move_values(game, state):
    """{move: exact value of playing it, for the player to move} over the legal moves."""
    return {int(m): -minimax_value(game, game.play(state, m)) for m in game.legal_moves(state)}


def minimax_player(game, state, rng):
    """A perfect player: one of the moves of the best value, chosen at random."""
    values = minimax_move_values(game, state)
    best = max(values.values())
    return int(rng.choice([m for m, v in values.items() if v == best]))


def best_win_rate_vs_random(game, state=None, player=None, safe=False):
    """The highest chance `player` can have of beating a random player from `state`.

    Exact expectimax (memoized, small games only): `player` picks the move with the best
    chance, the random player's moves are averaged. From the empty tic-tac-toe board it
    is 0.995 moving first and 0.939 second: even perfect play cannot win every game
    against a random opponent, who sometimes stumbles into the drawing moves.

    Args:
        state: a position (default: the empty board).
        player: +1 or -1 (default: the player to move).
        safe: pick only among the moves of the best minimax value, as a player must who
            never loses to perfect play: 0.995 first and 0.916 second from the empty
            tic-tac-toe board (expectimax's 0.939 second takes risks a perfect opponent
            would punish).
    """
    state = game.initial() if state is None else state
    player = game.to_move(state) if player is None else player
    return _vs_random(game, state, player, "safe" if safe else "best")


def minimax_win_rate_vs_random(game, state=None, player=None):
    """The chance that `minimax_player` (a perfect player, ties broken uniformly at
    random) beats a random player from `state`: 0.968 first, 0.778 second from the
    empty tic-tac-toe board. Perfect play alone does not exploit a weak opponent."""
    state = game.initial() if state is None else state
    player = game.to_move(state) if player is None else player
    return _vs_random(game, state, player, "ties")


def _vs_random(game, state, player, choice):
    """Exact chance that `player` wins against uniformly random moves; `choice` says how
    `player` picks: "best" (expectimax), "safe" (the best among the minimax-optimal
    moves), "ties" (uniformly among the minimax-optimal moves)."""
    key = (game.name, state.tobytes(), player, choice)
    if key not in _VS_RANDOM:
        winner = game.winner(state)
        if winner is not None:
            _VS_RANDOM[key] = float(winner == player)
        else:
            moves = [int(m) for m in game.legal_moves(state)]
            if game.to_move(state) == player and choice != "best":
                values = minimax_move_values(game, state)
                moves = [m for m in moves if values[m] == max(values.values())]
            chances = [_vs_random(game, game.play(state, m), player, choice) for m in moves]
            best = game.to_move(state) == player and choice != "ties"
            _VS_RANDOM[key] = max(chances) if best else sum(chances) / len(chances)
    return _VS_RANDOM[key]


def random_player(game, state, rng):
    """A legal move chosen uniformly at random."""
    return int(rng.choice(game.legal_moves(state)))


def one_ply_player(game, state, rng):
    """Wins when it can, blocks when it must, otherwise plays at random.

    Blocking: a move that would win for the opponent if the opponent could play it now
    (for Connect Four: a column where the opponent's stone would make four).
    """
    moves = game.legal_moves(state)
    me = game.to_move(state)
    for m in moves:
        if game.winner(game.play(state, m)) == me:
            return int(m)
    # the same board with the turn passed: the opponent's stone lands where mine would
    for m in moves:
        if game.winner(_play_as(game, state, m, -me)) == -me:
            return int(m)
    return int(rng.choice(moves))


def _play_as(game, state, move, player):
    """`play`, but placing `player`'s stone whoever is to move (for lookahead only)."""
    board = game.play(state, move)
    board[board != state] = player
    return board


def play_match(game, first, second, rng):
    """One game between two players (`first` moves first): the winner, +1, -1 or 0."""
    state, players = game.initial(), {1: first, -1: second}
    while game.winner(state) is None:
        state = game.play(state, players[game.to_move(state)](game, state, rng))
    return game.winner(state)
