/// @brief FusedSacUpdate: the update's sequence of GEMMs and fused kernels, and the CPU
/// drivers of those kernels.
#include "vecsac/sac/fused_update.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "vecsac/detail/vector_clones.h"
#include "vecsac/nn/launch_count.h"
#include "vecsac/nn/layer_sizes.h"
#include "vecsac/random/random_stream.h"
#include "vecsac/sac/fused_update_launch.h"
#include "vecsac/util/cpu_pool.h"

#ifdef VECSAC_WITH_CUDA
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace vecsac {
namespace {

// Rows per CPU task of the row kernels: a policy row costs a few scalar transcendental
// calls per action dimension (~50 ns), so a batch of 1024 splits across two cores.
constexpr int64_t kCpuRowGrain = 256;
// Elements per CPU task of Adam and Polyak (a few ns each).
constexpr int64_t kCpuElementGrain = 32768;

float* ptr(const at::Tensor& t) { return t.data_ptr<float>(); }

// Which of the update's kernels a launch is.
enum class Kernel { kStage, kPolicy, kCriticLoss, kActorLoss, kPolicyBackward };

// HOT LOOP BEGIN: every gradient step runs these (tools/check_hot_loop.sh)
void run_cpu(Kernel kernel, const SacRows& p) {
  const int64_t rows = p.agents * p.batch;
  switch (kernel) {
    case Kernel::kStage:
      parallel_for(0, rows, kCpuRowGrain, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) stage_row(p, i);
      });
      return;
    case Kernel::kPolicy:
      parallel_for(0, 2 * rows, kCpuRowGrain, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) policy_row(p, i);
      });
      return;
    case Kernel::kPolicyBackward:
      parallel_for(0, rows, kCpuRowGrain, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) policy_backward_row(p, i);
      });
      return;
    // The losses: each agent's rows in one serial loop (a fixed order for its sums), the
    // agents on as many threads as there are.
    case Kernel::kCriticLoss:
      parallel_for(0, p.agents, 1, [&](int64_t begin, int64_t end) {
        for (int64_t k = begin; k < end; ++k) {
          float* s = agent_scalars(p, k);
          const float alpha = std::exp(s[kLogAlpha]);
          float weight_sum = 0.0f, log_prob_sum = 0.0f, loss_sum = 0.0f;
          for (int64_t r = 0; r < p.batch; ++r) {
            weight_sum += critic_target_row(p, k, r, alpha);
            log_prob_sum += obs_log_prob(p, k, r);
          }
          const float inv_mean_weight = static_cast<float>(p.batch) / weight_sum;
          for (int64_t r = 0; r < p.batch; ++r) {
            loss_sum += critic_grad_row(p, k, r, inv_mean_weight);
          }
          s[kAlphaUsed] = alpha;
          finish_critic_loss(p, k, log_prob_sum, loss_sum);
        }
      });
      return;
    case Kernel::kActorLoss:
      parallel_for(0, p.agents, 1, [&](int64_t begin, int64_t end) {
        for (int64_t k = begin; k < end; ++k) {
          const float alpha = agent_scalars(p, k)[kAlphaUsed];
          float loss_sum = 0.0f, q_sum = 0.0f;
          for (int64_t r = 0; r < p.batch; ++r) {
            float q = 0.0f;
            loss_sum += actor_loss_row(p, k, r, alpha, &q);
            q_sum += q;
          }
          finish_actor_loss(p, k, loss_sum, q_sum);
        }
      });
      return;
  }
}

void run(Kernel kernel, const SacRows& p, c10::Device device) {
  count_launch();
  if (device.is_cpu()) {
    run_cpu(kernel, p);
    return;
  }
#ifdef VECSAC_WITH_CUDA
  CudaStream stream = c10::cuda::getCurrentCUDAStream(device.index()).stream();
  switch (kernel) {
    case Kernel::kStage:
      launch_stage(p, stream);
      return;
    case Kernel::kPolicy:
      launch_policy(p, stream);
      return;
    case Kernel::kCriticLoss:
      launch_critic_loss(p, stream);
      return;
    case Kernel::kActorLoss:
      launch_actor_loss(p, stream);
      return;
    case Kernel::kPolicyBackward:
      launch_policy_backward(p, stream);
      return;
  }
#else
  TORCH_CHECK(false, "FusedSacUpdate: device ", device,
              " needs CUDA, but this vecsac was built with VECSAC_CUDA=OFF");
#endif
}

enum class ActKernel { kStage, kSample };

void run_act(ActKernel kernel, const ActRows& p, c10::Device device) {
  count_launch();
  if (device.is_cpu()) {
    parallel_for(0, p.n, kCpuRowGrain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        if (kernel == ActKernel::kStage) {
          act_stage_row(p, i);
        } else {
          act_sample_row(p, i);
        }
      }
    });
    return;
  }
#ifdef VECSAC_WITH_CUDA
  CudaStream stream = c10::cuda::getCurrentCUDAStream(device.index()).stream();
  if (kernel == ActKernel::kStage) {
    launch_act_stage(p, stream);
  } else {
    launch_act_sample(p, stream);
  }
#else
  TORCH_CHECK(false, "FusedSacUpdate: device ", device,
              " needs CUDA, but this vecsac was built with VECSAC_CUDA=OFF");
#endif
}

// One agent's run [lo, hi) of the Adam and Polyak buffers, with its step size and tau as
// locals and the buffers restrict-qualified (they never overlap) so that the loops vectorise,
// compiled for each vector unit: at the main job's shapes Adam and Polyak on SSE2 were 19 % of
// an update.
VECSAC_VECTOR_CLONES void adam_run(float* __restrict__ p, const float* __restrict__ g,
                                   float* __restrict__ m, float* __restrict__ v, int64_t lo,
                                   int64_t hi, float beta1, float beta2, float eps, float step_size,
                                   float bc2_sqrt) {
  for (int64_t i = lo; i < hi; ++i) {
    adam_step(p[i], g[i], m[i], v[i], beta1, beta2, eps, step_size, bc2_sqrt);
  }
}
VECSAC_VECTOR_CLONES void polyak_run(float* __restrict__ t, const float* __restrict__ src,
                                     int64_t lo, int64_t hi, float tau) {
  for (int64_t i = lo; i < hi; ++i) polyak_step(t[i], src[i], tau);
}

void adam_polyak(const AdamRows& adam, const PolyakRows& polyak, const float* scalars,
                 const SacConstants& k, c10::Device device) {
  count_launch();
  if (device.is_cpu()) {
    const float beta1 = static_cast<float>(k.beta1), beta2 = static_cast<float>(k.beta2);
    const float eps = k.adam_eps;
    parallel_for(0, adam.n, kCpuElementGrain, [&](int64_t begin, int64_t end) {
      for_each_agent_run(adam.layout, begin, end, [&](int64_t agent, int64_t lo, int64_t hi) {
        const float* s = scalars + agent * kNumSacScalars;
        adam_run(adam.param, adam.grad, adam.exp_avg, adam.exp_avg_sq, lo, hi, beta1, beta2, eps,
                 s[kAdamStepSize], s[kAdamBc2Sqrt]);
      });
    });
    parallel_for(0, polyak.n, kCpuElementGrain, [&](int64_t begin, int64_t end) {
      for_each_agent_run(polyak.layout, begin, end, [&](int64_t agent, int64_t lo, int64_t hi) {
        polyak_run(polyak.target, polyak.source, lo, hi, scalars[agent * kNumSacScalars + kTau]);
      });
    });
    return;
  }
#ifdef VECSAC_WITH_CUDA
  launch_adam_polyak(adam, polyak, scalars, k,
                     c10::cuda::getCurrentCUDAStream(device.index()).stream());
#else
  TORCH_CHECK(false, "FusedSacUpdate: device ", device,
              " needs CUDA, but this vecsac was built with VECSAC_CUDA=OFF");
#endif
}
// HOT LOOP END

void check_input(const at::Tensor& t, const char* name, int64_t rows, int64_t cols,
                 c10::Device device) {
  TORCH_CHECK(
      t.defined() && t.scalar_type() == at::kFloat && t.device() == device && t.is_contiguous(),
      "FusedSacUpdate: batch.", name, " must be a contiguous float32 tensor on ", device, ", got ",
      t.defined() ? t.toString() : std::string("undefined"), " on ",
      t.defined() ? t.device().str() : std::string("-"));
  const bool ok = cols == 0 ? (t.dim() == 1 && t.size(0) == rows)
                            : (t.dim() == 2 && t.size(0) == rows && t.size(1) == cols);
  TORCH_CHECK(ok, "FusedSacUpdate: batch.", name, " must be [", rows, cols ? ", " : "",
              cols ? std::to_string(cols) : std::string(), "], got ", t.sizes());
}

}  // namespace

FusedSacUpdate::FusedSacUpdate(int64_t obs_dim, int64_t act_dim,
                               const std::vector<int64_t>& pi_arch,
                               const std::vector<int64_t>& qf_arch, const SacConstants& constants,
                               float tau, c10::Device device, int64_t agents)
    : agents_(agents),
      obs_dim_(obs_dim),
      act_dim_(act_dim),
      actor_mlp_(agents, layer_sizes(obs_dim, pi_arch, 2 * act_dim)),
      critic_mlp_(2 * agents, layer_sizes(obs_dim + act_dim, qf_arch, 1)),
      constants_(constants),
      device_(device) {
#ifdef VECSAC_WITH_CUDA
  // "cuda" without an index means the current device; batches arrive as "cuda:N".
  if (device_.is_cuda() && !device_.has_index()) {
    device_ = c10::Device(c10::kCUDA, c10::cuda::current_device());
  }
#endif
  const auto f32 = at::TensorOptions().device(device_).dtype(at::kFloat);
  actor_params = at::zeros({actor_mlp_.num_params()}, f32);
  critic_params = at::zeros({critic_mlp_.num_params()}, f32);
  target_params = at::zeros({critic_mlp_.num_params()}, f32);
  actor_grad = at::zeros_like(actor_params);
  critic_grad = at::zeros_like(critic_params);
  actor_exp_avg = at::zeros_like(actor_params);
  actor_exp_avg_sq = at::zeros_like(actor_params);
  critic_exp_avg = at::zeros_like(critic_params);
  critic_exp_avg_sq = at::zeros_like(critic_params);
  scalars = at::zeros({agents_ * kNumSacScalars}, f32);
  const at::Tensor slots = scalars.view({agents_, kNumSacScalars});
  slots.select(1, kGamma).fill_(constants.gamma);
  slots.select(1, kTau).fill_(tau);
  slots.select(1, kTargetEntropy).fill_(constants.target_entropy);
  slots.select(1, kWeightOffset).fill_(constants.weight_offset);
  actor_layout_ = actor_mlp_.layout(1);
  critic_layout_ = critic_mlp_.layout(2);
}

void FusedSacUpdate::set_agent_hyperparameters(int64_t agent, const AgentHyperparameters& h) {
  TORCH_CHECK(agent >= 0 && agent < agents_, "FusedSacUpdate: agent ", agent, " of ", agents_);
  TORCH_CHECK(h.learning_rate > 0 && h.tau > 0 && h.tau <= 1 && h.gamma >= 0 && h.gamma <= 1 &&
                  h.weight_offset >= 0 && h.initial_alpha > 0,
              "FusedSacUpdate: agent ", agent, ": learning_rate ", h.learning_rate, ", tau ", h.tau,
              ", gamma ", h.gamma, ", weight_offset ", h.weight_offset, ", initial_alpha ",
              h.initial_alpha,
              " outside lr > 0, tau in (0, 1], gamma in [0, 1], offset >= 0, "
              "alpha > 0");
  const at::Tensor s = scalars.narrow(0, agent * kNumSacScalars, kNumSacScalars);
  for (const auto& [slot, value] : {std::pair{kLearningRate, h.learning_rate},
                                    {kBaseLearningRate, h.learning_rate},
                                    {kTau, h.tau},
                                    {kGamma, h.gamma},
                                    {kTargetEntropy, h.target_entropy},
                                    {kWeightOffset, h.weight_offset},
                                    {kLogAlpha, std::log(h.initial_alpha)}}) {
    s.select(0, slot).fill_(value);
  }
}

void FusedSacUpdate::allocate(int64_t batch) {
  const auto f32 = at::TensorOptions().device(device_).dtype(at::kFloat);
  batch_ = batch;
  actor_ws_ = actor_mlp_.workspace(2 * batch, f32);
  target_ws_ = critic_mlp_.workspace(batch, f32);
  data_ws_ = critic_mlp_.workspace(batch, f32);
  pi_ws_ = critic_mlp_.workspace(batch, f32);
  actor_in_ = at::zeros({agents_, 2 * batch, obs_dim_ + 1}, f32);
  eps_ = at::zeros({agents_, 2 * batch, act_dim_}, f32);
  log_prob_ = at::zeros({agents_, 2 * batch}, f32);
  q_in_data_ = at::zeros({2 * agents_, batch, obs_dim_ + act_dim_ + 1}, f32);
  q_in_pi_ = at::zeros_like(q_in_data_);
  q_in_next_ = at::zeros_like(q_in_data_);
  q_in_grad_ = at::zeros({2 * agents_, batch, obs_dim_ + act_dim_}, f32);
  target_ = at::zeros({agents_, batch}, f32);
  weight_ = at::zeros({agents_, batch}, f32);
}

SacRows FusedSacUpdate::rows(const Batch& b) {
  SacRows p;
  p.agents = agents_, p.batch = batch_, p.obs_dim = obs_dim_, p.act_dim = act_dim_;
  p.obs = ptr(b.obs), p.act = ptr(b.act), p.reward = ptr(b.reward);
  p.next_obs = ptr(b.next_obs), p.terminated = ptr(b.terminated);
  p.actor_in = ptr(actor_in_);
  p.actor_out = ptr(actor_ws_.output);
  p.eps = ptr(eps_);
  p.log_prob = ptr(log_prob_);
  p.q_in_data = ptr(q_in_data_), p.q_in_pi = ptr(q_in_pi_), p.q_in_next = ptr(q_in_next_);
  p.q_target = ptr(target_ws_.output), p.q_data = ptr(data_ws_.output);
  p.q_pi = ptr(pi_ws_.output);
  p.q_data_grad = ptr(data_ws_.grad.back()), p.q_pi_grad = ptr(pi_ws_.grad.back());
  p.q_in_grad = ptr(q_in_grad_);
  p.actor_out_grad = ptr(actor_ws_.grad.back());
  p.target = ptr(target_), p.weight = ptr(weight_);
  p.scalars = ptr(scalars);
  p.k = constants_;
  return p;
}

void FusedSacUpdate::set_learning_rate(double lr) {
  const at::Tensor slots = scalars.view({agents_, kNumSacScalars});
  slots.select(1, kLearningRate).fill_(lr);
  slots.select(1, kBaseLearningRate).fill_(lr);
}

void FusedSacUpdate::set_learning_rate_factor(double factor) {
  const at::Tensor slots = scalars.view({agents_, kNumSacScalars});
  at::Tensor rate = slots.select(1, kLearningRate);
  at::mul_out(rate, slots.select(1, kBaseLearningRate), factor);
}

void FusedSacUpdate::set_learning_rate_factors(const at::Tensor& factors) {
  TORCH_CHECK(factors.dim() == 1 && factors.size(0) == agents_ &&
                  factors.scalar_type() == at::kFloat && factors.device() == device_,
              "FusedSacUpdate::set_learning_rate_factors: factors must be [", agents_,
              "] float32 on ", device_, ", got ", factors.toString(), " ", factors.sizes(), " on ",
              factors.device());
  const at::Tensor slots = scalars.view({agents_, kNumSacScalars});
  at::Tensor rate = slots.select(1, kLearningRate);
  at::mul_out(rate, slots.select(1, kBaseLearningRate), factors);
}

// HOT LOOP BEGIN
void FusedSacUpdate::update(const Batch& b, const at::Tensor& keys, int64_t draw,
                            bool update_targets) {
  check_keys(keys);
  prepare(b);
  fill_normal(eps_, keys, draw);
  run_update(b, update_targets);
}

const at::Tensor& FusedSacUpdate::act(const at::Tensor& obs, const at::Tensor& keys, int64_t draw) {
  check_keys(keys);
  ActBuffers& b = stage_act(obs, /*deterministic=*/false);
  fill_normal(b.eps, keys, draw);
  return sample_act(b);
}

const at::Tensor& FusedSacUpdate::act_deterministic(const at::Tensor& obs) {
  return sample_act(stage_act(obs, /*deterministic=*/true));
}

void FusedSacUpdate::check_keys(const at::Tensor& keys) const {
  TORCH_CHECK(keys.defined() && keys.numel() == agents_, "FusedSacUpdate: ", agents_,
              " agents need as many noise stream keys, got ", keys.defined() ? keys.numel() : 0);
}

FusedSacUpdate::ActBuffers& FusedSacUpdate::stage_act(const at::Tensor& obs, bool deterministic) {
  const int64_t rows = obs.defined() && obs.dim() == 2 ? obs.size(0) : 0;
  TORCH_CHECK(rows >= agents_ && rows % agents_ == 0, "FusedSacUpdate::act: obs must be [",
              agents_ == 1 ? "n" : std::to_string(agents_) + " agents x n", " >= 1, ", obs_dim_,
              "], got ", obs.sizes());
  check_input(obs, "obs", rows, obs_dim_, device_);
  const int64_t n = rows / agents_;
  ActBuffers& b = act_buffers_[{n, deterministic}];
  if (!b.action.defined()) {
    const auto f32 = at::TensorOptions().device(device_).dtype(at::kFloat);
    b.ws = actor_mlp_.workspace(n, f32);
    b.in = at::zeros({agents_, n, obs_dim_ + 1}, f32);
    b.eps = at::zeros({agents_, n, act_dim_}, f32);
    b.action = at::zeros({agents_, n, act_dim_}, f32);
    b.out = b.action.view({rows, act_dim_});
  }
#ifdef VECSAC_WITH_CUDA
  const c10::OptionalDeviceGuard guard(device_.is_cuda() ? std::optional<c10::Device>(device_)
                                                         : std::nullopt);
#endif
  b.rows = {rows,
            obs_dim_,
            act_dim_,
            obs.const_data_ptr<float>(),
            ptr(b.in),
            ptr(b.ws.output),
            ptr(b.eps),
            ptr(b.action),
            constants_.action_scale};
  run_act(ActKernel::kStage, b.rows, device_);
  actor_mlp_.forward(ptr(actor_params), actor_mlp_.input_rows(ptr(b.in), n, /*shared=*/false), b.ws,
                     device_);
  return b;
}

const at::Tensor& FusedSacUpdate::sample_act(ActBuffers& b) {
#ifdef VECSAC_WITH_CUDA
  const c10::OptionalDeviceGuard guard(device_.is_cuda() ? std::optional<c10::Device>(device_)
                                                         : std::nullopt);
#endif
  run_act(ActKernel::kSample, b.rows, device_);
  return b.out;
}

void FusedSacUpdate::update_with_noise(const Batch& b, const at::Tensor& eps, bool update_targets) {
  prepare(b);
  TORCH_CHECK(eps.numel() == eps_.numel(), "FusedSacUpdate: noise must hold ", agents_, " x 2 x ",
              batch_, " x ", act_dim_, " values, got ", eps.sizes());
  eps_.copy_(eps.reshape(eps_.sizes()));
  run_update(b, update_targets);
}

void FusedSacUpdate::prepare(const Batch& b) {
  // A population's batch is its agents' batches one after another: [K * B, ...].
  const int64_t rows = b.obs.defined() && b.obs.dim() >= 1 ? b.obs.size(0) : 0;
  TORCH_CHECK(rows >= 1, "FusedSacUpdate: empty batch");
  TORCH_CHECK(rows % agents_ == 0, "FusedSacUpdate: a batch of ", agents_,
              " agents needs a multiple of ", agents_, " rows (agent-major), got ", rows);
  check_input(b.obs, "obs", rows, obs_dim_, device_);
  check_input(b.act, "act", rows, act_dim_, device_);
  check_input(b.reward, "reward", rows, 0, device_);
  check_input(b.next_obs, "next_obs", rows, obs_dim_, device_);
  check_input(b.terminated, "terminated", rows, 0, device_);
  if (rows / agents_ != batch_) allocate(rows / agents_);
}

void FusedSacUpdate::run_update(const Batch& b, bool update_targets) {
#ifdef VECSAC_WITH_CUDA
  const c10::OptionalDeviceGuard guard(device_.is_cuda() ? std::optional<c10::Device>(device_)
                                                         : std::nullopt);
#endif
  const int64_t batch = batch_;
  const SacRows p = rows(b);
  const c10::Device d = device_;
  const float* actor = ptr(actor_params);
  const float* critic = ptr(critic_params);
  // Every member reads rows of its own: the agents' actors theirs, each twin its copy.
  const Rows actor_in = actor_mlp_.input_rows(ptr(actor_in_), 2 * batch, /*shared=*/false);
  const Rows q_data = critic_mlp_.input_rows(ptr(q_in_data_), batch, false);
  const Rows q_pi = critic_mlp_.input_rows(ptr(q_in_pi_), batch, false);

  // Policy samples on obs and next_obs in one pass of 2B rows, then the Bellman target from
  // the target critics and the critic loss (whose kernel also steps the temperature).
  run(Kernel::kStage, p, d);
  actor_mlp_.forward(actor, actor_in, actor_ws_, d);
  run(Kernel::kPolicy, p, d);
  critic_mlp_.forward(ptr(target_params), critic_mlp_.input_rows(ptr(q_in_next_), batch, false),
                      target_ws_, d);
  critic_mlp_.forward(critic, q_data, data_ws_, d);
  run(Kernel::kCriticLoss, p, d);
  critic_mlp_.backward(critic, q_data, data_ws_, ptr(critic_grad), nullptr, d);
  adam_polyak({ptr(critic_params), ptr(critic_grad), ptr(critic_exp_avg), ptr(critic_exp_avg_sq),
               critic_params.numel(), critic_layout_},
              {nullptr, nullptr, 0, critic_layout_}, p.scalars, constants_, d);

  // The actor through the updated critics, whose weights get no gradient.
  critic_mlp_.forward(critic, q_pi, pi_ws_, d);
  run(Kernel::kActorLoss, p, d);
  critic_mlp_.backward(critic, q_pi, pi_ws_, nullptr, ptr(q_in_grad_), d);
  run(Kernel::kPolicyBackward, p, d);
  // The obs rows only: the first B of each agent's 2B.
  const Rows actor_obs{actor_in.data, agents_,     batch,
                       actor_in.cols, actor_in.ld, actor_in.member_stride};
  actor_mlp_.backward(actor, actor_obs, actor_ws_, ptr(actor_grad), nullptr, d);
  adam_polyak({ptr(actor_params), ptr(actor_grad), ptr(actor_exp_avg), ptr(actor_exp_avg_sq),
               actor_params.numel(), actor_layout_},
              {ptr(target_params), ptr(critic_params), update_targets ? critic_params.numel() : 0,
               critic_layout_},
              p.scalars, constants_, d);
}
// HOT LOOP END

}  // namespace vecsac
