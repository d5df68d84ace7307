// bench/merkle_bench.cc — the engine's Merkle index on real files: put
// throughput with the index off and at 16 leaf bits over token-like keys (8
// bytes of hash, then the number, as kvring's engine keys), and MerkleLeaves
// over all 65,536 leaves of a DB of MERKLE_BENCH_KEYS (default 1,000,000) keys
// of 100 B, with a clean index (the counters show 0 keys scanned, 0 data
// blocks) and with every leaf dirty (a restart without the index file).
//   make -j2 build/micro_bench && build/micro_bench --benchmark_filter='BM_Merkle'
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "base/coding.h"
#include "base/env.h"
#include "base/hash.h"
#include "lsm/engine.h"

namespace kvring::lsm {
namespace {

constexpr char kDir[] = "/tmp/kvring_merkle_bench";

int64_t NumKeys() {
  const char* s = std::getenv("MERKLE_BENCH_KEYS");
  return s != nullptr && std::atoll(s) > 0 ? std::atoll(s) : 1000000;
}

std::string TokenKey(uint64_t i) {
  std::string key(16, '\0');
  base::EncodeBigEndian64(key.data(), base::Hash64(std::string_view(reinterpret_cast<const char*>(&i), 8)));
  base::EncodeBigEndian64(key.data() + 8, i);
  return key;
}

std::unique_ptr<DB> OpenFresh(int leaf_bits, bool wipe) {
  if (wipe) base::RemoveDirRecursively(base::Env::Default(), kDir).IgnoreError();
  Options options;
  options.sync_mode = SyncMode::kNone;
  options.merkle.leaf_bits = leaf_bits;
  std::unique_ptr<DB> db;
  base::Status s = DB::Open(options, kDir, &db);
  if (!s.ok()) std::abort();
  return db;
}

// Arg: leaf_bits (0 = no index). One iteration = one 100-byte put.
void BM_MerklePut(benchmark::State& state) {
  std::unique_ptr<DB> db = OpenFresh(static_cast<int>(state.range(0)), true);
  const std::string value(100, 'v');
  uint64_t i = 0;
  for (auto _ : state) {
    if (!db->Put(WriteOptions(), TokenKey(i++), value).ok()) std::abort();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MerklePut)->Arg(0)->Arg(16)->Iterations(1000000)->Unit(benchmark::kMillisecond);

// Fills the DB once (and recomputes every leaf, so the close persists a clean index).
void FillOnce() {
  static bool filled = false;
  if (filled) return;
  filled = true;
  std::unique_ptr<DB> db = OpenFresh(16, true);
  std::string value(100, 'v');
  for (int64_t i = 0; i < NumKeys(); i++) {
    base::EncodeFixed64(value.data(), static_cast<uint64_t>(i));
    if (!db->Put(WriteOptions(), TokenKey(static_cast<uint64_t>(i)), value).ok()) std::abort();
  }
  if (!db->CompactRange(nullptr, nullptr).ok()) std::abort();
  std::vector<MerkleLeaf> leaves;
  if (!db->MerkleLeaves(0, 0, &leaves).ok()) std::abort();
}

void ReportDeltas(benchmark::State& state, const Stats& before, const Stats& after, size_t leaves) {
  const double n = static_cast<double>(state.iterations());
  state.counters["leaves"] = static_cast<double>(leaves);
  state.counters["keys_scanned"] = static_cast<double>(after.merkle_keys_scanned - before.merkle_keys_scanned) / n;
  state.counters["data_blocks"] = static_cast<double>(after.data_blocks_read - before.data_blocks_read) / n;
}

void BM_MerkleLeavesClean(benchmark::State& state) {
  FillOnce();
  std::unique_ptr<DB> db = OpenFresh(16, false);
  std::vector<MerkleLeaf> leaves;
  const Stats before = db->GetStats();
  for (auto _ : state) {
    if (!db->MerkleLeaves(0, 0, &leaves).ok()) std::abort();
  }
  ReportDeltas(state, before, db->GetStats(), leaves.size());
}
BENCHMARK(BM_MerkleLeavesClean)->Unit(benchmark::kMillisecond);

void BM_MerkleLeavesAllDirty(benchmark::State& state) {
  FillOnce();
  std::vector<MerkleLeaf> leaves;
  Stats before, after;
  for (auto _ : state) {
    state.PauseTiming();
    base::Env::Default()->RemoveFile(std::string(kDir) + "/MERKLE").IgnoreError();
    std::unique_ptr<DB> db = OpenFresh(16, false);  // every leaf dirty
    const Stats opened = db->GetStats();
    state.ResumeTiming();
    if (!db->MerkleLeaves(0, 0, &leaves).ok()) std::abort();
    state.PauseTiming();
    const Stats done = db->GetStats();
    before.merkle_keys_scanned += opened.merkle_keys_scanned;
    before.data_blocks_read += opened.data_blocks_read;
    after.merkle_keys_scanned += done.merkle_keys_scanned;
    after.data_blocks_read += done.data_blocks_read;
    db.reset();
    state.ResumeTiming();
  }
  ReportDeltas(state, before, after, leaves.size());
}
BENCHMARK(BM_MerkleLeavesAllDirty)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
}  // namespace kvring::lsm
