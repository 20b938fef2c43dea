/// @brief A strided stack of row-major matrices on raw pointers (torch-free, for kernels).
#pragma once

#include <cstdint>

#include "vecsac/detail/hd.h"

namespace vecsac {

/// `members` matrices of [rows, cols], row r of member e at data + e * member_stride + r * ld.
/// The update engine's activations are such stacks: one member per ensemble network
/// (the twin critics), each row padded by a constant-one column that carries the bias
/// through the GEMM (nn/flat_mlp.h).
struct Rows {
  float* data;
  int64_t members, rows, cols, ld, member_stride;
};

/// Start of row `row` of the stack counted over all members, row in [0, members * rows).
VECSAC_HD inline float* row_of(const Rows& m, int64_t row) {
  return m.data + (row / m.rows) * m.member_stride + (row % m.rows) * m.ld;
}

}  // namespace vecsac
