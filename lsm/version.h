// lsm/version.h — one immutable view of the live SSTables: the files of each
// level, point lookups and iterators over them, overlap queries for compaction
// picking, and the compaction scores. Readers, iterators and compactions hold a
// std::shared_ptr<const Version>; lsm/version_set.h builds and installs them.
// Thread safety: immutable once built; safe to use from many threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "lsm/compaction.h"
#include "lsm/engine.h"
#include "lsm/iterator.h"
#include "lsm/lookup_key.h"
#include "lsm/table_cache.h"
#include "lsm/version_edit.h"

namespace kvring::lsm {

class Version {
 public:
  explicit Version(int num_levels) : files_(static_cast<size_t>(num_levels)) {}

  int num_levels() const { return static_cast<int>(files_.size()); }
  // L0: newest first (descending file number). L1+: ascending, non-overlapping.
  const std::vector<FileRef>& files(int level) const { return files_[static_cast<size_t>(level)]; }
  int NumFiles(int level) const { return static_cast<int>(files(level).size()); }
  uint64_t LevelBytes(int level) const { return TotalFileBytes(files(level)); }

  enum class GetResult { kAbsent, kFound, kDeleted };
  // Looks key up in the files, newest data first; *result says what was found.
  // Errors (Busy under no_io, Corruption, IOError) name the file.
  base::Status Get(const ReadOptions& options, const LookupKey& key, TableCache* table_cache, std::string* value,
                   GetResult* result) const;
  // Appends internal iterators covering every file: one per L0 file, one per
  // non-empty deeper level. REQUIRES: the version outlives the iterators.
  void AddIterators(const ReadOptions& options, TableCache* table_cache,
                    std::vector<std::unique_ptr<Iterator>>* iters) const;

  // Files of `level` whose user-key range meets [begin, end] (null = unbounded).
  // At L0 the range grows to cover the overlapping files' ranges transitively.
  void GetOverlappingInputs(int level, const std::string_view* begin, const std::string_view* end,
                            std::vector<FileRef>* inputs) const;
  bool OverlapInLevel(int level, std::string_view smallest_user, std::string_view largest_user) const;
  // Where a flushed memtable with this user-key range may go: L0, or deeper (up
  // to L2) when it overlaps nothing there and little of the level below.
  int PickLevelForMemTableOutput(const Options& options, std::string_view smallest_user,
                                 std::string_view largest_user) const;

  // Highest compaction score and its level (score >= 1 means compaction is due).
  double compaction_score() const { return compaction_score_; }
  int compaction_level() const { return compaction_level_; }
  std::string DebugString() const;

 private:
  friend class VersionSet;  // its Builder fills files_ and computes the scores
  void ComputeScores(const Options& options);

  std::vector<std::vector<FileRef>> files_;
  double compaction_score_ = 0;
  int compaction_level_ = 0;
};

// First index in files (sorted, non-overlapping) whose largest key >= internal_key.
size_t FindFile(const std::vector<FileRef>& files, std::string_view internal_key);

}  // namespace kvring::lsm
