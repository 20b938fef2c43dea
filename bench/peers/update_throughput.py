#!/usr/bin/env python3
"""SAC updates per second at batch B, 256-256 nets, float32 on the CPU, for:

  vecsac  BM_SacUpdate_Cpu/B of build/vecsac_bench (one SacLearner::update; batches
          sampled before the timed region), its items_per_second
  eager   the notebook's SACAgent.update (notebook_sac.py) in plain PyTorch eager
          mode, fed 8 batches sampled before timing, used in turn, as BM_SacUpdate does
  sb3     stable-baselines3's SAC.train(gradient_steps=G, batch_size=B) on a replay
          buffer holding 10k random transitions; its time includes SB3's own replay
          sampling, which cannot be separated from train()

All on point-mass shapes (obs 2, act 1, actions in [-2, 2]). Each measurement
warms up for --warmup seconds, then runs whole calls for at least --min-time
seconds and reports calls x updates per call / elapsed wall time.

  update_throughput.py --impl eager --batch 256 [--min-time 2 --warmup 0.5 --threads N]
"""
import argparse
import itertools
import json
import os
import subprocess
import time
from pathlib import Path

import numpy as np
import torch

from pointmass_env import REPO, PointMassEnv

REPLAY_FILL = 10_000  # random transitions in the replay buffers the batches are drawn from
EAGER_BATCHES = 8     # as BM_SacUpdate: a few distinct batches, used in turn
SB3_GRADIENT_STEPS = 1  # per train() call: SB3's default train_freq 1 / gradient_steps 1


def random_transitions(n: int, seed: int = 0):
    """n random point-mass transitions: obs, act (env units), rew, next_obs, done."""
    rng = np.random.default_rng(seed)
    f32 = lambda *shape, lo=-1.0, hi=1.0: rng.uniform(lo, hi, shape).astype(np.float32)  # noqa: E731
    return f32(n, 2), f32(n, 1, lo=-2.0, hi=2.0), f32(n, lo=-1.0, hi=0.0), f32(n, 2), np.zeros(n, np.float32)


def measure(call, min_time: float, warmup: float) -> float:
    """Updates/s of `call`, which runs some updates and returns how many."""
    end = time.perf_counter() + warmup
    while time.perf_counter() < end:
        call()
    updates, start = 0, time.perf_counter()
    while True:
        updates += call()
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return updates / elapsed


def eager_update(batch_size: int):
    """A call that runs the notebook's SACAgent.update once on a pre-sampled batch."""
    import notebook_sac
    agent = notebook_sac.make_agent(notebook_sac.SACConfig(batch_size=batch_size))
    buffer = notebook_sac.ReplayBuffer(2, 1, size=REPLAY_FILL)
    for t in zip(*random_transitions(REPLAY_FILL)):
        buffer.store(*t)
    batches = itertools.cycle([buffer.sample_batch(batch_size, torch.device("cpu"))
                               for _ in range(EAGER_BATCHES)])

    def call():
        agent.update(next(batches))
        return 1
    return call


def sb3_update(batch_size: int, gradient_steps: int = SB3_GRADIENT_STEPS):
    """A call that runs SB3's SAC.train(gradient_steps, batch_size) once."""
    from stable_baselines3 import SAC
    from stable_baselines3.common.logger import Logger
    model = SAC("MlpPolicy", PointMassEnv(), policy_kwargs=dict(net_arch=[256, 256]),
                batch_size=batch_size, device="cpu", seed=0, verbose=0)
    # train() records its losses in the logger; learn() would configure one. This one
    # keeps the values in memory and writes nothing, so no I/O is timed.
    model.set_logger(Logger(folder=None, output_formats=[]))
    obs, act, rew, next_obs, done = random_transitions(REPLAY_FILL)
    scaled_act = act / 2.0  # SB3 stores actions scaled to [-1, 1]
    for i in range(REPLAY_FILL):
        model.replay_buffer.add(obs[i:i + 1], next_obs[i:i + 1], scaled_act[i:i + 1],
                                rew[i:i + 1], done[i:i + 1], [{}])

    def call():
        model.train(gradient_steps=gradient_steps, batch_size=batch_size)
        return gradient_steps
    return call


def vecsac_cmd(bench: Path, batch_size: int, min_time: float, warmup: float) -> list:
    return [str(bench), f"--benchmark_filter=^BM_SacUpdate_Cpu/{batch_size}/",
            "--benchmark_format=json", f"--benchmark_min_time={min_time}",
            f"--benchmark_min_warmup_time={warmup}", "--benchmark_repetitions=1"]


def vecsac_update_rate(bench: Path, batch_size: int, min_time: float, warmup: float,
                       threads: int) -> float:
    """items_per_second of BM_SacUpdate_Cpu/B, run with `threads` torch threads
    (vecsac_bench sizes its pool from OMP_NUM_THREADS)."""
    if not Path(bench).is_file():
        raise SystemExit(f"error: {bench} not found; build it first (scripts/setup.sh)")
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    out = subprocess.run(vecsac_cmd(bench, batch_size, min_time, warmup), env=env, check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    report = json.loads(out)
    got = report["context"].get("torch_threads")
    if got != str(threads):
        raise SystemExit(f"error: vecsac_bench ran with torch_threads={got}, wanted {threads}")
    (row,) = [b for b in report["benchmarks"] if b.get("run_type") == "iteration"]
    if "error_occurred" in row:
        raise SystemExit(f"error: {row['name']}: {row.get('error_message')}")
    return row["items_per_second"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--impl", choices=("vecsac", "eager", "sb3"), required=True)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--min-time", type=float, default=2.0)
    ap.add_argument("--warmup", type=float, default=0.5)
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--vecsac-bench", type=Path, default=REPO / "build" / "vecsac_bench")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    result = {"impl": args.impl, "batch": args.batch, "threads": args.threads}
    if args.impl == "vecsac":
        result["updates_per_s"] = vecsac_update_rate(args.vecsac_bench, args.batch, args.min_time,
                                                     args.warmup, args.threads)
        result["commands"] = [vecsac_cmd(args.vecsac_bench, args.batch, args.min_time, args.warmup)]
    else:
        make = eager_update if args.impl == "eager" else sb3_update
        result["updates_per_s"] = measure(make(args.batch), args.min_time, args.warmup)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
