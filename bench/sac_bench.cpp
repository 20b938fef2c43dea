/// @brief SAC gradient steps and training iterations at configs/pointmass.json's settings, beside
/// the GEMMs one update is made of.
///
/// Update efficiency = FLOP/s of BM_SacUpdate_X/B ÷ FLOP/s of BM_GemmReference_X/B
/// (bench/README.md).
#include <ATen/ATen.h>
#include <ATen/record_function.h>
#include <benchmark/benchmark.h>

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "bench_util.h"
#include "vecsac/env/vec_env.h"
#include "vecsac/sac/train_iteration.h"
#include "vecsac/sac/trainer.h"

namespace vecsac::bench {
namespace {

const std::vector<int64_t> kBatches = {256, 1024, 4096};

/// out[E, M, N] = A[E, M, K] · B[E, K, N]; a_t / b_t: that operand is a
/// transposed view, as the MLP's backward passes it to bmm.
struct Gemm {
  int64_t e, m, k, n;
  bool a_t, b_t;
  double flops() const { return 2.0 * e * m * k * n; }
};

enum class InputGrad { kNone, kHidden, kAll };

// One EnsembleMlp pass over `rows` rows (one bmm per layer, nn/ensemble_mlp.h)
// and its backward: weight gradients hᵀ·g when the weights train, input
// gradients g·Wᵀ for the hidden layers, and for the first layer only when the
// input itself needs a gradient (the actor's action through the critics).
void add_mlp(std::vector<Gemm>& out, int64_t e, const std::vector<int64_t>& sizes, int64_t rows,
             bool weight_grads, InputGrad input_grads) {
  for (size_t l = 0; l + 1 < sizes.size(); ++l) {
    const int64_t in = sizes[l], o = sizes[l + 1];
    out.push_back({e, rows, in, o, false, false});
    if (weight_grads) out.push_back({e, in, rows, o, /*a_t=*/true, false});
    if (input_grads == InputGrad::kAll || (input_grads == InputGrad::kHidden && l > 0)) {
      out.push_back({e, rows, o, in, false, /*b_t=*/true});
    }
  }
}

/// Every GEMM of one SacLearner::update on a batch of B (src/sac/learner.cpp).
std::vector<Gemm> update_gemms(int64_t batch, int64_t obs_dim, int64_t act_dim,
                               const SacConfig& sac) {
  std::vector<int64_t> actor{obs_dim}, critic{obs_dim + act_dim};
  actor.insert(actor.end(), sac.pi_arch.begin(), sac.pi_arch.end());
  critic.insert(critic.end(), sac.qf_arch.begin(), sac.qf_arch.end());
  actor.push_back(2 * act_dim);  // mean and log std
  critic.push_back(1);
  std::vector<Gemm> g;
  // π(obs): feeds the temperature and actor losses; the actor loss trains it.
  add_mlp(g, /*e=*/1, actor, batch, /*weight_grads=*/true, InputGrad::kHidden);
  // π(next_obs) and the target critics, under no_grad: the Bellman target.
  add_mlp(g, 1, actor, batch, false, InputGrad::kNone);
  add_mlp(g, 2, critic, batch, false, InputGrad::kNone);
  // The critics on the stored (obs, act): the critic loss trains them.
  add_mlp(g, 2, critic, batch, true, InputGrad::kHidden);
  // The critics as constants on (obs, π action): the gradient reaches the action.
  add_mlp(g, 2, critic, batch, false, InputGrad::kAll);
  return g;
}

double total_flops(const std::vector<Gemm>& gemms) {
  double f = 0;
  for (const Gemm& g : gemms) f += g.flops();
  return f;
}

std::vector<Gemm> update_gemms(const Fixture& f, int64_t batch) {
  return update_gemms(batch, f.obs_dim, f.act_dim, update_config().sac);
}

// GEMM FLOPs that torch actually ran inside fn(), from the dispatcher's
// RecordFunction hooks (forward and autograd's backward ops alike).
double traced_gemm_flops(const std::function<void()>& fn) {
  static double flops = 0;
  flops = 0;
  auto count = [](const at::RecordFunction& rf) -> std::unique_ptr<at::ObserverContext> {
    const std::string name = rf.name();
    if (name != "aten::bmm" && name != "aten::baddbmm") return nullptr;
    // bmm(a, b) or baddbmm(bias, a, b): the last two tensors.
    const auto in = rf.inputs();
    const size_t first = name == "aten::bmm" ? 0 : 1;
    const auto a = in[first].toTensor().sizes(), b = in[first + 1].toTensor().sizes();
    flops += 2.0 * a[0] * a[1] * a[2] * b[2];
    return nullptr;
  };
  const auto handle = at::addThreadLocalCallback(
      at::RecordFunctionCallback(count).needsInputs(true).scopes({at::RecordScope::FUNCTION}));
  fn();
  at::removeCallback(handle);
  return flops;
}

void report_flops(benchmark::State& state, double flops_per_update) {
  state.counters["flops_per_update"] = flops_per_update;
  state.counters["FLOP/s"] = benchmark::Counter(
      flops_per_update * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

// One gradient step as the trainer calls it. Sampling stays outside the timed
// region (BM_ReplaySample measures it): a few batches drawn up front, in turn.
void sac_update(benchmark::State& state, c10::DeviceType type) {
  const auto device = device_or_skip(state, type);
  if (!device) return;
  Fixture& f = fixture(*device, update_config());
  const int64_t batch = state.range(0);
  std::vector<Batch> batches;
  for (int i = 0; i < 8; ++i) batches.push_back(f.replay->sample(batch, f.replay_gen));
  size_t next = 0;
  auto update = [&] { f.learner->update(batches[next++ % batches.size()]); };

  // The FLOP count is a formula of the shapes; check it against what one
  // update really runs, so a change to the learner cannot leave it stale.
  const double flops = total_flops(update_gemms(f, batch));
  const double traced = traced_gemm_flops(update);
  if (traced != flops) {
    char msg[160];
    std::snprintf(msg, sizeof msg,
                  "update_gemms() is stale: %.0f GEMM FLOPs per update, traced %.0f", flops,
                  traced);
    state.SkipWithError(msg);
    return;
  }
  time_iterations(state, *device, update);
  state.SetItemsProcessed(state.iterations());
  report_flops(state, flops);
}

// The GEMM rate the update could reach: each GEMM of one update, at its shape
// and operand layout, into preallocated outputs, nothing else.
void gemm_reference(benchmark::State& state, c10::DeviceType type) {
  const auto device = device_or_skip(state, type);
  if (!device) return;
  const std::vector<Gemm> gemms = update_gemms(fixture(*device, update_config()), state.range(0));
  const auto f32 = at::TensorOptions().device(*device).dtype(at::kFloat);
  std::vector<at::Tensor> a, b, out;
  for (const Gemm& g : gemms) {
    a.push_back(g.a_t ? at::randn({g.e, g.k, g.m}, f32).transpose(1, 2)
                      : at::randn({g.e, g.m, g.k}, f32));
    b.push_back(g.b_t ? at::randn({g.e, g.n, g.k}, f32).transpose(1, 2)
                      : at::randn({g.e, g.k, g.n}, f32));
    out.push_back(at::empty({g.e, g.m, g.n}, f32));
  }
  time_iterations(state, *device, [&] {
    for (size_t i = 0; i < gemms.size(); ++i) at::bmm_out(out[i], a[i], b[i]);
  });
  state.SetItemsProcessed(state.iterations());
  report_flops(state, total_flops(gemms));
}

// One iteration of train()'s loop after learning_starts, the loop's own body
// (sac/train_iteration.h): act, step N envs, insert, then the configured
// gradient steps, at configs/pointmass.json's settings and network widths.
void train_iteration_bench(benchmark::State& state, c10::DeviceType type) {
  const auto device = device_or_skip(state, type);
  if (!device) return;
  const Config& config = pointmass_config();
  Fixture& f = fixture(*device, config);
  const int64_t n = state.range(0);
  VecEnv env(env_params_of(config, kEnvSeed), n, *device);
  LoopCounters counters{config.sac.learning_starts, 0, 0};
  TrainingState training{*f.learner, *f.replay, env, f.replay_gen, f.explore_gen, counters};
  const at::Tensor obs_before = at::empty_like(env.obs());
  time_iterations(state, *device, [&] { train_iteration(training, config, obs_before); });
  state.SetItemsProcessed(state.iterations() * n);  // env transitions
  state.counters["updates_per_iteration"] =
      static_cast<double>(config.sac.gradient_steps) / config.sac.train_freq;
  state.counters["batch_size"] = static_cast<double>(config.sac.batch_size);
}

const int kRegistered[] = {
    register_cpu_and_cuda("BM_SacUpdate", sac_update, kBatches),
    register_cpu_and_cuda("BM_GemmReference", gemm_reference, kBatches),
    register_cpu_and_cuda("BM_TrainIteration", train_iteration_bench, {64, 1024, 16384}),
};

}  // namespace
}  // namespace vecsac::bench
