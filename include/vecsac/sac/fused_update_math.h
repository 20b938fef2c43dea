/// @brief Per-row math of the fused SAC update, between its GEMMs: batch staging, the
/// policy sample, the soft Bellman target and critic-loss gradient, the actor-loss gradient,
/// the policy backward, Adam and Polyak. Shared by the CPU loops and the CUDA kernels
/// (torch-free, so kernels/ can include it).
#pragma once

#include <cmath>
#include <cstdint>

#include "vecsac/detail/hd.h"
#include "vecsac/nn/flat_layout.h"
#include "vecsac/sac/squashed_gaussian_math.h"

namespace vecsac {

/// Slots of the engine's float32 scalar buffer on the device. Everything that changes per
/// update lives here, so the host enqueues the same work every update (and a CUDA graph
/// could replay it).
enum SacScalar : int {
  kLogAlpha = 0,
  kAlphaUsed,    ///< exp(log alpha) before this update's temperature step
  kAlphaExpAvg,  ///< Adam moments of log alpha
  kAlphaExpAvgSq,
  kAdamStep,      ///< steps taken by each optimizer (they all step once per update)
  kLearningRate,  ///< set by the host between updates (schedules)
  kAdamStepSize,  ///< lr / (1 - beta1^step), for this update
  kAdamBc2Sqrt,   ///< sqrt(1 - beta2^step)
  kStatQfLoss,    ///< kStat*: sums over updates since the last take_stats
  kStatActorLoss,
  kStatAlphaLoss,
  kStatAlpha,
  kStatEntropy,
  kStatQMean,
  // An agent's hyperparameters: a population's agents may differ in them (set from the
  // host before training; SacConstants' values for every agent until then).
  kGamma,
  kTau,
  kTargetEntropy,
  kWeightOffset,      ///< c of relative_<c> critic weights; 0: uniform
  kBaseLearningRate,  ///< the schedule's initial rate: kLearningRate = this * a factor
  kNumSacScalars
};
inline constexpr int kNumSacStats = 6;

/// Hyperparameters fixed for a run. gamma, target_entropy and weight_offset are every
/// agent's initial value of its kGamma, kTargetEntropy and kWeightOffset slots, which the
/// kernels read.
struct SacConstants {
  float gamma, action_scale, target_entropy;
  float weight_offset;  ///< c of relative_<c> critic weights; 0: uniform
  bool learn_alpha;
  double beta1, beta2;  ///< Adam's, double as torch passes them (bias corrections use them)
  float adam_eps;
};

/// Device pointers of one update of K agents (a population; K = 1 for one run), each with
/// its own batch of B rows. O = obs dim, A = act dim. Everything is agent-major: the batch
/// is [K * B, ...] (agent k's rows k * B ... k * B + B - 1); the actor's input and output are
/// [K, 2B, ...] (each agent's obs rows, then its next_obs rows); the critics are 2K networks,
/// agent k's twins members 2k and 2k + 1, and each member has its own copy of its agent's
/// input rows [O, A, 1], so that every GEMM of the update is one batched call with one stride.
struct SacRows {
  int64_t agents, batch, obs_dim, act_dim;
  // The sampled batch, row-major and contiguous.
  const float *obs, *act, *reward, *next_obs, *terminated;
  float* actor_in;         ///< [K, 2B, O + 1]
  const float* actor_out;  ///< [K, 2B, 2A]: mean, then log_std before its clamp
  const float* eps;        ///< [K, 2B, A] standard normal draws: pi(obs), then pi(next_obs)
  float* log_prob;         ///< [K, 2B]
  float *q_in_data, *q_in_pi, *q_in_next;  ///< [2K, B, O + A + 1]
  const float *q_target, *q_data, *q_pi;   ///< [2K, B] critic outputs
  float* q_data_grad;                      ///< [2K, B] d critic loss / d q_data
  float* q_pi_grad;                        ///< [2K, B] d actor loss / d q_pi
  const float* q_in_grad;  ///< [2K, B, O + A] d actor loss / d (obs, act) through each critic
  float* actor_out_grad;   ///< [K, 2B, 2A] (the first B rows of each agent)
  float *target, *weight;  ///< [K, B] scratch: the Bellman target and the unnormalised weight
  float* scalars;          ///< [K, kNumSacScalars]
  SacConstants k;
};

inline constexpr float kLogStdLo = -20.0f, kLogStdHi = 2.0f;

VECSAC_HD inline int64_t q_in_width(const SacRows& p) { return p.obs_dim + p.act_dim + 1; }

/// Agent k's scalar slots.
VECSAC_HD inline float* agent_scalars(const SacRows& p, int64_t k) {
  return p.scalars + k * kNumSacScalars;
}

/// The row of critic member m's row r in a [2K, B, ...] array.
VECSAC_HD inline int64_t member_row(const SacRows& p, int64_t m, int64_t r) {
  return m * p.batch + r;
}

/// Row i < K * B of the batch: copies it into its agent's actor input rows and into both
/// twins' critic input rows, with the ones columns that carry the biases (nn/flat_mlp.h).
VECSAC_HD inline void stage_row(const SacRows& p, int64_t i) {
  const int64_t o = p.obs_dim, a = p.act_dim, ldq = q_in_width(p);
  const int64_t k = i / p.batch, r = i % p.batch;
  float* self = p.actor_in + (k * 2 * p.batch + r) * (o + 1);
  float* next = self + p.batch * (o + 1);
  for (int64_t j = 0; j < o; ++j) self[j] = p.obs[i * o + j], next[j] = p.next_obs[i * o + j];
  self[o] = 1.0f, next[o] = 1.0f;
  for (int64_t c = 0; c < 2; ++c) {
    const int64_t row = member_row(p, 2 * k + c, r) * ldq;
    float* data = p.q_in_data + row;
    float* pi = p.q_in_pi + row;
    float* q_next = p.q_in_next + row;
    for (int64_t j = 0; j < o; ++j) {
      const float x = p.obs[i * o + j];
      data[j] = x, pi[j] = x, q_next[j] = p.next_obs[i * o + j];
    }
    for (int64_t j = 0; j < a; ++j) data[o + j] = p.act[i * a + j];
    data[ldq - 1] = 1.0f, pi[ldq - 1] = 1.0f, q_next[ldq - 1] = 1.0f;
  }
}

VECSAC_HD inline float clamp_log_std(float s) {
  return s < kLogStdLo ? kLogStdLo : (s > kLogStdHi ? kLogStdHi : s);
}

/// Row i < K * 2B of the actor's output: the squashed-Gaussian sample, written into the
/// action columns of both twins' q_in_pi rows (an obs row) or q_in_next rows (a next_obs
/// row), and its log-density.
VECSAC_HD inline void policy_row(const SacRows& p, int64_t i) {
  const int64_t a = p.act_dim, ldq = q_in_width(p);
  const int64_t k = i / (2 * p.batch), j = i % (2 * p.batch);
  const bool next = j >= p.batch;
  const int64_t r = next ? j - p.batch : j;
  const float* z = p.actor_out + i * 2 * a;
  const float* e = p.eps + i * a;
  float* action0 = (next ? p.q_in_next : p.q_in_pi) + member_row(p, 2 * k, r) * ldq + p.obs_dim;
  float* action1 = action0 + p.batch * ldq;  // the other twin's copy
  float log_prob = 0.0f;
  for (int64_t d = 0; d < a; ++d) {
    log_prob += squashed_gaussian_element(z[d], clamp_log_std(z[a + d]), e[d], p.k.action_scale,
                                          &action0[d]);
    action1[d] = action0[d];
  }
  p.log_prob[i] = log_prob;
}

/// Acting for n envs: the actor's input rows, its output and the sampled actions.
struct ActRows {
  int64_t n, obs_dim, act_dim;
  const float* obs;        ///< [n, O]
  float* actor_in;         ///< [n, O + 1]
  const float* actor_out;  ///< [n, 2A]
  const float* eps;        ///< [n, A] standard normal draws
  float* action;           ///< [n, A]
  float action_scale;
};

/// Row i's actor input: the observation and the ones column (the first layer's bias).
VECSAC_HD inline void act_stage_row(const ActRows& p, int64_t i) {
  const int64_t w = p.obs_dim + 1;
  for (int64_t j = 0; j < p.obs_dim; ++j) p.actor_in[i * w + j] = p.obs[i * p.obs_dim + j];
  p.actor_in[i * w + p.obs_dim] = 1.0f;
}

/// Row i's action: the squashed-Gaussian sample of policy_row (its log-density unused).
VECSAC_HD inline void act_sample_row(const ActRows& p, int64_t i) {
  const int64_t a = p.act_dim;
  const float* z = p.actor_out + i * 2 * a;
  for (int64_t j = 0; j < a; ++j) {
    squashed_gaussian_element(z[j], clamp_log_std(z[a + j]), p.eps[i * a + j], p.action_scale,
                              &p.action[i * a + j]);
  }
}

/// Row r of agent k's critic loss, first pass: the soft Bellman target
/// y = r + gamma (1 - terminated) (min of the target critics - alpha log pi(a'|s')),
/// stored with its unnormalised weight 1 / (c + |y|) (1 for uniform weights), which the
/// row returns for the batch mean.
VECSAC_HD inline float critic_target_row(const SacRows& p, int64_t k, int64_t r, float alpha) {
  const int64_t i = k * p.batch + r;
  const float q0 = p.q_target[member_row(p, 2 * k, r)];
  const float q1 = p.q_target[member_row(p, 2 * k + 1, r)];
  const float next_q = (q1 < q0 || q1 != q1) ? q1 : q0;  // a NaN wins, as in torch's min
  const float* s = agent_scalars(p, k);
  const float y = p.reward[i] + s[kGamma] * (1.0f - p.terminated[i]) *
                                    (next_q - alpha * p.log_prob[k * 2 * p.batch + p.batch + r]);
  const float c = s[kWeightOffset];
  const float w = c > 0.0f ? 1.0f / (fabsf(y) + c) : 1.0f;
  p.target[i] = y;
  p.weight[i] = w;
  return w;
}

/// Second pass: d loss / d q for loss = 0.5 sum_critics mean_i w_i (q - y)^2, with the
/// weights scaled to mean 1 (inv_mean_weight). Returns the row's sum of w (q - y)^2.
VECSAC_HD inline float critic_grad_row(const SacRows& p, int64_t k, int64_t r,
                                       float inv_mean_weight) {
  const int64_t i = k * p.batch + r;
  const float w = p.weight[i] * inv_mean_weight, inv_b = 1.0f / static_cast<float>(p.batch);
  float loss = 0.0f;
  for (int64_t c = 0; c < 2; ++c) {
    const int64_t at = member_row(p, 2 * k + c, r);
    const float d = p.q_data[at] - p.target[i];
    p.q_data_grad[at] = w * d * inv_b;
    loss += w * d * d;
  }
  return loss;
}

/// Agent k's log pi(a|s) over its obs rows (the entropy's estimate), for the sums.
VECSAC_HD inline float obs_log_prob(const SacRows& p, int64_t k, int64_t r) {
  return p.log_prob[k * 2 * p.batch + r];
}

/// Adam's per-update scalars and the temperature's own step, once per update and agent after
/// the critic loss's reductions (sum_log_prob over pi(obs), qf_sum from critic_grad_row).
VECSAC_HD inline void finish_critic_loss(const SacRows& p, int64_t k, float sum_log_prob,
                                         float qf_sum) {
  float* s = agent_scalars(p, k);
  const float inv_b = 1.0f / static_cast<float>(p.batch);
  const float log_alpha = s[kLogAlpha], alpha = s[kAlphaUsed];
  const double step = static_cast<double>(s[kAdamStep]) + 1.0;
  s[kAdamStep] = static_cast<float>(step);
  s[kAdamStepSize] =
      static_cast<float>(static_cast<double>(s[kLearningRate]) / (1.0 - pow(p.k.beta1, step)));
  s[kAdamBc2Sqrt] = static_cast<float>(sqrt(1.0 - pow(p.k.beta2, step)));
  const float mean_log_prob = sum_log_prob * inv_b;
  float alpha_loss = 0.0f;
  if (p.k.learn_alpha) {  // loss -log_alpha (log pi + target entropy): one Adam step
    const float g = -(mean_log_prob + s[kTargetEntropy]);
    alpha_loss = log_alpha * g;
    float& m = s[kAlphaExpAvg];
    float& v = s[kAlphaExpAvgSq];
    const float b1 = static_cast<float>(p.k.beta1), b2 = static_cast<float>(p.k.beta2);
    m = m * b1 + g * (1.0f - b1);
    v = v * b2 + g * g * (1.0f - b2);
    s[kLogAlpha] = log_alpha - s[kAdamStepSize] * m / (sqrtf(v) / s[kAdamBc2Sqrt] + p.k.adam_eps);
  }
  s[kStatQfLoss] += 0.5f * qf_sum * inv_b;
  s[kStatAlphaLoss] += alpha_loss;
  s[kStatAlpha] += alpha;
  s[kStatEntropy] += -mean_log_prob;
}

/// The actor loss's statistics, once per update and agent after its reductions.
VECSAC_HD inline void finish_actor_loss(const SacRows& p, int64_t k, float loss_sum,
                                        float q_min_sum) {
  const float inv_b = 1.0f / static_cast<float>(p.batch);
  float* s = agent_scalars(p, k);
  s[kStatActorLoss] += loss_sum * inv_b;
  s[kStatQMean] += q_min_sum * inv_b;
}

/// Row r of agent k's actor loss mean(alpha log pi - min of the critics): d loss / d q_pi
/// (-1/B on the smaller critic, as torch's min sends the gradient to the first minimum);
/// returns the row's loss term, and its min in *q_min.
VECSAC_HD inline float actor_loss_row(const SacRows& p, int64_t k, int64_t r, float alpha,
                                      float* q_min) {
  const int64_t at0 = member_row(p, 2 * k, r), at1 = member_row(p, 2 * k + 1, r);
  const float q0 = p.q_pi[at0], q1 = p.q_pi[at1];
  const float g = -1.0f / static_cast<float>(p.batch);
  const bool first = q0 <= q1 || q0 != q0;  // ties and NaN as torch's min: the first
  p.q_pi_grad[at0] = first ? g : 0.0f;
  p.q_pi_grad[at1] = first ? 0.0f : g;
  *q_min = first ? q0 : q1;
  return alpha * obs_log_prob(p, k, r) - *q_min;
}

/// Row i < K * B (agent k = i / B, row r): d actor loss / d (mean, raw log_std), from the
/// action's gradient through both twins and the log-density's alpha / B; the clamp passes
/// gradient inside [lo, hi].
VECSAC_HD inline void policy_backward_row(const SacRows& p, int64_t i) {
  const int64_t a = p.act_dim, width = p.obs_dim + a;
  const int64_t k = i / p.batch, r = i % p.batch, row = k * 2 * p.batch + r;
  const float* z = p.actor_out + row * 2 * a;
  const float* e = p.eps + row * a;
  const float* g0 = p.q_in_grad + member_row(p, 2 * k, r) * width + p.obs_dim;
  const float* g1 = g0 + p.batch * width;
  const float grad_log_prob = agent_scalars(p, k)[kAlphaUsed] / static_cast<float>(p.batch);
  float* out = p.actor_out_grad + row * 2 * a;
  for (int64_t j = 0; j < a; ++j) {
    const float raw = z[a + j];
    float gm, gs;
    squashed_gaussian_element_backward(z[j], clamp_log_std(raw), e[j], p.k.action_scale,
                                       g0[j] + g1[j], grad_log_prob, &gm, &gs);
    out[j] = gm;
    out[a + j] = raw >= kLogStdLo && raw <= kLogStdHi ? gs : 0.0f;
  }
}

/// One optimizer's flat buffers, laid out as `layout` says (agent k's step size and
/// sqrt(1 - beta2^t) are its kAdamStepSize and kAdamBc2Sqrt slots).
struct AdamRows {
  float* param;
  const float* grad;
  float *exp_avg, *exp_avg_sq;
  int64_t n;
  FlatLayout layout;
};

/// torch's fused Adam (no weight decay, no amsgrad) on one element, with this update's
/// step size lr / (1 - beta1^t) and sqrt(1 - beta2^t). Scalars by value: the CPU loop
/// vectorises only when no store can alias them.
VECSAC_HD inline void adam_step(float& param, float grad, float& exp_avg, float& exp_avg_sq,
                                float beta1, float beta2, float eps, float step_size,
                                float bc2_sqrt) {
  const float m = exp_avg * beta1 + grad * (1.0f - beta1);
  const float v = exp_avg_sq * beta2 + grad * grad * (1.0f - beta2);
  exp_avg = m;
  exp_avg_sq = v;
  param -= step_size * m / (sqrtf(v) / bc2_sqrt + eps);
}

/// Element i with its agent's step (one agent: slot block 0).
VECSAC_HD inline void adam_element(const AdamRows& r, int64_t i, const float* scalars,
                                   const SacConstants& k) {
  const float* s = scalars + agent_of(r.layout, i) * kNumSacScalars;
  adam_step(r.param[i], r.grad[i], r.exp_avg[i], r.exp_avg_sq[i], static_cast<float>(k.beta1),
            static_cast<float>(k.beta2), k.adam_eps, s[kAdamStepSize], s[kAdamBc2Sqrt]);
}

/// target <- (1 - tau) target + tau source, tau its agent's kTau slot.
struct PolyakRows {
  float* target;
  const float* source;
  int64_t n;
  FlatLayout layout;
};
VECSAC_HD inline void polyak_step(float& target, float source, float tau) {
  target = target * (1.0f - tau) + tau * source;
}
VECSAC_HD inline void polyak_element(const PolyakRows& r, int64_t i, const float* scalars) {
  const float tau = scalars[agent_of(r.layout, i) * kNumSacScalars + kTau];
  polyak_step(r.target[i], r.source[i], tau);
}

}  // namespace vecsac
