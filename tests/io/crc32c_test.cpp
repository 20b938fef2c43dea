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

TEST(Crc32cTest, MaskRotatesThenAddsTensorFlowsConstant) {
  EXPECT_EQ(mask_crc32c(0), 0xa282ead8u);
  EXPECT_EQ(mask_crc32c(0x00008000u), 0x00000001u + 0xa282ead8u);  // bit 15 -> bit 0
  EXPECT_EQ(mask_crc32c(0x00000001u), 0x00020000u + 0xa282ead8u);  // bit 0 -> bit 17
}

}  // namespace
}  // namespace vecsac
