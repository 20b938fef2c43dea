/// @brief gemm() on the CPU: vecsac's own kernels and MKL against a double-precision
/// reference, over the shapes, layouts and strides the update engine uses and their edges.
#include "vecsac/nn/gemm.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "vecsac/nn/cpu_gemm.h"

namespace vecsac {
namespace {

const c10::Device kCpu(c10::kCPU);

struct Case {
  bool ta, tb;
  int64_t m, n, k, batch;
  bool shared_a;  // stride_a 0: every member reads the same A, as the twin critics' input
  float beta;
  int64_t pad;  // extra leading-dimension columns beyond the minimum
  bool relu = false;
};

// Runs one case under the current backend and checks every element of every member against
// a double-precision product; C starts as NaN where beta is 0 (it must not be read).
void check(const Case& t, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  const int64_t a_rows = t.ta ? t.k : t.m, a_cols = t.ta ? t.m : t.k;
  const int64_t b_rows = t.tb ? t.n : t.k, b_cols = t.tb ? t.k : t.n;
  Gemm g;
  g.trans_a = t.ta;
  g.trans_b = t.tb;
  g.m = t.m;
  g.n = t.n;
  g.k = t.k;
  g.batch = t.batch;
  g.beta = t.beta;
  g.relu = t.relu;
  g.lda = a_cols + t.pad;
  g.ldb = b_cols + t.pad;
  g.ldc = t.n + t.pad;
  g.stride_a = t.shared_a ? 0 : a_rows * g.lda;
  g.stride_b = b_rows * g.ldb;
  g.stride_c = t.m * g.ldc;
  std::vector<float> a((t.shared_a ? 1 : t.batch) * a_rows * g.lda + 1),
      b(t.batch * b_rows * g.ldb + 1), c(t.batch * t.m * g.ldc + 1);
  for (auto& x : a) x = u(rng);
  for (auto& x : b) x = u(rng);
  for (auto& x : c) x = t.beta == 0.0f ? std::numeric_limits<float>::quiet_NaN() : u(rng);
  const std::vector<float> c0 = c;
  g.a = a.data();
  g.b = b.data();
  g.c = c.data();
  gemm(g, kCpu);
  for (int64_t e = 0; e < t.batch; ++e) {
    const float* ae = a.data() + e * g.stride_a;
    const float* be = b.data() + e * g.stride_b;
    for (int64_t i = 0; i < t.m; ++i) {
      for (int64_t j = 0; j < t.n; ++j) {
        double want = 0, scale = 0;
        for (int64_t p = 0; p < t.k; ++p) {
          const double x = t.ta ? ae[p * g.lda + i] : ae[i * g.lda + p];
          const double y = t.tb ? be[j * g.ldb + p] : be[p * g.ldb + j];
          want += x * y;
          scale += std::fabs(x * y);
        }
        const int64_t at_c = e * g.stride_c + i * g.ldc + j;
        if (t.beta != 0.0f) want += t.beta * static_cast<double>(c0[at_c]);
        if (t.relu) want = std::max(want, 0.0);
        ASSERT_NEAR(c[at_c], want, 1e-6 * (scale + 1) * std::sqrt(t.k + 1.0))
            << (t.ta ? "T" : "N") << (t.tb ? "T" : "N") << " m " << t.m << " n " << t.n << " k "
            << t.k << " member " << e << " at (" << i << ", " << j << ")";
      }
      // The padding between rows of C is not written.
      for (int64_t j = t.n; j < g.ldc; ++j) {
        const int64_t at_c = e * g.stride_c + i * g.ldc + j;
        ASSERT_TRUE(std::isnan(c[at_c]) == std::isnan(c0[at_c]) &&
                    (std::isnan(c0[at_c]) || c[at_c] == c0[at_c]));
      }
    }
  }
}

class GemmTest : public ::testing::TestWithParam<CpuGemm> {
 protected:
  void SetUp() override { set_cpu_gemm(GetParam()); }
  void TearDown() override { set_cpu_gemm(CpuGemm::kAuto); }
};

TEST_P(GemmTest, EveryLayoutAndEdgeShapeMatchesADoubleReference) {
  std::mt19937 rng(5);
  // The engine's shapes (batch 100, widths 64, heads of 1 and 2, bias rows: in + 1), and
  // every remainder of the 6x16 register block and the 8-wide tails.
  const int64_t sizes[] = {1, 2, 3, 5, 6, 7, 8, 9, 13, 16, 17, 31, 65, 100};
  for (const bool ta : {false, true}) {
    for (const bool tb : {false, true}) {
      for (const int64_t m : sizes) {
        for (const int64_t n : {int64_t{1}, int64_t{2}, int64_t{7}, int64_t{8}, int64_t{15},
                                int64_t{16}, int64_t{33}, int64_t{64}, int64_t{65}}) {
          for (const int64_t k : {int64_t{1}, int64_t{4}, int64_t{9}, int64_t{65}, int64_t{100}}) {
            const float beta = (m + n + k) % 3 == 0 ? 1.0f : 0.0f;
            check({ta, tb, m, n, k, 1, false, beta, (m + k) % 2, (m + n) % 2 == 1}, rng);
          }
        }
      }
    }
  }
}

TEST_P(GemmTest, BatchedMembersAndASharedInputMatchTheReference) {
  std::mt19937 rng(6);
  check({false, false, 100, 64, 65, 2, true, 0.0f, 0}, rng);  // twin critics' first layers
  check({false, true, 100, 65, 64, 2, false, 0.0f, 3}, rng);  // their input gradients
  check({true, false, 65, 64, 100, 2, false, 1.0f, 0}, rng);  // weight gradients, accumulated
  check({false, false, 100, 1, 65, 2, false, 0.0f, 1}, rng);  // the heads
  check({true, false, 65, 1, 100, 2, true, 0.0f, 0}, rng);
  check({false, false, 100, 64, 65, 2, true, 0.0f, 0, true}, rng);  // hidden layers: ReLU
  check({false, false, 100, 5, 65, 2, false, 1.0f, 1, true}, rng);
}

// Calls large enough to be split among threads (the default config's shapes: batch 1024,
// widths 64 and 96; one member or two), in every layout the engine uses.
TEST_P(GemmTest, CallsSplitAmongThreadsMatchTheReference) {
  std::mt19937 rng(9);
  const int threads = at::get_num_threads();
  at::set_num_threads(2);
  check({false, false, 2048, 96, 97, 1, false, 0.0f, 1, true}, rng);  // actor hidden layer
  check({false, false, 1024, 64, 4, 2, true, 0.0f, 0, true}, rng);    // critics' first layer
  check({false, true, 1024, 96, 96, 1, false, 0.0f, 0}, rng);         // input gradient
  check({true, false, 97, 96, 2048, 1, false, 0.0f, 0}, rng);         // weight gradient
  check({true, false, 65, 64, 1031, 2, false, 1.0f, 2}, rng);
  check({false, false, 1031, 2, 97, 1, false, 0.0f, 0}, rng);  // a head
  check({true, false, 97, 2, 2048, 1, false, 0.0f, 0}, rng);   // its weight gradient
  at::set_num_threads(threads);
}

TEST_P(GemmTest, ReluKeepsNaN) {
  std::vector<float> a = {std::numeric_limits<float>::quiet_NaN(), 1.0f}, b(2 * 16, -1.0f),
                     c(16, 5.0f);
  Gemm g;
  g.m = 1, g.n = 16, g.k = 2;
  g.a = a.data(), g.lda = 2;
  g.b = b.data(), g.ldb = 16;
  g.c = c.data(), g.ldc = 16;
  g.relu = true;
  gemm(g, kCpu);
  for (const float x : c) EXPECT_TRUE(std::isnan(x));
  a[0] = 1.0f;
  gemm(g, kCpu);
  for (const float x : c) EXPECT_EQ(x, 0.0f);
}

TEST_P(GemmTest, ZeroDepthGivesBetaTimesC) {
  std::mt19937 rng(7);
  check({false, false, 9, 17, 0, 1, false, 1.0f, 0}, rng);
  check({false, false, 9, 3, 0, 1, false, 0.0f, 0}, rng);
}

INSTANTIATE_TEST_SUITE_P(Backends, GemmTest, ::testing::Values(CpuGemm::kAuto, CpuGemm::kMkl),
                         [](const auto& info) {
                           return info.param == CpuGemm::kAuto ? std::string("Own")
                                                               : std::string("Mkl");
                         });

// The auto backend is ours on an AVX2 machine, whatever the thread count, and the result
// does not depend on the thread count (one fixed order of summation per element), also
// where a call is split among threads.
TEST(OwnGemmTest, ResultsDoNotDependOnTheThreadCount) {
  if (!own_gemm_supported()) GTEST_SKIP() << "no AVX2/FMA on this CPU";
  std::mt19937 rng(8);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (const bool trans_a : {false, true}) {
    for (const int64_t rows : {int64_t{100}, int64_t{1024}}) {
      const int64_t m = trans_a ? 97 : rows, k = trans_a ? rows : 97;
      std::vector<float> a(m * k), b(k * 96), c1(2 * m * 96), c2(2 * m * 96);
      for (auto& x : a) x = u(rng);
      for (auto& x : b) x = u(rng);
      Gemm g;
      g.trans_a = trans_a;
      g.m = m, g.n = 96, g.k = k, g.batch = 2;
      g.a = a.data(), g.lda = trans_a ? m : k, g.stride_a = 0;
      g.b = b.data(), g.ldb = 96, g.stride_b = 0;
      g.ldc = 96, g.stride_c = m * 96;
      const int threads = at::get_num_threads();
      at::set_num_threads(1);
      g.c = c1.data();
      EXPECT_TRUE(own_cpu_gemm(g));
      at::set_num_threads(2);
      g.c = c2.data();
      EXPECT_TRUE(own_cpu_gemm(g)) << "calls up to 64 MFLOP stay ours with more threads";
      at::set_num_threads(threads);
      EXPECT_EQ(c1, c2) << (trans_a ? "T" : "N") << " rows " << rows;
    }
  }
  Gemm both;
  both.trans_a = both.trans_b = true;
  both.m = both.n = both.k = 8;
  EXPECT_FALSE(own_cpu_gemm(both)) << "both transposed is left to MKL";
}

}  // namespace
}  // namespace vecsac
