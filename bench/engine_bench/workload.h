// bench/engine_bench/workload.h — the benchmarks themselves, with the semantics of
// /work/shared/peers/engine_harness.cc (so figures compare with the baselines):
//   keys are 16 bytes, "%016llu" of an index in [0, num); values are value_size
//   bytes that compress to about half (db_bench's compression_ratio=0.5).
//   fillseq     fresh DB, num puts in key order
//   fillsync    fresh DB, sync_num puts of random keys, every put durable
//   fillrandom  fresh DB, num puts of a random permutation of [0, num): all present
//   overwrite   num puts of uniformly random existing keys
//   readrandom  reads gets of random keys; all must be found (checked)
//   readmissing reads gets of absent keys inside the key range (the bloom filter's job)
//   readseq     a full forward scan (per thread)
// With --threads=T, the fills and reads are split: each thread does 1/T of the
// operations, and micros/op is wall time / all operations (the inverse of the
// throughput; db_bench instead reports time per op per thread).
// Thread safety: Runner is used by one thread; it starts the worker threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "bench/engine_bench/flags.h"
#include "bench/engine_bench/store.h"

namespace kvring::bench {

constexpr size_t kKeyBytes = 16;

// Writes key i ("%016llu") into buf[0, 16).
void FormatKey(uint64_t i, char* buf);
// A key that sorts just before key (i/10)*10 and is never written: 15 digits of
// i/10, then '.'.
void FormatMissingKey(uint64_t i, char* buf);

// A megabyte of bytes that compress to about half; values are windows into it.
class ValueSource {
 public:
  explicit ValueSource(uint64_t seed);
  // The value for operation `i` of thread `thread`. REQUIRES: len <= size() / 2.
  std::string_view Get(int thread, uint64_t i, int len) const;
  size_t size() const { return data_.size(); }

 private:
  std::string data_;
};

class Runner {
 public:
  explicit Runner(const Flags& flags);
  ~Runner();
  // Runs every benchmark in flags.benchmarks; returns the process exit code.
  int Run();

 private:
  struct Outcome;
  Outcome RunOne(const std::string& name);
  void OpenStore(bool fresh, bool sync_all);
  void PrintHeader();

  const Flags flags_;
  ValueSource values_;
  std::unique_ptr<Store> store_;
  bool all_keys_present_ = false;  // the DB holds every key in [0, num)
  bool header_printed_ = false;
};

}  // namespace kvring::bench
