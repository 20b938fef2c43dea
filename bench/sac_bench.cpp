/// @brief SAC gradient steps and training iterations at configs/pointmass.json's settings, beside
/// the GEMMs one update is made of.
///
/// Update efficiency = FLOP/s of BM_SacUpdate_X/B ÷ FLOP/s of BM_GemmReference_X/B
/// (bench/README.md).
#include <ATen/ATen.h>
#include <ATen/record_function.h>
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "bench_util.h"
#include "vecsac/env/vec_env.h"
#include "vecsac/nn/cpu_gemm.h"
#include "vecsac/nn/gemm.h"
#include "vecsac/nn/launch_count.h"
#include "vecsac/sac/agent_group.h"
#include "vecsac/sac/train_iteration.h"
#include "vecsac/sac/trainer.h"
#include "vecsac/util/generator.h"

namespace vecsac::bench {
namespace {

const std::vector<int64_t> kBatches = {256, 1024, 4096};

/// out[E, M, N] = A[E, M, K] · B[E, K, N]; a_t / b_t: that operand is a
/// transposed view, as the MLP's backward passes it to bmm.
struct GemmShape {
  int64_t e, m, k, n;
  bool a_t, b_t;
  double flops() const { return 2.0 * e * m * k * n; }
};

enum class InputGrad { kNone, kHidden, kAll };

// One EnsembleMlp pass over `rows` rows (one bmm per layer, nn/ensemble_mlp.h)
// and its backward: weight gradients hᵀ·g when the weights train, input
// gradients g·Wᵀ for the hidden layers, and for the first layer only when the
// input itself needs a gradient (the actor's action through the critics).
void add_mlp(std::vector<GemmShape>& out, int64_t e, const std::vector<int64_t>& sizes,
             int64_t rows, bool weight_grads, InputGrad input_grads) {
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
std::vector<GemmShape> update_gemms(int64_t batch, int64_t obs_dim, int64_t act_dim,
                                    const SacConfig& sac) {
  std::vector<int64_t> actor{obs_dim}, critic{obs_dim + act_dim};
  actor.insert(actor.end(), sac.pi_arch.begin(), sac.pi_arch.end());
  critic.insert(critic.end(), sac.qf_arch.begin(), sac.qf_arch.end());
  actor.push_back(2 * act_dim);  // mean and log std
  critic.push_back(1);
  std::vector<GemmShape> g;
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

double total_flops(const std::vector<GemmShape>& gemms) {
  double f = 0;
  for (const GemmShape& g : gemms) f += g.flops();
  return f;
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

// Ops that only re-describe memory: no kernel on any device.
bool is_view_op(const std::string& name) {
  static const std::set<std::string> views = {
      "aten::view",   "aten::reshape",    "aten::_reshape_alias", "aten::select",
      "aten::slice",  "aten::narrow",     "aten::expand",         "aten::transpose",
      "aten::t",      "aten::squeeze",    "aten::unsqueeze",      "aten::detach",
      "aten::alias",  "aten::as_strided", "aten::_unsafe_view",   "aten::permute",
      "aten::unbind", "aten::expand_as",  "aten::view_as",        "aten::lift_fresh"};
  return views.count(name) > 0;
}

// The launch count one call of fn() would have on a GPU, counted on any device: every
// ATen op it dispatches that is not a view (RecordFunction sees nested ops and
// autograd's backward ops too), plus every vecsac GEMM or kernel wrapper call.
int64_t ops_in(const std::function<void()>& fn) {
  static int64_t ops = 0;
  ops = 0;
  auto count = [](const at::RecordFunction& rf) -> std::unique_ptr<at::ObserverContext> {
    if (!is_view_op(rf.name())) ++ops;
    return nullptr;
  };
  const auto handle = at::addThreadLocalCallback(
      at::RecordFunctionCallback(count).scopes({at::RecordScope::FUNCTION}));
  const int64_t launches_before = launch_count().load();
  fn();
  const int64_t launches = launch_count().load() - launches_before;
  at::removeCallback(handle);
  return ops + launches;
}

// Batches drawn up front, used in turn: sampling stays outside the timed region
// (BM_ReplaySample measures it).
std::vector<Batch> batches_of(Fixture& f, int64_t batch) {
  std::vector<Batch> batches;
  for (int i = 0; i < 8; ++i) batches.push_back(f.replay->sample(batch, *f.replay_stream));
  return batches;
}

// The autograd path's learner (the oracle), built beside the fixture's fused one.
SacLearner& autograd_learner(c10::Device device, const Config& config, const Fixture& f) {
  static auto* const built =
      new std::map<std::pair<std::string, const Config*>, std::unique_ptr<SacLearner>>;
  auto& slot = (*built)[{device.str(), &config}];
  if (!slot) {
    slot = std::make_unique<SacLearner>(config.sac, f.obs_dim, f.act_dim, f.action_limit, device,
                                        config.run.seed, UpdatePath::kAutograd);
  }
  return *slot;
}

// One gradient step as the trainer calls it, on the fused engine (or the autograd
// oracle), at `config`'s network widths and the benchmark's batch size.
void sac_update(benchmark::State& state, c10::DeviceType type, const Config& config,
                UpdatePath path) {
  const auto device = device_or_skip(state, type);
  if (!device) return;
  Fixture& f = fixture(*device, config);
  SacLearner& learner =
      path == UpdatePath::kFused ? *f.learner : autograd_learner(*device, config, f);
  const int64_t batch = state.range(0);
  const std::vector<Batch> batches = batches_of(f, batch);
  size_t next = 0;
  auto update = [&] { learner.update(batches[next++ % batches.size()]); };
  update();  // the first update of a batch size allocates the engine's buffers

  const double flops = total_flops(update_gemms(batch, f.obs_dim, f.act_dim, config.sac));
  if (path == UpdatePath::kAutograd) {
    // The FLOP count is a formula of the shapes; check it against what the autograd
    // update really runs (its GEMMs are ATen ops), so a change cannot leave it stale.
    const double traced = traced_gemm_flops(update);
    if (traced != flops) {
      char msg[160];
      std::snprintf(msg, sizeof msg,
                    "update_gemms() is stale: %.0f GEMM FLOPs per update, traced %.0f", flops,
                    traced);
      state.SkipWithError(msg);
      return;
    }
  }
  state.counters["ops_per_update"] = static_cast<double>(ops_in(update));
  time_iterations(state, *device, update);
  state.SetItemsProcessed(state.iterations());
  report_flops(state, flops);
}

// The GEMM time the update could reach: the fused engine's own GEMM calls of one update
// (recorded from it), at their shapes, layouts and buffers, replayed with nothing else.
// BM_SacUpdate time / this time is the update's overhead over its GEMMs.
// VECSAC_GEMM_BREAKDOWN=1: each of the update's GEMMs alone (CPU), to see which shapes run
// below the machine's FLOP rate.
void print_gemm_breakdown(const std::vector<vecsac::Gemm>& gemms, c10::Device device) {
  constexpr int kReps = 200;
  for (const vecsac::Gemm& g : gemms) {
    const auto start = std::chrono::steady_clock::now();
    for (int r = 0; r < kReps; ++r) gemm(g, device);
    const double us =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
            .count() /
        kReps;
    std::fprintf(
        stderr, "gemm %c%c m %5lld n %4lld k %5lld batch %lld relu %d: %8.1f us %6.1f GFLOP/s\n",
        g.trans_a ? 'T' : 'N', g.trans_b ? 'T' : 'N', static_cast<long long>(g.m),
        static_cast<long long>(g.n), static_cast<long long>(g.k), static_cast<long long>(g.batch),
        g.relu ? 1 : 0, us, 2.0 * g.batch * g.m * g.n * g.k / us * 1e-3);
  }
}

void gemm_reference(benchmark::State& state, c10::DeviceType type, const Config& config) {
  const auto device = device_or_skip(state, type);
  if (!device) return;
  Fixture& f = fixture(*device, config);
  const std::vector<Batch> batches = batches_of(f, state.range(0));
  f.learner->update(batches[0]);
  std::vector<vecsac::Gemm> gemms;
  gemm_recorder() = &gemms;
  f.learner->update(batches[1]);
  gemm_recorder() = nullptr;
  double flops = 0;
  for (const vecsac::Gemm& g : gemms) flops += 2.0 * g.batch * g.m * g.n * g.k;
  if (std::getenv("VECSAC_GEMM_BREAKDOWN") != nullptr && device->is_cpu()) {
    print_gemm_breakdown(gemms, *device);
  }
  time_iterations(state, *device, [&] {
    for (const vecsac::Gemm& g : gemms) gemm(g, *device);
  });
  state.SetItemsProcessed(state.iterations());
  state.counters["gemms_per_update"] = static_cast<double>(gemms.size());
  report_flops(state, flops);
}

// One iteration of train()'s loop after learning_starts, the loop's own body
// (sac/train_iteration.h): act, step N envs, insert, then the configured
// gradient steps, at a config's settings and network widths.
void train_iteration_bench(benchmark::State& state, c10::DeviceType type, const Config& config) {
  const auto device = device_or_skip(state, type);
  if (!device) return;
  Fixture& f = fixture(*device, config);
  const int64_t n = state.range(0);
  VecEnv env(env_params_of(config, kEnvSeed), n, *device);
  LoopCounters counters{config.sac.learning_starts, 0, 0};
  TrainingState training{*f.learner, *f.replay, env, *f.replay_stream, *f.explore_stream, counters};
  const at::Tensor obs_before = at::empty_like(env.obs());
  state.counters["ops_per_iteration"] =
      static_cast<double>(ops_in([&] { train_iteration(training, config, obs_before); }));
  time_iterations(state, *device, [&] { train_iteration(training, config, obs_before); });
  state.SetItemsProcessed(state.iterations() * n);  // env transitions
  state.counters["updates_per_iteration"] =
      static_cast<double>(config.sac.gradient_steps) / config.sac.train_freq;
  state.counters["batch_size"] = static_cast<double>(config.sac.batch_size);
}

// The same family with MKL's sgemm for every CPU GEMM instead of vecsac's own kernels
// (nn/cpu_gemm.h): the two in one run, on the CPU only.
template <class Fn>
int register_cpu_mkl(const std::string& name, Fn fn, const std::vector<int64_t>& args) {
  auto* b = benchmark::RegisterBenchmark((name + "_Cpu").c_str(), [fn](benchmark::State& state) {
    set_cpu_gemm(CpuGemm::kMkl);
    fn(state, c10::kCPU);
    set_cpu_gemm(CpuGemm::kAuto);
  });
  for (const int64_t a : args) b->Arg(a);
  b->UseRealTime();
  return 0;
}

// A population of K agents (issue #15) at `config`'s widths and batch in one engine: one
// update of all K. Items are agent-updates, so items_per_second against K = 1's is what
// batching the agents buys; ops_per_update stays one agent's.
void population_update(benchmark::State& state, c10::DeviceType type, const Config& config) {
  const auto device = device_or_skip(state, type);
  if (!device) return;
  Fixture& f = fixture(*device, config);
  const int64_t agents = state.range(0), batch = config.sac.batch_size;
  FusedSacUpdate engine(f.obs_dim, f.act_dim, config.sac.pi_arch, config.sac.qf_arch,
                        engine_constants(config.sac, f.act_dim, f.action_limit),
                        static_cast<float>(config.sac.tau), *device, agents);
  at::Generator gen = make_generator(*device, 1);
  for (at::Tensor* t : {&engine.actor_params, &engine.critic_params}) {
    t->uniform_(-0.1, 0.1, gen);
  }
  engine.target_params.copy_(engine.critic_params);
  engine.set_learning_rate(config.sac.learning_rate);
  std::vector<Batch> batches;
  for (int i = 0; i < 8; ++i) {
    std::vector<Batch> parts;
    for (int64_t k = 0; k < agents; ++k) parts.push_back(f.replay->sample(batch, *f.replay_stream));
    auto cat = [&](at::Tensor Batch::*field) {
      std::vector<at::Tensor> xs;
      for (const Batch& b : parts) xs.push_back(b.*field);
      return at::cat(xs);
    };
    batches.push_back({cat(&Batch::obs), cat(&Batch::act), cat(&Batch::reward),
                       cat(&Batch::next_obs), cat(&Batch::terminated)});
  }
  const at::Tensor keys = at::arange(agents, at::TensorOptions().dtype(at::kLong).device(*device));
  size_t next = 0;
  auto update = [&] {
    const size_t i = next++;
    engine.update(batches[i % batches.size()], keys, static_cast<int64_t>(i), i % 2 == 0);
  };
  update();
  state.counters["ops_per_update"] = static_cast<double>(ops_in(update));
  time_iterations(state, *device, update);
  state.SetItemsProcessed(state.iterations() * agents);
  state.counters["agents"] = static_cast<double>(agents);
}

// One training iteration of a population of K agents (sac/agent_group.h: acting, the env
// step, the insert, the draws and the gradient steps, each once for all K) after
// learning_starts, at `config`'s settings (its replay capped, for memory). Items are
// agent-iterations, so items_per_second against K = 1's is what batching the agents buys;
// ops_per_iteration must not grow with K.
void population_iteration(benchmark::State& state, c10::DeviceType type, const Config& config) {
  const auto device = device_or_skip(state, type);
  if (!device) return;
  const int64_t agents = state.range(0);
  std::vector<Config> configs;
  for (int64_t k = 0; k < agents; ++k) {
    Config c = config;
    c.run.seed = k;
    c.run.device = device->str();
    c.run.select_episodes = 0;
    c.sac.buffer_size = std::min<int64_t>(c.sac.buffer_size, 50000);
    configs.push_back(c);
  }
  AgentGroup group(configs, *device);
  std::vector<std::unique_ptr<TrainingParts>> parts;
  std::vector<std::unique_ptr<TrainingState>> states;
  std::vector<TrainingState*> bound;
  for (int64_t k = 0; k < agents; ++k) {
    parts.push_back(std::make_unique<TrainingParts>(configs[k], *device, &group.seat(k)));
    states.push_back(std::make_unique<TrainingState>(parts.back()->ref()));
    bound.push_back(states.back().get());
  }
  group.bind(bound);
  const LoopCounters& counters = states.front()->counters;
  while (counters.global_step <= config.sac.learning_starts) group.iteration();
  group.iteration();  // the first update allocates the engine's buffers
  state.counters["ops_per_iteration"] = static_cast<double>(ops_in([&] { group.iteration(); }));
  time_iterations(state, *device, [&] { group.iteration(); });
  state.SetItemsProcessed(state.iterations() * agents);
  state.counters["agents"] = static_cast<double>(agents);
}

auto population_iteration_at(const Config& (*config)()) {
  return [config](benchmark::State& state, c10::DeviceType type) {
    population_iteration(state, type, config());
  };
}

auto population_at(const Config& (*config)()) {
  return [config](benchmark::State& state, c10::DeviceType type) {
    population_update(state, type, config());
  };
}

auto iteration_at(const Config& (*config)()) {
  return [config](benchmark::State& state, c10::DeviceType type) {
    train_iteration_bench(state, type, config());
  };
}

template <UpdatePath path>
auto update_at(const Config& (*config)()) {
  return [config](benchmark::State& state, c10::DeviceType type) {
    sac_update(state, type, config(), path);
  };
}
auto reference_at(const Config& (*config)()) {
  return [config](benchmark::State& state, c10::DeviceType type) {
    gemm_reference(state, type, config());
  };
}

// 256-256 at three batch sizes (the peers' shapes); the default config's networks at batch
// 1024 (Default) and at its own batch (MainJob); RLtools's default SAC, 64-64 at batch 100 (Small).
// Each update family has its GEMM reference at the same shapes, and the autograd oracle runs beside
// the 256-256 one, so every speed is a ratio within one run.
const int kRegistered[] = {
    register_cpu_and_cuda("BM_SacUpdate", update_at<UpdatePath::kFused>(update_config), kBatches),
    register_cpu_and_cuda("BM_SacUpdateAutograd", update_at<UpdatePath::kAutograd>(update_config),
                          kBatches),
    register_cpu_and_cuda("BM_GemmReference", reference_at(update_config), kBatches),
    register_cpu_and_cuda("BM_SacUpdateDefault", update_at<UpdatePath::kFused>(pointmass_config),
                          {1024}),
    register_cpu_and_cuda("BM_SacUpdateAutogradDefault",
                          update_at<UpdatePath::kAutograd>(pointmass_config), {1024}),
    register_cpu_and_cuda("BM_GemmReferenceDefault", reference_at(pointmass_config), {1024}),
    // The main job's own shapes: configs/pointmass.json's networks at its own batch size.
    register_cpu_and_cuda("BM_SacUpdateMainJob", update_at<UpdatePath::kFused>(pointmass_config),
                          {pointmass_config().sac.batch_size}),
    register_cpu_and_cuda("BM_GemmReferenceMainJob", reference_at(pointmass_config),
                          {pointmass_config().sac.batch_size}),
    register_cpu_and_cuda("BM_SacUpdateSmall", update_at<UpdatePath::kFused>(small_config), {100}),
    register_cpu_and_cuda("BM_SacUpdateAutogradSmall",
                          update_at<UpdatePath::kAutograd>(small_config), {100}),
    register_cpu_and_cuda("BM_GemmReferenceSmall", reference_at(small_config), {100}),
    register_cpu_mkl("BM_SacUpdateMkl", update_at<UpdatePath::kFused>(update_config), kBatches),
    register_cpu_mkl("BM_GemmReferenceMkl", reference_at(update_config), kBatches),
    register_cpu_mkl("BM_SacUpdateDefaultMkl", update_at<UpdatePath::kFused>(pointmass_config),
                     {1024}),
    register_cpu_mkl("BM_GemmReferenceDefaultMkl", reference_at(pointmass_config), {1024}),
    register_cpu_mkl("BM_SacUpdateSmallMkl", update_at<UpdatePath::kFused>(small_config), {100}),
    register_cpu_mkl("BM_GemmReferenceSmallMkl", reference_at(small_config), {100}),
    register_cpu_and_cuda("BM_TrainIteration", iteration_at(pointmass_config), {64, 1024, 16384}),
    register_cpu_and_cuda("BM_TrainIterationPendulum", iteration_at(pendulum_config), {1}),
    register_cpu_and_cuda("BM_PopulationUpdate", population_at(pointmass_config), {1, 2, 4, 8, 16}),
    register_cpu_and_cuda("BM_PopulationIteration", population_iteration_at(pointmass_config),
                          {1, 4, 16, 64}),
    register_cpu_and_cuda("BM_PopulationIterationPendulum",
                          population_iteration_at(pendulum_config), {1, 2, 4, 8, 16, 64}),
};

}  // namespace
}  // namespace vecsac::bench
