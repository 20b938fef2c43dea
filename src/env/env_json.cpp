/// @brief Env names and `--init` / `--actions` documents, read without LibTorch.
#include "vecsac/env/env_json.h"

#include <cmath>
#include <limits>
#include <stdexcept>

#include "vecsac/env/vec_env_ops.h"

namespace vecsac {
namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& msg) { throw std::invalid_argument(msg); }

// A value as shown in a message: invalid UTF-8 replaced, and cut short, because the
// offending element can be a whole nested list of a large file.
std::string shown(const json& v) {
  constexpr size_t kMaxShown = 80;
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > kMaxShown) s = s.substr(0, kMaxShown) + "...";
  return s;
}

// `where` is only built when there is an error to report.
template <class Where>
float finite_float(const json& v, const Where& where) {
  if (!v.is_number()) bad(where() + " must be a number, got " + shown(v));
  const double d = v.get<double>();
  if (!std::isfinite(d)) bad(where() + " is not finite (NaN and Inf are not allowed)");
  if (std::fabs(d) > std::numeric_limits<float>::max()) {
    bad(where() + " = " + shown(v) + " does not fit in float32");
  }
  return static_cast<float>(d);
}

const json& member_array(const json& doc, const char* key, const std::string& role,
                         const std::string& shape) {
  if (!doc.is_object() || !doc.contains(key)) {
    bad(role + " must be an object with key \"" + key + "\" holding " + shape);
  }
  for (const auto& item : doc.items()) {
    if (item.key() != key) {
      bad(role + ": unknown key " + shown(json(item.key())) + "; the only key allowed is \"" + key +
          "\"");
    }
  }
  const json& a = doc.at(key);
  if (!a.is_array() || a.empty()) bad(role + ": \"" + key + "\" must be a non-empty list " + shape);
  return a;
}

}  // namespace

EnvId parse_env_id(const std::string& name) {
  EnvId id{};
  if (!find_env(name, id)) bad("unknown env " + shown(json(name)) + "; allowed: " + env_names());
  return id;
}

std::string state_layout(const EnvParams& p) { return env_state_layout(p.id); }

FloatArray parse_states(const json& doc, const EnvParams& params, const std::string& role) {
  const int sd = env_state_dim(params);
  const std::string layout = state_layout(params);
  const json& states = member_array(doc, "states", role, "of per-env states " + layout);
  const auto n = static_cast<int64_t>(states.size());
  FloatArray out{{n, sd}, {}};
  out.values.reserve(static_cast<size_t>(n) * sd);
  for (int64_t i = 0; i < n; ++i) {
    const json& s = states[i];
    if (!s.is_array() || static_cast<int64_t>(s.size()) != sd) {
      bad(role + ": states[" + std::to_string(i) + "] must be a list of " + std::to_string(sd) +
          " numbers " + layout + " (dim " + std::to_string(params.dim) + "), got " + shown(s));
    }
    for (int j = 0; j < sd; ++j) {
      out.values.push_back(finite_float(s[j], [&] {
        return role + ": states[" + std::to_string(i) + "][" + std::to_string(j) + "]";
      }));
    }
  }
  return out;
}

FloatArray parse_actions(const json& doc, int act_dim, const std::string& role) {
  const std::string shape = "of shape [T][N][" + std::to_string(act_dim) + "]";
  const json& steps = member_array(doc, "actions", role, shape);
  const auto t_len = static_cast<int64_t>(steps.size());
  if (!steps[0].is_array() || steps[0].empty()) {
    bad(role + ": actions[0] must be a non-empty list of per-env actions " + shape);
  }
  const auto n = static_cast<int64_t>(steps[0].size());
  FloatArray out{{t_len, n, act_dim}, {}};
  out.values.reserve(static_cast<size_t>(t_len * n) * act_dim);
  for (int64_t t = 0; t < t_len; ++t) {
    const json& row = steps[t];
    if (!row.is_array() || static_cast<int64_t>(row.size()) != n) {
      bad(role + ": actions[" + std::to_string(t) + "] must list " + std::to_string(n) +
          " envs like actions[0] " + shape + ", got " +
          (row.is_array() ? std::to_string(row.size()) + " entries" : shown(row)));
    }
    for (int64_t i = 0; i < n; ++i) {
      const json& a = row[i];
      if (!a.is_array() || static_cast<int64_t>(a.size()) != act_dim) {
        bad(role + ": actions[" + std::to_string(t) + "][" + std::to_string(i) +
            "] must be a list of " + std::to_string(act_dim) + " numbers " + shape + ", got " +
            shown(a));
      }
      for (int k = 0; k < act_dim; ++k) {
        out.values.push_back(finite_float(a[k], [&] {
          return role + ": actions[" + std::to_string(t) + "][" + std::to_string(i) + "][" +
                 std::to_string(k) + "]";
        }));
      }
    }
  }
  return out;
}

}  // namespace vecsac
