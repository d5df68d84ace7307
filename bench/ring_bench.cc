// bench/ring_bench.cc — ring lookups: the per-request cost a coordinator pays to
// find a key's replicas. Results go into docs/ring.md with the command used:
//   make -j2 build/micro_bench
//   build/micro_bench --benchmark_filter='BM_(PreferenceList|Primary|TokenOf|RingBuild|RingHolderCurrent)'
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "base/random.h"
#include "ring/membership_view.h"
#include "ring/ring.h"

namespace kvring::ring {
namespace {

constexpr int kKeys = 4096;  // a power of two: cheap wrap of the key index

std::vector<NodeInfo> Members(int count, int dcs, int racks_per_dc) {
  std::vector<NodeInfo> nodes;
  for (int i = 0; i < count; ++i) {
    NodeInfo node;
    node.id = "node" + std::to_string(i);
    node.address = "10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ":7000";
    node.dc = "dc" + std::to_string(1 + i % dcs);
    node.rack = "rack" + std::to_string(1 + (i / dcs) % racks_per_dc);
    nodes.push_back(node);
  }
  return nodes;
}

std::vector<Token> RandomTokens() {
  base::Random rnd(42);
  std::vector<Token> tokens(kKeys);
  for (Token& t : tokens) t = TokenOf("user:" + std::to_string(rnd.Next64()));
  return tokens;
}

std::shared_ptr<const Ring> MakeRing(int nodes, int dcs, int racks, const char* spec) {
  RingOptions options;
  options.replication = *ReplicationSpec::Parse(spec);
  return *Ring::Build(Members(nodes, dcs, racks), options);
}

// Args: nodes, racks per DC, per-DC spec (0: N=3 total, 1: two DCs "dc1:2,dc2:1").
void BM_PreferenceList(benchmark::State& state) {
  const int nodes = static_cast<int>(state.range(0));
  const int racks = static_cast<int>(state.range(1));
  const bool per_dc = state.range(2) != 0;
  std::shared_ptr<const Ring> ring = MakeRing(nodes, per_dc ? 2 : 1, racks, per_dc ? "dc1:2,dc2:1" : "3");
  const std::vector<Token> tokens = RandomTokens();
  size_t i = 0;
  for (auto _ : state) {
    PreferenceList list = ring->PreferenceListFor(tokens[i++ & (kKeys - 1)]);
    benchmark::DoNotOptimize(list);
  }
  state.SetLabel(std::to_string(ring->vnode_count()) + " vnodes");
}
BENCHMARK(BM_PreferenceList)
    ->ArgNames({"nodes", "racks", "per_dc"})
    ->Args({3, 1, 0})
    ->Args({10, 1, 0})
    ->Args({100, 1, 0})
    ->Args({10, 3, 0})
    ->Args({100, 3, 0})
    ->Args({10, 2, 1})
    ->Args({100, 3, 1});

void BM_Primary(benchmark::State& state) {
  std::shared_ptr<const Ring> ring = MakeRing(static_cast<int>(state.range(0)), 1, 1, "3");
  const std::vector<Token> tokens = RandomTokens();
  size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(ring->Primary(tokens[i++ & (kKeys - 1)]));
}
BENCHMARK(BM_Primary)->Arg(10)->Arg(100);

void BM_TokenOf(benchmark::State& state) {
  const std::string key(static_cast<size_t>(state.range(0)), 'k');
  for (auto _ : state) benchmark::DoNotOptimize(TokenOf(key));
}
BENCHMARK(BM_TokenOf)->Arg(16)->Arg(64);

// A membership change: what a gossip update costs (not on the request path).
void BM_RingBuild(benchmark::State& state) {
  const std::vector<NodeInfo> nodes = Members(static_cast<int>(state.range(0)), 1, 3);
  for (auto _ : state) benchmark::DoNotOptimize(Ring::Build(nodes));
}
BENCHMARK(BM_RingBuild)->Arg(10)->Arg(100)->Unit(benchmark::kMicrosecond);

// Loading the current ring once per request.
void BM_RingHolderCurrent(benchmark::State& state) {
  std::unique_ptr<RingHolder> holder = std::move(*RingHolder::Create(Members(10, 1, 1)));
  for (auto _ : state) benchmark::DoNotOptimize(holder->Current());
}
BENCHMARK(BM_RingHolderCurrent)->Threads(1)->Threads(2);

}  // namespace
}  // namespace kvring::ring
