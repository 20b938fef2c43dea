/// @brief `vecsac rollout`: an exact, scriptable view of the environments.
#include "vecsac/cli/rollout.h"

#include <ATen/ops/empty.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>

#include "vecsac/io/atomic_file.h"
#include "vecsac/io/json_file.h"
#include "vecsac/util/device.h"

namespace vecsac {
namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& msg) { throw std::invalid_argument(msg); }

std::string state_layout(const EnvParams& p) {
  return p.id == EnvId::kPendulum ? "[theta, theta_dot]" : "[pos_1..pos_D, vel_1..vel_D]";
}

// `where` is only built when there is an error to report.
template <class Where>
float finite_float(const json& v, const Where& where) {
  if (!v.is_number()) bad(where() + " must be a number, got " + v.dump());
  const double d = v.get<double>();
  if (!std::isfinite(d)) bad(where() + " is not finite (NaN and Inf are not allowed)");
  if (std::fabs(d) > std::numeric_limits<float>::max()) {
    bad(where() + " = " + v.dump() + " does not fit in float32");
  }
  return static_cast<float>(d);
}

const json& member_array(const json& doc, const char* key, const std::string& role,
                         const std::string& shape) {
  if (!doc.is_object() || !doc.contains(key)) {
    bad(role + " must be an object with key \"" + key + "\" holding " + shape);
  }
  for (const auto& [k, v] : doc.items()) {
    if (k != key)
      bad(role + ": unknown key \"" + k + "\"; the only key allowed is \"" + key + "\"");
  }
  const json& a = doc.at(key);
  if (!a.is_array() || a.empty()) bad(role + ": \"" + key + "\" must be a non-empty list " + shape);
  return a;
}

}  // namespace

EnvId parse_env_id(const std::string& name) {
  if (name == "pointmass") return EnvId::kPointMass;
  if (name == "pendulum") return EnvId::kPendulum;
  bad("unknown env '" + name + "'; allowed: pointmass, pendulum");
}

at::Tensor states_from_json(const json& doc, const EnvParams& params, const std::string& role) {
  const int sd = env_state_dim(params);
  const std::string layout = state_layout(params);
  const json& states = member_array(doc, "states", role, "of per-env states " + layout);
  const auto n = static_cast<int64_t>(states.size());
  at::Tensor out = at::empty({n, sd}, at::kFloat);
  auto acc = out.accessor<float, 2>();
  for (int64_t i = 0; i < n; ++i) {
    const json& s = states[i];
    if (!s.is_array() || static_cast<int>(s.size()) != sd) {
      bad(role + ": states[" + std::to_string(i) + "] must be a list of " + std::to_string(sd) +
          " numbers " + layout + " (dim " + std::to_string(params.dim) + "), got " + s.dump());
    }
    for (int j = 0; j < sd; ++j) {
      acc[i][j] = finite_float(s[j], [&] {
        return role + ": states[" + std::to_string(i) + "][" + std::to_string(j) + "]";
      });
    }
  }
  return out;
}

at::Tensor actions_from_json(const json& doc, int act_dim, const std::string& role) {
  const std::string shape = "of shape [T][N][" + std::to_string(act_dim) + "]";
  const json& steps = member_array(doc, "actions", role, shape);
  const auto t_len = static_cast<int64_t>(steps.size());
  if (!steps[0].is_array() || steps[0].empty()) {
    bad(role + ": actions[0] must be a non-empty list of per-env actions " + shape);
  }
  const auto n = static_cast<int64_t>(steps[0].size());
  at::Tensor out = at::empty({t_len, n, act_dim}, at::kFloat);
  auto acc = out.accessor<float, 3>();
  for (int64_t t = 0; t < t_len; ++t) {
    const json& row = steps[t];
    if (!row.is_array() || static_cast<int64_t>(row.size()) != n) {
      bad(role + ": actions[" + std::to_string(t) + "] must list " + std::to_string(n) +
          " envs like actions[0] " + shape + ", got " +
          (row.is_array() ? std::to_string(row.size()) + " entries" : row.dump()));
    }
    for (int64_t i = 0; i < n; ++i) {
      const json& a = row[i];
      if (!a.is_array() || static_cast<int>(a.size()) != act_dim) {
        bad(role + ": actions[" + std::to_string(t) + "][" + std::to_string(i) +
            "] must be a list of " + std::to_string(act_dim) + " numbers " + shape + ", got " +
            a.dump());
      }
      for (int k = 0; k < act_dim; ++k) {
        acc[t][i][k] = finite_float(a[k], [&] {
          return role + ": actions[" + std::to_string(t) + "][" + std::to_string(i) + "][" +
                 std::to_string(k) + "]";
        });
      }
    }
  }
  return out;
}

namespace {

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
      ->check(CLI::IsMember({"pointmass", "pendulum"}))
      ->capture_default_str();
  app->add_option("--dim", o->dim, "Point-mass axes (pendulum: 1)")
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
        if (params.id == EnvId::kPendulum && o->dim != 1) {
          bad("--dim " + std::to_string(o->dim) + ": pendulum has exactly 1 axis");
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
