/// @brief vecsac_bench's entry point: one torch thread count for every family, in the context.
#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>

#include <fstream>
#include <string>

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

}  // namespace

int main(int argc, char** argv) {
  benchmark::AddCustomContext("cpu_model", cpu_model());
  // As the CLI does; without it BM_SacUpdate slows down as its learner's Adam
  // state goes subnormal, so later repetitions would read slower.
  benchmark::AddCustomContext("cpu_runtime", vecsac::tune_cpu_runtime());
  // Torch's intra-op pool defaults to the core count (OMP_NUM_THREADS overrides
  // it). Set once before any family runs, so all of them share it; autograd's CPU
  // backward and the env's at::parallel_for run on this thread and use it too.
  at::set_num_threads(at::get_num_threads());
  benchmark::AddCustomContext("torch_threads", std::to_string(at::get_num_threads()));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
