#!/usr/bin/env python3
"""`vecsac export-tb` read back by TensorBoard's own EventAccumulator.

Exports a fixture run (tests/data/report_runs/pm_seed0) and checks that TensorBoard
sees every scalar of metrics.jsonl and evals.jsonl, with the logged steps and the
values rounded to float32, and wall times that do not go backwards.

    python tests/tools/export_tb_tensorboard_test.py --vecsac build/vecsac
Exit status: 0 pass, 1 fail.
"""
import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from tensorboard.backend.event_processing import event_accumulator

from support import RUNS, verdict

RUN = RUNS / "pm_seed0"
AXES = {"global_step", "time_s", "train_time_s"}


def expected_scalars(run: Path) -> dict:
    """tag -> [(step, float32 value)] from the run's JSON-lines logs."""
    want = {}
    for name in ("metrics.jsonl", "evals.jsonl"):
        for line in (run / name).read_text().splitlines():
            record = json.loads(line)
            for key, value in record.items():
                if key in AXES or isinstance(value, bool) or not isinstance(value, (int, float)):
                    continue
                want.setdefault(key, []).append((record["global_step"], np.float32(value)))
    return want


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vecsac", required=True, help="the vecsac binary")
    args = parser.parse_args()
    problems = []
    with tempfile.TemporaryDirectory(prefix="vecsac_export_tb_") as tmp:
        run = Path(tmp) / "run"
        shutil.copytree(RUN, run)
        done = subprocess.run([args.vecsac, "export-tb", str(run)], capture_output=True, text=True)
        print(done.stdout + done.stderr, end="")
        if done.returncode != 0:
            print("FAIL: vecsac export-tb exited", done.returncode)
            return 1
        acc = event_accumulator.EventAccumulator(str(run / "tb"),
                                                 size_guidance={event_accumulator.SCALARS: 0})
        acc.Reload()
        want = expected_scalars(run)
        got_tags = sorted(acc.Tags()["scalars"])
        if got_tags != sorted(want):
            problems.append(f"tags: TensorBoard sees {got_tags}, the logs have {sorted(want)}")
        for tag in sorted(set(want) & set(got_tags)):
            events = acc.Scalars(tag)
            got = [(e.step, np.float32(e.value)) for e in events]
            if got != want[tag]:
                problems.append(f"{tag}: TensorBoard reads {got}, the logs have {want[tag]}")
            walls = [e.wall_time for e in events]
            if walls != sorted(walls):
                problems.append(f"{tag}: wall times go backwards: {walls}")
        print(f"TensorBoard read {len(got_tags)} scalar tags, "
              f"{sum(len(acc.Scalars(t)) for t in got_tags)} points")
    return verdict(problems)


if __name__ == "__main__":
    sys.exit(main())
