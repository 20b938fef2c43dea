/// @brief A mutation driver for fuzz targets that libFuzzer cannot build (checkpoint_fuzz needs
/// LibTorch, built with GCC): it calls LLVMFuzzerTestOneInput on the target's seeds, then on
/// random mutations of them (bit flips, special bytes, inserted, erased and duplicated ranges,
/// truncation, splices of two inputs), stacked 1 to 8 deep. No coverage feedback, so it
/// explores less than libFuzzer, but every input is reproducible from --seed and the
/// iteration, and a finding aborts with the input saved.
///
///   checkpoint_fuzz [--seconds S] [--runs N] [--seed K] [--crash-dir DIR]
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

std::vector<std::string> fuzz_seed_inputs();
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

std::string mutate(std::string s, const std::vector<std::string>& pool, std::mt19937_64& rng) {
  auto below = [&rng](size_t n) { return n == 0 ? size_t{0} : static_cast<size_t>(rng() % n); };
  const int depth = 1 + static_cast<int>(below(8));
  for (int d = 0; d < depth; ++d) {
    switch (below(7)) {
      case 0:  // flip a bit
        if (!s.empty()) s[below(s.size())] ^= static_cast<char>(1u << below(8));
        break;
      case 1: {  // a byte that parsers treat specially
        static const unsigned char special[] = {0x00, 0x01, 0x7F, 0x80, 0xFF, 'K', '}', 'P'};
        if (!s.empty()) s[below(s.size())] = static_cast<char>(special[below(sizeof special)]);
        break;
      }
      case 2: {  // insert random bytes
        std::string ins(1 + below(16), '\0');
        for (auto& c : ins) c = static_cast<char>(rng());
        s.insert(below(s.size() + 1), ins);
        break;
      }
      case 3:  // erase a range
        if (!s.empty()) {
          const size_t at = below(s.size());
          s.erase(at, 1 + below(std::min<size_t>(64, s.size() - at)));
        }
        break;
      case 4:  // truncate
        s.resize(below(s.size() + 1));
        break;
      case 5:  // duplicate a range elsewhere
        if (!s.empty()) {
          const size_t at = below(s.size());
          const std::string piece = s.substr(at, 1 + below(64));
          s.insert(below(s.size() + 1), piece);
        }
        break;
      default: {  // splice: the head of this input, the tail of another
        const std::string& other = pool[below(pool.size())];
        const size_t cut = below(std::min(s.size(), other.size()) + 1);
        s = s.substr(0, cut) + other.substr(std::min(cut, other.size()));
        break;
      }
    }
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 10;
  long long runs = -1;
  uint64_t seed = 1;
  std::string crash_dir = ".";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--seconds"))
      seconds = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--runs"))
      runs = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--seed"))
      seed = std::strtoull(argv[i + 1], nullptr, 10);
    else if (!std::strcmp(argv[i], "--crash-dir"))
      crash_dir = argv[i + 1];
    else {
      std::fprintf(stderr, "unknown option %s; allowed: --seconds, --runs, --seed, --crash-dir\n",
                   argv[i]);
      return 2;
    }
  }
  const std::vector<std::string> seeds = fuzz_seed_inputs();
  std::mt19937_64 rng(seed);
  const auto start = std::chrono::steady_clock::now();
  const std::string current = crash_dir + "/current-input";
  long long n = 0;
  for (;; ++n) {
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (runs >= 0 ? n >= runs : elapsed >= seconds) break;
    const std::string input = n < static_cast<long long>(seeds.size())
                                  ? seeds[n]
                                  : mutate(seeds[rng() % seeds.size()], seeds, rng);
    // Saved before the call: after a crash or sanitizer abort it is the input that did it.
    std::ofstream(current, std::ios::binary | std::ios::trunc).write(input.data(), input.size());
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  }
  std::remove(current.c_str());
  std::printf("[mutate] %lld inputs (seed %llu, %zu seeds), no findings\n", n,
              static_cast<unsigned long long>(seed), seeds.size());
  return 0;
}
