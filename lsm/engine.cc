// lsm/engine.cc — DB::Open and the sync-mode names.
#include "lsm/engine.h"

#include "lsm/db_impl.h"

namespace kvring::lsm {

bool ParseSyncMode(std::string_view name, SyncMode* mode) {
  if (name == "none") {
    *mode = SyncMode::kNone;
  } else if (name == "interval") {
    *mode = SyncMode::kInterval;
  } else if (name == "always") {
    *mode = SyncMode::kAlways;
  } else {
    return false;
  }
  return true;
}

const char* SyncModeName(SyncMode mode) {
  switch (mode) {
    case SyncMode::kNone: return "none";
    case SyncMode::kInterval: return "interval";
    case SyncMode::kAlways: return "always";
  }
  return "?";
}

base::Status DB::Open(const Options& options, const std::string& dir, std::unique_ptr<DB>* db) {
  db->reset();
  auto impl = std::make_unique<DBImpl>(options, dir);
  KV_RETURN_IF_ERROR(impl->Open().WithContext("open " + dir));
  *db = std::move(impl);
  return base::Status::OK();
}

DB::~DB() = default;

base::Status DB::SetMerkleSplits(std::vector<uint64_t>) {
  return base::Status::NotSupported("this DB has no Merkle index");
}

base::Status DB::MerkleLeaves(uint64_t, uint64_t, std::vector<MerkleLeaf>*) {
  return base::Status::NotSupported("this DB has no Merkle index");
}

}  // namespace kvring::lsm
