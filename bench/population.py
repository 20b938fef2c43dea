#!/usr/bin/env python3
"""Population sweeps against one seed at a time, on one machine in one sitting.

For each config: the wall time of `vecsac sweep --seeds 0-(S-1)` with --population-size 1
(the seeds one after another) and S (one population), their ratio, and each seed's final
score both ways (they must be equal: agent k of a population is the single run); then the
time per agent of a population of K seeds for each K of --curve. Prints the CPU model and
the thread setting with every table: compare only within one run of this script.

    bench/population.py [--vecsac build/vecsac] [--configs configs/pointmass.json ...]
                        [--seeds 5] [--curve 1 2 4 8 16] [--no-sequential] [--set KEY=VALUE]
                        [--grid KEY=V1,V2,...] [--out DIR] [--json FILE]

With --grid, the one-at-a-time and population sweeps train every seed at every value (the
population holds them all); issue #15's grid goal, for example:
    bench/population.py --configs configs/pendulum.json --seeds 4 --curve \
        --grid sac.learning_rate=3e-4,1e-3,3e-3,1e-2 --set run.threads=2

On a GPU (issue #15's goal: 64 seeds in <= 2x one seed's time), for example:
    bench/population.py --configs configs/pointmass_many_envs.json --no-sequential \
        --curve 1 64 --set run.device=\"cuda\" --set run.total_timesteps=20000000
"""
import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def sweep(vecsac, config, seeds, k, out, extra):
    """Wall seconds of one sweep and its runs' scores, in the order of the sweep's files."""
    shutil.rmtree(out, ignore_errors=True)
    cmd = [vecsac, "sweep", "--config", config, "--seeds", f"0-{seeds - 1}",
           "--population-size", str(k), "--out", out, "--bootstrap-reps", "100", *extra]
    start = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seconds = time.perf_counter() - start
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{r.stdout[-4000:]}")
    scores = []
    grid = os.path.join(out, "grid.json")
    points = [os.path.join(out, p["dir"]) for p in json.load(open(grid))["points"]] \
        if os.path.exists(grid) else [out]
    for point in points:
        with open(os.path.join(point, "aggregate.json")) as f:
            scores += [run["mean_return"] for run in json.load(f)["runs"]]
    return seconds, scores


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--vecsac", default="build/vecsac")
    p.add_argument("--configs", nargs="+",
                   default=["configs/pointmass.json", "configs/pendulum.json"])
    p.add_argument("--seeds", type=int, default=5, help="seeds of the sequential-vs-population run")
    p.add_argument("--curve", type=int, nargs="*", default=[1, 2, 4, 8, 16],
                   help="population sizes of the time-per-agent curve")
    p.add_argument("--no-sequential", action="store_true",
                   help="skip the one-at-a-time sweep (on a GPU: 64 seeds one after another "
                        "take too long; the curve's K=1 is the reference)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="--set for every sweep (e.g. run.threads=2)")
    p.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2,...",
                   help="--grid for the one-at-a-time and population sweeps (not the curve)")
    p.add_argument("--out", default=None, help="scratch directory (default: a temporary one)")
    p.add_argument("--json", default=None, help="write the results here too")
    a = p.parse_args()
    if a.curve and a.curve[0] != 1:
        p.error(f"--curve must start at 1 (the reference of its ratios), got {a.curve}")
    extra = [x for kv in a.set for x in ("--set", kv)]
    scratch = a.out or tempfile.mkdtemp(prefix="vecsac_population_")
    grid = [x for kv in a.grid for x in ("--grid", kv)]
    points = 1
    for kv in a.grid:
        points *= len(kv.split("=", 1)[-1].split(","))
    results = {"cpu": cpu_model(), "cores": os.cpu_count(), "set": a.set, "grid": a.grid,
               "configs": {}}

    def save():  # after every sweep: a stopped or failed run keeps what was measured
        if a.json:
            tmp = a.json + ".partial"
            with open(tmp, "w") as f:
                json.dump(results, f, indent=2)
            os.replace(tmp, a.json)

    print(f"CPU: {results['cpu']} ({results['cores']} cores); --set {a.set or 'none'}"
          f"{'; --grid ' + str(a.grid) if a.grid else ''}")
    for config in a.configs:
        name = os.path.splitext(os.path.basename(config))[0]
        entry = {"seeds": a.seeds, "curve": []}
        results["configs"][name] = entry
        print(f"\n{name}:")
        if not a.no_sequential:
            runs = a.seeds * points
            seq_s, seq_scores = sweep(a.vecsac, config, a.seeds, 1, os.path.join(scratch, "seq"),
                                      extra + grid)
            pop_s, pop_scores = sweep(a.vecsac, config, a.seeds, runs,
                                      os.path.join(scratch, "pop"), extra + grid)
            entry.update({"runs": runs, "sequential_s": seq_s, "population_s": pop_s,
                          "ratio": pop_s / seq_s,
                          "scores_equal": seq_scores == pop_scores, "scores": pop_scores})
            save()
            print(f"{runs} runs one at a time {seq_s:.1f} s, as one population "
                  f"{pop_s:.1f} s: {pop_s / seq_s:.2f}x; per-seed scores "
                  f"{'equal' if entry['scores_equal'] else 'DIFFER'} "
                  f"{[round(s, 4) for s in pop_scores]}")
        if a.curve:
            base = None
            print(f"{'K':>4} {'wall s':>9} {'s per agent':>12} {'vs K=1':>8} {'wall vs K=1':>12}")
            for k in a.curve:
                s, _ = sweep(a.vecsac, config, k, k, os.path.join(scratch, f"k{k}"), extra)
                per = s / k
                base = base or per
                # wall_vs_k1: the GPU goal's measure (64 seeds in <= 2x one seed's time),
                # against the curve's first K.
                entry["curve"].append({"k": k, "seconds": s, "per_agent_s": per,
                                       "per_agent_vs_k1": per / base,
                                       "wall_vs_k1": s / (base * a.curve[0])})
                print(f"{k:>4} {s:>9.1f} {per:>12.2f} {per / base:>8.2f} "
                      f"{s / (base * a.curve[0]):>12.2f}")
                save()
    save()
    if not a.out:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
