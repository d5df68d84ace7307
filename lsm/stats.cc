// lsm/stats.cc — Stats' derived figures and its human-readable table.
#include <cstdio>

#include "lsm/engine.h"

namespace kvring::lsm {

double Stats::block_cache_hit_rate() const {
  const uint64_t total = block_cache_hits + block_cache_misses;
  return total == 0 ? 0.0 : static_cast<double>(block_cache_hits) / static_cast<double>(total);
}

double Stats::write_amplification() const {
  if (user_bytes_written == 0) return 0.0;
  uint64_t written = wal_bytes_written;
  for (const auto& level : levels) written += level.bytes_written;
  return static_cast<double>(written) / static_cast<double>(user_bytes_written);
}

namespace {

std::string Bytes(uint64_t n) {
  char buf[32];
  if (n >= (1ull << 30)) {
    std::snprintf(buf, sizeof(buf), "%.1f GiB", static_cast<double>(n) / (1ull << 30));
  } else if (n >= (1ull << 20)) {
    std::snprintf(buf, sizeof(buf), "%.1f MiB", static_cast<double>(n) / (1ull << 20));
  } else if (n >= (1ull << 10)) {
    std::snprintf(buf, sizeof(buf), "%.1f KiB", static_cast<double>(n) / (1ull << 10));
  } else {
    std::snprintf(buf, sizeof(buf), "%llu B", static_cast<unsigned long long>(n));
  }
  return buf;
}

}  // namespace

std::string Stats::ToString() const {
  std::string out = "level  files       size  compactions       read    written\n";
  char line[160];
  for (size_t i = 0; i < levels.size(); i++) {
    const LevelStats& l = levels[i];
    if (l.files == 0 && l.compactions == 0 && l.bytes_written == 0) continue;
    std::snprintf(line, sizeof(line), "L%-4zu %6d %10s %12llu %10s %10s\n", i, l.files, Bytes(l.bytes).c_str(),
                  static_cast<unsigned long long>(l.compactions), Bytes(l.bytes_read).c_str(),
                  Bytes(l.bytes_written).c_str());
    out += line;
  }
  std::snprintf(line, sizeof(line), "memtables: %s (%d immutable)\n", Bytes(memtable_bytes).c_str(),
                immutable_memtables);
  out += line;
  std::snprintf(line, sizeof(line), "block cache: %s, hit rate %.1f%% (%llu hits, %llu misses), bloom useful %llu\n",
                Bytes(block_cache_bytes).c_str(), 100.0 * block_cache_hit_rate(),
                static_cast<unsigned long long>(block_cache_hits), static_cast<unsigned long long>(block_cache_misses),
                static_cast<unsigned long long>(bloom_useful));
  out += line;
  std::snprintf(line, sizeof(line), "writes: %llu batches, %s user data, %s WAL, %llu WAL syncs, write amp %.2f\n",
                static_cast<unsigned long long>(writes), Bytes(user_bytes_written).c_str(),
                Bytes(wal_bytes_written).c_str(), static_cast<unsigned long long>(wal_syncs), write_amplification());
  out += line;
  std::snprintf(line, sizeof(line), "background: %llu flushes, %llu compactions; stalls: %.3f s (%llu slowdowns, %llu stops)\n",
                static_cast<unsigned long long>(flushes), static_cast<unsigned long long>(compactions),
                static_cast<double>(stall_micros) / 1e6, static_cast<unsigned long long>(slowdowns),
                static_cast<unsigned long long>(stops));
  out += line;
  std::snprintf(line, sizeof(line), "last sequence: %llu\n", static_cast<unsigned long long>(last_sequence));
  out += line;
  std::snprintf(line, sizeof(line), "data blocks read: %llu\n", static_cast<unsigned long long>(data_blocks_read));
  out += line;
  std::snprintf(line, sizeof(line), "data held: %llu entries, %s (keys + values, every version)\n",
                static_cast<unsigned long long>(entries), Bytes(data_bytes).c_str());
  out += line;
  std::snprintf(line, sizeof(line), "tombstones: %llu in tables; %llu tombstone compactions, %llu requests queued\n",
                static_cast<unsigned long long>(tombstones), static_cast<unsigned long long>(tombstone_compactions),
                static_cast<unsigned long long>(tombstone_requests));
  out += line;
  if (merkle_leaves > 0) {
    std::snprintf(line, sizeof(line),
                  "merkle: %llu leaves (%llu dirty), %llu recomputed, %llu keys scanned, %s persisted\n",
                  static_cast<unsigned long long>(merkle_leaves), static_cast<unsigned long long>(merkle_dirty_leaves),
                  static_cast<unsigned long long>(merkle_leaves_recomputed),
                  static_cast<unsigned long long>(merkle_keys_scanned), Bytes(merkle_bytes_persisted).c_str());
    out += line;
  }
  if (!background_error.empty()) out += "background error: " + background_error + "\n";
  return out;
}

}  // namespace kvring::lsm
