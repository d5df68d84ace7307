#include "lsm/version_edit.h"

#include <gtest/gtest.h>

#include <tuple>
#include <vector>

#include "base/coding.h"
#include "lsm/filename.h"

namespace kvring::lsm {
namespace {

FileMetaData File(uint64_t number, const std::string& smallest, const std::string& largest, uint64_t size) {
  FileMetaData f;
  f.number = number;
  f.file_size = size;
  f.smallest = MakeInternalKey(smallest, 10, ValueKind::kValue);
  f.largest = MakeInternalKey(largest, 9, ValueKind::kDeletion);
  return f;
}

TEST(VersionEdit, EveryFieldRoundTrips) {
  VersionEdit edit;
  edit.SetLogNumber(7);
  edit.SetNextFileNumber(42);
  edit.SetLastSequence(kMaxSequenceNumber);
  edit.SetCompactPointer(2, MakeInternalKey("mid", 5, ValueKind::kValue));
  edit.RemoveFile(1, 12);
  edit.RemoveFile(3, 1ull << 40);
  edit.AddFile(0, File(40, "a", "z", 4096));
  edit.AddFile(6, File(41, "", "\xff\xff", 1ull << 33));
  std::string encoded;
  edit.EncodeTo(&encoded);

  VersionEdit decoded;
  ASSERT_TRUE(decoded.DecodeFrom(encoded).ok());
  std::string again;
  decoded.EncodeTo(&again);
  EXPECT_EQ(encoded, again);
  EXPECT_EQ(7u, *decoded.log_number());
  EXPECT_EQ(42u, *decoded.next_file_number());
  EXPECT_EQ(kMaxSequenceNumber, *decoded.last_sequence());
  ASSERT_EQ(2u, decoded.new_files().size());
  EXPECT_EQ(41u, decoded.new_files()[1].second.number);
  EXPECT_EQ(1ull << 33, decoded.new_files()[1].second.file_size);
  EXPECT_EQ(2u, decoded.deleted_files().size());
  EXPECT_EQ(edit.DebugString(), decoded.DebugString());
}

TEST(VersionEdit, GoldenBytesMatchTheManifestDoc) {
  // docs/formats/manifest.md, "Worked example".
  VersionEdit edit;
  edit.SetLogNumber(5);
  edit.SetNextFileNumber(8);
  edit.SetLastSequence(100);
  FileMetaData f;
  f.number = 7;
  f.file_size = 1000;
  f.smallest = MakeInternalKey("a", 1, ValueKind::kValue);
  f.largest = MakeInternalKey("b", 2, ValueKind::kValue);
  edit.AddFile(0, f);
  std::string encoded;
  edit.EncodeTo(&encoded);
  std::string hex;
  for (unsigned char c : encoded) {
    char buf[3];
    std::snprintf(buf, sizeof(buf), "%02x", c);
    hex += buf;
  }
  EXPECT_EQ("0105" "0208" "0364" "06" "00" "07" "e807" "09" "610101000000000000" "09" "620102000000000000", hex);

  // The second example: the same file with 3 tombstones, the oldest at sequence 1.
  VersionEdit with;
  f.tombstones = 3;
  f.oldest_tombstone = 1;
  with.AddFile(0, f);
  encoded.clear();
  with.EncodeTo(&encoded);
  ASSERT_GE(encoded.size(), 6u);
  EXPECT_EQ(std::string("\x40\x04\x00\x07\x03\x01", 6), encoded.substr(encoded.size() - 6));

  // The third: the same file (no tombstones) holding 40 entries of 1234 bytes of data.
  VersionEdit data;
  f.tombstones = 0;
  f.entries = 40;
  f.data_bytes = 1234;
  data.AddFile(0, f);
  encoded.clear();
  data.EncodeTo(&encoded);
  ASSERT_GE(encoded.size(), 7u);
  EXPECT_EQ(std::string("\x42\x05\x00\x07\x28\xd2\x09", 7), encoded.substr(encoded.size() - 7));
}

// (From branch cleanup.) Field 65 as docs/formats/manifest.md's grammar gives it;
// field 7 (a range deletion: begin:lp end:lp sequence:varint64) is not in that
// doc's grammar yet, so these bytes pin the code alone.
TEST(VersionEdit, RangeDeletionAndFileSequencesGoldenBytes) {
  VersionEdit edit;
  FileMetaData f;
  f.number = 7;
  f.file_size = 1000;
  f.smallest = MakeInternalKey("a", 1, ValueKind::kValue);
  f.largest = MakeInternalKey("b", 2, ValueKind::kValue);
  f.smallest_seq = 1;
  f.largest_seq = 2;
  edit.AddFile(0, f);
  edit.AddRangeDeletion("a", "c", 100);
  std::string encoded;
  edit.EncodeTo(&encoded);
  ASSERT_GE(encoded.size(), 12u);
  EXPECT_EQ(std::string("\x41\x04\x00\x07\x01\x02", 6), encoded.substr(encoded.size() - 12, 6))
      << "65: level 0, number 7, sequences 1 to 2";
  EXPECT_EQ(std::string("\x07\x01\x61\x01\x63\x64", 6), encoded.substr(encoded.size() - 6))
      << "7: [\"a\", \"c\") at 100";

  VersionEdit decoded;
  ASSERT_TRUE(decoded.DecodeFrom(encoded).ok());
  ASSERT_EQ(1u, decoded.range_deletions().size());
  EXPECT_EQ("a", decoded.range_deletions()[0].begin);
  EXPECT_EQ("c", decoded.range_deletions()[0].end);
  EXPECT_EQ(100u, decoded.range_deletions()[0].sequence);
  EXPECT_EQ(1u, decoded.new_files()[0].second.smallest_seq);
  EXPECT_EQ(2u, decoded.new_files()[0].second.largest_seq);
  EXPECT_EQ(edit.DebugString(), decoded.DebugString());
}

TEST(VersionEdit, AFileFromBeforeTheSequenceFieldGetsTheWidestSpan) {
  VersionEdit edit;
  edit.AddFile(1, File(9, "a", "c", 100));  // no smallest_seq/largest_seq: written as an old build did
  std::string encoded;
  edit.EncodeTo(&encoded);
  EXPECT_EQ(std::string::npos, encoded.find('\x41')) << "no field 65 for an unknown span";
  VersionEdit decoded;
  ASSERT_TRUE(decoded.DecodeFrom(encoded).ok());
  EXPECT_EQ(0u, decoded.new_files()[0].second.smallest_seq);
  EXPECT_EQ(kMaxSequenceNumber, decoded.new_files()[0].second.largest_seq);
}

TEST(VersionEdit, ABadRangeDeletionIsCorruption) {
  for (const auto& [begin, end, sequence] : std::vector<std::tuple<std::string, std::string, uint64_t>>{
           {"c", "a", 5}, {"a", "a", 5}, {"a", "c", 0}}) {
    std::string encoded;
    base::PutVarint32(&encoded, 7);
    base::PutLengthPrefixed(&encoded, begin);
    base::PutLengthPrefixed(&encoded, end);
    base::PutVarint64(&encoded, sequence);
    VersionEdit edit;
    base::Status s = edit.DecodeFrom(encoded);
    EXPECT_TRUE(s.IsCorruption()) << begin << " " << end << " " << sequence;
    EXPECT_NE(std::string::npos, s.message().find("range deletion")) << s.ToString();
  }
  std::string unbounded;  // an empty end: no upper bound
  base::PutVarint32(&unbounded, 7);
  base::PutLengthPrefixed(&unbounded, "a");
  base::PutLengthPrefixed(&unbounded, "");
  base::PutVarint64(&unbounded, 3);
  VersionEdit edit;
  EXPECT_TRUE(edit.DecodeFrom(unbounded).ok());
}

TEST(VersionEdit, FileDataRoundTripsAndMustFollowItsFile) {
  VersionEdit edit;
  FileMetaData a;
  a.number = 9;
  a.smallest = MakeInternalKey("a", 1, ValueKind::kValue);
  a.largest = MakeInternalKey("c", 2, ValueKind::kValue);
  a.tombstones = 1;
  a.entries = 300;
  a.data_bytes = 1ull << 40;
  FileMetaData b = a;
  b.number = 10;
  b.entries = 0;  // recorded before the field: none written
  b.data_bytes = 0;
  edit.AddFile(1, a);
  edit.AddFile(2, b);
  std::string encoded;
  edit.EncodeTo(&encoded);
  VersionEdit decoded;
  ASSERT_TRUE(decoded.DecodeFrom(encoded).ok());
  EXPECT_EQ(300u, decoded.new_files()[0].second.entries);
  EXPECT_EQ(1ull << 40, decoded.new_files()[0].second.data_bytes);
  EXPECT_EQ(1u, decoded.new_files()[0].second.tombstones);
  EXPECT_EQ(0u, decoded.new_files()[1].second.entries);

  std::string stray;  // naming level 3, not the file added before it
  stray = encoded;
  base::PutVarint32(&stray, 66);
  base::PutLengthPrefixed(&stray, std::string("\x03\x0a\x01\x01", 4));
  base::Status s = decoded.DecodeFrom(stray);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(std::string::npos, s.message().find("file data")) << s.ToString();
}

TEST(VersionEdit, FileTombstonesRoundTripAndMustFollowTheirFile) {
  VersionEdit edit;
  FileMetaData a, b;
  a.number = 9;
  a.smallest = MakeInternalKey("a", 1, ValueKind::kValue);
  a.largest = MakeInternalKey("c", 2, ValueKind::kDeletion);
  a.tombstones = 12;
  a.oldest_tombstone = 2;
  b = a;
  b.number = 10;
  b.tombstones = 0;
  edit.AddFile(2, a);
  edit.AddFile(3, b);
  std::string encoded;
  edit.EncodeTo(&encoded);
  VersionEdit decoded;
  ASSERT_TRUE(decoded.DecodeFrom(encoded).ok());
  EXPECT_EQ(12u, decoded.new_files()[0].second.tombstones);
  EXPECT_EQ(2u, decoded.new_files()[0].second.oldest_tombstone);
  EXPECT_EQ(0u, decoded.new_files()[1].second.tombstones);

  std::string stray;  // a tombstones field naming no file added before it
  base::PutVarint32(&stray, 64);
  base::PutLengthPrefixed(&stray, std::string("\x00\x07\x03\x01", 4));
  base::Status s = decoded.DecodeFrom(stray);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(std::string::npos, s.message().find("file tombstones")) << s.ToString();
}

TEST(VersionEdit, UnknownRequiredTagIsCorruptionButOptionalTagsAreSkipped) {
  std::string encoded;
  base::PutVarint32(&encoded, 1);  // log number
  base::PutVarint64(&encoded, 3);
  base::PutVarint32(&encoded, kFirstOptionalTag + 5);  // a future optional field
  base::PutLengthPrefixed(&encoded, "whatever");
  VersionEdit edit;
  ASSERT_TRUE(edit.DecodeFrom(encoded).ok());
  EXPECT_EQ(3u, *edit.log_number());

  std::string required;
  base::PutVarint32(&required, 33);
  base::Status s = edit.DecodeFrom(required);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(std::string::npos, s.message().find("unknown required tag 33"));
}

TEST(VersionEdit, TruncatedInputIsCorruption) {
  VersionEdit edit;
  edit.AddFile(1, File(9, "k1", "k2", 100));
  std::string encoded;
  edit.EncodeTo(&encoded);
  for (size_t cut = 1; cut < encoded.size(); cut++) {
    VersionEdit decoded;
    EXPECT_TRUE(decoded.DecodeFrom(std::string_view(encoded).substr(0, cut)).IsCorruption()) << cut;
  }
}

// A file number of 20 digits names a file the next open cannot parse back, and
// a counter near 2^64 wraps: every file number a manifest carries is below
// kMaxFileNumber (10^18), or the edit is corrupt.
// Found by the manifest fuzz target with the duplicate below
// (VersionSetTest.AManifestListingAFileTwiceIsRefused): a file whose largest key
// sorts before its smallest passes every overlap check of its level.
TEST(VersionEdit, AFileWhoseLargestKeySortsBeforeItsSmallestIsCorruption) {
  VersionEdit one_key;
  one_key.AddFile(1, File(5, "k", "k", 10));
  std::string bytes;
  one_key.EncodeTo(&bytes);
  VersionEdit decoded;
  ASSERT_TRUE(decoded.DecodeFrom(bytes).ok()) << "a file of one key";
  VersionEdit inverted;
  inverted.AddFile(1, File(5, "key0010", "Zey00", 10));
  bytes.clear();
  inverted.EncodeTo(&bytes);
  base::Status s = decoded.DecodeFrom(bytes);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find("largest key before its smallest")) << s.ToString();
}

TEST(VersionEdit, AFileNumberNotBelowTenToTheEighteenIsCorruption) {
  VersionEdit edge;
  edge.SetLogNumber(kMaxFileNumber - 1);
  edge.SetNextFileNumber(kMaxFileNumber - 1);
  edge.AddFile(1, File(kMaxFileNumber - 1, "a", "b", 10));
  edge.RemoveFile(1, kMaxFileNumber - 1);
  std::string bytes;
  edge.EncodeTo(&bytes);
  VersionEdit decoded;
  ASSERT_TRUE(decoded.DecodeFrom(bytes).ok());
  struct Case { const char* field; VersionEdit edit; };
  std::vector<Case> cases(4);
  cases[0] = {"log number", {}};
  cases[0].edit.SetLogNumber(kMaxFileNumber);
  cases[1] = {"next file number", {}};
  cases[1].edit.SetNextFileNumber(~0ull);
  cases[2] = {"new file", {}};
  cases[2].edit.AddFile(1, File(kMaxFileNumber, "a", "b", 10));
  cases[3] = {"deleted file", {}};
  cases[3].edit.RemoveFile(1, kMaxFileNumber);
  for (const auto& c : cases) {
    bytes.clear();
    c.edit.EncodeTo(&bytes);
    base::Status s = decoded.DecodeFrom(bytes);
    EXPECT_TRUE(s.IsCorruption()) << c.field << ": " << s.ToString();
    EXPECT_NE(std::string::npos, s.message().find(c.field)) << s.ToString();
  }
}

}  // namespace
}  // namespace kvring::lsm
