#!/usr/bin/env bash
# Crash-safety soak of the real CLI (issue 16's goals), on the CPU:
#   1. racing writers: ROUNDS rounds of concurrent `vecsac train` on one run directory (fresh
#      starts, two resumes, a resume against an overwrite); after each, every file of the run
#      must be whole: log lines valid JSON with increasing steps, `vecsac eval --run` working;
#   2. signals: SIGKILL, SIGTERM and SIGINT, each at MOMENTS random moments of a run, then
#      `--resume` until it finishes; the final checkpoint must equal a straight run's byte for
#      byte (vecsac's checkpoints are deterministic on the CPU), with the same eval.json and
#      each log point once.
#
#   tools/soak.sh [BUILD_DIR (default build)] [ROUNDS (100)] [MOMENTS (20)]
# Prints one line per signal case and a summary; exits non-zero on any failure. About 10
# minutes on 2 cores; ROUNDS 0 runs the signal cases alone.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$ROOT/build}
ROUNDS=${2:-100}
MOMENTS=${3:-20}
VECSAC=$BUILD/vecsac
PY=${VECSAC_PYTHON:-python3}
W=$(mktemp -d /tmp/vecsac_soak.XXXXXX)
trap 'rm -rf "$W"' EXIT
RANDOM=2026

cat >"$W/config.json" <<'JSON'
{"env": {"name": "pointmass", "num_envs": 4},
 "sac": {"buffer_size": 4000, "batch_size": 64, "learning_starts": 200, "gradient_steps": 1,
         "policy_kwargs": {"net_arch": [64, 64]}},
 "run": {"total_timesteps": 8000, "seed": 3, "device": "cpu", "threads": 1,
         "log_interval": 200, "eval_freq": 800, "checkpoint_interval": 400,
         "eval_episodes": 4}}
JSON

# Every log line valid JSON with strictly increasing global_step; prints the steps.
check_logs() {
  "$PY" - "$1" <<'PYEOF'
import json, sys, pathlib
d = pathlib.Path(sys.argv[1])
out = []
for name in ("metrics.jsonl", "evals.jsonl"):
    f = d / name
    if not f.exists():
        continue
    steps = [json.loads(line)["global_step"] for line in f.read_text().splitlines() if line.strip()]
    if any(b <= a for a, b in zip(steps, steps[1:])):
        sys.exit(f"{f}: steps not increasing: {steps}")
    out.append(f"{name}:{','.join(map(str, steps))}")
print(" ".join(out))
PYEOF
}

# vecsac, as any program, leaves a signal it inherits as ignored alone, and a script's
# background jobs inherit SIGINT ignored (so does this script, when started in the
# background). Each run therefore starts through a wrapper that restores the default
# dispositions first, as an interactive shell's foreground job would have them.
# Only ever run in the background (`&`): exec keeps $! the PID of vecsac itself.
run_with_default_signals() {
  exec "$PY" -c 'import os, signal, sys
for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(s, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])' "$@"
}

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# --- 1. racing writers --------------------------------------------------------------------
echo "== racing writers: $ROUNDS rounds"
racing_ok=0
for ((r = 0; r < ROUNDS; r++)); do
  d=$W/race
  kind=$((r % 3))
  if [ $kind -ne 0 ] && [ ! -d "$d/checkpoints" ]; then
    "$VECSAC" train --config "$W/config.json" --set run.total_timesteps=800 --out "$d" \
      --overwrite >/dev/null 2>&1 || true
  fi
  case $kind in
    0) args=("--overwrite" "--overwrite" "--overwrite") ;;
    1) args=("--resume" "--resume") ;;
    2) args=("--resume" "--overwrite") ;;
  esac
  total=$((800 + 400 * (r % 5)))
  pids=()
  for a in "${args[@]}"; do
    run_with_default_signals "$VECSAC" train --config "$W/config.json" \
      --set run.total_timesteps=$total --out "$d" "$a" \
      >"$W/race.$a.${#pids[@]}.log" 2>&1 &
    pids+=($!)
  done
  ok=0
  for p in "${pids[@]}"; do wait "$p" && ok=$((ok + 1)) || true; done
  if [ $ok -lt 1 ]; then
    fail "race $r: no writer succeeded: $(cat "$W"/race.*.log | tail -n 3)"
  elif ! steps=$(check_logs "$d"); then
    fail "race $r: $steps"
  elif ! "$VECSAC" eval --run "$d" --episodes 2 >/dev/null 2>&1; then
    fail "race $r: vecsac eval --run failed on the result"
  elif [ $ok -lt ${#pids[@]} ] && ! grep -qh "in use by another process\|holds a run" "$W"/race.*.log; then
    fail "race $r: a refused writer did not say why: $(cat "$W"/race.*.log | tail -n 3)"
  else
    racing_ok=$((racing_ok + 1))
  fi
  rm -f "$W"/race.*.log
  [ $kind -eq 0 ] && rm -rf "$d"
done
echo "racing writers: $racing_ok/$ROUNDS rounds left whole files"

# --- 2. signals at random moments -------------------------------------------------------
echo "== straight run"
start=$(date +%s.%N)
"$VECSAC" train --config "$W/config.json" --out "$W/straight" >/dev/null 2>&1
span=$(echo "$(date +%s.%N) - $start" | bc)
want_ckpt=$(sha256sum "$W/straight/checkpoints/step_8000.pt" | cut -d' ' -f1)
want_logs=$(check_logs "$W/straight")
echo "straight run: ${span} s"
for sig in KILL TERM INT; do
  same=0
  landed=0
  for ((i = 0; i < MOMENTS; i++)); do
    d=$W/$sig.$i
    delay=$(echo "scale=3; $span * $RANDOM / 32767" | bc)
    run_with_default_signals "$VECSAC" train --config "$W/config.json" --out "$d" >"$d.log" 2>&1 &
    pid=$!
    sleep "$delay"
    kill -s "$sig" "$pid" 2>/dev/null || true
    rc=0
    wait "$pid" || rc=$?
    [ $rc -ne 0 ] && landed=$((landed + 1))
    resumes=0
    while [ ! -f "$d/eval.json" ] && [ $resumes -lt 5 ]; do
      if [ -n "$(ls "$d/checkpoints" 2>/dev/null)" ]; then mode=--resume; else mode=--overwrite; fi
      "$VECSAC" train --config "$W/config.json" --out "$d" $mode >>"$d.log" 2>&1 || true
      resumes=$((resumes + 1))
    done
    got_ckpt=$(sha256sum "$d/checkpoints/step_8000.pt" 2>/dev/null | cut -d' ' -f1 || true)
    if [ "$got_ckpt" != "$want_ckpt" ]; then
      fail "SIG$sig at ${delay} s (exit $rc): final checkpoint differs from the straight run's"
    elif ! cmp -s "$d/eval.json" "$W/straight/eval.json"; then
      fail "SIG$sig at ${delay} s (exit $rc): eval.json differs"
    elif [ "$(check_logs "$d")" != "$want_logs" ]; then
      fail "SIG$sig at ${delay} s (exit $rc): log points differ: $(check_logs "$d")"
    else
      same=$((same + 1))
    fi
    echo "SIG$sig at ${delay} s: exit $rc, $resumes restart(s)"
    rm -rf "$d" "$d.log"
  done
  echo "SIG$sig: $same/$MOMENTS moments resumed to the straight run's bytes ($landed stopped" \
    "the run; at the others it had finished)"
  [ "$MOMENTS" -eq 0 ] || [ $landed -gt 0 ] || fail "SIG$sig never stopped a run: is it ignored?"
done
echo "soak: $failures failure(s)"
[ $failures -eq 0 ]
