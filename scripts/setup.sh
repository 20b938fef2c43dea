#!/usr/bin/env bash
# Idempotent set-up: Debian packages, the Python venv holding LibTorch (CUDA 13),
# then configure and build into build/. Safe to re-run: installs only what is
# missing and never downloads LibTorch again once it is in the venv.
#
# Environment:
#   VECSAC_HOME        cache root outside the clone (default ~/.cache/vecsac): venv/, ccache/
#   VECSAC_BUILD_DIR   build directory (default <repo>/build)
#   VECSAC_CMAKE_ARGS  extra CMake arguments, e.g. "-DVECSAC_CUDA=OFF"
# Argument --tests: also install what only the tests need (Chromium).
# Argument --cli: build only the CLI (build/vecsac), what the main job needs
# (scripts/run.sh); without it everything is built: tests, benchmarks, fuzz drivers.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VECSAC_HOME=${VECSAC_HOME:-$HOME/.cache/vecsac}
VENV=$VECSAC_HOME/venv
BUILD_DIR=${VECSAC_BUILD_DIR:-$ROOT/build}
REQUIREMENTS=$ROOT/scripts/requirements.txt
log() { echo "[setup] $*"; }

mkdir -p "$VECSAC_HOME"
# One set-up at a time per cache: two concurrent pip installs would corrupt the venv.
exec 9>"$VECSAC_HOME/.setup.lock"
flock 9

# --- 1. Debian packages -------------------------------------------------------
packages=(build-essential git ca-certificates python3 python3-venv ccache
          nlohmann-json3-dev libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev
          librandom123-dev)
# scripts/test.sh passes --tests: the report's browser test renders in Chromium, and the
# fuzzers (tools/fuzz.sh) build with clang's libFuzzer; using vecsac (scripts/run.sh) needs
# neither.
if [ "${1:-}" = --tests ]; then packages+=(chromium clang libclang-rt-dev); fi
missing=()
for p in "${packages[@]}"; do
  [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) == *"install ok installed"* ]] || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null ||
      { echo "[setup] error: missing Debian packages (${missing[*]}) and no sudo; install them as root" >&2; exit 1; }
    SUDO=sudo
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# --- 2. CUDA toolkit ----------------------------------------------------------
# The CUDA 13 toolkit is required even for VECSAC_CUDA=OFF builds: the CUDA build
# of LibTorch's CMake config looks for it. /usr/local/cuda comes first so an older
# distribution nvcc on PATH does not shadow it.
[ -x /usr/local/cuda/bin/nvcc ] && export PATH=/usr/local/cuda/bin:$PATH
if ! command -v nvcc >/dev/null 2>&1; then
  echo "[setup] error: no nvcc found (looked on PATH and in /usr/local/cuda/bin); install the" \
       "CUDA 13 toolkit: LibTorch's CUDA build needs it to configure, even for CPU-only builds" >&2
  exit 1
fi
nvcc_version=$(nvcc --version | sed -n 's/.*release \([0-9]*\)\.\([0-9]*\).*/\1.\2/p')
if [ "${nvcc_version%%.*}" != 13 ]; then
  echo "[setup] error: nvcc $nvcc_version found, but vecsac pins the CUDA 13 build of LibTorch" \
       "(torch 2.14.1, scripts/requirements.txt); install the CUDA 13 toolkit" >&2
  exit 1
fi
log "nvcc $nvcc_version: building the CUDA kernels (they run only where a GPU is present)"
cuda_flag=-DVECSAC_CUDA=ON

# --- 3. Python venv with LibTorch ------------------------------------------------
want=$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)
stamp=$VENV/.vecsac-requirements.sha256
if [ ! -x "$VENV/bin/python" ] || [ ! -x "$VENV/bin/pip" ]; then
  log "creating venv $VENV"
  python3 -m venv --clear "$VENV"
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log "installing Python requirements into $VENV (LibTorch with CUDA: several GB, once)"
  "$VENV/bin/pip" install --disable-pip-version-check -q -r "$REQUIREMENTS"
  echo "$want" >"$stamp"
else
  log "venv up to date: $VENV"
fi
export PATH=$VENV/bin:$PATH  # cmake, ctest and ninja from the venv

# --- 4. Configure and build ----------------------------------------------------------
export CCACHE_DIR=${CCACHE_DIR:-$VECSAC_HOME/ccache}
# Paths relative to the clone in cache keys: a fresh clone elsewhere (CI) still hits.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$ROOT}
mkdir -p "$BUILD_DIR"
torch_prefix=$("$VENV/bin/python" -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')
# shellcheck disable=SC2086  # VECSAC_CMAKE_ARGS is a list of words on purpose
cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -Wno-dev \
  -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$torch_prefix" \
  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache \
  -DVECSAC_PYTHON="$VENV/bin/python" \
  "$cuda_flag" ${VECSAC_CMAKE_ARGS:-} >"$BUILD_DIR/configure.log" 2>&1 ||
  { cat "$BUILD_DIR/configure.log" >&2; exit 1; }
targets=()
if [ "${1:-}" = --cli ]; then targets=(--target vecsac); fi
log "building in $BUILD_DIR${targets[*]:+ (${targets[*]})}"
cmake --build "$BUILD_DIR" -j "$(nproc)" "${targets[@]}"
if [ ${#targets[@]} -eq 0 ]; then
  log "done: $BUILD_DIR/vecsac, $BUILD_DIR/vecsac_bench"
else
  log "done: $BUILD_DIR/vecsac (the tests and benchmarks: scripts/test.sh or scripts/setup.sh)"
fi
