#!/usr/bin/env bash
# Builds the libFuzzer targets in fuzz/ (clang, with ASan and UBSan) and runs each for a
# fixed time from its checked-in corpus. Exits non-zero on any finding (crash, sanitizer
# report, unexpected exception), leaving the input that caused it in $OUT/crash-*.
#
#   tools/fuzz.sh [SECONDS per target, default 60] [TARGET...]
#
# The targets cover the torch-free parsers: config with --set overrides (config_fuzz) and
# the JSON-lines reader of report/export-tb (jsonl_fuzz), and the --init/--actions readers of
# rollout, eval, optimum and run.eval_init (env_json_fuzz). Needs Debian's clang (libFuzzer
# ships with it) and nlohmann-json3-dev; scripts/setup.sh installs both.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SECONDS_PER_TARGET=${1:-60}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(config_fuzz jsonl_fuzz env_json_fuzz)
OUT=${VECSAC_FUZZ_DIR:-$ROOT/build-fuzz}
CXX=${VECSAC_FUZZ_CXX:-clang++}
command -v "$CXX" >/dev/null || { echo "[fuzz] error: $CXX not found (apt-get install clang)" >&2; exit 1; }
mkdir -p "$OUT"
SOURCES=("$ROOT/src/config/config.cpp" "$ROOT/src/io/json_file.cpp" "$ROOT/src/io/jsonl_file.cpp"
  "$ROOT/src/env/env_json.cpp")
FLAGS=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
  -I"$ROOT/include")
for target in "${TARGETS[@]}"; do
  echo "[fuzz] building $target"
  "$CXX" "${FLAGS[@]}" "$ROOT/fuzz/$target.cpp" "${SOURCES[@]}" -o "$OUT/$target"
  # A scratch copy of the corpus: what the run adds stays out of the source tree.
  work="$OUT/corpus-$target"
  rm -rf "$work"
  cp -r "$ROOT/fuzz/corpus/${target%_fuzz}" "$work"
  echo "[fuzz] running $target for ${SECONDS_PER_TARGET} s"
  (cd "$OUT" && "./$target" -max_total_time="$SECONDS_PER_TARGET" -max_len=4096 -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 "$work" 2>&1 | tail -n 12)
done
echo "[fuzz] no findings"
