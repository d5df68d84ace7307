// lsm/compaction.h — choosing what to compact (leveled compaction):
//   - L0 is compacted when it holds l0_compaction_trigger files (its files
//     overlap, so every L0 file overlapping the chosen range goes in);
//   - Ln (n >= 1) when its bytes exceed MaxBytesForLevel(n) = max_bytes_level1 *
//     level_size_ratio^(n-1); files are taken round-robin after the level's
//     compaction pointer;
//   - inputs at level n+1 are every file overlapping the inputs' user-key range;
//     the level-n side grows when that adds no level n+1 file;
//   - outputs are cut at target_file_bytes and when they would overlap more than
//     MaxGrandparentOverlapBytes of level n+2 (so a later compaction stays small),
//     and only between two user keys: a user key never spans two files at L1+.
// Tombstone compactions (DB::CompactTombstones, asked for when tombstones may
// be purged) run when no compaction is due by size: the shallowest table of the
// request's range holding a tombstone at or below its sequence goes into the next
// level (at L0 with every overlapping L0 file), so deletion markers travel down to
// the versions they hide; the deepest level holding data (at least L1) is
// rewritten in place, each table once per request (see TombstoneRequest).
// Range deletions (DB::DeleteRange) come before compactions by size: first one
// edit removes, without reading them, every table wholly inside a fragment whose
// entries are all at or below its sequence (drops_files()); then the shallowest
// table that may still hold a covered entry (a fragment overlaps it, its smallest
// sequence is at or below the fragment's, and the job that wrote it did not know
// the fragment: FileMetaData::range_epoch) is rewritten without them: at L0 into
// L1 with the overlapping L0 tables (an L0 table rewritten in place would look
// newer than it is), deeper in place. Each table is rewritten once per fragment.
// Executing a compaction is lsm/compaction_job.h.
// Thread safety: a Compaction is used by one thread (the compaction thread);
// picking runs under the DB mutex (through VersionSet).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lsm/engine.h"
#include "lsm/range_deletions.h"
#include "lsm/version_edit.h"

namespace kvring::lsm {

class Version;

uint64_t MaxBytesForLevel(const Options& options, int level);
uint64_t MaxGrandparentOverlapBytes(const Options& options);
// A compaction's inputs may grow up to this many bytes when widening level n.
uint64_t ExpandedCompactionByteSizeLimit(const Options& options);
uint64_t TotalFileBytes(const std::vector<FileRef>& files);

class Compaction {
 public:
  // output_level: level + 1, or level itself for an in-place rewrite (then
  // inputs(1) stays empty).
  Compaction(const Options& options, std::shared_ptr<const Version> input_version, int level, int output_level);
  Compaction(const Options& options, std::shared_ptr<const Version> input_version, int level)
      : Compaction(options, std::move(input_version), level, level + 1) {}

  int level() const { return level_; }
  int output_level() const { return output_level_; }
  const std::vector<FileRef>& inputs(int which) const { return inputs_[which]; }
  std::vector<FileRef>* mutable_inputs(int which) { return &inputs_[which]; }
  std::vector<FileRef>* mutable_grandparents() { return &grandparents_; }
  const std::shared_ptr<const Version>& input_version() const { return input_version_; }
  // Compaction pointers and, once run, deletions and outputs.
  VersionEdit* edit() { return &edit_; }
  uint64_t max_output_file_bytes() const;
  bool manual() const { return manual_; }
  void set_manual(bool manual) { manual_ = manual; }
  // The edit only removes tables a range deletion covers whole: nothing is read
  // or written (inputs(0) lists them, of any level, for the statistics).
  bool drops_files() const { return drops_files_; }
  void set_drops_files(bool drops) { drops_files_ = drops; }

  // One input file, nothing to merge with at the output level and little
  // grandparent overlap: the file can move down without being rewritten.
  bool IsTrivialMove() const;
  // Adds every input file as a deletion to *edit.
  void AddInputDeletions(VersionEdit* edit) const;
  // True when no level below the output level may hold user_key, so a tombstone
  // for it can be dropped. REQUIRES: calls come in increasing user-key order.
  bool IsBaseLevelForKey(std::string_view user_key);
  // True when an output file should end before internal_key (grandparent overlap).
  // REQUIRES: calls come in increasing key order.
  bool ShouldStopBefore(std::string_view internal_key);
  uint64_t input_bytes() const { return TotalFileBytes(inputs_[0]) + TotalFileBytes(inputs_[1]); }
  std::string DebugString() const;

 private:
  const Options& options_;
  const std::shared_ptr<const Version> input_version_;
  const int level_;
  const int output_level_;
  bool manual_ = false;
  bool drops_files_ = false;
  std::vector<FileRef> inputs_[2];
  std::vector<FileRef> grandparents_;
  VersionEdit edit_;
  // ShouldStopBefore state.
  size_t grandparent_index_ = 0;
  bool seen_key_ = false;
  uint64_t overlapped_bytes_ = 0;
  // IsBaseLevelForKey state: per level, the first file that may still hold a key.
  std::vector<size_t> level_ptrs_;
};

// Picking, given a version with its scores computed and the per-level compaction
// pointers (updated in place, and recorded in the compaction's edit).
// Null when nothing needs compacting.
std::unique_ptr<Compaction> PickCompaction(const Options& options, const std::shared_ptr<const Version>& version,
                                           std::vector<std::string>* compact_pointers);
// A manual compaction of the files of `level` overlapping [begin, end] (user keys,
// null = unbounded) into level + 1; null when there are none.
std::unique_ptr<Compaction> PickRangeCompaction(const Options& options, const std::shared_ptr<const Version>& version,
                                                int level, const std::string* begin, const std::string* end);

// A DB::CompactTombstones request: user keys, inclusive. epoch numbers the
// requests: a deepest-level table whose filter_epoch is at least it was written
// by a compaction that started after the request (and saw at least as much of the
// purge rule), so it is not rewritten for it.
struct TombstoneRequest {
  std::string begin, end;
  SequenceNumber sequence = 0;
  uint64_t epoch = 0;
};
// The next compaction for request (see the top of this file); null when none is left.
std::unique_ptr<Compaction> PickTombstoneCompaction(const Options& options,
                                                    const std::shared_ptr<const Version>& version,
                                                    const TombstoneRequest& request);

// Whether table f may hold an entry a fragment of deletions covers.
bool MayHoldRangeDeleted(const FileMetaData& f, const RangeDeletions& deletions);
// The next piece of range deletion work (see the top of this file); null when none is left.
std::unique_ptr<Compaction> PickRangeDeletionCompaction(const Options& options,
                                                        const std::shared_ptr<const Version>& version,
                                                        const RangeDeletions& deletions);
// The begin keys of the fragments nothing may hold a covered entry of any more:
// no table (MayHoldRangeDeleted) and no memtable (oldest_memtable_sequence: the
// smallest sequence any memtable may hold).
std::vector<std::string> ObsoleteRangeDeletions(const Version& version, const RangeDeletions& deletions,
                                                SequenceNumber oldest_memtable_sequence);

}  // namespace kvring::lsm
