#!/usr/bin/env bash
# Run the test suite once per Keras backend; stop at the first red backend.
# Extra arguments go to pytest, e.g. `bash tests/run_all_backends.sh tests/test_golden.py`
# or `-m full` for the fuller tier (README, "Tests").
set -euo pipefail
# Idle OpenMP threads of torch spin by default; on a shared 2-core machine that costs 10x.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
# One JAX persistent compilation cache for the three runs and every subprocess they start
# (the cross-backend loaders, a tutorial run as a script): each shape compiles once.
# Fresh per invocation, removed at the end.
if [ -z "${JAX_COMPILATION_CACHE_DIR:-}" ]; then
  JAX_COMPILATION_CACHE_DIR=$(mktemp -d -t keras_zoo_jax_cache.XXXXXX)
  trap 'rm -rf "$JAX_COMPILATION_CACHE_DIR"' EXIT
fi
export JAX_COMPILATION_CACHE_DIR
export JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS=${JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS:-0}
export JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES=${JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES:-0}
# Two pytest-xdist workers: CI has two cores, and most tests are bound by Python overhead
# and compilation on one thread (pass -n 0 for one process).
# --durations=15 prints the slowest tests of each backend, so that growth shows in every CI
# log.
# JAX first: its run fills the compilation cache for the JAX children of the later runs.
for backend in jax tensorflow torch; do
  echo "=== KERAS_BACKEND=$backend ==="
  start=$SECONDS
  KERAS_BACKEND=$backend python -m pytest -q -p no:cacheprovider -n 2 --durations=15 "$@"
  echo "=== KERAS_BACKEND=$backend: $((SECONDS - start)) s ==="
done
