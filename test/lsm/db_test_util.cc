#include "test/lsm/db_test_util.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "base/hash.h"
#include "lsm/merkle_index.h"

namespace kvring::lsm::test {

Options SmallOptions(base::Env* env) {
  Options o;
  o.env = env;
  o.memtable_bytes = 64 << 10;
  o.block_cache_bytes = 1 << 20;
  o.block_bytes = 1024;
  o.target_file_bytes = 64 << 10;
  o.max_bytes_level1 = 256 << 10;
  o.sync_mode = SyncMode::kNone;
  o.max_open_files = 100;
  return o;
}

int TestScale() {
  const char* s = std::getenv("KV_TEST_SCALE");
  int scale = s != nullptr ? std::atoi(s) : 1;
  return scale > 0 ? scale : 1;
}

std::string Get(DB* db, std::string_view key, const Snapshot* snapshot) {
  ReadOptions options;
  options.snapshot = snapshot;
  std::string value;
  base::Status s = db->Get(options, key, &value);
  if (s.IsNotFound()) return "NOT_FOUND";
  if (!s.ok()) return s.ToString();
  return value;
}

std::string Contents(DB* db, const Snapshot* snapshot, const std::string* upper_bound) {
  ReadOptions options;
  options.snapshot = snapshot;
  options.upper_bound = upper_bound;
  auto it = db->NewIterator(options);
  std::string out;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (!out.empty()) out += ",";
    out += std::string(it->key()) + "=" + std::string(it->value());
  }
  if (!it->status().ok()) out += "[" + it->status().ToString() + "]";
  return out;
}

std::map<std::string, std::string> Dump(DB* db) {
  std::map<std::string, std::string> out;
  auto it = db->NewIterator(ReadOptions());
  for (it->SeekToFirst(); it->Valid(); it->Next()) out[std::string(it->key())] = std::string(it->value());
  if (!it->status().ok()) out["<error>"] = it->status().ToString();
  return out;
}

std::string FilesPerLevel(DB* db) {
  Stats s = db->GetStats();
  std::string out;
  size_t last = 0;
  for (size_t i = 0; i < s.levels.size(); i++) {
    if (s.levels[i].files > 0) last = i + 1;
  }
  for (size_t i = 0; i < last; i++) {
    if (i > 0) out += ",";
    out += std::to_string(s.levels[i].files);
  }
  return out;
}

std::string Key(int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "key%08d", i);
  return buf;
}

std::vector<MerkleLeaf> ScratchMerkleLeaves(const std::map<std::string, std::string>& data,
                                            const std::vector<MerkleLeaf>& got) {
  std::vector<MerkleLeaf> want;
  for (const MerkleLeaf& leaf : got) want.push_back({leaf.begin, leaf.end, 0, 0});
  for (const auto& [key, value] : data) {
    const uint64_t prefix = MerkleIndex::KeyPrefix(key);
    // The last interval starting at or below the prefix (got is in order).
    auto it = std::upper_bound(want.begin(), want.end(), prefix,
                               [](uint64_t p, const MerkleLeaf& leaf) { return p < leaf.begin; });
    if (it == want.begin()) continue;
    --it;
    if (it->end != 0 && prefix >= it->end) continue;
    it->hash ^= MerkleIndex::EntryHash(key, base::Hash64(value));
    it->keys++;
  }
  return want;
}

namespace {

std::string Describe(const MerkleLeaf& leaf) {
  char buf[128];
  std::snprintf(buf, sizeof(buf), "[%016llx, %016llx) hash %016llx keys %llu",
                static_cast<unsigned long long>(leaf.begin), static_cast<unsigned long long>(leaf.end),
                static_cast<unsigned long long>(leaf.hash), static_cast<unsigned long long>(leaf.keys));
  return buf;
}

}  // namespace

std::string CheckMerkleLeaves(DB* db, const std::map<std::string, std::string>& data, uint64_t begin,
                              uint64_t end) {
  std::vector<MerkleLeaf> got;
  base::Status s = db->MerkleLeaves(begin, end, &got);
  if (!s.ok()) return "MerkleLeaves: " + s.ToString();
  if (got.empty()) return end != 0 && begin >= end ? "" : "no leaves";
  if (got.front().begin != begin || got.back().end != end) return "leaves do not span the interval";
  for (size_t i = 1; i < got.size(); i++) {
    if (got[i].begin != got[i - 1].end) return "gap or overlap before " + Describe(got[i]);
  }
  const std::vector<MerkleLeaf> want = ScratchMerkleLeaves(data, got);
  for (size_t i = 0; i < got.size(); i++) {
    if (got[i].hash != want[i].hash || got[i].keys != want[i].keys) {
      return "leaf " + std::to_string(i) + ": index " + Describe(got[i]) + ", scan " + Describe(want[i]);
    }
  }
  return "";
}

}  // namespace kvring::lsm::test
