/// @brief SacLearner (after SB3's SAC.train and the notebook's SACAgent.update).
#include "vecsac/sac/learner.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <cmath>
#include <stdexcept>

#include "vecsac/sac/losses.h"
#include "vecsac/util/generator.h"
#include "vecsac/util/seed_purpose.h"

namespace vecsac {
SacConstants engine_constants(const SacConfig& config, int64_t act_dim, double action_limit) {
  return SacConstants{static_cast<float>(config.gamma),
                      static_cast<float>(action_limit),
                      static_cast<float>(target_entropy(config, act_dim)),
                      static_cast<float>(config.critic_weight_offset),
                      config.ent_coef.learned,
                      /*beta1=*/0.9,
                      /*beta2=*/0.999,
                      /*adam_eps=*/1e-8f};
}

SacLearner::SacLearner(const SacConfig& config, int64_t obs_dim, int64_t act_dim,
                       double action_limit, c10::Device device, uint64_t seed, UpdatePath path)
    : actor(nullptr),
      critic(nullptr),
      critic_target(nullptr),
      config_(config),
      path_(path),
      target_entropy_(target_entropy(config, act_dim)),
      base_learning_rate_(config.learning_rate) {
  init_modules(obs_dim, act_dim, action_limit, device, seed);
  if (path_ == UpdatePath::kFused) {
    const SacConstants k = engine_constants(config, act_dim, action_limit);
    engine = std::make_shared<FusedSacUpdate>(obs_dim, act_dim, config.pi_arch, config.qf_arch, k,
                                              static_cast<float>(config.tau), device);
    scalars_ = engine->scalars.narrow(0, 0, kNumSacScalars);
    adopt_flat_parameters();
    scalar(kLogAlpha).fill_(std::log(config_.ent_coef.initial));
    engine->set_learning_rate(config.learning_rate);
    log_alpha = scalar(kLogAlpha);
    stats_sum_ = scalars_.narrow(0, kStatQfLoss, kNumSacStats);
    return;
  }
  log_alpha = at::full({}, std::log(config_.ent_coef.initial),
                       at::TensorOptions().device(device).dtype(at::kFloat));
  actor_opt = std::make_unique<FusedAdam>(actor->parameters(), config.learning_rate);
  critic_opt = std::make_unique<FusedAdam>(critic->parameters(), config.learning_rate);
  if (config_.ent_coef.learned) {
    log_alpha.set_requires_grad(true);
    alpha_opt =
        std::make_unique<FusedAdam>(std::vector<at::Tensor>{log_alpha}, config.learning_rate);
  }
  stats_sum_ = at::zeros({kNumSacStats}, at::TensorOptions().device(device).dtype(at::kFloat));
}

SacLearner::SacLearner(const SacConfig& config, int64_t obs_dim, int64_t act_dim,
                       double action_limit, uint64_t seed,
                       std::shared_ptr<FusedSacUpdate> population, int64_t agent)
    : actor(nullptr),
      critic(nullptr),
      critic_target(nullptr),
      engine(std::move(population)),
      config_(config),
      path_(UpdatePath::kFused),
      target_entropy_(target_entropy(config, act_dim)),
      base_learning_rate_(config.learning_rate),
      agent_(agent) {
  TORCH_CHECK(engine != nullptr && agent >= 0 && agent < engine->agents(), "SacLearner: agent ",
              agent, " of a population of ", engine ? engine->agents() : 0);
  init_modules(obs_dim, act_dim, action_limit, engine->device(), seed);
  scalars_ = engine->scalars.narrow(0, agent * kNumSacScalars, kNumSacScalars);
  adopt_flat_parameters();
  engine->set_agent_hyperparameters(
      agent, {config.learning_rate, config.tau, config.gamma, target_entropy_,
              config.critic_weight_offset, config.ent_coef.initial});
  log_alpha = scalar(kLogAlpha);
  stats_sum_ = scalars_.narrow(0, kStatQfLoss, kNumSacStats);
}

void SacLearner::init_modules(int64_t obs_dim, int64_t act_dim, double action_limit,
                              c10::Device device, uint64_t seed) {
  // Initialise on the CPU from one generator, then move: the same seed gives
  // the same weights on every device.
  at::Generator init = make_generator(c10::Device(c10::kCPU), derive_seed(seed, kInitSeed));
  actor = Actor(obs_dim, act_dim, config_.pi_arch, action_limit, init);
  critic = TwinCritic(obs_dim, act_dim, config_.qf_arch, init);
  critic_target = TwinCritic(obs_dim, act_dim, config_.qf_arch, init);
  actor->to(device);
  critic->to(device);
  critic_target->to(device);
  {
    const c10::NoGradGuard no_grad;
    auto dst = critic_target->parameters();
    auto src = critic->parameters();
    for (size_t i = 0; i < dst.size(); ++i) dst[i].copy_(src[i]);
  }
  for (auto& p : critic_target->parameters()) p.set_requires_grad(false);
  update_stream = RandomStream(derive_seed(seed, kUpdateSeed), device);
  act_stream = RandomStream(derive_seed(seed, kActSeed), device);
}

at::Tensor SacLearner::scalar(SacScalar slot) const { return scalars_.select(0, slot); }

std::vector<at::Tensor> SacLearner::member_views(const FlatMlp& mlp, const at::Tensor& flat) const {
  // Agent k owns members [k * m, k * m + m) of each layer, m = the mlp's members per agent.
  const int64_t per_agent = mlp.ensemble() / engine->agents();
  std::vector<at::Tensor> views = mlp.parameter_views(flat);
  for (auto& v : views) v = v.narrow(0, agent_ * per_agent, per_agent);
  return views;
}

// The modules keep their parameter tensors (and so every reference to them), now sharing
// storage with the engine's flat buffers: acting, evaluation, policy selection and
// checkpoints read the weights the engine trains.
void SacLearner::adopt_flat_parameters() {
  const c10::NoGradGuard no_grad;
  auto adopt = [this](torch::nn::Module& module, const FlatMlp& mlp, const at::Tensor& flat) {
    const std::vector<at::Tensor> views = member_views(mlp, flat);
    std::vector<at::Tensor> params = module.parameters();
    TORCH_CHECK(params.size() == views.size(), "SacLearner: ", params.size(),
                " module parameters but ", views.size(), " flat views");
    for (size_t i = 0; i < params.size(); ++i) {
      TORCH_CHECK(params[i].sizes() == views[i].sizes(), "SacLearner: parameter ", i, " is ",
                  params[i].sizes(), ", its flat view ", views[i].sizes());
      views[i].copy_(params[i]);
      params[i].set_data(views[i]);
    }
  };
  adopt(*actor, engine->actor_mlp(), engine->actor_params);
  adopt(*critic, engine->critic_mlp(), engine->critic_params);
  adopt(*critic_target, engine->critic_mlp(), engine->target_params);
}

// HOT LOOP BEGIN
void SacLearner::update(const Batch& b) {
  if (engine) {
    TORCH_CHECK(engine->agents() == 1,
                "SacLearner::update: a population member is updated by its population");
    const int64_t draw = update_stream.next();
    engine->update(b, update_stream.keys(), draw, count_population_update());
    return;
  }
  update_autograd(b);
}

bool SacLearner::count_population_update() {
  ++stats_count_;
  return ++gradient_steps % config_.target_update_interval == 0;
}

void SacLearner::update_autograd(const Batch& b) {
  // The policy noise for obs and next_obs in one draw, as the fused engine takes it.
  const at::Tensor eps = at::empty({2, b.obs.size(0), actor->act_dim()}, b.obs.options());
  fill_normal(eps, update_stream.keys(), update_stream.next());
  // 1. Temperature, from a fresh policy sample on the batch's observations.
  const SquashedSample pi = actor->sample_from(b.obs, eps[0]);
  // SB3 reads the temperature before stepping it; this step's losses use that value.
  const at::Tensor alpha = log_alpha.detach().exp();
  at::Tensor a_loss = at::zeros({}, log_alpha.options().requires_grad(false));
  if (alpha_opt) {
    a_loss = alpha_loss(log_alpha, pi.log_prob, target_entropy_);
    alpha_opt->zero_grad();
    a_loss.backward();
    alpha_opt->step();
  }

  // 2. Critics against the soft Bellman target from the target critics.
  at::Tensor target, weights;
  {
    const c10::NoGradGuard no_grad;
    const SquashedSample next = actor->sample_from(b.next_obs, eps[1]);
    const at::Tensor next_q = std::get<0>(critic_target->forward(b.next_obs, next.action).min(0));
    target = soft_q_target(b.reward, b.terminated, next_q, next.log_prob, alpha, config_.gamma);
    if (config_.critic_weight_offset > 0)
      weights = relative_critic_weights(target, config_.critic_weight_offset);
  }
  const at::Tensor q = critic->forward(b.obs, b.act);
  const at::Tensor q_loss = critic_loss(q, target, weights);
  critic_opt->zero_grad();
  q_loss.backward();
  critic_opt->step();

  // 3. Actor through the updated critics, used as constants: no gradient ever
  // reaches (or stays in) the critic weights.
  const at::Tensor q_pi =
      std::get<0>(critic->forward(b.obs, pi.action, /*detach_params=*/true).min(0));
  const at::Tensor pi_loss = actor_loss(alpha, pi.log_prob, q_pi);
  actor_opt->zero_grad();
  pi_loss.backward();
  actor_opt->step();

  // 4. Targets.
  if (++gradient_steps % config_.target_update_interval == 0) {
    polyak_update(critic_target->parameters(), critic->parameters(), config_.tau);
  }

  const c10::NoGradGuard no_grad;
  stats_sum_.add_(at::stack({q_loss.detach(), pi_loss.detach(), a_loss.detach(), alpha,
                             -pi.log_prob.detach().mean(), q_pi.detach().mean()}));
  ++stats_count_;
}

void SacLearner::set_learning_rate(double lr) {
  if (engine) {
    scalar(kLearningRate).fill_(lr);
    scalar(kBaseLearningRate).fill_(lr);
    return;
  }
  base_learning_rate_ = lr;
  apply_learning_rate(lr);
}

void SacLearner::apply_learning_rate(double lr) {
  for (auto* opt : {actor_opt.get(), critic_opt.get(), alpha_opt.get()}) {
    if (opt != nullptr) opt->set_lr(lr);
  }
}

void SacLearner::set_learning_rate_factor(double factor) {
  if (engine) {
    at::Tensor rate = scalar(kLearningRate);
    at::mul_out(rate, scalar(kBaseLearningRate), factor);
    return;
  }
  apply_learning_rate(base_learning_rate_ * factor);
}

at::Tensor SacLearner::act(const at::Tensor& obs) {
  if (engine) {
    TORCH_CHECK(engine->agents() == 1,
                "SacLearner::act: a population member acts through its population");
    return engine->act(obs, act_stream.keys(), act_stream.next());
  }
  const c10::NoGradGuard no_grad;
  const at::Tensor eps = at::empty({obs.size(0), actor->act_dim()}, obs.options());
  fill_normal(eps, act_stream.keys(), act_stream.next());
  return actor->sample_from(obs, eps).action;
}

// HOT LOOP END

at::Tensor SacLearner::act_deterministic(const at::Tensor& obs) {
  if (engine) {
    TORCH_CHECK(engine->agents() == 1,
                "SacLearner::act_deterministic: a population member evaluates through its "
                "population");
    return engine->act_deterministic(obs);
  }
  const c10::NoGradGuard no_grad;
  return actor->deterministic(obs);
}

double SacLearner::learning_rate() const {
  if (engine) return scalars_[kLearningRate].item<double>();
  return actor_opt->lr();
}

UpdateStats SacLearner::take_stats() {
  UpdateStats s;
  s.updates = stats_count_;
  if (stats_count_ > 0) {
    const at::Tensor m = (stats_sum_ / static_cast<double>(stats_count_)).to(at::kCPU);
    auto a = m.accessor<float, 1>();
    s.qf_loss = a[0], s.actor_loss = a[1], s.alpha_loss = a[2], s.alpha = a[3], s.entropy = a[4],
    s.q_mean = a[5];
  } else {
    s.alpha = std::exp(log_alpha.detach().to(at::kCPU).item<float>());
  }
  stats_sum_.zero_();
  stats_count_ = 0;
  return s;
}

namespace {

using torch::serialize::InputArchive;
using torch::serialize::OutputArchive;

// A module's parameters in Module::save's layout (children as nested archives), each
// written as a compact copy: on the fused path they are views of one buffer (a population's:
// every agent's), whose whole storage a view would write.
void save_module(OutputArchive& archive, const torch::nn::Module& module) {
  for (const auto& p : module.named_parameters(/*recurse=*/false)) {
    archive.write(p.key(), p.value().detach().clone());
  }
  for (const auto& child : module.named_children()) {
    OutputArchive sub;
    save_module(sub, *child.value());
    archive.write(child.key(), sub);
  }
}

at::Tensor read_tensor(InputArchive& archive, const std::string& key) {
  at::Tensor t;  // a fresh tensor: reading into a defined one would alias it
  archive.read(key, t);
  return t;
}

// Copies a saved value into `dst` (Module::load would instead re-point the parameter at
// the loaded tensor, cutting it loose from the engine's flat buffer). c10::Error on a
// shape mismatch, which checkpoint loading reports as a config mismatch.
void copy_into(const at::Tensor& dst, const at::Tensor& src, const std::string& key) {
  TORCH_CHECK(src.sizes().equals(dst.sizes()), "'", key, "' has shape ", src.sizes(), ", expected ",
              dst.sizes());
  const c10::NoGradGuard no_grad;
  dst.copy_(src);
}

void load_module(InputArchive& archive, torch::nn::Module& module) {
  for (const auto& p : module.named_parameters(/*recurse=*/false)) {
    copy_into(p.value(), read_tensor(archive, p.key()), p.key());
  }
  for (const auto& child : module.named_children()) {
    InputArchive sub;
    archive.read(child.key(), sub);
    load_module(sub, *child.value());
  }
}

// FusedAdam's archive layout (exp_avg.i, exp_avg_sq.i, step.i per parameter), so that
// checkpoints read the same on both update paths.
void save_adam(OutputArchive& root, const std::string& key, const std::vector<at::Tensor>& m,
               const std::vector<at::Tensor>& v, const at::Tensor& step) {
  OutputArchive a;
  for (size_t i = 0; i < m.size(); ++i) {
    const std::string k = std::to_string(i);
    a.write("exp_avg." + k, m[i].clone());
    a.write("exp_avg_sq." + k, v[i].clone());
    a.write("step." + k, step.clone());
  }
  root.write(key, a);
}

// Every step count of the archive must agree: the engine keeps one for all optimizers.
void load_adam(InputArchive& root, const std::string& key, const std::vector<at::Tensor>& m,
               const std::vector<at::Tensor>& v, const at::Tensor& step) {
  InputArchive a;
  root.read(key, a);
  for (size_t i = 0; i < m.size(); ++i) {
    const std::string k = std::to_string(i);
    copy_into(m[i], read_tensor(a, "exp_avg." + k), key + ".exp_avg." + k);
    copy_into(v[i], read_tensor(a, "exp_avg_sq." + k), key + ".exp_avg_sq." + k);
    const at::Tensor s = read_tensor(a, "step." + k);
    if (i == 0) copy_into(step, s, key + ".step.0");
    TORCH_CHECK(s.cpu().equal(step.cpu()), "'", key, ".step.", k, "' differs from step.0");
  }
}

std::vector<std::pair<std::string, torch::nn::Module*>> named_modules(const SacLearner& l) {
  return {{"actor", l.actor.ptr().get()},
          {"critic", l.critic.ptr().get()},
          {"critic_target", l.critic_target.ptr().get()}};
}

template <class Saveable>
void save_child(OutputArchive& root, const std::string& key, const Saveable& x) {
  OutputArchive child;
  x.save(child);
  root.write(key, child);
}
template <class Loadable>
void load_child(InputArchive& root, const std::string& key, Loadable& x) {
  InputArchive child;
  root.read(key, child);
  x.load(child);
}

}  // namespace

void SacLearner::save(OutputArchive& a) const {
  for (const auto& [key, module] : named_modules(*this)) {
    OutputArchive child;
    save_module(child, *module);
    a.write(key, child);
  }
  if (engine) {
    const at::Tensor step = scalar(kAdamStep);
    const FlatMlp& am = engine->actor_mlp();
    const FlatMlp& cm = engine->critic_mlp();
    save_adam(a, "actor_opt", member_views(am, engine->actor_exp_avg),
              member_views(am, engine->actor_exp_avg_sq), step);
    save_adam(a, "critic_opt", member_views(cm, engine->critic_exp_avg),
              member_views(cm, engine->critic_exp_avg_sq), step);
    if (config_.ent_coef.learned) {
      save_adam(a, "alpha_opt", {scalar(kAlphaExpAvg)}, {scalar(kAlphaExpAvgSq)}, step);
    }
  } else {
    save_child(a, "actor_opt", *actor_opt);
    save_child(a, "critic_opt", *critic_opt);
    if (alpha_opt) save_child(a, "alpha_opt", *alpha_opt);
  }
  a.write("log_alpha", log_alpha.detach().clone());
  a.write("update_draws", c10::IValue(update_stream.draws()));
  a.write("act_draws", c10::IValue(act_stream.draws()));
  a.write("gradient_steps", c10::IValue(gradient_steps));
  a.write("stats_sum", stats_sum_.clone());
  a.write("stats_count", c10::IValue(stats_count_));
}

void SacLearner::load(InputArchive& a, bool counted_draws) {
  for (const auto& [key, module] : named_modules(*this)) {
    InputArchive child;
    a.read(key, child);
    load_module(child, *module);
  }
  if (engine) {
    const at::Tensor step = scalar(kAdamStep);
    const FlatMlp& am = engine->actor_mlp();
    const FlatMlp& cm = engine->critic_mlp();
    load_adam(a, "actor_opt", member_views(am, engine->actor_exp_avg),
              member_views(am, engine->actor_exp_avg_sq), step);
    load_adam(a, "critic_opt", member_views(cm, engine->critic_exp_avg),
              member_views(cm, engine->critic_exp_avg_sq), step);
    if (config_.ent_coef.learned) {
      load_adam(a, "alpha_opt", {scalar(kAlphaExpAvg)}, {scalar(kAlphaExpAvgSq)}, step);
    }
  } else {
    load_child(a, "actor_opt", *actor_opt);
    load_child(a, "critic_opt", *critic_opt);
    if (alpha_opt) load_child(a, "alpha_opt", *alpha_opt);
  }
  auto integer = [&a](const std::string& key) {
    c10::IValue v;
    a.read(key, v);
    return v.toInt();
  };
  copy_into(log_alpha, read_tensor(a, "log_alpha"), "log_alpha");
  // Formats before 5 saved generator states, which counter streams cannot continue
  // (load_checkpoint warns): their streams start afresh. A format-5 archive must have them.
  update_stream.set_draws(counted_draws ? integer("update_draws") : 0);
  act_stream.set_draws(counted_draws ? integer("act_draws") : 0);
  gradient_steps = integer("gradient_steps");
  copy_into(stats_sum_, read_tensor(a, "stats_sum"), "stats_sum");
  stats_count_ = integer("stats_count");
}

std::vector<at::Tensor> SacLearner::optimizer_state() const {
  if (!engine) {
    std::vector<at::Tensor> all;
    for (const FusedAdam* opt : {actor_opt.get(), critic_opt.get(), alpha_opt.get()}) {
      if (opt == nullptr) continue;
      for (const at::Tensor& t : opt->state_tensors()) all.push_back(t);
    }
    return all;
  }
  std::vector<at::Tensor> all;
  for (const auto& [mlp, flat] : {std::pair{&engine->actor_mlp(), &engine->actor_exp_avg},
                                  {&engine->actor_mlp(), &engine->actor_exp_avg_sq},
                                  {&engine->critic_mlp(), &engine->critic_exp_avg},
                                  {&engine->critic_mlp(), &engine->critic_exp_avg_sq}}) {
    for (const at::Tensor& v : member_views(*mlp, *flat)) all.push_back(v);
  }
  for (const SacScalar s : {kAlphaExpAvg, kAlphaExpAvgSq, kAdamStep}) all.push_back(scalar(s));
  return all;
}

}  // namespace vecsac
