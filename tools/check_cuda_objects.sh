#!/usr/bin/env bash
# Proves that a CUDA build compiled every kernels/*.cu to device code for every
# configured architecture: each .cu has an object with an .nv_fatbin section
# naming sm_XX for each XX in VECSAC_CUDA_ARCHITECTURES. Catches a .cu missing
# from kernels/CMakeLists.txt, or a build that silently dropped CUDA.
#
# Usage: tools/check_cuda_objects.sh [BUILD_DIR]   (default: build)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${1:-$ROOT/build}
cache=$BUILD_DIR/CMakeCache.txt
[ -f "$cache" ] || { echo "check_cuda_objects: no $cache; configure first" >&2; exit 1; }
grep -q '^VECSAC_CUDA:BOOL=ON' "$cache" ||
  { echo "check_cuda_objects: $BUILD_DIR is not a CUDA build (VECSAC_CUDA is not ON)" >&2; exit 1; }
archs=$(sed -n 's/^VECSAC_CUDA_ARCHITECTURES:STRING=//p' "$cache" | tr ';' ' ')
status=0
count=0
for cu in "$ROOT"/kernels/*.cu; do
  name=$(basename "$cu")
  obj=$BUILD_DIR/kernels/CMakeFiles/vecsac_kernels.dir/$name.o
  if [ ! -f "$obj" ]; then
    echo "check_cuda_objects: kernels/$name was not compiled (no $obj): is it listed in kernels/CMakeLists.txt?" >&2
    status=1
    continue
  fi
  # Capture first: with pipefail, `readelf | grep -q` fails at random when grep
  # exits on the first match while readelf still writes (SIGPIPE).
  sections=$(readelf -S "$obj")
  if ! grep -q '\.nv_fatbin' <<<"$sections"; then
    echo "check_cuda_objects: $obj has no device code (.nv_fatbin)" >&2
    status=1
    continue
  fi
  targets=$(strings "$obj" | grep -oE 'sm_[0-9]+[af]?' | sort -u)
  for a in $archs; do
    a=${a%%-*}  # 90-real -> 90
    if ! grep -qx "sm_$a" <<<"$targets"; then
      echo "check_cuda_objects: kernels/$name has no device code for sm_$a" >&2
      status=1
    fi
  done
  count=$((count + 1))
done
((status)) || echo "check_cuda_objects: $count kernel file(s) compiled for sm_{${archs// /,}}"
exit $status
