/// @brief `vecsac rollout`: an exact, scriptable view of the environments.
#include "vecsac/cli/rollout.h"

#include <CLI/CLI.hpp>
#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>

#include "vecsac/env/env_json_tensor.h"
#include "vecsac/env/env_registry.h"
#include "vecsac/io/atomic_file.h"
#include "vecsac/io/json_file.h"
#include "vecsac/util/device.h"

namespace vecsac {

namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& msg) { throw std::invalid_argument(msg); }

json rows_json(const at::Tensor& cpu_2d) {
  json out = json::array();
  auto acc = cpu_2d.accessor<float, 2>();
  for (int64_t i = 0; i < cpu_2d.size(0); ++i) {
    json row = json::array();
    for (int64_t j = 0; j < cpu_2d.size(1); ++j) row.push_back(acc[i][j]);
    out.push_back(std::move(row));
  }
  return out;
}

template <class T>
json vector_json(const at::Tensor& cpu_1d) {
  json out = json::array();
  auto acc = cpu_1d.accessor<T, 1>();
  for (int64_t i = 0; i < cpu_1d.size(0); ++i) out.push_back(acc[i]);
  return out;
}

}  // namespace

json run_rollout(VecEnv& env, const at::Tensor& actions) {
  TORCH_CHECK(
      actions.dim() == 3 && actions.size(1) == env.num_envs() && actions.size(2) == env.act_dim(),
      "run_rollout: actions must be [T, num_envs=", env.num_envs(), ", act_dim=", env.act_dim(),
      "], got ", actions.sizes());
  const at::Tensor on_device = actions.to(env.device());
  json out;
  out["initial_obs"] = rows_json(env.obs().cpu());
  json obs = json::array(), reward = json::array(), terminated = json::array(),
       truncated = json::array();
  for (int64_t t = 0; t < actions.size(0); ++t) {
    const StepResult r = env.step(on_device[t]);
    obs.push_back(rows_json(r.next_obs.cpu()));
    reward.push_back(vector_json<float>(r.reward.cpu()));
    terminated.push_back(vector_json<bool>(r.terminated.cpu()));
    truncated.push_back(vector_json<bool>(r.truncated.cpu()));
  }
  out["obs"] = std::move(obs);
  out["reward"] = std::move(reward);
  out["terminated"] = std::move(terminated);
  out["truncated"] = std::move(truncated);
  return out;
}

Command add_rollout_command(CLI::App& parent) {
  struct Options {
    std::string env = "pointmass";
    int dim = 1;
    std::string init, actions, out, device = "cpu";
    int64_t seed = 0;
  };
  auto o = std::make_shared<Options>();
  CLI::App* app = parent.add_subcommand(
      "rollout", "Step envs with given actions and write every observation and reward as JSON");
  app->add_option("--env", o->env, "Environment")
      ->check(CLI::IsMember(env_name_list()))
      ->capture_default_str();
  app->add_option("--dim", o->dim, "Axes of envs that take several (the point mass)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app->add_option("--init", o->init,
                  "JSON {\"states\": [[...], ...]}, one state per env; without it envs reset "
                  "from --seed")
      ->check(CLI::ExistingFile);
  app->add_option("--actions", o->actions, "JSON {\"actions\": [T][N][act_dim]}")
      ->required()
      ->check(CLI::ExistingFile);
  app->add_option("--out", o->out, "Output JSON (written atomically)")->required();
  app->add_option("--seed", o->seed, "Reset seed when there is no --init")
      ->check(CLI::Range(int64_t{0}, INT64_MAX))
      ->capture_default_str();
  app->add_option("--device", o->device, "auto | cpu | cuda | cuda:N")->capture_default_str();

  return Command{
      app, [o] {
        EnvParams params;
        params.id = parse_env_id(o->env);
        params.dim = o->dim;
        params.seed = static_cast<uint64_t>(o->seed);
        if (o->dim > env_max_dim(params.id)) {
          bad("--dim " + std::to_string(o->dim) + ": " + env_dim_rule(params.id));
        }
        const c10::Device device = parse_device(o->device);
        const at::Tensor actions =
            actions_from_json(read_json_file(o->actions, "--actions file", kMaxActionsBytes),
                              env_act_dim(params), "--actions file '" + o->actions + "'");
        at::Tensor states;
        if (!o->init.empty()) {
          states = states_from_json(read_json_file(o->init, "--init file"), params,
                                    "--init file '" + o->init + "'");
          if (states.size(0) != actions.size(1)) {
            bad("--actions file '" + o->actions + "' has " + std::to_string(actions.size(1)) +
                " envs per step but --init file '" + o->init + "' has " +
                std::to_string(states.size(0)) + " states; they must match");
          }
        }
        VecEnv env(params, actions.size(1), device);
        if (states.defined()) env.set_state(states.to(device));
        write_file_atomic(o->out, run_rollout(env, actions).dump() + "\n");
      }};
}

}  // namespace vecsac
