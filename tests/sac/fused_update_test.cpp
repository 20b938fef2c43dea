/// @brief The fused update engine against its oracle, SacLearner's autograd path: losses,
/// every gradient and the parameters after 1 and after 50 steps over a grid of shapes and
/// settings; zero allocations per update; its launch count; the kernels' emulated CUDA
/// grids against the CPU loops; and the CUDA engine against the CPU one where a GPU is.
#include "vecsac/sac/fused_update.h"

#include <ATen/ATen.h>
#include <c10/core/CPUAllocator.h>
#include <gtest/gtest.h>

#include <atomic>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "support/counting_allocator.h"
#include "support/cuda_gpu.h"
#include "support/op_count.h"
#include "vecsac/nn/activation_launch.h"
#include "vecsac/nn/flat_mlp.h"
#include "vecsac/nn/launch_count.h"
#include "vecsac/sac/fused_update_launch.h"
#include "vecsac/sac/learner.h"
#include "vecsac/util/generator.h"

namespace vecsac {
namespace {

const c10::Device kCpu(c10::kCPU);

struct Case {
  std::string name;
  int64_t obs, act;
  std::vector<int64_t> pi, qf;
  int64_t batch;
  std::string weight, ent_coef;
};

std::ostream& operator<<(std::ostream& os, const Case& c) { return os << c.name; }

SacConfig config_of(const Case& c) {
  SacConfig s =
      config_from_json({{"sac", {{"critic_loss_weight", c.weight}, {"ent_coef", c.ent_coef}}}}).sac;
  s.pi_arch = c.pi;
  s.qf_arch = c.qf;
  s.batch_size = c.batch;
  s.learning_rate = 1e-3;
  s.tau = 0.05;  // large enough that a wrong target update shows within 50 steps
  s.gamma = 0.95;
  return s;
}

constexpr double kActionLimit = 2.0;

// A random batch of plausible values: terminal flags on about 1 in 5 rows.
Batch random_batch(const Case& c, at::Generator& gen, c10::Device device = kCpu) {
  const auto f32 = at::TensorOptions().dtype(at::kFloat);
  Batch b;
  b.obs = at::randn({c.batch, c.obs}, gen, f32);
  b.act = (at::rand({c.batch, c.act}, gen, f32) * 2 - 1) * kActionLimit;
  b.reward = -at::rand({c.batch}, gen, f32) * 3;
  b.next_obs = b.obs + 0.1 * at::randn({c.batch, c.obs}, gen, f32);
  b.terminated = (at::rand({c.batch}, gen, f32) < 0.2).to(at::kFloat);
  if (!device.is_cpu()) {
    for (at::Tensor* t : {&b.obs, &b.act, &b.reward, &b.next_obs, &b.terminated}) {
      *t = t->to(device);
    }
  }
  return b;
}

// max |a - b| over max |b|: one scale per tensor, so entries near zero are judged
// against the tensor's size, not their own (float round-off is absolute, not relative).
double rel_err(const at::Tensor& a, const at::Tensor& b) {
  const double scale = b.abs().max().item<double>();
  return (a - b).abs().max().item<double>() / (scale > 0 ? scale : 1.0);
}

std::vector<at::Tensor> params(const SacLearner& l) {
  std::vector<at::Tensor> out;
  for (auto* m : {static_cast<torch::nn::Module*>(l.actor.ptr().get()),
                  static_cast<torch::nn::Module*>(l.critic.ptr().get()),
                  static_cast<torch::nn::Module*>(l.critic_target.ptr().get())}) {
    for (const auto& p : m->parameters()) out.push_back(p.detach().cpu());
  }
  out.push_back(l.log_alpha.detach().cpu().reshape({1}));
  return out;
}

// The oracle's gradients in the engine's parameter order.
std::vector<at::Tensor> oracle_grads(const SacLearner& l) {
  std::vector<at::Tensor> out;
  for (auto* m : {static_cast<torch::nn::Module*>(l.actor.ptr().get()),
                  static_cast<torch::nn::Module*>(l.critic.ptr().get())}) {
    for (const auto& p : m->parameters()) out.push_back(p.grad());
  }
  return out;
}

std::vector<at::Tensor> engine_grads(const SacLearner& l) {
  std::vector<at::Tensor> out = l.engine->actor_mlp().parameter_views(l.engine->actor_grad);
  for (const at::Tensor& g : l.engine->critic_mlp().parameter_views(l.engine->critic_grad)) {
    out.push_back(g);
  }
  return out;
}

// Adam's first step moves each parameter by about -lr sign(g): where |g| is well above
// round-off the two paths must move it alike (to 1e-3 lr), and nowhere by more than lr
// apart (entries with round-off-sized gradients step either way).
void expect_same_adam_step(const at::Tensor& fused, const at::Tensor& oracle,
                           const at::Tensor& before, const at::Tensor& grad, double lr,
                           const std::string& what) {
  const at::Tensor strong = grad.abs() > 1e-3 * grad.abs().max();
  const at::Tensor diff = ((fused - before) - (oracle - before)).abs();
  EXPECT_LT(diff.masked_select(strong).max().item<double>(), 1e-3 * lr) << what;
  EXPECT_LE(diff.max().item<double>(), 1.01 * lr) << what;
}

class FusedUpdateOracle : public ::testing::TestWithParam<Case> {};

// One step from the same initialisation: losses and every gradient agree to 2e-5 of
// their size, float32 round-off of differently ordered sums (the engine folds the bias
// into its GEMMs; its reductions run in another order). Fifty steps: the paths part
// further wherever round-off moves a hidden unit's pre-activation across the ReLU's kink
// for one row (seen here at step 7 of the default shapes: that row's share of a critic
// gradient, 1e-3 of it), and Adam, which divides each gradient by its own running
// magnitude, carries such differences on: after 50 steps the parameters of the 256-wide
// case are 5-12 % of each tensor's size apart, depending on the noise draws. So the
// 50-step checks are the mean losses over the 50 steps to 1e-3 and a coarse parameter
// drift, and the formulas are checked again from step 50's state: the oracle's weights,
// targets, temperature and Adam state go into the engine (a checkpoint round trip), and one
// more step on both agrees as the first did, now with Adam's moments and bias corrections
// and the targets far from their start.
TEST_P(FusedUpdateOracle, MatchesAutogradAfterOneAndFiftySteps) {
  const Case& c = GetParam();
  const SacConfig config = config_of(c);
  SacLearner fused(config, c.obs, c.act, kActionLimit, kCpu, /*seed=*/7, UpdatePath::kFused);
  SacLearner oracle(config, c.obs, c.act, kActionLimit, kCpu, 7, UpdatePath::kAutograd);
  ASSERT_NE(fused.engine, nullptr);
  ASSERT_EQ(oracle.engine, nullptr);
  const auto initial = params(oracle);
  {
    const auto a = params(fused);
    for (size_t i = 0; i < a.size(); ++i)
      ASSERT_TRUE(at::equal(a[i], initial[i])) << "initial " << i;
  }
  at::Generator data = make_generator(kCpu, 99);
  const Batch first = random_batch(c, data);
  fused.update(first);
  oracle.update(first);

  const UpdateStats fs = fused.take_stats(), os = oracle.take_stats();
  EXPECT_EQ(fs.updates, 1);
  auto near = [](double a, double b) {
    return std::abs(a - b) <= 2e-5 * std::max(1.0, std::abs(b));
  };
  EXPECT_PRED2(near, fs.qf_loss, os.qf_loss);
  EXPECT_PRED2(near, fs.actor_loss, os.actor_loss);
  EXPECT_PRED2(near, fs.alpha_loss, os.alpha_loss);
  EXPECT_PRED2(near, fs.alpha, os.alpha);
  EXPECT_PRED2(near, fs.entropy, os.entropy);
  EXPECT_PRED2(near, fs.q_mean, os.q_mean);

  const auto fg = engine_grads(fused), og = oracle_grads(oracle);
  ASSERT_EQ(fg.size(), og.size());
  for (size_t i = 0; i < fg.size(); ++i) {
    ASSERT_TRUE(og[i].defined()) << "oracle gradient " << i;
    EXPECT_LT(rel_err(fg[i], og[i]), 2e-5) << "gradient " << i;
  }
  {
    const auto a = params(fused), b = params(oracle);
    for (size_t i = 0; i < og.size(); ++i) {
      expect_same_adam_step(a[i], b[i], initial[i], og[i], config.learning_rate,
                            "param " + std::to_string(i));
    }
    // The targets move by tau times the critics' step, and the temperature by one step.
    for (size_t i = og.size(); i < a.size(); ++i) {
      EXPECT_LE((a[i] - b[i]).abs().max().item<double>(), 1.01 * config.learning_rate) << i;
    }
    EXPECT_NEAR(a.back().item<double>(), b.back().item<double>(), 1e-6) << "log alpha";
  }

  for (int step = 1; step < 50; ++step) {
    const Batch b = random_batch(c, data);
    fused.update(b);
    oracle.update(b);
  }
  {
    const auto a = params(fused), b = params(oracle);
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_LT(rel_err(a[i], b[i]), 0.25) << "param " << i << " after 50 steps";
    }
  }
  const UpdateStats f50 = fused.take_stats(), o50 = oracle.take_stats();
  EXPECT_EQ(f50.updates, 49);
  for (auto [x, y] : {std::pair{f50.qf_loss, o50.qf_loss},
                      {f50.actor_loss, o50.actor_loss},
                      {f50.alpha, o50.alpha},
                      {f50.entropy, o50.entropy},
                      {f50.q_mean, o50.q_mean}}) {
    EXPECT_NEAR(x, y, 1e-3 * std::max(1.0, std::abs(y)));
  }

  {
    torch::serialize::OutputArchive out;
    oracle.save(out);
    std::ostringstream bytes;
    out.save_to(bytes);
    torch::serialize::InputArchive in;
    const std::string archive = bytes.str();
    in.load_from(archive.data(), archive.size());
    fused.load(in);
  }
  const auto before = params(oracle);
  ASSERT_EQ(params(fused).size(), before.size());
  for (size_t i = 0; i < before.size(); ++i) {
    ASSERT_TRUE(at::equal(params(fused)[i], before[i])) << "resynchronised " << i;
  }
  const Batch last = random_batch(c, data);
  fused.update(last);
  oracle.update(last);
  const auto fl = engine_grads(fused), ol = oracle_grads(oracle);
  for (size_t i = 0; i < fl.size(); ++i) {
    EXPECT_LT(rel_err(fl[i], ol[i]), 2e-5) << "gradient " << i << " at step 51";
  }
  const auto a = params(fused), b = params(oracle);
  for (size_t i = 0; i < ol.size(); ++i) {
    expect_same_adam_step(a[i], b[i], before[i], ol[i], config.learning_rate,
                          "param " + std::to_string(i) + " at step 51");
  }
  for (size_t i = ol.size(); i < a.size(); ++i) {
    EXPECT_LE((a[i] - b[i]).abs().max().item<double>(), 1.01 * config.learning_rate) << i;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, FusedUpdateOracle,
    ::testing::Values(
        Case{"PointMass64x64", 2, 1, {64, 64}, {64, 64}, 256, "uniform", "auto"},
        Case{"DefaultShapesRelative", 2, 1, {96, 96}, {64, 64}, 1024, "relative_0.3", "auto"},
        Case{"BatchOneOneLayer", 3, 1, {16}, {32}, 1, "relative_0.3", "auto_0.1"},
        Case{"SixDimsThreeLayersFixedAlpha",
             6,
             6,
             {48, 40, 32},
             {64, 24, 16},
             100,
             "uniform",
             "0.2"},
        Case{"ObsOneActTwoOddBatch", 1, 2, {32, 48}, {40}, 17, "relative_1", "auto"},
        Case{"Wide256", 3, 1, {256, 256}, {256, 256}, 64, "uniform", "auto_0.5"}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

// A large batch once: the reductions over 4096 rows.
// A schedule's factor scales the rate set last (config.learning_rate until then) on both
// paths alike.
TEST(FusedUpdateTest, TheLearningRateFactorScalesTheRateSetLastOnBothPaths) {
  const Case c{"", 2, 1, {16}, {16}, 8, "uniform", "auto"};
  for (const UpdatePath path : {UpdatePath::kFused, UpdatePath::kAutograd}) {
    SacLearner learner(config_of(c), c.obs, c.act, kActionLimit, kCpu, 7, path);
    EXPECT_FLOAT_EQ(learner.learning_rate(), 1e-3);
    learner.set_learning_rate_factor(0.5);
    EXPECT_FLOAT_EQ(learner.learning_rate(), 5e-4);
    learner.set_learning_rate(2e-3);
    learner.set_learning_rate_factor(0.25);
    EXPECT_FLOAT_EQ(learner.learning_rate(), 5e-4) << (path == UpdatePath::kFused);
  }
}

TEST(FusedUpdateTest, LargeBatchMatchesAutogradAfterOneStep) {
  const Case c{"Batch4096", 4, 2, {64, 64}, {64, 64}, 4096, "relative_0.3", "auto"};
  const SacConfig config = config_of(c);
  SacLearner fused(config, c.obs, c.act, kActionLimit, kCpu, 3, UpdatePath::kFused);
  SacLearner oracle(config, c.obs, c.act, kActionLimit, kCpu, 3, UpdatePath::kAutograd);
  at::Generator data = make_generator(kCpu, 5);
  const Batch b = random_batch(c, data);
  fused.update(b);
  oracle.update(b);
  const auto fg = engine_grads(fused), og = oracle_grads(oracle);
  for (size_t i = 0; i < fg.size(); ++i) EXPECT_LT(rel_err(fg[i], og[i]), 5e-5) << "gradient " << i;
  EXPECT_NEAR(fused.log_alpha.item<double>(), oracle.log_alpha.item<double>(), 1e-6);
}

// Counts the CPU allocator's allocations while installed.
TEST(FusedUpdateTest, AllocatesNothingPerUpdateAfterTheFirst) {
  const Case c{"", 2, 1, {96, 96}, {64, 64}, 256, "relative_0.3", "auto"};
  SacLearner learner(config_of(c), c.obs, c.act, kActionLimit, kCpu, 1);
  at::Generator data = make_generator(kCpu, 2);
  std::vector<Batch> batches;
  for (int i = 0; i < 4; ++i) batches.push_back(random_batch(c, data));
  learner.update(batches[0]);  // allocates the workspaces for this batch size

  int64_t during = 0, after_control = 0;
  {
    testing::CountingCpuAllocator counting;
    for (int i = 0; i < 20; ++i) learner.update(batches[i % batches.size()]);
    learner.set_learning_rate(5e-4);
    for (int i = 0; i < 5; ++i) learner.update(batches[i % batches.size()]);
    during = counting.count.load();
    // A control: the allocator does see tensor allocations.
    const at::Tensor control = at::empty({16});
    after_control = counting.count.load();
  }
  EXPECT_EQ(during, 0) << "allocations in 25 updates";
  EXPECT_EQ(after_control, during + 1);
}

// Acting through the engine (stage, the actor's GEMMs, one noise draw, sample) gives the
// autograd actor's actions from the same stream draw, to float round-off (the engine's
// GEMMs sum in another order), for 1 env and for many; its buffers are reused, so acting
// allocates nothing after the first call for a number of envs.
TEST(FusedUpdateTest, ActingMatchesTheAutogradActorAndAllocatesNothing) {
  const Case c{"", 3, 2, {96, 96}, {64, 64}, 256, "uniform", "auto"};
  SacLearner learner(config_of(c), c.obs, c.act, kActionLimit, kCpu, 5);
  ASSERT_NE(learner.engine, nullptr);
  for (int64_t n : {1, 7, 300}) {
    const at::Tensor obs = at::randn({n, c.obs});
    const RandomStream stream(11, kCpu);
    const at::Tensor fused = learner.engine->act(obs, stream.keys(), 3).clone();
    const at::Tensor eps = at::empty({n, c.act});
    fill_normal(eps, stream.keys(), 3);
    const at::Tensor oracle = learner.actor->sample_from(obs, eps).action;
    EXPECT_EQ(fused.sizes(), oracle.sizes());
    EXPECT_LT((fused - oracle).abs().max().item<double>(), 1e-5 * kActionLimit) << n;
    EXPECT_GT(fused.abs().max().item<double>(), 0.01) << "actions must not be all zero";
  }
  const at::Tensor obs = at::randn({7, c.obs});
  const RandomStream stream(12, kCpu);
  learner.act(obs);  // buffers for 7 envs (the loop above left them sized for 300)
  int64_t during = 0;
  {
    testing::CountingCpuAllocator counting;
    for (int i = 0; i < 20; ++i) learner.act(obs);
    for (int i = 0; i < 20; ++i) learner.engine->act(obs, stream.keys(), i);
    during = counting.count.load();
  }
  EXPECT_EQ(during, 0) << "allocations in 40 acts";
}

// The launch count is a formula of the depths (4 L_actor + 8 L_critic + 3 wrapper calls,
// the noise fill one of them: the forward ReLUs ride in their GEMMs), and no ATen op is left,
// so an op added to the update fails here first.
TEST(FusedUpdateTest, LaunchCountFollowsTheLayerCounts) {
  for (const auto& [pi, qf] : std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>>{
           {{96, 96}, {64, 64}}, {{32}, {32, 32, 32}}}) {
    const Case c{"", 2, 1, pi, qf, 64, "relative_0.3", "auto"};
    SacLearner learner(config_of(c), c.obs, c.act, kActionLimit, kCpu, 1);
    at::Generator data = make_generator(kCpu, 2);
    const Batch b = random_batch(c, data);
    learner.update(b);
    const int64_t before = launch_count().load();
    const int64_t aten = testing::aten_ops([&] { learner.update(b); });
    const int64_t launches = launch_count().load() - before;
    const int64_t la = static_cast<int64_t>(pi.size()) + 1,
                  lc = static_cast<int64_t>(qf.size()) + 1;
    EXPECT_EQ(launches, 4 * la + 8 * lc + 3);
    EXPECT_EQ(aten, 0) << "ATen ops in one fused update";
  }
}

TEST(FusedUpdateTest, RefusesABatchOfTheWrongShapeOrDtype) {
  const Case c{"", 2, 1, {16}, {16}, 8, "uniform", "auto"};
  SacLearner learner(config_of(c), c.obs, c.act, kActionLimit, kCpu, 1);
  at::Generator data = make_generator(kCpu, 2);
  Batch b = random_batch(c, data);
  b.act = at::zeros({8, 2});
  EXPECT_THROW(
      {
        try {
          learner.update(b);
        } catch (const c10::Error& e) {
          EXPECT_NE(std::string(e.what()).find("batch.act must be [8, 1]"), std::string::npos)
              << e.what();
          throw;
        }
      },
      c10::Error);
  b = random_batch(c, data);
  b.reward = b.reward.to(at::kDouble);
  EXPECT_THROW(learner.update(b), c10::Error);
}

// Emulates a kernel's grid on the CPU: every (block, thread) of the launch.
template <class Body>
void emulate(int64_t blocks, int64_t threads, Body body) {
  for (int64_t block = 0; block < blocks; ++block) {
    for (int64_t thread = 0; thread < threads; ++thread) body(block, thread);
  }
}

TEST(FusedUpdateTest, ReluGridsEqualTheCpuLoops) {
  // Two members of 5 rows of width 7 padded to ld 8, with a member stride of 6 rows.
  at::Tensor base = at::randn({2, 6, 8});
  auto rows_of_tensor = [](at::Tensor& t) { return Rows{t.data_ptr<float>(), 2, 5, 7, 8, 48}; };
  at::Tensor grid = base.clone(), loop = base.clone();
  Rows g = rows_of_tensor(grid), l = rows_of_tensor(loop);
  emulate(g.members * g.rows, kRowThreads,
          [&](int64_t b, int64_t t) { relu_thread(g, b, kRowThreads, t); });
  for (int64_t r = 0; r < l.members * l.rows; ++r) {
    for (int64_t j = 0; j < l.cols; ++j) relu_element(row_of(l, r), j);
  }
  EXPECT_TRUE(at::equal(grid, loop));
  // Untouched: the padding column and the rows past `rows` in each member.
  EXPECT_TRUE(at::equal(grid.narrow(2, 7, 1), base.narrow(2, 7, 1)));
  EXPECT_TRUE(at::equal(grid.narrow(1, 5, 1), base.narrow(1, 5, 1)));
  EXPECT_TRUE(
      at::equal(grid.narrow(1, 0, 5).narrow(2, 0, 7), base.narrow(1, 0, 5).narrow(2, 0, 7).relu()));

  at::Tensor grad_grid = at::randn({2, 6, 8}), act = at::randn({2, 6, 8}).relu();
  at::Tensor grad_loop = grad_grid.clone();
  Rows gg = rows_of_tensor(grad_grid), gl = rows_of_tensor(grad_loop), a = rows_of_tensor(act);
  emulate(gg.members * gg.rows, 3,
          [&](int64_t b, int64_t t) { relu_backward_thread(gg, a, b, 3, t); });
  for (int64_t r = 0; r < gl.members * gl.rows; ++r) {
    for (int64_t j = 0; j < gl.cols; ++j) relu_backward_element(row_of(gl, r), row_of(a, r), j);
  }
  EXPECT_TRUE(at::equal(grad_grid, grad_loop));
}

// The row kernels' grids (kThreadsPerBlock threads, rows not a multiple of it) equal
// their CPU loops, and touch no row past the batch: for a population of two agents, so
// that the agent-major layout is covered too (one agent is its special case).
TEST(FusedUpdateTest, RowKernelGridsEqualTheCpuLoops) {
  const int64_t agents = 2, batch = 150, obs = 3, act = 2, ldq = obs + act + 1;
  const int64_t rows = agents * batch;
  auto f = [](std::vector<int64_t> s) { return at::randn(s); };
  at::Tensor o = f({rows, obs}), a = f({rows, act}), r = f({rows}), n = f({rows, obs});
  at::Tensor d = (at::rand({rows}) < 0.3).to(at::kFloat);
  at::Tensor actor_out = f({2 * rows, 2 * act}), eps = f({2 * rows, act});
  at::Tensor q_in_grad = f({2 * agents, batch, obs + act});
  at::Tensor scalars = at::zeros({agents * kNumSacScalars});
  scalars[kAlphaUsed] = 0.3;
  scalars[kNumSacScalars + kAlphaUsed] = 0.7;
  struct Outputs {
    at::Tensor actor_in, log_prob, q_data, q_pi, q_next, actor_out_grad;
  };
  auto make = [&] {
    return Outputs{at::full({2 * rows + 1, obs + 1}, 7.0), at::full({2 * rows + 1}, 7.0),
                   at::full({2 * rows + 1, ldq}, 7.0),     at::full({2 * rows + 1, ldq}, 7.0),
                   at::full({2 * rows + 1, ldq}, 7.0),     at::full({2 * rows + 1, 2 * act}, 7.0)};
  };
  auto make_rows = [&](Outputs& out) {
    SacRows p{};
    p.agents = agents, p.batch = batch, p.obs_dim = obs, p.act_dim = act;
    p.obs = o.data_ptr<float>(), p.act = a.data_ptr<float>(), p.reward = r.data_ptr<float>();
    p.next_obs = n.data_ptr<float>(), p.terminated = d.data_ptr<float>();
    p.actor_in = out.actor_in.data_ptr<float>(), p.actor_out = actor_out.data_ptr<float>();
    p.eps = eps.data_ptr<float>(), p.log_prob = out.log_prob.data_ptr<float>();
    p.q_in_data = out.q_data.data_ptr<float>(), p.q_in_pi = out.q_pi.data_ptr<float>();
    p.q_in_next = out.q_next.data_ptr<float>(), p.q_in_grad = q_in_grad.data_ptr<float>();
    p.actor_out_grad = out.actor_out_grad.data_ptr<float>(), p.scalars = scalars.data_ptr<float>();
    p.k = SacConstants{0.99f, 2.0f, -1.0f, 0.0f, true, 0.9, 0.999, 1e-8f};
    return p;
  };
  Outputs grid = make(), loop = make();
  const SacRows pg = make_rows(grid), pl = make_rows(loop);
  const int64_t t = kThreadsPerBlock;
  emulate(blocks_for(rows, t), t, [&](int64_t b, int64_t i) { stage_thread(pg, b, t, i); });
  emulate(blocks_for(2 * rows, t), t, [&](int64_t b, int64_t i) { policy_thread(pg, b, t, i); });
  emulate(blocks_for(rows, t), t,
          [&](int64_t b, int64_t i) { policy_backward_thread(pg, b, t, i); });
  for (int64_t i = 0; i < rows; ++i) stage_row(pl, i);
  for (int64_t i = 0; i < 2 * rows; ++i) policy_row(pl, i);
  for (int64_t i = 0; i < rows; ++i) policy_backward_row(pl, i);
  for (auto [x, y] : {std::pair{grid.actor_in, loop.actor_in},
                      {grid.log_prob, loop.log_prob},
                      {grid.q_data, loop.q_data},
                      {grid.q_pi, loop.q_pi},
                      {grid.q_next, loop.q_next},
                      {grid.actor_out_grad, loop.actor_out_grad}}) {
    EXPECT_TRUE(at::equal(x, y));
    EXPECT_TRUE(at::equal(x[-1], at::full_like(x[-1], 7.0))) << "a row past the batch was written";
  }
  // The staged rows are each agent's batch with the ones columns: its actor's obs rows then
  // next_obs rows, and a copy for each of its twin critics.
  for (int64_t k = 0; k < agents; ++k) {
    const at::Tensor actor_rows = grid.actor_in.narrow(0, k * 2 * batch, 2 * batch);
    EXPECT_TRUE(
        at::equal(actor_rows.narrow(0, 0, batch).narrow(1, 0, obs), o.narrow(0, k * batch, batch)));
    EXPECT_TRUE(at::equal(actor_rows.narrow(0, batch, batch).narrow(1, 0, obs),
                          n.narrow(0, k * batch, batch)));
    for (int64_t c = 0; c < 2; ++c) {
      const int64_t member = (2 * k + c) * batch;
      EXPECT_TRUE(at::equal(grid.q_data.narrow(0, member, batch).narrow(1, obs, act),
                            a.narrow(0, k * batch, batch)));
      EXPECT_TRUE(at::equal(grid.q_pi.narrow(0, member, batch).narrow(1, ldq - 1, 1),
                            at::ones({batch, 1})));
      // Both twins get the same sampled action.
      EXPECT_TRUE(at::equal(grid.q_next.narrow(0, member, batch),
                            grid.q_next.narrow(0, 2 * k * batch, batch)));
    }
  }

  // The acting kernels over n envs, not a multiple of the block.
  const int64_t n_env = t + 3;
  at::Tensor env_obs = f({n_env, obs}), env_out = f({n_env, 2 * act}), env_eps = f({n_env, act});
  std::vector<at::Tensor> in{at::full({n_env + 1, obs + 1}, 7.0),
                             at::full({n_env + 1, obs + 1}, 7.0)};
  std::vector<at::Tensor> acts{at::full({n_env + 1, act}, 7.0), at::full({n_env + 1, act}, 7.0)};
  auto act_rows = [&](int which) {
    return ActRows{n_env,
                   obs,
                   act,
                   env_obs.data_ptr<float>(),
                   in[which].data_ptr<float>(),
                   env_out.data_ptr<float>(),
                   env_eps.data_ptr<float>(),
                   acts[which].data_ptr<float>(),
                   2.0f};
  };
  const ActRows ag_rows = act_rows(0), al_rows = act_rows(1);
  emulate(blocks_for(n_env, t), t,
          [&](int64_t b, int64_t i) { act_stage_thread(ag_rows, b, t, i); });
  emulate(blocks_for(n_env, t), t,
          [&](int64_t b, int64_t i) { act_sample_thread(ag_rows, b, t, i); });
  for (int64_t i = 0; i < n_env; ++i) act_stage_row(al_rows, i), act_sample_row(al_rows, i);
  EXPECT_TRUE(at::equal(in[0], in[1]));
  EXPECT_TRUE(at::equal(acts[0], acts[1]));
  EXPECT_TRUE(at::equal(in[0][-1], at::full_like(in[0][-1], 7.0))) << "an env past n was staged";
  EXPECT_TRUE(at::equal(acts[0][-1], at::full_like(acts[0][-1], 7.0)));
  EXPECT_TRUE(at::equal(in[0].narrow(0, 0, n_env).narrow(1, 0, obs), env_obs));
  EXPECT_TRUE(
      at::allclose(acts[0].narrow(0, 0, n_env),
                   2.0 * at::tanh(env_out.narrow(1, 0, act) +
                                  env_out.narrow(1, act, act).clamp(-20, 2).exp() * env_eps),
                   1e-5, 1e-5));

  // Adam and Polyak over elements not a multiple of the block, two agents with their own
  // step sizes and tau (a one-layer layout of one member per agent).
  const int64_t elems = 1000, polyak_elems = 700;
  at::Tensor p0 = f({elems}), g0 = f({elems}), m0 = f({elems}).abs(), v0 = f({elems}).abs();
  at::Tensor tgt = f({polyak_elems}), src = f({polyak_elems});
  std::vector<at::Tensor> sg{p0.clone(), m0.clone(), v0.clone(), tgt.clone()};
  std::vector<at::Tensor> sl{p0.clone(), m0.clone(), v0.clone(), tgt.clone()};
  for (const auto& [agent, step, bc2, tau] :
       {std::tuple{0, 1e-3, 0.05, 0.1}, std::tuple{1, 2e-3, 0.07, 0.3}}) {
    scalars[agent * kNumSacScalars + kAdamStepSize] = step;
    scalars[agent * kNumSacScalars + kAdamBc2Sqrt] = bc2;
    scalars[agent * kNumSacScalars + kTau] = tau;
  }
  auto layout = [](int64_t n) {
    FlatLayout l;
    l.layers = 1, l.offset[1] = n, l.member_size[0] = n / 2, l.members_per_agent = 1;
    return l;
  };
  const SacConstants k = pg.k;
  auto adam = [&](std::vector<at::Tensor>& s) {
    return AdamRows{s[0].data_ptr<float>(),
                    g0.data_ptr<float>(),
                    s[1].data_ptr<float>(),
                    s[2].data_ptr<float>(),
                    elems,
                    layout(elems)};
  };
  auto polyak = [&](std::vector<at::Tensor>& s) {
    return PolyakRows{s[3].data_ptr<float>(), src.data_ptr<float>(), polyak_elems,
                      layout(polyak_elems)};
  };
  const AdamRows ag = adam(sg), al = adam(sl);
  const PolyakRows yg = polyak(sg), yl = polyak(sl);
  emulate(blocks_for(elems, t), t, [&](int64_t b, int64_t i) {
    adam_polyak_thread(ag, yg, scalars.data_ptr<float>(), k, b, t, i);
  });
  const float* sc = scalars.data_ptr<float>();
  for (int64_t i = 0; i < elems; ++i) adam_element(al, i, sc, k);
  for (int64_t i = 0; i < polyak_elems; ++i) polyak_element(yl, i, sc);
  for (size_t i = 0; i < sg.size(); ++i) EXPECT_TRUE(at::equal(sg[i], sl[i])) << i;
  const int64_t half = polyak_elems / 2;
  EXPECT_TRUE(at::allclose(sg[3].narrow(0, 0, half),
                           tgt.narrow(0, 0, half) * 0.9 + src.narrow(0, 0, half) * 0.1));
  EXPECT_TRUE(at::allclose(sg[3].narrow(0, half, half),
                           tgt.narrow(0, half, half) * 0.7 + src.narrow(0, half, half) * 0.3));
  // Adam moved the parameters (a step that never ran would pass the comparisons above).
  EXPECT_FALSE(at::equal(sg[0].narrow(0, 0, 500), p0.narrow(0, 0, 500)));
}

// Which agent owns an element, and the runs the CPU loops iterate, for a two-layer critic
// layout of three agents (two members each).
TEST(FusedUpdateTest, FlatLayoutFindsEachElementsAgent) {
  const FlatMlp critics(6, {4, 8, 1});
  const FlatLayout f = critics.layout(2);
  int64_t covered = 0;
  for_each_agent_run(f, 0, critics.num_params(), [&](int64_t agent, int64_t lo, int64_t hi) {
    EXPECT_EQ(lo, covered);
    for (int64_t i = lo; i < hi; ++i) ASSERT_EQ(agent_of(f, i), agent) << i;
    covered = hi;
  });
  EXPECT_EQ(covered, critics.num_params());
  EXPECT_EQ(agent_of(f, 0), 0);
  EXPECT_EQ(agent_of(f, 2 * 5 * 8), 1);                  // layer 0, member 2
  EXPECT_EQ(agent_of(f, critics.offset(1) + 5 * 9), 2);  // layer 1, member 5
  EXPECT_EQ(agent_of(f, critics.num_params() - 1), 2);
}

// Where a GPU is: the CUDA engine against the CPU engine, fed the same batches and noise.
// After one step, as the oracle test: gradients to 2e-5, Adam's step alike where the
// gradient is above round-off (cuBLAS and MKL sum in other orders, and CUDA's tanhf/expf
// are not glibc's). After 10 steps a coarser 1e-2, each scalar slot on its own.
TEST(FusedUpdateCudaTest, MatchesTheCpuEngine) {
  VECSAC_REQUIRE_CUDA_GPU();
  const c10::Device cuda(c10::kCUDA, 0);
  const Case c{"", 3, 2, {96, 96}, {64, 64}, 1000, "relative_0.3", "auto"};
  const SacConfig config = config_of(c);
  SacLearner cpu(config, c.obs, c.act, kActionLimit, kCpu, 4);
  SacLearner gpu(config, c.obs, c.act, kActionLimit, cuda, 4);
  at::Generator data = make_generator(kCpu, 6);
  auto step = [&] {
    const Batch b = random_batch(c, data);
    const at::Tensor eps = at::randn({2, c.batch, c.act}, data);
    Batch bg = b;
    for (at::Tensor* t : {&bg.obs, &bg.act, &bg.reward, &bg.next_obs, &bg.terminated}) {
      *t = t->to(cuda);
    }
    cpu.engine->update_with_noise(b, eps, true);
    gpu.engine->update_with_noise(bg, eps.to(cuda), true);
  };
  const auto initial = params(cpu);
  step();
  const auto cg = engine_grads(cpu), gg = engine_grads(gpu);
  for (size_t i = 0; i < cg.size(); ++i) {
    EXPECT_LT(rel_err(gg[i].cpu(), cg[i]), 2e-5) << "gradient " << i;
  }
  {
    const auto a = params(cpu), b = params(gpu);
    for (size_t i = 0; i < cg.size(); ++i) {
      expect_same_adam_step(b[i], a[i], initial[i], cg[i], config.learning_rate,
                            "param " + std::to_string(i));
    }
  }
  for (int k = 1; k < 10; ++k) step();
  const auto a = params(cpu), b = params(gpu);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_LT(rel_err(b[i], a[i]), 1e-2) << "param " << i;
  const at::Tensor sc = cpu.engine->scalars, sg = gpu.engine->scalars.cpu();
  for (int s = 0; s < kNumSacScalars; ++s) {
    const double x = sc[s].item<double>(), y = sg[s].item<double>();
    EXPECT_NEAR(y, x, 1e-3 * std::max(1.0, std::abs(x))) << "scalar slot " << s;
  }
  // The stream path too: a CUDA update drawing its noise from update_stream runs and stays
  // finite.
  gpu.update(random_batch(c, data, cuda));
  EXPECT_TRUE(at::isfinite(gpu.engine->actor_params).all().item<bool>());
}

}  // namespace
}  // namespace vecsac
