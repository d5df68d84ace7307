// lsm/version_edit.h — one change to the set of live files, as recorded in the
// manifest: files added and removed per level, plus the counters recovery needs
// (log number, next file number, last sequence), compaction pointers and range
// deletions (DB::DeleteRange).
// Format: docs/formats/manifest.md (tags are on-disk values: never renumber).
// Thread safety: a value; needs external synchronization.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "lsm/dbformat.h"

namespace kvring::lsm {

// An SSTable as the versions know it. Immutable once shared.
struct FileMetaData {
  uint64_t number = 0;
  uint64_t file_size = 0;
  std::string smallest;  // internal keys, inclusive
  std::string largest;
  // Entries that are tombstones (deletion markers, and values Options::is_tombstone
  // flags) and the smallest sequence among them: what CompactTombstones looks for.
  uint64_t tombstones = 0;
  SequenceNumber oldest_tombstone = 0;  // meaningful when tombstones > 0
  // In memory only (0 after a reopen): the DB's tombstone request count when the
  // compaction that wrote this table started; requests up to it were already
  // answered by that compaction's filter.
  uint64_t filter_epoch = 0;
  // The sequence numbers of its entries span [smallest_seq, largest_seq]. A file
  // named by a manifest written before they were recorded gets the widest span.
  SequenceNumber smallest_seq = 0;
  SequenceNumber largest_seq = kMaxSequenceNumber;
  // In memory only (0 after a reopen): the flush or compaction that wrote it
  // dropped everything the range deletions up to this epoch cover
  // (lsm/range_deletions.h).
  uint64_t range_epoch = 0;
  // Its entries (every kind) and their bytes as written (user key + value): what
  // the engine's data_bytes and entries sum. 0 for a file named by a manifest
  // written before they were recorded (manifest field 66).
  uint64_t entries = 0;
  uint64_t data_bytes = 0;
};
using FileRef = std::shared_ptr<const FileMetaData>;

// Manifest tags. Tags below kFirstOptionalTag must be understood by a reader;
// tags from kFirstOptionalTag on carry a length-prefixed payload that a reader
// not knowing them skips (room for compatible additions).
enum class EditTag : uint32_t {
  kLogNumber = 1,
  kNextFileNumber = 2,
  kLastSequence = 3,
  kCompactPointer = 4,
  kDeletedFile = 5,
  kNewFile = 6,
  // Required: [begin, end) deleted at a sequence (an older reader would resurrect
  // the range, so it must refuse the manifest).
  kRangeDeletion = 7,
  // Optional: a new file's tombstone count and oldest tombstone sequence, right
  // after its kNewFile (a reader that skips it only compacts tombstones less).
  kFileTombstones = 64,
  // Optional: a new file's smallest and largest entry sequence, after its kNewFile
  // (and kFileTombstones); a reader that skips it only drops fewer files whole.
  kFileSequences = 65,
  // Optional: a new file's entry count and data bytes, after its kNewFile (and
  // kFileTombstones, kFileSequences); a reader that skips it only reports less data.
  kFileData = 66,
};
constexpr uint32_t kFirstOptionalTag = 64;
// Levels a manifest may name; Options::num_levels must not exceed it.
constexpr int kMaxLevels = 16;

class VersionEdit {
 public:
  void Clear() { *this = VersionEdit(); }

  void SetLogNumber(uint64_t n) { log_number_ = n; }
  void SetNextFileNumber(uint64_t n) { next_file_number_ = n; }
  void SetLastSequence(SequenceNumber s) { last_sequence_ = s; }
  void SetCompactPointer(int level, std::string internal_key) {
    compact_pointers_.emplace_back(level, std::move(internal_key));
  }
  void AddFile(int level, FileMetaData file) { new_files_.emplace_back(level, std::move(file)); }
  void RemoveFile(int level, uint64_t number) { deleted_files_.emplace(level, number); }
  // An empty end means no upper bound.
  void AddRangeDeletion(std::string begin, std::string end, SequenceNumber sequence) {
    range_deletions_.push_back({std::move(begin), std::move(end), sequence});
  }

  const std::optional<uint64_t>& log_number() const { return log_number_; }
  const std::optional<uint64_t>& next_file_number() const { return next_file_number_; }
  const std::optional<SequenceNumber>& last_sequence() const { return last_sequence_; }
  const std::vector<std::pair<int, std::string>>& compact_pointers() const { return compact_pointers_; }
  const std::vector<std::pair<int, FileMetaData>>& new_files() const { return new_files_; }
  const std::set<std::pair<int, uint64_t>>& deleted_files() const { return deleted_files_; }
  struct RangeDeletion {
    std::string begin, end;
    SequenceNumber sequence = 0;
  };
  const std::vector<RangeDeletion>& range_deletions() const { return range_deletions_; }

  void EncodeTo(std::string* dst) const;
  // Corruption naming the bad field on malformed input or a required tag this
  // build does not know.
  [[nodiscard]] base::Status DecodeFrom(std::string_view src);
  std::string DebugString() const;

 private:
  // The new file an optional file field names (the one added last), with its two
  // numbers; null when it is truncated or names another file.
  FileMetaData* DecodeFileField(std::string_view* input, uint64_t* a, uint64_t* b);
  // The kFileTombstones payload; false when malformed or not about the last new file.
  bool DecodeFileTombstones(std::string_view* input);
  // The kFileSequences payload; the same rules.
  bool DecodeFileSequences(std::string_view* input);
  bool DecodeFileData(std::string_view* input);
  bool DecodeRangeDeletion(std::string_view* input);

  std::optional<uint64_t> log_number_;
  std::optional<uint64_t> next_file_number_;
  std::optional<SequenceNumber> last_sequence_;
  std::vector<std::pair<int, std::string>> compact_pointers_;
  std::set<std::pair<int, uint64_t>> deleted_files_;
  std::vector<std::pair<int, FileMetaData>> new_files_;
  std::vector<RangeDeletion> range_deletions_;
};

}  // namespace kvring::lsm
