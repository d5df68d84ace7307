// bench/engine_bench/flags.h — engine_bench's command line: db_bench's own flag
// names (--benchmarks, --num, --value_size, --threads, --db, --cache_size,
// --bloom_bits, --use_existing_db, --write_buffer_size) plus --engine and kvring's
// --sync_mode. See bench/README.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kvring::bench {

struct Flags {
  std::string engine = "kvring";  // kvring | leveldb | rocksdb
  std::vector<std::string> benchmarks = {"fillseq",    "fillsync",    "fillrandom", "overwrite",
                                         "readrandom", "readmissing", "readseq"};
  uint64_t num = 1000000;    // entries written by the fills, reads per read benchmark
  int64_t reads = -1;        // reads per read benchmark (-1: num)
  uint64_t sync_num = 10000; // entries written by fillsync (db_bench writes far fewer with sync)
  int value_size = 100;
  int threads = 1;
  std::string db = "/tmp/engine_bench_db";
  // Block cache bytes. -1: every engine's default size, which is 8 MiB for LevelDB
  // and RocksDB; kvring then gets 8 MiB too, so the three compare like for like.
  int64_t cache_size = -1;
  // When > 0, sets cache_size to (num * (16 + value_size)) / data_to_cache: the
  // "data set N times the cache" mode (e.g. 10).
  int data_to_cache = 0;
  int bloom_bits = 10;
  int64_t write_buffer_size = -1;  // -1: each engine's default
  std::string sync_mode = "none";  // kvring's WAL sync mode outside fillsync
  bool use_existing_db = false;
  bool stats = false;  // print the engine's own statistics after each benchmark
  uint64_t seed = 301;
  int merkle_bits = 0;  // kvring: Options::merkle.leaf_bits (0: no Merkle index)

  // Reads per read benchmark.
  uint64_t read_count() const { return reads < 0 ? num : static_cast<uint64_t>(reads); }
  // The cache size to configure, or -1 for the engine default.
  int64_t EffectiveCacheSize() const;
};

// Parses argv; on a bad flag prints why (and the usage) to stderr and returns false.
bool ParseFlags(int argc, char** argv, Flags* flags);

}  // namespace kvring::bench
