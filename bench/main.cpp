/// @brief vecsac_bench's entry point: one torch thread count for every family, in the context.
#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>
#include <string>

#include "vecsac/nn/cpu_gemm.h"
#include "vecsac/util/cpu_pool.h"
#include "vecsac/util/cpu_runtime.h"

namespace {

// Absolute times differ by 2x between machines of one kind (Xeon or EPYC, their BLAS
// paths and caches): every result file names the CPU it came from.
std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

// The vector and matrix units /proc/cpuinfo lists: which kernels can run, and whether the
// peak is AVX-512's or AVX2's.
std::string cpu_vector_flags() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    std::string out;
    for (std::string w; words >> w;) {
      if (w.rfind("avx", 0) == 0 || w == "fma" || w.rfind("amx", 0) == 0 || w == "f16c") {
        out += (out.empty() ? "" : " ") + w;
      }
    }
    return out;
  }
  return "unknown";
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::AddCustomContext("cpu_model", cpu_model());
  benchmark::AddCustomContext("cpu_flags", cpu_vector_flags());
  benchmark::AddCustomContext("cpu_gemm_kernels",
                              vecsac::cpu_gemm_name(vecsac::cpu_gemm_kernels()));
  // As the CLI does; without it BM_SacUpdate slows down as its learner's Adam
  // state goes subnormal, so later repetitions would read slower.
  benchmark::AddCustomContext("cpu_runtime", vecsac::tune_cpu_runtime());
  // vecsac's pool and torch's (MKL, autograd's CPU backward) get one count, set once before
  // any family runs so all of them share it: the CPUs this process may use, or
  // OMP_NUM_THREADS.
  vecsac::set_cpu_threads(vecsac::cpu_threads(), vecsac::cpu_threads_origin());
  benchmark::AddCustomContext("torch_threads", std::to_string(vecsac::cpu_threads()));
  benchmark::AddCustomContext("threads_origin", vecsac::cpu_threads_origin());
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
