#!/usr/bin/env python3
"""The main job beside a busy neighbour: does vecsac share a machine gracefully?

Trains configs/pointmass.json (or --config) with `vecsac train` in each condition, the
conditions interleaved round by round so that the machine's drift hits them alike:

  alone       default threads        alone       1 thread (run.threads=1)
  nice0       default threads        nice0       1 thread
  nice19      default threads        nice19      1 thread

where the neighbour is one busy process (a Python spin loop) pinned to the last CPU, at nice 0
or nice 19. Each run's training time is vecsac's own "trained N transitions in S s" line.
Reports, per neighbour, the median time of each thread setting and the median of the
pairwise ratios default / 1 thread (round by round), and the same against `--baseline`
(another build's vecsac, run in the same rounds) where given.

Before every run the CPUs must be idle but for the neighbour (checked over 0.5 s of
/proc/stat: at most --idle-tolerance of a CPU busy beyond it); a run that starts on a busy
machine is retried once and otherwise marked void. The CPU model, its vector flags and the
load average before and after are printed.

  bench/contention.py [--rounds 5] [--vecsac build/vecsac] [--baseline OTHER/vecsac]
                      [--conditions alone,nice0,nice19] [--out runs/contention.json]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench" / "peers"))
from pairs import busy_cpus, cpu_facts  # noqa: E402  (the same idle check as the peer pairs)
SPIN = "while True: pass"


def start_neighbour(nice: int) -> subprocess.Popen:
    last = str(os.cpu_count() - 1)
    return subprocess.Popen(["nice", "-n", str(nice), "taskset", "-c", last, sys.executable, "-c",
                             SPIN])


def train_seconds(vecsac: str, config: str, threads: int | None, work: Path) -> float:
    out = work / "run"
    cmd = [vecsac, "train", "--config", config, "--out", str(out), "--overwrite"]
    if threads is not None:
        cmd += ["--set", f"run.threads={threads}"]
    r = subprocess.run(cmd, capture_output=True, text=True, check=False)
    m = re.search(r"trained \d+ transitions in ([0-9.]+) s", r.stdout)
    if r.returncode != 0 or not m:
        raise SystemExit(f"error: {' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}{r.stderr}")
    return float(m.group(1))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--vecsac", default=str(REPO / "build" / "vecsac"))
    p.add_argument("--baseline", help="another build's vecsac, run beside --vecsac each round")
    p.add_argument("--config", default=str(REPO / "configs" / "pointmass.json"))
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--conditions", default="alone,nice0,nice19")
    p.add_argument("--idle-tolerance", type=float, default=0.15,
                   help="CPUs' worth of other load allowed before a run (default 0.15)")
    p.add_argument("--out", type=Path)
    args = p.parse_args()
    conditions = args.conditions.split(",")
    for c in conditions:
        if c not in ("alone", "nice0", "nice19"):
            raise SystemExit(f"error: --conditions: unknown {c!r}; allowed: alone, nice0, nice19")
    builds = {"vecsac": args.vecsac}
    if args.baseline:
        builds["baseline"] = args.baseline
    facts = cpu_facts()
    facts["loadavg_before"] = Path("/proc/loadavg").read_text().split()[:3]
    print(json.dumps(facts), flush=True)
    times: dict = {}
    void = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for rnd in range(args.rounds):
            for cond in conditions:
                neighbour = None if cond == "alone" else start_neighbour(0 if cond == "nice0" else 19)
                try:
                    time.sleep(0.5)  # the neighbour up to speed
                    for build, exe in builds.items():
                        for threads in (None, 1):
                            key = f"{cond}/{build}/{'default' if threads is None else '1 thread'}"
                            expected = 0.0 if neighbour is None else 1.0
                            extra = busy_cpus() - expected
                            if extra > args.idle_tolerance:
                                time.sleep(2)
                                extra = busy_cpus() - expected
                            s = train_seconds(exe, args.config, threads, work)
                            if extra > args.idle_tolerance:
                                void.append({"round": rnd, "run": key, "other_load": extra, "s": s})
                                print(f"VOID {key}: {extra:.2f} CPUs busy beside it", flush=True)
                                continue
                            times.setdefault(key, []).append(s)
                            print(f"round {rnd} {key}: {s:.2f} s", flush=True)
                finally:
                    if neighbour is not None:
                        neighbour.kill()
                        neighbour.wait()
    facts["loadavg_after"] = Path("/proc/loadavg").read_text().split()[:3]
    summary = {}
    for cond in conditions:
        for build in builds:
            d = times.get(f"{cond}/{build}/default", [])
            one = times.get(f"{cond}/{build}/1 thread", [])
            n = min(len(d), len(one))
            summary[f"{cond}/{build}"] = {
                "default_median_s": statistics.median(d) if d else None,
                "one_thread_median_s": statistics.median(one) if one else None,
                "default_over_one_thread": statistics.median(d[i] / one[i] for i in range(n)) if n else None,
            }
            if build == "baseline":
                base = times.get(f"{cond}/baseline/default", [])
                n2 = min(len(d := times.get(f"{cond}/vecsac/default", [])), len(base))
                if n2:
                    summary[f"{cond}/vecsac_over_baseline_default"] = statistics.median(
                        d[i] / base[i] for i in range(n2))
    result = {"facts": facts, "times": times, "void": void, "summary": summary,
              "args": {k: str(v) for k, v in vars(args).items()}}
    print(json.dumps(summary, indent=1))
    print(f"load average after: {' '.join(facts['loadavg_after'])}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.out.with_suffix(".tmp")
        tmp.write_text(json.dumps(result, indent=1))
        tmp.replace(args.out)


if __name__ == "__main__":
    main()
