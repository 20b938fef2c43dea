/// @brief crc32c: slicing-by-8 with tables built at compile time.
#include "vecsac/io/crc32c.h"

#include <array>
#include <cstring>

namespace vecsac {
namespace {

constexpr uint32_t kPolynomial = 0x82F63B78u;  // Castagnoli, bit-reflected

// kTables[0] is the classic byte table; kTables[j][b] is the CRC of byte b followed by j
// zero bytes, so eight table lookups advance the CRC by eight bytes at once.
constexpr std::array<std::array<uint32_t, 256>, 8> make_tables() {
  std::array<std::array<uint32_t, 256>, 8> t{};
  for (uint32_t byte = 0; byte < 256; ++byte) {
    uint32_t crc = byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1u) ? kPolynomial : 0u);
    t[0][byte] = crc;
  }
  for (uint32_t byte = 0; byte < 256; ++byte) {
    for (int j = 1; j < 8; ++j) t[j][byte] = (t[j - 1][byte] >> 8) ^ t[0][t[j - 1][byte] & 0xFFu];
  }
  return t;
}

constexpr auto kTables = make_tables();

}  // namespace

// Checkpoints (which hold the replay buffer) run to hundreds of MB: slicing-by-8 checks
// them at a few GB/s in portable code, with no SSE4.2 path to keep in sync with it.
uint32_t crc32c(std::string_view data) {
  uint32_t crc = 0xFFFFFFFFu;
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t n = data.size();
  for (; n >= 8; n -= 8, p += 8) {
    uint32_t lo = 0, hi = 0;
    std::memcpy(&lo, p, 4);  // little-endian hosts only (x86-64, aarch64), as the table is
    std::memcpy(&hi, p + 4, 4);
    lo ^= crc;
    crc = kTables[7][lo & 0xFFu] ^ kTables[6][(lo >> 8) & 0xFFu] ^ kTables[5][(lo >> 16) & 0xFFu] ^
          kTables[4][lo >> 24] ^ kTables[3][hi & 0xFFu] ^ kTables[2][(hi >> 8) & 0xFFu] ^
          kTables[1][(hi >> 16) & 0xFFu] ^ kTables[0][hi >> 24];
  }
  for (; n > 0; --n, ++p) crc = (crc >> 8) ^ kTables[0][(crc ^ *p) & 0xFFu];
  return crc ^ 0xFFFFFFFFu;
}

}  // namespace vecsac
