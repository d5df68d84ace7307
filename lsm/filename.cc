#include "lsm/filename.h"

#include <cstdio>

#include "base/env.h"

namespace kvring::lsm {

namespace {

std::string Numbered(std::string_view dir, const char* prefix, uint64_t number, const char* suffix) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%s%06llu%s", prefix, static_cast<unsigned long long>(number), suffix);
  return base::JoinPath(dir, buf);
}

// Parses a decimal file number filling all of s; false on anything else or a
// number not below kMaxFileNumber.
bool ParseNumber(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 19) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return v < kMaxFileNumber;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

std::string LogFileName(std::string_view dir, uint64_t number) { return Numbered(dir, "", number, ".log"); }
std::string TableFileName(std::string_view dir, uint64_t number) { return Numbered(dir, "", number, ".sst"); }
std::string ManifestFileName(std::string_view dir, uint64_t number) {
  return Numbered(dir, "MANIFEST-", number, "");
}
std::string CurrentFileName(std::string_view dir) { return base::JoinPath(dir, "CURRENT"); }
std::string LockFileName(std::string_view dir) { return base::JoinPath(dir, "LOCK"); }
std::string MerkleFileName(std::string_view dir) { return base::JoinPath(dir, "MERKLE"); }

bool ParseFileName(std::string_view name, uint64_t* number, FileType* type) {
  *number = 0;
  if (name == "CURRENT") {
    *type = FileType::kCurrent;
    return true;
  }
  if (name == "LOCK") {
    *type = FileType::kLock;
    return true;
  }
  if (name.substr(0, 9) == "MANIFEST-") {
    *type = FileType::kManifest;
    return ParseNumber(name.substr(9), number);
  }
  if (EndsWith(name, ".tmp")) {
    *type = FileType::kTemp;
    return true;
  }
  if (EndsWith(name, ".log")) {
    *type = FileType::kLog;
    return ParseNumber(name.substr(0, name.size() - 4), number);
  }
  if (EndsWith(name, ".sst")) {
    *type = FileType::kTable;
    return ParseNumber(name.substr(0, name.size() - 4), number);
  }
  return false;
}

}  // namespace kvring::lsm
