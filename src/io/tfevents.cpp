/// @brief Protobuf wire format for the few Event/Summary fields TensorBoard needs, plus TFRecord.
#include "vecsac/io/tfevents.h"

#include <bit>

#include "vecsac/io/crc32c.h"

namespace vecsac {
namespace {

// Field numbers from tensorflow/core/util/event.proto and
// tensorflow/core/framework/summary.proto. Hand-encoding these few fields keeps
// vecsac free of a protobuf dependency.
constexpr int kEventWallTime = 1;     // double
constexpr int kEventStep = 2;         // int64
constexpr int kEventFileVersion = 3;  // string
constexpr int kEventSummary = 5;      // Summary
constexpr int kSummaryValue = 1;      // repeated Summary.Value
constexpr int kValueTag = 1;          // string
constexpr int kValueSimpleValue = 2;  // float

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_key(std::string& out, int field, WireType type) {
  put_varint(out, (static_cast<uint64_t>(field) << 3) | type);
}

// Byte by byte, so the output is little-endian whatever the host's order.
template <typename UInt>
void put_le(std::string& out, UInt v) {
  for (size_t i = 0; i < sizeof(UInt); ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

void put_bytes(std::string& out, int field, std::string_view bytes) {
  put_key(out, field, kLengthDelimited);
  put_varint(out, bytes.size());
  out.append(bytes);
}

void put_wall_time(std::string& out, double wall_time) {
  put_key(out, kEventWallTime, kFixed64);
  put_le(out, std::bit_cast<uint64_t>(wall_time));
}

}  // namespace

std::string tfrecord(std::string_view data) {
  std::string out;
  out.reserve(data.size() + 16);
  put_le(out, static_cast<uint64_t>(data.size()));
  put_le(out, mask_crc32c(crc32c(out)));
  out.append(data);
  put_le(out, mask_crc32c(crc32c(data)));
  return out;
}

std::string encode_file_version_event(double wall_time) {
  std::string event;
  put_wall_time(event, wall_time);
  put_bytes(event, kEventFileVersion, "brain.Event:2");
  return event;
}

std::string encode_scalar_event(const ScalarEvent& e) {
  std::string summary;
  for (const auto& [tag, value] : e.values) {
    std::string v;
    put_bytes(v, kValueTag, tag);
    put_key(v, kValueSimpleValue, kFixed32);
    put_le(v, std::bit_cast<uint32_t>(value));
    put_bytes(summary, kSummaryValue, v);
  }
  std::string event;
  put_wall_time(event, e.wall_time);
  put_key(event, kEventStep, kVarint);
  put_varint(event, static_cast<uint64_t>(e.step));  // int64: two's complement, as protobuf does
  put_bytes(event, kEventSummary, summary);
  return event;
}

std::string tfevents_file(std::span<const ScalarEvent> events, double wall_time) {
  std::string out = tfrecord(encode_file_version_event(wall_time));
  for (const auto& e : events) out += tfrecord(encode_scalar_event(e));
  return out;
}

}  // namespace vecsac
