#!/usr/bin/env python3
"""The main job as a user runs it (issue #14's point-mass goal): `vecsac train` on
configs/pointmass.json for one seed on the CPU, then its policy scored on the notebook's 8
starts and on 256 starts from the env's reset distribution. Prints one JSON object.

  main_job.py --seed 0 --threads 2 --out runs/peers/main-job-seed0 [--vecsac build/vecsac]

The training time is `time_s` of the run's last metrics.jsonl line: the training loop's own
clock at its final step (no start-up, no final checkpoint, no evaluation).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from pointmass_env import REPO, EVAL_STARTS

CONFIG = REPO / "configs" / "pointmass.json"
RANDOM_STARTS, RANDOM_SEED = 256, 7  # docs/learning.md's random-start column


def run(cmd, env, log_path: Path) -> None:
    with open(log_path, "w") as log:
        proc = subprocess.run(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        sys.exit(f"error: exit status {proc.returncode} from {' '.join(map(str, cmd))}; "
                 f"its output is in {log_path}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--vecsac", type=Path, default=REPO / "build" / "vecsac")
    args = ap.parse_args()
    if args.out.exists():
        shutil.rmtree(args.out)  # a directory of this script's own making, from an earlier run
    args.out.mkdir(parents=True)
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    run_dir = args.out / "run"
    train = [str(args.vecsac), "train", "--config", str(CONFIG), "--out", str(run_dir),
             "--set", "run.device=cpu", "--set", f"run.seed={args.seed}",
             "--set", f"run.threads={args.threads}"]
    run(train, env, args.out / "train.log")
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    last = json.loads(lines[-1])
    scores = {}
    for name, how in (("notebook", ["--init", str(EVAL_STARTS)]),
                      ("random", ["--episodes", str(RANDOM_STARTS), "--seed", str(RANDOM_SEED)])):
        out = args.out / f"eval_{name}.json"
        run([str(args.vecsac), "eval", "--run", str(run_dir), *how, "--json", str(out)], env,
            args.out / f"eval_{name}.log")
        scores[name] = json.loads(out.read_text())
    print(json.dumps({
        "seed": args.seed, "train_s": last["time_s"], "global_step": last["global_step"],
        "notebook_mean": scores["notebook"]["mean"],
        "notebook_gap": scores["notebook"]["optimality_gap"],
        "random_mean": scores["random"]["mean"], "random_gap": scores["random"]["optimality_gap"],
        "commands": [train]}))


if __name__ == "__main__":
    main()
