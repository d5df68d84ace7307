#include "lsm/version.h"

#include <algorithm>

#include "base/coding.h"
#include "lsm/filename.h"
#include "lsm/two_level_iterator.h"

namespace kvring::lsm {

namespace {

int CompareUser(std::string_view a, std::string_view b) { return a.compare(b); }

// Iterates a level's files: key = a file's largest key, value = number + size.
class LevelFileIterator final : public Iterator {
 public:
  explicit LevelFileIterator(const std::vector<FileRef>* files) : files_(files), index_(files->size()) {}
  bool Valid() const override { return index_ < files_->size(); }
  void SeekToFirst() override { index_ = 0; }
  void Seek(std::string_view target) override { index_ = FindFile(*files_, target); }
  void Next() override { index_++; }
  std::string_view key() const override { return (*files_)[index_]->largest; }
  std::string_view value() const override {
    base::EncodeFixed64(value_buf_, (*files_)[index_]->number);
    base::EncodeFixed64(value_buf_ + 8, (*files_)[index_]->file_size);
    return {value_buf_, sizeof(value_buf_)};
  }
  base::Status status() const override { return base::Status::OK(); }

 private:
  const std::vector<FileRef>* const files_;
  size_t index_;
  mutable char value_buf_[16];
};

}  // namespace

size_t FindFile(const std::vector<FileRef>& files, std::string_view internal_key) {
  size_t left = 0, right = files.size();
  while (left < right) {
    size_t mid = (left + right) / 2;
    if (InternalKeyCompare(files[mid]->largest, internal_key) < 0) {
      left = mid + 1;
    } else {
      right = mid;
    }
  }
  return right;
}

// ---------------------------------------------------------------- Version

namespace {

struct GetState {
  std::string_view user_key;
  std::string* value;
  Version::GetResult result = Version::GetResult::kAbsent;
  bool corrupt = false;
};

void SaveValue(GetState* state, std::string_view internal_key, std::string_view value) {
  ParsedInternalKey parsed;
  if (!ParseInternalKey(internal_key, &parsed)) {
    state->corrupt = true;
    return;
  }
  if (parsed.user_key != state->user_key) return;
  if (parsed.kind == ValueKind::kValue) {
    state->result = Version::GetResult::kFound;
    state->value->assign(value.data(), value.size());
  } else {
    state->result = Version::GetResult::kDeleted;
  }
}

}  // namespace

base::Status Version::Get(const ReadOptions& options, const LookupKey& key, TableCache* table_cache,
                          std::string* value, GetResult* result) const {
  const std::string_view user_key = key.user_key();
  const std::string_view ikey = key.internal_key();
  GetState state{user_key, value};
  const EntryCallback save = [&state](std::string_view k, std::string_view v) { SaveValue(&state, k, v); };
  auto search = [&](const FileMetaData& f) -> base::Status {
    KV_RETURN_IF_ERROR(table_cache->Get(options, f.number, f.file_size, ikey, save));
    if (state.corrupt) {
      return base::Status::Corruption("sstable " + TableFileName("", f.number) +
                                      ": malformed internal key");
    }
    return base::Status::OK();
  };
  *result = GetResult::kAbsent;
  // L0 files may overlap: newest first, the first hit wins.
  for (const FileRef& f : files_[0]) {
    if (CompareUser(user_key, ExtractUserKey(f->smallest)) < 0 || CompareUser(user_key, ExtractUserKey(f->largest)) > 0) {
      continue;
    }
    KV_RETURN_IF_ERROR(search(*f));
    if (state.result != GetResult::kAbsent) {
      *result = state.result;
      return base::Status::OK();
    }
  }
  for (size_t level = 1; level < files_.size(); level++) {
    const auto& files = files_[level];
    if (files.empty()) continue;
    size_t index = FindFile(files, ikey);
    if (index >= files.size()) continue;
    const FileMetaData& f = *files[index];
    if (CompareUser(user_key, ExtractUserKey(f.smallest)) < 0) continue;
    KV_RETURN_IF_ERROR(search(f));
    if (state.result != GetResult::kAbsent) {
      *result = state.result;
      return base::Status::OK();
    }
  }
  return base::Status::OK();
}

void Version::AddIterators(const ReadOptions& options, TableCache* table_cache,
                           std::vector<std::unique_ptr<Iterator>>* iters) const {
  for (const FileRef& f : files_[0]) iters->push_back(table_cache->NewIterator(options, f->number, f->file_size));
  for (size_t level = 1; level < files_.size(); level++) {
    if (files_[level].empty()) continue;
    ReadOptions opts = options;
    iters->push_back(NewTwoLevelIterator(
        std::make_unique<LevelFileIterator>(&files_[level]),
        [table_cache, opts](std::string_view file_value) -> std::unique_ptr<Iterator> {
          if (file_value.size() != 16) return NewEmptyIterator(base::Status::Corruption("bad level file entry"));
          return table_cache->NewIterator(opts, base::DecodeFixed64(file_value.data()),
                                          base::DecodeFixed64(file_value.data() + 8));
        }));
  }
}

void Version::GetOverlappingInputs(int level, const std::string_view* begin, const std::string_view* end,
                                   std::vector<FileRef>* inputs) const {
  inputs->clear();
  std::string_view user_begin = begin != nullptr ? *begin : std::string_view();
  std::string_view user_end = end != nullptr ? *end : std::string_view();
  bool has_begin = begin != nullptr, has_end = end != nullptr;
  const auto& files = files_[static_cast<size_t>(level)];
  for (size_t i = 0; i < files.size();) {
    const FileRef& f = files[i++];
    std::string_view file_start = ExtractUserKey(f->smallest);
    std::string_view file_limit = ExtractUserKey(f->largest);
    if (has_begin && CompareUser(file_limit, user_begin) < 0) continue;
    if (has_end && CompareUser(file_start, user_end) > 0) continue;
    inputs->push_back(f);
    if (level == 0) {
      // L0 files overlap each other: widen the range and start over when this
      // file reaches past it.
      if (has_begin && CompareUser(file_start, user_begin) < 0) {
        user_begin = file_start;
        inputs->clear();
        i = 0;
      } else if (has_end && CompareUser(file_limit, user_end) > 0) {
        user_end = file_limit;
        inputs->clear();
        i = 0;
      }
    }
  }
}

bool Version::OverlapInLevel(int level, std::string_view smallest_user, std::string_view largest_user) const {
  std::vector<FileRef> overlap;
  GetOverlappingInputs(level, &smallest_user, &largest_user, &overlap);
  return !overlap.empty();
}

int Version::PickLevelForMemTableOutput(const Options& options, std::string_view smallest_user,
                                        std::string_view largest_user) const {
  constexpr int kMaxMemCompactLevel = 2;
  int level = 0;
  if (OverlapInLevel(0, smallest_user, largest_user)) return 0;
  while (level < kMaxMemCompactLevel && level + 1 < num_levels()) {
    if (OverlapInLevel(level + 1, smallest_user, largest_user)) break;
    if (level + 2 < num_levels()) {
      std::vector<FileRef> overlaps;
      GetOverlappingInputs(level + 2, &smallest_user, &largest_user, &overlaps);
      if (TotalFileBytes(overlaps) > MaxGrandparentOverlapBytes(options)) break;
    }
    level++;
  }
  return level;
}

void Version::ComputeScores(const Options& options) {
  compaction_score_ = -1;
  compaction_level_ = 0;
  for (int level = 0; level + 1 < num_levels(); level++) {
    double score;
    if (level == 0) {
      score = NumFiles(0) / static_cast<double>(std::max(1, options.l0_compaction_trigger));
    } else {
      score = static_cast<double>(LevelBytes(level)) / static_cast<double>(MaxBytesForLevel(options, level));
    }
    if (score > compaction_score_) {
      compaction_score_ = score;
      compaction_level_ = level;
    }
  }
}

std::string Version::DebugString() const {
  std::string r;
  for (int level = 0; level < num_levels(); level++) {
    r += "L" + std::to_string(level) + ":";
    for (const FileRef& f : files(level)) {
      ParsedInternalKey a, b;
      ParseInternalKey(f->smallest, &a);
      ParseInternalKey(f->largest, &b);
      r += " " + std::to_string(f->number) + "[" + std::string(a.user_key) + ".." + std::string(b.user_key) + "]";
    }
    r += "\n";
  }
  return r;
}

}  // namespace kvring::lsm
