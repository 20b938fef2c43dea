/// @brief libFuzzer target: the `--init` and `--actions` readers of rollout, eval, optimum and
/// run.eval_init, behind the same bounded parse as read_json_file. The first byte picks the env,
/// its dim and the action width, so one input reaches every layout. A refusal must be
/// std::invalid_argument naming the role; an accepted array must be dense and finite.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include "vecsac/env/env_json.h"
#include "vecsac/io/json_file.h"

namespace {

void check(const vecsac::FloatArray& a) {
  size_t n = 1;
  for (int64_t d : a.shape) {
    if (d < 1) std::abort();
    n *= static_cast<size_t>(d);
  }
  if (n != a.values.size()) std::abort();
  for (float v : a.values) {
    if (!std::isfinite(v)) std::abort();
  }
}

template <class F>
void expect_clean(const F& read) {
  try {
    check(read());
  } catch (const std::invalid_argument& e) {
    if (std::string_view(e.what()).rfind("fuzz", 0) != 0) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t pick = data[0];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  nlohmann::json doc;
  try {
    doc = vecsac::parse_json_bounded(text);
  } catch (const std::exception&) {
    return 0;  // invalid or too deep: the bounded parse's own checks, fuzzed in config_fuzz
  }
  vecsac::EnvParams params;
  params.id = (pick & 1) != 0 ? vecsac::EnvId::kPendulum : vecsac::EnvId::kPointMass;
  params.dim = params.id == vecsac::EnvId::kPendulum ? 1 : 1 + ((pick >> 1) & 3);
  expect_clean([&] { return vecsac::parse_states(doc, params, "fuzz --init"); });
  expect_clean([&] { return vecsac::parse_actions(doc, 1 + ((pick >> 3) & 3), "fuzz --actions"); });
  return 0;
}
