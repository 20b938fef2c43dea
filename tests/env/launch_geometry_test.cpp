/// @brief Launch geometry of the env kernels, replayed on the CPU.
#include "vecsac/detail/launch_geometry.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "vecsac/env/vec_env_ops.h"

namespace vecsac {
namespace {

TEST(LaunchGeometryTest, BlocksCoverEveryElementWithLessThanOneBlockSpare) {
  constexpr int64_t t = kThreadsPerBlock;
  for (int64_t n : {int64_t{1}, t - 1, t, t + 1, int64_t{1000003}, (int64_t{1} << 31) + 1}) {
    const int64_t b = blocks_for(n, kThreadsPerBlock);
    EXPECT_GE(b * t, n) << "n=" << n;
    EXPECT_LT(b * t - n, t) << "n=" << n;
  }
  EXPECT_EQ(blocks_for(0, kThreadsPerBlock), 0);
  EXPECT_EQ(blocks_for(-5, kThreadsPerBlock), 0);
  EXPECT_EQ(blocks_for(1, kThreadsPerBlock), 1);
  EXPECT_EQ(blocks_for(t - 1, kThreadsPerBlock), 1);
  EXPECT_EQ(blocks_for(t, kThreadsPerBlock), 1);
  EXPECT_EQ(blocks_for(t + 1, kThreadsPerBlock), 2);
  static_assert(blocks_for(1000003, 256) == 3907);
}

TEST(LaunchGeometryTest, LinearIndexDoesNotOverflowInt32) {
  EXPECT_EQ(linear_index(/*block=*/int64_t{1} << 24, /*threads=*/256, /*thread=*/255),
            (int64_t{1} << 32) + 255);
}

// Records which element each emulated CUDA thread handles.
struct CountOp {
  EnvParams params;
  int64_t n;
  int* hits;
  template <class Env>
  void run(int64_t i) const {
    ++hits[i];
  }
};

// Replays the kernel's grid (blocks_for blocks of kThreadsPerBlock threads, each
// running run_env_thread, the kernel's whole body) and checks that every element
// is handled exactly once and no thread writes out of bounds.
TEST(LaunchGeometryTest, EmulatedGridHandlesEachEnvExactlyOnce) {
  constexpr int64_t t = kThreadsPerBlock;
  for (int64_t n : {int64_t{0}, int64_t{1}, t - 1, t, t + 1, int64_t{100003}}) {
    // One guard slot past the end catches a thread that ignores the bound.
    std::vector<int> hits(n + 1, 0);
    const CountOp op{EnvParams{}, n, hits.data()};
    for (int64_t b = 0; b < blocks_for(n, kThreadsPerBlock); ++b) {
      for (int64_t th = 0; th < t; ++th) run_env_thread<PointMass>(op, b, t, th);
    }
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i], 1) << "n=" << n << " i=" << i;
    EXPECT_EQ(hits[n], 0) << "a thread past n=" << n << " ran";
  }
}

}  // namespace
}  // namespace vecsac
