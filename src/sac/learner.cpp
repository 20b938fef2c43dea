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
Temperature Temperature::parse(const std::string& ent_coef, const std::string& target_entropy,
                               int64_t act_dim) {
  Temperature t;
  if (ent_coef == "auto") {
    t.learned = true;
    t.initial = 1.0;
  } else if (ent_coef.rfind("auto_", 0) == 0) {
    t.learned = true;
    t.initial = std::stod(ent_coef.substr(5));
  } else {
    t.learned = false;
    t.initial = std::stod(ent_coef);
  }
  t.target_entropy =
      target_entropy == "auto" ? -static_cast<double>(act_dim) : std::stod(target_entropy);
  return t;
}

SacLearner::SacLearner(const SacConfig& config, int64_t obs_dim, int64_t act_dim,
                       double action_limit, c10::Device device, uint64_t seed)
    : actor(nullptr),
      critic(nullptr),
      critic_target(nullptr),
      config_(config),
      temperature_(Temperature::parse(config.ent_coef, config.target_entropy, act_dim)),
      critic_weight_offset_(critic_weight_offset(config.critic_loss_weight)) {
  // Initialise on the CPU from one generator, then move: the same seed gives
  // the same weights on every device.
  at::Generator init = make_generator(c10::Device(c10::kCPU), derive_seed(seed, kInitSeed));
  actor = Actor(obs_dim, act_dim, config.pi_arch, action_limit, init);
  critic = TwinCritic(obs_dim, act_dim, config.qf_arch, init);
  critic_target = TwinCritic(obs_dim, act_dim, config.qf_arch, init);
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

  log_alpha = at::full({}, std::log(temperature_.initial),
                       at::TensorOptions().device(device).dtype(at::kFloat));
  actor_opt = std::make_unique<FusedAdam>(actor->parameters(), config.learning_rate);
  critic_opt = std::make_unique<FusedAdam>(critic->parameters(), config.learning_rate);
  if (temperature_.learned) {
    log_alpha.set_requires_grad(true);
    alpha_opt =
        std::make_unique<FusedAdam>(std::vector<at::Tensor>{log_alpha}, config.learning_rate);
  }
  update_gen = make_generator(device, derive_seed(seed, kUpdateSeed));
  act_gen = make_generator(device, derive_seed(seed, kActSeed));
  stats_sum_ = at::zeros({6}, at::TensorOptions().device(device).dtype(at::kFloat));
}

// HOT LOOP BEGIN
void SacLearner::update(const Batch& b) {
  // 1. Temperature, from a fresh policy sample on the batch's observations.
  const SquashedSample pi = actor->sample(b.obs, update_gen);
  // SB3 reads the temperature before stepping it; this step's losses use that value.
  const at::Tensor alpha = log_alpha.detach().exp();
  at::Tensor a_loss = at::zeros({}, log_alpha.options().requires_grad(false));
  if (alpha_opt) {
    a_loss = alpha_loss(log_alpha, pi.log_prob, temperature_.target_entropy);
    alpha_opt->zero_grad();
    a_loss.backward();
    alpha_opt->step();
  }

  // 2. Critics against the soft Bellman target from the target critics.
  at::Tensor target, weights;
  {
    const c10::NoGradGuard no_grad;
    const SquashedSample next = actor->sample(b.next_obs, update_gen);
    const at::Tensor next_q = std::get<0>(critic_target->forward(b.next_obs, next.action).min(0));
    target = soft_q_target(b.reward, b.terminated, next_q, next.log_prob, alpha, config_.gamma);
    if (critic_weight_offset_ > 0) weights = relative_critic_weights(target, critic_weight_offset_);
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
  for (auto* opt : {actor_opt.get(), critic_opt.get(), alpha_opt.get()}) {
    if (opt != nullptr) opt->set_lr(lr);
  }
}

at::Tensor SacLearner::act(const at::Tensor& obs) {
  const c10::NoGradGuard no_grad;
  return actor->sample(obs, act_gen).action;
}

// HOT LOOP END

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

template <class Saveable>
void save_child(torch::serialize::OutputArchive& root, const std::string& key, const Saveable& x) {
  torch::serialize::OutputArchive child;
  x.save(child);
  root.write(key, child);
}
template <class Loadable>
void load_child(torch::serialize::InputArchive& root, const std::string& key, Loadable& x) {
  torch::serialize::InputArchive child;
  root.read(key, child);
  x.load(child);
}

}  // namespace

void SacLearner::save(torch::serialize::OutputArchive& a) const {
  save_child(a, "actor", *actor);
  save_child(a, "critic", *critic);
  save_child(a, "critic_target", *critic_target);
  save_child(a, "actor_opt", *actor_opt);
  save_child(a, "critic_opt", *critic_opt);
  if (alpha_opt) save_child(a, "alpha_opt", *alpha_opt);
  a.write("log_alpha", log_alpha.detach());
  a.write("update_gen", update_gen.get_state());
  a.write("act_gen", act_gen.get_state());
  a.write("gradient_steps", c10::IValue(gradient_steps));
  a.write("stats_sum", stats_sum_);
  a.write("stats_count", c10::IValue(stats_count_));
}

void SacLearner::load(torch::serialize::InputArchive& a) {
  load_child(a, "actor", *actor);
  load_child(a, "critic", *critic);
  load_child(a, "critic_target", *critic_target);
  load_child(a, "actor_opt", *actor_opt);
  load_child(a, "critic_opt", *critic_opt);
  if (alpha_opt) load_child(a, "alpha_opt", *alpha_opt);
  // A fresh tensor per read: reading into a defined one would alias it.
  auto tensor = [&a](const std::string& key) {
    at::Tensor t;
    a.read(key, t);
    return t;
  };
  auto integer = [&a](const std::string& key) {
    c10::IValue v;
    a.read(key, v);
    return v.toInt();
  };
  {
    const c10::NoGradGuard no_grad;
    log_alpha.copy_(tensor("log_alpha"));
  }
  update_gen.set_state(tensor("update_gen").cpu());  // generator states are CPU byte tensors
  act_gen.set_state(tensor("act_gen").cpu());
  gradient_steps = integer("gradient_steps");
  stats_sum_.copy_(tensor("stats_sum"));
  stats_count_ = integer("stats_count");
}

}  // namespace vecsac
