#!/usr/bin/env bash
# Set everything up (scripts/setup.sh), then run the main job on its default
# config: train SAC on the point mass (configs/pointmass.json) and evaluate the
# deterministic policy on the seed notebook's 8 evaluation starts.
# Extra arguments go to `vecsac train`, e.g. scripts/run.sh --set run.seed=3
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$ROOT/scripts/setup.sh" --cli  # the CLI only: the tests build in scripts/test.sh
BUILD_DIR=${VECSAC_BUILD_DIR:-$ROOT/build}
RUN_DIR=${VECSAC_RUN_DIR:-$ROOT/runs/pointmass}

# `vecsac train` refuses to replace a run unasked; this script's job is to run the main job
# afresh, so it asks, and says so.
overwrite=()
if [ -e "$RUN_DIR/config.json" ]; then
  echo "== replacing the earlier run in $RUN_DIR (set VECSAC_RUN_DIR=DIR to keep it) =="
  overwrite=(--overwrite)
fi
start=$(date +%s.%N)
"$BUILD_DIR/vecsac" train --config "$ROOT/configs/pointmass.json" --out "$RUN_DIR" "${overwrite[@]}" "$@"
end=$(date +%s.%N)
echo "== training wall time: $(awk "BEGIN {printf \"%.1f\", $end - $start}") s =="
echo "== deterministic policy on the notebook's 8 evaluation starts (optimum -2.5150; notebook's SAC -89.887) =="
"$BUILD_DIR/vecsac" eval --run "$RUN_DIR" --init "$ROOT/configs/eval/pointmass_notebook_starts.json" \
  --json "$RUN_DIR/eval_notebook_starts.json"
