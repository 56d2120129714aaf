"""Write the golden values of tests/test_golden.py: tests/golden/<model>.npz.

    KERAS_BACKEND=tensorflow python tests/make_golden.py            # models without a golden
    KERAS_BACKEND=tensorflow python tests/make_golden.py lenet5     # (re)write these
    KERAS_BACKEND=tensorflow python tests/make_golden.py --all      # rewrite every golden

Each file holds, for one registry model:
  config     JSON of the builder overrides ({} = default config; the smoke overrides
             for models over GOLDEN_MAX_PARAMS parameters)
  seed       the seed of `helpers.set_deterministic_weights`. The weights themselves are
             NOT stored: they are derived from this seed with NumPy (the same on every
             backend); `weight_sums` fingerprints them so a change is reported clearly.
  x          the fixed input (`keras_zoo.example_batch`, seed INPUT_SEED); several
             inputs are stored as x_0, x_1 ... (a list) or x.<key> (a dict)
  y          the expected output, computed here with the current backend (y_0, y_1 ...
             for several outputs)
  backend, keras_version, param_count: for the record.

After writing, check the other backends: `tests/run_all_backends.sh tests/test_golden.py`.
"""

import argparse
import json
import sys

import keras
import numpy as np
from helpers import (
    GOLDEN_DIR,
    WEIGHT_SEED,
    example,
    flat,
    forward,
    golden_config,
    golden_path,
    set_deterministic_weights,
    to_npz,
    weight_sums,
)

import keras_zoo


def make_golden(name):
    config = golden_config(name)
    model = set_deterministic_weights(keras_zoo.build(name, **config), WEIGHT_SEED)
    x, _ = example(name, model)
    y = forward(model, x)
    GOLDEN_DIR.mkdir(exist_ok=True)
    path = golden_path(name)
    np.savez(path, config=json.dumps(config, sort_keys=True), seed=WEIGHT_SEED,
             **to_npz("x", x), **to_npz("y", y),
             weight_sums=weight_sums(model), backend=keras.backend.backend(),
             keras_version=keras.__version__, param_count=model.count_params())
    return path, y


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="models to (re)write")
    parser.add_argument("--all", action="store_true", help="rewrite every golden")
    args = parser.parse_args(argv)
    models = keras_zoo.list_models()
    unknown = sorted(set(args.names) - set(models))
    if unknown:
        parser.error(f"unknown models {unknown}; registered: {models}")
    names = args.names or [n for n in models if args.all or not golden_path(n).exists()]
    if not names:
        print("every registered model has a golden; name some or pass --all to rewrite")
    for name in names:
        path, y = make_golden(name)
        shapes = [a.shape for a in flat(y)]
        print(f"{path.name}: output {shapes} on {keras.backend.backend()}, "
              f"|y| max {max(np.abs(a).max() for a in flat(y)):.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
