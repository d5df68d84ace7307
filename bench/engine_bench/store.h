// bench/engine_bench/store.h — the handful of operations the benchmarks need, over
// kvring's engine or a peer (LevelDB, RocksDB). Peer adapters compile only when
// their headers exist (KV_HAVE_LEVELDB / KV_HAVE_ROCKSDB from the Makefile).
// Thread safety: a Store is thread-safe (every engine's DB is).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "bench/engine_bench/flags.h"

namespace kvring::bench {

class Store {
 public:
  virtual ~Store() = default;
  // Each aborts the process with a message on an engine error: a benchmark that
  // hit an error has no figure worth printing.
  virtual void Put(std::string_view key, std::string_view value, bool sync) = 0;
  // False when the key is absent.
  virtual bool Get(std::string_view key, std::string* value) = 0;
  // One forward scan over everything; returns entries seen, adds key+value bytes.
  virtual uint64_t Scan(uint64_t* bytes) = 0;
  // "LevelDB 1.23", "kvring", ...
  virtual std::string Version() const = 0;
  // The engine's own statistics, human-readable.
  virtual std::string Stats() = 0;
};

struct OpenMode {
  bool fresh = true;     // wipe the directory and create a new DB
  bool sync_all = false; // fillsync: every write durable (kvring: SyncMode::kAlways)
};

// Each returns null and sets *error when the engine is not compiled in or the
// open fails.
std::unique_ptr<Store> OpenKvringStore(const Flags& flags, const OpenMode& mode, std::string* error);
std::unique_ptr<Store> OpenLevelDbStore(const Flags& flags, const OpenMode& mode, std::string* error);
std::unique_ptr<Store> OpenRocksDbStore(const Flags& flags, const OpenMode& mode, std::string* error);

// Dies with "engine_bench: <what>" on stderr.
[[noreturn]] void Die(const std::string& what);

}  // namespace kvring::bench
