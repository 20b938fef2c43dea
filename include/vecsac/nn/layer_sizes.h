/// @brief An MLP's layer sizes from its input width, hidden widths and output width.
#pragma once

#include <cstdint>
#include <vector>

namespace vecsac {

/// {in, hidden..., out}: the `sizes` of EnsembleMlp and FlatMlp.
inline std::vector<int64_t> layer_sizes(int64_t in, const std::vector<int64_t>& hidden,
                                        int64_t out) {
  std::vector<int64_t> sizes{in};
  sizes.insert(sizes.end(), hidden.begin(), hidden.end());
  sizes.push_back(out);
  return sizes;
}

}  // namespace vecsac
