#include "lsm/version_edit.h"

#include "base/coding.h"
#include "lsm/dbformat.h"
#include "lsm/filename.h"

namespace kvring::lsm {

namespace {

void PutTag(std::string* dst, EditTag tag) { base::PutVarint32(dst, static_cast<uint32_t>(tag)); }

bool GetLevel(std::string_view* input, int* level) {
  uint32_t v;
  if (!base::GetVarint32(input, &v) || v >= static_cast<uint32_t>(kMaxLevels)) return false;
  *level = static_cast<int>(v);
  return true;
}

// A file number (log, next, table): below kMaxFileNumber, so that its file name
// parses back and the counter never wraps.
bool GetFileNumber(std::string_view* input, uint64_t* n) {
  return base::GetVarint64(input, n) && *n < kMaxFileNumber;
}

bool GetInternalKey(std::string_view* input, std::string* key) {
  std::string_view v;
  if (!base::GetLengthPrefixed(input, &v) || v.size() < kInternalKeyTrailerBytes) return false;
  key->assign(v.data(), v.size());
  return true;
}

// The optional fields after a new file (tombstones, sequences, data) share a
// shape: level:varint32 number:varint64 a:varint64 b:varint64, length-prefixed.
void EncodeFileField(std::string* dst, EditTag tag, int level, const FileMetaData& f, uint64_t a, uint64_t b) {
  std::string payload;
  base::PutVarint32(&payload, static_cast<uint32_t>(level));
  base::PutVarint64(&payload, f.number);
  base::PutVarint64(&payload, a);
  base::PutVarint64(&payload, b);
  PutTag(dst, tag);
  base::PutLengthPrefixed(dst, payload);
}

// Whether the payload names the file added last (level and number).
bool NamesLastFile(const std::vector<std::pair<int, FileMetaData>>& files, int level, uint64_t number) {
  return !files.empty() && files.back().first == level && files.back().second.number == number;
}

}  // namespace

void VersionEdit::EncodeTo(std::string* dst) const {
  if (log_number_) {
    PutTag(dst, EditTag::kLogNumber);
    base::PutVarint64(dst, *log_number_);
  }
  if (next_file_number_) {
    PutTag(dst, EditTag::kNextFileNumber);
    base::PutVarint64(dst, *next_file_number_);
  }
  if (last_sequence_) {
    PutTag(dst, EditTag::kLastSequence);
    base::PutVarint64(dst, *last_sequence_);
  }
  for (const auto& [level, key] : compact_pointers_) {
    PutTag(dst, EditTag::kCompactPointer);
    base::PutVarint32(dst, static_cast<uint32_t>(level));
    base::PutLengthPrefixed(dst, key);
  }
  for (const auto& [level, number] : deleted_files_) {
    PutTag(dst, EditTag::kDeletedFile);
    base::PutVarint32(dst, static_cast<uint32_t>(level));
    base::PutVarint64(dst, number);
  }
  for (const auto& [level, f] : new_files_) {
    PutTag(dst, EditTag::kNewFile);
    base::PutVarint32(dst, static_cast<uint32_t>(level));
    base::PutVarint64(dst, f.number);
    base::PutVarint64(dst, f.file_size);
    base::PutLengthPrefixed(dst, f.smallest);
    base::PutLengthPrefixed(dst, f.largest);
    if (f.tombstones > 0) EncodeFileField(dst, EditTag::kFileTombstones, level, f, f.tombstones, f.oldest_tombstone);
    if (f.largest_seq != kMaxSequenceNumber) {
      EncodeFileField(dst, EditTag::kFileSequences, level, f, f.smallest_seq, f.largest_seq);
    }
    if (f.entries > 0) EncodeFileField(dst, EditTag::kFileData, level, f, f.entries, f.data_bytes);
  }
  for (const RangeDeletion& r : range_deletions_) {
    PutTag(dst, EditTag::kRangeDeletion);
    base::PutLengthPrefixed(dst, r.begin);
    base::PutLengthPrefixed(dst, r.end);
    base::PutVarint64(dst, r.sequence);
  }
}

base::Status VersionEdit::DecodeFrom(std::string_view src) {
  Clear();
  std::string_view input = src;
  uint32_t tag;
  while (!input.empty()) {
    if (!base::GetVarint32(&input, &tag)) return base::Status::Corruption("version edit: truncated tag");
    const char* bad = nullptr;
    uint64_t n;
    int level;
    switch (static_cast<EditTag>(tag)) {
      case EditTag::kLogNumber:
        if (GetFileNumber(&input, &n)) log_number_ = n; else bad = "log number (truncated, or not below 10^18)";
        break;
      case EditTag::kNextFileNumber:
        if (GetFileNumber(&input, &n)) next_file_number_ = n; else bad = "next file number (truncated, or not below 10^18)";
        break;
      case EditTag::kLastSequence:
        if (base::GetVarint64(&input, &n)) last_sequence_ = n; else bad = "last sequence";
        break;
      case EditTag::kCompactPointer: {
        std::string key;
        if (GetLevel(&input, &level) && GetInternalKey(&input, &key)) {
          compact_pointers_.emplace_back(level, std::move(key));
        } else {
          bad = "compaction pointer";
        }
        break;
      }
      case EditTag::kDeletedFile:
        if (GetLevel(&input, &level) && GetFileNumber(&input, &n)) {
          deleted_files_.emplace(level, n);
        } else {
          bad = "deleted file (truncated, or a number not below 10^18)";
        }
        break;
      case EditTag::kNewFile: {
        FileMetaData f;
        if (GetLevel(&input, &level) && GetFileNumber(&input, &f.number) &&
            base::GetVarint64(&input, &f.file_size) && GetInternalKey(&input, &f.smallest) &&
            GetInternalKey(&input, &f.largest) && InternalKeyCompare(f.smallest, f.largest) <= 0) {
          new_files_.emplace_back(level, std::move(f));
        } else {
          bad = "new file (truncated, a number not below 10^18, or its largest key before its smallest)";
        }
        break;
      }
      case EditTag::kFileTombstones:
        if (!DecodeFileTombstones(&input)) bad = "file tombstones (truncated, or not right after its new file)";
        break;
      case EditTag::kFileSequences:
        if (!DecodeFileSequences(&input)) {
          bad = "file sequences (truncated, smallest above largest, or not right after its new file)";
        }
        break;
      case EditTag::kFileData:
        if (!DecodeFileData(&input)) bad = "file data (truncated, or not right after its new file)";
        break;
      case EditTag::kRangeDeletion:
        if (!DecodeRangeDeletion(&input)) bad = "range deletion (truncated, begin not below end, or sequence 0)";
        break;
      default: {
        if (tag < kFirstOptionalTag) {
          return base::Status::Corruption("version edit: unknown required tag " + std::to_string(tag) +
                                          " (written by a newer kvring?)");
        }
        std::string_view skipped;
        if (!base::GetLengthPrefixed(&input, &skipped)) bad = "optional field";
        break;
      }
    }
    if (bad != nullptr) return base::Status::Corruption(std::string("version edit: bad ") + bad);
  }
  return base::Status::OK();
}

FileMetaData* VersionEdit::DecodeFileField(std::string_view* input, uint64_t* a, uint64_t* b) {
  std::string_view payload;
  int level;
  uint64_t number;
  if (!base::GetLengthPrefixed(input, &payload) || !GetLevel(&payload, &level) ||
      !base::GetVarint64(&payload, &number) || !base::GetVarint64(&payload, a) || !base::GetVarint64(&payload, b)) {
    return nullptr;
  }
  return NamesLastFile(new_files_, level, number) ? &new_files_.back().second : nullptr;
}

bool VersionEdit::DecodeFileTombstones(std::string_view* input) {
  uint64_t count, oldest;
  FileMetaData* f = DecodeFileField(input, &count, &oldest);
  if (f == nullptr || oldest > kMaxSequenceNumber) return false;
  f->tombstones = count;
  f->oldest_tombstone = oldest;
  return true;
}

bool VersionEdit::DecodeFileSequences(std::string_view* input) {
  uint64_t smallest, largest;
  FileMetaData* f = DecodeFileField(input, &smallest, &largest);
  if (f == nullptr || smallest > largest || largest >= kMaxSequenceNumber) return false;
  f->smallest_seq = smallest;
  f->largest_seq = largest;
  return true;
}

bool VersionEdit::DecodeFileData(std::string_view* input) {
  uint64_t entries, bytes;
  FileMetaData* f = DecodeFileField(input, &entries, &bytes);
  if (f == nullptr) return false;
  f->entries = entries;
  f->data_bytes = bytes;
  return true;
}

bool VersionEdit::DecodeRangeDeletion(std::string_view* input) {
  std::string_view begin, end;
  uint64_t sequence;
  if (!base::GetLengthPrefixed(input, &begin) || !base::GetLengthPrefixed(input, &end) ||
      !base::GetVarint64(input, &sequence) || sequence == 0 || sequence > kMaxSequenceNumber ||
      (!end.empty() && begin >= end)) {
    return false;
  }
  AddRangeDeletion(std::string(begin), std::string(end), sequence);
  return true;
}

std::string VersionEdit::DebugString() const {
  std::string r = "VersionEdit {";
  if (log_number_) r += " log=" + std::to_string(*log_number_);
  if (next_file_number_) r += " next_file=" + std::to_string(*next_file_number_);
  if (last_sequence_) r += " last_seq=" + std::to_string(*last_sequence_);
  for (const auto& [level, number] : deleted_files_) {
    r += " -L" + std::to_string(level) + ":" + std::to_string(number);
  }
  for (const auto& [level, f] : new_files_) {
    r += " +L" + std::to_string(level) + ":" + std::to_string(f.number) + "(" + std::to_string(f.file_size) + "B)";
    if (f.largest_seq != kMaxSequenceNumber) {
      r += "@" + std::to_string(f.smallest_seq) + ".." + std::to_string(f.largest_seq);
    }
  }
  for (const RangeDeletion& d : range_deletions_) {
    r += " delete[" + std::to_string(d.begin.size()) + "B," + std::to_string(d.end.size()) + "B)@" +
         std::to_string(d.sequence);
  }
  return r + " }";
}

}  // namespace kvring::lsm
