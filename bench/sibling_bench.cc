// bench/sibling_bench.cc — the versioning work on every read and write: encoding
// and decoding a stored value in the common case (one sibling, a 3-node history,
// a 100-byte value), a replica's whole write step (decode, put with a fresh
// context, encode), merging two replicas' sets (replication, read repair) with
// 1..64 siblings, and the client context codec.
//   make -j2 build/micro_bench && build/micro_bench --benchmark_filter='BM_(Value|SiblingSet|ClientContext)'
#include <benchmark/benchmark.h>

#include <string>

#include "repl/client_context.h"
#include "repl/sibling_set.h"
#include "repl/value_format.h"

namespace kvring::repl {
namespace {

constexpr uint64_t kNow = 1'700'000'000'000'000ull;

// One sibling, history [n1 n2 n3], a 100-byte value: what most keys look like.
SiblingSet CommonSet() {
  SiblingSet set;
  const VersioningOptions options;
  for (const char* node : {"n1", "n2", "n3"}) {
    (void)set.Put(node, set.history(), "x", kNow, options);
  }
  (void)set.Put("n1", set.history(), std::string(100, 'v'), kNow, options);
  return set;
}

// `siblings` concurrent writes from three coordinators on one replica, and the
// other replica holding half of them plus as many of its own.
void ConcurrentSets(int siblings, SiblingSet* a, SiblingSet* b) {
  const VersioningOptions options{.max_siblings = 1000, .warn_siblings = 0};
  const char* nodes[] = {"n1", "n2", "n3"};
  for (int i = 0; i < siblings; ++i) {
    (void)a->Put(nodes[i % 3], VersionVector(), std::string(100, 'a'), kNow, options);
    if (i % 2 == 0) *b = SiblingSet::Merge(*b, *a);
  }
  for (int i = 0; i < siblings / 2; ++i) {
    (void)b->Put("n4", VersionVector(), std::string(100, 'b'), kNow, options);
  }
}

void BM_ValueEncode(benchmark::State& state) {
  const SiblingSet set = CommonSet();
  std::string bytes;
  for (auto _ : state) {
    bytes.clear();
    EncodeSiblingSet(set, &bytes);
    benchmark::DoNotOptimize(bytes.data());
  }
  state.counters["bytes"] = static_cast<double>(bytes.size());
}
BENCHMARK(BM_ValueEncode);

void BM_ValueDecode(benchmark::State& state) {
  const std::string bytes = EncodeSiblingSet(CommonSet());
  for (auto _ : state) {
    base::Result<SiblingSet> set = DecodeSiblingSet(bytes);
    benchmark::DoNotOptimize(set.ok());
  }
}
BENCHMARK(BM_ValueDecode);

// What a coordinating replica does per put: decode the stored value, write with
// the client's (fresh) context, encode the result.
void BM_SiblingSetPutCycle(benchmark::State& state) {
  std::string bytes = EncodeSiblingSet(CommonSet());
  const VersionVector context = CommonSet().history();
  const std::string value(100, 'w');
  const VersioningOptions options;
  uint64_t now = kNow;
  for (auto _ : state) {
    base::Result<SiblingSet> set = DecodeSiblingSet(bytes);
    VersionVector ctx = set->history();  // a client that read the latest version
    (void)set->Put("n1", ctx, value, ++now, options);
    bytes.clear();
    EncodeSiblingSet(*set, &bytes);
  }
  benchmark::DoNotOptimize(context.size());
}
BENCHMARK(BM_SiblingSetPutCycle);

void BM_SiblingSetMerge(benchmark::State& state) {
  SiblingSet a, b;
  ConcurrentSets(static_cast<int>(state.range(0)), &a, &b);
  for (auto _ : state) {
    SiblingSet merged = SiblingSet::Merge(a, b);
    benchmark::DoNotOptimize(merged.siblings().size());
  }
  state.counters["siblings"] = static_cast<double>(SiblingSet::Merge(a, b).siblings().size());
}
BENCHMARK(BM_SiblingSetMerge)->Arg(1)->Arg(8)->Arg(64);

void BM_ClientContextDecode(benchmark::State& state) {
  const std::string bytes = EncodeClientContext(ContextKey::Default(), "key", CommonSet().history());
  for (auto _ : state) {
    base::Result<VersionVector> vv = DecodeClientContext(ContextKey::Default(), "key", bytes);
    benchmark::DoNotOptimize(vv.ok());
  }
}
BENCHMARK(BM_ClientContextDecode);

}  // namespace
}  // namespace kvring::repl
