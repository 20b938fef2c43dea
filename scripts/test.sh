#!/usr/bin/env bash
# Set everything up (scripts/setup.sh), then run the whole test suite with ctest.
# Extra arguments go to ctest, e.g. scripts/test.sh -R VecEnv
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$ROOT/scripts/setup.sh" --tests
VECSAC_HOME=${VECSAC_HOME:-$HOME/.cache/vecsac}
exec "$VECSAC_HOME/venv/bin/ctest" --test-dir "${VECSAC_BUILD_DIR:-$ROOT/build}" \
  --output-on-failure -j "$(nproc)" "$@"
