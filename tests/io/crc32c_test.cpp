/// @brief crc32c against published check values, and TensorFlow's mask.
#include "vecsac/io/crc32c.h"

#include <gtest/gtest.h>

#include <string>

namespace vecsac {
namespace {

TEST(Crc32cTest, MatchesPublishedCheckValues) {
  // The CRC catalogue's check value, and RFC 3720 appendix B.4's vectors.
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(crc32c(""), 0x00000000u);
  EXPECT_EQ(crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(crc32c(std::string(32, '\xFF')), 0x62A8AB43u);
  std::string ascending;
  for (int i = 0; i < 32; ++i) ascending.push_back(static_cast<char>(i));
  EXPECT_EQ(crc32c(ascending), 0x46DD794Eu);
}

// Bit by bit, straight from the polynomial: the reference the sliced tables must equal at
// every length and alignment (the 8-byte loop, its tail, and both together).
uint32_t bitwise_crc32c(std::string_view data) {
  uint32_t crc = 0xFFFFFFFFu;
  for (const char c : data) {
    crc ^= static_cast<uint8_t>(c);
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1u) ? 0x82F63B78u : 0u);
  }
  return crc ^ 0xFFFFFFFFu;
}

TEST(Crc32cTest, SlicedLoopEqualsTheBitwiseDefinitionAtEveryLengthAndOffset) {
  std::string bytes;
  uint32_t x = 12345;
  for (int i = 0; i < 300; ++i) {
    x = x * 1664525u + 1013904223u;
    bytes.push_back(static_cast<char>(x >> 24));
  }
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t length = 0; length + offset <= bytes.size(); length += 7) {
      const std::string_view s(bytes.data() + offset, length);
      ASSERT_EQ(crc32c(s), bitwise_crc32c(s)) << "offset " << offset << " length " << length;
    }
  }
}

TEST(Crc32cTest, MaskRotatesThenAddsTensorFlowsConstant) {
  EXPECT_EQ(mask_crc32c(0), 0xa282ead8u);
  EXPECT_EQ(mask_crc32c(0x00008000u), 0x00000001u + 0xa282ead8u);  // bit 15 -> bit 0
  EXPECT_EQ(mask_crc32c(0x00000001u), 0x00020000u + 0xa282ead8u);  // bit 0 -> bit 17
}

}  // namespace
}  // namespace vecsac
