/// @brief TensorBoard event files: scalar `Event` protos, hand-encoded, in TFRecord framing.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vecsac {

/// One `tensorflow.Event` carrying a `Summary` of scalars (simple_value), the
/// form TensorBoard's scalar dashboard and EventAccumulator.Scalars read.
struct ScalarEvent {
  double wall_time = 0;  ///< seconds since the Unix epoch
  int64_t step = 0;
  std::vector<std::pair<std::string, float>> values;  ///< (tag, value)
};

/// One TFRecord: uint64 length, masked CRC-32C of those 8 bytes, the data,
/// masked CRC-32C of the data; integers little-endian
/// (tensorflow/core/lib/io/record_writer.cc).
std::string tfrecord(std::string_view data);

/// The serialized Event {wall_time, file_version: "brain.Event:2"} that opens
/// every event file; TensorBoard reads the version to pick its parser.
std::string encode_file_version_event(double wall_time);

/// The serialized Event {wall_time, step, summary {value {tag, simple_value}}...}.
std::string encode_scalar_event(const ScalarEvent& event);

/// A whole event file: the version event at `wall_time`, then `events` in order,
/// each as one TFRecord.
std::string tfevents_file(std::span<const ScalarEvent> events, double wall_time);

/// One TFRecord of an event file, as written, and its Event's step (0 for an Event without
/// one, such as the version event).
struct EventRecord {
  std::string_view record;  ///< the whole TFRecord, framing and checksums included
  int64_t step = 0;
};

/// The records of an event file's bytes, in order; std::nullopt unless the bytes are whole
/// TFRecords end to end, every checksum right and every Event readable (a file cut short or
/// damaged, or one of another writer's fields this reader does not know).
std::optional<std::vector<EventRecord>> read_event_records(std::string_view bytes);

}  // namespace vecsac
