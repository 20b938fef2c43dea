/// @brief VecEnv: tensor bookkeeping and device dispatch of the shared per-env ops.
#include "vecsac/env/vec_env.h"

#include <ATen/ops/arange.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/isfinite.h>
#include <ATen/ops/tensor.h>
#include <ATen/ops/zeros.h>

#include <string>
#include <utility>
#include <vector>

#include "vecsac/env/vec_env_launch.h"
#include "vecsac/nn/launch_count.h"
#include "vecsac/util/cpu_pool.h"

#ifdef VECSAC_WITH_CUDA
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace vecsac {
namespace {

// Envs per CPU task: large enough that thread hand-off is negligible next to
// the work, small enough that both cores share a 4096-env step.
constexpr int64_t kCpuGrain = 2048;

// HOT LOOP BEGIN
template <class Env, class Op>
void cpu_loop(const Op& op, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) op.template run<Env>(i);
}

// The env arithmetic is in double, and x86-64's baseline SSE2 holds two per
// vector (AVX2 four, AVX-512 eight): clones of the vectorized pass ran 1.15-1.2x
// faster here. The loader picks one clone (GCC ifunc), so the binary still runs on
// any x86-64; -ffp-contract=off keeps FMA out, so every clone rounds identically.
#if defined(__x86_64__) && defined(__GNUC__)
#define VECSAC_CPU_CLONES \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define VECSAC_CPU_CLONES
#endif

template <class Env>
VECSAC_CPU_CLONES int advance_dim1(const StepOp op, int64_t begin, int64_t end) {
  int any_done = 0;
#pragma omp simd reduction(| : any_done)
  for (int64_t i = begin; i < end; ++i) any_done |= op.advance<Env, FixedDim<1>>(i);
  return any_done;
}

// The step in two passes over each chunk: the branch-free advance, which for
// single-axis envs the compiler vectorizes (lanes are independent envs doing
// the same IEEE ops, so results are unchanged), then the episode ends, which
// come in bursts (every 200 steps) so most chunks skip the second pass. A
// per-env check of the flags instead would cost as much as the step itself.
template <class Env>
void cpu_loop(const StepOp& shared_op, int64_t begin, int64_t end) {
  // A private copy: stores through the op's bool* (a char type, which may alias
  // anything) would otherwise force reloading every pointer of a shared op.
  const StepOp op = shared_op;
  if (op.params.action_repeat != 1) {
    for (int64_t i = begin; i < end; ++i) op.run<Env>(i);
    return;
  }
  int any_done = 0;
  if (op.params.dim == 1) {
    any_done = advance_dim1<Env>(op, begin, end);
  } else {
    for (int64_t i = begin; i < end; ++i) any_done |= op.advance<Env>(i);
  }
  if (!any_done) return;
  for (int64_t i = begin; i < end; ++i) {
    if (op.terminated[i] || op.truncated[i]) op.end_episode<Env>(i);
  }
}

template <class Op>
void run_on(const Op& op, c10::Device device) {
  count_launch();
  if (device.is_cpu()) {
    visit_env(op.params.id, [&](auto env) {
      parallel_for(0, op.n, kCpuGrain,
                   [&](int64_t begin, int64_t end) { cpu_loop<decltype(env)>(op, begin, end); });
    });
    return;
  }
#ifdef VECSAC_WITH_CUDA
  const c10::cuda::CUDAGuard guard(device);
  launch_vec_env(op, c10::cuda::getCurrentCUDAStream(device.index()).stream());
#else
  TORCH_CHECK(false, "VecEnv: device ", device,
              " needs CUDA, but this vecsac was built with VECSAC_CUDA=OFF; use device cpu");
#endif
}

// HOT LOOP END
}  // namespace

namespace {

// The first field in which `other` differs from `first`, seeds aside; "" when none does.
std::string params_difference(const EnvParams& first, const EnvParams& other) {
  const std::pair<const char*, bool> fields[] = {
      {"env", first.id != other.id},
      {"dim", first.dim != other.dim},
      {"max_episode_steps", first.max_episode_steps != other.max_episode_steps},
      {"action_repeat", first.action_repeat != other.action_repeat}};
  for (const auto& [name, differs] : fields) {
    if (differs) return name;
  }
  return "";
}

}  // namespace

VecEnv::VecEnv(const EnvParams& params, int64_t num_envs, c10::Device device)
    : VecEnv(std::vector<EnvParams>{params}, num_envs, device) {}

VecEnv::VecEnv(const std::vector<EnvParams>& agents, int64_t envs_per_agent, c10::Device device)
    : params_(agents.empty() ? EnvParams{} : agents.front()),
      n_(static_cast<int64_t>(agents.size()) * envs_per_agent),
      block_(envs_per_agent),
      stride_(n_),
      device_(device),
      obs_dim_(env_obs_dim(params_)),
      act_dim_(env_act_dim(params_)),
      state_dim_(env_state_dim(params_)) {
  TORCH_CHECK(!agents.empty(), "VecEnv: no agents");
  TORCH_CHECK(envs_per_agent >= 1, "VecEnv: num_envs must be >= 1, got ", envs_per_agent);
  TORCH_CHECK(params_.dim >= 1, "VecEnv: dim must be >= 1, got ", params_.dim);
  TORCH_CHECK(params_.dim <= env_max_dim(params_.id), "VecEnv: ", env_dim_rule(params_.id),
              ", got dim ", params_.dim);
  TORCH_CHECK(params_.max_episode_steps >= 1, "VecEnv: max_episode_steps must be >= 1, got ",
              params_.max_episode_steps);
  TORCH_CHECK(params_.action_repeat >= 1, "VecEnv: action_repeat must be >= 1, got ",
              params_.action_repeat);
  TORCH_CHECK(device.is_cpu() || device.is_cuda(), "VecEnv: device must be cpu or cuda, got ",
              device);
  std::vector<int64_t> seeds;
  for (size_t k = 0; k < agents.size(); ++k) {
    const std::string field = params_difference(params_, agents[k]);
    TORCH_CHECK(field.empty(), "VecEnv: agent ", k, "'s ", field, " differs from agent 0's; ",
                "the agents of one VecEnv may differ in their seeds only");
    seeds.push_back(static_cast<int64_t>(agents[k].seed));
    host_seeds_.push_back(agents[k].seed);
  }
  const auto f32 = at::TensorOptions().device(device).dtype(at::kFloat);
  const auto i64 = f32.dtype(at::kLong);
  state_ = at::empty({state_dim_, n_}, f32);
  elapsed_ = at::zeros({n_}, f32.dtype(at::kInt));
  episode_ = at::zeros({n_}, i64);
  episode_return_ = at::zeros({n_}, f32.dtype(at::kDouble));
  finished_count_ = at::zeros({n_}, i64);
  finished_return_sum_ = at::zeros({n_}, f32.dtype(at::kDouble));
  finished_length_sum_ = at::zeros({n_}, i64);
  obs_ = at::empty({n_, obs_dim_}, f32);
  next_obs_ = at::empty({n_, obs_dim_}, f32);
  reward_ = at::empty({n_}, f32);
  terminated_ = at::empty({n_}, f32.dtype(at::kBool));
  truncated_ = at::empty({n_}, f32.dtype(at::kBool));
  seeds_ = at::tensor(seeds, at::kLong).to(device);
  first_recorded_episode_ = at::zeros({static_cast<int64_t>(agents.size())}, i64);
  // "cuda" without an index means the current device; keep the concrete one so
  // that device checks compare equal to the tensors' own device.
  device_ = obs_.device();
  run_on(ResetOp{params_, buffers(), n_, obs_.data_ptr<float>()}, device_);
}

VecEnv VecEnv::agent(int64_t k) const {
  TORCH_CHECK(n_ == stride_, "VecEnv::agent: this is already one agent's view");
  TORCH_CHECK(k >= 0 && k < agents(), "VecEnv::agent: agent ", k, " of ", agents(),
              "; allowed: 0 to ", agents() - 1);
  VecEnv view = *this;
  view.params_.seed = host_seeds_[k];
  view.host_seeds_ = {host_seeds_[k]};
  view.n_ = block_;
  const int64_t first = k * block_;
  view.state_ = state_.narrow(1, first, block_);
  for (at::Tensor VecEnv::*rows :
       {&VecEnv::elapsed_, &VecEnv::episode_, &VecEnv::episode_return_, &VecEnv::finished_count_,
        &VecEnv::finished_return_sum_, &VecEnv::finished_length_sum_, &VecEnv::obs_,
        &VecEnv::next_obs_, &VecEnv::reward_, &VecEnv::terminated_, &VecEnv::truncated_}) {
    view.*rows = (this->*rows).narrow(0, first, block_);
  }
  view.seeds_ = seeds_.narrow(0, k, 1);
  view.first_recorded_episode_ = first_recorded_episode_.narrow(0, k, 1);
  return view;
}

VecEnvBuffers VecEnv::buffers() {
  return VecEnvBuffers{state_.data_ptr<float>(),
                       elapsed_.data_ptr<int32_t>(),
                       episode_.data_ptr<int64_t>(),
                       episode_return_.data_ptr<double>(),
                       finished_count_.data_ptr<int64_t>(),
                       finished_return_sum_.data_ptr<double>(),
                       finished_length_sum_.data_ptr<int64_t>(),
                       first_recorded_episode_.const_data_ptr<int64_t>(),
                       seeds_.const_data_ptr<int64_t>(),
                       block_,
                       stride_};
}

void VecEnv::observe() {
  run_on(ObserveOp{params_, state_.data_ptr<float>(), n_, stride_, obs_.data_ptr<float>()},
         device_);
}

void VecEnv::stagger_time_limits() {
  const int64_t limit = params_.max_episode_steps;
  elapsed_.copy_(at::arange(n_, at::TensorOptions().dtype(at::kLong))
                     .remainder_(block_)
                     .mul_(limit)
                     .div_(block_, "floor")
                     .to(at::kInt));
  first_recorded_episode_.fill_(1);
}

// HOT LOOP BEGIN
StepResult VecEnv::step(const at::Tensor& actions) {
  TORCH_CHECK(actions.dim() == 2 && actions.size(0) == n_ && actions.size(1) == act_dim_,
              "VecEnv::step: actions must have shape [num_envs=", n_, ", act_dim=", act_dim_,
              "], got ", actions.sizes());
  TORCH_CHECK(actions.scalar_type() == at::kFloat, "VecEnv::step: actions must be float32, got ",
              actions.scalar_type());
  TORCH_CHECK(actions.device() == device_, "VecEnv::step: actions must be on ", device_, ", got ",
              actions.device());
  const at::Tensor a = actions.contiguous();
  run_on(StepOp{params_, buffers(), n_, a.data_ptr<float>(), next_obs_.data_ptr<float>(),
                obs_.data_ptr<float>(), reward_.data_ptr<float>(), terminated_.data_ptr<bool>(),
                truncated_.data_ptr<bool>()},
         device_);
  return StepResult{next_obs_, reward_, terminated_, truncated_};
}

// HOT LOOP END

void VecEnv::set_state(const at::Tensor& states) {
  TORCH_CHECK(states.dim() == 2 && states.size(0) == n_ && states.size(1) == state_dim_,
              "VecEnv::set_state: states must have shape [num_envs=", n_,
              ", state_dim=", state_dim_, "], got ", states.sizes());
  TORCH_CHECK(at::isFloatingType(states.scalar_type()),
              "VecEnv::set_state: states must be floating point, got ", states.scalar_type());
  // Checked after the cast: a finite double such as 1e39 is inf in float32.
  const at::Tensor f32 = states.to(at::kFloat);
  TORCH_CHECK(at::isfinite(f32).all().item<bool>(),
              "VecEnv::set_state: states must be finite in float32 (no NaN, Inf or |x| > 3.4e38)");
  state_.copy_(f32.t());
  first_recorded_episode_.zero_();
  elapsed_.zero_();
  episode_.zero_();
  episode_return_.zero_();
  finished_count_.zero_();
  finished_return_sum_.zero_();
  finished_length_sum_.zero_();
  observe();
}

VecEnvSnapshot VecEnv::snapshot() const {
  // Copies always: an agent's view must not serialise every agent's envs, and a single env's
  // checkpoint then pickles exactly as its agent's in a population does (the pickler
  // memoizes a tensor by whether something else holds it too).
  const auto own = [](const at::Tensor& t) { return t.clone(at::MemoryFormat::Contiguous); };
  return {own(state_),
          own(elapsed_),
          own(episode_),
          own(episode_return_),
          own(finished_count_),
          own(finished_return_sum_),
          own(finished_length_sum_)};
}

void VecEnv::restore(const VecEnvSnapshot& s) {
  const std::pair<const at::Tensor*, at::Tensor*> pairs[] = {
      {&s.state, &state_},
      {&s.elapsed, &elapsed_},
      {&s.episode, &episode_},
      {&s.episode_return, &episode_return_},
      {&s.finished_count, &finished_count_},
      {&s.finished_return_sum, &finished_return_sum_},
      {&s.finished_length_sum, &finished_length_sum_}};
  for (const auto& [from, to] : pairs) {
    TORCH_CHECK(
        from->defined() && from->sizes() == to->sizes() && from->scalar_type() == to->scalar_type(),
        "VecEnv::restore: snapshot tensor ", from->defined() ? from->sizes() : at::IntArrayRef{},
        " does not match this env's ", to->sizes(), " ", to->scalar_type(),
        " (was the checkpoint made with another env, num_envs or dim?)");
  }
  for (const auto& [from, to] : pairs) to->copy_(*from);
  observe();
}

at::Tensor VecEnv::state() const { return state_.t().contiguous(); }

EpisodeStats VecEnv::take_episode_stats() {
  EpisodeStats s{finished_count_.sum(), finished_return_sum_.sum(), finished_length_sum_.sum()};
  finished_count_.zero_();
  finished_return_sum_.zero_();
  finished_length_sum_.zero_();
  return s;
}

double VecEnv::action_limit() const { return env_action_limit(params_); }

}  // namespace vecsac
