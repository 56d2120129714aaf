#!/usr/bin/env bash
# Run the whole test suite once per Keras backend; stop at the first red backend.
set -euo pipefail
# Idle OpenMP threads of torch spin by default; on a shared 2-core machine that costs 10x.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
for backend in tensorflow jax torch; do
  echo "=== KERAS_BACKEND=$backend ==="
  KERAS_BACKEND=$backend python -m pytest -q -p no:cacheprovider "$@"
done
