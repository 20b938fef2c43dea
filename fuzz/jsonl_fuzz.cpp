/// @brief libFuzzer target: the metrics.jsonl / evals.jsonl reader that `report` and
/// `export-tb` use. A refusal must be std::runtime_error naming the line; a torn last line is
/// dropped, never an error.
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include "vecsac/io/jsonl_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const vecsac::JsonlFile file = vecsac::parse_jsonl(text, "fuzz.jsonl");
    for (const auto& r : file.records) {
      if (!r.value.is_object() || r.line < 1) std::abort();
    }
  } catch (const std::runtime_error& e) {
    if (std::string_view(e.what()).rfind("fuzz.jsonl:", 0) != 0) std::abort();
  }
  return 0;
}
