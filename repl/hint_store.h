// repl/hint_store.h — durable, bounded hints for hinted handoff (sloppy quorum):
// "owner needs key K", kept in a second LSM engine under DATA/hints/ (why a second
// engine: docs/formats/layout.md; the records: repl/hint_record.h and
// docs/formats/hints.md). A replayer lists an owner's hints once the owner is up
// again, sends it this node's current set of each key, and removes each hint
// once the owner acknowledged it durably.
//
// One record per (owner, key): a repeated Add updates it (keeps first_us, raises
// last_us and seq, sets bytes), so a key is replayed once however many writes its
// owner missed. Every change of a record is a read-modify-write under a striped
// mutex picked by hash(engine key); the caller's thread tries it with the engine
// read in no-I/O mode and hands it to the I/O pool when the read needs the disk
// (or the stripe is busy). Bounds (per owner, total) are checked and reserved
// under one accounting mutex (lock order: stripe, then accounting), so
// concurrent Adds never overshoot them. A hint over a bound is dropped and
// counted: the caller's write never fails because the hint store is full
// (anti-entropy repairs that replica later).
//
// Callbacks (AddDone, RemoveDone) always run on the Executor passed with the call,
// through Executor::Post, never inside Add or Remove (unlike ReplicaStore, there
// is no inline completion: hints are the degraded path, and one contract for
// every caller thread is worth a queued task); the engine's durability callback,
// which may fire on an engine thread or inside FlushWal, only posts.
// Thread safety: thread-safe; every method may be called from any thread. List
// and Expire block on the disk (call them from an I/O thread); Add and Remove
// never wait for the disk (only, like any engine write, while the engine stalls
// writes); Stats, Totals and Owners only take a mutex. With manual_wal_flush,
// the owner of the store calls FlushWal once per event-loop iteration, as for
// the data engine.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/env.h"
#include "base/logging.h"
#include "base/mutex.h"
#include "base/status.h"
#include "base/thread_annotations.h"
#include "base/thread_pool.h"
#include "lsm/engine.h"
#include "repl/hint_record.h"
#include "repl/transport.h"

namespace kvring::repl {

struct Hint {
  std::string owner;
  std::string key;
  uint64_t first_us = 0;
  uint64_t last_us = 0;
  uint64_t bytes = 0;
  uint64_t seq = 0;

  friend bool operator==(const Hint&, const Hint&) = default;
};

enum class AddOutcome : uint8_t {
  kStored,                 // the record exists and covers the write
  kDroppedOverOwnerBound,  // not stored: the owner's pending bytes would pass max_bytes_per_owner
  kDroppedOverTotalBound,  // not stored: all pending bytes would pass max_bytes_total
  kFailed,                 // the status says why; nothing changed
};
const char* AddOutcomeName(AddOutcome outcome);

enum class RemoveOutcome : uint8_t {
  kRemoved,    // the record had the listed seq and is deleted (counted as replayed)
  kKeptNewer,  // an Add raised the seq since the listing: the owner missed a newer write
  kAbsent,     // no record (removed already, or dropped by the window)
  kFailed,     // the status says why; nothing changed
};
const char* RemoveOutcomeName(RemoveOutcome outcome);

struct HintStoreOptions {
  std::string dir;  // DATA/hints
  lsm::SyncMode sync_mode = lsm::SyncMode::kInterval;  // the node's sync mode
  uint32_t sync_interval_ms = 5;
  bool manual_wal_flush = false;  // see lsm::Options::manual_wal_flush and FlushWal()
  bool open_on_full_disk = false;  // see lsm::Options::open_on_full_disk
  uint64_t max_bytes_per_owner = 128ull << 20;
  uint64_t max_bytes_total = 1ull << 30;
  uint64_t window_micros = 3ull * 3600 * 1000 * 1000;  // older hints are dropped; > 0
  // The hint engine is small and off the hot path: small buffers.
  size_t memtable_bytes = 4 << 20;
  size_t block_cache_bytes = 4 << 20;
};

// Process-lifetime counters (not persisted) next to the pending state (rebuilt at Open).
struct HintStats {
  uint64_t pending = 0;            // records
  uint64_t pending_bytes = 0;      // sum of their `bytes`
  uint64_t oldest_first_us = 0;    // the oldest first_us, floored to the second; 0 when none
  uint64_t oldest_age_micros = 0;  // wall now - oldest_first_us; 0 when none
  uint64_t replayed = 0;           // records removed by Remove
  uint64_t dropped_over_owner_bound = 0;
  uint64_t dropped_over_total_bound = 0;
  uint64_t dropped_window = 0;     // records older than the window (List, Expire, Add)
  uint64_t dropped_damaged = 0;    // unreadable records deleted by Expire
  uint64_t estimates_kept = 0;     // Adds to a record whose growth a bound refused: old bytes kept
};

struct HintTotals : HintStats {
  uint64_t owners = 0;          // owners with hints pending
  uint64_t adds = 0;            // Add calls
  uint64_t offloaded = 0;       // Adds and Removes whose read needed the disk (ran on the I/O pool)
  uint64_t damaged_seen = 0;    // times a damaged record was met (Open, List, Add, Remove, Expire)
};

class HintStore {
 public:
  // Opens (creating) the hint engine in options.dir with options.sync_mode, and
  // rebuilds the per-owner accounting by one scan of it. *env, *clock, *io and
  // *logger must outlive the store. Busy when another store holds the directory.
  [[nodiscard]] static base::Result<std::unique_ptr<HintStore>> Open(const HintStoreOptions& options,
                                                                     base::Env* env, base::Clock* clock,
                                                                     base::ThreadPool* io, base::Logger* logger);
  HintStore(const HintStore&) = delete;
  HintStore& operator=(const HintStore&) = delete;
  // Waits for the work it handed to the I/O pool, then closes the engine, which
  // resolves every pending durability callback (so each executor that was passed
  // must outlive the store). REQUIRES: no other call is running or starts.
  ~HintStore();

  // status OK: the outcome; stored hints are durable as the sync mode requires. A
  // non-OK status with kStored: the record was applied (List sees it) but its
  // durability failed, so a crash may lose it.
  using AddDone = std::function<void(base::Status, AddOutcome)>;
  // Records that `owner` missed a write of `key`; `bytes`: the size of what a
  // replay will send (the encoded sibling set). Non-blocking. done runs on ex
  // once the record is durable, or as soon as the hint was dropped over a bound.
  void Add(Executor* ex, std::string_view owner, std::string_view key, uint64_t bytes, AddDone done);

  // The hints pending for `owner` in key order, strictly after `after_key` (empty:
  // from the start), at most `limit`. Blocking. Hints older than the window are
  // dropped when met (deleted, counted) and not listed. Damaged records are
  // skipped, logged and, when `damaged` is given, appended to it (Corruption or
  // NotSupported naming the owner and key); they do not fail the call. A non-OK
  // status is an engine error (the hints listed up to it are in *out).
  [[nodiscard]] base::Status List(std::string_view owner, std::string_view after_key, size_t limit,
                                  std::vector<Hint>* out, std::vector<base::Status>* damaged = nullptr);

  using RemoveDone = std::function<void(base::Status, RemoveOutcome)>;
  // Deletes hint's record if its seq is still hint.seq. Non-blocking; done runs
  // on ex once the delete is durable, or at once when nothing is deleted.
  void Remove(Executor* ex, const Hint& hint, RemoveDone done);

  // Drops the hints older than the window (counted in dropped_window) and the
  // damaged records (dropped_damaged; a newer version's records are kept). Blocking:
  // scans the owners whose oldest hint may be expired, everything after damage was met.
  [[nodiscard]] base::Status Expire();

  // Owners with hints pending, sorted.
  std::vector<std::string> Owners() const;
  HintStats Stats(std::string_view owner) const;
  HintTotals Totals() const;

  // With manual_wal_flush: hands the buffered WAL records to the OS and runs their
  // callbacks (which post the Adds' and Removes' done). A no-op otherwise.
  [[nodiscard]] base::Status FlushWal();
  // Writes the memtable to a table (a clean stop, tests).
  [[nodiscard]] base::Status Flush();

 private:
  struct Counters {
    uint64_t replayed = 0, dropped_owner = 0, dropped_total = 0, dropped_window = 0, dropped_damaged = 0,
             estimates_kept = 0;
  };
  struct OwnerState {
    uint64_t count = 0;
    uint64_t bytes = 0;
    std::map<uint64_t, uint64_t> first_secs;  // first_us / 1e6 -> records
    Counters counters;
  };
  // One accounting change: a record's contribution removed and/or added, plus counters.
  struct Change {
    std::string owner;
    std::optional<HintRecord> removed;
    std::optional<HintRecord> added;
    Counters counters;
  };
  // A record as read under its stripe lock.
  struct Stored {
    enum class State { kAbsent, kLive, kExpired, kDamaged } state = State::kAbsent;
    HintRecord record;
    base::Status damage;  // kDamaged: Corruption or NotSupported
  };
  // A read-modify-write step, run under the record's stripe lock.
  using RecordStep = std::function<void(const Stored& stored)>;
  using StepFailed = std::function<void(base::Status)>;
  struct Decision;

  HintStore(const HintStoreOptions& options, std::unique_ptr<lsm::DB> db, base::Clock* clock,
            base::ThreadPool* io, base::Logger* logger);

  base::Status Rebuild();
  // Whether a record first missed at first_us is older than the window.
  bool IsExpired(uint64_t first_us, uint64_t now_us) const;
  base::Status LoadRecord(bool no_io, const std::string& engine_key, Stored* out);
  // Runs step under the stripe lock with the record read: on the calling thread
  // when the read needs no I/O, else on the I/O pool.
  void WithRecord(std::string engine_key, RecordStep step, StepFailed failed);
  bool TryWithRecord(const std::string& engine_key, const RecordStep& step, const StepFailed& failed,
                     bool allow_io);
  // TryWithRecord's body. REQUIRES: the key's stripe is held (a stripe picked by
  // hash is an expression the thread-safety analysis cannot name).
  bool WithRecordLocked(const std::string& engine_key, const RecordStep& step, const StepFailed& failed,
                        bool allow_io);
  void AddStep(Executor* ex, const std::string& engine_key, const std::string& owner, uint64_t bytes,
               const Stored& stored, const AddDone& done);
  // Decides what an Add does and applies it to the accounting (reserving room).
  Decision DecideAdd(const std::string& owner, uint64_t bytes, const Stored& stored, uint64_t now_us);
  void DecideUpdateLocked(const OwnerState& state, const HintRecord& old, uint64_t bytes, uint64_t now_us,
                          Decision* d) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DecideNewLocked(const OwnerState& state, uint64_t bytes, uint64_t now_us, Decision* d)
      EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RemoveStep(Executor* ex, const std::string& engine_key, const std::string& owner, uint64_t seq,
                  const Stored& stored, const RemoveDone& done);
  // Writes batch (one record's put or delete) whose accounting `change` is
  // already applied; reverts the change when the engine refuses the write.
  // REQUIRES: the record's stripe lock is held.
  base::Status WriteOrRevert(lsm::WriteBatch* batch, const Change& change, lsm::WriteCallback on_durable);
  // Under the record's stripe lock: drops it if it is (still) expired, or (with
  // drop_damaged) still damaged with Corruption. Returns whether it dropped it.
  bool DropIfStale(const std::string& engine_key, bool drop_damaged);
  base::Status ExpireRange(const std::string& start, const std::string* upper, uint64_t* dropped);
  void NoteDamage(const base::Status& damage);

  void ApplyLocked(const Change& change, bool revert) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The bound an owner's pending bytes would pass by going from `removed` to
  // `added` bytes, if any.
  std::optional<AddOutcome> OverBoundLocked(const OwnerState& owner, uint64_t removed, uint64_t added) const
      EXCLUSIVE_LOCKS_REQUIRED(mu_);
  HintStats StatsLocked(const OwnerState& owner, uint64_t now_us) const EXCLUSIVE_LOCKS_REQUIRED(mu_);
  base::Mutex& StripeFor(std::string_view engine_key);
  void BeginOffload();
  void EndOffload();

  const HintStoreOptions options_;
  std::unique_ptr<lsm::DB> db_;
  base::Clock* const clock_;
  base::ThreadPool* const io_;
  base::Logger* const logger_;

  static constexpr size_t kStripes = 256;
  std::array<base::Mutex, kStripes> stripes_;
  // Seqs come from one counter, set above every stored seq at Open, so a record
  // deleted and added again never reuses a seq a replayer may still hold.
  std::atomic<uint64_t> next_seq_{1};
  std::atomic<uint64_t> adds_{0}, offloaded_steps_{0}, damaged_seen_{0};
  // Set when a damaged record was met: the next Expire scans everything.
  std::atomic<bool> damage_pending_{false};

  mutable base::Mutex mu_;  // the accounting
  std::map<std::string, OwnerState, std::less<>> owners_ GUARDED_BY(mu_);
  uint64_t total_bytes_ GUARDED_BY(mu_) = 0;

  base::Mutex offload_mu_;
  base::CondVar offload_cv_;
  int offloaded_ GUARDED_BY(offload_mu_) = 0;  // tasks on the I/O pool
};

}  // namespace kvring::repl
