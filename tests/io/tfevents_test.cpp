/// @brief TFRecord framing and Event encoding, read back by an independent decoder.
#include "vecsac/io/tfevents.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/tfevents_reader.h"

namespace vecsac {
namespace {

TEST(TfeventsTest, TfrecordFramesLengthAndDataWithMaskedCrcs) {
  const std::string record = tfrecord("abc");
  ASSERT_EQ(record.size(), 8u + 4u + 3u + 4u);
  EXPECT_EQ(record.substr(0, 8), std::string("\x03\0\0\0\0\0\0\0", 8));  // little-endian length
  EXPECT_EQ(record.substr(12, 3), "abc");
  const auto data = testing::read_tfrecords(record);
  ASSERT_EQ(data.size(), 1u);
  EXPECT_EQ(data[0], "abc");
  std::string corrupt = record;
  corrupt[13] = 'x';
  EXPECT_THROW(testing::read_tfrecords(corrupt), std::runtime_error);
}

TEST(TfeventsTest, ScalarEventEncodesTheProtobufWireFormat) {
  // Event{wall_time: 1.5, step: 300, summary{value{tag: "a", simple_value: 2}}}, by hand.
  constexpr char kExpected[] =
      "\x09\x00\x00\x00\x00\x00\x00\xf8\x3f"  // 1: double 1.5
      "\x10\xac\x02"                          // 2: varint 300
      "\x2a\x0a"                              // 5: Summary, 10 bytes
      "\x0a\x08"                              //   1: Value, 8 bytes
      "\x0a\x01\x61"                          //     1: tag "a"
      "\x15\x00\x00\x00\x40";                 //     2: float 2.0
  const std::string expected(kExpected, sizeof(kExpected) - 1);
  EXPECT_EQ(encode_scalar_event({1.5, 300, {{"a", 2.0f}}}), expected);
}

TEST(TfeventsTest, FileRoundTripsVersionStepsTagsAndValues) {
  const std::vector<ScalarEvent> events{
      {1700000000.25, 504, {{"charts/SPS", 380.5f}, {"losses/alpha", 0.9985f}}},
      {1700000010.5, 1000, {{"eval/mean_return", -15477.32f}}},
      {1700000020.0, int64_t{1} << 40, {{"charts/q_mean", -1e-30f}}}};
  const auto read = testing::read_event_file(tfevents_file(events, 1700000000.0));
  ASSERT_EQ(read.size(), 4u);
  EXPECT_EQ(read[0].file_version, "brain.Event:2");
  EXPECT_EQ(read[0].wall_time, 1700000000.0);
  EXPECT_TRUE(read[0].values.empty());
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(read[i + 1].wall_time, events[i].wall_time);
    EXPECT_EQ(read[i + 1].step, events[i].step);
    EXPECT_EQ(read[i + 1].values, events[i].values);
    EXPECT_TRUE(read[i + 1].file_version.empty());
  }
}

// The reader a resume uses to keep the live file's earlier points: each record as written,
// with its Event's step; anything but whole, checksummed records is refused.
TEST(TfeventsTest, EventRecordsReadBackWithTheirStepsAndDamageIsRefused) {
  const std::vector<ScalarEvent> events{{1.0, 200, {{"a", 1.0f}}},
                                        {2.0, int64_t{1} << 40, {{"b", 2.0f}, {"c", 3.0f}}}};
  const std::string file = tfevents_file(events, 0.5);
  const auto records = read_event_records(file);
  ASSERT_TRUE(records.has_value());
  ASSERT_EQ(records->size(), 3u);
  EXPECT_EQ((*records)[0].step, 0) << "the version event has no step";
  EXPECT_EQ((*records)[1].step, 200);
  EXPECT_EQ((*records)[2].step, int64_t{1} << 40);
  std::string joined;
  for (const EventRecord& r : *records) joined.append(r.record);
  EXPECT_EQ(joined, file);
  EXPECT_TRUE(read_event_records("").has_value());
  EXPECT_FALSE(read_event_records(file.substr(0, file.size() - 1)).has_value()) << "cut short";
  std::string flipped = file;
  flipped[file.size() - 8] ^= 0x01;  // inside the last record's data
  EXPECT_FALSE(read_event_records(flipped).has_value()) << "a data checksum";
  flipped = file;
  flipped[0] ^= 0x01;  // the first record's length
  EXPECT_FALSE(read_event_records(flipped).has_value()) << "a length checksum";
  // Whole records whose data is not an Event (a length-delimited field running past its end).
  EXPECT_FALSE(read_event_records(tfrecord("\x2a\x7f")).has_value());
}

}  // namespace
}  // namespace vecsac
