#!/usr/bin/env bash
# Run the whole test suite once per Keras backend; stop at the first red backend.
set -euo pipefail
for backend in tensorflow jax torch; do
  echo "=== KERAS_BACKEND=$backend ==="
  KERAS_BACKEND=$backend python -m pytest -q -p no:cacheprovider "$@"
done
