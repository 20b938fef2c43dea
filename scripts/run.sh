#!/usr/bin/env bash
# Set everything up (scripts/setup.sh), then run the main job on its default
# config. Until the trainer lands, that is a short env throughput demo: the
# point-mass step on this machine's devices beside the memory-copy reference,
# and one exact rollout.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$ROOT/scripts/setup.sh"
BUILD_DIR=${VECSAC_BUILD_DIR:-$ROOT/build}

echo "== env throughput, N = 65536 envs (items_per_second = env steps/s) =="
"$BUILD_DIR/vecsac_bench" --benchmark_filter='BM_(EnvStep_PointMass_(Cpu|Cuda)|CopyReference)/65536' \
  --benchmark_repetitions=3 --benchmark_report_aggregates_only=true --benchmark_min_time=0.2

echo "== one exact rollout: 2 point masses, 3 steps, from the states in configs/rollout_demo =="
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$BUILD_DIR/vecsac" rollout --env pointmass --init "$ROOT/configs/rollout_demo/init.json" \
  --actions "$ROOT/configs/rollout_demo/actions.json" --out "$out/rollout.json"
cat "$out/rollout.json"
