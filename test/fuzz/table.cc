// test/fuzz/table.cc — libFuzzer target: an SSTable file (lsm/table.h,
// lsm/table_format.h, docs/formats/sstable.md) opened from fuzzed bytes as the
// table cache opens one: footer, index block and bloom filter; then every entry
// is scanned and looked up again, with and without a block cache, read through
// pread-style reads and through the mapping (both read paths).
// Invariants: Open refuses what it cannot read with a Corruption or
// NotSupported naming the file; a decoded footer re-encodes to an equal one;
// when a scan yields keys in increasing order (blocks of different tables
// spliced together with valid checksums need not), every key it yields is found
// again by Seek, and by a point lookup when the table has no filter (a spliced
// filter may deny a key); nothing reads outside the file.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "lsm/cache.h"
#include "lsm/dbformat.h"
#include "lsm/table.h"
#include "test/fuzz/fuzz_check.h"

namespace kvring::fuzz {
namespace {

constexpr char kPath[] = "/db/000007.sst";

// The fuzz bytes as a table file: read with copies, or mapped (read in place).
class BytesFile final : public base::RandomAccessFile {
 public:
  BytesFile(std::string_view bytes, bool mapped) : bytes_(bytes), mapped_(mapped) {}
  base::Status Read(uint64_t offset, size_t n, std::string_view* result, char* scratch) const override {
    const size_t start = std::min<uint64_t>(offset, bytes_.size());
    n = std::min(n, bytes_.size() - start);
    if (mapped_) {
      *result = bytes_.substr(start, n);
    } else {
      std::copy_n(bytes_.data() + start, n, scratch);
      *result = std::string_view(scratch, n);
    }
    return base::Status::OK();
  }
  std::string_view mapped() const override { return mapped_ ? bytes_ : std::string_view(); }

 private:
  const std::string_view bytes_;
  const bool mapped_;
};

void CheckFooter(std::string_view bytes) {
  if (bytes.size() < lsm::Footer::kEncodedLength) return;
  lsm::Footer footer;
  std::string_view tail = bytes.substr(bytes.size() - lsm::Footer::kEncodedLength);
  if (!footer.DecodeFrom(tail).ok()) return;
  std::string again;
  footer.EncodeTo(&again);
  lsm::Footer back;
  FUZZ_CHECK(back.DecodeFrom(again).ok());
  FUZZ_CHECK(back.index_handle.offset == footer.index_handle.offset &&
             back.index_handle.size == footer.index_handle.size &&
             back.filter_handle.offset == footer.filter_handle.offset &&
             back.filter_handle.size == footer.filter_handle.size && back.version == footer.version);
}

// Scans the table, then looks every key up again.
void ScanAndGet(const lsm::Table& table) {
  lsm::ReadOptions options;
  options.verify_checksums = true;
  auto it = table.NewIterator(options);
  std::vector<std::string> keys;
  for (it->SeekToFirst(); it->Valid() && keys.size() < 4096; it->Next()) {
    FUZZ_CHECK(it->key().size() >= 8);
    if (!keys.empty() && lsm::InternalKeyCompare(keys.back(), it->key()) >= 0) return;  // spliced
    keys.emplace_back(it->key());
  }
  if (!it->status().ok()) return;  // a damaged data block: reported, the scan stops
  for (const auto& key : keys) {
    bool found = false;
    auto s = table.InternalGet(options, key, [&](std::string_view k, std::string_view) { found |= k == key; });
    FUZZ_CHECK(!s.ok() || found || table.has_filter());
    it->Seek(key);
    FUZZ_CHECK(!it->status().ok() || (it->Valid() && it->key() == key));
  }
}

void OpenTable(std::string_view bytes, bool mapped, lsm::Cache* cache) {
  lsm::TableOptions options;
  std::unique_ptr<lsm::Table> table;
  auto s = lsm::Table::Open(options, std::make_unique<BytesFile>(bytes, mapped), bytes.size(), 7, cache,
                            std::string("sstable ") + kPath, &table);
  if (!s.ok()) {
    FUZZ_CHECK(s.IsCorruption() || s.code() == base::Status::Code::kNotSupported);
    FUZZ_CHECK(s.message().find(kPath) != std::string::npos);
    return;
  }
  ScanAndGet(*table);
}

}  // namespace
}  // namespace kvring::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kvring;
  std::string_view bytes = fuzz::Bytes(data, size);
  fuzz::CheckFooter(bytes);
  lsm::Cache cache(1 << 20);
  fuzz::OpenTable(bytes, false, nullptr);
  fuzz::OpenTable(bytes, true, &cache);
  return 0;
}
