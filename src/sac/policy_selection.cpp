/// @brief SelectedPolicy.
#include "vecsac/sac/policy_selection.h"

#include <c10/core/GradMode.h>

#include "vecsac/util/generator.h"

namespace vecsac {
namespace {

void copy_weights(const Actor& from, Actor& to) {
  const c10::NoGradGuard no_grad;
  const auto src = from->parameters();
  auto dst = to->parameters();
  for (size_t i = 0; i < dst.size(); ++i) dst[i].copy_(src[i]);
}

}  // namespace

SelectedPolicy::SelectedPolicy(int64_t obs_dim, int64_t act_dim, const std::vector<int64_t>& hidden,
                               double action_limit, c10::Device device, int64_t episodes)
    : actor(obs_dim, act_dim, hidden, action_limit, make_generator(c10::Device(c10::kCPU), 0)),
      episodes(episodes) {
  actor->to(device);
  for (auto& p : actor->parameters()) p.set_requires_grad(false);
}

void SelectedPolicy::consider(const Actor& current, double candidate_score, int64_t global_step) {
  if (!(candidate_score > score)) return;  // NaN never wins
  copy_weights(current, actor);
  score = candidate_score;
  step = global_step;
}

void SelectedPolicy::save(torch::serialize::OutputArchive& archive) const {
  torch::serialize::OutputArchive weights;
  actor->save(weights);
  archive.write("actor", weights);
  archive.write("score", c10::IValue(score));
  archive.write("step", c10::IValue(step));
  archive.write("episodes", c10::IValue(episodes));
}

bool SelectedPolicy::load(torch::serialize::InputArchive& archive) {
  c10::IValue v;
  archive.read("episodes", v);
  if (v.toInt() != episodes) {
    score = -std::numeric_limits<double>::infinity();
    step = -1;
    return false;
  }
  torch::serialize::InputArchive weights;
  archive.read("actor", weights);
  actor->load(weights);
  archive.read("score", v);
  score = v.toDouble();
  archive.read("step", v);
  step = v.toInt();
  return true;
}

}  // namespace vecsac
