#!/usr/bin/env python3
"""Cross-check `vecsac rollout` against Python references of its environments.

Checks, each over N envs x T=200 steps from given initial states and random
actions in [-3, 3] (beyond the +-2 limits, so clipping is exercised):

* pointmass, dim=1: the seed notebook's ContinuousPointMass1DEnv (copied from
  ../shared/seed/sac_notebook.txt). obs must be bit-identical float32 and the
  reward must equal np.float32(reference reward) exactly.
* pointmass, dim=3: the same equations per axis, reward = -sum of the axis
  costs in axis order; same exactness as dim=1.
* pendulum: gymnasium's Pendulum-v1 (unwrapped), with env.state re-rounded to
  float32 after every step and obs taken from that rounded state (vecsac stores
  its state in float32, computes each step in double and observes the stored
  state). obs and reward must agree within 1e-6 (abs + rel).
  Informational only: the same gymnasium run without re-rounding (pure float64
  state), and with float32 actions (NumPy 2 then does u**2 and 3*u in float32).

* mountaincar: gymnasium's MountainCarContinuous-v0 (unwrapped), each step from vecsac's
  previous observation, until the episode ends; obs and reward bit-identical, terminated
  equal, and at least one env must reach the goal.

The point-mass and pendulum checks also need terminated == False and truncated == (t == 199); after
step 200 vecsac auto-resets from its own RNG, so only t < 200 is compared.

Run (from the repo root):
    /root/.cache/vecsac/venv/bin/python tools/crosscheck_envs.py [--vecsac build/vecsac]
Exit status: 0 when every exact check passes, 1 otherwise.
"""
import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

T = 200  # one full episode: truncation at step 200, then vecsac auto-resets
ATOL = RTOL = 1e-6  # pendulum tolerance (with re-rounding)


class ContinuousPointMass1DEnv:
    """Copied from the seed notebook (step arithmetic unchanged; rng/reset dropped)."""

    def __init__(self, dt: float = 0.05, max_steps: int = 200, action_limit: float = 2.0):
        self.dt = float(dt)
        self.max_steps = int(max_steps)
        self._action_limit = float(action_limit)
        self.action_low = np.array([-self._action_limit], dtype=np.float32)
        self.action_high = np.array([+self._action_limit], dtype=np.float32)
        self.t = 0
        self.state = np.zeros(2, dtype=np.float32)

    def step(self, action):
        a = float(np.asarray(action, dtype=np.float32).reshape(-1)[0])
        a = float(np.clip(a, self.action_low[0], self.action_high[0]))
        pos, vel = float(self.state[0]), float(self.state[1])
        vel = vel + self.dt * a
        pos = pos + self.dt * vel
        self.state = np.array([pos, vel], dtype=np.float32)
        reward = -(pos * pos + 0.1 * vel * vel + 0.001 * a * a)
        self.t += 1
        truncated = self.t >= self.max_steps
        return self.state.copy(), float(reward), False, truncated, {}


def pointmass_nd_step(state, action, dim, dt=0.05, limit=2.0):
    """dim-axis generalization: the notebook's equations per axis, costs summed in axis order."""
    new = state.copy()
    cost = 0.0
    for j in range(dim):
        a = float(np.clip(float(action[j]), -limit, limit))
        vel = float(state[dim + j]) + dt * a
        pos = float(state[j]) + dt * vel
        new[j], new[dim + j] = np.float32(pos), np.float32(vel)
        cost += pos * pos + 0.1 * vel * vel + 0.001 * a * a
    return new, -cost


def run_vecsac(exe, env, dim, states, actions, tmp, device):
    """Runs `vecsac rollout` on float32 states [N][S] and actions [T][N][A]; returns parsed JSON."""
    tmp = Path(tmp)
    # float(np.float32) is exact in double and repr round-trips, so vecsac reads the same float32.
    (tmp / "init.json").write_text(json.dumps({"states": states.astype(np.float64).tolist()}))
    (tmp / "actions.json").write_text(json.dumps({"actions": actions.astype(np.float64).tolist()}))
    cmd = [str(exe), "rollout", "--env", env, "--dim", str(dim), "--init", str(tmp / "init.json"),
           "--actions", str(tmp / "actions.json"), "--out", str(tmp / "out.json"), "--device", device]
    subprocess.run(cmd, check=True)
    out = json.loads((tmp / "out.json").read_text())
    return {k: np.asarray(v, dtype=np.bool_ if k in ("terminated", "truncated") else np.float32)
            for k, v in out.items()}


def ulp_diff(a, b):
    """Distance in float32 units in the last place (monotone integer mapping of the bits)."""
    def key(x):
        i = np.asarray(x, dtype=np.float32).view(np.int32).astype(np.int64)
        return np.where(i < 0, -(i & 0x7FFFFFFF), i)
    return int(np.max(np.abs(key(a) - key(b)))) if np.size(a) else 0


def flags_ok(out):
    want = np.zeros_like(out["truncated"])
    want[T - 1] = True
    return bool(np.array_equal(out["truncated"], want) and not out["terminated"].any())


def compare(name, ref_obs, ref_rew, out, exact, informational=False):
    """One result row: ref_obs float32 [T][N][O], ref_rew float64 [T][N]."""
    rew32 = ref_rew.astype(np.float32)
    d_obs = np.abs(ref_obs.astype(np.float64) - out["obs"].astype(np.float64))
    d_rew = np.abs(rew32.astype(np.float64) - out["reward"])
    if exact:
        ok = np.array_equal(ref_obs.view(np.int32), out["obs"].view(np.int32)) and \
             np.array_equal(rew32, out["reward"])
    else:
        ok = bool(np.all(d_obs <= ATOL + RTOL * np.abs(ref_obs)) and
                  np.all(d_rew <= ATOL + RTOL * np.abs(ref_rew)))
    ok = ok and flags_ok(out)
    return dict(name=name, obs_abs=d_obs.max(), obs_ulp=ulp_diff(ref_obs, out["obs"]),
                rew_abs=d_rew.max(), rew_ulp=ulp_diff(rew32, out["reward"]),
                flags=flags_ok(out), ok=ok, info=informational)


def check_pointmass(exe, tmp, rng, n, dim, device):
    states = np.concatenate([rng.uniform(-1, 1, (n // 2, 2 * dim)),
                             rng.uniform(-3, 3, (n - n // 2, 2 * dim))]).astype(np.float32)
    actions = rng.uniform(-3, 3, (T, n, dim)).astype(np.float32)
    out = run_vecsac(exe, "pointmass", dim, states, actions, tmp, device)
    init_ok = np.array_equal(out["initial_obs"], states)
    ref_obs = np.zeros((T, n, 2 * dim), np.float32)
    ref_rew = np.zeros((T, n))
    for i in range(n):
        if dim == 1:
            env = ContinuousPointMass1DEnv()
            env.state = states[i].copy()
            for t in range(T):
                ref_obs[t, i], ref_rew[t, i], _, trunc, _ = env.step(actions[t, i])
                assert trunc == (t == T - 1)
        else:
            s = states[i].copy()
            for t in range(T):
                s, ref_rew[t, i] = pointmass_nd_step(s, actions[t, i], dim)
                ref_obs[t, i] = s
    row = compare(f"pointmass dim={dim} (exact)", ref_obs, ref_rew, out, exact=True)
    row["ok"] = row["ok"] and init_ok
    return row


def pendulum_ref(states, actions, reround, act_dtype):
    import gymnasium as gym
    n = len(states)
    ref_obs = np.zeros((T, n, 3), np.float32)
    ref_rew = np.zeros((T, n))
    for i in range(n):
        env = gym.make("Pendulum-v1").unwrapped
        env.reset(seed=0)
        env.state = np.array(states[i], dtype=np.float64)
        for t in range(T):
            obs, r, _, _, _ = env.step(actions[t, i].astype(act_dtype))
            if reround:  # vecsac stores float32 and observes the stored state
                env.state = env.state.astype(np.float32).astype(np.float64)
                obs = env._get_obs()
            ref_obs[t, i], ref_rew[t, i] = obs, float(r)
        env.close()
    return ref_obs, ref_rew


def check_pendulum(exe, tmp, rng, n, device):
    th = np.concatenate([rng.uniform(-np.pi, np.pi, n // 2), rng.uniform(-10, 10, n - n // 2)])
    thdot = np.concatenate([rng.uniform(-1, 1, n // 2), rng.uniform(-8, 8, n - n // 2)])
    states = np.stack([th, thdot], axis=1).astype(np.float32)
    actions = rng.uniform(-3, 3, (T, n, 1)).astype(np.float32)
    out = run_vecsac(exe, "pendulum", 1, states, actions, tmp, device)
    s64 = states.astype(np.float64)
    init_ref = np.stack([np.cos(s64[:, 0]), np.sin(s64[:, 0]), s64[:, 1]], 1).astype(np.float32)
    rows = []
    # float64 actions holding the float32 values: gymnasium then computes all in double, as vecsac.
    row = compare("pendulum re-rounded (tol 1e-6)",
                  *pendulum_ref(states, actions, True, np.float64), out, exact=False)
    row["ok"] = row["ok"] and np.allclose(out["initial_obs"], init_ref, rtol=RTOL, atol=ATOL)
    rows.append(row)
    rows.append(compare("pendulum re-rounded, f32 action",
                        *pendulum_ref(states, actions, True, np.float32), out, False, True))
    rows.append(compare("pendulum pure float64 (drift)",
                        *pendulum_ref(states, actions, False, np.float64), out, False, True))
    return rows


def check_mountaincar(exe, tmp, rng, n, device):
    """gymnasium's MountainCarContinuous-v0, exact: each step from vecsac's previous observation
    (float32, as gymnasium keeps its state), until the env's episode ends (a termination at the
    goal, or vecsac's time limit; vecsac then resets from its own stream)."""
    import gymnasium as gym
    q = n // 4
    # Anywhere; near the goal moving right (terminations); at the left wall moving left.
    pos = np.concatenate([rng.uniform(-1.2, 0.6, n - 2 * q), rng.uniform(0.35, 0.5, q),
                          rng.uniform(-1.2, -1.15, q)])
    vel = np.concatenate([rng.uniform(-0.07, 0.07, n - 2 * q), rng.uniform(0.0, 0.07, q),
                          rng.uniform(-0.07, 0.0, q)])
    states = np.stack([pos, vel], axis=1).astype(np.float32)
    actions = rng.uniform(-1.5, 1.5, (T, n, 1)).astype(np.float32)  # beyond +-1: force clipped
    out = run_vecsac(exe, "mountaincar", 1, states, actions, tmp, device)
    env = gym.make("MountainCarContinuous-v0").unwrapped
    env.reset(seed=0)
    ok = bool(np.array_equal(out["initial_obs"], states))
    d_obs = d_rew = 0.0
    obs_ulp = rew_ulp = steps = goals = 0
    for i in range(n):
        prev = states[i]
        for t in range(T):
            env.state = np.array(prev, dtype=np.float32)
            o, r, term, _, _ = env.step(actions[t, i])
            got_o, got_r = out["obs"][t, i], out["reward"][t, i]
            same = (np.array_equal(np.asarray(o, np.float32).view(np.int32), got_o.view(np.int32))
                    and np.float32(r) == got_r and bool(term) == bool(out["terminated"][t, i]))
            if not same:
                print(f"mountaincar env {i} step {t}: gymnasium {o} {r} {term}, "
                      f"vecsac {got_o} {got_r} {out['terminated'][t, i]}")
            ok = ok and same
            d_obs = max(d_obs, float(np.max(np.abs(np.asarray(o, np.float64) - got_o))))
            d_rew = max(d_rew, abs(float(np.float32(r)) - float(got_r)))
            obs_ulp = max(obs_ulp, ulp_diff(o, got_o))
            rew_ulp = max(rew_ulp, ulp_diff(np.float32(r), got_r))
            steps += 1
            if term or out["truncated"][t, i]:
                goals += int(term)
                break
            prev = got_o
    env.close()
    ok = ok and goals > 0  # the goal's reward and termination were exercised
    return dict(name=f"mountaincar (exact; {goals} goals)", obs_abs=d_obs, obs_ulp=obs_ulp,
                rew_abs=d_rew, rew_ulp=rew_ulp, flags=True, ok=ok, info=False)


def main():
    repo = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vecsac", default=str(repo / "build" / "vecsac"), help="vecsac binary")
    ap.add_argument("--num-envs", type=int, default=16)
    ap.add_argument("--seed", type=int, default=12345, help="seed of states and actions")
    ap.add_argument("--device", default="cpu", help="passed to vecsac rollout --device")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory(prefix="crosscheck_envs_") as tmp:
        rows = [check_pointmass(args.vecsac, tmp, rng, args.num_envs, 1, args.device),
                check_pointmass(args.vecsac, tmp, rng, args.num_envs, 3, args.device),
                *check_pendulum(args.vecsac, tmp, rng, args.num_envs, args.device),
                check_mountaincar(args.vecsac, tmp, rng, args.num_envs, args.device)]
    print(f"vecsac={args.vecsac} device={args.device} N={args.num_envs} T={T} seed={args.seed}")
    print(f"{'check':34s} {'obs max|d|':>11s} {'obs ulp':>8s} {'rew max|d|':>11s} "
          f"{'rew ulp':>8s} {'flags':>5s}  result")
    for r in rows:
        verdict = ("info" if r["info"] else ("PASS" if r["ok"] else "FAIL"))
        print(f"{r['name']:34s} {r['obs_abs']:11.3e} {r['obs_ulp']:8d} {r['rew_abs']:11.3e} "
              f"{r['rew_ulp']:8d} {'ok' if r['flags'] else 'BAD':>5s}  {verdict}")
    failed = [r["name"] for r in rows if not r["info"] and not r["ok"]]
    print("FAILED: " + ", ".join(failed) if failed else "all exact checks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
