"""Self-play speed: games in lockstep with batched, cached leaves vs one leaf at a time.

    KERAS_BACKEND=jax python benchmarks/selfplay.py
    KERAS_BACKEND=torch python benchmarks/selfplay.py --games 64 --simulations 50
    python benchmarks/selfplay.py --game connect4 --repeats 3
    KERAS_BACKEND=torch python benchmarks/selfplay.py --torch-threads 1
    KERAS_BACKEND=jax python benchmarks/selfplay.py --write   # files results/selfplay/

The same games (`--games`, `--simulations` per move, the same seeds) are played three
ways by `keras_zoo.rl.self_play` with the smoke-size `alphazero_net` as evaluator:
- `one leaf`: one game after another, every leaf its own model call (batch of 1);
- `lockstep`: all games together, one model call per simulation step for all leaves;
- `lockstep+cache`: the same, each distinct position evaluated once.
A warm-up run first traces / compiles the model for every batch size. Reported per way:
the median seconds of `--repeats` runs, the model calls, the positions sent to the model,
and the searched leaves per second (every simulation of every move, cached or not: the
same work in all three ways); the last line is the speed-up of lockstep+cache over one
leaf at a time. Numbers depend on the machine and its load: `--write` files them, with
the date, the machine, the library versions and the load average before and after, as
results/selfplay/<backend>_<game>.json, from which `scripts/results.py render` writes the
README's self-play line and docs/results.md's table. Measure with nothing else running.
"""

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import keras
from reporting import provenance

import keras_zoo
from keras_zoo.rl import ConnectFour, TicTacToe, model_evaluator, self_play

GAMES = {"tictactoe": TicTacToe, "connect4": ConnectFour}
RESULTS = Path(__file__).resolve().parent.parent / "results" / "selfplay"
WAYS = {"one leaf": dict(lockstep=False, cache=False),
        "lockstep": dict(lockstep=True, cache=False),
        "lockstep+cache": dict(lockstep=True, cache=True)}


def counting(evaluate):
    """`evaluate` that also counts its calls and the positions it was given."""
    counts = {"calls": 0, "positions": 0}

    def wrapped(planes):
        counts["calls"] += 1
        counts["positions"] += len(planes)
        return evaluate(planes)

    return wrapped, counts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--game", choices=sorted(GAMES), default="tictactoe")
    parser.add_argument("--games", type=int, default=32, help="games played at once")
    parser.add_argument("--simulations", type=int, default=25, help="simulations per move")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--torch-threads", type=int, default=None,
                        help="torch.set_num_threads on the torch backend (default: torch's "
                             "own; on a busy machine 1 avoids threads waiting on each other)")
    parser.add_argument("--write", action="store_true",
                        help="file the figures as results/selfplay/<backend>_<game>.json")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    if args.torch_threads and keras.backend.backend() == "torch":
        import torch

        torch.set_num_threads(args.torch_threads)

    game = GAMES[args.game]()
    keras.utils.set_random_seed(0)
    model = keras_zoo.build("alphazero_net", board_shape=game.planes_shape,
                            num_moves=game.num_moves,
                            **keras_zoo.model_info("alphazero_net").smoke)
    evaluate = model_evaluator(model)
    options = dict(num_games=args.games, num_simulations=args.simulations, seed=0)
    self_play(game, evaluate, **{**options, "num_simulations": 2})  # warm-up: batch sizes
    self_play(game, evaluate, num_games=1, num_simulations=2, lockstep=False)

    print(f"{keras.backend.backend()}: {args.game}, {args.games} games, "
          f"{args.simulations} simulations per move, alphazero_net "
          f"({model.count_params():,} parameters), median of {args.repeats}")
    print(f"{'way':>15} {'seconds':>8} {'calls':>7} {'positions':>9} {'moves':>6} "
          f"{'leaves/s':>9} {'positions/s':>11}")
    speed, rows = {}, {}
    for way, flags in WAYS.items():
        seconds = []
        for _ in range(args.repeats):
            wrapped, counts = counting(evaluate)
            start = time.perf_counter()
            data = self_play(game, wrapped, **options, **flags)
            seconds.append(time.perf_counter() - start)
        median = statistics.median(seconds)
        moves = len(data.planes)
        leaves = moves * (args.simulations + 1)  # each move: its root and its simulations
        speed[way] = leaves / median
        rows[way] = {"seconds": round(median, 3), "calls": counts["calls"],
                     "positions": counts["positions"], "moves": moves,
                     "leaves_per_second": round(speed[way]),
                     "positions_per_second": round(counts["positions"] / median)}
        print(f"{way:>15} {median:8.2f} {counts['calls']:7d} {counts['positions']:9d} "
              f"{moves:6d} {speed[way]:9.0f} {counts['positions'] / median:11.0f}")
    print(f"lockstep+cache vs one leaf at a time: "
          f"{speed['lockstep+cache'] / speed['one leaf']:.1f}x the leaves per second "
          f"(lockstep alone: {speed['lockstep'] / speed['one leaf']:.1f}x)")
    if args.write:
        write(args, model, rows, load_before)
    return 0


def write(args, model, rows, load_before):
    """File the run as results/selfplay/<backend>_<game>.json, with its provenance."""
    backend = keras.backend.backend()
    library = {"tensorflow": "tensorflow", "jax": "jaxlib", "torch": "torch"}[backend]
    record = {
        "backend": backend, "game": args.game, "games": args.games,
        "simulations": args.simulations, "repeats": args.repeats,
        "parameters": model.count_params(), "ways": rows,
        "speedup": round(rows["lockstep+cache"]["leaves_per_second"]
                         / rows["one leaf"]["leaves_per_second"], 1),
        "run": provenance(("keras", library), load_before)}
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{backend}_{args.game}.json"
    path.write_text(json.dumps(record, indent=1) + "\n")
    print(f"filed {path}")


if __name__ == "__main__":
    raise SystemExit(main())
