// bench/block_bench.cc — the SSTable read path piece by piece: seeking in a data
// block, iterating it, building it, LZ4 per block, a block-cache lookup, and a
// whole Table::InternalGet on a table whose blocks are cached (what a Get pays per
// file it reaches). Shapes follow engine_bench: 16-byte keys, 100-byte values.
//   make -j2 build/micro_bench && build/micro_bench --benchmark_filter='BM_(Block|Lz4|Table)'
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "base/coding.h"
#include "base/random.h"
#include "lsm/block.h"
#include "lsm/block_builder.h"
#include "lsm/cache.h"
#include "lsm/compression.h"
#include "lsm/dbformat.h"
#include "lsm/table.h"
#include "lsm/table_builder.h"

namespace kvring::lsm {
namespace {

std::string UserKeyOf(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016d", i);
  return std::string(buf, 16);
}

// A 100-byte value that compresses to about half, like db_bench's.
std::string ValueOf(base::Random* rnd) {
  std::string half = rnd->RandomString(50);
  return half + half;
}

struct BuiltBlock {
  std::unique_ptr<Block> block;
  std::vector<std::string> keys;
  std::string raw;
};

// One ~4 KiB data block of consecutive keys.
BuiltBlock BuildBlock() {
  BuiltBlock out;
  base::Random rnd(1);
  BlockBuilder builder(16);
  for (int i = 0; builder.CurrentSizeEstimate() < 4096; ++i) {
    out.keys.push_back(MakeInternalKey(UserKeyOf(i), 100, ValueKind::kValue));
    builder.Add(out.keys.back(), ValueOf(&rnd));
  }
  out.raw = std::string(builder.Finish());
  BlockContents contents;
  contents.heap = std::make_unique<char[]>(out.raw.size());
  std::memcpy(contents.heap.get(), out.raw.data(), out.raw.size());
  contents.data = std::string_view(contents.heap.get(), out.raw.size());
  out.block = std::make_unique<Block>(std::move(contents));
  return out;
}

void BM_BlockSeek(benchmark::State& state) {
  BuiltBlock b = BuildBlock();
  base::Random rnd(2);
  std::vector<std::string> targets;
  for (int i = 0; i < 1024; ++i) targets.push_back(b.keys[rnd.Uniform(b.keys.size())]);
  size_t i = 0;
  for (auto _ : state) {
    BlockCursor cursor(b.block.get());
    cursor.Seek(targets[i++ & 1023]);
    benchmark::DoNotOptimize(cursor.value().data());
  }
  state.SetLabel(std::to_string(b.keys.size()) + " entries");
}
BENCHMARK(BM_BlockSeek);

void BM_BlockIterate(benchmark::State& state) {
  BuiltBlock b = BuildBlock();
  for (auto _ : state) {
    BlockCursor cursor(b.block.get());
    size_t bytes = 0;
    for (cursor.SeekToFirst(); cursor.Valid(); cursor.Next()) bytes += cursor.value().size();
    benchmark::DoNotOptimize(bytes);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(b.keys.size()));
}
BENCHMARK(BM_BlockIterate);

void BM_BlockBuild(benchmark::State& state) {
  BuiltBlock b = BuildBlock();
  base::Random rnd(3);
  const std::string value = ValueOf(&rnd);
  BlockBuilder builder(16);
  for (auto _ : state) {
    builder.Reset();
    for (const auto& k : b.keys) builder.Add(k, value);
    benchmark::DoNotOptimize(builder.Finish().data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(b.keys.size()));
}
BENCHMARK(BM_BlockBuild);

void BM_Lz4CompressBlock(benchmark::State& state) {
  BuiltBlock b = BuildBlock();
  std::string out;
  for (auto _ : state) benchmark::DoNotOptimize(CompressBlock(Compression::kLz4, b.raw, &out));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(b.raw.size()));
  state.SetLabel(std::to_string(b.raw.size()) + " -> " + std::to_string(out.size()) + " bytes");
}
BENCHMARK(BM_Lz4CompressBlock);

void BM_Lz4UncompressBlock(benchmark::State& state) {
  BuiltBlock b = BuildBlock();
  std::string compressed;
  CompressBlock(Compression::kLz4, b.raw, &compressed);
  std::unique_ptr<char[]> out;
  size_t n = 0;
  for (auto _ : state) benchmark::DoNotOptimize(UncompressBlock(Compression::kLz4, compressed, &out, &n).ok());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(b.raw.size()));
}
BENCHMARK(BM_Lz4UncompressBlock);

void BM_BlockCacheLookup(benchmark::State& state) {
  Cache cache(64 << 20);
  const int n = 10000;
  char key[16];
  for (int i = 0; i < n; ++i) {
    base::EncodeFixed64(key, 1);
    base::EncodeFixed64(key + 8, static_cast<uint64_t>(i) * 4096);
    cache.Release(cache.Insert(std::string_view(key, 16), nullptr, 4096, [](std::string_view, void*) {}));
  }
  base::Random rnd(4);
  for (auto _ : state) {
    base::EncodeFixed64(key + 8, rnd.Uniform(n) * 4096);
    Cache::Handle* h = cache.Lookup(std::string_view(key, 16));
    cache.Release(h);
  }
}
BENCHMARK(BM_BlockCacheLookup);

class MemoryFile final : public base::RandomAccessFile {
 public:
  explicit MemoryFile(std::string data) : data_(std::move(data)) {}
  base::Status Read(uint64_t offset, size_t n, std::string_view* result, char* scratch) const override {
    n = offset >= data_.size() ? 0 : std::min(n, data_.size() - offset);
    std::memcpy(scratch, data_.data() + offset, n);
    *result = std::string_view(scratch, n);
    return base::Status::OK();
  }

 private:
  std::string data_;
};

class StringFile final : public base::WritableFile {
 public:
  base::Status Append(std::string_view d) override {
    data.append(d.data(), d.size());
    return base::Status::OK();
  }
  base::Status Flush() override { return base::Status::OK(); }
  base::Status Sync() override { return base::Status::OK(); }
  base::Status Close() override { return base::Status::OK(); }
  std::string data;
};

// Arg 0: keys present (bloom, index, cached block); arg 1: absent (bloom only).
void BM_TableGet(benchmark::State& state) {
  const int n = 64000;
  base::Random rnd(5);
  StringFile file;
  TableBuilder builder(TableOptions(), &file);
  for (int i = 0; i < n; ++i) builder.Add(MakeInternalKey(UserKeyOf(2 * i), 1, ValueKind::kValue), ValueOf(&rnd));
  if (!builder.Finish().ok()) state.SkipWithError("build failed");
  Cache cache(64 << 20);
  std::unique_ptr<Table> table;
  const size_t size = file.data.size();
  if (!Table::Open(TableOptions(), std::make_unique<MemoryFile>(std::move(file.data)), size, 1, &cache, "bench",
                   &table)
           .ok()) {
    state.SkipWithError("open failed");
    return;
  }
  std::vector<std::string> lookups;
  for (int i = 0; i < 4096; ++i) {
    lookups.push_back(MakeLookupKey(UserKeyOf(2 * static_cast<int>(rnd.Uniform(n)) + static_cast<int>(state.range(0))),
                                    kMaxSequenceNumber));
  }
  size_t found = 0;
  const EntryCallback count = [&found](std::string_view, std::string_view) { ++found; };
  for (const auto& k : lookups) table->InternalGet(ReadOptions(), k, count).IgnoreError();  // warm the cache
  size_t i = 0;
  for (auto _ : state) table->InternalGet(ReadOptions(), lookups[i++ & 4095], count).IgnoreError();
  benchmark::DoNotOptimize(found);
  state.SetLabel(state.range(0) == 0 ? "present" : "absent");
}
BENCHMARK(BM_TableGet)->Arg(0)->Arg(1);

}  // namespace
}  // namespace kvring::lsm
