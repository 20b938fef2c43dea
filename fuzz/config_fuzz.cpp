/// @brief libFuzzer target: the config parser with --set overrides, as `vecsac train` runs it.
///
/// The input's first line is the config document, each further line one --set assignment.
/// Every refusal must be one of the documented exceptions; anything else (a crash, a
/// sanitizer report, another exception type) is a finding. A config that parses and
/// validates must survive its own round trip: config_to_json, parsed again, gives the same.
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

#include "vecsac/config/config.h"
#include "vecsac/io/json_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t first_end = input.find('\n');
  const std::string_view doc_text = input.substr(0, first_end);
  nlohmann::json doc;
  try {
    doc = vecsac::parse_json_bounded(doc_text);
  } catch (const nlohmann::json::exception&) {
    return 0;
  } catch (const std::length_error&) {
    return 0;
  }
  if (!doc.is_object()) return 0;  // load_config refuses these before any override
  try {
    size_t begin = first_end == std::string_view::npos ? input.size() : first_end + 1;
    for (int i = 0; i < 8 && begin < input.size(); ++i) {
      const size_t end = std::min(input.find('\n', begin), input.size());
      vecsac::apply_override(doc, std::string(input.substr(begin, end - begin)));
      begin = end + 1;
    }
    const vecsac::Config config = vecsac::config_from_json(doc);
    vecsac::validate(config);
    const nlohmann::json resolved = vecsac::config_to_json(config);
    if (vecsac::config_to_json(vecsac::config_from_json(resolved)) != resolved) std::abort();
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
