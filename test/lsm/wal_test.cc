#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/coding.h"
#include "base/crc32c.h"
#include "base/random.h"
#include "lsm/wal_format.h"
#include "lsm/wal_reader.h"
#include "lsm/wal_writer.h"
#include "test/lsm/table_test_util.h"
#include "test/util/test_util.h"

namespace kvring::lsm {
namespace {

using testing::StringSink;  // test/lsm/table_test_util.h

class StringSource final : public base::SequentialFile {
 public:
  explicit StringSource(std::string data) : data_(std::move(data)) {}
  base::Status Read(size_t n, std::string_view* result, char* scratch) override {
    size_t len = std::min(n, data_.size() - pos_);
    std::memcpy(scratch, data_.data() + pos_, len);
    pos_ += len;
    *result = std::string_view(scratch, len);
    return base::Status::OK();
  }
  base::Status Skip(uint64_t n) override {
    pos_ = std::min<size_t>(data_.size(), pos_ + n);
    return base::Status::OK();
  }

 private:
  std::string data_;
  size_t pos_ = 0;
};

struct Report {
  uint64_t offset;
  uint64_t bytes;
  std::string message;
};

class CollectingReporter final : public WalReader::Reporter {
 public:
  void Corruption(uint64_t offset, uint64_t bytes, const base::Status& reason) override {
    reports.push_back({offset, bytes, reason.ToString()});
  }
  std::vector<Report> reports;
};

std::string BigString(const std::string& partial, size_t n) {
  std::string out;
  while (out.size() < n) out += partial;
  return out.substr(0, n);
}

class WalTest : public ::testing::Test {
 protected:
  void Write(const std::string& record) { ASSERT_TRUE(writer_.AddRecord(record).ok()); }

  // Reads every record of `data`; reports land in reporter_.
  std::vector<std::string> ReadAll(const std::string& data, base::Status* status = nullptr,
                                   uint64_t* dropped = nullptr) {
    StringSource source(data);
    WalReader reader(&source, "/db/000001.log", &reporter_);
    std::vector<std::string> out;
    std::string_view record;
    std::string scratch;
    while (reader.ReadRecord(&record, &scratch)) out.emplace_back(record);
    if (status != nullptr) *status = reader.status();
    if (dropped != nullptr) *dropped = reader.dropped_tail_bytes();
    return out;
  }

  // File offset of the n-th physical record header, following the format doc:
  // the file header record takes 7 + 6 bytes, then records follow back to back.
  static constexpr size_t kFirstRecordOffset = wal::kHeaderBytes + wal::kFileHeaderPayloadBytes;

  StringSink sink_;
  WalWriter writer_{&sink_};
  CollectingReporter reporter_;
};

TEST_F(WalTest, EmptyFileHasNoRecords) {
  EXPECT_TRUE(ReadAll("").empty());
  EXPECT_TRUE(reporter_.reports.empty());
}

TEST_F(WalTest, RecordsOfEverySizeRoundTrip) {
  std::vector<std::string> records = {"",
                                      "small",
                                      BigString("medium", 50000),
                                      BigString("x", wal::kBlockBytes - 2 * wal::kHeaderBytes),
                                      BigString("exact", wal::kBlockBytes * 3),
                                      "tail"};
  for (const auto& r : records) Write(r);
  EXPECT_EQ(records, ReadAll(sink_.contents));
  EXPECT_TRUE(reporter_.reports.empty());
  EXPECT_EQ(sink_.contents.size(), writer_.file_bytes());
}

TEST_F(WalTest, RandomRecordSizesRoundTrip) {
  base::Random rnd(test::TestSeed("WalTest.RandomRecordSizesRoundTrip"));
  std::vector<std::string> records;
  for (int i = 0; i < 300; i++) {
    size_t n = rnd.OneIn(10) ? rnd.Uniform(100000) : rnd.Uniform(200);
    records.push_back(rnd.RandomString(n));
    Write(records.back());
  }
  EXPECT_EQ(records, ReadAll(sink_.contents));
  EXPECT_TRUE(reporter_.reports.empty());
}

TEST_F(WalTest, GoldenBytesMatchTheFormatDoc) {
  Write("hi");
  // docs/formats/wal.md, "Worked example".
  const std::string expected_hex =
      "81fe1ccd" "0600" "05" "6b766c6f6701"  // file header record: "kvlog" version 1
      "8b6eace0" "0200" "01" "6869";         // FULL record "hi"
  std::string hex;
  for (unsigned char c : sink_.contents) {
    char buf[3];
    std::snprintf(buf, sizeof(buf), "%02x", c);
    hex += buf;
  }
  EXPECT_EQ(expected_hex, hex);
}

TEST_F(WalTest, BlockTailTooSmallForAHeaderIsPadded) {
  // Leave exactly 3 bytes in the first block, then write another record.
  Write(BigString("a", wal::kBlockBytes - kFirstRecordOffset - wal::kHeaderBytes - 3));
  Write("next");
  EXPECT_EQ(wal::kBlockBytes + wal::kHeaderBytes + 4, sink_.contents.size());
  EXPECT_EQ(std::string(3, '\0'), sink_.contents.substr(wal::kBlockBytes - 3, 3));
  auto got = ReadAll(sink_.contents);
  ASSERT_EQ(2u, got.size());
  EXPECT_EQ("next", got[1]);
}

TEST_F(WalTest, TornTailRecordIsDroppedSilentlyAtEveryCutPoint) {
  Write("one");
  Write("two");
  const size_t before_last = sink_.contents.size();
  Write(BigString("three", 70000));  // spans three blocks
  for (size_t cut = before_last; cut < sink_.contents.size(); cut += 997) {
    reporter_.reports.clear();
    uint64_t dropped = 0;
    auto got = ReadAll(sink_.contents.substr(0, cut), nullptr, &dropped);
    EXPECT_EQ((std::vector<std::string>{"one", "two"}), got) << "cut at " << cut;
    EXPECT_TRUE(reporter_.reports.empty()) << "cut at " << cut << ": " << reporter_.reports[0].message;
  }
}

TEST_F(WalTest, GarbageOrZerosAtTheTailAreATornTail) {
  Write("one");
  Write("two");
  for (char fill : {'\0', '\x5a'}) {
    reporter_.reports.clear();
    uint64_t dropped = 0;
    auto got = ReadAll(sink_.contents + std::string(100, fill), nullptr, &dropped);
    EXPECT_EQ((std::vector<std::string>{"one", "two"}), got);
    EXPECT_TRUE(reporter_.reports.empty());
    EXPECT_EQ(100u, dropped);
  }
}

TEST_F(WalTest, StrictTailReportsAFlippedLastRecordButNotATruncatedOne) {
  Write("one");
  const size_t last = sink_.contents.size();
  Write("two");
  auto read_strict = [&](const std::string& data) {
    StringSource source(data);
    WalReader reader(&source, "/db/MANIFEST-000001", &reporter_, /*strict_tail=*/true);
    std::vector<std::string> out;
    std::string_view record;
    std::string scratch;
    while (reader.ReadRecord(&record, &scratch)) out.emplace_back(record);
    return out;
  };
  std::string flipped = sink_.contents;
  flipped[last + wal::kHeaderBytes] ^= 0x10;
  EXPECT_EQ(std::vector<std::string>{"one"}, read_strict(flipped));
  ASSERT_EQ(1u, reporter_.reports.size());
  EXPECT_EQ(last, reporter_.reports[0].offset);
  reporter_.reports.clear();
  EXPECT_EQ(std::vector<std::string>{"one"}, read_strict(sink_.contents.substr(0, sink_.contents.size() - 1)));
  EXPECT_EQ(std::vector<std::string>{"one"}, read_strict(sink_.contents.substr(0, last) + std::string(64, '\0')));
  EXPECT_TRUE(reporter_.reports.empty());
}

TEST_F(WalTest, CorruptionInTheMiddleIsReportedWithFileAndOffset) {
  Write("one");
  const size_t second = sink_.contents.size();
  Write("two");
  Write(BigString("later block", 40000));  // next block: survives the dropped block tail
  Write("last");
  std::string data = sink_.contents;
  data[second + wal::kHeaderBytes] ^= 0x01;  // a payload byte of "two"
  auto got = ReadAll(data);
  ASSERT_EQ(1u, reporter_.reports.size());
  EXPECT_EQ(second, reporter_.reports[0].offset);
  EXPECT_NE(std::string::npos, reporter_.reports[0].message.find("/db/000001.log"));
  EXPECT_NE(std::string::npos, reporter_.reports[0].message.find("checksum mismatch at offset " + std::to_string(second)));
  // The rest of the damaged block is dropped; later blocks are read.
  ASSERT_EQ(2u, got.size());
  EXPECT_EQ("one", got[0]);
  EXPECT_EQ("last", got[1]);
}

TEST_F(WalTest, CorruptLengthFieldIsReported) {
  Write("one");
  const size_t second = sink_.contents.size();
  Write("two");
  Write(BigString("z", 70000));
  std::string data = sink_.contents;
  base::EncodeFixed16(&data[second + 4], 0x7fff);  // length field
  auto got = ReadAll(data);
  ASSERT_EQ(1u, reporter_.reports.size());
  EXPECT_EQ(second, reporter_.reports[0].offset);
  EXPECT_EQ("one", got.at(0));
}

TEST_F(WalTest, LostMiddleFragmentIsReportedAndLaterRecordsSurvive) {
  Write(BigString("frag", 3 * wal::kBlockBytes));  // FIRST, MIDDLE, MIDDLE, LAST
  Write(BigString("after", 2 * wal::kBlockBytes));
  Write("end");
  std::string data = sink_.contents;
  data[wal::kBlockBytes + 10] ^= 0x40;  // inside the first MIDDLE fragment
  auto got = ReadAll(data);
  ASSERT_FALSE(reporter_.reports.empty());
  EXPECT_EQ("end", got.back());
  for (const auto& r : got) EXPECT_NE(BigString("frag", 3 * wal::kBlockBytes), r);
}

TEST_F(WalTest, NewerFormatVersionIsNotSupported) {
  Write("one");
  std::string data = sink_.contents;
  // Rewrite the header record with version 2 and a valid checksum.
  std::string header = std::string(wal::kFileMagic) + '\x02';
  StringSink other;
  {
    // Build the record by hand: crc over type + payload.
    char type = static_cast<char>(wal::RecordType::kFileHeader);
    uint32_t crc = base::crc32c::Value(&type, 1);
    crc = base::crc32c::Extend(crc, header.data(), header.size());
    std::string rec;
    base::PutFixed32(&rec, base::crc32c::Mask(crc));
    base::PutFixed16(&rec, static_cast<uint16_t>(header.size()));
    rec += type;
    rec += header;
    data.replace(0, rec.size(), rec);
  }
  base::Status status;
  auto got = ReadAll(data, &status);
  EXPECT_TRUE(got.empty());
  EXPECT_EQ(base::Status::Code::kNotSupported, status.code()) << status.ToString();
  EXPECT_NE(std::string::npos, status.message().find("version 2"));
}

}  // namespace
}  // namespace kvring::lsm
