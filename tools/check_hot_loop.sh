#!/usr/bin/env bash
# Fails when code that runs between log points in the training loop could make
# the host wait for the device: .item(), copies to the CPU, value-dependent
# shapes (nonzero, masked_select, unique), explicit synchronisation, tensor
# comparisons that return a host bool. Regions are delimited by the comments
# "HOT LOOP BEGIN" and "HOT LOOP END"; files named in WHOLE_FILES are hot entirely.
# On a GPU, `vecsac train --sync-debug` proves the same at run time.
#
# Usage: tools/check_hot_loop.sh [FILE...]   (default: the project's hot-loop files)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WHOLE_FILES=(src/sac/train_iteration.cpp src/sac/losses.cpp src/sac/networks.cpp src/sac/squashed_gaussian.cpp
             src/nn/ensemble_mlp.cpp)
MARKED_FILES=(src/sac/trainer.cpp src/sac/learner.cpp src/nn/fused_adam.cpp src/replay/replay_buffer.cpp
              src/env/vec_env.cpp src/nn/gemm.cpp src/nn/flat_mlp.cpp src/sac/fused_update.cpp
              src/sac/population.cpp src/sac/agent_group.cpp)
PATTERN='\.item[<(]|\.cpu\(|kCPU|\.tolist|nonzero|masked_select|unique\(|[sS]ynchronize|is_nonzero|at::equal|allclose|\.all\(\)\.item|cudaMemcpy[^A]|std::cout|printf'

status=0
check() {  # file, whole(0/1)
  local f=$1 whole=$2
  local out
  out=$(awk -v whole="$whole" -v pat="$PATTERN" '
    /HOT LOOP BEGIN/ { hot = 1; seen = 1; next }
    /HOT LOOP END/ { hot = 0; next }
    (whole || hot) && $0 !~ /^[[:space:]]*\/\// && $0 ~ pat {
      printf "%s:%d: possible host sync in the training hot loop: %s\n", FILENAME, FNR, $0; bad = 1
    }
    END { if (!whole && !seen) { printf "%s: no HOT LOOP BEGIN marker\n", FILENAME; bad = 1 } exit bad }
  ' "$f") || { echo "$out"; status=1; }
}
if (($#)); then
  for f in "$@"; do check "$f" 0; done
else
  for f in "${WHOLE_FILES[@]}"; do check "$ROOT/$f" 1; done
  for f in "${MARKED_FILES[@]}"; do check "$ROOT/$f" 0; done
fi
if ((status)); then echo "check_hot_loop: FAILED" >&2; else echo "check_hot_loop: clean"; fi
exit $status
