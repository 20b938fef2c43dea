/// @brief load_config: a config file, --set overrides, strict parsing and validation.
#include "vecsac/config/load_config.h"

#include <filesystem>
#include <stdexcept>

#include "vecsac/io/json_file.h"
#include "vecsac/util/device.h"

namespace vecsac {

Config load_config(const std::string& path, const std::vector<std::string>& overrides,
                   bool check_device) {
  nlohmann::json doc = path.empty() ? nlohmann::json::object()
                                    : read_json_file(path, "--config file", kMaxConfigBytes);
  if (!doc.is_object()) {
    throw std::invalid_argument("--config file '" + path +
                                "': expected a JSON object with the "
                                "sections env, sac and run, got " +
                                doc.type_name());
  }
  for (const auto& o : overrides) apply_override(doc, o);
  Config config = config_from_json(doc);
  validate(config);
  // Resolved against the directory the command runs in, so the run's
  // config.json names the same file from anywhere (eval, --resume).
  if (!config.run.eval_init.empty()) {
    config.run.eval_init = std::filesystem::absolute(config.run.eval_init).lexically_normal();
  }
  if (check_device) parse_device(config.run.device);  // "cuda" without a GPU fails here
  return config;
}

}  // namespace vecsac
