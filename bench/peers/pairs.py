#!/usr/bin/env python3
"""Two implementations timed in turn, A B A B ..., on an idle machine: the median of the
pairwise ratios A/B, the one figure this machine's drift (up to 1.5x between repetitions of one
binary) leaves standing.

Each side is a command that prints one JSON object with a rate (--key, default
"updates_per_s") on its last line, e.g. update_throughput.py's. Before every run the CPUs
must be idle (over 0.5 s of /proc/stat, at most --idle-tolerance CPUs busy); a run that starts
on a busy machine is retried after a pause and, if still busy, its pair is void and not
counted. The CPU model, its vector flags, and the load average before and after are printed
with the result.

  pairs.py --pairs 10 --label main-job \\
      --a "python bench/peers/update_throughput.py --impl vecsac --shapes main" \\
      --b "python bench/peers/update_throughput.py --impl sbx --shapes main" [--out FILE]
"""
import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path


def cpu_facts() -> dict:
    model, flags = "unknown", []
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name") and model == "unknown":
            model = line.split(":", 1)[1].strip()
        if line.startswith("flags") and not flags:
            flags = [f for f in line.split(":", 1)[1].split()
                     if f.startswith(("avx", "amx")) or f in ("fma", "f16c")]
    return {"cpu_model": model, "cpu_flags": " ".join(flags), "cpus": os.cpu_count()}


def busy_cpus(seconds: float = 0.5) -> float:
    """CPUs' worth of non-idle time over `seconds` (/proc/stat's first line)."""
    def sample():
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(fields[:8]), fields[3] + fields[4]
    t0, i0 = sample()
    time.sleep(seconds)
    t1, i1 = sample()
    return 0.0 if t1 <= t0 else ((t1 - t0) - (i1 - i0)) / (t1 - t0) * os.cpu_count()


def idle_or_void(tolerance: float) -> float:
    """The other load just before a run, after one pause if the first look was busy."""
    load = busy_cpus()
    if load > tolerance:
        time.sleep(3)
        load = busy_cpus()
    return load


def run(cmd: str, key: str) -> float:
    r = subprocess.run(shlex.split(cmd), capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise SystemExit(f"error: {cmd} failed ({r.returncode}):\n{r.stdout[-2000:]}{r.stderr[-2000:]}")
    return float(json.loads(r.stdout.strip().splitlines()[-1])[key])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--a", required=True, help="command A (the ratio's numerator)")
    ap.add_argument("--b", required=True, help="command B")
    ap.add_argument("--pairs", type=int, default=10)
    ap.add_argument("--key", default="updates_per_s")
    ap.add_argument("--label", default="")
    ap.add_argument("--idle-tolerance", type=float, default=0.15)
    ap.add_argument("--out", type=Path, help="append the result as one JSON line")
    args = ap.parse_args()
    if args.pairs < 1:
        ap.error("--pairs must be at least 1")
    facts = cpu_facts()
    facts["loadavg_before"] = Path("/proc/loadavg").read_text().split()[:3]
    a, b, void = [], [], []
    for i in range(args.pairs):
        pair = {}
        for side, cmd in (("a", args.a), ("b", args.b)):
            other = idle_or_void(args.idle_tolerance)
            pair[side] = run(cmd, args.key)
            pair[side + "_other_load"] = round(other, 3)
        if max(pair["a_other_load"], pair["b_other_load"]) > args.idle_tolerance:
            void.append(pair)
            print(f"pair {i}: VOID (other load {pair['a_other_load']}, {pair['b_other_load']})",
                  file=sys.stderr, flush=True)
            continue
        a.append(pair["a"])
        b.append(pair["b"])
        print(f"pair {i}: A {pair['a']:.1f}  B {pair['b']:.1f}  A/B {pair['a'] / pair['b']:.3f}",
              file=sys.stderr, flush=True)
    facts["loadavg_after"] = Path("/proc/loadavg").read_text().split()[:3]
    ratios = [x / y for x, y in zip(a, b)]
    result = {"label": args.label, "a": args.a, "b": args.b, "key": args.key,
              "pairs_counted": len(ratios), "pairs_void": len(void), **facts,
              "a_values": a, "b_values": b,
              "a_median": statistics.median(a) if a else None,
              "b_median": statistics.median(b) if b else None,
              "ratio_median": statistics.median(ratios) if ratios else None,
              "ratio_min": min(ratios) if ratios else None,
              "ratio_max": max(ratios) if ratios else None}
    print(json.dumps(result))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with args.out.open("a") as f:
            f.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
