// test/fuzz/block.cc — libFuzzer target: one SSTable block's contents
// (lsm/block.h, the entry and restart-array layout of docs/formats/sstable.md),
// as Table hands a data or index block to Block once its checksum passed (the
// checksum stops a fuzzer at the table level; here it reaches the parser).
// The first input byte picks where the bytes live: on the heap (owned) or in
// place (a mapped file's view).
// Invariants: a cursor and an iterator walk the same entries, every key is at
// least an internal-key trailer long, a cursor stops (corrupt or at the end)
// within the block, Seek never reads outside it; in a block whose keys are in
// order, the block BlockBuilder writes for them reads back the same and Seek
// finds every key in it.
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "lsm/block.h"
#include "lsm/block_builder.h"
#include "test/fuzz/fuzz_check.h"

namespace kvring::fuzz {
namespace {

lsm::BlockContents Contents(std::string_view bytes, bool heap) {
  lsm::BlockContents c;
  if (heap) {
    c.heap = std::make_unique<char[]>(bytes.size());
    std::memcpy(c.heap.get(), bytes.data(), bytes.size());
    c.data = std::string_view(c.heap.get(), bytes.size());
  } else {
    c.data = bytes;
  }
  return c;
}

std::vector<std::pair<std::string, std::string>> Walk(const lsm::Block& block, bool* sorted) {
  std::vector<std::pair<std::string, std::string>> entries;
  lsm::BlockCursor cursor(&block);
  *sorted = true;
  for (cursor.SeekToFirst(); cursor.Valid(); cursor.Next()) {
    FUZZ_CHECK(cursor.key().size() >= 8 && entries.size() <= block.size());
    if (!entries.empty() && lsm::InternalKeyCompare(entries.back().first, cursor.key()) >= 0) *sorted = false;
    entries.emplace_back(cursor.key(), cursor.value());
  }
  if (cursor.corrupt()) FUZZ_CHECK(cursor.corrupt_offset() <= block.size());
  return entries;
}

void CheckIterator(const lsm::Block& block, const std::vector<std::pair<std::string, std::string>>& entries) {
  auto it = block.NewIterator();
  size_t i = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++i) {
    FUZZ_CHECK(i < entries.size() && it->key() == entries[i].first && it->value() == entries[i].second);
  }
  FUZZ_CHECK(i == entries.size());
}

// Seeks anywhere never read outside the block. When the walked keys are in
// order, the block BlockBuilder writes for them reads back the same entries and
// Seek finds every key in it.
void CheckSeeks(const lsm::Block& block, const std::vector<std::pair<std::string, std::string>>& entries,
                bool sorted, uint8_t selector) {
  lsm::BlockCursor cursor(&block);
  for (const auto& entry : entries) cursor.Seek(entry.first);
  cursor.Seek(std::string(8, '\0'));
  cursor.Seek(std::string(16, '\xff'));
  if (!sorted) return;
  lsm::BlockBuilder builder(1 + selector % 16);
  for (const auto& [key, value] : entries) builder.Add(key, value);
  lsm::Block rebuilt(Contents(builder.Finish(), true));
  bool rebuilt_sorted = false;
  FUZZ_CHECK(Walk(rebuilt, &rebuilt_sorted) == entries && rebuilt_sorted);
  lsm::BlockCursor seeker(&rebuilt);
  for (const auto& entry : entries) {
    seeker.Seek(entry.first);
    FUZZ_CHECK(seeker.Valid() && seeker.key() == entry.first);
  }
}

void Fuzz(uint8_t selector, std::string_view input) {
  lsm::Block block(Contents(input, selector % 2 == 0));
  bool sorted = true;
  auto entries = Walk(block, &sorted);
  FUZZ_CHECK(block.well_formed() || entries.empty());
  CheckIterator(block, entries);
  CheckSeeks(block, entries, sorted, selector);
}

}  // namespace
}  // namespace kvring::fuzz

KV_FUZZ_TARGET_WITH_SELECTOR(kvring::fuzz::Fuzz)
