"""AlphaZero on tic-tac-toe (or Connect Four): a policy-value ResNet taught by its own search.

Follows "NN for RL" (AlphaZero: a ResNet backbone with a policy network and a value
network, guiding Monte Carlo tree search that balances exploration and exploitation;
Silver et al. 2017, 2018). Teaches: the loop that needs no human games. The network
proposes moves (policy) and judges positions (value); the search, guided by both, plays
better than the network alone; the network is then trained to predict the search's
visit counts and the games' outcomes, and the next search is better still. Everything
the network learns comes from games against itself. Tic-tac-toe is small enough to
check against perfect play: perfect players always draw, so the bar is never to lose.

    KERAS_BACKEND=jax python tutorials/alphazero_tictactoe.py [--game connect4] [--smoke]
"""

# %% Settings
import matplotlib.pyplot as plt
import numpy as np

import keras_zoo
from keras_zoo import tutorial
from keras_zoo.models.rl import compile_alphazero
from keras_zoo.rl import (
    ConnectFour,
    TicTacToe,
    arena,
    augment,
    best_win_rate_vs_random,
    minimax_player,
    minimax_win_rate_vs_random,
    model_evaluator,
    one_ply_player,
    random_player,
    search,
    self_play,
    uniform_evaluator,
)

args = tutorial.setup(__doc__, epochs=2, batch_size=64, data=("self_play",),  # no dataset
                      resumable=False, game=("tictactoe", "connect4"))  # one fit per round
TICTACTOE = args.game == "tictactoe"
game = TicTacToe() if TICTACTOE else ConnectFour()
# Per round: GAMES self-play games of SIMULATIONS searches per move; the last BUFFER
# rounds' positions train the network. Matches after each round: CHECK games per opponent.
ROUNDS, GAMES, SIMULATIONS, BUFFER, CHECK = (20, 64, 50, 4, 50) if TICTACTOE else (
    10, 32, 50, 4, 50)
# The final matches: FINAL games per opponent (half with the network moving first), PLAY
# simulations per move (a deeper search than in self-play, for tic-tac-toe)
FINAL, PLAY = (400, 100) if TICTACTOE else (200, 50)
if args.smoke:
    ROUNDS, GAMES, SIMULATIONS, CHECK, FINAL, PLAY = 2, 8, 8, 6, 10, 8
# The strong opponent: perfect play (minimax) where the game is small enough to solve;
# for Connect Four, a one-ply lookahead (wins when it can, blocks when it must).
strong, strong_name = (minimax_player, "perfect") if TICTACTOE else (one_ply_player,
                                                                     "one_ply")

# %% Model: a residual tower, a policy head (one logit per move), a value head (tanh)
model = keras_zoo.build("alphazero_net", board_shape=game.planes_shape,
                        num_moves=game.num_moves, filters=32, num_blocks=2, value_units=32)
compile_alphazero(model, learning_rate=2e-3)  # CE to the visit counts + MSE to the outcome
evaluate = model_evaluator(model)  # planes -> (priors, values), one batched call
print(f"{game}: board {game.planes_shape[:2]}, {game.num_moves} moves; "
      f"{model.count_params():,} parameters")

# %% Self-play rounds: play, train on the search's visit counts and the outcomes, check
# Every move of every game is sampled from the visit counts (temperature 1): the value
# head then learns how often a position is won against a fallible opponent, and the
# trained player steers towards the positions where the opponent can go wrong.
buffer, rounds = [], []
for r in range(ROUNDS):
    data = self_play(game, evaluate, num_games=GAMES, num_simulations=SIMULATIONS,
                     seed=args.seed * 1000 + r)  # all games in lockstep, leaves batched
    buffer = [*buffer, augment(game, data)][-BUFFER:]  # every symmetric copy of a position
    planes, policies, values = (np.concatenate(parts) for parts in zip(*buffer))
    history = model.fit(planes, {"policy": policies, "value": values}, epochs=args.epochs,
                        batch_size=args.batch_size, verbose=0,
                        callbacks=tutorial.callbacks(args, name=f"round{r + 1}"))
    vs_random = arena(game, evaluate, random_player, CHECK, SIMULATIONS, seed=r)
    vs_strong = arena(game, evaluate, strong, CHECK, SIMULATIONS, seed=r)
    rounds.append((vs_random, vs_strong))
    print(f"round {r + 1:2d}: {len(data.planes)} positions, self-play draws "
          f"{np.mean(data.winners == 0):.2f}, loss {history.history['loss'][-1]:.3f}; "
          f"vs random W/D/L {vs_random}, vs {strong_name} {vs_strong}")

# %% Figure: win / draw / loss rates after each round, against both opponents
rates = np.array(rounds, dtype="float64") / CHECK  # (rounds, opponent, W/D/L)
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), sharey=True)
for ax, k, title in zip(axes, range(2), ("random player", f"{strong_name} player")):
    for j, (label, color) in enumerate(zip(("win", "draw", "loss"), ("g", "gray", "r"))):
        ax.plot(np.arange(1, ROUNDS + 1), rates[:, k, j], "o-", color=color, label=label)
    ax.set(xlabel="self-play round", title=f"vs {title} ({CHECK} games, half first)")
axes[0].set_ylabel("rate")
axes[0].legend()
tutorial.savefig(fig, args, "alphazero_rounds.png")

# %% Final matches: FINAL games against each opponent, and a search without the network
# (uniform priors, value 0: only finished games count) for what the network adds
sides = {side: arena(game, evaluate, random_player, FINAL // 2, PLAY, seed=10_000,
                     colours=(colour,)) for side, colour in (("first", 1), ("second", -1))}
final = {"random": tuple(int(n) for n in np.add(sides["first"], sides["second"])),
         strong_name: arena(game, evaluate, strong, FINAL, PLAY, seed=10_000)}
plain = {name: arena(game, uniform_evaluator(game.num_moves), player, FINAL, PLAY,
                     seed=10_000) for name, player in (("random", random_player),
                                                       (strong_name, strong))}
for name in final:
    print(f"vs {name}: network + search W/D/L {final[name]}, search alone {plain[name]} "
          f"({PLAY} simulations per move, {FINAL} games)")
# Exact references per side (small games only): expectimax (the best any player can do),
# the best player that never loses to perfect play, and perfect play with random ties.
# The search assumes that the opponent answers well: among the drawing moves it does not
# reliably pick the one where a random opponent most often goes wrong.
refs = {side: (best_win_rate_vs_random(game, player=colour),
               best_win_rate_vs_random(game, player=colour, safe=True),
               minimax_win_rate_vs_random(game, player=colour)) if TICTACTOE else None
        for side, colour in (("first", 1), ("second", -1))}
for side in sides:
    print(f"vs random, moving {side}: W/D/L {sides[side]}" + (
        "; exact: best {:.3f}, best never losing {:.3f}, perfect with random ties {:.3f}"
        .format(*refs[side]) if TICTACTOE else ""))

# %% Figure: where the search looks in a position that must be blocked
if TICTACTOE:  # X has two on the diagonal, O to move must take the corner (cell 8)
    position = np.array([[1, 0, -1], [0, 1, 0], [0, 0, 0]], dtype="int8")
else:  # X has three on the bottom row, O must block column 3
    position = game.initial()
    for move in (0, 0, 1, 1, 2):
        position = game.play(position, move)
rng = np.random.default_rng(args.seed)
fig, axes = plt.subplots(1, 2, figsize=(8, 3.8))
for ax, (title, fn) in zip(axes, (("search alone", uniform_evaluator(game.num_moves)),
                                  ("network + search", evaluate))):
    visits = search(game, position, fn, SIMULATIONS, rng=rng)
    shown = visits.reshape(game.rows, game.cols) if TICTACTOE else np.tile(visits, (6, 1))
    ax.imshow(np.where(position != 0, np.nan, shown), cmap="Blues")
    for (i, j), stone in np.ndenumerate(position):
        text = {1: "X", -1: "O"}.get(int(stone), str(shown[i, j]) if TICTACTOE or i == 0 else "")
        ax.text(j, i, text, ha="center", va="center", fontsize=14 if stone else 9)
    ax.set(title=f"{title}: visits of {SIMULATIONS} simulations", xticks=[], yticks=[])
tutorial.savefig(fig, args, "alphazero_visits.png")

# %% Result
def rate(counts, k):
    return counts[k] / sum(counts)


tutorial.report(args, game=args.game, rounds=ROUNDS, games=FINAL,
                win_rate_vs_random=rate(final["random"], 0),
                **({key: (refs["first"][k] + refs["second"][k]) / 2 for k, key in enumerate(
                    ("best_possible_vs_random", "best_safe_vs_random", "minimax_vs_random"))}
                   if TICTACTOE else {}),
                win_rate_vs_random_first=rate(sides["first"], 0),
                win_rate_vs_random_second=rate(sides["second"], 0),
                **{f"loss_rate_vs_{strong_name}": rate(final[strong_name], 2),
                   f"win_rate_vs_{strong_name}": rate(final[strong_name], 0)},
                search_alone_win_rate_vs_random=rate(plain["random"], 0),
                **{f"search_alone_loss_rate_vs_{strong_name}": rate(plain[strong_name], 2)})
