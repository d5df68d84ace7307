// test/fuzz/bloom.cc — libFuzzer target: a table's bloom filter block
// (lsm/bloom.h, docs/formats/sstable.md) as Table pins it: any bytes, probed.
// The first input byte picks the probes.
// Invariants: probing never reads outside the filter; a filter the reader does
// not understand says "may contain" for every key (costs reads, never a wrong
// "absent"); a filter rebuilt from keys contains every one of them.
#include <string>

#include "lsm/bloom.h"
#include "test/fuzz/fuzz_check.h"

namespace kvring::fuzz {
namespace {

void Fuzz(uint8_t selector, std::string_view input) {
  lsm::BloomFilter filter(input);
  for (uint64_t i = 0; i < 16; ++i) {
    bool may = filter.MayContainHash(i * 0x9e3779b97f4a7c15ull + selector);
    if (!filter.usable()) FUZZ_CHECK(may);
  }
  lsm::BloomFilterBuilder builder(1 + selector % 20);
  for (size_t i = 0; i + 4 <= input.size() && i < 256; i += 4) builder.AddKey(input.substr(i, 4));
  std::string built = builder.Finish();
  lsm::BloomFilter rebuilt(built);
  for (size_t i = 0; i + 4 <= input.size() && i < 256; i += 4) FUZZ_CHECK(rebuilt.MayContain(input.substr(i, 4)));
}

}  // namespace
}  // namespace kvring::fuzz

KV_FUZZ_TARGET_WITH_SELECTOR(kvring::fuzz::Fuzz)
