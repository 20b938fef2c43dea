/// @brief Strict config parsing: every field bound once, typed, with a documented default.
#include "vecsac/config/config.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <stdexcept>

#include "vecsac/env/env_registry.h"
#include "vecsac/io/json_file.h"

namespace vecsac {
namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& msg) { throw std::invalid_argument(msg); }

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string joined(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

// A value as error messages show it. Not dump(): a string from --set may hold invalid UTF-8,
// where dump() throws instead of naming the key.
std::string shown(const json& v) { return v.dump(-1, ' ', false, json::error_handler_t::replace); }

[[noreturn]] void unknown_key(const std::string& path, const std::string& key,
                              const std::vector<std::string>& allowed) {
  std::string best;
  size_t best_d = std::numeric_limits<size_t>::max();
  for (const auto& a : allowed) {
    const size_t d = edit_distance(key, a);
    if (d < best_d) best_d = d, best = a;
  }
  std::string msg = "unknown config key '" + path + key + "'";
  const bool prefix = !best.empty() && (key.rfind(best.substr(0, 3), 0) == 0);
  if (best_d <= std::max<size_t>(2, key.size() / 3) || prefix)
    msg += "; did you mean '" + path + best + "'?";
  bad(msg + " (allowed in " + (path.empty() ? "the top level" : path.substr(0, path.size() - 1)) +
      ": " + joined(allowed) + ")");
}

int64_t as_int(const json& v, const std::string& key) {
  if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t{INT64_MAX}) {
    bad(key + "=" + shown(v) + ": out of range (at most 2^63 - 1)");
  }
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15) {
      return static_cast<int64_t>(d);  // 1e6 written as a float is still an integer
    }
  }
  bad(key + "=" + shown(v) + ": must be an integer");
}
double as_double(const json& v, const std::string& key) {
  if (!v.is_number()) bad(key + "=" + shown(v) + ": must be a number");
  return v.get<double>();
}
bool as_bool(const json& v, const std::string& key) {
  if (!v.is_boolean()) bad(key + "=" + shown(v) + ": must be true or false");
  return v.get<bool>();
}
std::string as_string(const json& v, const std::string& key) {
  if (!v.is_string()) bad(key + "=" + shown(v) + ": must be a string");
  return v.get<std::string>();
}
// The whole of `s` as a finite number.
bool parse_finite(const std::string& s, double& out) {
  try {
    size_t used = 0;
    out = std::stod(s, &used);
    return used == s.size() && std::isfinite(out);
  } catch (const std::exception&) {
    return false;
  }
}
bool parse_positive_number(const std::string& s, double& out) {
  return parse_finite(s, out) && out > 0;
}
// A JSON number, or (as configs written before the typed fields hold them) its text.
bool number_or_text(const json& v, double& out) {
  if (v.is_number()) {
    out = v.get<double>();
    return std::isfinite(out);
  }
  return v.is_string() && parse_finite(v.get<std::string>(), out);
}
// JSON's form of a number, which has none for NaN and the infinities (it writes null).
std::string str(double x) { return std::isfinite(x) ? json(x).dump() : std::to_string(x); }
std::string str(int64_t x) { return std::to_string(x); }

struct Field {
  std::string key;
  std::function<void(const json&, const std::string&)> set;
  std::function<json()> get;
};

template <class T, class Parse>
Field field(const std::string& key, T& member, Parse parse) {
  return Field{key, [&member, parse](const json& v, const std::string& k) { member = parse(v, k); },
               [&member] { return json(member); }};
}
Field int_field(const std::string& key, int64_t& m) { return field(key, m, as_int); }
Field int_field(const std::string& key, int& m) {
  return field(key, m, [](const json& v, const std::string& k) {
    const int64_t x = as_int(v, k);
    if (x < std::numeric_limits<int>::min() || x > std::numeric_limits<int>::max()) {
      bad(k + "=" + shown(v) + ": out of range");
    }
    return static_cast<int>(x);
  });
}

std::vector<Field> env_fields(EnvConfig& c) {
  return {Field{"name",
                [&c](const json& v, const std::string& k) {
                  if (!v.is_string() || !find_env(v.get<std::string>(), c.id))
                    bad(k + "=" + shown(v) + ": must be one of " + env_names());
                },
                [&c] { return json(env_name(c.id)); }},
          int_field("num_envs", c.num_envs),
          int_field("dim", c.dim),
          int_field("max_episode_steps", c.max_episode_steps),
          int_field("action_repeat", c.action_repeat),
          field("stagger_time_limits", c.stagger_time_limits, as_bool)};
}

std::vector<int64_t> parse_widths(const json& v, const std::string& key) {
  if (!v.is_array()) bad(key + "=" + shown(v) + ": must be a list of layer widths");
  std::vector<int64_t> widths;
  for (const auto& w : v) widths.push_back(as_int(w, key));
  return widths;
}

void parse_net_arch(const json& v, const std::string& key, SacConfig& c) {
  if (!v.is_object()) {
    if (!v.is_array())
      bad(key + "=" + shown(v) +
          R"(: must be a list of layer widths or {"pi": [...], "qf": [...]})");
    c.pi_arch = c.qf_arch = parse_widths(v, key);
    return;
  }
  for (const auto& [name, widths] : v.items()) {
    if (name != "pi" && name != "qf") unknown_key(key + ".", name, {"pi", "qf"});
  }
  for (const char* name : {"pi", "qf"}) {
    if (!v.contains(name)) bad(key + "=" + shown(v) + ": needs both \"pi\" and \"qf\"");
  }
  c.pi_arch = parse_widths(v["pi"], key + ".pi");
  c.qf_arch = parse_widths(v["qf"], key + ".qf");
}

std::vector<Field> sac_fields(SacConfig& c) {
  std::vector<Field> f{
      Field{"learning_rate",
            [&c](const json& v, const std::string& k) {
              c.learning_rate_linear = false;
              if (v.is_string()) {
                const std::string s = v.get<std::string>();
                double x = 0;
                size_t used = 0;
                try {
                  if (s.rfind("lin_", 0) == 0) x = std::stod(s.substr(4), &used);
                } catch (const std::exception&) {
                  used = 0;
                }
                // The value itself is checked here: validate() would show it as a plain
                // number (lin_-1 as -1.0, lin_nan as null), not as written.
                if (s.rfind("lin_", 0) != 0 || used == 0 || used != s.size() - 4 ||
                    !std::isfinite(x) || x <= 0) {
                  bad(k + "=" + shown(v) + ": must be a number > 0 or \"lin_<number > 0>\"");
                }
                c.learning_rate = x;
                c.learning_rate_linear = true;
                return;
              }
              c.learning_rate = as_double(v, k);
            },
            [&c] {
              return c.learning_rate_linear ? json("lin_" + json(c.learning_rate).dump())
                                            : json(c.learning_rate);
            }},
      int_field("buffer_size", c.buffer_size),
      int_field("learning_starts", c.learning_starts),
      int_field("batch_size", c.batch_size),
      field("tau", c.tau, as_double),
      field("gamma", c.gamma, as_double),
      int_field("train_freq", c.train_freq),
      int_field("gradient_steps", c.gradient_steps),
      Field{"ent_coef",
            [&c](const json& v, const std::string& k) {
              const std::string text = v.is_string() ? v.get<std::string>() : "";
              double x = 0;
              if (text == "auto") {
                c.ent_coef = {true, 1.0};
              } else if (text.rfind("auto_", 0) == 0 && parse_positive_number(text.substr(5), x)) {
                c.ent_coef = {true, x};
              } else if (number_or_text(v, x) && x > 0) {
                c.ent_coef = {false, x};
              } else {
                bad(k + "=" + shown(v) +
                    ": must be \"auto\", \"auto_<initial value > 0>\" or a number > 0");
              }
            },
            [&c] {
              const EntCoef& e = c.ent_coef;
              if (!e.learned) return json(e.initial);
              return json(e.initial == 1.0 ? "auto" : "auto_" + str(e.initial));
            }},
      Field{"target_entropy",
            [&c](const json& v, const std::string& k) {
              double x = 0;
              if (v == "auto") {
                c.target_entropy.reset();
              } else if (number_or_text(v, x)) {
                c.target_entropy = x;
              } else {
                bad(k + "=" + shown(v) + ": must be \"auto\" or a number");
              }
            },
            [&c] { return c.target_entropy ? json(*c.target_entropy) : json("auto"); }},
      int_field("target_update_interval", c.target_update_interval),
      Field{"critic_loss_weight",
            [&c](const json& v, const std::string& k) {
              const std::string text = v.is_string() ? v.get<std::string>() : "";
              double x = 0;
              if (text == "uniform") {
                c.critic_weight_offset = 0;
              } else if (text.rfind("relative_", 0) == 0 &&
                         parse_positive_number(text.substr(9), x)) {
                c.critic_weight_offset = x;
              } else {
                bad(k + "=" + shown(v) +
                    ": must be \"uniform\" or \"relative_<offset > 0>\" (weights 1 / (offset + "
                    "|target|))");
              }
            },
            [&c] {
              return json(c.critic_weight_offset == 0 ? "uniform"
                                                      : "relative_" + str(c.critic_weight_offset));
            }},
  };
  // SB3 nests the architecture: policy_kwargs = {"net_arch": [...]}, where the
  // list may also be {"pi": [...], "qf": [...]} (actor and critics apart).
  f.push_back(Field{"policy_kwargs",
                    [&c](const json& v, const std::string& k) {
                      if (!v.is_object())
                        bad(k + " must be an object like {\"net_arch\": [256, 256]}");
                      for (const auto& [key, val] : v.items()) {
                        if (key != "net_arch") unknown_key(k + ".", key, {"net_arch"});
                        parse_net_arch(val, k + ".net_arch", c);
                      }
                    },
                    [&c] {
                      return json{{"net_arch", c.pi_arch == c.qf_arch
                                                   ? json(c.pi_arch)
                                                   : json{{"pi", c.pi_arch}, {"qf", c.qf_arch}}}};
                    }});
  return f;
}

std::vector<Field> run_fields(RunConfig& c) {
  return {int_field("total_timesteps", c.total_timesteps),
          field("seed", c.seed,
                [](const json& v, const std::string& k) {
                  if (v.is_number_unsigned()) return v.get<uint64_t>();  // up to 2^64 - 1
                  const int64_t s = as_int(v, k);
                  if (s < 0) bad(k + "=" + shown(v) + ": must be >= 0");
                  return static_cast<uint64_t>(s);
                }),
          field("device", c.device, as_string),
          int_field("log_interval", c.log_interval),
          int_field("eval_freq", c.eval_freq),
          int_field("eval_episodes", c.eval_episodes),
          int_field("select_episodes", c.select_episodes),
          field("eval_init", c.eval_init, as_string),
          int_field("checkpoint_interval", c.checkpoint_interval),
          int_field("threads", c.threads)};
}

std::vector<std::pair<std::string, std::vector<Field>>> sections(Config& c) {
  return {{"env", env_fields(c.env)}, {"sac", sac_fields(c.sac)}, {"run", run_fields(c.run)}};
}

std::vector<std::string> keys_of(const std::vector<Field>& fields) {
  std::vector<std::string> k;
  for (const auto& f : fields) k.push_back(f.key);
  return k;
}

void require(bool ok, const std::string& key, const std::string& value,
             const std::string& allowed) {
  if (!ok) bad(key + "=" + value + ": " + allowed);
}

}  // namespace

Config config_from_json(const json& doc) {
  if (!doc.is_object()) bad("config must be a JSON object with sections env, sac, run");
  Config c;
  auto secs = sections(c);
  std::vector<std::string> names;
  for (const auto& s : secs) names.push_back(s.first);
  // Plain loop variables rather than structured bindings: clang before 16 (the fuzz build)
  // cannot capture those in the lambdas below.
  for (auto section = doc.begin(); section != doc.end(); ++section) {
    const std::string name = section.key();
    const json& body = section.value();
    auto it =
        std::find_if(secs.begin(), secs.end(), [&](const auto& s) { return s.first == name; });
    if (it == secs.end()) unknown_key("", name, names);
    if (!body.is_object()) bad("config section '" + name + "' must be an object");
    for (auto entry = body.begin(); entry != body.end(); ++entry) {
      const std::string key = entry.key();
      auto f = std::find_if(it->second.begin(), it->second.end(),
                            [&](const Field& fl) { return fl.key == key; });
      if (f == it->second.end()) unknown_key(name + ".", key, keys_of(it->second));
      f->set(entry.value(), name + "." + key);
    }
  }
  return c;
}

json config_to_json(const Config& config) {
  Config c = config;
  json out = json::object();
  for (const auto& [name, fields] : sections(c)) {
    json& sec = out[name] = json::object();
    for (const auto& f : fields) sec[f.key] = f.get();
  }
  return out;
}

void apply_override(json& doc, const std::string& assignment) {
  const size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    bad("--set '" + assignment + "': expected SECTION.KEY=VALUE, e.g. sac.tau=0.01");
  }
  const std::string path = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  json value;
  try {
    value = parse_json_bounded(text);
  } catch (const json::exception&) {
    value = text;  // bare words such as cuda:0 or auto are strings
    try {
      (void)value.dump();
    } catch (const json::exception&) {
      bad("--set '" + path + "=...': the value is not valid UTF-8");
    }
  } catch (const std::length_error& e) {
    bad("--set '" + path + "=...': the value is " + e.what());
  }
  json* node = &doc;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    const std::string part = path.substr(start, dot == std::string::npos ? dot : dot - start);
    if (part.empty()) bad("--set '" + assignment + "': empty key in '" + path + "'");
    if (!node->is_object()) *node = json::object();
    if (dot == std::string::npos) {
      (*node)[part] = value;
      break;
    }
    node = &(*node)[part];
    start = dot + 1;
  }
  if (path.find('.') == std::string::npos) {
    if (path == "env" || path == "sac" || path == "run") {
      bad("--set '" + assignment + "': '" + path +
          "' is a section; set one of its keys, e.g. --set " + path + "." +
          (path == "env"   ? "num_envs=64"
           : path == "sac" ? "tau=0.01"
                           : "seed=3"));
    }
    bad("--set '" + assignment + "': the key needs its section, e.g. sac." + path);
  }
}

double target_entropy(const SacConfig& sac, int64_t act_dim) {
  return sac.target_entropy.value_or(-static_cast<double>(act_dim));
}

void validate(const Config& c) {
  const auto& e = c.env;
  const EnvId id = e.id;
  bool known = false;
  for_each_env([&](auto env) { known = known || env.kId == id; });
  require(known, "env.name", str(int64_t{static_cast<int32_t>(id)}),
          "must be one of " + env_names());
  require(e.num_envs >= 1, "env.num_envs", str(e.num_envs), "must be >= 1");
  require(e.dim >= 1 && e.dim <= 1024, "env.dim", str(int64_t{e.dim}), "must be in [1, 1024]");
  require(e.dim <= env_max_dim(id), "env.dim", str(int64_t{e.dim}), env_dim_rule(id));
  require(e.max_episode_steps >= 1, "env.max_episode_steps", str(int64_t{e.max_episode_steps}),
          "must be >= 1");
  require(e.action_repeat >= 1 && e.action_repeat <= e.max_episode_steps, "env.action_repeat",
          str(int64_t{e.action_repeat}),
          "must be in [1, env.max_episode_steps (" + str(int64_t{e.max_episode_steps}) + ")]");

  const auto& s = c.sac;
  require(std::isfinite(s.learning_rate) && s.learning_rate > 0, "sac.learning_rate",
          str(s.learning_rate), "must be a finite number > 0");
  require(s.buffer_size >= 1 && s.buffer_size <= (int64_t{1} << 40), "sac.buffer_size",
          str(s.buffer_size), "must be in [1, 2^40]");
  require(s.learning_starts >= 0, "sac.learning_starts", str(s.learning_starts), "must be >= 0");
  require(s.batch_size >= 1, "sac.batch_size", str(s.batch_size), "must be >= 1");
  require(s.tau > 0 && s.tau <= 1, "sac.tau", str(s.tau), "must be in (0, 1]");
  require(s.gamma >= 0 && s.gamma <= 1, "sac.gamma", str(s.gamma), "must be in [0, 1]");
  require(s.train_freq >= 1, "sac.train_freq", str(s.train_freq), "must be >= 1 (vector steps)");
  require(s.gradient_steps >= 1, "sac.gradient_steps", str(s.gradient_steps), "must be >= 1");
  // The JSON forms were checked by the parse; these catch values set in code.
  require(std::isfinite(s.ent_coef.initial) && s.ent_coef.initial > 0, "sac.ent_coef",
          str(s.ent_coef.initial),
          "must be \"auto\", \"auto_<initial value > 0>\" or a number > 0");
  require(!s.target_entropy || std::isfinite(*s.target_entropy), "sac.target_entropy",
          str(s.target_entropy.value_or(0)), "must be \"auto\" or a number");
  require(std::isfinite(s.critic_weight_offset) && s.critic_weight_offset >= 0,
          "sac.critic_loss_weight", str(s.critic_weight_offset),
          "must be \"uniform\" or \"relative_<offset > 0>\"");
  require(s.target_update_interval >= 1, "sac.target_update_interval",
          str(s.target_update_interval), "must be >= 1");
  for (const auto& [arch, name] : {std::pair{&s.pi_arch, ".pi"}, std::pair{&s.qf_arch, ".qf"}}) {
    // The engine's per-agent optimizer step reads a fixed-size layer table (nn/flat_layout.h).
    require(!arch->empty() && arch->size() <= 7 &&
                std::all_of(arch->begin(), arch->end(), [](int64_t w) { return w >= 1; }),
            "sac.policy_kwargs.net_arch" + std::string(s.pi_arch == s.qf_arch ? "" : name),
            json(*arch).dump(), "must be a list of 1 to 7 widths >= 1");
  }

  const auto& r = c.run;
  require(r.total_timesteps >= 1, "run.total_timesteps", str(r.total_timesteps), "must be >= 1");
  require(r.log_interval >= 1, "run.log_interval", str(r.log_interval), "must be >= 1");
  require(r.eval_freq >= 0, "run.eval_freq", str(r.eval_freq), "must be >= 0 (0: only at the end)");
  require(r.eval_episodes >= 1, "run.eval_episodes", str(r.eval_episodes), "must be >= 1");
  require(r.select_episodes >= 0, "run.select_episodes", str(r.select_episodes),
          "must be >= 0 (0: no selection, the last actor is the run's policy)");
  require(r.checkpoint_interval >= 0, "run.checkpoint_interval", str(r.checkpoint_interval),
          "must be >= 0 (0: only at the end)");
  require(r.threads >= 0 && r.threads <= 1024, "run.threads", str(r.threads),
          "must be in [0, 1024] (0: the default, the core count or OMP_NUM_THREADS)");

  // Combinations that cannot train.
  require(s.batch_size <= s.buffer_size, "sac.batch_size", str(s.batch_size),
          "must be <= sac.buffer_size (" + str(s.buffer_size) + ")");
  require(s.buffer_size >= e.num_envs, "sac.buffer_size", str(s.buffer_size),
          "must hold at least one vector step, env.num_envs=" + str(e.num_envs));
  require(r.select_episodes == 0 || r.eval_freq > 0, "run.select_episodes", str(r.select_episodes),
          "needs run.eval_freq > 0: the candidates are the actors at the periodic evaluations "
          "(or set run.select_episodes=0 to report the last actor)");
  require(s.learning_starts < r.total_timesteps, "sac.learning_starts", str(s.learning_starts),
          "must be < run.total_timesteps (" + str(r.total_timesteps) +
              "), or no training would happen");
}

nlohmann::json resolved_config_file(const std::filesystem::path& file) {
  const nlohmann::json doc = read_json_file(file, "config", kMaxConfigBytes);
  nlohmann::json resolved = config_to_json(config_from_json(doc));
  if (!doc.contains("run") || !doc["run"].contains("seed")) resolved["run"].erase("seed");
  return resolved;
}

std::string first_config_difference(const nlohmann::json& before, const nlohmann::json& now,
                                    const std::vector<std::string>& ignored) {
  for (const auto& [section, keys] : now.items()) {
    for (const auto& [key, value] : keys.items()) {
      const std::string name = section + "." + key;
      if (std::find(ignored.begin(), ignored.end(), name) != ignored.end()) continue;
      const bool known = before.contains(section) && before[section].contains(key);
      if (!known || before[section][key] != value) {
        return name + "=" + (known ? shown(before[section][key]) : std::string("(unset)")) +
               ", now " + shown(value);
      }
    }
  }
  return "";
}

}  // namespace vecsac
