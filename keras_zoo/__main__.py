"""Command line: `python -m keras_zoo list [PATTERN] [--family F]`."""

import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m keras_zoo", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    ls = sub.add_parser("list", help="list registered models with their parameter counts")
    ls.add_argument("pattern", nargs="?", default="*", help="shell-style name pattern")
    ls.add_argument("--family", default=None, help="only this family (mlp, cnn, rnn, ...)")
    args = parser.parse_args(argv)

    import keras

    import keras_zoo

    names = keras_zoo.list_models(args.pattern, family=args.family)
    if not names:
        print(f"no model matches {args.pattern!r}", file=sys.stderr)
        return 1
    print(f"keras_zoo {keras_zoo.__version__} on the {keras.backend.backend()} backend")
    header = f"{'name':<18} {'family':<8} {'parameters':>12}  input shape  task"
    print(header)
    print("-" * len(header))
    for name in names:
        info = keras_zoo.model_info(name)
        model = keras_zoo.build(name)
        shape = tuple(model.inputs[0].shape[1:])
        print(f"{name:<18} {info.family:<8} {model.count_params():>12,}  {str(shape):<11}  "
              f"{info.task}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
