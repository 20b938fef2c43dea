#!/usr/bin/env python3
"""Time to quality on the point mass: one entrant, one seed.

Trains under a wall-clock cap and evaluates the deterministic policy on the
notebook's 8 starts every --every seconds of training time. Evaluation time is
kept off the training clock, so how often (and how fast) an entrant evaluates
does not change its time. Writes OUT/evals.jsonl in vecsac's format (one line per
evaluation: global_step, time_s, train_time_s, eval/mean_return, eval/returns; the
Python entrants add slot_s) and prints a summary as one JSON line.

Entrants:
  vecsac        build/vecsac train on configs/pointmass.json (its default config)
  vecsac-many-envs  the same on configs/pointmass_many_envs.json (16,384 envs, few
                updates per transition: the fast configuration)
  sb3-default   SB3 SAC with its defaults (lr 3e-4, buffer 1e6, learning_starts 100,
                batch 256, train_freq 1, gradient_steps 1, ent_coef auto), 256-256 nets
  sb3-tuned     the same with rl-baselines3-zoo's Pendulum-v1 hyperparameters (lr 1e-3)
  notebook      the notebook's own SAC and training loop (notebook_sac.py)

The Python entrants evaluate a last time when their clock reaches the cap, then
stop. vecsac is stopped at its first evaluation past the cap, which is not counted.

Pendulum race (issue #14 §7): each entrant trains its own fixed number of steps on
Pendulum-v1, timed without evaluation, then is scored once on 100 deterministic
episodes (mean return; the bar is -160). --cap and --every do not apply.
  vecsac-pendulum   build/vecsac train on configs/pendulum.json (RLtools's shapes: 64-64,
                    batch 100, 1 env, 10k transitions, 1 thread; learning from the
                    5,000th transition, so 5,000 gradient steps), then
                    `vecsac eval --episodes 100`
  rltools-pendulum  RLtools' default SAC (pip rltools; 64-64 nets, batch 100, 1 env,
                    10k steps, MKL on 1 thread) on gymnasium's Pendulum-v1 behind
                    RescaleAction(-1, 1), as RLtools' own example trains it
  sb3-pendulum      SB3 SAC with rl-zoo's Pendulum-v1 hyperparameters (lr 1e-3, 20k steps)
"""
import argparse
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from pointmass_env import QUALITY_BAR, REPO, EVAL_STARTS, PointMassEnv, evaluate, load_starts

PENDULUM_ENTRANTS = ("vecsac-pendulum", "rltools-pendulum", "sb3-pendulum")
ENTRANTS = ("vecsac", "vecsac-many-envs", "sb3-default", "sb3-tuned", "notebook", *PENDULUM_ENTRANTS)
VECSAC_CONFIGS = {"vecsac": REPO / "configs" / "pointmass.json",
                  "vecsac-many-envs": REPO / "configs" / "pointmass_many_envs.json"}
# rl-baselines3-zoo's hyperparams/sac.yml, Pendulum-v1: 1-D torque, quadratic cost and
# 200-step episodes, the zoo's nearest task to the point mass. It sets only this.
SB3_TUNED = dict(learning_rate=1e-3)

# The Pendulum race. rl-zoo reports -157 ± 89 for SB3's SAC at 20k steps; docs/learning.md
# holds vecsac's configs/pendulum.json to the same bar, a mean over 100 episodes.
PENDULUM_BAR = -160.0
PENDULUM_EPISODES = 100
PENDULUM_EVAL_SEED = 1000  # the --seed of docs/learning.md's `vecsac eval` runs
PENDULUM_STEPS = {"vecsac-pendulum": None,      # the config's own run.total_timesteps (20k)
                  "rltools-pendulum": 10_000,   # RLtools' default STEP_LIMIT
                  "sb3-pendulum": 20_000}       # rl-zoo's n_timesteps for Pendulum-v1
RLTOOLS_MODULE = "vecsac_peers"  # RLtools' interface_name: its compile cache under /tmp/rltools


class EvalCadence:
    """A training clock that stops while evaluating. Called after every env step;
    evaluates when the clock passes the next multiple of `every`, appends the result
    to `out`, and returns False once the clock has reached `cap`."""

    def __init__(self, every, cap, out: Path):
        self.every, self.cap = every, cap
        self.out = open(out, "w")

    def start(self, evaluate_policy):
        """Starts the clock; evaluate_policy() returns the returns from the 8 starts."""
        self.evaluate_policy = evaluate_policy
        self.t0 = time.perf_counter()
        self.eval_s = 0.0
        self.next = self.every

    def __call__(self, global_step) -> bool:
        now = time.perf_counter()
        train_time = now - self.t0 - self.eval_s
        # The cap is a multiple of `every` in practice; the min() makes the last
        # evaluation happen at the cap regardless.
        if train_time >= min(self.next, self.cap):
            slot = min(self.next, self.cap)
            self.next += self.every * (math.floor((train_time - self.next) / self.every) + 1)
            returns = self.evaluate_policy()
            line = {"global_step": int(global_step), "time_s": now - self.t0,
                    "train_time_s": train_time, "slot_s": slot,
                    "eval/mean_return": float(np.mean(returns)),
                    "eval/std_return": float(np.std(returns)), "eval/returns": returns}
            self.out.write(json.dumps(line) + "\n")
            self.out.flush()
            self.eval_s += time.perf_counter() - now
        return train_time < self.cap


def read_evals(path: Path) -> list:
    """The complete lines of an evals.jsonl (a line being written is skipped)."""
    if not path.exists():
        return []
    lines = path.read_text().split("\n")[:-1]  # text after the last newline is incomplete
    return [json.loads(line) for line in lines if line.strip()]


def summarize(evals: list, cap: float, bar: float = QUALITY_BAR) -> dict:
    """Time to first reach the bar (train_time_s, null if never), best mean and when,
    over the evaluations within the cap. A Python entrant's evaluation counts when its
    slot (slot_s, the multiple of the cadence or the cap that it fills) is within the
    cap: the final one comes after the env step that crossed the cap. vecsac's
    evaluations fall at step counts and have no slot; those after the cap are left out."""
    evals = [e for e in evals if e.get("slot_s", e["train_time_s"]) <= cap]
    if not evals:
        raise ValueError("no evaluations recorded within the cap")
    reached = next((e for e in evals if e["eval/mean_return"] >= bar), None)
    best = max(evals, key=lambda e: e["eval/mean_return"])
    return {"time_to_bar_s": reached["train_time_s"] if reached else None,
            "step_at_bar": reached["global_step"] if reached else None,
            "best_mean_return": best["eval/mean_return"], "best_at_s": best["train_time_s"],
            "final_mean_return": evals[-1]["eval/mean_return"],
            "trained_s": evals[-1]["train_time_s"], "evaluations": len(evals),
            "eval_time_s": evals[-1]["time_s"] - evals[-1]["train_time_s"]}


# --- Python entrants ---------------------------------------------------------

def run_sb3(args, cadence, starts):
    from stable_baselines3 import SAC
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.logger import Logger

    class Cadence(BaseCallback):
        def _on_training_start(self):
            cadence.start(lambda: evaluate(
                lambda obs: model.predict(obs, deterministic=True)[0], starts))

        def _on_step(self):
            return cadence(self.num_timesteps)

    kwargs = SB3_TUNED if args.entrant == "sb3-tuned" else {}
    model = SAC("MlpPolicy", PointMassEnv(seed=args.seed), policy_kwargs=dict(net_arch=[256, 256]),
                seed=args.seed, device="cpu", verbose=0, **kwargs)
    model.set_logger(Logger(folder=None, output_formats=[]))  # records in memory, writes nothing
    model.learn(total_timesteps=10**12, callback=Cadence())  # the cadence stops it at the cap


def run_notebook(args, cadence, starts):
    import notebook_sac

    notebook_sac.train(args.seed, notebook_sac.notebook_config(fast_run=not args.notebook_full),
                       keep_going=cadence,
                       on_start=lambda agent: cadence.start(lambda: evaluate(agent.policy_batch, starts)))


# --- vecsac --------------------------------------------------------------------

def vecsac_train_cmd(args, out: Path, overrides: dict) -> list:
    cmd = [str(args.vecsac), "train", "--config", str(args.config), "--out", str(out),
           "--set", "run.device=cpu", "--set", f"run.seed={args.seed}"]
    for key, value in overrides.items():
        cmd += ["--set", f"{key}={value}"]
    return cmd


def calibrate_vecsac(args, out: Path) -> float:
    """vecsac's training transitions/s on this machine: a short run past
    learning_starts, from its metrics.jsonl. Used only to turn the cadence and the
    cap (seconds) into run.eval_freq and run.total_timesteps (transitions)."""
    cfg = json.loads(args.config.read_text())
    n_envs, starts = cfg["env"]["num_envs"], cfg["sac"]["learning_starts"]
    interval = 16 * n_envs  # about 1/2 s each on the idle 2-core CPU, for either config
    cmd = vecsac_train_cmd(args, out, {"run.total_timesteps": starts + 4 * interval,
                                       "run.log_interval": interval})
    run_checked(cmd, out / "calibration.log")
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    rows = [r for r in rows if r["global_step"] > starts + interval]  # training at full rate
    sps = (rows[-1]["global_step"] - rows[0]["global_step"]) / (rows[-1]["time_s"] - rows[0]["time_s"])
    return sps, cmd


def run_checked(cmd, log: Path):
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as f:
        rc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT).returncode
    if rc != 0:
        tail = "".join(log.read_text().splitlines(keepends=True)[-5:])
        sys.exit(f"error: {' '.join(cmd)} exited {rc}:\n{tail}")


def run_vecsac(args, out: Path):
    if not Path(args.vecsac).is_file():
        sys.exit(f"error: {args.vecsac} not found; build it first (scripts/setup.sh)")
    n_envs = json.loads(args.config.read_text())["env"]["num_envs"]
    for old in ("calibration", "run"):  # an old evals.jsonl would end the new run at once
        shutil.rmtree(out / old, ignore_errors=True)
    sps, calibration_cmd = calibrate_vecsac(args, out / "calibration")
    eval_freq = max(1, round(args.every * sps / n_envs)) * n_envs
    # The config runs to its own run.total_timesteps, as a user would run it: its
    # learning-rate schedule is defined over that total, so raising it would change training.
    # A run that ends before the cap has its last evaluation as its final word.
    overrides = {"run.eval_freq": eval_freq, "run.eval_init": EVAL_STARTS}
    cmd = vecsac_train_cmd(args, out / "run", overrides)
    evals_path = out / "run" / "evals.jsonl"
    stop = "finished"  # ran out of total_timesteps before the cap
    with open(out / "train.log", "w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 3 * args.cap + 120  # a hung run must not hang the bench
        while proc.poll() is None:
            evals = read_evals(evals_path)
            if evals and "train_time_s" not in evals[-1]:
                stop = "old-format"
            elif evals and evals[-1]["train_time_s"] >= args.cap:
                stop = "cap"
            elif time.monotonic() > deadline:
                stop = "deadline"
            if stop != "finished":
                proc.terminate()  # the run's later steps are not needed
                proc.wait()
                break
            time.sleep(0.2)
    if stop == "old-format":
        sys.exit(f"error: {evals_path} has no train_time_s; this vecsac predates "
                 "run.eval_init and train_time_s in evals.jsonl: rebuild it")
    if proc.returncode not in (0, -signal.SIGTERM):
        tail = "".join((out / "train.log").read_text().splitlines(keepends=True)[-5:])
        sys.exit(f"error: vecsac train exited {proc.returncode}:\n{tail}")
    evals = read_evals(evals_path)
    (out / "evals.jsonl").write_text("".join(json.dumps(e) + "\n" for e in evals))
    return {"vecsac_sps": sps, "eval_freq": eval_freq, "vecsac_stop": stop,
            "commands": [calibration_cmd, cmd]}



# --- Pendulum race ----------------------------------------------------------------

def rescaled_pendulum(seed=None):
    """gymnasium's Pendulum-v1 with actions in [-1, 1], as RLtools' example trains it
    (its tanh policy outputs that range); reset once with `seed` when given."""
    import gymnasium as gym
    # float32 bounds: Python floats make gymnasium warn that it casts float64 to the space's float32.
    env = gym.wrappers.RescaleAction(gym.make("Pendulum-v1"), np.float32(-1), np.float32(1))
    if seed is not None:
        env.reset(seed=seed)
    return env


def pendulum_returns(act, env, episodes=PENDULUM_EPISODES, seed=PENDULUM_EVAL_SEED) -> list:
    """Returns of `episodes` episodes of the deterministic policy act(obs) -> action, each
    to its 200-step truncation; the first reset is seeded, the rest continue its stream."""
    returns = []
    for i in range(episodes):
        obs, _ = env.reset(seed=seed if i == 0 else None)
        total, done = 0.0, False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(act(obs))
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
    return returns


def run_rltools_pendulum(args, steps: int) -> dict:
    # RLtools' own default is MKL on one thread (rltools/src/link_mkl.py sets it when unset);
    # set it here so an MKL_NUM_THREADS in the caller's environment cannot change that.
    os.environ["MKL_NUM_THREADS"] = "1"
    os.environ["RL_TOOLS_FORCE_MKL"] = "1"  # a missing mkl package fails instead of falling back
    import rltools  # (after the variables above: it reads them on import)
    seed = args.seed
    t0 = time.perf_counter()
    # Compiled just in time for these shapes and parameters (cached between runs).
    # Evaluation is off: RLtools' default evaluates 10 episodes every 1000 steps inside
    # step(), which would land on the training clock.
    sac = rltools.SAC(lambda: rescaled_pendulum(seed), STEP_LIMIT=steps, enable_evaluation=False,
                      interface_name=RLTOOLS_MODULE)
    compile_s = time.perf_counter() - t0
    state = sac.State(seed)
    t0 = time.perf_counter()
    while not state.step():
        pass
    train_s = time.perf_counter() - t0
    returns = pendulum_returns(state.action, rescaled_pendulum())
    return {"train_s": train_s, "steps": steps, "returns": returns, "compile_s": compile_s,
            "blas": rltools_backend(), "mkl_threads": os.environ["MKL_NUM_THREADS"]}


def rltools_backend() -> str:
    """The BLAS backend the RLtools module was compiled with, from its cached command line
    (rltools/src/compile.py writes it next to the module)."""
    import rltools
    cmd = Path(rltools.CACHE_PATH) / "build" / f"rltools_sac_{RLTOOLS_MODULE}" / "cmd.txt"
    text = cmd.read_text() if cmd.exists() else ""
    return ("MKL" if "RL_TOOLS_BACKEND_ENABLE_MKL" in text else
            "OpenBLAS" if "RL_TOOLS_BACKEND_ENABLE_OPENBLAS" in text else
            "unknown" if not text else "none (plain loops)")


def run_sb3_pendulum(args, steps: int) -> dict:
    import gymnasium as gym
    import torch
    from stable_baselines3 import SAC
    from stable_baselines3.common.logger import Logger
    torch.set_num_threads(args.threads)
    model = SAC("MlpPolicy", gym.make("Pendulum-v1"), seed=args.seed, device="cpu", verbose=0,
                **SB3_TUNED)  # rl-zoo's Pendulum-v1 entry: lr 1e-3, the rest SB3's defaults
    model.set_logger(Logger(folder=None, output_formats=[]))  # records in memory, writes nothing
    t0 = time.perf_counter()
    model.learn(total_timesteps=steps)
    train_s = time.perf_counter() - t0
    returns = pendulum_returns(lambda obs: model.predict(obs, deterministic=True)[0],
                               gym.make("Pendulum-v1"))
    return {"train_s": train_s, "steps": steps, "returns": returns}


def run_vecsac_pendulum(args, steps) -> dict:
    """Trains with `vecsac train`, then scores with `vecsac eval`. The training time is
    the time_s of the last metrics.jsonl line, which vecsac writes at its final step:
    the training loop's own clock, without start-up, the final checkpoint or eval.json's
    evaluation (configs/pendulum.json has no periodic evaluations)."""
    if not Path(args.vecsac).is_file():
        sys.exit(f"error: {args.vecsac} not found; build it first (scripts/setup.sh)")
    run = args.out / "run"
    shutil.rmtree(run, ignore_errors=True)  # a stale metrics.jsonl would give a stale time
    train = [str(args.vecsac), "train", "--config", str(REPO / "configs" / "pendulum.json"),
             "--out", str(run), "--set", "run.device=cpu", "--set", f"run.seed={args.seed}"]
    if steps is not None:
        train += ["--set", f"run.total_timesteps={steps}"]
    t0 = time.perf_counter()
    run_checked(train, args.out / "train.log")
    wall_s = time.perf_counter() - t0
    last = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])
    score = args.out / "eval100.json"
    evaluate_cmd = [str(args.vecsac), "eval", "--run", str(run), "--episodes",
                    str(PENDULUM_EPISODES), "--seed", str(PENDULUM_EVAL_SEED), "--device", "cpu",
                    "--json", str(score)]
    run_checked(evaluate_cmd, args.out / "eval.log")
    return {"train_s": last["time_s"], "steps": last["global_step"], "wall_s": wall_s,
            "returns": json.loads(score.read_text())["returns"], "commands": [train, evaluate_cmd]}


def run_pendulum(args) -> dict:
    """One race entrant: trains, scores, and returns its summary."""
    steps = args.steps if args.steps is not None else PENDULUM_STEPS[args.entrant]
    run = {"vecsac-pendulum": run_vecsac_pendulum, "rltools-pendulum": run_rltools_pendulum,
           "sb3-pendulum": run_sb3_pendulum}[args.entrant]
    result = run(args, steps)
    returns = result.pop("returns")
    mean = float(np.mean(returns))
    (args.out / "returns.json").write_text(json.dumps(returns) + "\n")
    return {"entrant": args.entrant, "seed": args.seed, "threads": args.threads,
            "episodes": len(returns), "mean_return": mean, "std_return": float(np.std(returns)),
            "bar": PENDULUM_BAR, "reached": mean >= PENDULUM_BAR, **result}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entrant", choices=ENTRANTS, required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cap", type=float, default=300.0, help="training wall-clock cap, s")
    ap.add_argument("--every", type=float, default=5.0, help="evaluation cadence, s of training")
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)),
                    help="torch threads (OMP_NUM_THREADS for vecsac)")
    ap.add_argument("--out", type=Path, required=True, help="directory for evals.jsonl and logs")
    ap.add_argument("--vecsac", type=Path, default=REPO / "build" / "vecsac")
    ap.add_argument("--notebook-full", action="store_true",
                    help="notebook entrant: FAST_RUN = False config (the notebook ran FAST_RUN = True)")
    ap.add_argument("--steps", type=int,
                    help="Pendulum entrants: training steps instead of each one's own "
                    "(" + ", ".join(f"{e} {s or 'its config'}" for e, s in PENDULUM_STEPS.items())
                    + "); for smoke tests")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    extra = {}
    if args.entrant in PENDULUM_ENTRANTS:
        summary = run_pendulum(args)
        (args.out / "summary.json").write_text(json.dumps(summary, default=str) + "\n")
        print(json.dumps(summary, default=str))
        return
    if args.entrant in VECSAC_CONFIGS:
        args.config = VECSAC_CONFIGS[args.entrant]
        extra = run_vecsac(args, args.out)
    else:
        import torch
        torch.set_num_threads(args.threads)
        cadence = EvalCadence(args.every, args.cap, args.out / "evals.jsonl")
        starts = load_starts()
        (run_sb3 if args.entrant.startswith("sb3") else run_notebook)(args, cadence, starts)
        cadence.out.close()
    summary = {"entrant": args.entrant, "seed": args.seed, "cap_s": args.cap,
               "every_s": args.every, "threads": args.threads,
               **summarize(read_evals(args.out / "evals.jsonl"), args.cap), **extra}
    (args.out / "summary.json").write_text(json.dumps(summary, default=str) + "\n")
    print(json.dumps(summary, default=str))


if __name__ == "__main__":
    main()
