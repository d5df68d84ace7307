#include "lsm/version_set.h"

#include <algorithm>
#include <cassert>

#include "base/coding.h"
#include "lsm/filename.h"
#include "lsm/two_level_iterator.h"
#include "lsm/wal_reader.h"

namespace kvring::lsm {

namespace {

int CompareUser(std::string_view a, std::string_view b) { return a.compare(b); }

bool NewestFirst(const FileRef& a, const FileRef& b) { return a->number > b->number; }
bool BySmallestKey(const FileRef& a, const FileRef& b) {
  int r = InternalKeyCompare(a->smallest, b->smallest);
  return r != 0 ? r < 0 : a->number < b->number;
}

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

// ---------------------------------------------------------------- Builder

// Applies a sequence of edits to a base version without intermediate versions.
class VersionSet::Builder {
 public:
  Builder(const Options& options, const Version* base) : options_(options), base_(base) {
    deleted_.resize(static_cast<size_t>(base->num_levels()));
    added_.resize(static_cast<size_t>(base->num_levels()));
  }

  base::Status Apply(const VersionEdit& edit) {
    for (const auto& [level, number] : edit.deleted_files()) {
      if (level >= base_->num_levels()) return LevelError(level);
      deleted_[static_cast<size_t>(level)].insert(number);
    }
    for (const auto& [level, file] : edit.new_files()) {
      if (level >= base_->num_levels()) return LevelError(level);
      deleted_[static_cast<size_t>(level)].erase(file.number);
      added_[static_cast<size_t>(level)].push_back(std::make_shared<const FileMetaData>(file));
    }
    return base::Status::OK();
  }

  // Builds the result; Corruption when L1+ files would overlap.
  base::Status SaveTo(Version* v) {
    for (int level = 0; level < base_->num_levels(); level++) {
      auto& out = v->files_[static_cast<size_t>(level)];
      const auto& dels = deleted_[static_cast<size_t>(level)];
      for (const FileRef& f : base_->files(level)) {
        if (dels.count(f->number) == 0) out.push_back(f);
      }
      for (const FileRef& f : added_[static_cast<size_t>(level)]) {
        if (dels.count(f->number) == 0) out.push_back(f);
      }
      if (level == 0) {
        std::sort(out.begin(), out.end(), NewestFirst);
        continue;
      }
      std::sort(out.begin(), out.end(), BySmallestKey);
      for (size_t i = 1; i < out.size(); i++) {
        if (InternalKeyCompare(out[i - 1]->largest, out[i]->smallest) >= 0) {
          return base::Status::Corruption("manifest: overlapping files " + std::to_string(out[i - 1]->number) +
                                          " and " + std::to_string(out[i]->number) + " in level " +
                                          std::to_string(level));
        }
      }
    }
    v->ComputeScores(options_);
    return base::Status::OK();
  }

 private:
  base::Status LevelError(int level) const {
    return base::Status::Corruption("manifest: level " + std::to_string(level) + " beyond num_levels " +
                                    std::to_string(base_->num_levels()));
  }

  const Options& options_;
  const Version* const base_;
  std::vector<std::set<uint64_t>> deleted_;
  std::vector<std::vector<FileRef>> added_;
};

// ---------------------------------------------------------------- VersionSet

VersionSet::VersionSet(std::string dbname, const Options& options, TableCache* table_cache)
    : env_(options.env),
      dbname_(std::move(dbname)),
      options_(options),
      table_cache_(table_cache),
      compact_pointers_(static_cast<size_t>(options.num_levels)) {
  auto v = std::make_shared<Version>(options.num_levels);
  v->ComputeScores(options_);
  Install(std::move(v));
}

VersionSet::~VersionSet() {
  if (manifest_file_ != nullptr) manifest_file_->Close().IgnoreError();  // edits were synced when written
}

void VersionSet::Install(std::shared_ptr<const Version> v) {
  versions_.erase(std::remove_if(versions_.begin(), versions_.end(),
                                 [](const std::weak_ptr<const Version>& w) { return w.expired(); }),
                  versions_.end());
  versions_.push_back(v);
  current_ = std::move(v);
}

void VersionSet::AddLiveFiles(std::set<uint64_t>* live) {
  for (const auto& weak : versions_) {
    if (auto v = weak.lock()) {
      for (int level = 0; level < v->num_levels(); level++) {
        for (const FileRef& f : v->files(level)) live->insert(f->number);
      }
    }
  }
}

base::Status VersionSet::SetCurrentFile(uint64_t manifest_number) {
  char contents[64];
  std::snprintf(contents, sizeof(contents), "MANIFEST-%06llu\n", static_cast<unsigned long long>(manifest_number));
  return base::WriteStringToFileAtomic(env_, contents, CurrentFileName(dbname_));
}

void VersionSet::EncodeSnapshot(std::string* record) const {
  VersionEdit edit;
  for (int level = 0; level < options_.num_levels; level++) {
    if (!compact_pointers_[static_cast<size_t>(level)].empty()) {
      edit.SetCompactPointer(level, compact_pointers_[static_cast<size_t>(level)]);
    }
    for (const FileRef& f : current_->files(level)) edit.AddFile(level, *f);
  }
  edit.SetLogNumber(log_number_);
  edit.SetNextFileNumber(next_file_number_);
  edit.SetLastSequence(last_sequence_);
  edit.EncodeTo(record);
}

base::Status VersionSet::CreateNew() {
  manifest_file_number_ = 1;
  next_file_number_ = 2;
  std::string snapshot;
  EncodeSnapshot(&snapshot);
  const std::string path = ManifestFileName(dbname_, manifest_file_number_);
  std::unique_ptr<base::WritableFile> file;
  base::Status s = env_->NewWritableFile(path, &file);
  if (s.ok()) s = WalWriter(file.get()).AddRecord(snapshot);
  if (s.ok()) s = file->Sync();
  if (s.ok()) s = file->Close();
  if (s.ok()) s = SetCurrentFile(manifest_file_number_);
  if (!s.ok()) env_->RemoveFile(path).IgnoreError();  // best effort; Open failed anyway
  return s;
}

namespace {

class ManifestReporter final : public WalReader::Reporter {
 public:
  void Corruption(uint64_t, uint64_t, const base::Status& reason) override {
    if (status.ok()) status = reason;
  }
  base::Status status;
};

}  // namespace

base::Status VersionSet::Recover() {
  std::string current;
  KV_RETURN_IF_ERROR(base::ReadFileToString(env_, CurrentFileName(dbname_), &current));
  if (current.empty() || current.back() != '\n') {
    return base::Status::Corruption(CurrentFileName(dbname_) + ": does not end with a newline");
  }
  current.pop_back();
  uint64_t manifest_number;
  FileType type;
  if (!ParseFileName(current, &manifest_number, &type) || type != FileType::kManifest) {
    return base::Status::Corruption(CurrentFileName(dbname_) + ": names \"" + current + "\", not a manifest");
  }
  const std::string path = base::JoinPath(dbname_, current);
  std::unique_ptr<base::SequentialFile> file;
  base::Status s = env_->NewSequentialFile(path, &file);
  if (s.IsNotFound()) return base::Status::Corruption("CURRENT names a missing manifest: " + s.message());
  KV_RETURN_IF_ERROR(s);

  ManifestReporter reporter;
  WalReader reader(file.get(), path, &reporter, /*strict_tail=*/true);
  Builder builder(options_, current_.get());
  std::optional<uint64_t> log_number, next_file, last_seq;
  std::string_view record;
  std::string scratch;
  std::vector<std::string> pointers(compact_pointers_.size());
  while (reader.ReadRecord(&record, &scratch) && reporter.status.ok()) {
    VersionEdit edit;
    s = edit.DecodeFrom(record);
    if (!s.ok()) return s.WithContext(path + " at offset " + std::to_string(reader.last_record_offset()));
    s = builder.Apply(edit);
    if (!s.ok()) return s.WithContext(path);
    if (edit.log_number()) log_number = edit.log_number();
    if (edit.next_file_number()) next_file = edit.next_file_number();
    if (edit.last_sequence()) last_seq = edit.last_sequence();
    for (const auto& [level, key] : edit.compact_pointers()) {
      if (static_cast<size_t>(level) < pointers.size()) pointers[static_cast<size_t>(level)] = key;
    }
  }
  KV_RETURN_IF_ERROR(reader.status());
  KV_RETURN_IF_ERROR(reporter.status);
  if (!log_number || !next_file || !last_seq) {
    return base::Status::Corruption(path + ": no " + std::string(!log_number ? "log number" : !next_file ? "next file number" : "last sequence") + " entry");
  }
  auto v = std::make_shared<Version>(options_.num_levels);
  KV_RETURN_IF_ERROR(builder.SaveTo(v.get()));
  Install(std::move(v));
  compact_pointers_ = std::move(pointers);
  log_number_ = *log_number;
  next_file_number_ = *next_file;
  last_sequence_ = *last_seq;
  manifest_file_number_ = manifest_number;
  MarkFileNumberUsed(manifest_number);
  MarkFileNumberUsed(log_number_);
  // The next LogAndApply writes a fresh manifest (manifest_log_ is null).
  return base::Status::OK();
}

base::Status VersionSet::LogAndApply(VersionEdit* edit, std::unique_lock<std::mutex>* lock) {
  manifest_cv_.wait(*lock, [this] { return !manifest_writing_; });
  manifest_writing_ = true;
  if (edit->log_number()) {
    assert(*edit->log_number() >= log_number_);
  } else {
    edit->SetLogNumber(log_number_);
  }
  edit->SetNextFileNumber(next_file_number_);
  edit->SetLastSequence(last_sequence_);
  for (const auto& [level, key] : edit->compact_pointers()) compact_pointers_[static_cast<size_t>(level)] = key;

  auto v = std::make_shared<Version>(options_.num_levels);
  Builder builder(options_, current_.get());
  base::Status s = builder.Apply(*edit);
  if (s.ok()) s = builder.SaveTo(v.get());
  if (!s.ok()) {
    manifest_writing_ = false;
    manifest_cv_.notify_all();
    return s;
  }

  // A fresh manifest starts with a snapshot of the state before this edit.
  const bool roll = manifest_log_ == nullptr || manifest_log_->file_bytes() > kMaxManifestBytes;
  std::string snapshot;
  uint64_t new_manifest_number = 0;
  if (roll) {
    new_manifest_number = NewFileNumber();
    EncodeSnapshot(&snapshot);
  }
  std::string record;
  edit->EncodeTo(&record);

  lock->unlock();
  std::unique_ptr<base::WritableFile> new_file;
  std::unique_ptr<WalWriter> new_log;
  if (roll) {
    s = env_->NewWritableFile(ManifestFileName(dbname_, new_manifest_number), &new_file);
    if (s.ok()) {
      new_log = std::make_unique<WalWriter>(new_file.get());
      s = new_log->AddRecord(snapshot);
    }
  }
  WalWriter* log = roll ? new_log.get() : manifest_log_.get();
  base::WritableFile* file = roll ? new_file.get() : manifest_file_.get();
  if (s.ok()) s = log->AddRecord(record);
  if (s.ok()) s = file->Sync();
  if (s.ok() && roll) s = SetCurrentFile(new_manifest_number);
  lock->lock();

  if (s.ok()) {
    if (roll) {
      if (manifest_file_ != nullptr) manifest_file_->Close().IgnoreError();  // its edits were synced
      manifest_file_ = std::move(new_file);
      manifest_log_ = std::move(new_log);
      manifest_file_number_ = new_manifest_number;
      manifest_uncertain_ = false;
    }
    log_number_ = *edit->log_number();
    Install(std::move(v));
  } else {
    // Whether the edit reached the disk is unknown: write a fresh manifest next
    // time, and delete no file until then (manifest_uncertain_).
    manifest_uncertain_ = true;
    if (roll) {
      if (new_file != nullptr) new_file->Close().IgnoreError();  // abandoned; the error is s
    } else {
      manifest_file_->Close().IgnoreError();  // abandoned; the error is s
      manifest_file_.reset();
      manifest_log_.reset();
    }
    s = s.WithContext("manifest write");
  }
  manifest_writing_ = false;
  manifest_cv_.notify_all();
  return s;
}

std::unique_ptr<Compaction> VersionSet::PickCompaction() {
  return lsm::PickCompaction(options_, current_, &compact_pointers_);
}

std::unique_ptr<Compaction> VersionSet::PickRangeCompaction(int level, const std::string* begin,
                                                            const std::string* end) {
  return lsm::PickRangeCompaction(options_, current_, level, begin, end);
}

}  // namespace kvring::lsm
