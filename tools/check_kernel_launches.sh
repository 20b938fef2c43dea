#!/usr/bin/env bash
# Fails on any CUDA kernel launch (<<<...>>>) that is not followed, as its next
# statement, by VECSAC_CUDA_CHECK(cudaGetLastError()): an unchecked launch turns a
# bad configuration into a silent no-op or a later, misattributed error.
#
# Usage: tools/check_kernel_launches.sh [FILE...]   (default: every .cu/.cuh in the tree's
#        kernels/, src/, include/ and bench/)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if (($# == 0)); then
  mapfile -t files < <(cd "$ROOT" && find kernels src include bench \( -name '*.cu' -o -name '*.cuh' \) \
    -print 2>/dev/null | sort | sed "s#^#$ROOT/#")
else
  files=("$@")
fi
status=0
launches=0
for f in "${files[@]}"; do
  # A launch statement runs from the line with <<< to the line ending in ';'; the
  # next non-blank, non-comment line must be the check.
  out=$(awk '
    function report(line) { printf "%s:%d: kernel launch not followed by VECSAC_CUDA_CHECK(cudaGetLastError())\n", FILENAME, line; bad = 1 }
    /^[[:space:]]*(\/\/|$)/ { next }
    want {
      if ($0 !~ /VECSAC_CUDA_CHECK\(cudaGetLastError\(\)\)/) report(start)
      want = 0
    }
    /<<</ { in_launch = 1; start = FNR; n++ }
    in_launch && /;[[:space:]]*(\/\/.*)?$/ { in_launch = 0; want = 1; next }
    END { if (want) report(start); printf "launches %d\n", n; exit bad }
  ' "$f") || status=1
  grep -v '^launches ' <<<"$out" || true
  launches=$((launches + $(sed -n 's/^launches //p' <<<"$out")))
done
if ((status)); then
  echo "check_kernel_launches: FAILED" >&2
else
  echo "check_kernel_launches: ${#files[@]} file(s), $launches launch(es), all checked"
fi
exit $status
