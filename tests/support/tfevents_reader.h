/// @brief A minimal reader of TensorBoard event files, independent of the writer, for tests.
#pragma once

#include <bit>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vecsac/io/crc32c.h"

namespace vecsac::testing {

struct ReadEvent {
  double wall_time = 0;
  int64_t step = 0;
  std::string file_version;
  std::vector<std::pair<std::string, float>> values;
};

class WireReader {
 public:
  explicit WireReader(std::string_view data) : data_(data) {}
  bool done() const { return pos_ >= data_.size(); }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      const auto b = static_cast<uint8_t>(byte());
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) return v;
    }
    throw std::runtime_error("varint too long");
  }
  template <typename UInt>
  UInt le() {
    UInt v = 0;
    for (size_t i = 0; i < sizeof(UInt); ++i)
      v |= static_cast<UInt>(static_cast<uint8_t>(byte())) << (8 * i);
    return v;
  }
  std::string_view bytes(size_t n) {
    if (pos_ + n > data_.size()) throw std::runtime_error("truncated");
    const auto s = data_.substr(pos_, n);
    pos_ += n;
    return s;
  }

 private:
  char byte() { return bytes(1)[0]; }
  std::string_view data_;
  size_t pos_ = 0;
};

/// The data of each TFRecord, after checking both masked CRCs.
inline std::vector<std::string> read_tfrecords(std::string_view file) {
  std::vector<std::string> out;
  WireReader r(file);
  while (!r.done()) {
    const std::string_view header = r.bytes(8);
    WireReader h(header);
    const auto length = h.le<uint64_t>();
    if (r.le<uint32_t>() != mask_crc32c(crc32c(header))) throw std::runtime_error("length crc");
    const std::string_view data = r.bytes(length);
    if (r.le<uint32_t>() != mask_crc32c(crc32c(data))) throw std::runtime_error("data crc");
    out.emplace_back(data);
  }
  return out;
}

/// Decodes the Event fields vecsac writes; any other field is an error here.
inline ReadEvent parse_event(std::string_view data) {
  ReadEvent e;
  WireReader r(data);
  while (!r.done()) {
    const uint64_t key = r.varint();
    switch (key) {
      case (1 << 3) | 1:
        e.wall_time = std::bit_cast<double>(r.le<uint64_t>());
        break;
      case (2 << 3) | 0:
        e.step = static_cast<int64_t>(r.varint());
        break;
      case (3 << 3) | 2:
        e.file_version = std::string(r.bytes(r.varint()));
        break;
      case (5 << 3) | 2: {
        WireReader summary(r.bytes(r.varint()));
        while (!summary.done()) {
          if (summary.varint() != ((1 << 3) | 2)) throw std::runtime_error("summary field");
          WireReader value(summary.bytes(summary.varint()));
          std::pair<std::string, float> v;
          while (!value.done()) {
            const uint64_t k = value.varint();
            if (k == ((1 << 3) | 2)) {
              v.first = std::string(value.bytes(value.varint()));
            } else if (k == ((2 << 3) | 5)) {
              v.second = std::bit_cast<float>(value.le<uint32_t>());
            } else {
              throw std::runtime_error("value field");
            }
          }
          e.values.push_back(v);
        }
        break;
      }
      default:
        throw std::runtime_error("event field " + std::to_string(key));
    }
  }
  return e;
}

inline std::vector<ReadEvent> read_event_file(std::string_view file) {
  std::vector<ReadEvent> events;
  for (const auto& record : read_tfrecords(file)) events.push_back(parse_event(record));
  return events;
}

}  // namespace vecsac::testing
