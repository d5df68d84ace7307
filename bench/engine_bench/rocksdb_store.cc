// The RocksDB adapter, set up as /work/shared/peers/engine_harness.cc does:
// library defaults, a block-based table with a bloom filter of --bloom_bits, the
// default 8 MiB block cache unless --cache_size says otherwise.
#include "bench/engine_bench/store.h"

#ifdef KV_HAVE_ROCKSDB

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/version.h>

namespace kvring::bench {

namespace {

class RocksDbStore final : public Store {
 public:
  RocksDbStore() = default;
  ~RocksDbStore() override {
    if (db_) db_->Close().PermitUncheckedError();
    db_.reset();
  }

  bool Open(const Flags& flags, const OpenMode& mode, std::string* error) {
    rocksdb::Options options;
    options.create_if_missing = true;
    options.error_if_exists = mode.fresh;
    rocksdb::BlockBasedTableOptions table;
    if (flags.bloom_bits > 0) table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(flags.bloom_bits));
    const int64_t cache = flags.EffectiveCacheSize();
    if (cache >= 0) table.block_cache = rocksdb::NewLRUCache(static_cast<size_t>(cache));
    options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    if (flags.write_buffer_size > 0) options.write_buffer_size = static_cast<size_t>(flags.write_buffer_size);
    rocksdb::DB* db = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(options, flags.db, &db);
    if (!s.ok()) {
      *error = "rocksdb open " + flags.db + ": " + s.ToString();
      return false;
    }
    db_.reset(db);
    return true;
  }

  void Put(std::string_view key, std::string_view value, bool sync) override {
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    rocksdb::Status s = db_->Put(wo, rocksdb::Slice(key.data(), key.size()), rocksdb::Slice(value.data(), value.size()));
    if (!s.ok()) Die("rocksdb put: " + s.ToString());
  }

  bool Get(std::string_view key, std::string* value) override {
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), rocksdb::Slice(key.data(), key.size()), value);
    if (s.IsNotFound()) return false;
    if (!s.ok()) Die("rocksdb get: " + s.ToString());
    return true;
  }

  uint64_t Scan(uint64_t* bytes) override {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    uint64_t n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      *bytes += it->key().size() + it->value().size();
      ++n;
    }
    if (!it->status().ok()) Die("rocksdb scan: " + it->status().ToString());
    return n;
  }

  std::string Version() const override {
    return "RocksDB " + std::to_string(ROCKSDB_MAJOR) + "." + std::to_string(ROCKSDB_MINOR) + "." +
           std::to_string(ROCKSDB_PATCH);
  }

  std::string Stats() override {
    std::string out;
    db_->GetProperty("rocksdb.stats", &out);
    return out;
  }

 private:
  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace

std::unique_ptr<Store> OpenRocksDbStore(const Flags& flags, const OpenMode& mode, std::string* error) {
  auto store = std::make_unique<RocksDbStore>();
  if (!store->Open(flags, mode, error)) return nullptr;
  return store;
}

}  // namespace kvring::bench

#else  // !KV_HAVE_ROCKSDB

namespace kvring::bench {

std::unique_ptr<Store> OpenRocksDbStore(const Flags&, const OpenMode&, std::string* error) {
  *error = "built without RocksDB (install librocksdb-dev and rebuild)";
  return nullptr;
}

}  // namespace kvring::bench

#endif
