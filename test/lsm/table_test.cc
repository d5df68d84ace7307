#include "lsm/table.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "base/random.h"
#include "lsm/table_builder.h"
#include "test/lsm/table_test_util.h"
#include "test/util/test_util.h"

namespace kvring::lsm {
namespace {

using testing::IKey;
using testing::StringSink;
using testing::StringSource;
using testing::UserKey;

struct Entry {
  std::string key;  // internal
  std::string value;
};

// Entries key(2i)@seq -> value; odd user keys are absent.
std::vector<Entry> MakeEntries(int n, size_t value_size, base::Random* rnd) {
  std::vector<Entry> entries;
  for (int i = 0; i < n; ++i) {
    std::string v = rnd->RandomString(value_size / 2);
    v += v;  // half-compressible, like engine_bench's values
    entries.push_back({IKey(UserKey(2 * i), 1000 + i), v});
  }
  return entries;
}

class TableTest : public ::testing::Test {
 protected:
  // Builds a table from entries and opens it over an in-memory file.
  void Build(const std::vector<Entry>& entries, const TableOptions& options) {
    StringSink sink;
    TableBuilder builder(options, &sink);
    for (const auto& e : entries) builder.Add(e.key, e.value);
    ASSERT_TRUE(builder.Finish().ok());
    EXPECT_EQ(entries.size(), builder.NumEntries());
    EXPECT_EQ(sink.contents.size(), builder.FileSize());
    bytes_ = sink.contents;
    Reopen(options);
  }

  void Reopen(const TableOptions& options) {
    auto source = std::make_unique<StringSource>(bytes_);
    source_ = source.get();
    table_.reset();
    base::Status s = Table::Open(options, std::move(source), bytes_.size(), 7, &cache_, "sstable test.sst", &table_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  // Runs InternalGet and returns "key=value" of the entry found, "" for none.
  std::string Get(std::string_view lookup, const ReadOptions& ro = ReadOptions(), base::Status* status = nullptr) {
    std::string out;
    base::Status s = table_->InternalGet(ro, lookup, [&](std::string_view k, std::string_view v) {
      out = std::string(ExtractUserKey(k)) + "=" + std::string(v);
    });
    if (status != nullptr) *status = s;
    EXPECT_TRUE(status != nullptr || s.ok()) << s.ToString();
    return out;
  }

  Cache cache_{1 << 20};
  TableStats stats_;
  std::string bytes_;
  StringSource* source_ = nullptr;
  std::unique_ptr<Table> table_;
};

TEST_F(TableTest, RoundTripsManyKeysAcrossBlocksWithAndWithoutLz4) {
  const uint64_t seed = test::TestSeed("TableTest.RoundTrip");
  for (Compression c : {Compression::kNone, Compression::kLz4}) {
    base::Random rnd(seed);
    auto entries = MakeEntries(3000, 100, &rnd);
    TableOptions options;
    options.compression = c;
    Build(entries, options);
    auto it = table_->NewIterator(ReadOptions());
    size_t i = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next(), ++i) {
      ASSERT_LT(i, entries.size());
      ASSERT_EQ(entries[i].key, it->key());
      ASSERT_EQ(entries[i].value, it->value());
    }
    EXPECT_EQ(entries.size(), i);
    EXPECT_TRUE(it->status().ok()) << it->status().ToString();
    // 3000 entries of ~130 bytes in 4 KiB blocks: about 100 blocks.
    EXPECT_GT(table_->ApproximateOffsetOf(entries.back().key), 300000u * (c == Compression::kLz4 ? 0 : 1));
  }
}

TEST_F(TableTest, Lz4MakesCompressibleTablesSmaller) {
  base::Random rnd(5);
  auto entries = MakeEntries(2000, 200, &rnd);
  TableOptions options;
  Build(entries, options);
  const size_t plain = bytes_.size();
  options.compression = Compression::kLz4;
  Build(entries, options);
  EXPECT_LT(bytes_.size(), plain * 3 / 4) << "plain " << plain << " lz4 " << bytes_.size();
}

TEST_F(TableTest, SeekFindsEachKeyAndLandsOnTheNextBetweenKeys) {
  base::Random rnd(6);
  auto entries = MakeEntries(1500, 60, &rnd);
  for (Compression c : {Compression::kNone, Compression::kLz4}) {
    TableOptions options;
    options.block_bytes = 512;  // many small blocks: many block boundaries
    options.restart_interval = 4;
    options.compression = c;
    Build(entries, options);
    auto it = table_->NewIterator(ReadOptions());
    for (size_t i = 0; i < entries.size(); ++i) {
      it->Seek(entries[i].key);
      ASSERT_TRUE(it->Valid()) << i;
      ASSERT_EQ(entries[i].key, it->key());
      ASSERT_EQ(entries[i].value, it->value());
      it->Seek(IKey(UserKey(2 * static_cast<int>(i) + 1), 5));
      if (i + 1 < entries.size()) {
        ASSERT_TRUE(it->Valid()) << i;
        ASSERT_EQ(entries[i + 1].key, it->key()) << i;
      } else {
        EXPECT_FALSE(it->Valid());
      }
    }
    it->Seek(IKey("a", 1));
    ASSERT_TRUE(it->Valid());
    EXPECT_EQ(entries[0].key, it->key());
    EXPECT_TRUE(it->status().ok());
  }
}

TEST_F(TableTest, InternalGetFindsPresentKeysAndNothingForAbsentOnes) {
  base::Random rnd(7);
  auto entries = MakeEntries(2000, 100, &rnd);
  TableOptions options;
  options.stats = &stats_;
  options.compression = Compression::kLz4;
  Build(entries, options);
  for (size_t i = 0; i < entries.size(); ++i) {
    std::string user(ExtractUserKey(entries[i].key));
    ASSERT_EQ(user + "=" + entries[i].value, Get(MakeLookupKey(user, kMaxSequenceNumber))) << i;
  }
  int absent_found_other = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string got = Get(MakeLookupKey(UserKey(2 * i + 1), kMaxSequenceNumber));
    // Either the bloom filter said no (nothing), or the next entry came back.
    if (!got.empty()) {
      ++absent_found_other;
      EXPECT_NE(UserKey(2 * i + 1), got.substr(0, got.find('=')));
    }
  }
  EXPECT_EQ(4000u, stats_.bloom_checked.load());
  EXPECT_GE(stats_.bloom_useful.load(), 1900u);  // ~1% false positives allowed
  EXPECT_EQ(2000u - stats_.bloom_useful.load(), static_cast<uint64_t>(absent_found_other));
}

TEST_F(TableTest, SnapshotLookupSeesTheRightVersion) {
  std::vector<Entry> entries = {{IKey("k", 30), "v30"}, {IKey("k", 20), "v20"}, {IKey("k", 10, ValueKind::kDeletion), ""},
                                {IKey("l", 5), "l5"}};
  Build(entries, TableOptions());
  EXPECT_EQ("k=v30", Get(MakeLookupKey("k", 100)));
  EXPECT_EQ("k=v20", Get(MakeLookupKey("k", 25)));
  EXPECT_EQ("k=", Get(MakeLookupKey("k", 15)));  // the tombstone
  EXPECT_EQ("l=l5", Get(MakeLookupKey("k", 5)));  // past every version of k
}

TEST_F(TableTest, CachedBlocksAreNotReadAgain) {
  base::Random rnd(8);
  auto entries = MakeEntries(500, 100, &rnd);
  Build(entries, TableOptions());
  const std::string lookup = MakeLookupKey(std::string(ExtractUserKey(entries[10].key)), kMaxSequenceNumber);
  Get(lookup);
  const int reads = source_->reads();
  const uint64_t hits = cache_.hits();
  Get(lookup);
  EXPECT_EQ(reads, source_->reads());
  EXPECT_EQ(hits + 1, cache_.hits());
}

TEST_F(TableTest, NoIoReportsBusyForUncachedBlocksAndServesCachedOnes) {
  base::Random rnd(9);
  auto entries = MakeEntries(500, 100, &rnd);
  Build(entries, TableOptions());
  ReadOptions no_io;
  no_io.no_io = true;
  const std::string lookup = MakeLookupKey(std::string(ExtractUserKey(entries[3].key)), kMaxSequenceNumber);
  base::Status s;
  Get(lookup, no_io, &s);
  EXPECT_TRUE(s.IsBusy()) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find("needs I/O"));
  Get(lookup);  // reads it into the cache
  EXPECT_EQ("key00000006=" + entries[3].value, Get(lookup, no_io, &s));
  EXPECT_TRUE(s.ok());
  auto it = table_->NewIterator(no_io);
  it->SeekToFirst();  // block 0 holds entry 3: cached
  EXPECT_TRUE(it->Valid());
  it->Seek(entries.back().key);  // the last block is not cached
  EXPECT_FALSE(it->Valid());
  EXPECT_TRUE(it->status().IsBusy());
}

TEST_F(TableTest, FillCacheFalseLeavesTheCacheAlone) {
  base::Random rnd(10);
  auto entries = MakeEntries(800, 100, &rnd);
  Build(entries, TableOptions());
  ReadOptions scan;
  scan.fill_cache = false;
  auto it = table_->NewIterator(scan);
  size_t n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  EXPECT_EQ(entries.size(), n);
  EXPECT_EQ(0u, cache_.TotalCharge());
}

TEST_F(TableTest, WorksWithoutABlockCacheOrABloomFilter) {
  base::Random rnd(11);
  auto entries = MakeEntries(300, 50, &rnd);
  TableOptions options;
  options.bloom_bits_per_key = 0;
  StringSink sink;
  TableBuilder builder(options, &sink);
  for (const auto& e : entries) builder.Add(e.key, e.value);
  ASSERT_TRUE(builder.Finish().ok());
  std::unique_ptr<Table> table;
  ASSERT_TRUE(Table::Open(options, std::make_unique<StringSource>(sink.contents), sink.contents.size(), 1, nullptr,
                          "sstable t", &table)
                  .ok());
  EXPECT_FALSE(table->has_filter());
  int found = 0;
  ASSERT_TRUE(table->InternalGet(ReadOptions(), entries[100].key, [&](std::string_view k, std::string_view) {
                     found += k == entries[100].key;
                   }).ok());
  EXPECT_EQ(1, found);
}

TEST_F(TableTest, EmptyTableOpensAndHasNoEntries) {
  Build({}, TableOptions());
  auto it = table_->NewIterator(ReadOptions());
  it->SeekToFirst();
  EXPECT_FALSE(it->Valid());
  EXPECT_TRUE(it->status().ok());
  EXPECT_EQ("", Get(MakeLookupKey("x", 1)));
}

TEST_F(TableTest, ApproximateOffsetsGrowThroughTheFile) {
  base::Random rnd(12);
  auto entries = MakeEntries(2000, 100, &rnd);
  Build(entries, TableOptions());
  uint64_t prev = 0;
  for (size_t i = 0; i < entries.size(); i += 100) {
    uint64_t off = table_->ApproximateOffsetOf(entries[i].key);
    EXPECT_GE(off, prev);
    prev = off;
  }
  EXPECT_EQ(0u, table_->ApproximateOffsetOf(IKey("a", 1)));
  uint64_t end = table_->ApproximateOffsetOf(IKey("zzz", 1));
  EXPECT_GT(end, 2000u * 100);
  EXPECT_LT(end, bytes_.size());
}

// The example of docs/formats/sstable.md, byte for byte.
TEST(TableFormatTest, TinyTableMatchesTheDocumentedBytes) {
  StringSink sink;
  TableBuilder builder(TableOptions(), &sink);
  builder.Add(IKey("apple", 1), "red");
  builder.Add(IKey("apricot", 2), "orange");
  ASSERT_TRUE(builder.Finish().ok());
  ASSERT_EQ(208u, sink.contents.size());
  auto hex = [&](size_t offset, size_t n) {
    std::string out;
    char buf[4];
    for (size_t i = 0; i < n; ++i) {
      std::snprintf(buf, sizeof buf, "%02x", static_cast<uint8_t>(sink.contents[offset + i]));
      out += (i ? " " : "") + std::string(buf);
    }
    return out;
  };
  EXPECT_EQ(
      "00 0d 03 61 70 70 6c 65 01 01 00 00 00 00 00 00 72 65 64 02 0d 06 72 69 63 6f 74 01 02 00 00 00 "
      "00 00 00 6f 72 61 6e 67 65 00 00 00 00 01 00 00 00",
      hex(0, 49));
  EXPECT_EQ("00 f1 db 5a ab", hex(49, 5));
  EXPECT_EQ("06 01 00 7c 26 7b 8c", hex(54 + 64, 7));
  EXPECT_EQ("00 09 02 62 01 ff ff ff ff ff ff ff 00 31 00 00 00 00 01 00 00 00 00 4e 89 78 18", hex(125, 27));
  EXPECT_EQ("36 42 7d 16", hex(152, 4));
  EXPECT_EQ("01 00 00 00 fc b5 f9 98 6b 76 72 69 6e 67 74 62", hex(192, 16));
  for (size_t i = 156; i < 192; ++i) EXPECT_EQ(0, sink.contents[i]) << i;
}

TEST(TableSeparatorTest, SeparatorsAreShortAndBetweenTheKeys) {
  std::string out;
  FindShortestSeparator(IKey("abcdefgh", 5), IKey("abzzz", 9), &out);
  EXPECT_EQ("abd", ExtractUserKey(out));
  EXPECT_LT(InternalKeyCompare(IKey("abcdefgh", 5), out), 0);
  EXPECT_LT(InternalKeyCompare(out, IKey("abzzz", 9)), 0);
  // Adjacent bytes: nothing shorter fits, the last key itself is the separator.
  FindShortestSeparator(IKey("abc", 5), IKey("abd", 9), &out);
  EXPECT_EQ(IKey("abc", 5), out);
  // One key a prefix of the other.
  FindShortestSeparator(IKey("ab", 5), IKey("abc", 9), &out);
  EXPECT_EQ(IKey("ab", 5), out);
  // Same user key, different versions.
  FindShortestSeparator(IKey("k", 9), IKey("k", 5), &out);
  EXPECT_EQ(IKey("k", 9), out);
  FindShortSuccessor(IKey("hello", 3), &out);
  EXPECT_EQ("i", ExtractUserKey(out));
  EXPECT_LT(InternalKeyCompare(IKey("hello", 3), out), 0);
  FindShortSuccessor(IKey("\xff\xff", 3), &out);
  EXPECT_EQ(IKey("\xff\xff", 3), out);
}

TEST(TableSeparatorTest, RandomSeparatorsKeepTheOrder) {
  base::Random rnd(test::TestSeed("TableSeparatorTest"));
  for (int i = 0; i < 5000; ++i) {
    std::string a = rnd.RandomString(rnd.Uniform(12)), b = rnd.RandomString(rnd.Uniform(12));
    if (a == b) continue;
    if (b < a) std::swap(a, b);
    std::string last = IKey(a, rnd.Uniform(100)), next = IKey(b, rnd.Uniform(100)), out;
    FindShortestSeparator(last, next, &out);
    ASSERT_LE(InternalKeyCompare(last, out), 0) << a << " " << b;
    ASSERT_LT(InternalKeyCompare(out, next), 0) << a << " " << b;
    FindShortSuccessor(last, &out);
    ASSERT_LE(InternalKeyCompare(last, out), 0) << a;
  }
}

}  // namespace
}  // namespace kvring::lsm
