/// @brief The benchmarks' shared device check, config and training-state fixture.
#include "bench_util.h"

#include <ATen/ATen.h>
#include <torch/cuda.h>

#include <climits>
#include <filesystem>
#include <map>
#include <utility>

#include "vecsac/env/vec_env.h"
#include "vecsac/io/json_file.h"
#include "vecsac/sac/train_iteration.h"
#include "vecsac/sac/trainer.h"
#include "vecsac/util/generator.h"

namespace vecsac::bench {

std::optional<c10::Device> device_or_skip(benchmark::State& state, c10::DeviceType type) {
  if (type == c10::kCPU) return c10::Device(c10::kCPU);
#ifdef VECSAC_WITH_CUDA
  if (torch::cuda::is_available()) return c10::Device(c10::kCUDA, 0);
  state.SkipWithError("no CUDA GPU visible: CUDA variant compiled, not run");
#else
  state.SkipWithError("vecsac built with VECSAC_CUDA=OFF");
#endif
  return std::nullopt;
}

namespace {

// The source tree's copy, else ./configs (a build carried to another checkout).
Config config_file(const std::filesystem::path& in_source, const std::string& name) {
  std::filesystem::path path = in_source;
  if (!std::filesystem::exists(path)) path = "configs/" + name;
  Config c = config_from_json(read_json_file(path, "config"));
  validate(c);
  return c;
}

}  // namespace

const Config& pointmass_config() {
  static const Config config = config_file(VECSAC_POINTMASS_CONFIG, "pointmass.json");
  return config;
}

const Config& pendulum_config() {
  static const Config config = [] {
    Config c = config_file(VECSAC_PENDULUM_CONFIG, "pendulum.json");
    c.sac.buffer_size = 10000;  // all that its 10k-step run uses; the fixture fills it
    return c;
  }();
  return config;
}

const Config& update_config() {
  static const Config config = [] {
    Config c = pointmass_config();
    c.sac.pi_arch = c.sac.qf_arch = {256, 256};
    return c;
  }();
  return config;
}

const Config& small_config() {
  static const Config config = [] {
    Config c = pointmass_config();
    c.sac.pi_arch = c.sac.qf_arch = {64, 64};
    return c;
  }();
  return config;
}

Fixture& fixture(c10::Device device, const Config& config) {
  // Never destroyed: freeing CUDA tensors from a static destructor could run
  // after the CUDA runtime has shut down.
  static auto* const built = new std::map<std::pair<std::string, const Config*>, Fixture>;
  const auto key = std::make_pair(device.str(), &config);
  const auto found = built->find(key);
  if (found != built->end()) return found->second;

  auto parts = std::make_unique<TrainingParts>(config, device);
  TrainingParts& p = *parts;
  Fixture f{std::move(parts), p.env.obs_dim(),  p.env.act_dim(),   &p.replay,
            &p.learner,       &p.replay_stream, &p.explore_stream, p.env.action_limit()};

  // Filled as the trainer's learning_starts phase fills it: the loop's own
  // iteration, with every step before learning_starts (random actions, no updates).
  Config fill = config;
  fill.sac.learning_starts = INT64_MAX;
  TrainingState state = p.ref();
  const at::Tensor obs_before = at::empty_like(p.env.obs());
  while (p.replay.size() < p.replay.capacity()) train_iteration(state, fill, obs_before);
  return built->emplace(key, std::move(f)).first->second;
}

}  // namespace vecsac::bench
