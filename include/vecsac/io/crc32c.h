/// @brief CRC-32C (Castagnoli), the checksum of TFRecord files, and TensorFlow's masked form.
#pragma once

#include <cstdint>
#include <string_view>

namespace vecsac {

/// CRC-32C of `data` (reflected polynomial 0x82F63B78, initial value and final
/// XOR 0xFFFFFFFF; RFC 3720 appendix B.4): crc32c("123456789") == 0xE3069283.
uint32_t crc32c(std::string_view data);

/// TensorFlow's masked CRC (tensorflow/core/lib/hash/crc32c.h): a CRC stored
/// next to the bytes it covers is rotated and offset, so that a CRC computed
/// over data that itself holds CRCs does not degenerate.
constexpr uint32_t mask_crc32c(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

}  // namespace vecsac
