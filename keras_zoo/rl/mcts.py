"""AlphaZero's Monte Carlo tree search (PUCT) and self-play, many games in lockstep.

Silver et al., "A general reinforcement learning algorithm that masters chess, shogi and
Go through self-play", Science 2018. Each simulation walks down the tree choosing

    a = argmax_a  Q(s, a) + c_puct * P(s, a) * sqrt(N(s)) / (1 + N(s, a))

(Q the mean value of the move so far, P the network's prior, N visit counts; N(s)
counts the node's own expansion too), evaluates the new leaf with the network (or scores
a finished game exactly) and backs the value up, negated at every level because the
players alternate. The root's priors get Dirichlet noise (alpha, epsilon) so self-play
explores; the move is sampled from the root's visit counts N^(1/temperature).

The network is a function `evaluate(planes) -> (priors, values)`: planes (batch, *game.
planes_shape) from the point of view of the player to move, priors (batch, num_moves)
probabilities, values (batch,) in [-1, 1] for the player to move. So the search runs
with a uniform prior or an exact value function as well as with a Keras model
(`model_evaluator`). Self-play advances all games together: one simulation step walks
every game's tree to a leaf, and all those leaves go to `evaluate` in one batch; an
`Evaluations` cache makes each distinct position cost one evaluation per self-play run.
"""

from dataclasses import dataclass

import numpy as np

from keras_zoo.rl.players import terminal_value


class Evaluations:
    """Batches, caches and counts the calls of `evaluate(planes) -> (priors, values)`.

    `calls` counts the calls of `evaluate`, `positions` the positions sent to it (with
    `cache=True` only positions never seen before, each once).
    """

    def __init__(self, game, evaluate, cache=True):
        self.game, self.evaluate, self.cache = game, evaluate, {} if cache else None
        self.calls = self.positions = 0

    def __call__(self, states):
        """[(priors (num_moves,), value)] for a list of states, in one `evaluate` call."""
        if self.cache is None:
            return self._evaluate(states)
        keys = [s.tobytes() for s in states]
        new = {k: s for k, s in zip(keys, states) if k not in self.cache}
        if new:
            self.cache.update(zip(new, self._evaluate(list(new.values()))))
        return [self.cache[k] for k in keys]

    def _evaluate(self, states):
        planes = np.stack([self.game.to_planes(s) for s in states])  # (b, rows, cols, 2)
        priors, values = self.evaluate(planes)  # (b, num_moves), (b,)
        self.calls += 1
        self.positions += len(states)
        priors, values = np.asarray(priors), np.reshape(values, (len(states),))
        return [(priors[i], float(values[i])) for i in range(len(states))]


class Node:
    """A searched position: its legal moves and, per move, prior, visits, value sum, child."""

    __slots__ = ("state", "terminal", "moves", "prior", "visits", "value_sum", "children")

    def __init__(self, game, state, priors=None):
        self.state, self.terminal = state, terminal_value(game, state)
        self.moves = game.legal_moves(state) if self.terminal is None else np.zeros(0, int)
        if priors is not None:  # the network's priors, renormalised over the legal moves
            p = np.asarray(priors, dtype="float64")[self.moves]
            self.prior = p / p.sum() if p.sum() > 0 else np.full(len(p), 1.0 / len(p))
        self.visits = np.zeros(len(self.moves))
        self.value_sum = np.zeros(len(self.moves))  # for the player to move here
        self.children = [None] * len(self.moves)

    def select(self, c_puct):
        """Index of the move with the highest Q + U (PUCT); ties go to the first."""
        q = np.where(self.visits > 0, self.value_sum / np.maximum(self.visits, 1), 0.0)
        u = c_puct * self.prior * np.sqrt(1.0 + self.visits.sum()) / (1.0 + self.visits)
        return int(np.argmax(q + u))


def _descend(game, root, c_puct):
    """Walk to a leaf: (path [(node, move index)], new state to evaluate or None).

    A finished game met on the way is backed up at once (its value is exact) and the
    walk returns no state.
    """
    node, path = root, []
    while True:
        i = node.select(c_puct)
        path.append((node, i))
        child = node.children[i]
        if child is None:
            state = game.play(node.state, int(node.moves[i]))
            value = terminal_value(game, state)
            if value is None:
                return path, state
            node.children[i] = Node(game, state)
            _backup(path, value)
            return path, None
        if child.terminal is not None:
            _backup(path, child.terminal)
            return path, None
        node = child


def _backup(path, value):
    """Add the leaf's value (for its player to move) to every edge on the path."""
    for node, i in reversed(path):
        value = -value  # the edge belongs to the player who moved into the child
        node.visits[i] += 1
        node.value_sum[i] += value


def search_many(game, states, evaluations, num_simulations, c_puct=1.5, dirichlet_alpha=0.3,
                dirichlet_epsilon=0.25, rngs=None):
    """Search several positions in lockstep: root visit counts (len(states), num_moves).

    Every simulation step sends the new leaves of all trees to `evaluations` at once.

    Args:
        game: a game of `games.boards`.
        states: unfinished positions, one tree each.
        evaluations: an `Evaluations` wrapping the network.
        num_simulations: simulations per tree.
        c_puct: weight of the prior-driven exploration term.
        dirichlet_alpha, dirichlet_epsilon: root noise Dir(alpha) mixed in with weight
            epsilon (0 turns it off).
        rngs: one NumPy generator per tree (for the noise); needed if epsilon > 0.
    """
    if any(game.winner(s) is not None for s in states):
        raise ValueError("search_many: every position must be unfinished (winner None)")
    roots = [Node(game, s, p) for s, (p, _) in zip(states, evaluations(list(states)))]
    if dirichlet_epsilon > 0:
        for root, rng in zip(roots, rngs):
            noise = rng.dirichlet(np.full(len(root.moves), dirichlet_alpha))
            root.prior = (1 - dirichlet_epsilon) * root.prior + dirichlet_epsilon * noise
    for _ in range(num_simulations):
        leaves = [_descend(game, root, c_puct) for root in roots]
        pending = [(path, state) for path, state in leaves if state is not None]
        results = evaluations([state for _, state in pending]) if pending else []
        for (path, state), (priors, value) in zip(pending, results):
            node, i = path[-1]
            node.children[i] = Node(game, state, priors)
            _backup(path, value)
    visits = np.zeros((len(roots), game.num_moves), dtype="int64")
    for row, root in zip(visits, roots):
        row[root.moves] = root.visits
    return visits


def search(game, state, evaluate, num_simulations, rng=None, **kwargs):
    """Visit counts (num_moves,) of one search from `state`; options as `search_many`
    (root noise off unless `dirichlet_epsilon` is given)."""
    kwargs.setdefault("dirichlet_epsilon", 0.0)
    rng = np.random.default_rng() if rng is None else rng
    return search_many(game, [state], Evaluations(game, evaluate), num_simulations,
                       rngs=[rng], **kwargs)[0]


def choose_move(visits, temperature, rng):
    """A move drawn with probability ~ visits^(1/temperature); 0: the most visited (ties
    at random)."""
    if temperature == 0:
        return int(rng.choice(np.flatnonzero(visits == visits.max())))
    p = (visits / visits.max()) ** (1.0 / temperature)
    return int(rng.choice(len(p), p=p / p.sum()))


@dataclass
class SelfPlayData:
    """Training data from self-play, positions in game order, then move order.

    planes (n, *planes_shape), policies (n, num_moves) the root visit distributions,
    values (n, 1) the game's outcome for the player to move there (z), visits (n,
    num_moves) the raw counts, winners (games,) +1 / -1 / 0.
    """

    planes: np.ndarray
    policies: np.ndarray
    values: np.ndarray
    visits: np.ndarray
    winners: np.ndarray


def self_play(game, evaluate, num_games=1, num_simulations=50, lockstep=True, cache=True,
              seed=0, temperature=1.0, temperature_moves=None, **search_options):
    """Play `num_games` games of the network against itself; returns `SelfPlayData`.

    Args:
        game: a game of `games.boards`.
        evaluate: `evaluate(planes) -> (priors, values)`, e.g. `model_evaluator(model)`.
        num_games, num_simulations: games, and simulations per move.
        lockstep: advance all games together, their leaves evaluated in one batch per
            simulation step; False plays them one after another, one leaf per call.
        cache: evaluate each distinct position once (`Evaluations`).
        seed: game g draws its noise and moves from `default_rng([seed, g])`, so the
            games are the same in lockstep or one by one.
        temperature: of the move sampling; after `temperature_moves` moves (None:
            never) the most visited move is played.
        **search_options: c_puct, dirichlet_alpha, dirichlet_epsilon (`search_many`).
    """
    evaluations = Evaluations(game, evaluate, cache=cache)
    rngs = [np.random.default_rng([seed, g]) for g in range(num_games)]
    states = [game.initial() for _ in range(num_games)]
    records = [[] for _ in range(num_games)]  # per game: (planes, visits, player to move)
    batches = [list(range(num_games))] if lockstep else [[g] for g in range(num_games)]
    for batch in batches:
        active = list(batch)
        while active:
            visits = search_many(game, [states[g] for g in active], evaluations,
                                 num_simulations, rngs=[rngs[g] for g in active],
                                 **search_options)
            for g, counts in zip(active, visits):
                state, moves = states[g], len(records[g])
                warm = temperature_moves is None or moves < temperature_moves
                move = choose_move(counts, temperature if warm else 0, rngs[g])
                records[g].append((game.to_planes(state), counts, game.to_move(state)))
                states[g] = game.play(state, move)
            active = [g for g in active if game.winner(states[g]) is None]
    winners = np.array([game.winner(s) for s in states])
    rows = [(p, v, w * player) for g, w in enumerate(winners) for p, v, player in records[g]]
    visits = np.stack([v for _, v, _ in rows])
    return SelfPlayData(planes=np.stack([p for p, _, _ in rows]),
                        policies=(visits / visits.sum(axis=1, keepdims=True)).astype("float32"),
                        values=np.array([[z] for _, _, z in rows], dtype="float32"),
                        visits=visits, winners=winners)


def augment(game, data):
    """Every position of `SelfPlayData` in all its symmetric forms: (planes, policies,
    values), the symmetries of one position next to each other."""
    pairs = [(p, q, z) for planes, policy, z in zip(data.planes, data.policies, data.values)
             for p, q in game.symmetries(planes, policy)]
    return (np.stack([p for p, _, _ in pairs]), np.stack([q for _, q, _ in pairs]),
            np.stack([z for _, _, z in pairs]))


def uniform_evaluator(num_moves):
    """`evaluate` without a network: uniform priors, value 0 (only finished games count)."""
    def evaluate(planes):
        return np.full((len(planes), num_moves), 1.0 / num_moves), np.zeros(len(planes))
    return evaluate


def model_evaluator(model):
    """`evaluate` from a Keras model with outputs {"policy": logits, "value": tanh}.

    The batch is padded to the next power of two, so that a compiled predict function
    (JAX's jit, TensorFlow's tf.function) is traced for a handful of sizes, not for
    every number of leaves.
    """
    def evaluate(planes):
        n = len(planes)
        size = 1 << max(n - 1, 0).bit_length()
        padded = np.concatenate([planes, np.zeros((size - n, *planes.shape[1:]), planes.dtype)])
        out = model.predict_on_batch(padded)
        logits = np.asarray(out["policy"], dtype="float64")[:n]
        priors = np.exp(logits - logits.max(axis=1, keepdims=True))
        return priors / priors.sum(axis=1, keepdims=True), np.asarray(out["value"])[:n, 0]
    return evaluate


def arena(game, evaluate, opponent, num_games=100, num_simulations=50, seed=0,
          colours=(1, -1), **search_options):
    """Matches of the searching network against `opponent`, all games in lockstep.

    The network plays first in the even-numbered games and second in the odd ones (by
    default: see `colours`), each
    move the most visited of a `num_simulations` search without root noise (as
    `mcts_player`, ties at random); the searches of all games waiting for the network
    go to `evaluate` in one batch per simulation step, through one `Evaluations` cache
    (the network does not change during the matches).

    Args:
        game: a game of `rl.boards`.
        evaluate: `evaluate(planes) -> (priors, values)`, e.g. `model_evaluator(model)`.
        opponent: a player `opponent(game, state, rng) -> move` (`rl.players`).
        num_games: games to play.
        num_simulations: simulations per network move.
        seed: game g draws from `default_rng([seed, g])` (tie breaks, the opponent's
            choices).
        colours: the network's side in game g is `colours[g % len(colours)]`: +1 moves
            first, -1 second; `(1,)` or `(-1,)` for one side only.
        **search_options: c_puct (`search_many`); root noise stays off.

    Returns:
        (wins, draws, losses) of the network, counts summing to `num_games`.
    """
    search_options = {**search_options, "dirichlet_epsilon": 0.0}
    evaluations = Evaluations(game, evaluate)
    rngs = [np.random.default_rng([seed, g]) for g in range(num_games)]
    states = [game.initial() for _ in range(num_games)]
    if not set(colours) <= {1, -1} or not colours:
        raise ValueError(f"arena: colours={colours!r} must be a non-empty sequence of +1 "
                         "(moves first) and -1 (moves second)")
    network = [colours[g % len(colours)] for g in range(num_games)]  # the network's side
    active = list(range(num_games))
    while active:
        ours = [g for g in active if game.to_move(states[g]) == network[g]]
        if ours:
            visits = search_many(game, [states[g] for g in ours], evaluations,
                                 num_simulations, rngs=[rngs[g] for g in ours],
                                 **search_options)
            for g, counts in zip(ours, visits):
                states[g] = game.play(states[g], choose_move(counts, 0, rngs[g]))
        for g in active:
            if g not in ours:
                states[g] = game.play(states[g], opponent(game, states[g], rngs[g]))
        active = [g for g in active if game.winner(states[g]) is None]
    results = [game.winner(s) * colour for s, colour in zip(states, network)]
    return results.count(1), results.count(0), results.count(-1)


def mcts_player(evaluate, num_simulations=100, **search_options):
    """A player (see `games.players`) that plays the most visited move of a search."""
    def player(game, state, rng):
        return choose_move(search(game, state, evaluate, num_simulations, rng=rng,
                                  **search_options), 0, rng)
    return player
