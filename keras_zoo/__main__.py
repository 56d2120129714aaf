"""Command line.

    python -m keras_zoo list [PATTERN] [--family F]   # registered models, parameter counts
    python -m keras_zoo workarounds [--probe NAME]    # are the upstream problems still there?
"""

import argparse
import sys


def input_shapes(model):
    """"(32, 32, 1)"; several inputs joined by " + "; "-" for a subclassed model."""
    inputs = getattr(model, "inputs", None) or []
    return " + ".join(str(tuple(t.shape[1:])) for t in inputs) or "-"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m keras_zoo", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    ls = sub.add_parser("list", help="list registered models with their parameter counts")
    ls.add_argument("pattern", nargs="?", default="*", help="shell-style name pattern")
    ls.add_argument("--family", default=None, help="only this family (mlp, cnn, rnn, ...)")
    wa = sub.add_parser("workarounds", help="probe the upstream problems keras_zoo works "
                        "around (keras_zoo.workarounds)")
    wa.add_argument("--probe", default=None, help="run one probe in this process")
    args = parser.parse_args(argv)
    if args.command == "workarounds":
        from keras_zoo import workarounds

        return workarounds.report(args.probe)

    import keras

    import keras_zoo
    from keras_zoo.summary import shapes_only

    if args.family is not None and args.family not in keras_zoo.list_families():
        print(f"no family {args.family!r}; families: {', '.join(keras_zoo.list_families())}",
              file=sys.stderr)
        return 1
    names = keras_zoo.list_models(args.pattern, family=args.family)
    if not names:
        where = f" in family {args.family!r}" if args.family else ""
        print(f"no model matches {args.pattern!r}{where}", file=sys.stderr)
        return 1
    print(f"keras_zoo {keras_zoo.__version__} on the {keras.backend.backend()} backend")
    header = f"{'name':<22} {'family':<12} {'parameters':>12}  input shape  task"
    print(header)
    print("-" * len(header))
    with shapes_only():  # counts and shapes without allocating any weight
        for name in names:
            info = keras_zoo.model_info(name)
            model = keras_zoo.build(name)
            print(f"{name:<22} {info.family:<12} {model.count_params():>12,}  "
                  f"{input_shapes(model):<11}  {info.task}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
