// The kvring adapter: lsm::DB with the flags mapped onto lsm::Options.
#include "bench/engine_bench/store.h"
#include "lsm/engine.h"

namespace kvring::bench {

namespace {

class KvringStore final : public Store {
 public:
  explicit KvringStore(std::unique_ptr<lsm::DB> db) : db_(std::move(db)) {}

  void Put(std::string_view key, std::string_view value, bool sync) override {
    lsm::WriteOptions wo;
    wo.sync = sync;
    base::Status s = db_->Put(wo, key, value);
    if (!s.ok()) Die("kvring put: " + s.ToString());
  }

  bool Get(std::string_view key, std::string* value) override {
    base::Status s = db_->Get(lsm::ReadOptions(), key, value);
    if (s.IsNotFound()) return false;
    if (!s.ok()) Die("kvring get: " + s.ToString());
    return true;
  }

  uint64_t Scan(uint64_t* bytes) override {
    auto it = db_->NewIterator(lsm::ReadOptions());
    uint64_t n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      *bytes += it->key().size() + it->value().size();
      ++n;
    }
    if (!it->status().ok()) Die("kvring scan: " + it->status().ToString());
    return n;
  }

  std::string Version() const override { return "kvring"; }
  std::string Stats() override { return db_->GetStats().ToString(); }

 private:
  std::unique_ptr<lsm::DB> db_;
};

}  // namespace

std::unique_ptr<Store> OpenKvringStore(const Flags& flags, const OpenMode& mode, std::string* error) {
  lsm::Options options;
  options.create_if_missing = true;
  options.error_if_exists = mode.fresh;
  // 8 MiB unless told otherwise: the size LevelDB's and RocksDB's defaults use.
  const int64_t cache = flags.EffectiveCacheSize();
  options.block_cache_bytes = cache >= 0 ? static_cast<size_t>(cache) : size_t{8} << 20;
  options.bloom_bits_per_key = flags.bloom_bits > 0 ? flags.bloom_bits : 0;
  if (flags.write_buffer_size > 0) options.memtable_bytes = static_cast<size_t>(flags.write_buffer_size);
  options.merkle.leaf_bits = flags.merkle_bits;
  if (mode.sync_all) {
    options.sync_mode = lsm::SyncMode::kAlways;
  } else if (!lsm::ParseSyncMode(flags.sync_mode, &options.sync_mode)) {
    *error = "bad --sync_mode " + flags.sync_mode;
    return nullptr;
  }
  std::unique_ptr<lsm::DB> db;
  base::Status s = lsm::DB::Open(options, flags.db, &db);
  if (!s.ok()) {
    *error = "kvring open " + flags.db + ": " + s.ToString();
    return nullptr;
  }
  return std::make_unique<KvringStore>(std::move(db));
}

}  // namespace kvring::bench
