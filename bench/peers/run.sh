#!/usr/bin/env bash
# Peer comparisons (issue #5 §2): vecsac against the notebook's SAC in eager PyTorch
# and stable-baselines3, for update throughput and time to quality. Writes
# docs/benchmarks.md. Needs an idle machine: other processes on the cores skew
# every number.
#
#   bench/peers/run.sh [--quick] [peers.py options, see --help]
#
# --quick is a smoke test of a minute or two (one repetition, 15 s caps), not a
# measurement. Uses the venv and build of scripts/setup.sh (VECSAC_HOME,
# VECSAC_BUILD_DIR as there) and installs bench/peers/requirements.txt into that
# venv when it is missing.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VECSAC_HOME=${VECSAC_HOME:-$HOME/.cache/vecsac}
VENV=$VECSAC_HOME/venv
BUILD_DIR=${VECSAC_BUILD_DIR:-$ROOT/build}
REQUIREMENTS=$ROOT/bench/peers/requirements.txt

die() { echo "[peers] error: $*" >&2; exit 1; }
[ -x "$VENV/bin/python" ] || die "no Python venv at $VENV; run scripts/setup.sh first"
for exe in vecsac vecsac_bench; do
  [ -x "$BUILD_DIR/$exe" ] || die "$BUILD_DIR/$exe is missing; build it with scripts/setup.sh"
done

# Install only when the pinned version is absent, so a present one is never fetched again.
want=$(sed -n 's/^stable-baselines3==//p' "$REQUIREMENTS")
have=$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("stable-baselines3"))' \
       2>/dev/null || true)
if [ "$have" != "$want" ]; then
  echo "[peers] installing stable-baselines3==$want into $VENV"
  exec 9>"$VECSAC_HOME/.setup.lock"  # the lock scripts/setup.sh takes around pip
  flock 9
  # Every installed package is a constraint, so pip adds what is missing and never
  # upgrades or downgrades torch (or anything else) under LibTorch's build.
  constraints=$(mktemp)
  trap 'rm -f "$constraints"' EXIT
  # (name==version lines only: editable or URL installs cannot be constraints)
  "$VENV/bin/pip" freeze --disable-pip-version-check | grep -E '^[A-Za-z0-9_.-]+==' >"$constraints" || true
  "$VENV/bin/pip" install --disable-pip-version-check -q -r "$REQUIREMENTS" -c "$constraints"
  "$VENV/bin/pip" check --disable-pip-version-check
  flock -u 9
fi

cd "$ROOT"
# peers.py finds the binaries through VECSAC_BUILD_DIR too, defaulting to build/ as here.
exec "$VENV/bin/python" bench/peers/peers.py "$@"
