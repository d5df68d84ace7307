// bench/skiplist_bench.cc — the memtable's skiplist: inserting 16-byte keys in
// random order into a list of N entries (the memtable write cost) and seeking a
// random key in it (the memtable part of every Get).
//   make -j2 build/micro_bench && build/micro_bench --benchmark_filter='BM_Skiplist'
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "base/random.h"
#include "lsm/memtable.h"

namespace kvring::lsm {
namespace {

std::vector<std::string> RandomKeys(int n) {
  base::Random rnd(301);
  std::vector<std::string> keys;
  keys.reserve(n);
  char buf[32];
  for (int i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, "%016llu", static_cast<unsigned long long>(rnd.Uniform(1ull << 40)));
    keys.emplace_back(buf, 16);
  }
  return keys;
}

// Inserts state.range(0) keys (with 100-byte values) into a fresh memtable per
// iteration batch; reports the time per insert.
void BM_SkiplistInsert(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const auto keys = RandomKeys(n);
  const std::string value(100, 'v');
  for (auto _ : state) {
    MemTable* mem = new MemTable();
    SequenceNumber seq = 0;
    for (const auto& k : keys) mem->Add(++seq, ValueKind::kValue, k, value);
    benchmark::DoNotOptimize(mem->num_entries());
    state.PauseTiming();
    mem->Unref();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_SkiplistInsert)->Arg(10000)->Arg(300000)->Unit(benchmark::kMillisecond);

// Point lookups of present keys in a memtable of state.range(0) entries.
void BM_SkiplistSeek(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const auto keys = RandomKeys(n);
  MemTable* mem = new MemTable();
  SequenceNumber seq = 0;
  for (const auto& k : keys) mem->Add(++seq, ValueKind::kValue, k, std::string(100, 'v'));
  base::Random rnd(7);
  std::string value;
  for (auto _ : state) {
    LookupKey lk(keys[rnd.Uniform(keys.size())], kMaxSequenceNumber);
    benchmark::DoNotOptimize(mem->Get(lk, &value));
  }
  state.SetItemsProcessed(state.iterations());
  mem->Unref();
}
BENCHMARK(BM_SkiplistSeek)->Arg(10000)->Arg(300000);

}  // namespace
}  // namespace kvring::lsm
