// lsm/db_impl.h — the engine behind lsm/engine.h's DB interface.
//
// Threads:
//   - callers: Put/Delete/Write join a writer queue (group commit: the front
//     writer, the leader, writes one WAL record for every queued batch and
//     applies them to the memtable; the others wait); Get and iterators read
//     lock-free memtables and ref-counted Versions after a short mutex section.
//   - the syncer (lsm/log_syncer.h): fdatasyncs the WAL for sync writes and
//     WriteCallbacks, and every sync_interval_ms in kInterval mode.
//   - the flush thread: writes immutable memtables to SSTables, oldest first.
//   - the compaction thread: leveled compaction and CompactRange requests.
//   - Merkle index (Options::merkle, db_impl_merkle.cc): the write leader marks
//     the leaves of a group dirty once it is visible; MerkleLeaves recomputes
//     dirty leaves on the caller's thread; the flush thread persists the index.
//     Guarded by merkle_mu_ (taken after mu_ when both are held).
// Background errors (flush, compaction, manifest) are retried with backoff; while
// one stands, a writer that would have to wait for background work fails fast
// with it instead. A failed WAL append or sync rolls to a fresh WAL (and
// memtable) on the next write. Details: docs/architecture.md, "Engine".
// Thread safety: thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <deque>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "lsm/cache.h"
#include "lsm/compaction_job.h"
#include "lsm/engine.h"
#include "lsm/log_syncer.h"
#include "lsm/memtable.h"
#include "lsm/merkle_index.h"
#include "lsm/table_cache.h"
#include "lsm/version_set.h"

namespace kvring::lsm {

class DBImpl final : public DB {
 public:
  static constexpr int kMaxImmutableMemTables = 16;

  DBImpl(const Options& options, std::string dbname);
  ~DBImpl() override;

  // Locks the directory, recovers, starts the background threads.
  [[nodiscard]] base::Status Open();

  base::Status Put(const WriteOptions& options, std::string_view key, std::string_view value) override;
  base::Status Delete(const WriteOptions& options, std::string_view key) override;
  base::Status Write(const WriteOptions& options, WriteBatch* batch, WriteCallback on_durable) override;
  base::Status DeleteRanges(const std::vector<KeyRange>& ranges) override;
  base::Status Get(const ReadOptions& options, std::string_view key, std::string* value) override;
  std::unique_ptr<Iterator> NewIterator(const ReadOptions& options) override;
  const Snapshot* GetSnapshot() override;
  void ReleaseSnapshot(const Snapshot* snapshot) override;
  base::Status Flush() override;
  base::Status CompactRange(const std::string* begin, const std::string* end) override;
  void CompactTombstones(std::string begin, std::string end, SequenceNumber sequence) override;
  base::Status SyncWal() override;
  base::Status FlushWal() override;
  Stats GetStats() override;
  base::Status SetMerkleSplits(std::vector<uint64_t> splits) override;
  base::Status MerkleLeaves(uint64_t begin, uint64_t end, std::vector<MerkleLeaf>* leaves) override;

  // Tests: the live files per level ("L0: 5 7\nL1: 4\n").
  std::string DebugLevels();

 private:
  struct Writer;
  struct ManualCompaction {
    int level = 0;
    const std::string* begin = nullptr;  // user keys; null = unbounded
    const std::string* end = nullptr;
    bool done = false;
    base::Status status;
  };
  struct ImmEntry {
    MemTable* mem;
    uint64_t log_number;  // the WAL holding its writes
    SequenceNumber last_sequence;  // of its newest write
    SequenceNumber first_sequence;  // no write in it is older
  };
  struct LevelCounters {
    uint64_t compactions = 0;
    uint64_t bytes_read = 0;
    uint64_t bytes_written = 0;
  };

  // --- open (db_impl_open.cc) ---
  struct Recovery;
  base::Status RecoverLocked() EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The WALs at or past the manifest's log number, oldest first.
  base::Status LogsToReplay(std::vector<uint64_t>* logs) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Replays logs and installs the outcome: as tables in a new manifest, or (in
  // memory, for a full disk) as one immutable memtable over the old manifest.
  base::Status RecoverWalsLocked(const std::vector<uint64_t>& logs, bool in_memory) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The last sequence, the memtable and the fresh WAL (none, on a full disk in
  // memory mode: the first write creates it).
  base::Status StartFreshLogLocked(const Recovery& r) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Deletes the tables recovery wrote but no manifest names.
  void RemoveRecoveredTablesLocked(const VersionEdit& edit) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  base::Status CheckLiveFilesExist() EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // paranoid_checks: every live table must open (footer, index, filter intact).
  base::Status CheckTablesOpen() EXCLUSIVE_LOCKS_REQUIRED(mu_);
  base::Status ReplayLog(uint64_t number, Recovery* r);
  // Writes r->mem to an L0 table during recovery (mutex not held) and adds it to r->edit.
  base::Status WriteRecoveredTable(Recovery* r);
  // The log number a flush of the newest immutable memtable records.
  uint64_t LogNumberAfterImmLocked() EXCLUSIVE_LOCKS_REQUIRED(mu_);
  base::Status NewLogFileLocked(std::shared_ptr<LogFile>* log)
      EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // --- writes (db_impl_write.cc) ---
  base::Status WriteInternal(const WriteOptions& options, Writer* w, WriteCallback on_durable);
  // The leader's work: room, group record, WAL append, memtable insert. Sets
  // the group's last writer and where its record ends in which log.
  base::Status LeadGroupLocked(Writer* w, Writer** last,
                               std::shared_ptr<LogFile>* log, uint64_t* end) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // After the write is applied: waits for (or registers a callback on) its sync.
  base::Status AwaitDurability(const WriteOptions& options, Writer* w, WriteCallback on_durable);
  base::Status MakeRoomForWrite(bool force) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Moves the memtable (when not empty) to the immutable list and starts a new
  // WAL for the next writes.
  base::Status RotateLocked() EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // manual_wal_flush: hands log's buffered bytes to the OS and publishes them to
  // the syncer. The write leader's job (nobody else appends meanwhile).
  base::Status FlushLogBuffer(LogFile* log);
  // manual_wal_flush, and a sync mode that leaves some writes unsynced: with
  // kAlways every write flushes (and syncs) as usual.
  bool DefersWalFlush() const {
    return options_.manual_wal_flush && options_.sync_mode != SyncMode::kAlways;
  }
  // Builds the group's WAL payload; returns the last writer of the group.
  Writer* BuildGroupLocked(std::string_view* record) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  base::Status BackgroundErrorLocked() const EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // DeleteRange as the write leader: rotates the memtable, records the deletion
  // at the last sequence in the manifest, marks its Merkle leaves dirty.
  base::Status LeadRangeDeleteLocked(const std::vector<KeyRange>& ranges) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Get for a key a range deletion in force may hide: through an iterator,
  // which filters what the deletions cover.
  base::Status GetThroughIterator(const ReadOptions& options, std::string_view key, std::string* value);

  // --- Merkle index (db_impl_merkle.cc) ---
  struct MerkleTask;
  // Open: the persisted index when it matches the manifest, else every leaf dirty.
  void LoadMerkleLocked() EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Marks the leaves of every key of a write batch's record dirty.
  void MarkMerkleDirty(std::string_view record) LOCKS_EXCLUDED(merkle_mu_);
  // Marks the leaves of [begin, end) dirty (an empty end: to the end).
  void MarkMerkleRangeDirty(std::string_view begin, std::string_view end) LOCKS_EXCLUDED(merkle_mu_);
  // Writes the index as valid with a manifest whose log number is log_number,
  // every write at or below `sequence` durable. Failures are logged (the next
  // open then finds the file stale and starts with every leaf dirty).
  base::Status PersistMerkle(uint64_t log_number, SequenceNumber sequence) LOCKS_EXCLUDED(merkle_mu_);
  // Close: persists the index once every write is durable.
  void PersistMerkleAtClose();
  // The leaves overlapping [begin, end); the ones to compute by scan as tasks.
  void CollectMerkleLeavesLocked(uint64_t begin, uint64_t end, std::vector<MerkleLeaf>* leaves,
                                 std::vector<MerkleTask>* tasks) EXCLUSIVE_LOCKS_REQUIRED(merkle_mu_);
  base::Status ScanMerkleTasks(const Snapshot* snapshot, std::vector<MerkleTask>* tasks,
                               std::vector<MerkleLeaf>* leaves);
  void StoreMerkleTasks(uint64_t generation, SequenceNumber at, const std::vector<MerkleTask>& tasks,
                        const std::vector<MerkleLeaf>& leaves) LOCKS_EXCLUDED(merkle_mu_);
  bool MerkleDigest(std::string_view key, std::string_view value, uint64_t* digest) const;
  void AddMerkleStats(Stats* stats) LOCKS_EXCLUDED(merkle_mu_);

  // --- background (db_impl_background.cc) ---
  void FlushThread();
  void CompactionThread();
  // There is compaction work the compaction thread may start now.
  bool CompactionWantedLocked() const EXCLUSIVE_LOCKS_REQUIRED(mu_);
  base::Status FlushOldestLocked() EXCLUSIVE_LOCKS_REQUIRED(mu_);
  base::Status RunCompactionLocked(Compaction* c) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Manual first, then by size, then the oldest tombstone request (*tombstones
  // says whether it was one; finished requests are dropped). Null when nothing is left.
  std::unique_ptr<Compaction> PickNextCompactionLocked(ManualCompaction* manual, bool* tombstones)
      EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RemoveObsoleteFilesLocked(bool at_open) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Forgets the range deletions nothing may hold a covered entry of any more.
  void ForgetObsoleteRangeDeletionsLocked() EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Removes the tables of a drops_files() compaction from the version.
  base::Status DropCoveredFilesLocked(Compaction* c) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Waits out a retry delay (or until shutdown); doubles *backoff_ms.
  void BackoffLocked(uint32_t* backoff_ms) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  SequenceNumber SmallestSnapshotLocked() const EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // REQUIRES: deletions is the range deletions in force when the job starts.
  JobContext MakeJobContext(std::shared_ptr<const RangeDeletions> deletions);
  uint64_t NewPendingFileNumber();

  const Options options_;  // sanitized copy
  const std::string dbname_;
  base::Env* const env_;
  base::Logger* const logger_;
  std::unique_ptr<Cache> block_cache_;
  std::unique_ptr<TableCache> table_cache_;
  std::unique_ptr<base::FileLock> db_lock_;
  std::unique_ptr<LogSyncer> syncer_;

  base::Mutex mu_;
  base::CondVar bg_cv_;  // background work to do, or done
  std::atomic<bool> shutting_down_{false};
  bool opened_ = false;
  std::unique_ptr<VersionSet> versions_ GUARDED_BY(mu_);
  MemTable* mem_ GUARDED_BY(mu_) = nullptr;
  SequenceNumber mem_first_sequence_ GUARDED_BY(mu_) = 0;  // no write in mem_ is older
  std::deque<ImmEntry> imm_ GUARDED_BY(mu_);  // oldest first
  std::shared_ptr<LogFile> log_ GUARDED_BY(mu_);
  bool log_broken_ GUARDED_BY(mu_) = false;  // an append failed: roll before writing
  std::deque<Writer*> writers_ GUARDED_BY(mu_);
  std::string group_rep_ GUARDED_BY(mu_);   // the leader's scratch record
  // manual_wal_flush: callbacks of applied writes whose records may still sit in
  // a WAL's user-space buffer, oldest first; FlushWal resolves them.
  struct UnflushedAck {
    std::shared_ptr<LogFile> log;
    uint64_t end;  // the write's record ends at this byte of log
    WriteCallback callback;
  };
  std::vector<UnflushedAck> unflushed_acks_ GUARDED_BY(mu_);
  bool wal_buffered_ GUARDED_BY(mu_) = false;  // log_ holds bytes not handed to the OS
  // wal_buffered_ || acks waiting, readable without mu_ (FlushWal's fast path);
  // written under mu_.
  std::atomic<bool> flush_needed_{false};
  std::set<uint64_t> pending_outputs_ GUARDED_BY(mu_);
  std::multiset<SequenceNumber> snapshots_ GUARDED_BY(mu_);
  base::Status flush_error_ GUARDED_BY(mu_);
  base::Status compaction_error_ GUARDED_BY(mu_);
  bool compaction_running_ GUARDED_BY(mu_) = false;
  // A flush is installing a table below L0: no compaction may be picked until
  // it is in the version (its outputs could overlap the table).
  bool flush_installing_deep_ GUARDED_BY(mu_) = false;
  ManualCompaction* manual_ GUARDED_BY(mu_) = nullptr;
  std::deque<TombstoneRequest> tombstone_requests_ GUARDED_BY(mu_);
  uint64_t tombstone_compactions_ GUARDED_BY(mu_) = 0;
  uint64_t tombstone_epoch_ GUARDED_BY(mu_) = 0;  // CompactTombstones calls so far
  // A range deletion was recorded, or a flush ran while some are in force:
  // the compaction thread looks for range deletion work.
  bool range_work_pending_ GUARDED_BY(mu_) = false;
  uint64_t range_deletes_ GUARDED_BY(mu_) = 0;
  uint64_t range_deleted_files_ GUARDED_BY(mu_) = 0;
  uint64_t range_deleted_bytes_ GUARDED_BY(mu_) = 0;
  std::thread flush_thread_;
  std::thread compaction_thread_;

  const bool merkle_enabled_;  // options_.merkle.leaf_bits > 0
  base::Mutex merkle_mu_;
  std::unique_ptr<MerkleIndex> merkle_ GUARDED_BY(merkle_mu_);
  uint64_t merkle_recomputed_ GUARDED_BY(merkle_mu_) = 0;
  // Open: WAL records at or below it are already accounted for by the loaded index.
  SequenceNumber merkle_replay_floor_ = 0;
  std::atomic<uint64_t> merkle_keys_scanned_{0};
  std::atomic<uint64_t> merkle_bytes_persisted_{0};

  // Statistics.
  std::vector<LevelCounters> level_counters_ GUARDED_BY(mu_);
  uint64_t user_bytes_ GUARDED_BY(mu_) = 0;
  uint64_t wal_bytes_ GUARDED_BY(mu_) = 0;
  uint64_t writes_ GUARDED_BY(mu_) = 0;
  uint64_t flushes_ GUARDED_BY(mu_) = 0;
  uint64_t compactions_ GUARDED_BY(mu_) = 0;
  uint64_t stall_micros_ GUARDED_BY(mu_) = 0;
  uint64_t slowdowns_ GUARDED_BY(mu_) = 0;
  uint64_t stops_ GUARDED_BY(mu_) = 0;
};

// Options with out-of-range values clamped (levels, memtable counts, triggers).
Options SanitizeOptions(const Options& options);

}  // namespace kvring::lsm
