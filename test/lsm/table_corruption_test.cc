// Corruption tests for SSTables: real bytes flipped at offsets named from
// docs/formats/sstable.md (data block, index block, footer), truncated files and
// garbage handles. Every case must give Status::Corruption naming the file (and
// the offset), never a crash, an out-of-bounds read (ASan) or silently wrong data.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/coding.h"
#include "base/crc32c.h"
#include "lsm/block_builder.h"
#include "lsm/table.h"
#include "lsm/table_builder.h"
#include "test/lsm/table_test_util.h"

namespace kvring::lsm {
namespace {

using testing::IKey;
using testing::StringSink;
using testing::StringSource;
using testing::UserKey;

const char kLabel[] = "sstable /db/000123.sst";

class TableCorruptionTest : public ::testing::Test {
 protected:
  TableCorruptionTest() {
    options_.block_bytes = 1024;
    StringSink sink;
    TableBuilder builder(options_, &sink);
    for (int i = 0; i < 100; ++i) {
      keys_.push_back(IKey(UserKey(i), 1));
      builder.Add(keys_.back(), "value-" + std::to_string(i) + std::string(30, 'x'));
    }
    EXPECT_TRUE(builder.Finish().ok());
    good_ = sink.contents;
    EXPECT_TRUE(footer_.DecodeFrom(std::string_view(good_).substr(good_.size() - Footer::kEncodedLength)).ok());
  }

  base::Status Open(const std::string& bytes, std::unique_ptr<Table>* table, uint64_t size = UINT64_MAX) {
    if (size == UINT64_MAX) size = bytes.size();
    return Table::Open(options_, std::make_unique<StringSource>(bytes), size, 123, &cache_, kLabel, table);
  }

  // Opens and reads every entry (scan + point lookups); returns the first error.
  base::Status ReadAll(const std::string& bytes) {
    std::unique_ptr<Table> table;
    KV_RETURN_IF_ERROR(Open(bytes, &table));
    auto it = table->NewIterator(ReadOptions());
    size_t n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next(), ++n) {
      if (n >= keys_.size() || it->key() != keys_[n]) return base::Status::Corruption("wrong data returned silently");
    }
    KV_RETURN_IF_ERROR(it->status());
    if (n != keys_.size()) return base::Status::Corruption("entries missing silently");
    return base::Status::OK();
  }

  static std::string Flip(std::string bytes, size_t offset) {
    bytes[offset] = static_cast<char>(bytes[offset] ^ 0x40);
    return bytes;
  }

  static void ExpectCorruptionNaming(const base::Status& s, const std::string& what) {
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(std::string::npos, s.message().find(kLabel)) << s.ToString();
    EXPECT_NE(std::string::npos, s.message().find(what)) << s.ToString();
  }

  // Rebuilds the table with `index` (raw block bytes) replacing its index block.
  std::string WithIndexBlock(std::string_view index, uint8_t version = kTableFormatVersion) {
    std::string out = good_.substr(0, footer_.index_handle.offset);
    Footer f = footer_;
    f.index_handle.offset = out.size();
    f.index_handle.size = index.size();
    f.version = version;
    out.append(index.data(), index.size());
    char trailer[kBlockTrailerBytes] = {0};
    base::EncodeFixed32(trailer + 1, base::crc32c::Mask(base::crc32c::Extend(
                                         base::crc32c::Value(index.data(), index.size()), trailer, 1)));
    out.append(trailer, sizeof trailer);
    f.EncodeTo(&out);
    return out;
  }

  TableOptions options_;
  Cache cache_{1 << 20};
  std::vector<std::string> keys_;
  std::string good_;
  Footer footer_;
};

TEST_F(TableCorruptionTest, IntactTableReadsBack) { EXPECT_TRUE(ReadAll(good_).ok()); }

TEST_F(TableCorruptionTest, FlippedByteInADataBlockIsAChecksumMismatchAtItsOffset) {
  const std::string bad = Flip(good_, 10);  // inside the first data block (offset 0)
  std::unique_ptr<Table> table;
  ASSERT_TRUE(Open(bad, &table).ok());  // the footer, index and filter are intact
  base::Status s = table->InternalGet(ReadOptions(), MakeLookupKey(UserKey(0), 5), [](auto, auto) {
    ADD_FAILURE() << "a corrupt block returned an entry";
  });
  ExpectCorruptionNaming(s, "block checksum mismatch at offset 0");
  auto it = table->NewIterator(ReadOptions());
  it->SeekToFirst();
  EXPECT_FALSE(it->Valid());
  ExpectCorruptionNaming(it->status(), "block checksum mismatch at offset 0");
}

TEST_F(TableCorruptionTest, FlippedByteInTheIndexBlockFailsOpen) {
  const std::string bad = Flip(good_, footer_.index_handle.offset + 2);
  std::unique_ptr<Table> table;
  ExpectCorruptionNaming(Open(bad, &table),
                         "block checksum mismatch at offset " + std::to_string(footer_.index_handle.offset));
}

TEST_F(TableCorruptionTest, FlippedByteInTheFilterBlockFailsOpen) {
  ASSERT_GT(footer_.filter_handle.size, 0u);
  std::unique_ptr<Table> table;
  ExpectCorruptionNaming(Open(Flip(good_, footer_.filter_handle.offset + 5), &table),
                         "block checksum mismatch at offset " + std::to_string(footer_.filter_handle.offset));
}

TEST_F(TableCorruptionTest, FlippedMagicSaysNotAnSstable) {
  std::unique_ptr<Table> table;
  ExpectCorruptionNaming(Open(Flip(good_, good_.size() - 3), &table), "bad magic number");
}

TEST_F(TableCorruptionTest, FlippedFooterHandleIsAFooterChecksumMismatch) {
  std::unique_ptr<Table> table;
  const size_t footer_start = good_.size() - Footer::kEncodedLength;
  ExpectCorruptionNaming(Open(Flip(good_, footer_start + 1), &table), "footer checksum mismatch");
  ExpectCorruptionNaming(Open(Flip(good_, footer_start + Footer::kHandlesBytes), &table), "footer checksum mismatch");
}

TEST_F(TableCorruptionTest, UnknownFormatVersionIsNotSupported) {
  std::unique_ptr<Table> table;
  base::Status s = Open(WithIndexBlock(std::string_view(good_).substr(footer_.index_handle.offset,
                                                                      footer_.index_handle.size),
                                       kTableFormatVersion + 1),
                        &table);
  EXPECT_EQ(base::Status::Code::kNotSupported, s.code()) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find("format version 2")) << s.ToString();
}

TEST_F(TableCorruptionTest, TruncatedFileIsCorruption) {
  std::unique_ptr<Table> table;
  // The file lost its tail: the last 56 bytes are not a footer.
  const std::string cut = good_.substr(0, good_.size() - 100);
  ExpectCorruptionNaming(Open(cut, &table), "bad magic number");
  // The manifest says the file is longer than it is.
  ExpectCorruptionNaming(Open(cut, &table, good_.size()), "truncated file");
  // Shorter than a footer.
  ExpectCorruptionNaming(Open(good_.substr(0, 20), &table), "file too short (20 bytes)");
  ExpectCorruptionNaming(Open("", &table), "file too short (0 bytes)");
}

TEST_F(TableCorruptionTest, IndexHandlePastTheEndOfTheFileIsCorruption) {
  BlockBuilder index(1);
  std::string handle;
  BlockHandle{uint64_t{1} << 40, 100}.EncodeTo(&handle);
  index.Add(IKey("zzz", 1), handle);
  std::unique_ptr<Table> table;
  ASSERT_TRUE(Open(WithIndexBlock(index.Finish()), &table).ok());
  base::Status s = table->InternalGet(ReadOptions(), MakeLookupKey(UserKey(3), 9), [](auto, auto) {});
  ExpectCorruptionNaming(s, "points outside the file");
  auto it = table->NewIterator(ReadOptions());
  it->SeekToFirst();
  EXPECT_FALSE(it->Valid());
  ExpectCorruptionNaming(it->status(), "points outside the file");
}

TEST_F(TableCorruptionTest, MalformedHandleBytesInTheIndexAreCorruption) {
  BlockBuilder index(1);
  index.Add(IKey("zzz", 1), "\xff\xff\xff");  // a varint that never ends
  std::unique_ptr<Table> table;
  ASSERT_TRUE(Open(WithIndexBlock(index.Finish()), &table).ok());
  base::Status s = table->InternalGet(ReadOptions(), MakeLookupKey(UserKey(3), 9), [](auto, auto) {});
  ExpectCorruptionNaming(s, "bad block handle in index block");
}

TEST_F(TableCorruptionTest, MalformedIndexBlockWithAValidChecksumFailsOpen) {
  std::unique_ptr<Table> table;
  ExpectCorruptionNaming(Open(WithIndexBlock("\x01"), &table), "malformed index block");
}

TEST_F(TableCorruptionTest, FooterHandlePastTheEndFailsOpen) {
  std::string bad = good_.substr(0, good_.size() - Footer::kEncodedLength);
  Footer f = footer_;
  f.index_handle.offset = good_.size() * 2;
  f.EncodeTo(&bad);
  std::unique_ptr<Table> table;
  ExpectCorruptionNaming(Open(bad, &table), "index block handle");
}

// Every single-byte flip anywhere in the file is detected: by the footer
// checks, a block checksum, or (for the filter) at open; never wrong data.
TEST_F(TableCorruptionTest, EveryFlippedByteIsDetected) {
  ASSERT_LT(good_.size(), 12000u);  // keep the test fast
  for (size_t offset = 0; offset < good_.size(); ++offset) {
    base::Status s = ReadAll(Flip(good_, offset));
    ASSERT_FALSE(s.ok()) << "flip at offset " << offset << " went unnoticed";
    ASSERT_TRUE(s.IsCorruption() || s.code() == base::Status::Code::kNotSupported)
        << "offset " << offset << ": " << s.ToString();
    ASSERT_EQ(std::string::npos, s.message().find("silently")) << "offset " << offset << ": " << s.ToString();
  }
}

}  // namespace
}  // namespace kvring::lsm
