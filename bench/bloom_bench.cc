// bench/bloom_bench.cc — the SSTable bloom filter: building one filter per table
// (flush/compaction cost) and probing it (every Get probes one per file it checks).
//   make -j2 build/micro_bench && build/micro_bench --benchmark_filter='BM_Bloom'
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <vector>

#include "lsm/bloom.h"

namespace kvring::lsm {
namespace {

std::vector<std::string> Keys(int n, int offset) {
  std::vector<std::string> keys;
  keys.reserve(n);
  char buf[32];
  for (int i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, "%016d", i + offset);
    keys.emplace_back(buf, 16);
  }
  return keys;
}

void BM_BloomBuild(benchmark::State& state) {
  const auto keys = Keys(static_cast<int>(state.range(0)), 0);
  for (auto _ : state) {
    BloomFilterBuilder builder(10);
    for (const auto& k : keys) builder.AddKey(k);
    std::string filter = builder.Finish();
    benchmark::DoNotOptimize(filter.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_BloomBuild)->Arg(1000)->Arg(64000);

// Arg 0: probe keys that are present; arg 1: keys that are absent.
void BM_BloomMayContain(benchmark::State& state) {
  const int n = 64000;  // about one 8 MiB table of 16+100 byte entries
  const auto keys = Keys(n, 0);
  BloomFilterBuilder builder(10);
  for (const auto& k : keys) builder.AddKey(k);
  const std::string data = builder.Finish();
  BloomFilter filter(data);
  const auto probes = state.range(0) == 0 ? keys : Keys(n, 10000000);
  size_t i = 0, yes = 0;
  for (auto _ : state) {
    yes += filter.MayContain(probes[i]);
    if (++i == probes.size()) i = 0;
  }
  benchmark::DoNotOptimize(yes);
  state.SetLabel(state.range(0) == 0 ? "present" : "absent");
}
BENCHMARK(BM_BloomMayContain)->Arg(0)->Arg(1);

}  // namespace
}  // namespace kvring::lsm
