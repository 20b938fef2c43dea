/// @brief Fuzz target: the checkpoint loader (`train --resume`, `eval --run`) on any file.
/// Input: one mode byte, then the file's bytes. Mode bit 0 rewrites the checksum trailer
/// over the mutated archive first, so mutations get past the CRC to LibTorch's reader and to
/// vecsac's shape and range checks (a file that a buggy or foreign writer produced). Every
/// input must either load or be refused with a std::runtime_error that names the file; a
/// crash, a sanitizer report or any other exception is a finding.
///
/// With VECSAC_FUZZ_CHECKSUMMED=1 it fuzzes only what an accident can do to a checksummed
/// (format 3) file: no trailer rewritten, no trailer-less seed. Every such input must be
/// refused by vecsac's own checks before LibTorch parses a byte; this mode is what ctest and
/// CI run, since it is reproducible on every machine. The default mode also feeds crafted
/// archives to LibTorch's zip, pickle and TorchScript readers, which are not hardened
/// against them (fuzz/findings/README.md): run it by hand to explore.
///
/// It needs LibTorch and the whole training state, so it is built with GCC's ASan and UBSan
/// in the sanitized CMake configuration (VECSAC_SANITIZE) and driven by fuzz/mutate_main.cpp,
/// which mutates the seeds below; see docs/reliability.md.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "vecsac/config/config.h"
#include "vecsac/io/crc32c.h"
#include "vecsac/sac/checkpoint.h"
#include "vecsac/sac/trainer.h"
#include "vecsac/sac/training_parts.h"
#include "vecsac/util/generator.h"

namespace {

using namespace vecsac;
namespace fs = std::filesystem;
const c10::Device kCpu(c10::kCPU);

Config fuzz_config() {
  Config c;
  c.env.num_envs = 2;
  c.sac.pi_arch = c.sac.qf_arch = {8};
  c.sac.buffer_size = 16;
  c.sac.batch_size = 4;
  c.run.select_episodes = 2;
  c.run.device = "cpu";
  return c;
}

// A training state of fuzz_config(), as train() builds one.
struct State : TrainingParts {
  State() : TrainingParts(fuzz_config(), kCpu) {}
};

State& state() {
  static State s;
  return s;
}

const fs::path& scratch() {
  static const fs::path p =
      fs::temp_directory_path() / ("vecsac_checkpoint_fuzz." + std::to_string(::getpid()) + ".pt");
  return p;
}

void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFFu));
}

// The trailer save_checkpoint writes (magic, archive length, CRC-32C), over `archive`.
std::string with_trailer(std::string archive) {
  const uint64_t length = archive.size();
  const uint32_t crc = crc32c(archive);
  archive.append("VSACCRC1", 8);
  put_le(archive, length, 8);
  put_le(archive, crc, 4);
  return archive;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

void write_file(const fs::path& p, std::string_view bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

template <class F>
void expect_clean(const F& load) {
  try {
    load();
  } catch (const std::runtime_error& e) {
    if (std::string_view(e.what()).find(scratch().string()) == std::string_view::npos) std::abort();
  }
}

}  // namespace

/// Seeds for the mutation driver: a checkpoint as saved (trailer kept or rewritten), and the
/// same archive without its trailer, which reaches LibTorch's reader as a pre-checksum
/// (format 2) file would.
static bool checksummed_only() {
  static const bool on = [] {
    const char* v = std::getenv("VECSAC_FUZZ_CHECKSUMMED");
    return v != nullptr && std::string_view(v) == "1";
  }();
  return on;
}

std::vector<std::string> fuzz_seed_inputs() {
  State& s = state();
  s.selected->consider(s.learner.actor, -1.0, 0);  // so the seeds hold a selected actor too
  TrainingState ref = s.ref();
  save_checkpoint(scratch(), ref);
  const std::string file = read_file(scratch());
  const std::string archive = file.substr(0, file.size() - 20);
  if (checksummed_only()) return {std::string(1, '\0') + file};
  return {std::string(1, '\0') + file, std::string(1, '\1') + file, std::string(1, '\0') + archive};
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  if ((data[0] & 1) != 0 && !checksummed_only() && bytes.size() > 20)
    bytes = with_trailer(bytes.substr(0, bytes.size() - 20));
  write_file(scratch(), bytes);
  State& s = state();
  TrainingState ref = s.ref();
  expect_clean([&] { load_checkpoint(scratch(), ref, kCpu); });
  expect_clean([&] { load_actor(scratch(), s.learner.actor, kCpu); });
  return 0;
}
