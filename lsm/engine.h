// lsm/engine.h — the public API of kvring's storage engine: one log-structured
// merge tree in one directory. Everything outside lsm/ uses only this header (and
// lsm/write_batch.h, lsm/iterator.h, which it includes).
//
// Write path: WAL append -> memtable; a full memtable becomes immutable and a
// background thread flushes it to an L0 SSTable; leveled compaction keeps L1+ sorted.
// Read path: memtable -> immutable memtables -> L0 newest first -> one file per
// level (bloom filter, index, block via the block cache). Newest version wins.
//
// Thread safety: a DB is thread-safe: any number of threads may read and write.
// Iterators and snapshots are per-thread objects.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/env.h"
#include "base/logging.h"
#include "base/status.h"
#include "lsm/iterator.h"
#include "lsm/write_batch.h"

namespace kvring::lsm {

enum class SyncMode {
  kNone,      // never fdatasync the WAL (the OS writes it back when it likes)
  kInterval,  // a background thread fdatasyncs every sync_interval_ms (group commit)
  kAlways,    // a write is acknowledged only after its WAL record is fdatasynced;
              // concurrent writers share one fdatasync (group commit)
};

// Parses "none" / "interval" / "always".
bool ParseSyncMode(std::string_view name, SyncMode* mode);
const char* SyncModeName(SyncMode mode);

enum class Compression : uint8_t { kNone = 0, kLz4 = 1 };  // on-disk values: never renumber

// The Merkle index (lsm/merkle_index.h, docs/formats/merkle.md): keys grouped
// into leaves by their first 8 bytes read as a big-endian u64 (shorter keys
// zero-padded), the key's "prefix"; leaves are the half-open prefix intervals
// between the grid {i << (64 - leaf_bits)} and the split points
// (DB::SetMerkleSplits). A write marks its leaf dirty; DB::MerkleLeaves
// recomputes dirty leaves by a scan of just that leaf.
struct MerkleOptions {
  // 0: no index. Otherwise 2^leaf_bits grid leaves (kvring: 16 -> 65,536 leaves,
  // ~15 keys per leaf at 1M keys). REQUIRES: 0 <= leaf_bits <= 20.
  int leaf_bits = 0;
  // The digest of one live entry. Returns false to leave the entry out of the
  // index (kvring: a key whose siblings are all tombstones). Null: every entry is
  // in, digest = a 64-bit hash of the value. Called on the thread that
  // recomputes a leaf; must be pure and thread-safe.
  std::function<bool(std::string_view key, std::string_view value, uint64_t* digest)> digest;
};

struct MerkleLeaf {
  uint64_t begin = 0, end = 0;  // prefix interval [begin, end); end == 0 means 2^64
  uint64_t hash = 0;            // XOR over its indexed entries of Hash64(key || digest); 0 when empty
  uint64_t keys = 0;            // indexed entries in it
};

// Called by compaction on the newest version of a key in the compaction's
// input when it is a value that no snapshot live when the compaction started
// can see (so only the current state reads it). Returns true to purge it: the
// entry is rewritten as a deletion marker with the same sequence (never simply
// dropped, so no older version of the key in a deeper level resurfaces), which
// the usual rule drops at the bottom level. Never called for deletions, for
// versions shadowed within the input, or by flushes. With a Merkle index, purge
// only entries its digest leaves out (the index is not updated). Runs on the
// compaction thread; must be thread-safe and must not call into the DB.
using CompactionFilter = std::function<bool(std::string_view key, std::string_view value, SequenceNumber sequence)>;

// True for a value that is a tombstone to the layer above (one the compaction
// filter may purge some day). Called for every value a flush or compaction
// writes; with the deletion markers, such values are counted per table so that
// DB::CompactTombstones rewrites only tables that hold some. Thread-safe, cheap.
using TombstoneClassifier = std::function<bool(std::string_view value)>;

struct Options {
  // Injected dependencies; the defaults are the real ones. Not owned.
  base::Env* env = base::Env::Default();
  base::Clock* clock = base::SystemClock::Get();
  base::Logger* logger = base::Logger::Null();

  bool create_if_missing = true;
  bool error_if_exists = false;
  // When true, corruption in the middle of the WAL or a bad block fails Open
  // instead of being reported and skipped.
  bool paranoid_checks = false;
  // When true, an Open that runs out of space (NoSpace) writing what recovery
  // writes (the tables of the replayed WALs, the fresh WAL, the new manifest)
  // still succeeds, degraded as a DB whose disk fills while it runs: the
  // replayed writes stay in one immutable memtable that reads see and the flush
  // thread writes out, retrying with backoff, once space returns; writes fail
  // with NoSpace until then. A DB that does not exist yet still fails. kvnode
  // sets it (docs/operations.md, "A full disk").
  bool open_on_full_disk = false;

  SyncMode sync_mode = SyncMode::kInterval;
  uint32_t sync_interval_ms = 5;
  // When true and sync_mode is not kAlways, writes leave their WAL record in the
  // WAL's user-space buffer until FlushWal() hands it to the OS in one write()
  // for all of them (a WriteOptions::sync write flushes first, then syncs); a
  // write's callback is then called from FlushWal, with that write()'s status. An
  // event loop calls FlushWal once per iteration, before it sends replies (RocksDB's
  // manual_wal_flush idea). Blocking writes return before their record reaches the
  // OS: a process crash loses what no FlushWal (or sync, rotation, Close) covered.
  bool manual_wal_flush = false;

  // Memory budget: memtable_bytes * (1 + max_immutable_memtables) + block_cache_bytes
  // + table cache (max_open_files handles with their pinned index/filter blocks).
  size_t memtable_bytes = 32 << 20;
  int max_immutable_memtables = 2;
  size_t block_cache_bytes = 64 << 20;
  int max_open_files = 500;

  // SSTable shape.
  size_t block_bytes = 4096;
  int block_restart_interval = 16;
  int bloom_bits_per_key = 10;  // 0 disables bloom filters
  uint64_t target_file_bytes = 8 << 20;
  // Compression per level; levels past the end use the last entry.
  std::vector<Compression> compression_per_level = {Compression::kNone, Compression::kNone,
                                                    Compression::kLz4};

  // Leveled compaction.
  int num_levels = 7;
  int l0_compaction_trigger = 4;   // compact L0 at this many files
  int l0_slowdown_trigger = 8;     // delay each write by 1ms at this many L0 files
  int l0_stop_trigger = 12;        // block writes at this many L0 files
  // The compaction thread runs this many nice levels below the caller (Linux:
  // per thread), so on a loaded machine it takes the CPU the request threads
  // leave, as RocksDB's low-priority pool does; flushes keep normal priority
  // (a late flush stalls writes). L0's slowdown and stop triggers bound how far
  // compaction may fall behind.
  int compaction_nice = 0;
  uint64_t max_bytes_level1 = 64ull << 20;
  int level_size_ratio = 10;

  MerkleOptions merkle;
  // Null: compaction keeps every live value.
  CompactionFilter compaction_filter;
  // Null: only deletion markers count as tombstones.
  TombstoneClassifier is_tombstone;
};

struct ReadOptions {
  // Read as of this snapshot; null means the latest state.
  const class Snapshot* snapshot = nullptr;
  // Verify block checksums on every read, not only when a block enters the cache.
  bool verify_checksums = false;
  // Whether blocks read for this call enter the block cache (scans pass false).
  bool fill_cache = true;
  // Return Status::Busy("needs I/O") instead of reading a block that is not in the
  // cache: lets an event loop serve cached reads inline and hand the rest to a thread.
  bool no_io = false;
  // Iterators stop before this key when set (exclusive upper bound); not owned.
  const std::string* upper_bound = nullptr;
};

// Called once the write is durable as the DB's sync mode requires (or failed).
// May run on an engine thread: keep it short and never call back into the DB.
using WriteCallback = std::function<void(base::Status)>;

struct WriteOptions {
  // Force an fdatasync of this write even when sync_mode is not kAlways.
  bool sync = false;
};

class Snapshot {
 public:
  virtual ~Snapshot() = default;
  virtual SequenceNumber sequence() const = 0;
};

struct LevelStats {
  int files = 0;
  uint64_t bytes = 0;
  uint64_t compactions = 0;
  uint64_t bytes_read = 0;     // by compactions out of this level
  uint64_t bytes_written = 0;  // by compactions and flushes into this level
};

struct Stats {
  std::vector<LevelStats> levels;
  uint64_t memtable_bytes = 0;       // active + immutable
  int immutable_memtables = 0;
  uint64_t block_cache_bytes = 0;
  uint64_t block_cache_hits = 0;
  uint64_t block_cache_misses = 0;
  uint64_t bloom_useful = 0;         // lookups a bloom filter answered "absent"
  uint64_t user_bytes_written = 0;   // keys + values given to Put/Delete/Write
  uint64_t wal_bytes_written = 0;
  uint64_t wal_syncs = 0;
  uint64_t writes = 0;               // write batches
  uint64_t flushes = 0;
  uint64_t compactions = 0;
  uint64_t stall_micros = 0;         // time writers spent delayed or blocked
  uint64_t slowdowns = 0;            // writes delayed by the L0 slowdown trigger
  uint64_t stops = 0;                // writes blocked by the L0 stop trigger or memtables
  SequenceNumber last_sequence = 0;
  std::string background_error;      // empty when none
  uint64_t data_blocks_read = 0;     // data blocks read from table files (reads, scans, compactions)
  uint64_t tombstones = 0;           // tombstones in live tables (FileMetaData::tombstones summed)
  // Entries (every version and kind) in live tables and memtables, and their user
  // keys + values: the data held, uncompressed. Tables named by a manifest written
  // before these were recorded count 0 until compaction rewrites them.
  uint64_t entries = 0;
  uint64_t data_bytes = 0;
  uint64_t tombstone_compactions = 0;  // compactions run for CompactTombstones
  uint64_t tombstone_requests = 0;     // CompactTombstones requests queued (not yet finished)
  uint64_t range_deletes = 0;          // DeleteRange(s) calls that recorded deletions: a manifest write each
  uint64_t range_deletions = 0;        // fragments in force (some table or memtable may hold what they hide)
  uint64_t range_deleted_files = 0;    // tables removed whole, never read
  uint64_t range_deleted_bytes = 0;    // their bytes, plus the entries rewrites and flushes dropped
  // The Merkle index (all 0 without one).
  uint64_t merkle_leaves = 0;
  uint64_t merkle_dirty_leaves = 0;
  uint64_t merkle_leaves_recomputed = 0;  // dirty leaves recomputed and stored
  uint64_t merkle_keys_scanned = 0;       // entries read by leaf recomputes
  uint64_t merkle_bytes_persisted = 0;    // index file bytes written

  double block_cache_hit_rate() const;
  // (WAL + flush + compaction bytes written) / user bytes written.
  double write_amplification() const;
  // A multi-line, human-readable table (kvctl stats).
  std::string ToString() const;
};

// User keys [begin, end); an empty end: no upper bound (DB::DeleteRanges).
struct KeyRange {
  std::string begin;
  std::string end;
};

class DB {
 public:
  // Opens (creating when allowed) the DB in dir, recovering from the manifest and
  // WAL. Busy when another process or DB object holds dir's LOCK file.
  [[nodiscard]] static base::Status Open(const Options& options, const std::string& dir,
                                         std::unique_ptr<DB>* db);

  DB() = default;
  DB(const DB&) = delete;
  DB& operator=(const DB&) = delete;
  // Stops background work, syncs the WAL and releases the lock. Memtables are not
  // flushed (the WAL makes them durable); call Flush() first for a fast reopen.
  virtual ~DB();

  virtual base::Status Put(const WriteOptions& options, std::string_view key, std::string_view value) = 0;
  virtual base::Status Delete(const WriteOptions& options, std::string_view key) = 0;
  // Applies the batch atomically. Without a callback: returns once the write is
  // durable as the sync mode requires. With a callback: returns once the write is
  // applied and visible to reads (or failed: then the callback is not called), and
  // the callback reports durability later, possibly from another thread, possibly
  // before Write returns. Writes from many threads are grouped into one WAL write.
  // A write is visible to readers as soon as it is applied, before its fdatasync
  // completes (also for blocking writers). If that fdatasync fails, the write (or
  // its callback) gets the error and is never reported durable, although it was
  // applied; the DB then continues on a new WAL (docs/architecture.md, "Engine").
  // May block (never on an fdatasync with a callback) while memtables or L0 are
  // full, or fail fast with the background error that keeps them full.
  virtual base::Status Write(const WriteOptions& options, WriteBatch* batch,
                             WriteCallback on_durable = nullptr) = 0;

  // Deletes every key in [begin, end) (user keys; an empty end: no upper bound)
  // at a cost that grows with the number of tables, not of keys. Every write
  // applied before the call is hidden once it returns OK (from Get, iterators
  // created after it, and the Merkle index); writes after it are visible. It is
  // durable (a manifest record) before it returns, whatever the sync mode.
  // Background work then removes the tables wholly inside the range without
  // reading them and rewrites the tables that straddle its ends; memtable
  // entries are dropped when flushed. Not snapshot-isolated: reads at a snapshot
  // taken before the call do not see the range either. Costs one memtable
  // rotation and one manifest write. InvalidArgument when begin > end; begin ==
  // end deletes nothing. On an error the deletion may or may not survive a restart.
  base::Status DeleteRange(std::string_view begin, std::string_view end) {
    return DeleteRanges({KeyRange{std::string(begin), std::string(end)}});
  }
  // DeleteRange for many ranges at the cost of one: one memtable rotation and one
  // manifest write for all of them (a cleanup deletes hundreds of ring arcs).
  // Every range is checked first: InvalidArgument naming the first bad one
  // deletes nothing. Empty ranges are skipped.
  virtual base::Status DeleteRanges(const std::vector<KeyRange>& ranges) = 0;

  // NotFound when absent or deleted.
  virtual base::Status Get(const ReadOptions& options, std::string_view key, std::string* value) = 0;
  // A forward iterator over user keys (newest visible version, tombstones hidden).
  virtual std::unique_ptr<Iterator> NewIterator(const ReadOptions& options) = 0;

  virtual const Snapshot* GetSnapshot() = 0;
  virtual void ReleaseSnapshot(const Snapshot* snapshot) = 0;

  // Writes the memtable(s) to L0 and waits for it.
  virtual base::Status Flush() = 0;
  // Compacts every file overlapping [begin, end] (null = unbounded) down the levels
  // and waits for it.
  virtual base::Status CompactRange(const std::string* begin, const std::string* end) = 0;
  // Asks the compaction thread to rewrite, when no compaction is due by size,
  // every table overlapping [begin, end] (user keys, inclusive) that holds a
  // tombstone written at or below `sequence`: such a table is compacted into the
  // next level, down to the deepest level holding data, whose tables are
  // rewritten in place (once per request). Each entry passes the compaction filter
  // on the way, and deletion markers with nothing below are dropped, so deleted
  // keys leave the disk. Returns at once; requests queue (a request for the same
  // range replaces the queued one, keeping the higher sequence). A table a
  // compaction wrote after the request was made is not rewritten for it.
  virtual void CompactTombstones(std::string begin, std::string end, SequenceNumber sequence) = 0;
  // Makes every write so far durable (fdatasync the WAL) whatever the sync mode.
  virtual base::Status SyncWal() = 0;
  // With Options::manual_wal_flush: hands every buffered WAL record to the OS and
  // then calls the callbacks of the writes it covered (on this thread). A cheap
  // no-op when nothing is buffered, and always without manual_wal_flush.
  virtual base::Status FlushWal() = 0;

  virtual Stats GetStats() = 0;

  // The Merkle index (Options::merkle). Replaces the split points (sorted or
  // not, duplicates fine). Leaves whose bounds change become dirty (recomputed
  // when next asked for). Persisted with the index. NotSupported when
  // leaf_bits == 0.
  virtual base::Status SetMerkleSplits(std::vector<uint64_t> splits);
  // Every leaf inside the prefix interval [begin, end) (end == 0: to 2^64), in
  // order, with exact hashes: dirty leaves are recomputed first by a range scan
  // of just that leaf (fill_cache = false). A begin/end that is not a leaf
  // boundary clips the leaf it falls in (that partial leaf computed by scan).
  // NotSupported when leaf_bits == 0.
  virtual base::Status MerkleLeaves(uint64_t begin, uint64_t end, std::vector<MerkleLeaf>* leaves);
};

}  // namespace kvring::lsm
