"""The seed notebook's own SAC (../shared/seed/sac_notebook.txt, sections 2 to 5),
with its indentation restored and nothing else changed in the algorithm: the
replay buffer, the networks, SACAgent.update and the training loop.

Two additions, both outside the algorithm:
* train() takes a `keep_going(total_steps)` hook, called after every env step
  and its updates; the time-to-quality harness evaluates and stops there, in
  place of the notebook's fixed episode count.
* SACAgent.policy_batch() is the notebook's deterministic action (tanh of the
  mean, scaled) for a batch of observations, used by the evaluation.
The plotting and the notebook's diagnostics lists are dropped, but the per-step
entropy and Q estimates that fed them are kept, since they cost loop time. The
env is pointmass_env.PointMassEnv, the notebook's env behind gymnasium's API.
The seeds follow the notebook with SEED = seed, except that its sanity rollout,
which draws 80 actions from the same generator before training, is not replayed.
"""
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Normal

from pointmass_env import PointMassEnv


class ReplayBuffer:
    def __init__(self, obs_dim: int, act_dim: int, size: int, seed: int = 0):
        self.obs_buf = np.zeros((size, obs_dim), dtype=np.float32)
        self.next_obs_buf = np.zeros((size, obs_dim), dtype=np.float32)
        self.act_buf = np.zeros((size, act_dim), dtype=np.float32)
        self.rew_buf = np.zeros((size, 1), dtype=np.float32)
        self.done_buf = np.zeros((size, 1), dtype=np.float32)
        self.max_size = int(size)
        self.ptr = 0
        self.size = 0
        self.rng = np.random.default_rng(seed)

    def store(self, obs, act, rew, next_obs, done):
        self.obs_buf[self.ptr] = obs
        self.act_buf[self.ptr] = act
        self.rew_buf[self.ptr] = rew
        self.next_obs_buf[self.ptr] = next_obs
        self.done_buf[self.ptr] = float(done)
        self.ptr = (self.ptr + 1) % self.max_size
        self.size = min(self.size + 1, self.max_size)

    def sample_batch(self, batch_size: int, device: torch.device):
        idx = self.rng.integers(0, self.size, size=batch_size)
        return dict(
            obs=torch.as_tensor(self.obs_buf[idx], device=device),
            act=torch.as_tensor(self.act_buf[idx], device=device),
            rew=torch.as_tensor(self.rew_buf[idx], device=device),
            next_obs=torch.as_tensor(self.next_obs_buf[idx], device=device),
            done=torch.as_tensor(self.done_buf[idx], device=device),
        )


def mlp(sizes, activation=nn.ReLU, output_activation=nn.Identity):
    layers = []
    for j in range(len(sizes) - 1):
        act = activation if j < len(sizes) - 2 else output_activation
        layers += [nn.Linear(sizes[j], sizes[j + 1]), act()]
    return nn.Sequential(*layers)


class SquashedGaussianActor(nn.Module):
    def __init__(self, obs_dim, act_dim, act_low, act_high, hidden_sizes=(256, 256),
                 log_std_min: float = -20.0, log_std_max: float = 2.0):
        super().__init__()
        self.net = mlp([obs_dim, *hidden_sizes], activation=nn.ReLU, output_activation=nn.ReLU)
        self.mu_layer = nn.Linear(hidden_sizes[-1], act_dim)
        self.log_std_layer = nn.Linear(hidden_sizes[-1], act_dim)
        self.log_std_min = float(log_std_min)
        self.log_std_max = float(log_std_max)
        act_low = np.asarray(act_low, dtype=np.float32)
        act_high = np.asarray(act_high, dtype=np.float32)
        self.register_buffer("action_scale", torch.as_tensor((act_high - act_low) / 2.0))
        self.register_buffer("action_bias", torch.as_tensor((act_high + act_low) / 2.0))

    def forward(self, obs):
        h = self.net(obs)
        mu = self.mu_layer(h)
        log_std = torch.clamp(self.log_std_layer(h), self.log_std_min, self.log_std_max)
        return mu, torch.exp(log_std)

    def sample(self, obs):
        mu, std = self(obs)
        dist = Normal(mu, std)
        u = dist.rsample()  # reparameterization
        a = torch.tanh(u)
        action = a * self.action_scale + self.action_bias
        # Log prob with tanh + scaling correction (change of variables)
        log_prob_u = dist.log_prob(u).sum(dim=-1, keepdim=True)
        log_det = (torch.log(self.action_scale + 1e-8)
                   + torch.log(1.0 - a.pow(2) + 1e-6)).sum(dim=-1, keepdim=True)
        log_prob = log_prob_u - log_det
        mu_action = torch.tanh(mu) * self.action_scale + self.action_bias
        return action, log_prob, mu_action


class QNetwork(nn.Module):
    def __init__(self, obs_dim, act_dim, hidden_sizes=(256, 256)):
        super().__init__()
        self.q = mlp([obs_dim + act_dim, *hidden_sizes, 1], activation=nn.ReLU)

    def forward(self, obs, act):
        return self.q(torch.cat([obs, act], dim=-1))


def polyak_update(source: nn.Module, target: nn.Module, tau: float):
    with torch.no_grad():
        for p, p_targ in zip(source.parameters(), target.parameters(), strict=True):
            p_targ.data.mul_(1.0 - tau)
            p_targ.data.add_(tau * p.data)


@dataclass
class SACConfig:
    gamma: float = 0.99
    tau: float = 0.005
    actor_lr: float = 3e-4
    critic_lr: float = 3e-4
    alpha_lr: float = 3e-4
    batch_size: int = 256
    replay_size: int = 200_000
    updates_per_step: int = 1
    start_steps: int = 1_000
    auto_alpha: bool = True
    init_alpha: float = 0.2


def notebook_config(fast_run: bool = True) -> SACConfig:
    """The notebook's training config. It ran (and scored -89.887) with FAST_RUN = True."""
    return SACConfig(replay_size=50_000 if fast_run else 200_000,
                     batch_size=128 if fast_run else 256,
                     start_steps=500 if fast_run else 1_000,
                     updates_per_step=1)


class SACAgent:
    def __init__(self, obs_dim, act_dim, act_low, act_high, config: SACConfig, device):
        self.cfg = config
        self.device = device
        self.actor = SquashedGaussianActor(obs_dim, act_dim, act_low, act_high).to(device)
        self.q1 = QNetwork(obs_dim, act_dim).to(device)
        self.q2 = QNetwork(obs_dim, act_dim).to(device)
        self.q1_targ = QNetwork(obs_dim, act_dim).to(device)
        self.q2_targ = QNetwork(obs_dim, act_dim).to(device)
        self.q1_targ.load_state_dict(self.q1.state_dict())
        self.q2_targ.load_state_dict(self.q2.state_dict())
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=config.actor_lr)
        self.q_opt = torch.optim.Adam(list(self.q1.parameters()) + list(self.q2.parameters()),
                                      lr=config.critic_lr)
        self.auto_alpha = bool(config.auto_alpha)
        if self.auto_alpha:
            self.target_entropy = -float(act_dim)  # a common heuristic: -|A|
            self.log_alpha = torch.tensor(math.log(config.init_alpha), dtype=torch.float32,
                                          device=device, requires_grad=True)
            self.alpha_opt = torch.optim.Adam([self.log_alpha], lr=config.alpha_lr)
        else:
            self.target_entropy = None
            self.log_alpha = torch.tensor(math.log(config.init_alpha), dtype=torch.float32,
                                          device=device)
            self.alpha_opt = None

    @property
    def alpha(self):
        return self.log_alpha.exp()

    def policy_batch(self, obs: np.ndarray) -> np.ndarray:
        """The notebook's deterministic action, tanh(mu) scaled, for a batch [N][obs_dim]."""
        with torch.no_grad():
            mu, _std = self.actor(torch.as_tensor(obs, dtype=torch.float32, device=self.device))
            a = torch.tanh(mu) * self.actor.action_scale + self.actor.action_bias
        return a.cpu().numpy()

    def update(self, batch):
        obs, act, rew = batch["obs"], batch["act"], batch["rew"]
        next_obs, done = batch["next_obs"], batch["done"]
        # --- Critic update ---
        with torch.no_grad():
            next_a, next_logp, _next_mu_a = self.actor.sample(next_obs)
            q1_next = self.q1_targ(next_obs, next_a)
            q2_next = self.q2_targ(next_obs, next_a)
            q_next = torch.min(q1_next, q2_next) - self.alpha * next_logp
            backup = rew + self.cfg.gamma * (1.0 - done) * q_next
        q1 = self.q1(obs, act)
        q2 = self.q2(obs, act)
        critic_loss = F.mse_loss(q1, backup) + F.mse_loss(q2, backup)
        self.q_opt.zero_grad(set_to_none=True)
        critic_loss.backward()
        self.q_opt.step()
        # --- Actor update ---
        a_pi, logp_pi, _mu_a = self.actor.sample(obs)
        q_pi = torch.min(self.q1(obs, a_pi), self.q2(obs, a_pi))
        actor_loss = (self.alpha * logp_pi - q_pi).mean()
        self.actor_opt.zero_grad(set_to_none=True)
        actor_loss.backward()
        self.actor_opt.step()
        # --- Temperature (alpha) update ---
        alpha_loss = torch.tensor(0.0, device=self.device)
        if self.auto_alpha:
            alpha_loss = -(self.log_alpha * (logp_pi + self.target_entropy).detach()).mean()
            self.alpha_opt.zero_grad(set_to_none=True)
            alpha_loss.backward()
            self.alpha_opt.step()
        # --- Target networks ---
        polyak_update(self.q1, self.q1_targ, self.cfg.tau)
        polyak_update(self.q2, self.q2_targ, self.cfg.tau)
        return {
            "critic_loss": float(critic_loss.item()),
            "actor_loss": float(actor_loss.item()),
            "alpha": float(self.alpha.item()),
            "alpha_loss": float(alpha_loss.item()),
            "mean_logp": float(logp_pi.mean().item()),
            "mean_q": float(q_pi.mean().item()),
        }


def make_agent(cfg: SACConfig, device=torch.device("cpu")) -> SACAgent:
    """A SACAgent on the point mass's shapes: obs 2, act 1, actions in [-2, 2]."""
    env = PointMassEnv()
    return SACAgent(env.observation_space.shape[0], env.action_space.shape[0],
                    env.action_space.low, env.action_space.high, config=cfg, device=device)


def train(seed: int, cfg: SACConfig, keep_going, on_start=lambda agent: None,
          max_steps_per_ep: int = 200):
    """The notebook's loop (section 5), episodes seeded seed + ep, run until
    keep_going(total_steps) is False. on_start(agent) runs once, before the first step."""
    device = torch.device("cpu")
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    env = PointMassEnv(seed=seed)
    env.reset(seed=seed)
    act_low, act_high = env.action_space.low, env.action_space.high
    buffer = ReplayBuffer(2, 1, size=cfg.replay_size, seed=seed)
    agent = make_agent(cfg, device)
    on_start(agent)
    total_steps = 0
    ep = 0
    while True:
        obs, _ = env.reset(seed=seed + ep)
        for _ in range(max_steps_per_ep):
            obs_t = torch.as_tensor(obs, dtype=torch.float32, device=device).unsqueeze(0)
            with torch.no_grad():
                a_pi, logp_pi, _mu_a = agent.actor.sample(obs_t)
            if total_steps < cfg.start_steps:
                act = rng.uniform(act_low, act_high).astype(np.float32)
            else:
                act = a_pi.squeeze(0).cpu().numpy().astype(np.float32)
            # The notebook's diagnostics: entropy and Q estimates at every step.
            with torch.no_grad():
                _entropy_est = float((-logp_pi).item())
                _q_est = float(torch.min(agent.q1(obs_t, a_pi), agent.q2(obs_t, a_pi)).item())
            next_obs, r, terminated, truncated, _info = env.step(act)
            done = bool(terminated) or bool(truncated)  # the notebook treats truncation as terminal
            buffer.store(obs, act, r, next_obs, done)
            obs = next_obs
            total_steps += 1
            if buffer.size >= cfg.batch_size:
                for _ in range(cfg.updates_per_step):
                    agent.update(buffer.sample_batch(cfg.batch_size, device=device))
            if not keep_going(total_steps):
                return agent
            if done:
                break
        ep += 1
