/// @brief own_cpu_gemm: which of our register-blocked kernels (cpu_gemm_kernels.h) runs a
/// call, on which threads.
///
/// Why not MKL alone: at SAC's shapes (batch 100-1024, widths 1-256) a GEMM is a few
/// microseconds, and MKL's fixed costs (packing, dispatch, its threading checks) are a large
/// part of that; for outputs one or two columns wide (the critics' and the actor's heads) it
/// ran at 2-13 GFLOP/s here. These kernels read the operands in place (packing only a
/// transposed B), keep a block of C in registers (6x16 with AVX2, 8x32 with AVX-512), and give
/// the heads kernels of their own. A call's rows are split among the CPU threads, but each output
/// element sums over k in one fixed order on one thread, so results do not depend on the thread
/// count.
#include "vecsac/nn/cpu_gemm.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "vecsac/nn/cpu_gemm_kernels.h"
#include "vecsac/util/cpu_pool.h"

namespace vecsac {
namespace {

using cpu_gemm_detail::Member;
using cpu_gemm_detail::RowBlocks;
using cpu_gemm_detail::RunRows;

constexpr CpuGemm kAll[] = {CpuGemm::kAuto, CpuGemm::kAvx512, CpuGemm::kAvx2, CpuGemm::kMkl};

std::string vector_units() {
  std::string units;
  const auto add = [&](bool has, const char* name) {
    if (has) units += std::string(units.empty() ? "" : " ") + name;
  };
  add(__builtin_cpu_supports("avx512f"), "avx512f");
  add(__builtin_cpu_supports("avx512vl"), "avx512vl");
  add(__builtin_cpu_supports("avx2"), "avx2");
  add(__builtin_cpu_supports("fma"), "fma");
  return units.empty() ? "none of avx512f, avx512vl, avx2, fma" : units;
}

CpuGemm checked(CpuGemm backend) {
  if (!cpu_gemm_supported(backend)) {
    throw std::invalid_argument(std::string("CPU GEMM kernels ") + cpu_gemm_name(backend) +
                                ": this CPU lacks them (it has " + vector_units() + ")");
  }
  return backend;
}

// VECSAC_CPU_GEMM: to compare the kernels on a whole training run.
CpuGemm initial_backend() {
  const char* env = std::getenv("VECSAC_CPU_GEMM");
  if (env == nullptr || *env == '\0') return CpuGemm::kAuto;
  for (CpuGemm b : kAll) {
    if (std::string(env) == cpu_gemm_name(b)) return checked(b);
  }
  throw std::invalid_argument(std::string("VECSAC_CPU_GEMM=") + env +
                              ": allowed are auto, avx512, avx2 and mkl");
}
CpuGemm g_backend = CpuGemm::kAuto;
bool g_backend_set = false;  // by set_cpu_gemm or from the environment

struct Kernels {
  RunRows run_rows;
  cpu_gemm_detail::Transpose transpose;
  RowBlocks blocks;
};
// The kernels of a backend, or null run_rows for MKL's.
Kernels kernels_of(CpuGemm kernels) {
  switch (kernels) {
    case CpuGemm::kAvx512:
      return {cpu_gemm_detail::run_rows_avx512, cpu_gemm_detail::transpose_avx512,
              cpu_gemm_detail::kAvx512Blocks};
    case CpuGemm::kAvx2:
      return {cpu_gemm_detail::run_rows_avx2, cpu_gemm_detail::transpose_avx2,
              cpu_gemm_detail::kAvx2Blocks};
    default:
      return {nullptr, nullptr, {1, 1}};
  }
}
Kernels g_kernels{};

// The kernels `backend` runs our calls with on this CPU.
CpuGemm resolve(CpuGemm backend) {
  if (backend != CpuGemm::kAuto) return backend;
  return cpu_gemm_supported(CpuGemm::kAvx512) ? CpuGemm::kAvx512
         : own_gemm_supported()               ? CpuGemm::kAvx2
                                              : CpuGemm::kMkl;
}

// The environment's backend, read once (thread-safe: population workers may make the first
// call), unless set_cpu_gemm came first. A bad VECSAC_CPU_GEMM throws on every call.
void read_environment_once() {
  static const bool read = [] {
    if (!g_backend_set) set_cpu_gemm(initial_backend());
    return true;
  }();
  (void)read;
}

// Above this many FLOPs per member MKL's cache blocking wins (a 256 x 256 weight gradient
// over a batch of 4096 ran 10 % slower here than in MKL), and MKL threads the call itself.
// Per member, not per call: a population's K agents are members of one call, and each must
// be computed by the kernel its single run uses (the two round differently).
constexpr double kBlockedFlops = 64e6;
// Below both of these a call runs on one thread: handing tasks to another thread costs a few
// microseconds, what ~100 kFLOP take on one core, or writing ~16k floats of C (the outer
// products of a head's input gradient are that: k = 1, memory-bound).
constexpr double kThreadedFlops = 2e5;
constexpr int64_t kThreadedOutputs = 16384;

// Chooses member e's kernel; a B that the kernel needs transposed is packed into `scratch`
// (n * k floats), on the calling thread, before any row runs.
Member plan(const Gemm& g, int64_t e, float* scratch) {
  const float* a = g.a + e * g.stride_a;
  const float* b = g.b + e * g.stride_b;
  float* c = g.c + e * g.stride_c;
  const int64_t n = g.n, k = g.k;
  if (n < 8 && !g.trans_a) {  // B's columns, contiguous: a transposed B already has them
    if (!g.trans_b) g_kernels.transpose(b, k, n, g.ldb, scratch);
    return {
        Member::kDot,
        {a, g.lda, 1, g.trans_b ? b : scratch, g.trans_b ? g.ldb : k, c, g.ldc, g.beta, g.relu}};
  }
  if (n < 8 && !g.trans_b) {
    return {Member::kAxpy, {a, 1, g.lda, b, g.ldb, c, g.ldc, g.beta, g.relu}};
  }
  // [n, k] -> [k, n]: the micro-kernel reads 16 columns of a row at once.
  if (g.trans_b) g_kernels.transpose(b, n, k, g.ldb, scratch);
  return {Member::kWide,
          {a, g.trans_a ? 1 : g.lda, g.trans_a ? g.lda : 1, g.trans_b ? scratch : b,
           g.trans_b ? n : g.ldb, c, g.ldc, g.beta, g.relu}};
}

// The packed operands of one call, which grow to the largest call and are then reused.
float* scratch(int64_t floats) {
  thread_local std::vector<float> buffer;
  if (buffer.size() < static_cast<size_t>(floats)) buffer.resize(static_cast<size_t>(floats));
  return buffer.data();
}

}  // namespace

const char* cpu_gemm_name(CpuGemm backend) {
  switch (backend) {
    case CpuGemm::kAuto:
      return "auto";
    case CpuGemm::kAvx512:
      return "avx512";
    case CpuGemm::kAvx2:
      return "avx2";
    case CpuGemm::kMkl:
      return "mkl";
  }
  return "?";
}

bool cpu_gemm_supported(CpuGemm backend) {
  switch (backend) {
    case CpuGemm::kAvx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
    case CpuGemm::kAvx2:
      return own_gemm_supported();
    default:
      return true;
  }
}

void set_cpu_gemm(CpuGemm backend) {
  g_backend = checked(backend);
  g_backend_set = true;
  g_kernels = kernels_of(resolve(g_backend));
}

CpuGemm cpu_gemm_backend() {
  read_environment_once();
  return g_backend;
}

CpuGemm cpu_gemm_kernels() { return resolve(cpu_gemm_backend()); }

bool own_gemm_supported() {
  static const bool supported = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return supported;
}

// HOT LOOP BEGIN: every gradient step runs these (tools/check_hot_loop.sh)
bool own_cpu_gemm(const Gemm& g) {
  read_environment_once();
  if (g_kernels.run_rows == nullptr) return false;
  if (g.trans_a && g.trans_b) return false;  // no caller needs it: MKL's
  const double member_flops = 2.0 * static_cast<double>(g.m) * g.n * g.k;
  if (member_flops > kBlockedFlops) return false;
  const double flops = member_flops * static_cast<double>(g.batch);
  float* packed = scratch(g.batch * g.n * g.k);
  // A local reference: the worker threads below must read the caller's plans, not their own.
  thread_local std::vector<Member> plans;  // grows to the largest ensemble once
  std::vector<Member>& members = plans;
  members.resize(static_cast<size_t>(g.batch));
  for (int64_t e = 0; e < g.batch; ++e) members[e] = plan(g, e, packed + e * g.n * g.k);
  // Each member's rows in `parts` ranges of whole row blocks of its kernel, so that every
  // thread gets work when members are fewer than threads. Which rows share a range does not
  // change any element's sum.
  const bool small = flops < kThreadedFlops && g.m * g.n * g.batch < kThreadedOutputs;
  const int threads = small ? 1 : cpu_threads();
  const RunRows run_rows = g_kernels.run_rows;
  const int64_t step =
      members[0].kind == Member::kWide ? g_kernels.blocks.wide : g_kernels.blocks.narrow;
  const int64_t blocks = (g.m + step - 1) / step;
  // Enough ranges per member that every thread gets a few (rows permitting): the pool's
  // threads claim them one at a time, so a thread that starts late, or loses its core to
  // another process, leaves the rest to the others.
  constexpr int64_t kTasksPerThread = 4;
  const int64_t parts =
      std::min<int64_t>(blocks, (kTasksPerThread * threads + g.batch - 1) / g.batch);
  const int64_t per_part = (blocks + parts - 1) / parts * step;
  const auto run = [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t i0 = (t % parts) * per_part;
      run_rows(members[t / parts], i0, std::min(g.m, i0 + per_part), g.n, g.k);
    }
  };
  if (threads == 1) {
    run(0, g.batch * parts);
  } else {
    parallel_for(0, g.batch * parts, 1, run);
  }
  return true;
}
// HOT LOOP END

}  // namespace vecsac
