#!/usr/bin/env python3
"""SAC updates per second at batch B, 256-256 nets (or --shapes default), float32 on the CPU, for:

  vecsac  BM_SacUpdate_Cpu/B of build/vecsac_bench (one SacLearner::update; batches
          sampled before the timed region), its items_per_second
  eager   the notebook's SACAgent.update (notebook_sac.py) in plain PyTorch eager
          mode, fed 8 batches sampled before timing, used in turn, as BM_SacUpdate does
  sb3     stable-baselines3's SAC.train(gradient_steps=G, batch_size=B) on a replay
          buffer holding 10k random transitions; its time includes SB3's own replay
          sampling, which cannot be separated from train()
  sbx     sbx-rl's (SB3's JAX port) jitted SAC._train, which fuses --gradient-steps
          gradient steps into one call (a lax.fori_loop), as sbx's SAC.train() runs it when
          gradient_steps > 1; fed 8 chunks of gradient_steps x B transitions sampled before
          timing, used in turn. JAX on the CPU.

All on point-mass shapes (obs 2, act 1, actions in [-2, 2]). Each measurement
warms up for --warmup seconds, then runs whole calls for at least --min-time
seconds and reports calls x updates per call / elapsed wall time.

--shapes default uses configs/pointmass.json's networks (read from it); --shapes main also its
batch size and gradient steps (the main job's own shapes). Both are for sbx and vecsac only:
vecsac runs BM_SacUpdateDefault_Cpu/B or BM_SacUpdateMainJob_Cpu/B (one update at those
widths on pre-sampled batches, as BM_SacUpdate does at 256-256).

  update_throughput.py --impl eager --batch 256 [--min-time 2 --warmup 0.5 --threads N]
  update_throughput.py --impl sbx --shapes default --batch 1024 --gradient-steps 16
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
# Per sbx _train() call: the default config's gradient_steps, which sbx fuses into one call.
SBX_GRADIENT_STEPS = 16
MAIN_CONFIG = REPO / "configs" / "pointmass.json"


def main_job_shapes() -> dict:
    """configs/pointmass.json's networks, batch and gradient steps, read from the file (never
    copied by hand: the comparison follows the config)."""
    sac = json.loads(MAIN_CONFIG.read_text())["sac"]
    arch = sac["policy_kwargs"]["net_arch"]
    return {"net_arch": {"pi": list(arch["pi"]), "qf": list(arch["qf"])},
            "batch": int(sac["batch_size"]), "gradient_steps": int(sac["gradient_steps"])}


# "256": the width the update is specified and compared with peers at; "default": the main
# job's networks at any batch; "main": its networks, batch and gradient steps (--batch and
# --gradient-steps are then the config's).
NET_ARCH = {"256": [256, 256], "default": main_job_shapes()["net_arch"],
            "main": main_job_shapes()["net_arch"]}


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


def sbx_update(batch_size: int, gradient_steps: int, net_arch):
    """A call that runs sbx's jitted SAC._train once: gradient_steps updates of batch B,
    on chunks sampled before timing. The states it returns feed the next call, as in
    training, so the optimizers' moments and the target nets evolve."""
    os.environ.setdefault("JAX_PLATFORMS", "cpu")  # CPU, as the others; no accelerator probing
    import jax
    from sbx import SAC
    model = SAC("MlpPolicy", PointMassEnv(), policy_kwargs=dict(net_arch=net_arch),
                batch_size=batch_size, gradient_steps=gradient_steps, seed=0, verbose=0)
    obs, act, rew, next_obs, done = random_transitions(REPLAY_FILL)
    scaled_act = act / 2.0  # SB3's buffers, and so sbx's, store actions scaled to [-1, 1]
    rng = np.random.default_rng(1)
    chunks = []
    for _ in range(EAGER_BATCHES):
        i = rng.integers(0, REPLAY_FILL, batch_size * gradient_steps)
        # The layout SAC.train() hands _train, already on the device, so no host copy is timed.
        chunks.append(jax.device_put(_sbx_samples(obs[i], scaled_act[i], next_obs[i], done[i],
                                                  rew[i], model.gamma)))
    chunks = itertools.cycle(chunks)
    state = {"qf": model.policy.qf_state, "actor": model.policy.actor_state,
             "ent": model.ent_coef_state, "key": model.key}

    def call():
        qf, actor, ent, key, losses = SAC._train(
            model.tau, model.target_entropy, gradient_steps, next(chunks), model.policy_delay,
            0, state["qf"], state["actor"], state["ent"], state["key"])  # policy_delay 1: offset 0
        # JAX dispatches asynchronously: wait for the result, or only the launch is timed.
        jax.block_until_ready((qf, actor, ent, key, losses))
        state.update(qf=qf, actor=actor, ent=ent, key=key)
        return gradient_steps
    call()  # the jit compiles here (seconds), so that --warmup warms up rather than compiles
    return call


def limit_cpus(threads: int) -> None:
    """XLA sizes its CPU thread pool itself and has no thread-count setting; pinning the
    process to `threads` cores bounds its parallelism to what the others get."""
    cpus = sorted(os.sched_getaffinity(0))
    if threads < len(cpus):
        os.sched_setaffinity(0, cpus[:threads])


def _sbx_samples(obs, act, next_obs, done, rew, gamma):
    from sbx.common.type_aliases import ReplayBufferSamplesNp
    return ReplayBufferSamplesNp(obs, act, next_obs, done, rew, np.full(len(rew), gamma, np.float32))


def vecsac_cmd(bench: Path, batch_size: int, min_time: float, warmup: float,
               shapes: str = "256") -> list:
    family = {"256": "BM_SacUpdate_Cpu", "default": "BM_SacUpdateDefault_Cpu",
              "main": "BM_SacUpdateMainJob_Cpu"}[shapes] + f"/{batch_size}"
    return [str(bench), f"--benchmark_filter=^{family}/",
            "--benchmark_format=json", f"--benchmark_min_time={min_time}",
            f"--benchmark_min_warmup_time={warmup}", "--benchmark_repetitions=1"]


def vecsac_update_rate(bench: Path, batch_size: int, min_time: float, warmup: float,
                       threads: int, shapes: str = "256") -> float:
    """items_per_second of BM_SacUpdate_Cpu/B (BM_SacUpdateDefault_Cpu/B with shapes
    "default"), run with `threads` torch threads (vecsac_bench sizes its pool from
    OMP_NUM_THREADS)."""
    if not Path(bench).is_file():
        raise SystemExit(f"error: {bench} not found; build it first (scripts/setup.sh)")
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    out = subprocess.run(vecsac_cmd(bench, batch_size, min_time, warmup, shapes), env=env,
                         check=True, stdout=subprocess.PIPE, text=True).stdout
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
    ap.add_argument("--impl", choices=("vecsac", "eager", "sb3", "sbx"), required=True)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--shapes", choices=tuple(NET_ARCH), default="256",
                    help="networks: 256-256, or configs/pointmass.json's (sbx and vecsac only)")
    ap.add_argument("--gradient-steps", type=int, default=SBX_GRADIENT_STEPS,
                    help="sbx: gradient steps fused into one _train call")
    ap.add_argument("--min-time", type=float, default=2.0)
    ap.add_argument("--warmup", type=float, default=0.5)
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--vecsac-bench", type=Path, default=REPO / "build" / "vecsac_bench")
    args = ap.parse_args()
    if args.shapes != "256" and args.impl not in ("vecsac", "sbx"):
        ap.error(f"--shapes {args.shapes} is for --impl vecsac or sbx")
    if args.shapes == "main":
        main_job = main_job_shapes()
        args.batch, args.gradient_steps = main_job["batch"], main_job["gradient_steps"]
    torch.set_num_threads(args.threads)
    result = {"impl": args.impl, "batch": args.batch, "shapes": args.shapes, "threads": args.threads}
    if args.impl == "vecsac":
        result["updates_per_s"] = vecsac_update_rate(args.vecsac_bench, args.batch, args.min_time,
                                                     args.warmup, args.threads, args.shapes)
        result["commands"] = [vecsac_cmd(args.vecsac_bench, args.batch, args.min_time, args.warmup,
                                         args.shapes)]
    elif args.impl == "sbx":
        limit_cpus(args.threads)
        result["gradient_steps"] = args.gradient_steps
        result["updates_per_s"] = measure(sbx_update(args.batch, args.gradient_steps,
                                                     NET_ARCH[args.shapes]),
                                          args.min_time, args.warmup)
    else:
        make = eager_update if args.impl == "eager" else sb3_update
        result["updates_per_s"] = measure(make(args.batch), args.min_time, args.warmup)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
