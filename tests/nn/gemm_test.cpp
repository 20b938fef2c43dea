/// @brief gemm() on the CPU: vecsac's own kernels and MKL against a double-precision
/// reference, over the shapes, layouts and strides the update engine uses and their edges.
#include "vecsac/nn/gemm.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "vecsac/nn/cpu_gemm.h"
#include "vecsac/util/cpu_pool.h"

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
  void SetUp() override {
    if (!cpu_gemm_supported(GetParam())) {
      GTEST_SKIP() << "this CPU cannot run the " << cpu_gemm_name(GetParam()) << " kernels";
    }
    set_cpu_gemm(GetParam());
  }
  void TearDown() override { set_cpu_gemm(CpuGemm::kAuto); }
};

TEST_P(GemmTest, EveryLayoutAndEdgeShapeMatchesADoubleReference) {
  std::mt19937 rng(5);
  // The engine's shapes (batch 100, widths 64, heads of 1 and 2, bias rows: in + 1), and
  // every remainder of the register blocks (6x16 with AVX2, 8x32 with AVX-512) and the tails.
  const int64_t sizes[] = {1, 2, 3, 5, 6, 7, 8, 9, 13, 15, 16, 17, 24, 31, 65, 100};
  for (const bool ta : {false, true}) {
    for (const bool tb : {false, true}) {
      for (const int64_t m : sizes) {
        for (const int64_t n :
             {int64_t{1}, int64_t{2}, int64_t{7}, int64_t{8}, int64_t{15}, int64_t{16}, int64_t{31},
              int64_t{32}, int64_t{33}, int64_t{48}, int64_t{64}, int64_t{65}, int64_t{97}}) {
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
  const int threads = cpu_threads();
  set_cpu_threads(2);
  check({false, false, 2048, 96, 97, 1, false, 0.0f, 1, true}, rng);  // actor hidden layer
  check({false, false, 1024, 64, 4, 2, true, 0.0f, 0, true}, rng);    // critics' first layer
  check({false, true, 1024, 96, 96, 1, false, 0.0f, 0}, rng);         // input gradient
  check({true, false, 97, 96, 2048, 1, false, 0.0f, 0}, rng);         // weight gradient
  check({true, false, 65, 64, 1031, 2, false, 1.0f, 2}, rng);
  check({false, false, 1031, 2, 97, 1, false, 0.0f, 0}, rng);  // a head
  check({true, false, 97, 2, 2048, 1, false, 0.0f, 0}, rng);   // its weight gradient
  set_cpu_threads(threads);
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

// Every variant this CPU supports is forced once (the others skip, saying so).
INSTANTIATE_TEST_SUITE_P(Backends, GemmTest,
                         ::testing::Values(CpuGemm::kAuto, CpuGemm::kAvx512, CpuGemm::kAvx2,
                                           CpuGemm::kMkl),
                         [](const auto& info) { return std::string(cpu_gemm_name(info.param)); });

// One call under `backend` on fresh copies of C; returns C.
std::vector<float> run_under(CpuGemm backend, Gemm g, std::vector<float> c) {
  set_cpu_gemm(backend);
  g.c = c.data();
  gemm(g, kCpu);
  set_cpu_gemm(CpuGemm::kAuto);
  return c;
}

// The AVX2 and AVX-512 kernels agree bit for bit (each element one FMA chain over k in
// order), in every layout, with beta, ReLU, batches and calls split among threads: a run
// gives the same numbers on either kind of CPU.
TEST(OwnGemmTest, TheVectorUnitsAgreeBitForBit) {
  if (!cpu_gemm_supported(CpuGemm::kAvx512) || !cpu_gemm_supported(CpuGemm::kAvx2)) {
    GTEST_SKIP() << "needs a CPU with both AVX2 and AVX-512";
  }
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  const int threads = cpu_threads();
  int compared = 0;
  for (const int t : {1, 2}) {
    set_cpu_threads(t);
    for (const bool ta : {false, true}) {
      for (const bool tb : {false, true}) {
        if (ta && tb) continue;  // MKL's
        for (const int64_t m : {1, 7, 8, 9, 100, 128, 1031}) {
          for (const int64_t n : {1, 2, 5, 8, 17, 32, 48, 64, 96, 97}) {
            for (const int64_t k : {1, 3, 64, 97}) {
              Gemm g;
              g.trans_a = ta, g.trans_b = tb;
              g.m = m, g.n = n, g.k = k, g.batch = 2;
              g.beta = (m + n) % 2 == 0 ? 1.0f : 0.0f;
              g.relu = (n + k) % 2 == 1;
              g.lda = (ta ? m : k) + 1, g.ldb = (tb ? k : n) + 2, g.ldc = n + 1;
              std::vector<float> a(2 * (ta ? k : m) * g.lda), b(2 * (tb ? n : k) * g.ldb),
                  c(2 * m * g.ldc);
              for (auto& x : a) x = u(rng);
              for (auto& x : b) x = u(rng);
              for (auto& x : c) x = u(rng);
              g.stride_a = a.size() / 2, g.stride_b = b.size() / 2, g.stride_c = c.size() / 2;
              g.a = a.data(), g.b = b.data();
              const auto wide = run_under(CpuGemm::kAvx512, g, c);
              const auto narrow = run_under(CpuGemm::kAvx2, g, c);
              ASSERT_EQ(0, std::memcmp(wide.data(), narrow.data(), wide.size() * sizeof(float)))
                  << (ta ? "T" : "N") << (tb ? "T" : "N") << " m " << m << " n " << n << " k " << k
                  << " threads " << t;
              ++compared;
            }
          }
        }
      }
    }
  }
  set_cpu_threads(threads);
  EXPECT_EQ(compared, 2 * 3 * 7 * 10 * 4);
}

TEST(OwnGemmTest, AVariantTheCpuLacksIsRefusedByName) {
  for (const CpuGemm backend : {CpuGemm::kAvx512, CpuGemm::kAvx2}) {
    if (cpu_gemm_supported(backend)) continue;
    try {
      set_cpu_gemm(backend);
      ADD_FAILURE() << cpu_gemm_name(backend) << " accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(cpu_gemm_name(backend)), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(cpu_gemm_backend(), CpuGemm::kAuto);
  EXPECT_NE(cpu_gemm_kernels(), CpuGemm::kAuto) << "auto resolves to one set of kernels";
  EXPECT_EQ(cpu_gemm_kernels() == CpuGemm::kAvx512, cpu_gemm_supported(CpuGemm::kAvx512))
      << "auto picks the widest vector unit";
}

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
      const int threads = cpu_threads();
      set_cpu_threads(1);
      g.c = c1.data();
      EXPECT_TRUE(own_cpu_gemm(g));
      set_cpu_threads(2);
      g.c = c2.data();
      EXPECT_TRUE(own_cpu_gemm(g)) << "calls up to 64 MFLOP stay ours with more threads";
      set_cpu_threads(threads);
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
