#!/usr/bin/env bash
# One command for a GPU machine: build, run the CUDA tests and the CUDA benchmark families (and, with
# --with-cpu, their CPU references), train for about a minute under --sync-debug, and
# write everything into one JSON file. docs/gpu.md gives the numbers to expect.
#
# Usage: bench/gpu.sh [--with-cpu] [--skip-build] [--population] [OUT.json]
#                                                                 (default OUT: gpu-results.json)
#   --with-cpu    also run the _Cpu families and BM_CopyReference, for CUDA/CPU ratios
#   --skip-build  use the existing build in VECSAC_BUILD_DIR (no scripts/setup.sh)
#   --population  also time populations of configs/pointmass_many_envs.json on the GPU
#                 (bench/population.py --no-sequential --curve 1 8 64, shortened runs):
#                 issue #15's goal is 64 seeds in <= 2x one seed's time
#
# Environment:
#   VECSAC_HOME, VECSAC_BUILD_DIR, VECSAC_CMAKE_ARGS   as for scripts/setup.sh. The default
#       CUDA architectures (80;90) cover the H100; to build for it alone:
#       VECSAC_CMAKE_ARGS="-DVECSAC_CUDA_ARCHITECTURES=90" bench/gpu.sh
#   VECSAC_GPU_WORK           folder for logs, raw benchmark JSON and the run (default runs/gpu/<UTC time>)
#   VECSAC_GPU_REPETITIONS    --benchmark_repetitions (default 5)
#   VECSAC_GPU_BENCH_MIN_TIME --benchmark_min_time in seconds, a plain number: Debian's Google
#                             Benchmark 1.7.1 rejects the "0.5s" form (default: the library's own)
#   VECSAC_GPU_TRAIN_ENVS     env.num_envs of the training run (default 16384, a BM_TrainIteration size)
#   VECSAC_GPU_TRAIN_STEPS    run.total_timesteps (default: 60 s at the rate BM_TrainIteration_Cuda
#                             measured for that many envs, else 150000000)
#   VECSAC_GPU_TRAIN_TIMEOUT  seconds before the training run is stopped (default 900)
#   VECSAC_GPU_POPULATION_STEPS    run.total_timesteps of each --population run (default
#                                  1048576: 64 vector steps of 16384 envs, 512 gradient steps)
#   VECSAC_GPU_POPULATION_TIMEOUT  seconds before the --population stage is stopped (default 600)
#
# The link names the shared libstdc++ by path, so a machine whose compiler prefers a static
# libstdc++ (seen on a lent GPU image, checked there with its GCC 13) still binds
# std::filesystem to libstdc++.so.6; StdBindingTest checks.
#
# Exit status: 0 when the tests, the benchmarks and the training run (sync-debug included) passed; 1 when
# one of them failed, after the JSON is written; 2 before any work (no GPU, bad arguments).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VECSAC_HOME=${VECSAC_HOME:-$HOME/.cache/vecsac}
VENV=$VECSAC_HOME/venv
BUILD_DIR=${VECSAC_BUILD_DIR:-$ROOT/build}
REPETITIONS=${VECSAC_GPU_REPETITIONS:-5}
MIN_TIME=${VECSAC_GPU_BENCH_MIN_TIME:-}
TRAIN_ENVS=${VECSAC_GPU_TRAIN_ENVS:-16384}
TRAIN_STEPS=${VECSAC_GPU_TRAIN_STEPS:-}
TRAIN_TIMEOUT=${VECSAC_GPU_TRAIN_TIMEOUT:-900}
POPULATION_STEPS=${VECSAC_GPU_POPULATION_STEPS:-1048576}
POPULATION_TIMEOUT=${VECSAC_GPU_POPULATION_TIMEOUT:-600}
FALLBACK_TRAIN_STEPS=150000000  # docs/gpu.md: ~35-60 s at the expected eager rate with 16384 envs
TRAIN_SECONDS=60

log() { echo "[gpu] $*"; }
die() {
  echo "[gpu] error: $*" >&2
  exit 2
}

# --- arguments --------------------------------------------------------------------
WITH_CPU=0
SKIP_BUILD=0
POPULATION=0
OUT=gpu-results.json
for arg in "$@"; do
  case $arg in
    --with-cpu) WITH_CPU=1 ;;
    --skip-build) SKIP_BUILD=1 ;;
    --population) POPULATION=1 ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    -*) die "unknown option '$arg' (allowed: --with-cpu, --skip-build, --population, OUT.json)" ;;
    *) OUT=$arg ;;
  esac
done
for v in REPETITIONS TRAIN_ENVS TRAIN_TIMEOUT POPULATION_STEPS POPULATION_TIMEOUT; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "VECSAC_GPU_${v}=${!v}: must be a positive integer"
done
[[ -z $TRAIN_STEPS || $TRAIN_STEPS =~ ^[1-9][0-9]*$ ]] ||
  die "VECSAC_GPU_TRAIN_STEPS=$TRAIN_STEPS: must be a positive integer"
[[ -z $MIN_TIME || $MIN_TIME =~ ^[0-9]+([.][0-9]+)?$ ]] ||
  die "VECSAC_GPU_BENCH_MIN_TIME=$MIN_TIME: must be a plain number of seconds (no 's' suffix)"

# --- 1. a GPU, before anything is built ---------------------------------------------
# nvidia-smi ignores CUDA_VISIBLE_DEVICES, so an empty mask is checked separately.
if ! command -v nvidia-smi >/dev/null 2>&1; then
  die "no GPU: nvidia-smi is not on PATH, so this machine has no NVIDIA driver (or no GPU)." \
    "bench/gpu.sh needs one visible NVIDIA GPU; on a CPU-only machine run" \
    "build/vecsac_bench --benchmark_filter=_Cpu instead"
fi
if ! gpu_names=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>&1) || [[ -z $gpu_names ]]; then
  die "no GPU visible: nvidia-smi failed or listed no GPU (${gpu_names:-no output})"
fi
if [[ ${CUDA_VISIBLE_DEVICES+set} == set && ( -z $CUDA_VISIBLE_DEVICES || $CUDA_VISIBLE_DEVICES == -1 ) ]]; then
  die "no GPU visible: CUDA_VISIBLE_DEVICES='$CUDA_VISIBLE_DEVICES' hides every GPU from CUDA"
fi
log "GPU: $(head -n 1 <<<"$gpu_names")"

# --- 2. build ----------------------------------------------------------------------
if ((SKIP_BUILD)); then
  log "--skip-build: using $BUILD_DIR"
else
  VECSAC_BUILD_DIR=$BUILD_DIR "$ROOT/scripts/setup.sh"
fi
for exe in vecsac vecsac_bench; do
  [[ -x $BUILD_DIR/$exe ]] || die "$BUILD_DIR/$exe is missing (build first, or drop --skip-build)"
done
PY=$VENV/bin/python
[[ -x $PY ]] || PY=python3  # the JSON assembly below needs only the standard library

WORK=${VECSAC_GPU_WORK:-$ROOT/runs/gpu/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$WORK"
log "artifacts in $WORK"

# --- 3. the CUDA tests ----------------------------------------------------------------
# CPU CI compiles them but cannot run them; StdBindingTest guards a link-order problem
# first seen on a GPU machine (docs/gpu.md).
TESTS=$BUILD_DIR/tests/vecsac_tests
tests_rc=""
if [[ -x $TESTS ]]; then
  tests_rc=0
  log "$TESTS --gtest_filter='*Cuda*:*CUDA*:StdBindingTest.*'"
  "$TESTS" --gtest_filter='*Cuda*:*CUDA*:StdBindingTest.*' --gtest_output="json:$WORK/tests.json" \
    2>&1 | tee "$WORK/tests.log" || tests_rc=$?
else
  log "no $TESTS (built with VECSAC_BUILD_TESTS=OFF?): CUDA tests not run"
fi

# --- 3b. benchmarks ------------------------------------------------------------------
# Console output to the terminal and a log; the JSON to a file. Every family is run;
# a failing one is recorded (error_occurred in the JSON) rather than stopping the script.
run_bench() {  # run_bench NAME FILTER
  local args=(--benchmark_filter="$2" --benchmark_repetitions="$REPETITIONS"
    --benchmark_report_aggregates_only=true
    --benchmark_out="$WORK/bench_$1.json" --benchmark_out_format=json)
  [[ -n $MIN_TIME ]] && args+=(--benchmark_min_time="$MIN_TIME")
  log "vecsac_bench ${args[*]}"
  "$BUILD_DIR/vecsac_bench" "${args[@]}" 2>&1 | tee "$WORK/bench_$1.log"
}
bench_cuda_rc=0
run_bench cuda '_Cuda' || bench_cuda_rc=$?
bench_cpu_rc=""
if ((WITH_CPU)); then
  bench_cpu_rc=0
  run_bench cpu '_Cpu|BM_CopyReference' || bench_cpu_rc=$?
fi

# --- 4. about a minute of training under --sync-debug --------------------------------
# BM_TrainIteration runs the loop body of this very config, so its rate sizes the run.
if [[ -z $TRAIN_STEPS ]]; then
  TRAIN_STEPS=$("$PY" - "$WORK/bench_cuda.json" "$TRAIN_ENVS" "$TRAIN_SECONDS" "$FALLBACK_TRAIN_STEPS" <<'PY'
import json, math, sys
path, envs, seconds, fallback = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
try:
    rows = json.load(open(path))["benchmarks"]
    rate = next(b["items_per_second"] for b in rows
                if b["run_name"] == f"BM_TrainIteration_Cuda/{envs}/manual_time"
                and b.get("aggregate_name") == "median" and not b.get("error_occurred"))
    print(max(envs, math.ceil(rate * seconds / envs) * envs))
except Exception:
    print(fallback)
PY
)
fi
# About ten log points: each one reads the device once, outside the checked loop.
LOG_INTERVAL=$(((TRAIN_STEPS / 10 + TRAIN_ENVS - 1) / TRAIN_ENVS * TRAIN_ENVS))
((LOG_INTERVAL > 0)) || LOG_INTERVAL=$TRAIN_ENVS
TRAIN_DIR=$WORK/train
train_cmd=("$BUILD_DIR/vecsac" train --config "$ROOT/configs/pointmass.json" --sync-debug
  --out "$TRAIN_DIR"
  --set run.device=cuda
  --set env.num_envs="$TRAIN_ENVS"
  --set run.total_timesteps="$TRAIN_STEPS"
  --set run.log_interval="$LOG_INTERVAL"
  --set run.eval_init="$ROOT/configs/eval/pointmass_notebook_starts.json")
log "${train_cmd[*]}"
train_start=$(date +%s.%N)
train_rc=0
timeout "$TRAIN_TIMEOUT" "${train_cmd[@]}" 2>&1 | tee "$WORK/train.log" || train_rc=$?
train_end=$(date +%s.%N)

# --- 4b. populations (--population) ----------------------------------------------------
population_rc=""
if ((POPULATION)); then
  population_rc=0
  pop_cmd=("$PY" "$ROOT/bench/population.py" --vecsac "$BUILD_DIR/vecsac"
    --configs "$ROOT/configs/pointmass_many_envs.json" --no-sequential --curve 1 8 64
    --set 'run.device="cuda"' --set "run.total_timesteps=$POPULATION_STEPS"
    --out "$WORK/population" --json "$WORK/population.json")
  log "${pop_cmd[*]}"
  timeout "$POPULATION_TIMEOUT" "${pop_cmd[@]}" 2>&1 | tee "$WORK/population.log" ||
    population_rc=$?
fi

# --- 5. machine facts ------------------------------------------------------------------
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >"$WORK/gpus.csv" 2>&1 || true
NVCC=/usr/local/cuda/bin/nvcc
[[ -x $NVCC ]] || NVCC=$(command -v nvcc || true)
nvcc_version=""
if [[ -n $NVCC ]]; then
  nvcc_version=$("$NVCC" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p' || true)
fi
torch_version=$("$PY" -c 'import importlib.metadata as m; print(m.version("torch"))' 2>/dev/null || true)
git_commit=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || true)
git_dirty=""
if [[ -n $git_commit ]]; then
  # diff-index only reads; `git status` may rewrite the index.
  if git -C "$ROOT" diff-index --quiet HEAD -- 2>/dev/null; then git_dirty=false; else git_dirty=true; fi
fi

# --- 6. one JSON, written atomically -----------------------------------------------------
mkdir -p "$(dirname "$OUT")"
tmp=$(mktemp "$(dirname "$OUT")/.gpu-results.XXXXXX")
trap 'rm -f "$tmp"' EXIT
export GPU_WORK=$WORK GPU_WITH_CPU=$WITH_CPU GPU_SKIP_BUILD=$SKIP_BUILD GPU_BUILD_DIR=$BUILD_DIR \
  GPU_CMAKE_ARGS=${VECSAC_CMAKE_ARGS:-} GPU_BENCH_CUDA_RC=$bench_cuda_rc GPU_BENCH_CPU_RC=$bench_cpu_rc \
  GPU_TESTS_RC=$tests_rc GPU_REPETITIONS=$REPETITIONS GPU_MIN_TIME=$MIN_TIME GPU_TRAIN_RC=$train_rc \
  GPU_TRAIN_START=$train_start GPU_TRAIN_END=$train_end GPU_TRAIN_ENVS=$TRAIN_ENVS \
  GPU_TRAIN_STEPS=$TRAIN_STEPS GPU_TRAIN_TIMEOUT=$TRAIN_TIMEOUT GPU_TRAIN_DIR=$TRAIN_DIR \
  GPU_NVCC=$nvcc_version GPU_TORCH=$torch_version GPU_GIT_COMMIT=$git_commit GPU_GIT_DIRTY=$git_dirty \
  GPU_POPULATION_RC=$population_rc
"$PY" - "${train_cmd[@]}" >"$tmp" <<'PY'
import datetime, json, os, socket, sys

env = os.environ
work = env["GPU_WORK"]

def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None

def rc(name):
    return int(env[name]) if env.get(name, "") != "" else None

def bench_section(name, exit_status):
    """Median (and spread) per benchmark; a family that skipped keeps its error message."""
    if exit_status is None:
        return None
    doc = load_json(os.path.join(work, f"bench_{name}.json")) or {}
    rows = {}
    for b in doc.get("benchmarks", []):
        row = rows.setdefault(b["run_name"], {})
        if b.get("error_occurred"):
            row["error"] = b.get("error_message", "")
            continue
        agg = b.get("aggregate_name", "median")  # one repetition: no aggregates
        if agg == "median":
            for k in ("real_time", "time_unit", "iterations", "items_per_second", "bytes_per_second",
                      "FLOP/s", "flops_per_update", "updates_per_iteration", "batch_size"):
                if k in b:
                    row[k] = b[k]
        elif agg in ("stddev", "cv"):
            row[f"real_time_{agg}"] = b.get("real_time")
    return {"exit_status": exit_status, "raw_file": os.path.join(work, f"bench_{name}.json"),
            "context": doc.get("context"), "medians": rows}

def gpus():
    out = []
    try:
        for line in open(os.path.join(work, "gpus.csv")):
            parts = [p.strip() for p in line.split(",")]
            if len(parts) == 3:
                out.append(dict(zip(("name", "driver_version", "memory_total"), parts)))
    except OSError:
        pass
    return out

# Datasheet HBM bandwidth, bytes/s, by nvidia-smi name (docs/gpu.md); None when unknown.
HBM_PEAK = {"H100 80GB HBM3": 3.35e12, "H100 PCIe": 2.0e12, "H100 NVL": 3.9e12, "H200": 4.8e12}

def hbm_peak(name):
    return next((v for k, v in HBM_PEAK.items() if k in name), None)

def derived(cuda, cpu, gpu_name):
    d = {}
    for dev, sec in (("Cuda", cuda), ("Cpu", cpu)):
        if not sec:
            continue
        m, suffix = sec["medians"], "manual_time" if dev == "Cuda" else "real_time"
        eff = {}
        for b in (256, 1024, 4096):
            u = m.get(f"BM_SacUpdate_{dev}/{b}/{suffix}", {})
            g = m.get(f"BM_GemmReference_{dev}/{b}/{suffix}", {})
            if "FLOP/s" in u and "FLOP/s" in g:
                eff[str(b)] = u["FLOP/s"] / g["FLOP/s"]
        d[f"update_efficiency_{dev}"] = eff  # bench/README.md: time(GEMMs alone) / time(update)
    peak = hbm_peak(gpu_name)
    if cuda and peak:
        d["pointmass_step_fraction_of_hbm_peak"] = {
            k.split("/")[1]: v["bytes_per_second"] / peak
            for k, v in cuda["medians"].items()
            if k.startswith("BM_EnvStep_PointMass_Cuda/") and "bytes_per_second" in v}
    if cuda and cpu:
        ratios = {}
        for k, v in cuda["medians"].items():
            twin = cpu["medians"].get(k.replace("_Cuda/", "_Cpu/").replace("manual_time", "real_time"), {})
            if "items_per_second" in v and "items_per_second" in twin:
                ratios[k.split("/manual_time")[0]] = v["items_per_second"] / twin["items_per_second"]
        d["cuda_over_cpu_items_per_second"] = ratios
    return d

def training():
    run = env["GPU_TRAIN_DIR"]
    status = rc("GPU_TRAIN_RC")
    log_text = ""
    try:
        log_text = open(os.path.join(work, "train.log"), errors="replace").read()
    except OSError:
        pass
    last = None
    try:
        lines = [l for l in open(os.path.join(run, "metrics.jsonl")) if l.strip()]
        last = json.loads(lines[-1]) if lines else None
    except (OSError, ValueError):
        pass
    ev = load_json(os.path.join(run, "eval.json")) or {}
    sync_error = "synchroniz" in log_text.lower() and status != 0
    return {
        "command": sys.argv[1:],
        "exit_status": status,
        "timed_out": status == 124,
        "timeout_s": int(env["GPU_TRAIN_TIMEOUT"]),
        # The loop ran under --sync-debug: a non-zero exit that names a synchronising call
        # is a sync in the hot loop; a zero exit means none happened.
        "sync_debug_passed": status == 0,
        "sync_debug_violation": sync_error,
        "num_envs": int(env["GPU_TRAIN_ENVS"]),
        "total_timesteps": int(env["GPU_TRAIN_STEPS"]),
        "wall_s": float(env["GPU_TRAIN_END"]) - float(env["GPU_TRAIN_START"]),
        "last_metrics": last,
        "sps_last_interval": (last or {}).get("charts/SPS"),
        "sps_overall": (last["global_step"] / last["time_s"]) if last and last.get("time_s") else None,
        "final_eval_mean": ev.get("mean"),
        "final_eval_returns": ev.get("returns"),
        "final_eval_starts": "configs/eval/pointmass_notebook_starts.json (optimum -2.5150, notebook SAC -89.887)",
        "log_tail": log_text[-3000:],
        "run_dir": run,
    }

def tests():
    """Each CUDA test's outcome from gtest's JSON report; None when the tests were not run."""
    status = rc("GPU_TESTS_RC")
    if status is None:
        return None
    results = {}
    for suite in (load_json(os.path.join(work, "tests.json")) or {}).get("testsuites", []):
        for t in suite.get("testsuite", []):
            name = f"{suite['name']}.{t['name']}"
            if t.get("failures"):
                results[name] = "failed: " + t["failures"][0].get("failure", "")[:500]
            else:
                results[name] = "skipped" if t.get("result") == "SKIPPED" else "passed"
    # No report after a non-zero exit means the binary died (e.g. a crash) mid-run.
    return {"exit_status": status, "results": results, "log": os.path.join(work, "tests.log")}

gpu_list = gpus()
cuda = bench_section("cuda", rc("GPU_BENCH_CUDA_RC"))
cpu = bench_section("cpu", rc("GPU_BENCH_CPU_RC"))
result = {
    "schema": "vecsac-gpu-results/1",
    "created_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    "machine": {"hostname": socket.gethostname(), "gpus": gpu_list, "nvcc": env["GPU_NVCC"] or None,
                "torch": env["GPU_TORCH"] or None},
    "source": {"git_commit": env["GPU_GIT_COMMIT"] or None,
               "git_dirty": {"true": True, "false": False}.get(env["GPU_GIT_DIRTY"])},
    "build": {"dir": env["GPU_BUILD_DIR"], "cmake_args": env["GPU_CMAKE_ARGS"],
              "skipped": env["GPU_SKIP_BUILD"] == "1"},
    "benchmark_settings": {"repetitions": int(env["GPU_REPETITIONS"]),
                           "min_time_s": float(env["GPU_MIN_TIME"]) if env["GPU_MIN_TIME"] else None},
    "tests": tests(),
    "benchmarks": {"cuda": cuda, "cpu": cpu},
    "derived": derived(cuda, cpu, gpu_list[0]["name"] if gpu_list else ""),
    "training": training(),
    "population": None if rc("GPU_POPULATION_RC") is None else {
        "exit_status": rc("GPU_POPULATION_RC"), "timed_out": rc("GPU_POPULATION_RC") == 124,
        "results": load_json(os.path.join(work, "population.json")),
        "log": os.path.join(work, "population.log")},
    "artifacts": work,
}
json.dump(result, sys.stdout, indent=2)
sys.stdout.write("\n")
PY
chmod 0644 "$tmp"  # mktemp makes it private
mv -f "$tmp" "$OUT"
trap - EXIT

# --- 7. verdict ------------------------------------------------------------------------
"$PY" - "$OUT" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
t = r["training"]
print(f"[gpu] wrote {sys.argv[1]}")
print(f"[gpu] training: exit {t['exit_status']}, sync-debug {'passed' if t['sync_debug_passed'] else 'FAILED'}, "
      f"SPS {t['sps_overall']}, final eval mean {t['final_eval_mean']}")
if r["tests"] is not None:
    bad = {k: v for k, v in r["tests"]["results"].items() if v.startswith("failed")}
    print(f"[gpu] CUDA tests: exit {r['tests']['exit_status']}, {len(r['tests']['results'])} run, "
          f"{len(bad)} failed{': ' + ', '.join(bad) if bad else ''}")
for name, eff in r["derived"].items():
    print(f"[gpu] {name}: {eff}")
p = r.get("population")
if p is not None:
    curve = ((p.get("results") or {}).get("configs", {}).get("pointmass_many_envs") or {}).get("curve", [])
    print(f"[gpu] populations: exit {p['exit_status']}; wall vs K=1: "
          f"{ {c['k']: round(c['wall_vs_k1'], 2) for c in curve} } (goal: K=64 <= 2)")
PY
status=0
[[ $bench_cuda_rc == 0 && $train_rc == 0 && ${bench_cpu_rc:-0} == 0 && ${tests_rc:-0} == 0 &&
  ${population_rc:-0} == 0 ]] || status=1
exit "$status"
