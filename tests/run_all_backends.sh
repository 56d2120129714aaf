#!/usr/bin/env bash
# Run the whole test suite once per Keras backend; stop at the first red backend.
set -euo pipefail
# Idle OpenMP threads of torch spin by default; on a shared 2-core machine that costs 10x.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
# JAX compiles every initializer shape and train step it meets (GoogLeNet's smoke build:
# 68 compilations, 60 s on a loaded machine). One persistent compilation cache for the three runs and every
# subprocess they start (tutorials, the cross-backend loaders) compiles each once: the
# same build in a second process takes 4 s. Fresh per invocation, removed at the end.
if [ -z "${JAX_COMPILATION_CACHE_DIR:-}" ]; then
  JAX_COMPILATION_CACHE_DIR=$(mktemp -d -t keras_zoo_jax_cache.XXXXXX)
  trap 'rm -rf "$JAX_COMPILATION_CACHE_DIR"' EXIT
fi
export JAX_COMPILATION_CACHE_DIR
export JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS=${JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS:-0}
export JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES=${JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES:-0}
# Two pytest workers (pytest-xdist) on CI's two cores: most smoke tests are bound by
# Python overhead and compilation on one thread, so two processes finish ~1.35-1.45x
# sooner (measured 2026-12-03 on two quiet cores: 6 tutorial smokes on TF 80 -> 55 s,
# 16 JAX train-step tests 378 -> 280 s). Pass -n 0 to run in one process.
for backend in tensorflow jax torch; do
  echo "=== KERAS_BACKEND=$backend ==="
  KERAS_BACKEND=$backend python -m pytest -q -p no:cacheprovider -n 2 "$@"
done
