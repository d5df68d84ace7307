// lsm/compaction_job.h — rewriting sorted runs: a compaction merges its input
// files into new files at the output level; a flush writes a memtable to one
// table. Both drop entries no reader can see any more (ObsoleteEntryFilter); a
// compaction also offers Options::compaction_filter the newest value of each key
// no snapshot sees, and writes a purged one as a deletion marker. Both drop every
// entry a range deletion in force when the job started covers, whatever the
// snapshots (DB::DeleteRange is not snapshot-isolated), and stamp their outputs
// with those deletions' epoch (FileMetaData::range_epoch).
// Runs without the DB mutex; the caller installs the result with LogAndApply.
// Thread safety: one job per thread (the compaction or flush thread).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/env.h"
#include "base/status.h"
#include "lsm/compaction.h"
#include "lsm/dbformat.h"
#include "lsm/engine.h"
#include "lsm/iterator.h"
#include "lsm/range_deletions.h"
#include "lsm/table_cache.h"
#include "lsm/version_edit.h"

namespace kvring::lsm {

// Decides, entry by entry in InternalKeyCompare order, whether a rewrite may drop
// an entry: a version hidden by a newer version of the same key that every
// snapshot sees, or a tombstone that every snapshot sees when no deeper level
// may hold the key (base level).
class ObsoleteEntryFilter {
 public:
  explicit ObsoleteEntryFilter(SequenceNumber smallest_snapshot) : smallest_snapshot_(smallest_snapshot) {}
  // is_base_level is called (at most once, in key order) only for tombstones.
  bool ShouldDrop(const ParsedInternalKey& key, const std::function<bool()>& is_base_level);
  // The entry last given to ShouldDrop was its user key's newest in the input.
  bool newest_of_key() const { return newest_of_key_; }

 private:
  const SequenceNumber smallest_snapshot_;
  std::string current_user_key_;
  bool has_current_ = false;
  SequenceNumber last_sequence_for_key_ = kMaxSequenceNumber;
  bool newest_of_key_ = false;
};

struct JobContext {
  base::Env* env = nullptr;
  std::string dbname;
  const Options* options = nullptr;
  TableCache* table_cache = nullptr;
  // Hands out a file number and protects the file from obsolete-file deletion
  // until the job's edit is installed (takes the DB mutex).
  std::function<uint64_t()> new_file_number;
  const std::atomic<bool>* shutting_down = nullptr;
  // The newest live snapshot's sequence when the job started, 0 when none: the
  // compaction filter sees only values above it (no snapshot reads them).
  SequenceNumber newest_snapshot = 0;
  // Stamped on the outputs as FileMetaData::filter_epoch.
  uint64_t filter_epoch = 0;
  // The range deletions in force when the job started (null: none); their
  // max_epoch() is stamped on the outputs as FileMetaData::range_epoch.
  std::shared_ptr<const RangeDeletions> range_deletions;
};

struct JobStats {
  uint64_t bytes_read = 0;
  uint64_t bytes_written = 0;
  uint64_t entries_in = 0;
  uint64_t entries_dropped = 0;
  uint64_t entries_purged = 0;  // rewritten as deletion markers by the compaction filter
  uint64_t entries_range_deleted = 0;  // dropped because a range deletion covers them
  uint64_t bytes_range_deleted = 0;    // their keys and values
  int files_written = 0;
  std::vector<uint64_t> file_numbers;  // every number handed out (to unprotect)
};

// Merges the compaction's inputs; on success adds the input deletions and the
// outputs to c->edit(). Errors name the file that failed.
[[nodiscard]] base::Status RunCompaction(const JobContext& ctx, Compaction* c, SequenceNumber smallest_snapshot,
                                         JobStats* stats);

// Writes a memtable's entries (iter, internal keys) to one table at `level`'s
// table options. meta->file_size == 0 when every entry was dropped (no file).
[[nodiscard]] base::Status BuildTable(const JobContext& ctx, Iterator* iter, int level,
                                      SequenceNumber smallest_snapshot, FileMetaData* meta, JobStats* stats);

}  // namespace kvring::lsm
