// The LevelDB adapter, set up as /work/shared/peers/engine_harness.cc (and
// db_bench) do: library defaults, a bloom filter of --bloom_bits, the default
// 8 MiB block cache unless --cache_size says otherwise.
#include "bench/engine_bench/store.h"

#ifdef KV_HAVE_LEVELDB

#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/filter_policy.h>

namespace kvring::bench {

namespace {

class LevelDbStore final : public Store {
 public:
  LevelDbStore() = default;
  ~LevelDbStore() override { db_.reset(); }

  bool Open(const Flags& flags, const OpenMode& mode, std::string* error) {
    options_.create_if_missing = true;
    options_.error_if_exists = mode.fresh;
    if (flags.bloom_bits > 0) {
      filter_.reset(leveldb::NewBloomFilterPolicy(flags.bloom_bits));
      options_.filter_policy = filter_.get();
    }
    const int64_t cache = flags.EffectiveCacheSize();
    if (cache >= 0) {
      cache_.reset(leveldb::NewLRUCache(static_cast<size_t>(cache)));
      options_.block_cache = cache_.get();
    }
    if (flags.write_buffer_size > 0) options_.write_buffer_size = static_cast<size_t>(flags.write_buffer_size);
    leveldb::DB* db = nullptr;
    leveldb::Status s = leveldb::DB::Open(options_, flags.db, &db);
    if (!s.ok()) {
      *error = "leveldb open " + flags.db + ": " + s.ToString();
      return false;
    }
    db_.reset(db);
    return true;
  }

  void Put(std::string_view key, std::string_view value, bool sync) override {
    leveldb::WriteOptions wo;
    wo.sync = sync;
    leveldb::Status s = db_->Put(wo, leveldb::Slice(key.data(), key.size()), leveldb::Slice(value.data(), value.size()));
    if (!s.ok()) Die("leveldb put: " + s.ToString());
  }

  bool Get(std::string_view key, std::string* value) override {
    leveldb::Status s = db_->Get(leveldb::ReadOptions(), leveldb::Slice(key.data(), key.size()), value);
    if (s.IsNotFound()) return false;
    if (!s.ok()) Die("leveldb get: " + s.ToString());
    return true;
  }

  uint64_t Scan(uint64_t* bytes) override {
    std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
    uint64_t n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      *bytes += it->key().size() + it->value().size();
      ++n;
    }
    if (!it->status().ok()) Die("leveldb scan: " + it->status().ToString());
    return n;
  }

  std::string Version() const override {
    return "LevelDB " + std::to_string(leveldb::kMajorVersion) + "." + std::to_string(leveldb::kMinorVersion);
  }

  std::string Stats() override {
    std::string out;
    db_->GetProperty("leveldb.stats", &out);
    return out;
  }

 private:
  leveldb::Options options_;
  std::unique_ptr<const leveldb::FilterPolicy> filter_;
  std::unique_ptr<leveldb::Cache> cache_;
  std::unique_ptr<leveldb::DB> db_;  // declared last: closed before the cache and filter die
};

}  // namespace

std::unique_ptr<Store> OpenLevelDbStore(const Flags& flags, const OpenMode& mode, std::string* error) {
  auto store = std::make_unique<LevelDbStore>();
  if (!store->Open(flags, mode, error)) return nullptr;
  return store;
}

}  // namespace kvring::bench

#else  // !KV_HAVE_LEVELDB

namespace kvring::bench {

std::unique_ptr<Store> OpenLevelDbStore(const Flags&, const OpenMode&, std::string* error) {
  *error = "built without LevelDB (install libleveldb-dev and rebuild)";
  return nullptr;
}

}  // namespace kvring::bench

#endif
