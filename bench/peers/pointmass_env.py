"""The seed notebook's point mass as a gymnasium.Env, and the deterministic
evaluation on the notebook's 8 starts that every Python entrant uses.

The step arithmetic is imported from tools/crosscheck_envs.py, the copy of the
notebook's ContinuousPointMass1DEnv that CI checks bit for bit against vecsac,
so all entrants train and are scored on the same dynamics.
"""
import json
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))
from crosscheck_envs import ContinuousPointMass1DEnv as NotebookStep  # noqa: E402

EVAL_STARTS = REPO / "configs" / "eval" / "pointmass_notebook_starts.json"
# Mean return on the 8 starts within 5 % of the exact optimum (-2.5150).
QUALITY_BAR = -2.64


class PointMassEnv(gym.Env):
    """obs [pos, vel] float32, action in [-2, 2], dt 0.05, reward on the new state,
    truncated after 200 steps (never terminated). reset() draws pos then vel from
    U(-1, 1) with the notebook's generator: np.random.default_rng(seed), reseeded only
    when a seed is passed. reset(options={"state": [pos, vel]}) starts from a given state."""

    metadata = {"render_modes": []}

    def __init__(self, seed: int = 42):
        self._env = NotebookStep()
        limit = self._env.action_high[0]
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (2,), np.float32)
        self.action_space = gym.spaces.Box(-limit, limit, (1,), np.float32)
        self.rng = np.random.default_rng(seed)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        self._env.t = 0
        if options and "state" in options:
            self._env.state = np.asarray(options["state"], dtype=np.float32).copy()
        else:
            pos = self.rng.uniform(-1.0, 1.0)
            vel = self.rng.uniform(-1.0, 1.0)
            self._env.state = np.array([pos, vel], dtype=np.float32)
        return self._env.state.copy(), {}

    def step(self, action):
        return self._env.step(action)


def load_starts(path=EVAL_STARTS) -> np.ndarray:
    """The evaluation starts, [N][2] float32 (the file holds float32 values as JSON doubles)."""
    return np.asarray(json.loads(Path(path).read_text())["states"], dtype=np.float32)


def evaluate(policy, starts: np.ndarray) -> list:
    """Returns of one full episode from each start under `policy`, a function from a
    float32 batch of observations [N][2] to actions [N][1] in env units. The episodes
    run in lockstep so the policy is called once per step for all starts."""
    envs = [PointMassEnv() for _ in starts]
    obs = np.stack([env.reset(options={"state": s})[0] for env, s in zip(envs, starts)])
    returns = np.zeros(len(envs))
    done = False
    while not done:
        actions = np.asarray(policy(obs), dtype=np.float32).reshape(len(envs), -1)
        for i, env in enumerate(envs):
            obs[i], reward, _terminated, truncated, _ = env.step(actions[i])
            returns[i] += reward
        done = truncated  # every episode has the same 200-step limit
    return returns.tolist()
