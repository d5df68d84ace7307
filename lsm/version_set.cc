#include "lsm/version_set.h"

#include <algorithm>
#include <cassert>
#include <map>

#include "lsm/filename.h"
#include "lsm/wal_reader.h"

namespace kvring::lsm {

namespace {

bool NewestFirst(const FileRef& a, const FileRef& b) { return a->number > b->number; }
bool BySmallestKey(const FileRef& a, const FileRef& b) {
  int r = InternalKeyCompare(a->smallest, b->smallest);
  return r != 0 ? r < 0 : a->number < b->number;
}

// deletions with the edit's range deletions added (deletions itself when it has none).
std::shared_ptr<const RangeDeletions> WithRangeDeletions(const std::shared_ptr<const RangeDeletions>& deletions,
                                                         const VersionEdit& edit) {
  if (edit.range_deletions().empty()) return deletions;
  auto out = std::make_shared<RangeDeletions>(*deletions);
  for (const auto& d : edit.range_deletions()) out->Add(d.begin, d.end, d.sequence);
  return out;
}

}  // namespace

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
    KV_RETURN_IF_ERROR(CheckListedOnce(*v));
    v->ComputeScores(options_);
    return base::Status::OK();
  }

 private:
  // A file number names one file: listed twice (an edit adding a file the
  // version holds), a compaction would read it twice and delete it under the other.
  static base::Status CheckListedOnce(const Version& v) {
    std::map<uint64_t, int> level_of;
    for (int level = 0; level < v.num_levels(); level++) {
      for (const FileRef& f : v.files(level)) {
        auto [it, fresh] = level_of.emplace(f->number, level);
        if (!fresh) {
          return base::Status::Corruption("manifest: file " + std::to_string(f->number) + " listed twice (levels " +
                                          std::to_string(it->second) + " and " + std::to_string(level) + ")");
        }
      }
    }
    return base::Status::OK();
  }

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

VersionSet::VersionSet(std::string dbname, const Options& options)
    : env_(options.env),
      dbname_(std::move(dbname)),
      options_(options),
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
  for (const RangeDeletions::Fragment& f : range_deletions_->Fragments()) {
    edit.AddRangeDeletion(f.begin, f.end, f.sequence);
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
  auto deletions = std::make_shared<RangeDeletions>();
  while (reader.ReadRecord(&record, &scratch) && reporter.status.ok()) {
    VersionEdit edit;
    s = edit.DecodeFrom(record);
    if (!s.ok()) return s.WithContext(path + " at offset " + std::to_string(reader.last_record_offset()));
    s = builder.Apply(edit);
    if (!s.ok()) return s.WithContext(path);
    for (const auto& d : edit.range_deletions()) deletions->Add(d.begin, d.end, d.sequence);
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
  range_deletions_ = std::move(deletions);
  log_number_ = *log_number;
  next_file_number_ = *next_file;
  last_sequence_ = *last_seq;
  manifest_file_number_ = manifest_number;
  MarkFileNumberUsed(manifest_number);
  MarkFileNumberUsed(log_number_);
  // The next LogAndApply writes a fresh manifest (manifest_log_ is null).
  return base::Status::OK();
}

base::Status VersionSet::LogAndApply(VersionEdit* edit, base::Mutex* mu) {
  while (manifest_writing_) manifest_cv_.Wait(mu);
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
    manifest_cv_.SignalAll();
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

  mu->Unlock();
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
  mu->Lock();

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
    range_deletions_ = WithRangeDeletions(range_deletions_, *edit);
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
  manifest_cv_.SignalAll();
  return s;
}

void VersionSet::ForgetRangeDeletions(const std::vector<std::string>& begins) {
  if (begins.empty()) return;
  auto out = std::make_shared<RangeDeletions>(*range_deletions_);
  for (const std::string& begin : begins) out->Remove(begin);
  range_deletions_ = std::move(out);
}

std::unique_ptr<Compaction> VersionSet::PickCompaction() {
  return lsm::PickCompaction(options_, current_, &compact_pointers_);
}

std::unique_ptr<Compaction> VersionSet::PickRangeCompaction(int level, const std::string* begin,
                                                            const std::string* end) {
  return lsm::PickRangeCompaction(options_, current_, level, begin, end);
}

std::unique_ptr<Compaction> VersionSet::PickTombstoneCompaction(const TombstoneRequest& request) {
  return lsm::PickTombstoneCompaction(options_, current_, request);
}

}  // namespace kvring::lsm
