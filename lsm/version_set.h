// lsm/version_set.h — the set of live SSTables and how it changes.
//
// Versions (lsm/version.h) are immutable lists of files per level, shared by
// readers, iterators and compactions; a file is deleted only when no live
// Version lists it (VersionSet::AddLiveFiles), so a reader never loses a file
// under it.
//
// The VersionSet owns the current Version and the manifest: every change is a
// VersionEdit appended (log format, docs/formats/wal.md) and synced to
// MANIFEST-NNNNNN before it becomes current. CURRENT names the live manifest and
// is replaced atomically (temp file + rename + directory sync). Open writes a
// fresh manifest holding a snapshot of the state; so does the first change after
// a failed manifest write, or once the manifest grows past kMaxManifestBytes.
// The range deletions in force (lsm/range_deletions.h) travel with the edits;
// one the DB has found obsolete is dropped in memory only (ForgetRangeDeletions):
// a manifest that still names it hides nothing with it, since every entry it
// covered is gone and every later write has a higher sequence.
// Format: docs/formats/manifest.md.
//
// Thread safety: needs external synchronization: every method is called with the
// DB mutex held. LogAndApply releases the mutex while it writes (one at a time).
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/env.h"
#include "base/mutex.h"
#include "base/status.h"
#include "lsm/compaction.h"
#include "lsm/engine.h"
#include "lsm/lookup_key.h"
#include "lsm/range_deletions.h"
#include "lsm/version.h"
#include "lsm/version_edit.h"
#include "lsm/wal_writer.h"

namespace kvring::lsm {

class VersionSet {
 public:
  static constexpr uint64_t kMaxManifestBytes = 8 << 20;

  // *options must outlive the VersionSet. It reads no table: the table cache and
  // its evictions are the DB's business.
  VersionSet(std::string dbname, const Options& options);
  VersionSet(const VersionSet&) = delete;
  VersionSet& operator=(const VersionSet&) = delete;
  ~VersionSet();

  // Writes MANIFEST-000001 with an empty state and points CURRENT at it.
  [[nodiscard]] base::Status CreateNew();
  // Reads CURRENT and replays its manifest. Corruption (naming the file and
  // offset) when the manifest is damaged anywhere but a torn tail, when CURRENT
  // is malformed, or when the edits contradict each other.
  [[nodiscard]] base::Status Recover();

  // Applies *edit to the current version, makes it durable in the manifest and
  // installs the result. Fills in the counters the edit does not set.
  // REQUIRES: *mu (the DB mutex) is held; it is released during the I/O and
  // held again on return.
  [[nodiscard]] base::Status LogAndApply(VersionEdit* edit, base::Mutex* mu) EXCLUSIVE_LOCKS_REQUIRED(mu);

  const std::shared_ptr<const Version>& current() const { return current_; }
  // Never null.
  const std::shared_ptr<const RangeDeletions>& range_deletions() const { return range_deletions_; }
  // Drops the fragments starting at these keys from the deletions in force (see above).
  void ForgetRangeDeletions(const std::vector<std::string>& begins);
  uint64_t NewFileNumber() { return next_file_number_++; }
  void MarkFileNumberUsed(uint64_t number) {
    if (next_file_number_ <= number) next_file_number_ = number + 1;
  }
  uint64_t next_file_number() const { return next_file_number_; }
  SequenceNumber last_sequence() const { return last_sequence_; }
  void SetLastSequence(SequenceNumber s) {
    if (s > last_sequence_) last_sequence_ = s;
  }
  uint64_t log_number() const { return log_number_; }
  uint64_t manifest_file_number() const { return manifest_file_number_; }
  // True after a manifest write failed until a fresh manifest is written: whether
  // the failed edit is on disk is unknown, so no file may be deleted meanwhile.
  bool manifest_uncertain() const { return manifest_uncertain_; }

  // Adds the numbers of every file listed by a live version.
  void AddLiveFiles(std::set<uint64_t>* live);

  std::unique_ptr<Compaction> PickCompaction();
  std::unique_ptr<Compaction> PickRangeCompaction(int level, const std::string* begin, const std::string* end);
  std::unique_ptr<Compaction> PickTombstoneCompaction(const TombstoneRequest& request);
  std::unique_ptr<Compaction> PickRangeDeletionCompaction() {
    return lsm::PickRangeDeletionCompaction(options_, current_, *range_deletions_);
  }
  bool NeedsCompaction() const { return current_->compaction_score() >= 1; }

 private:
  class Builder;

  // An edit that recreates the whole current state.
  void EncodeSnapshot(std::string* record) const;
  base::Status SetCurrentFile(uint64_t manifest_number);
  void Install(std::shared_ptr<const Version> v);

  base::Env* const env_;
  const std::string dbname_;
  const Options& options_;
  uint64_t next_file_number_ = 2;
  uint64_t manifest_file_number_ = 0;
  SequenceNumber last_sequence_ = 0;
  uint64_t log_number_ = 0;
  std::shared_ptr<const Version> current_;
  std::shared_ptr<const RangeDeletions> range_deletions_ = std::make_shared<const RangeDeletions>();
  std::vector<std::weak_ptr<const Version>> versions_;  // every version handed out
  std::vector<std::string> compact_pointers_;            // per level, internal keys
  std::unique_ptr<base::WritableFile> manifest_file_;
  std::unique_ptr<WalWriter> manifest_log_;
  bool manifest_uncertain_ = false;
  bool manifest_writing_ = false;
  base::CondVar manifest_cv_;
};

}  // namespace kvring::lsm
