/// @brief Protobuf wire format for the few Event/Summary fields TensorBoard needs, plus TFRecord.
#include "vecsac/io/tfevents.h"

#include <algorithm>
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

template <typename UInt>
UInt get_le(std::string_view bytes, size_t at) {
  UInt v = 0;
  for (size_t i = 0; i < sizeof(UInt); ++i)
    v |= static_cast<UInt>(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
  return v;
}

bool get_varint(std::string_view bytes, size_t& at, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64 && at < bytes.size(); shift += 7) {
    const auto b = static_cast<unsigned char>(bytes[at++]);
    v |= static_cast<uint64_t>(b & 0x7F) << shift;
    if (b < 0x80) return true;
  }
  return false;
}

// The Event's step field, walking its top-level fields; false when they do not parse.
bool event_step(std::string_view event, int64_t& step) {
  step = 0;
  size_t at = 0;
  while (at < event.size()) {
    uint64_t key = 0, v = 0;
    if (!get_varint(event, at, key)) return false;
    switch (static_cast<WireType>(key & 7)) {
      case kVarint:
        if (!get_varint(event, at, v)) return false;
        if ((key >> 3) == kEventStep) step = static_cast<int64_t>(v);
        break;
      case kFixed64:
        at += 8;
        break;
      case kFixed32:
        at += 4;
        break;
      case kLengthDelimited:
        if (!get_varint(event, at, v) || v > event.size() - std::min(at, event.size()))
          return false;
        at += v;
        break;
      default:
        return false;
    }
    if (at > event.size()) return false;
  }
  return true;
}

}  // namespace

std::optional<std::vector<EventRecord>> read_event_records(std::string_view bytes) {
  std::vector<EventRecord> records;
  size_t at = 0;
  while (at < bytes.size()) {
    if (bytes.size() - at < 12) return std::nullopt;
    const auto length = get_le<uint64_t>(bytes, at);
    if (get_le<uint32_t>(bytes, at + 8) != mask_crc32c(crc32c(bytes.substr(at, 8))) ||
        length > bytes.size() - at - 12 || bytes.size() - at - 12 - length < 4) {
      return std::nullopt;
    }
    const std::string_view data = bytes.substr(at + 12, length);
    if (get_le<uint32_t>(bytes, at + 12 + length) != mask_crc32c(crc32c(data))) return std::nullopt;
    EventRecord r{bytes.substr(at, length + 16), 0};
    if (!event_step(data, r.step)) return std::nullopt;
    records.push_back(r);
    at += length + 16;
  }
  return records;
}

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
