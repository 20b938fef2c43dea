/// @brief gemm() on the CPU: vecsac's own kernels and MKL against a double-precision
/// reference, over the shapes, layouts and strides the update engine uses and their edges.
#include "vecsac/nn/gemm.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

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
            check({ta, tb, m, n, k, 1, false, beta, (m + k) % 2}, rng);
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

// The auto backend is ours on an AVX2 machine at one thread, whatever the size, and the
// result does not depend on the thread count (one fixed order of summation per element).
TEST(OwnGemmTest, ResultsDoNotDependOnTheThreadCount) {
  if (!own_gemm_supported()) GTEST_SKIP() << "no AVX2/FMA on this CPU";
  std::mt19937 rng(8);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> a(100 * 65), b(65 * 64), c1(100 * 64), c2(100 * 64);
  for (auto& x : a) x = u(rng);
  for (auto& x : b) x = u(rng);
  Gemm g;
  g.m = 100;
  g.n = 64;
  g.k = 65;
  g.a = a.data();
  g.lda = 65;
  g.b = b.data();
  g.ldb = 64;
  g.ldc = 64;
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  g.c = c1.data();
  EXPECT_TRUE(own_cpu_gemm(g));
  at::set_num_threads(2);
  g.c = c2.data();
  EXPECT_TRUE(own_cpu_gemm(g)) << "small calls stay ours with more threads";
  at::set_num_threads(threads);
  EXPECT_EQ(c1, c2);
  g.trans_a = g.trans_b = true;
  EXPECT_FALSE(own_cpu_gemm(g)) << "both transposed is left to MKL";
}

}  // namespace
}  // namespace vecsac
