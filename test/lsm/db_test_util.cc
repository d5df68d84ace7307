#include "test/lsm/db_test_util.h"

#include <cstdio>
#include <cstdlib>

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

}  // namespace kvring::lsm::test
