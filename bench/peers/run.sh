#!/usr/bin/env bash
# Peer comparisons (issue #5 §2, issue #14 §7): vecsac against the notebook's SAC in
# eager PyTorch, stable-baselines3 and sbx (its JAX port) for update throughput and time
# to quality, and against RLtools and SB3 in a Pendulum race. Writes docs/measurements/peers.md
# (--race pendulum alone: runs/peers/pendulum_race.md). Needs an idle machine: other
# processes on the cores skew every number.
#
#   bench/peers/run.sh [--quick] [peers.py options, see --help]
#
# --quick is a smoke test of a few minutes (one repetition, 10 s caps, 500-step race), not a
# measurement. Uses the venv and build of scripts/setup.sh (VECSAC_HOME,
# VECSAC_BUILD_DIR as there) and installs bench/peers/requirements.txt into that
# venv when any of its pins is missing. RLtools compiles its training loop with the
# system's g++ on first use (cached under /tmp/rltools).
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

# Install only when a pinned version is absent, so a present one is never fetched again.
# Prints the name==version lines of requirements.txt that the venv does not have.
missing_pins() {
  "$VENV/bin/python" - "$REQUIREMENTS" <<'EOF'
import importlib.metadata as m, sys
for line in open(sys.argv[1]):
    pin = line.split("#")[0].strip()
    if pin:
        name, want = pin.split("==")
        try:
            have = m.version(name)
        except m.PackageNotFoundError:
            have = None
        if have != want:
            print(pin)
EOF
}
missing=$(missing_pins)
if [ -n "$missing" ]; then
  echo "[peers] installing into $VENV:" $missing
  exec 9>"$VECSAC_HOME/.setup.lock"  # the lock scripts/setup.sh takes around pip
  flock 9
  # Every installed package is a constraint, so pip adds what is missing and never
  # upgrades or downgrades torch, numpy, gymnasium (or anything else) under LibTorch's
  # build; only the packages requirements.txt pins may change, so a new pin there installs.
  constraints=$(mktemp)
  trap 'rm -f "$constraints"' EXIT
  # (name==version lines only: editable or URL installs cannot be constraints)
  "$VENV/bin/pip" freeze --disable-pip-version-check | grep -E '^[A-Za-z0-9_.-]+==' \
    | "$VENV/bin/python" -c '
import re, sys
norm = lambda n: re.sub(r"[-_.]+", "-", n).lower()  # PEP 503: stable_baselines3 = stable-baselines3
pinned = {norm(l.split("==")[0]) for l in open(sys.argv[1]) if "==" in l.split("#")[0]}
sys.stdout.writelines(l for l in sys.stdin if norm(l.split("==")[0]) not in pinned)' \
      "$REQUIREMENTS" >"$constraints" || true
  "$VENV/bin/pip" install --disable-pip-version-check -q -r "$REQUIREMENTS" -c "$constraints"
  "$VENV/bin/pip" check --disable-pip-version-check
  flock -u 9
  missing=$(missing_pins)
  [ -z "$missing" ] || die "still not installed after pip install: $missing"
fi

cd "$ROOT"
# peers.py finds the binaries through VECSAC_BUILD_DIR too, defaulting to build/ as here.
exec "$VENV/bin/python" bench/peers/peers.py "$@"
